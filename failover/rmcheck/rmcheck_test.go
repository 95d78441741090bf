package rmcheck

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhags/hags/failover/agent/actlog"
)

func rec(mono int64, node, res string, op actlog.Op, ok bool) actlog.Record {
	return actlog.Record{Mono: mono, Node: node, Resource: res, Op: op, OK: ok}
}

func TestAMoveIsNoOverlap(t *testing.T) {
	log := []actlog.Record{
		rec(10, "A", "db", actlog.OpStart, true),
		rec(11, "A", "app", actlog.OpStart, true),
		rec(20, "A", "app", actlog.OpStop, true),
		rec(21, "A", "db", actlog.OpStop, true),
		rec(22, "B", "db", actlog.OpStart, true),
		rec(23, "B", "app", actlog.OpStart, true),
	}
	groups := map[string]string{"db": "g", "app": "g"}
	assert.Empty(t, Overlaps(log, groups), "a group stopped on A before it started on B never ran twice")
	require.Len(t, Intervals(log), 4)
	assert.Equal(t, int64(Open), Intervals(log)[3].To, "what still runs at the end is open")
}

func TestOverlapsAreFound(t *testing.T) {
	groups := map[string]string{"db": "g", "app": "g"}
	cases := map[string][]actlog.Record{
		"two resources of one group on two nodes": {
			rec(10, "A", "db", actlog.OpStart, true),
			rec(15, "B", "app", actlog.OpStart, true),
			rec(20, "A", "db", actlog.OpStop, true),
		},
		"a failed stop leaves it running": {
			rec(10, "A", "db", actlog.OpStart, true),
			rec(20, "A", "db", actlog.OpStop, false),
			rec(30, "B", "db", actlog.OpStart, true),
		},
		"a failed start may have started it": {
			rec(10, "A", "db", actlog.OpStart, false),
			rec(30, "B", "db", actlog.OpStart, true),
		},
		"records out of order": {
			rec(30, "B", "db", actlog.OpStart, true),
			rec(40, "A", "db", actlog.OpStop, true),
			rec(10, "A", "db", actlog.OpStart, true),
		},
	}
	for name, log := range cases {
		t.Run(name, func(t *testing.T) {
			v := Overlaps(log, groups)
			require.Len(t, v, 1, "the overlap is found")
			assert.Equal(t, "g", v[0].Group)
			assert.Contains(t, Report(v), "group g ran on two nodes at once")
		})
	}
}

func TestTouchingIntervalsDoNotOverlap(t *testing.T) {
	log := []actlog.Record{
		rec(10, "A", "db", actlog.OpStart, true),
		rec(20, "A", "db", actlog.OpStop, true),
		rec(20, "B", "db", actlog.OpStart, true),
	}
	assert.Empty(t, Overlaps(log, map[string]string{"db": "g"}), "a stop that ended when the next start began is no overlap")
	assert.Empty(t, Overlaps([]actlog.Record{
		rec(10, "A", "x", actlog.OpStart, true),
		rec(11, "B", "y", actlog.OpStart, true),
	}, map[string]string{"x": "g1", "y": "g2"}), "two groups may run on two nodes")
}

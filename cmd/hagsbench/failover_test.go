package main

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhags/hags/failover/agent/actlog"
)

func TestActTailOwnerAndPowerOff(t *testing.T) {
	path := filepath.Join(t.TempDir(), "actions.log")
	a := newActTail(context.Background(), path)
	assert.Equal(t, -1, a.owner("r"), "nothing runs in an empty log")
	add := func(mono int64, node string, op actlog.Op) {
		require.NoError(t, actlog.Append(path, actlog.Record{Mono: mono, Done: mono + 5, Node: node, Resource: "r", Op: op, OK: true}))
	}
	add(10, "NodeA", actlog.OpStart)
	assert.Equal(t, 0, a.owner("r"), "r runs on NodeA")
	add(20, "NodeB", actlog.OpStart) // a second copy: the latest start wins
	add(30, "NodeA", actlog.OpStop)  // a late stop of the first copy
	assert.Equal(t, 1, a.owner("r"), "a stop on NodeA does not end NodeB's run")
	rec, err := a.wait(0, time.Second, isStart("r", 1, -1, 15))
	require.NoError(t, err)
	assert.Equal(t, int64(25), rec.Started(), "a sample ends when the start ended")

	require.NoError(t, a.powerOffRecords(1, 40))
	assert.Equal(t, -1, a.owner("r"), "a powered-off node runs nothing")
	_, err = a.wait(0, 50*time.Millisecond, isStart("r", 2, -1, 0))
	assert.ErrorIs(t, err, errWaitTimeout, "a start that never comes times out")
}

func TestReportFailoverRows(t *testing.T) {
	rep := newReport(&config{compare: true})
	rep.addRM("m.move", "hags", []int64{100e6, 120e6, 140e6})
	rep.addRM("m.move", "pacemaker", []int64{400e6, 500e6, 600e6})
	rep.addRM("m.exec_move", "hags", []int64{30e6})
	rep.addRMMemory("idle.rss_per_node", "hags", 30<<20, "hagsd, hagsrmd")
	rep.addRMMemory("idle.rss_per_node", "pacemaker", 200<<20, "corosync, pacemaker")
	rep.addPartition("hags", []int64{3e9}, 0, 1)
	rep.addPartition("pacemaker", []int64{4e9}, 1, 1)
	rep.finish()
	rows := map[string]*row{}
	for _, x := range rep.Scenarios {
		rows[x.Name] = x
	}
	m := rows["m.move"]
	require.NotNil(t, m.RatioP50)
	assert.Equal(t, rmNodes, m.Nodes, "failover rows say how many nodes")
	assert.InDelta(t, 0.24, *m.RatioP50, 0.001, "ratio_p50 is hags / Pacemaker")
	require.NotNil(t, m.Met)
	assert.False(t, *m.Met, "0.24x misses the 0.2x target")
	require.NotNil(t, rows["m.exec_move"].Met)
	assert.True(t, *rows["m.exec_move"].Met, "30 ms meets the 50 ms target")
	mem := rows["idle.rss_per_node"]
	require.NotNil(t, mem.RatioBytes)
	assert.True(t, *mem.Met, "0.15x meets the 0.25x memory target")
	p := rows["p.partition_takeover"]
	assert.Equal(t, 1, *p.PacemakerTwoOwners)
	assert.True(t, *p.Met, "hags never ran the group twice")
	assert.Contains(t, rep.table(), "Failover manager, 3 nodes")
	require.NoError(t, rep.write(t.TempDir()), "the report and its plots are written")
}

package domain

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/openhags/hags/daemon/agreement"
	"github.com/openhags/hags/daemon/membership"
)

// TestNodeDownNeedsRaftsWord: the leader's rule for declaring a node down
// (isDown). The failure detector's record can be forged by anybody holding
// the gossip key, so no verdict rests on it alone: a node raft reaches is
// never declared down, whatever the record says.
func TestNodeDownNeedsRaftsWord(t *testing.T) {
	const long = 3 * time.Second
	st := agreement.NodeState{Node: 3, Inc: 100, Epoch: 7, Up: true}
	rec := func(inc uint64, h membership.Health) membership.Member {
		return membership.Member{Node: 3, Inc: inc, Health: h}
	}
	reached := reach{inConfig: true}
	failing := reach{inConfig: true, failing: true, failingFor: 50 * time.Millisecond}
	for _, c := range []struct {
		what        string
		mem         membership.Member
		known       bool
		r           reach
		unknownDead bool
		down        bool
	}{
		// Gossip alone: never.
		{"a record of a newer incarnation, alive (forged or not yet admitted)", rec(1<<31, membership.HealthAlive), true, reached, false, false},
		{"a record saying it died", rec(100, membership.HealthDead), true, reached, false, false},
		{"a record saying it left", rec(100, membership.HealthLeft), true, reached, false, false},
		{"a record of a newer incarnation that died", rec(200, membership.HealthDead), true, reached, false, false},
		{"no record at all, long after", membership.Member{}, false, reached, true, false},
		// With raft's word: the legitimate fast paths.
		{"killed: the detector says dead and raft fails", rec(100, membership.HealthDead), true, failing, false, true},
		{"stopped: the record says it left and raft fails", rec(100, membership.HealthLeft), true, failing, false, true},
		{"a later run died and raft fails", rec(200, membership.HealthDead), true, failing, false, true},
		{"gone and no longer in raft's configuration", rec(100, membership.HealthDead), true, reach{}, false, true},
		{"never heard of and raft fails, past the grace", membership.Member{}, false, failing, true, true},
		{"raft has failed for long, whatever the detector says", rec(100, membership.HealthAlive), true,
			reach{inConfig: true, failing: true, failingFor: long}, false, true},
		// Raft's word, but the detector does not agree (yet).
		{"raft fails briefly, the detector sees it alive", rec(100, membership.HealthAlive), true, failing, false, false},
		{"the record of an earlier run is dead", rec(99, membership.HealthDead), true, failing, false, false},
		{"never heard of and raft fails, within the grace", membership.Member{}, false, failing, false, false},
	} {
		assert.Equal(t, c.down, isDown(st, c.mem, c.known, c.r, long, c.unknownDead), "%s: down=%v", c.what, c.down)
	}
}

// TestAdmissionNeedsRaftsWord: the leader's rule for admitting a node
// (admissible). A node raft replicates to is admitted while raft reaches
// it, whatever the failure detector says (a forged death or incarnation
// must not keep it out); a node raft does not know yet needs the
// detector to see the incarnation asking alive.
func TestAdmissionNeedsRaftsWord(t *testing.T) {
	assert.True(t, admissible(false, true, false), "in raft's configuration and reached: admitted even if the detector says otherwise")
	assert.True(t, admissible(false, true, true), "in raft's configuration, reached, alive: admitted")
	assert.False(t, admissible(true, true, true), "raft's heartbeats fail: not admitted, whatever the detector says")
	assert.True(t, admissible(false, false, true), "a new follower the detector sees alive: admitted")
	assert.False(t, admissible(false, false, false), "a new follower the detector does not see alive: not yet")
}

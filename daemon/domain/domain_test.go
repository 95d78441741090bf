package domain

import (
	"testing"
	"time"

	"github.com/hashicorp/raft"
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

// TestPeerFailuresCountWhileReported: the leader's book of peers whose
// heartbeats fail. A failure reported again and again keeps its start; a
// "resumed", a new replication (PeerObservation) or a new leader clears
// it; a report of the replication raft replaced does not count; and a
// failure nobody reports again is forgotten after stale. Found by the
// simulation with silent cuts (seed 5, about one run in two): after a
// cut long enough for the node to be replaced as a voter, the old
// replication's heartbeat reported its last failure after the new
// replication had started; no "resumed" ever followed, so the node was
// declared down while reachable and then refused admission for good.
func TestPeerFailuresCountWhileReported(t *testing.T) {
	timing := agreement.LANTiming()
	b := peerBook{unreachable: map[int32]failure{}, started: map[int32]time.Time{}, stale: staleAfter(timing), slack: timing.Heartbeat}
	assert.Equal(t, 5*time.Second, b.stale, "LAN: two exchanges of at most 1 s and a 500 ms heartbeat timeout, twice")
	t0 := time.Unix(1000, 0)
	id := agreement.ServerID(3)
	failed := raft.Observation{Data: raft.FailedHeartbeatObservation{PeerID: id}}
	at := func(d time.Duration) time.Time { return t0.Add(d) }

	b.note(failed, t0)
	for d := time.Second; d <= 10*time.Second; d += 2 * time.Second {
		b.note(failed, at(d)) // raft tries again and reports again
		since, failing := b.failing(3, at(d))
		assert.True(t, failing, "at %v: still failing", d)
		assert.Equal(t, t0, since, "at %v: the run of failures started at the first report", d)
	}
	b.note(raft.Observation{Data: raft.ResumedHeartbeatObservation{PeerID: id}}, at(11*time.Second))
	_, failing := b.failing(3, at(11*time.Second))
	assert.False(t, failing, "resumed: reachable again")

	// The replication is replaced (the node left raft's configuration and
	// came back); the old one's heartbeat reports a last failure after
	// that, with its own last contact, from before the new one started.
	b.note(raft.Observation{Data: raft.PeerObservation{Peer: raft.Server{ID: id}}}, at(20*time.Second))
	b.note(raft.Observation{Data: raft.FailedHeartbeatObservation{PeerID: id, LastContact: at(15 * time.Second)}},
		at(20*time.Second+time.Millisecond))
	_, failing = b.failing(3, at(20*time.Second+time.Millisecond))
	assert.False(t, failing, "a failure whose last contact precedes the current replication is the old one's")
	// The new replication's own failure: its last contact is its start
	// (raft starts a replication with a fresh contact, a moment before it
	// reports the peer), or later.
	b.note(raft.Observation{Data: raft.FailedHeartbeatObservation{PeerID: id, LastContact: at(20*time.Second - time.Millisecond)}},
		at(21*time.Second))
	_, failing = b.failing(3, at(21*time.Second))
	assert.True(t, failing, "the new replication's failure counts at once")
	_, failing = b.failing(3, at(21*time.Second+b.stale+time.Millisecond))
	assert.False(t, failing, "a failure not reported again within stale is forgotten (a dropped resumed)")
	b.note(raft.Observation{Data: raft.FailedHeartbeatObservation{PeerID: id, LastContact: at(39 * time.Second)}}, at(40*time.Second))
	since, failing := b.failing(3, at(40*time.Second))
	assert.True(t, failing)
	assert.Equal(t, at(40*time.Second), since, "a report after a forgotten one starts a new run")

	// The rule on last contacts holds for stale after a replication
	// starts, no longer: a report that reached the book late (its
	// goroutine starved) is ignored at first, counted after.
	b.note(raft.Observation{Data: raft.PeerObservation{Peer: raft.Server{ID: id}}}, at(50*time.Second))
	late := raft.Observation{Data: raft.FailedHeartbeatObservation{PeerID: id, LastContact: at(49 * time.Second)}}
	b.note(late, at(51*time.Second))
	_, failing = b.failing(3, at(51*time.Second))
	assert.False(t, failing, "within stale of the start, an older last contact is taken for the old replication's")
	b.note(late, at(50*time.Second+b.stale+time.Second))
	_, failing = b.failing(3, at(50*time.Second+b.stale+time.Second))
	assert.True(t, failing, "after stale, every report counts")

	b.note(raft.Observation{Data: raft.LeaderObservation{}}, at(62*time.Second))
	_, failing = b.failing(3, at(62*time.Second))
	assert.False(t, failing, "a new leader starts a new book")
}

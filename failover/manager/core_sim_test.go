package manager

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/openhags/hags/failover/engine"
)

// countMachine is a stand-in engine for the log's tests: it keeps every
// input it steps (their kinds and origins) and the nodes it has seen join.
type countMachine struct {
	Steps []string
	Known []engine.NodeID
}

func (m *countMachine) Step(in engine.Input) []engine.Output {
	s := fmt.Sprintf("%d/%d", in.Kind, in.From)
	if in.Request != nil {
		s += fmt.Sprintf("/%s", in.Request.Group)
	}
	if in.Down != nil {
		s += fmt.Sprintf("/down%d", in.Down.Node)
	}
	m.Steps = append(m.Steps, s)
	if in.Kind == engine.InNodeJoining && !slices.Contains(m.Known, in.From) {
		m.Known = append(m.Known, in.From)
		slices.Sort(m.Known)
	}
	return nil
}

func (m *countMachine) Snapshot() []byte {
	b, err := encode(m)
	if err != nil {
		panic(err)
	}
	return b
}

func (m *countMachine) KnownNodes() []engine.NodeID { return slices.Clone(m.Known) }

func restoreCount(b []byte) (machine, error) {
	m := new(countMachine)
	if b == nil {
		return m, nil
	}
	return m, decode(b, m)
}

// simNode is one manager in the simulated group: its core, its store and
// what its effects produced.
type simNode struct {
	id      engine.NodeID
	dir     string
	st      *store
	c       *core
	bus     *simBus
	votes   []bool
	syncs   int
	batches uint64
}

func (n *simNode) propose(m *message, nphase bool) {
	n.bus.queue = append(n.bus.queue, proposal{from: n.id, m: m, nphase: nphase})
}
func (n *simNode) vote(ok bool) { n.votes = append(n.votes, ok) }
func (n *simNode) record(rec *walRecord, sync bool) error {
	return n.st.append(rec, sync)
}
func (n *simNode) install(at position, eng []byte) error {
	return n.st.snapshot(&snapshotFile{At: at, Engine: eng})
}
func (n *simNode) outputs([]engine.Output, bool) {}
func (n *simNode) synced(bool)                   { n.syncs++ }

// submit proposes a batch of one request from this node.
func (n *simNode) submit(group string) {
	n.batches++
	data, err := encode([]engine.Input{{Kind: engine.InRequest, From: n.id, Request: &engine.Request{Group: group}}})
	if err != nil {
		panic(err)
	}
	for _, m := range chunks(msgBatch, batchID{Node: n.id, Inc: n.c.inc, Seq: n.batches}, data) {
		n.propose(m, true)
	}
}

type proposal struct {
	from   engine.NodeID
	m      *message
	nphase bool
}

// simBus orders the group's protocols one at a time, as Group Services
// does, and delivers every notification to every member in order.
type simBus struct {
	t       *testing.T
	nodes   map[engine.NodeID]*simNode
	members []engine.NodeID
	queue   []proposal
	rng     *rand.Rand
	rejectP float64
}

func newBus(t *testing.T, seed uint64) *simBus {
	return &simBus{t: t, nodes: map[engine.NodeID]*simNode{}, rng: rand.New(rand.NewPCG(seed, 1))}
}

func (b *simBus) deliver(e *event) {
	for _, id := range slices.Clone(b.members) {
		n := b.nodes[id]
		ev := *e
		require.NoError(b.t, n.c.handle(&ev), "node %d handles %v", id, e.Kind)
	}
}

// start starts node id's manager from its state directory and joins it.
func (b *simBus) start(id engine.NodeID, dir string, inc uint64) *simNode {
	log := slog.New(slog.NewTextHandler(io.Discard, nil)).With("node", id)
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug})).With("node", id)
	}
	st, l, err := openStore(dir, log)
	require.NoError(b.t, err)
	eng, at, err := replay(l, restoreCount, log)
	require.NoError(b.t, err)
	n := &simNode{id: id, dir: dir, st: st, bus: b}
	n.c = newCore(id, inc, eng, at, restoreCount, n, log)
	b.nodes[id] = n
	b.members = append(b.members, id)
	slices.Sort(b.members)
	b.deliver(&event{Kind: evJoin, Nodes: []engine.NodeID{id}, Members: slices.Clone(b.members)})
	return n
}

// crash removes node id as a failure leave; its files stay.
func (b *simBus) crash(id engine.NodeID) {
	n := b.nodes[id]
	n.st.close()
	delete(b.nodes, id)
	b.members = slices.DeleteFunc(b.members, func(m engine.NodeID) bool { return m == id })
	b.queue = slices.DeleteFunc(b.queue, func(p proposal) bool { return p.from == id })
	if len(b.members) > 0 {
		b.deliver(&event{Kind: evLeave, Nodes: []engine.NodeID{id}, Members: slices.Clone(b.members), Why: []engine.Departure{engine.DepartProcess}})
	}
}

// reconnect is node id's manager losing its session and opening a new one
// without restarting (its hagsd cut it off, then took it back): the
// others see it leave; it keeps its engine and store and joins again.
func (b *simBus) reconnect(ids ...engine.NodeID) {
	for _, id := range ids {
		b.members = slices.DeleteFunc(b.members, func(m engine.NodeID) bool { return m == id })
		b.queue = slices.DeleteFunc(b.queue, func(p proposal) bool { return p.from == id })
		if len(b.members) > 0 {
			b.deliver(&event{Kind: evLeave, Nodes: []engine.NodeID{id}, Members: slices.Clone(b.members), Why: []engine.Departure{engine.DepartNode}})
		}
	}
	for _, id := range ids {
		b.nodes[id].c.restart(id)
		b.members = append(b.members, id)
		slices.Sort(b.members)
		b.deliver(&event{Kind: evJoin, Nodes: []engine.NodeID{id}, Members: slices.Clone(b.members)})
	}
}

// run runs protocols until none is queued (bounded).
func (b *simBus) run() {
	for i := 0; len(b.queue) > 0; i++ {
		require.Less(b.t, i, 100000, "the group quiesces")
		b.runOne()
	}
}

// runUntil runs protocols until the next one queued satisfies stop (it is
// left queued) or none is queued.
func (b *simBus) runUntil(stop func(p proposal) bool) {
	for i := 0; len(b.queue) > 0 && !stop(b.queue[0]); i++ {
		require.Less(b.t, i, 100000, "the group quiesces")
		b.runOne()
	}
}

// runOne runs the first queued protocol.
func (b *simBus) runOne() {
	p := b.queue[0]
	b.queue = b.queue[1:]
	if _, ok := b.nodes[p.from]; !ok {
		return
	}
	if !p.nphase {
		b.deliver(&event{Kind: evMessage, Msg: p.m})
		return
	}
	for _, id := range b.members {
		b.nodes[id].votes = nil
	}
	b.deliver(&event{Kind: evNPhase, Msg: p.m})
	ok := true
	for _, id := range b.members {
		n := b.nodes[id]
		require.Len(b.t, n.votes, 1, "node %d votes once", id)
		ok = ok && n.votes[0]
	}
	if ok && b.rng.Float64() < b.rejectP {
		ok = false // as if a member had voted reject
	}
	if ok {
		b.deliver(&event{Kind: evMessage, Msg: p.m})
	} else {
		b.deliver(&event{Kind: evRejected, Msg: p.m})
		// The proposer sends it again before anything else of its own
		// (a manager has one batch under way at a time).
		b.queue = append([]proposal{p}, b.queue...)
	}
}

// agreed checks that every synced member holds the same state.
func (b *simBus) agreed() []byte {
	var ref []byte
	var refAt position
	for _, id := range b.members {
		n := b.nodes[id]
		require.True(b.t, n.c.synced, "node %d is synced once the group is quiet", id)
		s := n.c.eng.Snapshot()
		if ref == nil {
			ref, refAt = s, n.c.bk.At
			continue
		}
		require.Equal(b.t, refAt, n.c.bk.At, "node %d is at the same position", id)
		require.True(b.t, bytes.Equal(ref, s), "node %d holds the same engine state", id)
	}
	return ref
}

func steps(t *testing.T, b []byte) []string {
	m, err := restoreCount(b)
	require.NoError(t, err)
	return m.(*countMachine).Steps
}

func TestLogFirstMemberFormsAlone(t *testing.T) {
	b := newBus(t, 1)
	n := b.start(1, t.TempDir(), 1)
	b.run()
	require.True(t, n.c.synced, "the first manager of a new cluster holds the state alone")
	n.submit("a")
	b.run()
	require.Contains(t, steps(t, b.agreed()), "4/1/a", "its batch is applied")
}

func TestLogJoinersCatchUpAndAgree(t *testing.T) {
	b := newBus(t, 2)
	dirs := []string{t.TempDir(), t.TempDir(), t.TempDir()}
	n1 := b.start(1, dirs[0], 1)
	b.run()
	n1.submit("before")
	b.run()
	b.start(2, dirs[1], 1)
	// A large batch whose chunks straddle the third member's join.
	big := string(bytes.Repeat([]byte("x"), 3*maxChunk))
	n1.submit(big)
	b.start(3, dirs[2], 1)
	b.run()
	b.nodes[2].submit("after")
	b.run()
	s := steps(t, b.agreed())
	require.Contains(t, s, "4/1/before")
	require.Contains(t, s, "4/1/"+big, "the batch whose chunks straddled a join is applied everywhere")
	require.Contains(t, s, "4/2/after")
}

func TestLogRestartOfEveryManagerKeepsEveryChange(t *testing.T) {
	for seed := uint64(0); seed < 20; seed++ {
		b := newBus(t, seed)
		b.rejectP = 0.2
		dirs := map[engine.NodeID]string{1: t.TempDir(), 2: t.TempDir(), 3: t.TempDir()}
		for id := engine.NodeID(1); id <= 3; id++ {
			b.start(id, dirs[id], 1)
			b.run()
		}
		var want []string
		for i := 0; i < 30; i++ {
			id := engine.NodeID(1 + b.rng.IntN(3))
			g := fmt.Sprintf("g%d", i)
			b.nodes[id].submit(g)
			want = append(want, fmt.Sprintf("4/%d/%s", id, g))
			if b.rng.IntN(4) == 0 {
				b.run()
			}
		}
		b.run()
		before := steps(t, b.agreed())
		for _, w := range want {
			require.Contains(t, before, w)
		}
		for _, id := range []engine.NodeID{1, 2, 3} {
			b.crash(id)
		}
		// Two of three come back: a majority of the known nodes.
		first := engine.NodeID(1 + b.rng.IntN(3))
		second := first%3 + 1
		b.start(first, dirs[first], 2)
		b.run()
		require.False(t, b.nodes[first].c.synced, "seed %d: one of three managers does not form the cluster", seed)
		b.start(second, dirs[second], 2)
		b.run()
		after := steps(t, b.agreed())
		for _, w := range want {
			require.Contains(t, after, w, "seed %d: an applied change survives the restart of every manager", seed)
		}
		third := 6 - first - second
		b.start(third, dirs[third], 2)
		b.run()
		b.agreed()
	}
}

// TestLogJoinerDuringFormationAgrees: a manager that joins while the
// cluster is forming anew (after it announced, before the formation
// transfer ends) is not among those the transfer is for; it gets the state
// in a transfer of its own and must then hold exactly what the others
// hold, at the same position. What it buffered before the formation
// belongs to the old epoch and must not be replayed.
func TestLogJoinerDuringFormationAgrees(t *testing.T) {
	for seed := uint64(0); seed < 10; seed++ {
		b := newBus(t, seed)
		dirs := map[engine.NodeID]string{1: t.TempDir(), 2: t.TempDir(), 3: t.TempDir()}
		for id := engine.NodeID(1); id <= 3; id++ {
			b.start(id, dirs[id], 1)
			b.run()
		}
		for i := range 5 {
			b.nodes[engine.NodeID(1+i%3)].submit(fmt.Sprintf("g%d", i))
		}
		b.run()
		for _, id := range []engine.NodeID{1, 2, 3} {
			b.crash(id)
		}
		b.start(1, dirs[1], 2)
		b.run()
		b.start(2, dirs[2], 2)
		// Run until the formation transfer is the next protocol, then let
		// the third manager join before it is approved.
		b.runUntil(func(p proposal) bool { return p.m.Kind == msgState && p.m.Form })
		require.NotEmpty(t, b.queue, "seed %d: two of three managers form the cluster", seed)
		b.start(3, dirs[3], 2)
		if seed%2 == 1 {
			// Its announcement is approved before the formation: the
			// formed members never saw it.
			mine := slices.DeleteFunc(slices.Clone(b.queue), func(p proposal) bool { return p.from != 3 })
			b.queue = append(mine, slices.DeleteFunc(b.queue, func(p proposal) bool { return p.from == 3 })...)
		}
		b.run()
		b.nodes[3].submit("after")
		b.run()
		s := steps(t, b.agreed())
		require.Contains(t, s, "4/3/after", "seed %d: the late joiner's batch is applied", seed)
	}
}

// TestLogReconnectedManagersAnnounceWhatTheyHold: managers that lost
// their sessions and joined again without restarting announce the
// position of the state they hold, so that a formation picks them over a
// manager restarted from an older disk, and each formation starts a new
// epoch. (They used to announce position 0.0: a cluster formed by them
// started epoch 1 again, and a later formation picked the restarted
// manager's older state, losing what had been acknowledged since.)
func TestLogReconnectedManagersAnnounceWhatTheyHold(t *testing.T) {
	b := newBus(t, 1)
	dirs := map[engine.NodeID]string{1: t.TempDir(), 2: t.TempDir(), 3: t.TempDir()}
	for id := engine.NodeID(1); id <= 3; id++ {
		b.start(id, dirs[id], 1)
		b.run()
	}
	for i := range 6 {
		b.nodes[engine.NodeID(1+i%3)].submit(fmt.Sprintf("before%d", i))
	}
	b.run()
	b.crash(2) // its disk holds everything so far
	b.nodes[1].submit("while2down")
	b.run()
	// Nodes 1 and 3 lose their sessions together (a quorum loss of the
	// domain) and come back: they form the cluster from what they hold.
	b.reconnect(1, 3)
	b.run()
	b.agreed()
	first := b.nodes[1].c.bk.At
	b.nodes[3].submit("acknowledged")
	b.run()
	require.Contains(t, steps(t, b.agreed()), "4/3/acknowledged")
	// Again, and node 2 comes back from its older disk meanwhile.
	b.reconnect(1, 3)
	b.start(2, dirs[2], 2)
	b.run()
	s := steps(t, b.agreed())
	require.Contains(t, s, "4/3/acknowledged", "a change applied since node 2 went down survives its return")
	require.Contains(t, s, "4/1/while2down")
	require.Less(t, first.Epoch, b.nodes[1].c.bk.At.Epoch, "each formation starts a new epoch")
}

// TestLogDiskHoldsTheLiveState: what a manager's state directory replays
// to is the engine it ran, after a formation too (whose reset inputs are
// part of the new epoch's first state).
func TestLogDiskHoldsTheLiveState(t *testing.T) {
	b := newBus(t, 1)
	dirs := map[engine.NodeID]string{1: t.TempDir(), 2: t.TempDir(), 3: t.TempDir()}
	for id := engine.NodeID(1); id <= 3; id++ {
		b.start(id, dirs[id], 1)
		b.run()
	}
	for round := range 3 {
		for i := range 4 {
			b.nodes[engine.NodeID(1+i%3)].submit(fmt.Sprintf("r%d-%d", round, i))
		}
		b.run()
		b.agreed()
		for _, id := range []engine.NodeID{1, 2, 3} {
			// Its live state (the others' leaves changed it), then its disk.
			live, at := b.nodes[id].c.eng.Snapshot(), b.nodes[id].c.bk.At
			b.crash(id)
			st, l, err := openStore(dirs[id], slog.New(slog.NewTextHandler(io.Discard, nil)))
			require.NoError(t, err)
			eng, pos, err := replay(l, restoreCount, slog.New(slog.NewTextHandler(io.Discard, nil)))
			require.NoError(t, err)
			st.close()
			require.Equal(t, at, pos, "round %d: node %d's disk is at the live position", round, id)
			require.Equal(t, steps(t, live), steps(t, eng.Snapshot()), "round %d: node %d's disk replays to the live state", round, id)
		}
		// Every manager back: the cluster forms anew (a reset).
		for _, id := range []engine.NodeID{1, 2, 3} {
			b.start(id, dirs[id], uint64(round+2))
		}
		b.run()
		b.agreed()
	}
}

// TestLogTransferForAnEarlierRunIsNotInstalled: a state transfer is
// created for a joiner; before it is approved, that joiner leaves and its
// node's manager joins again (a new process, or a new session of the same
// one). The transfer describes the state as of the earlier join, before
// the leave and the new join: the new joiner must not install it (its
// buffer does not hold the leave), but wait for one made after its join.
func TestLogTransferForAnEarlierRunIsNotInstalled(t *testing.T) {
	for _, how := range []string{"restart", "reconnect"} {
		t.Run(how, func(t *testing.T) {
			b := newBus(t, 1)
			dirs := map[engine.NodeID]string{1: t.TempDir(), 2: t.TempDir(), 3: t.TempDir()}
			b.start(1, dirs[1], 1)
			b.run()
			b.start(2, dirs[2], 1)
			b.run()
			b.nodes[1].submit("before")
			b.run()
			b.start(3, dirs[3], 1)
			// Node 1 proposes node 3's transfer (once node 3 announced);
			// let it wait.
			b.runUntil(func(p proposal) bool { return p.m.Kind == msgState })
			require.NotEmpty(t, b.queue, "a transfer is proposed for node 3")
			if how == "restart" {
				b.crash(3)
				b.start(3, dirs[3], 2)
			} else {
				b.reconnect(3)
			}
			b.run()
			b.nodes[3].submit("after")
			b.run()
			s := steps(t, b.agreed())
			require.Contains(t, s, "4/3/after")
		})
	}
}

// A manager that joins while the first managers form the cluster waits for
// a state transfer of its own and then agrees with them. Two orders:
//   - the formation is delivered first: the joiner replays only what
//     followed it (what it buffered before is not of the new epoch);
//   - the formation collided with the join and is proposed again after the
//     announcements the join caused, and the forming member, seeing a new
//     round, proposes a second formation, for every member. The second one
//     is void: the members the first synced ignore it, so the joiner must
//     not install it either.
func TestLogJoinDuringFormation(t *testing.T) {
	for _, resent := range []bool{false, true} {
		t.Run(fmt.Sprintf("resent=%v", resent), func(t *testing.T) { joinDuringFormation(t, resent) })
	}
}

func joinDuringFormation(t *testing.T, resent bool) {
	b := newBus(t, 3)
	b.start(1, t.TempDir(), 1)
	b.start(2, t.TempDir(), 1)
	formation := func(p proposal) bool { return p.m.Kind == msgState && p.m.Form }
	for !slices.ContainsFunc(b.queue, formation) {
		require.NotEmpty(t, b.queue, "the first two managers propose a formation")
		b.runOne()
	}
	b.start(3, t.TempDir(), 1)
	if resent {
		i := slices.IndexFunc(b.queue, formation)
		p := b.queue[i]
		b.queue = append(slices.Delete(b.queue, i, i+1), p)
	}
	b.run()
	b.agreed()
	b.nodes[3].submit("after")
	b.run()
	require.Contains(t, steps(t, b.agreed()), "4/3/after", "the third manager's batch is applied by all")
}

// TestLogJoinWhileFormationIsProposed: a third manager joins while the
// first two form the cluster: Group Services runs its join after node 1
// proposed the formation transfer and before the transfer. The
// latecomer is among the members when the formation completes, but not
// among those it was for: it must wait for an ordinary transfer and then
// count the log's positions from the formation on. When the formation
// also collided with the join and was sent again after the announcements
// the join caused, node 1, still without state, proposed a second
// formation for all three; once the first has completed, the second must
// change nothing. Either way every member ends at the same position with
// the same state.
func TestLogJoinWhileFormationIsProposed(t *testing.T) {
	for _, collided := range []bool{false, true} {
		t.Run(fmt.Sprintf("collided=%v", collided), func(t *testing.T) {
			b := newBus(t, 4)
			n1 := b.start(1, t.TempDir(), 1)
			b.start(2, t.TempDir(), 1)
			// Deliver the announcements until node 1 proposes the formation.
			for len(b.queue) > 0 && b.queue[0].m.Kind == msgAnnounce {
				p := b.queue[0]
				b.queue = b.queue[1:]
				b.deliver(&event{Kind: evMessage, Msg: p.m})
			}
			require.Len(t, b.queue, 1, "node 1 proposed the formation")
			require.Equal(t, msgState, b.queue[0].m.Kind)
			require.True(t, b.queue[0].m.Form)
			b.start(3, t.TempDir(), 1)
			if collided {
				// The formation goes after the announcements the join caused.
				b.queue = append(b.queue[1:], b.queue[0])
			}
			b.run()
			b.agreed()
			n1.submit("after")
			b.run()
			require.Contains(t, steps(t, b.agreed()), "4/1/after")
		})
	}
}

// TestLogStaleAnnouncementFormsNothing: node 3 starts alone and proposes
// a formation; node 2 joins before it is delivered, so node 3, still
// without state, announces again for the membership {2, 3}. The
// formation is delivered (node 3 holds the state), then node 1 joins;
// node 3's announcement for {2, 3} arrives only after that join. Node 1
// never saw the formation: counting that stale announcement, it would
// find every member announced and no state anywhere, and form a second
// cluster of its own (seen in the failover simulation, seed 867: two
// managers formed epoch 1 anew while the first one's cluster ran, and
// two others stayed Joining for ever). It must wait for node 3's
// transfer instead.
func TestLogStaleAnnouncementFormsNothing(t *testing.T) {
	b := newBus(t, 1)
	b.start(3, t.TempDir(), 1)
	formation := func(p proposal) bool { return p.m.Kind == msgState && p.m.Form }
	b.runUntil(formation)
	require.NotEmpty(t, b.queue, "node 3 proposes a formation")
	b.start(2, t.TempDir(), 1)
	require.True(t, formation(b.queue[0]), "node 3's formation is still the next protocol")
	b.runOne()
	require.True(t, b.nodes[3].c.synced, "node 3 formed the cluster")
	require.True(t, slices.ContainsFunc(b.queue, func(p proposal) bool { return p.from == 3 && p.m.Kind == msgAnnounce }),
		"node 3's announcement for {2, 3} is still queued")
	b.start(1, t.TempDir(), 1)
	// Node 1 sees the announcements node 3 and node 2 made for {2, 3},
	// then its own, before anything else; then whatever node 1 proposes.
	take := func(match func(p proposal) bool) *message {
		i := slices.IndexFunc(b.queue, match)
		require.GreaterOrEqual(t, i, 0, "the protocol is queued")
		p := b.queue[i]
		b.queue = slices.Delete(b.queue, i, i+1)
		return p.m
	}
	for _, from := range []engine.NodeID{3, 2, 1} {
		m := take(func(p proposal) bool { return p.from == from && p.m.Kind == msgAnnounce })
		b.deliver(&event{Kind: evMessage, Msg: m})
	}
	if slices.ContainsFunc(b.queue, formation) {
		b.deliver(&event{Kind: evMessage, Msg: take(formation)})
	}
	b.run()
	b.agreed()
	b.nodes[1].submit("after")
	b.run()
	require.Contains(t, steps(t, b.agreed()), "4/1/after", "node 1's batch is applied by all")
}

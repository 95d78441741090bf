package integration

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/openhags/hags/internal/history"
	"github.com/openhags/hags/internal/wire"
)

// ngroup is the join options of the fault runs' group: n-phase joins and
// failure leaves, a time limit, batched membership changes.
const ngroup = "phases=n limit=10 batch=both"

// hold makes p withhold its votes and waits until it says so.
func hold(t *testing.T, r *faultRun, p *faultProc) {
	t.Helper()
	mark := p.cl.Mark()
	require.NoError(t, p.cl.Send("autovote none"))
	_, _, err := p.cl.Expect(`^autovote none`, mark, wait)
	require.NoError(t, err, "%s stops voting; %s", p.name, r.report())
}

// midPhase waits until p has its phase-1 notification of the state change
// proposed after marks: the protocol waits for p's vote.
func midPhase(t *testing.T, r *faultRun, p *faultProc, marks map[*faultProc]int) {
	t.Helper()
	_, _, err := p.cl.Expect(`^NPHASE .*proto=STATE_VALUE_CHANGE .*phase=1 `, marks[p], wait)
	require.NoError(t, err, "%s is in phase 1 of the protocol; %s", p.name, r.report())
}

// stalled is an n-phase state change that waits for the vote of a
// provider on one node of a three-node domain, proposed from another node.
type stalled struct {
	state string             // the proposed state value
	marks map[*faultProc]int // every provider's output before the proposal
	lost  []*faultProc       // the providers on the node, which must leave with NODE_DIED
}

// stallOn has a provider on node victim withhold its vote and a provider on
// another node propose the state value "v<round>", and waits until the
// protocol waits in phase 1 for the withheld vote.
func stallOn(t *testing.T, r *faultRun, victim, round int) stalled {
	t.Helper()
	var holder, proposer *faultProc
	for _, p := range r.members() {
		if p.node == victim && holder == nil {
			holder = p
		}
		if p.node != victim && proposer == nil {
			proposer = p
		}
	}
	require.NotNil(t, holder, "a provider lives on node %d; %s", victim+1, r.report())
	require.NotNil(t, proposer, "a provider lives off node %d; %s", victim+1, r.report())
	hold(t, r, holder)
	st := stalled{state: fmt.Sprintf("v%d", round)}
	st.marks = r.propose(proposer, st.state, "phases=n limit=20")
	midPhase(t, r, holder, st.marks)
	for _, p := range r.procs {
		if p.node == victim && p.fate == history.Running {
			st.lost = append(st.lost, p)
		}
	}
	return st
}

// finish waits, once the stalled node is gone, until the others approve
// the state change and see the node's providers leave with NODE_DIED.
func (st stalled) finish(r *faultRun) {
	r.t.Helper()
	r.await(`^APPROVED .*proto=STATE_VALUE_CHANGE .*state="`+st.state+`"`, st.marks)
	for _, p := range st.lost {
		leaves(r, p, "NODE_DIED", st.marks)
	}
}

// aFollower picks one of the two nodes of a three-node domain that do not
// lead.
func aFollower(r *faultRun, leader int) int { return (leader + 1 + r.rng.Intn(2)) % 3 }

// leaves waits until every running member has seen p leave with reason.
func leaves(r *faultRun, p *faultProc, reason string, marks map[*faultProc]int) {
	r.t.Helper()
	r.await(fmt.Sprintf(`^APPROVED .*proto=FAILURE_LEAVE .*changing=([^ ]*,)?%d@%d[, ].*leave=([^ ]*,)?%s`,
		p.inst, p.node+1, reason), marks)
}

// TestFaultProvidersKilledMidPhase: provider processes are SIGKILLed while
// an n-phase protocol waits for their votes — one at a time, the proposer
// itself, two at once — and replaced; one is expelled with a deactivate
// script. The protocols finish with the dead providers' default votes, the
// deaths become failure leaves (with deactivate-on-failure scripts), and
// the histories of every provider pass the checker.
func TestFaultProvidersKilledMidPhase(t *testing.T) {
	for _, seed := range faultSeeds(t) {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			c := startCluster(t)
			r := newFaultRun(t, seed, "g", ngroup, []string{c.socket})
			r.daemonStarted(0, c.daemon)
			for range 4 {
				r.spawn(0, "continue:2")
			}
			for round, how := range []string{"one", "proposer", "two", "one"} {
				proposer := r.pick()
				var victims []*faultProc
				switch how {
				case "one":
					victims = []*faultProc{r.pick(proposer)}
				case "proposer":
					victims = []*faultProc{proposer}
				case "two":
					a := r.pick(proposer)
					victims = []*faultProc{a, r.pick(proposer, a)}
				}
				for _, v := range victims {
					hold(t, r, v)
				}
				v := fmt.Sprintf("v%d", round)
				marks := r.propose(proposer, v, "phases=n limit=20")
				for _, p := range victims {
					midPhase(t, r, p, marks)
				}
				for _, p := range victims {
					r.kill(p)
				}
				r.await(`^APPROVED .*proto=STATE_VALUE_CHANGE .*state="`+v+`"`, marks)
				for _, p := range victims {
					leaves(r, p, "PROCESS_DIED", marks)
				}
				for range victims {
					r.spawn(0, "continue:2")
				}
			}
			expeller := r.pick()
			target := r.pick(expeller)
			marks := r.marks()
			require.NoError(t, expeller.cl.Send("expel 1 %d@%d phases=n limit=10 dphase=1", target.inst, target.node+1))
			r.logf("%s expels %s", expeller.name, target.name)
			r.await(fmt.Sprintf(`^APPROVED .*proto=EXPEL .*changing=%d@%d .*deactivate=OK`, target.inst, target.node+1), marks)
			r.settle()
			sum := r.check()
			require.Equal(t, 5, sum.Leaves[wire.ProviderProcessDied], "five providers died and left")
			require.Equal(t, 6, sum.Scripts, "five failure scripts and one expel script ran")
		})
	}
}

// TestFaultDaemonsKilledMidPhase: in a domain of three daemons, with two
// providers on each node, a follower's daemon, then the leader's, is
// SIGKILLed while an n-phase protocol waits for the vote of a provider on
// its node, and later restarted; a third daemon is killed mid-phase and
// restarted at once (a new incarnation). Each time the protocol finishes on
// the surviving nodes, the dead node's providers leave with NODE_DIED, new
// providers join on the restarted node, and every history passes the
// checker.
func TestFaultDaemonsKilledMidPhase(t *testing.T) {
	for _, seed := range faultSeeds(t) {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			m := startMulti(t, 3)
			r := newFaultRun(t, seed, "g", ngroup, m.sockets)
			for i, d := range m.daemons {
				r.daemonStarted(i, d)
			}
			for i := range 3 {
				r.spawn(i, "continue:2")
				r.spawn(i, "continue:2")
			}
			for round, how := range []string{"follower", "leader", "restart-at-once"} {
				leader := m.leader()
				victim := leader
				switch how {
				case "follower":
					victim = aFollower(r, leader)
				case "restart-at-once":
					victim = r.rng.Intn(3)
				}
				st := stallOn(t, r, victim, round)
				m.kill(victim)
				r.logf("daemon %d (%s) killed", victim+1, how)
				if how == "restart-at-once" {
					m.start(victim)
					r.daemonStarted(victim, m.daemons[victim])
				}
				r.nodeLost(victim)
				st.finish(r)
				if how != "restart-at-once" {
					m.start(victim)
					r.daemonStarted(victim, m.daemons[victim])
				}
				m.waitAdmitted(victim, 0) // a new daemon, with a new log
				r.logf("daemon %d back", victim+1)
				r.spawn(victim, "continue:2")
				r.spawn(victim, "continue:2")
			}
			r.settle()
			sum := r.check()
			require.GreaterOrEqual(t, sum.Leaves[wire.ProviderNodeDied], 6, "two providers left with each of three nodes")
		})
	}
}

// TestFaultLinksCutMidPhase: in a domain of three daemons in network
// namespaces, a follower's link, then the leader's, is cut while an n-phase
// protocol waits for the vote of a provider on that node, and healed. The
// node cut off ends its clients' sessions, the majority finishes the
// protocol and fails the node's providers with NODE_DIED, the healed node
// serves new providers, and every history passes the checker.
func TestFaultLinksCutMidPhase(t *testing.T) {
	for _, seed := range faultSeeds(t) {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			m, nn := startNetnsMulti(t, 3)
			r := newFaultRun(t, seed, "g", ngroup, m.sockets)
			for i, d := range m.daemons {
				r.daemonStarted(i, d)
			}
			for i := range 3 {
				r.spawn(i, "continue:2")
				r.spawn(i, "continue:2")
			}
			for round, how := range []string{"follower", "leader"} {
				leader := m.leader()
				victim := leader
				if how == "follower" {
					victim = aFollower(r, leader)
				}
				st := stallOn(t, r, victim, round)
				logMark := len(m.daemons[victim].Log.All())
				nn.cut(victim)
				r.logf("node %d (%s) cut off", victim+1, how)
				r.nodeLost(victim)
				st.finish(r)
				nn.heal(victim)
				m.waitAdmitted(victim, logMark)
				r.logf("node %d healed", victim+1)
				r.spawn(victim, "continue:2")
				r.spawn(victim, "continue:2")
			}
			r.settle()
			sum := r.check()
			require.GreaterOrEqual(t, sum.Leaves[wire.ProviderNodeDied], 4, "two providers left with each node cut off")
		})
	}
}

// TestFaultStalledDispatcher: a provider whose dispatch loop stalls (it
// reads its socket but never dispatches) is tardy in every n-phase
// protocol, which the time limit then rejects, and fails its ping
// responsiveness checks, which are announced; the others keep being
// served — one-phase changes are approved at once — and the stalled
// provider stays a member. Every history passes the checker, the stalled
// provider's as a prefix.
func TestFaultStalledDispatcher(t *testing.T) {
	c := startCluster(t)
	r := newFaultRun(t, 1, "g", "phases=n limit=2", []string{c.socket})
	r.daemonStarted(0, c.daemon)
	stalled := r.spawn(0, "approve", "--ping", "1")
	a := r.spawn(0, "approve")
	b := r.spawn(0, "approve")
	mark := stalled.cl.Mark()
	require.NoError(t, stalled.cl.Send("wedge"))
	_, _, err := stalled.cl.Expect(`^wedged`, mark, wait)
	require.NoError(t, err)
	stalled.fate = history.Stalled
	r.logf("%s stalls", stalled.name)

	for i := range 3 {
		marks := r.propose(a, fmt.Sprintf("n%d", i), "phases=n limit=1")
		r.await(`^REJECTED .*proto=STATE_VALUE_CHANGE sum=[^ ]*TIME_LIMIT_EXCEEDED`, marks)
		_, _, err := a.cl.Expect(fmt.Sprintf(`^ANNOUNCEMENT .*sum=[^ ]*TIME_LIMIT_EXCEEDED[^ ]* providers=([^ ]*,)?%d@1`, stalled.inst), marks[a], wait)
		require.NoError(t, err, "the tardy provider is announced")
		marks = r.propose(b, fmt.Sprintf("one%d", i), "")
		r.await(fmt.Sprintf(`^APPROVED .*state="one%d"`, i), marks)
	}
	_, _, err = a.cl.Expect(fmt.Sprintf(`^ANNOUNCEMENT .*sum=[^ ]*RESPONSIVENESS_NO_RESPONSE[^ ]* providers=([^ ]*,)?%d@1`, stalled.inst), 0, wait)
	require.NoError(t, err, "the stalled provider fails its responsiveness checks, and the group hears of it")
	r.settle()
	sum := r.check()
	require.Equal(t, 2, sum.Survivors, "the two dispatching providers survive; the stalled one stays a member")
}

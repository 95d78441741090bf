package daemontest_test

import (
	"fmt"
	"math/rand"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhags/hags/daemon/daemontest"
	"github.com/openhags/hags/internal/wire"
)

// provider is one simulated provider process: a client holding token 1 in
// group "g" as instance inst on slot node.
type provider struct {
	cl     *daemontest.Client
	node   int
	inst   int32
	joined bool
}

func (p *provider) id() wire.Provider {
	return wire.Provider{Instance: p.inst, Node: int32(p.node + 1)}
}

// approvalKey describes an approved notification in a way that is the same
// for every provider that saw it, and unique in the group's history
// (instance numbers and state values are never reused in the scenario).
func approvalKey(n *wire.Notification) string {
	p := n.Proposal
	if p == nil {
		return fmt.Sprintf("%d/no-proposal", n.Protocol)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d cur=%v chg=%v st=%q", n.Protocol, p.Current, p.Changing, p.CurrentState)
	for _, l := range p.LeaveInfo {
		fmt.Fprintf(&b, " leave=%d", l.Reason)
	}
	if p.ExpelInfo != nil {
		fmt.Fprintf(&b, " expel=%v", p.ExpelInfo.Results)
	}
	return b.String()
}

func history(cl *daemontest.Client) []string {
	var out []string
	for _, n := range cl.Notes() {
		if n.Type == wire.ApprovedNotification && n.Group == "g" {
			out = append(out, approvalKey(&n))
		}
	}
	return out
}

// scenario drives one simulated domain with random requests and faults and
// checks the invariants at the end.
type scenario struct {
	t     *testing.T
	c     *daemontest.Cluster
	rng   *rand.Rand
	provs []*provider
	inst  int32
	fault string // "", "isolate", "cut" (silent: Cluster.CutOff), "crash"
	fnode int
}

func (s *scenario) attrs() *wire.Attributes {
	return &wire.Attributes{GroupName: "g", NumPhases: wire.OnePhase, DefaultVote: wire.VoteApprove}
}

// addProvider starts a provider on slot i and asks to join; it returns
// nil if the daemon refuses the session (the node is out of the domain).
func (s *scenario) addProvider(i int) *provider {
	cl, err := s.c.Dial(i, fmt.Sprintf("p-n%d-%d", i+1, s.inst+1), "/deactivate")
	if err != nil {
		return nil
	}
	s.inst++
	p := &provider{cl: cl, node: i, inst: s.inst}
	s.provs = append(s.provs, p)
	_ = cl.Send(&wire.Request{Op: wire.OpJoin, Token: 1, Group: "g", Instance: p.inst, Attributes: s.attrs()})
	return p
}

// live returns the providers whose session lasts and whose join was
// approved (as far as they know).
func (s *scenario) live() []*provider {
	var out []*provider
	for _, p := range s.provs {
		if p.cl.Lost() != nil {
			continue
		}
		if !p.joined {
			for _, n := range p.cl.Notes() {
				if n.Type == wire.ApprovedNotification && n.Protocol == wire.JoinProtocol && n.Proposal != nil &&
					slices.Contains(n.Proposal.Changing, p.id()) {
					p.joined = true
				}
			}
		}
		if p.joined && !s.expelled(p) {
			out = append(out, p)
		}
	}
	return out
}

// expelled reports whether any provider saw p expelled.
func (s *scenario) expelled(p *provider) bool {
	for _, q := range s.provs {
		for _, n := range q.cl.Notes() {
			if n.Type == wire.ApprovedNotification && n.Protocol == wire.ExpelProtocol && n.Proposal != nil &&
				slices.Contains(n.Proposal.Changing, p.id()) {
				return true
			}
		}
	}
	return false
}

func (s *scenario) pick(ps []*provider) *provider {
	if len(ps) == 0 {
		return nil
	}
	return ps[s.rng.Intn(len(ps))]
}

func (s *scenario) step(k int) {
	c := s.c
	switch r := s.rng.Intn(12); {
	case r < 5: // a state change
		if p := s.pick(s.live()); p != nil {
			_ = p.cl.Send(&wire.Request{Op: wire.OpChangeState, Token: 1, NumPhases: wire.OnePhase, State: []byte(fmt.Sprintf("s%d", k))})
		}
	case r == 5: // an expel with a deactivate script in phase 1
		live := s.live()
		if p, q := s.pick(live), s.pick(live); p != nil && q != nil && p != q {
			_ = p.cl.Send(&wire.Request{Op: wire.OpExpel, Token: 1, NumPhases: wire.OnePhase, ExpelList: []wire.Provider{q.id()},
				DeactivatePhase: 1, TimeLimit: 10})
		}
	case r == 6 || r == 7: // start a fault on a node that does not lead
		if s.fault != "" {
			return
		}
		leader := c.Leader()
		i := s.rng.Intn(c.Size())
		if i == leader && s.rng.Intn(2) == 0 {
			i = (i + 1) % c.Size() // the leader is hit half as often
		}
		s.fnode = i
		switch {
		case r == 6 && s.rng.Intn(2) == 0:
			s.fault = "isolate"
			c.Isolate(i)
		case r == 6:
			s.fault = "cut"
			c.CutOff(i)
		default:
			s.fault = "crash"
			c.Crash(i)
		}
	case r == 8: // end the fault
		s.endFault()
	case r == 9: // a lossy, slow link for a while
		a, b := s.rng.Intn(c.Size()), s.rng.Intn(c.Size())
		if a != b {
			c.Net.Drop(c.Host(a), c.Host(b), 0.2)
			c.Net.Delay(c.Host(b), c.Host(a), 30*time.Millisecond)
		}
	case r == 10:
		c.Net.ClearFaults()
	default: // a new provider
		s.addProvider(s.rng.Intn(c.Size()))
	}
}

func (s *scenario) endFault() {
	switch s.fault {
	case "isolate", "cut":
		s.c.Heal()
	case "crash":
		s.c.Restart(s.fnode)
	}
	s.fault = ""
}

func runScenario(t *testing.T, nodes, voters int, seed int64) {
	synctest.Test(t, func(t *testing.T) {
		c := daemontest.NewCluster(t, daemontest.Options{Nodes: nodes, Voters: voters, Seed: seed})
		s := &scenario{t: t, c: c, rng: rand.New(rand.NewSource(seed))}
		for i := range nodes {
			p := s.addProvider(i)
			require.NotNil(t, p, "node %d takes a client", i+1)
			require.True(t, p.cl.Wait(time.Minute, func(ns []wire.Notification) bool { return len(ns) > 0 }),
				"the first providers' joins are approved")
		}
		for k := range 40 {
			s.step(k)
			// Simulated time (synctest): a random pause between faults is the schedule.
			time.Sleep(time.Duration(s.rng.Intn(1500)) * time.Millisecond)
		}
		// Quiet down: no faults, every node back, a provider on each.
		s.endFault()
		c.Net.ClearFaults()
		for i := range nodes {
			c.WaitAdmitted(i, time.Minute)
		}
		// Simulated time (synctest): let failure leaves and re-admissions settle.
		time.Sleep(10 * time.Second)
		for i := range nodes {
			if s.addProvider(i) == nil {
				t.Fatalf("node %d refuses clients after the faults ended", i+1)
			}
		}
		// Simulated time (synctest): let the new providers' joins be approved everywhere.
		time.Sleep(10 * time.Second)

		// Each survivor proposes a last change; every survivor must see
		// them all.
		live := s.live()
		require.NotEmpty(t, live, "providers survive")
		for _, p := range live {
			v := fmt.Sprintf("final-%d", p.inst)
			require.NoError(t, p.cl.Send(&wire.Request{Op: wire.OpChangeState, Token: 1, NumPhases: wire.OnePhase, State: []byte(v)}))
			for _, q := range live {
				require.Truef(t, q.cl.Wait(time.Minute, func([]wire.Notification) bool {
					return slices.ContainsFunc(history(q.cl), func(h string) bool { return strings.Contains(h, fmt.Sprintf("st=%q", v)) })
				}), "survivor %d@%d sees %s approved; it saw %s", q.inst, q.node+1, v, describe(q.cl.Notes()))
			}
		}
		s.check(live)
	})
}

// check verifies the invariants: one chain of approvals that every
// provider saw a contiguous part of; survivors saw all of it from their
// join on; no deactivate script ran twice, and every expel approved with a
// successful script had its script run.
func (s *scenario) check(live []*provider) {
	t := s.t
	next := map[string]string{}
	prev := map[string]string{}
	for _, p := range s.provs {
		h := history(p.cl)
		seen := map[string]bool{}
		for i, x := range h {
			require.Falsef(t, seen[x], "provider %d@%d saw %q twice", p.inst, p.node+1, x)
			seen[x] = true
			if i+1 < len(h) {
				y := h[i+1]
				if old, ok := next[x]; ok {
					require.Equalf(t, old, y, "after %q, providers saw different approvals", x)
				}
				next[x] = y
				if old, ok := prev[y]; ok {
					require.Equalf(t, old, x, "before %q, providers saw different approvals", y)
				}
				prev[y] = x
			}
		}
	}
	// The chains, from their heads: the group's creation, its re-creations
	// after every provider had left (a group lives as long as its
	// providers), and the first approval seen after a stretch seen only by
	// providers whose node was cut off (their sessions ended before the
	// domain failed them).
	heads := map[string]bool{}
	for _, p := range s.provs {
		for _, x := range history(p.cl) {
			if _, has := prev[x]; !has {
				heads[x] = true
			}
		}
	}
	chainOf := map[string][]string{}
	for head := range heads {
		var chain []string
		for x, ok := head, true; ok; x, ok = next[x] {
			chain = append(chain, x)
		}
		for _, x := range chain {
			chainOf[x] = chain
		}
	}
	total := 0
	for head := range heads {
		total += len(chainOf[head])
	}
	for _, p := range live {
		h := history(p.cl)
		chain := chainOf[h[0]]
		start := slices.Index(chain, h[0])
		require.GreaterOrEqualf(t, start, 0, "survivor %d@%d's history starts in a chain", p.inst, p.node+1)
		assert.Equalf(t, chain[start:], h, "survivor %d@%d saw every approval from its join on", p.inst, p.node+1)
	}

	runs := map[uint64]int{}
	ranFor := map[wire.Provider]int{}
	for _, r := range s.c.Scripts.Runs() {
		runs[r.Run.ID]++
		ranFor[r.Run.Provider]++
		assert.Equalf(t, r.Node, r.Run.Provider.Node, "script %d ran on the expelled provider's node", r.Run.ID)
	}
	for id, n := range runs {
		assert.Equalf(t, 1, n, "deactivate script %d ran once", id)
	}
	expels := map[string]bool{}
	for _, p := range s.provs {
		for _, n := range p.cl.Notes() {
			if n.Type != wire.ApprovedNotification || n.Protocol != wire.ExpelProtocol || n.Proposal.ExpelInfo == nil {
				continue
			}
			for i, q := range n.Proposal.Changing {
				if n.Proposal.ExpelInfo.Results[i] == wire.DeactivateOK {
					expels[approvalKey(&n)] = true
					assert.Equalf(t, 1, ranFor[q], "the script of expelled provider %v ran exactly once", q)
				}
			}
		}
	}
	t.Logf("%d approvals in %d chains, %d survivors, %d scripts run, %d expels approved with a successful script",
		total, len(heads), len(live), len(runs), len(expels))
}

// TestSimulatedDomains runs random requests against simulated domains of 3
// voters, and of 3 voters with 2 followers, while nodes are cut off,
// crashed and restarted and links drop and delay traffic; every seed must
// keep the invariants.
func TestSimulatedDomains(t *testing.T) {
	seeds := []int64{1, 2, 3, 4}[:simSeeds]
	if testing.Short() {
		seeds = seeds[:1]
	}
	for _, size := range []struct{ nodes, voters int }{{3, 3}, {5, 3}} {
		for _, seed := range seeds {
			t.Run(fmt.Sprintf("nodes=%d,voters=%d,seed=%d", size.nodes, size.voters, seed), func(t *testing.T) {
				runScenario(t, size.nodes, size.voters, seed)
			})
		}
	}
}

func describe(ns []wire.Notification) string {
	var b strings.Builder
	for _, n := range ns {
		fmt.Fprintf(&b, "\n  type=%d proto=%d code=%d sum=%d", n.Type, n.Protocol, n.Code, n.Summary)
		if n.Proposal != nil {
			fmt.Fprintf(&b, " %s", approvalKey(&n))
		}
	}
	return b.String()
}

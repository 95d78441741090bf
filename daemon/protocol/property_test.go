package protocol

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/openhags/hags/internal/wire"
)

// chooser supplies the random decisions of the event generator: a seeded PRNG
// for the property test, the fuzzer's bytes for FuzzEngine.
type chooser interface {
	intn(n int) int // in [0, n)
	done() bool
}

type randChooser struct{ r *rand.Rand }

func (c randChooser) intn(n int) int { return c.r.IntN(n) }
func (c randChooser) done() bool     { return false }

type byteChooser struct {
	b []byte
	i int
}

func (c *byteChooser) intn(n int) int {
	if c.i >= len(c.b) {
		return 0
	}
	v := int(c.b[c.i])
	c.i++
	return v % n
}

func (c *byteChooser) done() bool { return c.i >= len(c.b) }

// sim drives an engine with generated events and checks the invariants of
// its output after every step.
type sim struct {
	e       *Engine
	ch      chooser
	now     int64
	conn    uint64
	clients []ClientID // every client ever connected, dead ones included
	nextTok map[ClientID]int32
	joined  map[Recipient]wire.Provider // from join requests
	granted map[Recipient]bool          // joins their node granted (Event.Grant)
	groups  map[*group]bool             // the groups seen so far (each object once)
	scripts []uint64

	seen      map[uint64]bool                 // ScriptRun IDs emitted
	approved  map[string][]*wire.Notification // per group, in order
	lastIdx   map[Recipient]int               // index in approved[group] of the last one received
	lastGroup map[Recipient]string            // the group of that index
	open      map[string]*openProto           // n-phase protocol seen running, per group
	log       []string                        // events so far, for failure messages
}

type openProto struct {
	kind  wire.RequestType
	phase uint32
	to    []Recipient
}

func newSim(ch chooser) *sim {
	s := &sim{
		e: New(), ch: ch, now: t0,
		nextTok:   map[ClientID]int32{},
		joined:    map[Recipient]wire.Provider{},
		granted:   map[Recipient]bool{},
		groups:    map[*group]bool{},
		seen:      map[uint64]bool{},
		approved:  map[string][]*wire.Notification{},
		lastIdx:   map[Recipient]int{},
		lastGroup: map[Recipient]string{},
		open:      map[string]*openProto{},
	}
	return s
}

// simGroups are the groups the generator names. "t" is created as a target
// of "a" or of HostMembership, depending on the first join's attributes;
// "hags.x" is reserved for root.
var simGroups = []string{"a", "b", "t", HostMembershipGroup, "hags.x"}

// simUids are the uids clients connect with: mostly root, and two others.
var simUids = []uint32{0, 0, 1000, 2000}

func (s *sim) attrs(g string) *wire.Attributes {
	a := &wire.Attributes{GroupName: g, DefaultVote: wire.VoteApprove, NumPhases: wire.OnePhase}
	// A few variants per group so that joins sometimes mismatch.
	switch s.ch.intn(6) {
	case 0:
		a.NumPhases = wire.NPhase
		a.TimeLimit = 3
	case 1:
		a.NumPhases = wire.NPhase
		a.DefaultVote = wire.VoteReject
		a.BatchControl = wire.BatchBoth
	case 2:
		a.BatchControl = wire.BatchFailureLeaves
	}
	if g == "t" {
		a.SourceGroupName = []string{"a", HostMembershipGroup}[s.ch.intn(2)]
		a.SourceReflectionNumPhases = s.phases()
		a.SourceReflectionTimeLimit = uint32(s.ch.intn(2)) * 4
	}
	return a
}

func (s *sim) pickClient() (ClientID, bool) {
	if len(s.clients) == 0 {
		return ClientID{}, false
	}
	return s.clients[s.ch.intn(len(s.clients))], true
}

// pickToken returns one of the client's tokens, sometimes one never used.
func (s *sim) pickToken(c ClientID) int32 {
	n := s.nextTok[c]
	if n == 0 || s.ch.intn(10) == 0 {
		return int32(s.ch.intn(3)) + 50
	}
	return int32(s.ch.intn(int(n))) + 1
}

func (s *sim) freshToken(c ClientID) int32 {
	s.nextTok[c]++
	return s.nextTok[c]
}

func (s *sim) phases() wire.NumPhases {
	if s.ch.intn(2) == 0 {
		return wire.OnePhase
	}
	return wire.NPhase
}

// event generates the next event.
func (s *sim) event() Event {
	ev := Event{}
	c, ok := s.pickClient()
	k := s.ch.intn(20)
	if !ok {
		k = 0
	}
	switch k {
	case 0:
		s.conn++
		id := ClientID{Node: int32(s.ch.intn(3)) + 1, Conn: s.conn}
		s.clients = append(s.clients, id)
		h := &wire.Hello{Pid: int32(s.conn) * 10}
		if s.ch.intn(2) == 0 {
			h.DeactivateScript = "/opt/deact"
		}
		ev = Event{Kind: EventConnect, Client: id, Cred: Cred{Pid: h.Pid, Uid: simUids[s.ch.intn(len(simUids))]}, Hello: h}
	case 1:
		ev = Event{Kind: EventDisconnect, Client: c}
	case 2:
		ev = Event{Kind: EventNodeUp, Node: int32(s.ch.intn(3)) + 1}
	case 3:
		if s.ch.intn(4) == 0 {
			ev = Event{Kind: EventNodeDown, Node: int32(s.ch.intn(3)) + 1}
		} else {
			ev = Event{Kind: EventResponsiveness, Client: c, Responsive: s.ch.intn(2) == 0}
		}
	case 4, 5:
		s.now += int64(s.ch.intn(4)) * 1e9
		ev = Event{Kind: EventTick}
	case 6:
		if len(s.scripts) == 0 {
			ev = Event{Kind: EventTick}
			break
		}
		res := []wire.DeactivateResult{wire.DeactivateOK, wire.DeactivateFailed, wire.DeactivateTimedOut, wire.DeactivateNotRun}
		ev = Event{Kind: EventScriptDone, Script: &ScriptResult{ID: s.scripts[s.ch.intn(len(s.scripts))], Result: res[s.ch.intn(4)]}}
	default:
		ev = Event{Kind: EventRequest, Client: c, Request: s.request(c, k)}
		if ev.Request.Op == wire.OpJoin {
			ev.Grant = s.ch.intn(3) == 0
			s.granted[Recipient{Client: c, Token: ev.Request.Token}] = ev.Grant
		}
	}
	ev.Time = s.now
	return ev
}

func (s *sim) request(c ClientID, k int) *wire.Request {
	g := simGroups[s.ch.intn(len(simGroups))]
	r := &wire.Request{Token: s.pickToken(c), NumPhases: s.phases(), TimeLimit: uint32(s.ch.intn(3)) * 2}
	switch k {
	case 7, 8, 9:
		r = &wire.Request{Op: wire.OpJoin, Token: s.freshToken(c), Group: g, Instance: int32(s.ch.intn(3)),
			Attributes: s.attrs(g)}
		s.joined[Recipient{Client: c, Token: r.Token}] = wire.Provider{Instance: r.Instance, Node: c.Node}
	case 10:
		r.Op = wire.OpLeave
		r.LeaveCode = uint32(s.ch.intn(5))
	case 11:
		if s.ch.intn(3) == 0 {
			r.Op = wire.OpGoodbye
		} else {
			r.Op = wire.OpQuit
		}
	case 12:
		r.Op = wire.OpExpel
		for range s.ch.intn(2) + 1 {
			p := wire.Provider{Instance: int32(s.ch.intn(3)), Node: int32(s.ch.intn(3)) + 1}
			if !slices.Contains(r.ExpelList, p) {
				r.ExpelList = append(r.ExpelList, p)
			}
		}
		r.DeactivatePhase = uint32(s.ch.intn(3))
		if r.NumPhases == wire.OnePhase && r.DeactivatePhase > 1 {
			r.DeactivatePhase = 1
		}
	case 13:
		r.Op = wire.OpChangeState
		r.State = []byte(fmt.Sprintf("s%d", s.ch.intn(100)))
	case 14:
		r.Op = wire.OpSendMessage
		r.Message = []byte("m")
	case 15:
		r.Op = wire.OpChangeAttributes
		// Attribute changes keep the name of the token's group, if any.
		if cl := s.e.clients[c]; cl != nil {
			if t := cl.tokens[r.Token]; t != nil {
				g = t.groupName()
			}
		}
		r.Attributes = s.attrs(g)
	case 16, 17, 18:
		r.Op = wire.OpVote
		r.NumPhases = 0
		r.Vote = []wire.Vote{wire.VoteApprove, wire.VoteApprove, wire.VoteContinue, wire.VoteReject}[s.ch.intn(4)]
		r.DefaultVote = []wire.Vote{wire.NullVote, wire.VoteApprove, wire.VoteReject}[s.ch.intn(3)]
		if s.ch.intn(3) == 0 {
			r.State = []byte(fmt.Sprintf("v%d", s.ch.intn(100)))
		}
		if s.ch.intn(3) == 0 {
			r.Message = []byte("vm")
		}
	case 19:
		if s.ch.intn(3) == 0 {
			r.Op = wire.OpUnsubscribe
			break
		}
		r = &wire.Request{Op: wire.OpSubscribe, Token: s.freshToken(c), Group: g,
			Control: wire.SubscriptionControl(s.ch.intn(15) + 1)}
	}
	return r
}

// step applies ev and checks every invariant.
func (s *sim) step(ev Event) error {
	s.log = append(s.log, describe(ev))
	effs := s.e.Step(ev)
	for _, eff := range effs {
		if err := s.checkEffect(eff); err != nil {
			return err
		}
	}
	if err := s.checkAccess(ev); err != nil {
		return err
	}
	return s.checkState()
}

// checkAccess checks the access rules after ev: a group created by ev
// (only a join creates one) is owned by the joining client's uid, and every
// provider of every group is root, or (outside the reserved groups) of the
// owner's uid or granted the group by its node.
func (s *sim) checkAccess(ev Event) error {
	for name, g := range s.e.groups {
		if g.system || s.groups[g] {
			continue
		}
		s.groups[g] = true
		c := s.e.clients[ev.Client]
		if ev.Kind != EventRequest || ev.Request.Op != wire.OpJoin || ev.Request.Group != name || c == nil {
			return fmt.Errorf("group %s appeared without a join of it", name)
		}
		if g.owner != c.cred.Uid {
			return fmt.Errorf("group %s: owner %d, but uid %d created it", name, g.owner, c.cred.Uid)
		}
	}
	for name, g := range s.e.groups {
		for _, m := range append(slices.Clone(g.members), g.pendingJoiners()...) {
			if m.client == nil {
				continue // a node of HostMembership
			}
			uid := m.client.cred.Uid
			granted := s.granted[Recipient{Client: m.client.id, Token: m.token}]
			switch {
			case uid == 0:
			case wire.ReservedGroup(name):
				return fmt.Errorf("group %s: uid %d provides in a reserved group", name, uid)
			case uid != g.owner && !granted:
				return fmt.Errorf("group %s (owner %d): uid %d provides without a grant", name, g.owner, uid)
			}
		}
	}
	return nil
}

func describe(ev Event) string {
	switch ev.Kind {
	case EventRequest:
		r := ev.Request
		return fmt.Sprintf("t=%d request c%d/%d %s tok=%d group=%q vote=%d phases=%d", (ev.Time-t0)/1e9,
			ev.Client.Node, ev.Client.Conn, r.Op, r.Token, r.Group, r.Vote, r.NumPhases)
	case EventScriptDone:
		return fmt.Sprintf("script %d %d", ev.Script.ID, ev.Script.Result)
	}
	return fmt.Sprintf("t=%d kind=%d c%d/%d node=%d", (ev.Time-t0)/1e9, ev.Kind, ev.Client.Node, ev.Client.Conn, ev.Node)
}

func (s *sim) live(r Recipient) bool {
	c := s.e.clients[r.Client]
	if c == nil {
		return false
	}
	t := c.tokens[r.Token]
	return t != nil && t.state != tokEnded && t.state != tokDenied
}

func (s *sim) checkEffect(eff Effect) error {
	if eff.Kind == EffectRunScript {
		if s.seen[eff.Script.ID] {
			return fmt.Errorf("ScriptRun ID %d emitted twice", eff.Script.ID)
		}
		s.seen[eff.Script.ID] = true
		s.scripts = append(s.scripts, eff.Script.ID)
		return nil
	}
	n := eff.Note
	if len(eff.To) == 0 {
		return fmt.Errorf("notification %v with no recipient", n.Type)
	}
	for _, r := range eff.To {
		if s.e.clients[r.Client] == nil {
			return fmt.Errorf("notification %v to client %v, which is gone", n.Type, r.Client)
		}
	}
	g := n.Group
	switch n.Type {
	case wire.NPhaseNotification, wire.RejectedNotification:
		if n.Protocol == wire.ExpelProtocol {
			for _, r := range eff.To {
				if p, ok := s.joined[r]; ok && slices.Contains(n.Proposal.Changing, p) {
					return fmt.Errorf("expelled provider %v was sent %v of its expulsion", p, n.Type)
				}
			}
		}
	}
	switch n.Type {
	case wire.NPhaseNotification:
		if o := s.open[g]; o != nil {
			same := o.kind == n.Protocol && n.Proposal.Phase == o.phase+1
			if !same && !s.allGone(o.to) {
				return fmt.Errorf("group %s: %v phase %d while %v phase %d runs", g, n.Protocol,
					n.Proposal.Phase, o.kind, o.phase)
			}
		} else if n.Proposal.Phase != 1 {
			return fmt.Errorf("group %s: n-phase notification of phase %d without phase %d", g, n.Proposal.Phase, n.Proposal.Phase-1)
		}
		s.open[g] = &openProto{kind: n.Protocol, phase: n.Proposal.Phase, to: eff.To}
	case wire.ApprovedNotification, wire.RejectedNotification:
		if o := s.open[g]; o != nil {
			ends := o.kind == n.Protocol && n.Proposal.Phase == o.phase
			if !ends && !s.allGone(o.to) {
				return fmt.Errorf("group %s: %v of %v ended while %v phase %d runs", g, n.Type, n.Protocol, o.kind, o.phase)
			}
			delete(s.open, g)
		}
	}
	if n.Type == wire.ApprovedNotification {
		pr := n.Proposal
		if pr.WhatsChanged&wire.ChangeStateValue != 0 && !bytes.Equal(pr.CurrentState, pr.ProposedState) {
			return fmt.Errorf("group %s: approved state change to %q, but current state is %q", g, pr.ProposedState, pr.CurrentState)
		}
		seq := append(s.approved[g], n)
		s.approved[g] = seq
		idx := len(seq) - 1
		for _, r := range eff.To {
			if last, ok := s.lastIdx[r]; ok && s.lastGroup[r] == g {
				if last != idx-1 {
					return fmt.Errorf("group %s: %v received approved #%d after #%d, missing changes in between", g, r, idx, last)
				}
				// The state a provider sees changes only by a state change.
				if was := seq[last].Proposal.CurrentState; pr.WhatsChanged&wire.ChangeStateValue == 0 && !bytes.Equal(was, pr.CurrentState) {
					return fmt.Errorf("group %s: %v saw the state go from %q to %q without a state change", g, r, was, pr.CurrentState)
				}
			}
			s.lastIdx[r] = idx
			s.lastGroup[r] = g
			if p, ok := s.joined[r]; ok && !slices.Contains(n.Proposal.Current, p) && !slices.Contains(n.Proposal.Changing, p) {
				return fmt.Errorf("group %s: %v got an approval whose membership %v omits it", g, p, n.Proposal.Current)
			}
		}
	}
	return nil
}

func (s *sim) allGone(to []Recipient) bool {
	for _, r := range to {
		if s.live(r) {
			return false
		}
	}
	return true
}

// checkState compares what the providers were told with the engine's view,
// and checks the engine's internal consistency.
func (s *sim) checkState() error {
	for name, seq := range s.approved {
		d, ok := s.e.Group(name)
		if !ok || len(seq) == 0 {
			continue
		}
		last := seq[len(seq)-1].Proposal.CurrentState
		if !bytes.Equal(d.State, last) {
			return fmt.Errorf("group %s: state %q, last approved %q", name, d.State, last)
		}
	}
	return s.e.checkInvariants()
}

// checkInvariants verifies the engine's internal consistency.
func (e *Engine) checkInvariants() error {
	for name, g := range e.groups {
		seen := map[wire.Provider]bool{}
		for _, m := range g.members {
			if seen[m.p] {
				return fmt.Errorf("group %s: provider %v twice", name, m.p)
			}
			seen[m.p] = true
		}
		if g.running == nil {
			if len(g.queue) > 0 {
				return fmt.Errorf("group %s: %d queued changes and no running protocol", name, len(g.queue))
			}
			if !g.system && len(g.members) == 0 {
				return fmt.Errorf("group %s: no providers but not dissolved", name)
			}
			for _, m := range g.members {
				if m.failed {
					return fmt.Errorf("group %s: failed provider %v not removed", name, m.p)
				}
			}
		} else {
			for _, m := range g.running.participants {
				if !slices.Contains(g.members, m) {
					return fmt.Errorf("group %s: participant %v not a member", name, m.p)
				}
			}
		}
	}
	for name, g := range e.groups {
		if src := g.source; src != nil {
			if e.groups[src.name] != src || !slices.Contains(src.targets, g) {
				return fmt.Errorf("group %s: source %s does not list it as a target", name, src.name)
			}
			if src.attrs.SourceGroupName != "" {
				return fmt.Errorf("group %s: source %s is itself a target", name, src.name)
			}
		}
		for _, t := range g.targets {
			if t.source != g || e.groups[t.name] != t {
				return fmt.Errorf("group %s: target %s does not name it as its source", name, t.name)
			}
		}
	}
	for id, c := range e.clients {
		for t, r := range c.tokens {
			switch r.state {
			case tokProvider:
				if e.groups[r.group.name] != r.group || !slices.Contains(r.group.members, r.member) || r.member.failed {
					return fmt.Errorf("client %v token %d: live provider not in its group", id, t)
				}
			case tokSubscriber:
				if e.groups[r.group.name] != r.group || !slices.Contains(r.group.subs, r.sub) {
					return fmt.Errorf("client %v token %d: live subscription not in its group", id, t)
				}
			case tokDenied:
				if r.group != nil || r.member != nil || r.sub != nil || r.denied == "" {
					return fmt.Errorf("client %v token %d: a denied token names a group, provider or subscription", id, t)
				}
			}
		}
	}
	if d, ok := e.NextDeadline(); ok && d <= 0 {
		return fmt.Errorf("deadline %d", d)
	}
	return nil
}

func TestEngineProperties(t *testing.T) {
	for seed := range uint64(300) {
		s := newSim(randChooser{rand.New(rand.NewPCG(seed, 7))})
		for i := range 400 {
			ev := s.event()
			err := s.step(ev)
			if err != nil {
				tail := s.log[max(0, len(s.log)-25):]
				require.NoError(t, err, "seed %d step %d: invariant must hold; last events:\n%s", seed, i,
					fmt.Sprint(tail))
			}
		}
	}
}

// TestEnginePropertiesExercise makes sure the random runs reach the
// interesting paths, so that the property test cannot pass vacuously.
func TestEnginePropertiesExercise(t *testing.T) {
	counts := map[wire.NotificationType]int{}
	protos := map[wire.RequestType]int{}
	codes := map[wire.Code]int{}
	scripts, grantedJoins := 0, 0
	for seed := range uint64(50) {
		s := newSim(randChooser{rand.New(rand.NewPCG(seed, 7))})
		for range 400 {
			for _, eff := range s.e.Step(s.event()) {
				if eff.Kind == EffectRunScript {
					scripts++
					s.scripts = append(s.scripts, eff.Script.ID)
					continue
				}
				counts[eff.Note.Type]++
				if eff.Note.Type == wire.ApprovedNotification {
					protos[eff.Note.Protocol]++
				}
				if eff.Note.Type == wire.DelayedErrorNotification {
					codes[eff.Note.Code]++
				}
			}
		}
	}
	for _, nt := range []wire.NotificationType{wire.NPhaseNotification, wire.ApprovedNotification,
		wire.RejectedNotification, wire.AnnouncementNotification, wire.SubscriptionNotification,
		wire.DelayedErrorNotification} {
		require.Positive(t, counts[nt], "random runs should produce notification type %d", nt)
	}
	for _, k := range []wire.RequestType{wire.JoinProtocol, wire.FailureLeaveProtocol, wire.LeaveProtocol,
		wire.ExpelProtocol, wire.StateValueChangeProtocol, wire.ProviderMessageProtocol, wire.GroupAttributeChangeProtocol,
		wire.SourceStateReflectionProtocol} {
		require.Positive(t, protos[k], "random runs should approve protocols of kind %d", k)
	}
	require.Positive(t, scripts, "random runs should start deactivate scripts")
	require.Positive(t, codes[wire.PermissionDenied], "random runs should refuse joins for permission")
	for seed := range uint64(50) {
		s := newSim(randChooser{rand.New(rand.NewPCG(seed, 7))})
		for range 400 {
			require.NoError(t, s.step(s.event()))
		}
		for _, g := range s.e.groups {
			for _, m := range g.members {
				if m.client != nil && m.client.cred.Uid != 0 && m.client.cred.Uid != g.owner {
					grantedJoins++
				}
			}
		}
	}
	require.Positive(t, grantedJoins, "random runs should admit granted providers of another uid's group")
}

func FuzzEngine(f *testing.F) {
	f.Add([]byte{0, 0, 1, 0, 7, 0, 0, 0, 7, 0, 0, 0, 16, 1, 0, 0})
	f.Add(bytes.Repeat([]byte{3, 9, 17, 0, 12, 5}, 40))
	f.Add([]byte("the quick brown fox jumps over the lazy dog, again and again and again"))
	f.Fuzz(func(t *testing.T, data []byte) {
		ch := &byteChooser{b: data}
		s := newSim(ch)
		for i := 0; !ch.done() && i < 2000; i++ {
			if err := s.step(s.event()); err != nil {
				t.Fatalf("step %d: invariant broken: %v\nevents:\n%v", i, err, s.log)
			}
		}
	})
}

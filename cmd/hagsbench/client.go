package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/openhags/hags/gsapi"
)

// The client role: hagsbench re-executes itself as "hagsbench client" to
// get real client processes. A client reads commands on its standard input
// and reports timestamped events on its standard output, one per line; the
// C programs in bench/ (libcpg, libha_gs) speak the same protocol, so the
// coordinator drives every system alike. Timestamps are CLOCK_MONOTONIC in
// nanoseconds, which every process of the machine shares (network
// namespaces do not change it).
//
// Commands:
//
//	join SLOT GROUP INSTANCE   slot SLOT joins GROUP (one-phase membership, no batching)
//	goodbye SLOT GROUP         slot SLOT leaves GROUP at once (ha_gs_goodbye / cpg_leave)
//	propose SLOT GROUP PHASES  a state change: PHASES 0 = one-phase, k >= 1 = n-phase of k phases
//	loop MS SLOT GROUP...      closed loop of one-phase protocols in each GROUP for MS milliseconds
//	quit                       end every session and exit
//
// Events:
//
//	ready PID
//	call SLOT GROUP T          just before the join or propose call
//	mem SLOT GROUP KIND COUNT T  a membership change seen by SLOT: KIND is self (its own join),
//	                           join, left (said goodbye or left) or failed (process or node died);
//	                           COUNT is the group's size after it
//	state SLOT GROUP COUNT T   an approved state change seen by SLOT
//	count N NS                 the loop completed N protocols in NS nanoseconds
//	lost SLOT T                the session of SLOT lost its daemon
//	err TEXT                   a command failed
//
// A slot is one gsapi session (one ha_gs_init); a slot may join many
// groups, and many slots of one process may join the same group with
// different instance numbers.

// monoNow returns CLOCK_MONOTONIC in nanoseconds, the clock every process
// of the benchmark reports.
func monoNow() int64 {
	var ts unix.Timespec
	_ = unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	return ts.Nano()
}

// loopMessage is the provider message of the throughput loop.
var loopMessage = []byte("hagsbench-loop-1")

// benchClient is one client process: its sessions and its output.
type benchClient struct {
	ctx    context.Context
	socket string

	outMu sync.Mutex
	out   *bufio.Writer

	mu    sync.Mutex
	slots map[int]*slot
	loop  *loopRun
}

// slot is one session and its memberships.
type slot struct {
	id     int
	gs     *gsapi.Client
	tokens map[string]gsapi.Token    // group → token of the current membership
	self   map[string]gsapi.Provider // group → this slot's provider in it
}

// loopRun is the state of a running throughput loop.
type loopRun struct {
	deadline int64
	start    int64
	slot     *slot
	active   map[gsapi.Token]bool // proposer tokens still looping
	count    int64
}

// runClient is the client role's main loop.
func runClient(ctx context.Context, socket string, in io.Reader, out io.Writer) error {
	c := &benchClient{ctx: ctx, socket: socket, out: bufio.NewWriter(out), slots: map[int]*slot{}}
	defer c.closeAll()
	c.emit("ready %d", os.Getpid())
	sc := bufio.NewScanner(in)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		if f[0] == "quit" {
			return nil
		}
		if err := c.command(f); err != nil {
			c.emit("err %s: %v", f[0], oneLine(err))
		}
	}
	return sc.Err()
}

func oneLine(err error) string { return strings.ReplaceAll(err.Error(), "\n", " ") }

func (c *benchClient) emit(format string, args ...any) {
	c.outMu.Lock()
	defer c.outMu.Unlock()
	fmt.Fprintf(c.out, format+"\n", args...)
	_ = c.out.Flush()
}

func (c *benchClient) closeAll() {
	c.mu.Lock()
	slots := c.slots
	c.slots = map[int]*slot{}
	c.mu.Unlock()
	for _, s := range slots {
		_ = s.gs.Close()
	}
}

// command runs one command line.
func (c *benchClient) command(f []string) error {
	nums := func(idx ...int) ([]int, error) {
		var out []int
		for _, i := range idx {
			if i >= len(f) {
				return nil, fmt.Errorf("want %d arguments", i)
			}
			v, err := strconv.Atoi(f[i])
			if err != nil {
				return nil, fmt.Errorf("argument %d: %w", i, err)
			}
			out = append(out, v)
		}
		return out, nil
	}
	switch f[0] {
	case "join":
		v, err := nums(1, 3)
		if err != nil {
			return err
		}
		return c.join(v[0], f[2], int32(v[1]))
	case "goodbye":
		v, err := nums(1)
		if err != nil {
			return err
		}
		if len(f) < 3 {
			return errors.New("goodbye: no group")
		}
		return c.goodbye(v[0], f[2])
	case "propose":
		v, err := nums(1, 3)
		if err != nil {
			return err
		}
		return c.propose(v[0], f[2], v[1])
	case "loop":
		v, err := nums(1, 2)
		if err != nil {
			return err
		}
		if len(f) < 4 {
			return errors.New("loop: no group")
		}
		return c.startLoop(v[0], v[1], f[3:])
	}
	return fmt.Errorf("unknown command %q", f[0])
}

// session returns slot id, dialing its session the first time.
func (c *benchClient) session(id int) (*slot, error) {
	c.mu.Lock()
	s := c.slots[id]
	c.mu.Unlock()
	if s != nil {
		return s, nil
	}
	ctx, cancel := context.WithTimeout(c.ctx, 10*time.Second)
	defer cancel()
	gs, err := gsapi.Dial(ctx, gsapi.WithSocket(c.socket), gsapi.WithProgram("hagsbench"))
	if err != nil {
		return nil, fmt.Errorf("dial: %w", err)
	}
	s = &slot{id: id, gs: gs, tokens: map[string]gsapi.Token{}, self: map[string]gsapi.Provider{}}
	c.mu.Lock()
	c.slots[id] = s
	c.mu.Unlock()
	go func() {
		if err := gs.Run(c.ctx); err != nil && c.ctx.Err() == nil && !errors.Is(err, gsapi.ErrNoInit) {
			c.emit("lost %d %d", id, monoNow())
		}
	}()
	return s, nil
}

func (c *benchClient) join(id int, group string, inst int32) error {
	s, err := c.session(id)
	if err != nil {
		return err
	}
	attrs := gsapi.Attributes{
		GroupName: group, NumPhases: gsapi.OnePhase, DefaultVote: gsapi.VoteApprove,
		BatchControl: gsapi.NoBatching,
	}
	cbs := gsapi.ProviderCallbacks{
		NPhase:   func(n *gsapi.Notification) { c.onNPhase(s, n) },
		Approved: func(n *gsapi.Notification) { c.onApproved(s, n) },
		Rejected: func(n *gsapi.Notification) { c.emit("err rejected %d %s %d", s.id, n.Group, n.Protocol) },
	}
	// The approval may arrive before Join returns: who we are in the
	// group is known first.
	c.mu.Lock()
	s.self[group] = gsapi.Provider{Instance: inst, Node: s.gs.Node()}
	c.mu.Unlock()
	c.emit("call %d %s %d", id, group, monoNow())
	tok, err := s.gs.Join(gsapi.JoinRequest{Attributes: attrs, Instance: inst, Callbacks: cbs})
	if err != nil {
		return err
	}
	c.mu.Lock()
	s.tokens[group] = tok
	c.mu.Unlock()
	return nil
}

func (c *benchClient) token(id int, group string) (*slot, gsapi.Token, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.slots[id]
	if s == nil {
		return nil, 0, fmt.Errorf("slot %d has no session", id)
	}
	tok, ok := s.tokens[group]
	if !ok {
		return nil, 0, fmt.Errorf("slot %d is not in %s", id, group)
	}
	return s, tok, nil
}

func (c *benchClient) goodbye(id int, group string) error {
	s, tok, err := c.token(id, group)
	if err != nil {
		return err
	}
	c.mu.Lock()
	delete(s.tokens, group)
	c.mu.Unlock()
	return s.gs.Goodbye(tok)
}

func (c *benchClient) propose(id int, group string, phases int) error {
	s, tok, err := c.token(id, group)
	if err != nil {
		return err
	}
	req := gsapi.StateChangeRequest{NumPhases: gsapi.OnePhase, State: []byte("P=0")}
	if phases > 0 {
		req.NumPhases = gsapi.NPhase
		req.State = []byte("P=" + strconv.Itoa(phases))
	}
	c.emit("call %d %s %d", id, group, monoNow())
	return s.gs.ChangeStateValue(tok, req)
}

// onNPhase votes continue until the phase the proposal asks for ("P=k" in
// its proposed state value), then approve.
func (c *benchClient) onNPhase(s *slot, n *gsapi.Notification) {
	vote := gsapi.VoteApprove
	if p := n.Proposal; p != nil && n.Protocol == gsapi.StateValueChangeProtocol {
		if k, err := strconv.Atoi(strings.TrimPrefix(string(p.ProposedState), "P=")); err == nil && int(p.Phase) < k {
			vote = gsapi.VoteContinue
		}
	}
	if err := s.gs.Vote(n.Token, gsapi.VoteRequest{Vote: vote}); err != nil {
		c.emit("err vote %d %s: %v", s.id, n.Group, oneLine(err))
	}
}

// onApproved reports membership and state changes, and drives the loop.
func (c *benchClient) onApproved(s *slot, n *gsapi.Notification) {
	t := monoNow()
	count := 0
	if n.Proposal != nil {
		count = len(n.Proposal.Current)
	}
	switch n.Protocol {
	case gsapi.JoinProtocol:
		kind := "join"
		c.mu.Lock()
		self, ok := s.self[n.Group]
		c.mu.Unlock()
		if ok && n.Proposal != nil && contains(n.Proposal.Changing, self) {
			kind = "self"
		}
		c.emit("mem %d %s %s %d %d", s.id, n.Group, kind, count, t)
	case gsapi.FailureLeaveProtocol, gsapi.LeaveProtocol, gsapi.ExpelProtocol:
		kind := "left"
		if n.Proposal != nil {
			for _, li := range n.Proposal.LeaveInfo {
				if li.Reason == gsapi.ProviderProcessDied || li.Reason == gsapi.ProviderNodeDied {
					kind = "failed"
				}
			}
		}
		c.emit("mem %d %s %s %d %d", s.id, n.Group, kind, count, t)
	case gsapi.StateValueChangeProtocol:
		c.emit("state %d %s %d %d", s.id, n.Group, count, t)
	case gsapi.ProviderMessageProtocol:
		c.loopStep(s, n.Token, t)
	}
}

func contains(list []gsapi.Provider, p gsapi.Provider) bool {
	for _, q := range list {
		if q == p {
			return true
		}
	}
	return false
}

// startLoop starts a closed loop in each group: the slot proposes a
// one-phase provider message, and proposes the next when its approval
// arrives, until ms milliseconds have passed.
func (c *benchClient) startLoop(ms, id int, groups []string) error {
	c.mu.Lock()
	if c.loop != nil {
		c.mu.Unlock()
		return errors.New("a loop is running")
	}
	s := c.slots[id]
	if s == nil {
		c.mu.Unlock()
		return fmt.Errorf("slot %d has no session", id)
	}
	now := monoNow()
	l := &loopRun{deadline: now + int64(ms)*int64(time.Millisecond), start: now, slot: s, active: map[gsapi.Token]bool{}}
	var toks []gsapi.Token
	for _, g := range groups {
		tok, ok := s.tokens[g]
		if !ok {
			c.mu.Unlock()
			return fmt.Errorf("slot %d is not in %s", id, g)
		}
		l.active[tok] = true
		toks = append(toks, tok)
	}
	c.loop = l
	c.mu.Unlock()
	for _, tok := range toks {
		if err := s.gs.SendMessage(tok, gsapi.MessageRequest{NumPhases: gsapi.OnePhase, Message: loopMessage}); err != nil {
			return err
		}
	}
	return nil
}

// loopStep counts an approved message and sends the next one, or ends the
// loop when the time is up and the last group has stopped.
func (c *benchClient) loopStep(s *slot, tok gsapi.Token, t int64) {
	c.mu.Lock()
	l := c.loop
	if l == nil || l.slot != s || !l.active[tok] {
		c.mu.Unlock()
		return
	}
	l.count++
	if t < l.deadline {
		c.mu.Unlock()
		if err := s.gs.SendMessage(tok, gsapi.MessageRequest{NumPhases: gsapi.OnePhase, Message: loopMessage}); err != nil {
			c.emit("err loop %v", oneLine(err))
		}
		return
	}
	delete(l.active, tok)
	done := len(l.active) == 0
	if done {
		c.loop = nil
	}
	c.mu.Unlock()
	if done {
		c.emit("count %d %d", l.count, t-l.start)
	}
}

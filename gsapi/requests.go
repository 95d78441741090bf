package gsapi

import (
	"errors"

	"github.com/openhags/hags/internal/wire"
)

// ProviderCallbacks are a provider's callbacks, all optional. A nil func
// drops that kind of notification for this provider, as a NULL callback
// does in C; a provider without an NPhase callback must still vote, or the
// time limit and the default vote apply. Callbacks run inside Dispatch.
type ProviderCallbacks struct {
	NPhase       func(*Notification) // a phase of an n-phase protocol awaits this provider's vote
	Approved     func(*Notification) // a protocol was approved
	Rejected     func(*Notification) // a protocol was rejected
	Announcement func(*Notification) // providers were tardy or failed a responsiveness check
	Merge        func(*Notification) // never invoked: hags never splits a group
}

// JoinRequest asks to join Attributes.GroupName as a provider
// (ha_gs_join_request_t). The first join creates the group with these
// attributes; later joins must match them.
type JoinRequest struct {
	Attributes Attributes
	Instance   int32  // unique per node per group, 0..32767
	LocalName  string // for hagsctl, at most MaxLocalNameLength bytes
	Callbacks  ProviderCallbacks
}

// LeaveRequest proposes that the provider leave its group.
type LeaveRequest struct {
	NumPhases NumPhases
	TimeLimit uint32 // seconds per phase; 0 = none
	LeaveCode uint32 // reported to the others in LeaveInfo
}

// ExpelRequest proposes to expel providers of the group
// (ha_gs_expel_request_t). DeactivatePhase 0 runs no script; k >= 1 runs
// each expelled provider's deactivate script at the start of phase k, with
// TimeLimit as its limit and Flag (nil: none; truncated to
// MaxDeactivateFlagLength-1 bytes) as an argument.
type ExpelRequest struct {
	NumPhases       NumPhases
	TimeLimit       uint32
	List            []Provider
	DeactivatePhase uint32
	Flag            *string
}

// StateChangeRequest proposes a new group state value. State must not be
// nil (an empty, non-nil slice is an empty state value).
type StateChangeRequest struct {
	NumPhases NumPhases
	TimeLimit uint32
	State     []byte
}

// MessageRequest broadcasts a provider message through a protocol. Message
// must not be nil.
type MessageRequest struct {
	NumPhases NumPhases
	TimeLimit uint32
	Message   []byte
}

// AttributesRequest proposes new group attributes.
type AttributesRequest struct {
	NumPhases  NumPhases
	TimeLimit  uint32
	Attributes Attributes
}

// VoteRequest is a provider's vote in the current phase. State and Message,
// when not nil, propose a new state value and a provider message that the
// next notification of the protocol carries. Default, when not NullVote,
// changes this provider's default vote for the rest of the protocol.
type VoteRequest struct {
	Vote    Vote
	State   []byte
	Message []byte
	Default Vote
}

// SubscribeRequest asks to watch a group. Callback receives the
// subscription notifications; nil drops them.
type SubscribeRequest struct {
	Group    string
	Control  SubscriptionControl
	Callback func(*Notification)
}

// member is the library's view of one token, updated when frames arrive.
type member struct {
	subscriber  bool
	group       string
	self        Provider // providers: this provider's identity
	cbs         ProviderCallbacks
	subCb       func(*Notification)
	joined      bool // the approved join arrived
	ended       bool // membership or subscription over: NotAMember
	denied      bool // the join was refused with PermissionDenied (ended too)
	outstanding bool // a proposal was sent and has not concluded
	voteDue     bool // an n-phase notification awaits this token's vote
}

// Join asks to join a group as a provider (ha_gs_join) and returns the new
// provider's token at once. The approved (or rejected) notification says
// whether it is in.
//
// Sync errors: ErrNoInit, ErrNotOK, ErrBadParameter, ErrNameTooLong,
// ErrBadGroupAttributes, ErrInvalidSourceGroup (the group names itself as
// its source), ErrPermissionDenied (a group named hags.* and the process was
// not root when it connected). Async (delayed error): ErrPermissionDenied
// (another uid owns the group and this node does not grant it;
// docs/access-control.md), ErrBadGroupAttributes,
// ErrDuplicateInstanceNumber, ErrInvalidSourceGroup, ErrNoSourceGroupProvider,
// ErrInvalidGroup (HostMembership), ErrNoMemory.
func (c *Client) Join(req JoinRequest) (Token, error) {
	if !c.dialed() {
		return 0, newError(wire.NoInit, "join", 0)
	}
	attrs := req.Attributes
	r := &wire.Request{
		Op:         wire.OpJoin,
		Group:      attrs.GroupName,
		Attributes: &attrs,
		Instance:   req.Instance,
		LocalName:  req.LocalName,
	}
	return c.open("join", r, func() *member {
		return &member{
			group: attrs.GroupName,
			self:  Provider{Instance: req.Instance, Node: c.welcome.Node},
			cbs:   req.Callbacks,
		}
	})
}

// open sends a request that creates a token (a join or a subscription):
// the client picks the token, so the request goes out at once, and
// records the member made by newMember (called under c.mu) under it.
func (c *Client) open(what string, r *wire.Request, newMember func() *member) (Token, error) {
	c.mu.Lock()
	if err := c.usable(what, 0); err != nil {
		c.mu.Unlock()
		return 0, err
	}
	tok := c.nextTok
	r.Token = int32(tok)
	if code := r.Check(); code != wire.OK {
		c.mu.Unlock()
		return 0, newError(code, what, 0)
	}
	if r.Op == wire.OpJoin && wire.ReservedGroup(r.Group) && !c.root {
		// The daemon would refuse it too; only root provides in them.
		c.mu.Unlock()
		return 0, newError(wire.PermissionDenied, what, 0)
	}
	c.nextTok++
	c.members[tok] = newMember()
	c.mu.Unlock()
	return tok, c.send(what, tok, r)
}

// Subscribe asks to watch a group (ha_gs_subscribe) and returns the
// subscription's token at once.
//
// Sync errors: ErrNoInit, ErrNotOK, ErrBadParameter, ErrNameTooLong.
// Async: ErrUnknownGroup.
func (c *Client) Subscribe(req SubscribeRequest) (Token, error) {
	if !c.dialed() {
		return 0, newError(wire.NoInit, "subscribe", 0)
	}
	r := &wire.Request{Op: wire.OpSubscribe, Group: req.Group, Control: req.Control}
	return c.open("subscribe", r, func() *member {
		return &member{subscriber: true, group: req.Group, subCb: req.Callback}
	})
}

// Unsubscribe ends a subscription (ha_gs_unsubscribe); no notification for
// it is delivered afterwards.
//
// Sync errors: ErrNoInit, ErrNotOK, ErrBadMemberToken (not a subscription
// token, or one whose subscription is over: unsubscribed, refused, or its
// group dissolved). As IBM's manual gives, no other code.
func (c *Client) Unsubscribe(tok Token) error {
	if !c.dialed() {
		return newError(wire.NoInit, "unsubscribe", tok)
	}
	r := &wire.Request{Op: wire.OpUnsubscribe, Token: int32(tok)}
	c.mu.Lock()
	m, err := c.lookup("unsubscribe", tok, true)
	if errors.Is(err, ErrNotAMember) {
		err = newError(wire.BadMemberToken, "unsubscribe", tok)
	}
	if err != nil {
		c.mu.Unlock()
		return err
	}
	m.ended = true
	c.mu.Unlock()
	return c.send("unsubscribe", tok, r)
}

// Goodbye ends the provider's membership at once (ha_gs_goodbye): the
// others see it leave with ProviderSaidGoodbye, and no notification for it
// is delivered afterwards. For a join whose approval has not arrived yet
// the library cannot know the outcome, so the daemon decides and the token
// stays usable until it does.
//
// Sync errors: ErrNoInit, ErrNotOK, ErrBadMemberToken, ErrNotAMember, ErrPermissionDenied.
// Async: ErrNotAMember, ErrPermissionDenied.
func (c *Client) Goodbye(tok Token) error {
	if !c.dialed() {
		return newError(wire.NoInit, "goodbye", tok)
	}
	r := &wire.Request{Op: wire.OpGoodbye, Token: int32(tok)}
	c.mu.Lock()
	m, err := c.lookup("goodbye", tok, false)
	if err != nil {
		c.mu.Unlock()
		return err
	}
	m.ended = m.joined
	c.mu.Unlock()
	return c.send("goodbye", tok, r)
}

// Leave proposes that the provider leave its group (ha_gs_leave). The
// membership ends when the approved notification arrives.
//
// Sync errors: ErrNoInit, ErrNotOK, ErrBadMemberToken, ErrNotAMember, ErrPermissionDenied,
// ErrBadParameter, ErrCollide. Async: ErrCollide, ErrNotAMember, ErrPermissionDenied.
func (c *Client) Leave(tok Token, req LeaveRequest) error {
	return c.propose("leave", tok, &wire.Request{
		Op: wire.OpLeave, NumPhases: req.NumPhases, TimeLimit: req.TimeLimit, LeaveCode: req.LeaveCode,
	})
}

// Expel proposes to expel providers from the group (ha_gs_expel).
//
// Sync errors: ErrNoInit, ErrNotOK, ErrBadMemberToken, ErrNotAMember, ErrPermissionDenied,
// ErrBadParameter (no targets, bad phase count), ErrProviderAppearsTwice,
// ErrInvalidDeactivatePhase, ErrCollide. Async: ErrUnknownProvider,
// ErrCollide, ErrNotAMember, ErrPermissionDenied.
func (c *Client) Expel(tok Token, req ExpelRequest) error {
	return c.propose("expel", tok, &wire.Request{
		Op: wire.OpExpel, NumPhases: req.NumPhases, TimeLimit: req.TimeLimit,
		ExpelList: req.List, DeactivatePhase: req.DeactivatePhase, DeactivateFlag: req.Flag,
	})
}

// ChangeStateValue proposes a new state value (ha_gs_change_state_value).
//
// Sync errors: ErrNoInit, ErrNotOK, ErrBadMemberToken, ErrNotAMember, ErrPermissionDenied,
// ErrBadParameter, ErrStateValueTooLong, ErrCollide. Async: ErrCollide,
// ErrNotAMember, ErrPermissionDenied.
func (c *Client) ChangeStateValue(tok Token, req StateChangeRequest) error {
	return c.propose("change-state", tok, &wire.Request{
		Op: wire.OpChangeState, NumPhases: req.NumPhases, TimeLimit: req.TimeLimit, State: req.State,
	})
}

// SendMessage broadcasts a provider message through a protocol
// (ha_gs_send_message).
//
// Sync errors: ErrNoInit, ErrNotOK, ErrBadMemberToken, ErrNotAMember, ErrPermissionDenied,
// ErrBadParameter, ErrMessageTooLong, ErrCollide. Async: ErrCollide,
// ErrNotAMember, ErrPermissionDenied.
func (c *Client) SendMessage(tok Token, req MessageRequest) error {
	return c.propose("send-message", tok, &wire.Request{
		Op: wire.OpSendMessage, NumPhases: req.NumPhases, TimeLimit: req.TimeLimit, Message: req.Message,
	})
}

// ChangeAttributes proposes new group attributes (ha_gs_change_attributes).
//
// Sync errors: ErrNoInit, ErrNotOK, ErrBadMemberToken, ErrNotAMember, ErrPermissionDenied,
// ErrBadParameter, ErrBadGroupAttributes, ErrNameTooLong, ErrCollide.
// Async: ErrBadGroupAttributes, ErrCollide, ErrNotAMember, ErrPermissionDenied.
func (c *Client) ChangeAttributes(tok Token, req AttributesRequest) error {
	attrs := req.Attributes
	return c.propose("change-attributes", tok, &wire.Request{
		Op: wire.OpChangeAttributes, NumPhases: req.NumPhases, TimeLimit: req.TimeLimit, Attributes: &attrs,
	})
}

// Vote answers the n-phase notification that awaits this provider's vote
// (ha_gs_vote). It may be called from inside a callback.
//
// Sync errors: ErrNoInit, ErrNotOK, ErrBadMemberToken, ErrNotAMember, ErrPermissionDenied,
// ErrBadParameter, ErrStateValueTooLong, ErrMessageTooLong,
// ErrVoteNotExpected. Async: ErrVoteNotExpected, ErrNotAMember, ErrPermissionDenied.
func (c *Client) Vote(tok Token, req VoteRequest) error {
	if !c.dialed() {
		return newError(wire.NoInit, "vote", tok)
	}
	r := &wire.Request{
		Op: wire.OpVote, Token: int32(tok), Vote: req.Vote, DefaultVote: req.Default,
		State: req.State, Message: req.Message,
	}
	c.mu.Lock()
	m, err := c.lookup("vote", tok, false)
	if err != nil {
		c.mu.Unlock()
		return err
	}
	if code := r.Check(); code != wire.OK {
		c.mu.Unlock()
		return newError(code, "vote", tok)
	}
	if !m.voteDue {
		c.mu.Unlock()
		return newError(wire.VoteNotExpected, "vote", tok)
	}
	m.voteDue = false
	c.mu.Unlock()
	return c.send("vote", tok, r)
}

// propose checks and sends a provider's proposal. A provider may have one
// outstanding proposal, and none while its group is known to be running a
// protocol.
func (c *Client) propose(op string, tok Token, r *wire.Request) error {
	if !c.dialed() {
		return newError(wire.NoInit, op, tok)
	}
	r.Token = int32(tok)
	r.Normalize()
	c.mu.Lock()
	m, err := c.lookup(op, tok, false)
	if err != nil {
		c.mu.Unlock()
		return err
	}
	if code := r.Check(); code != wire.OK {
		c.mu.Unlock()
		return newError(code, op, tok)
	}
	if m.outstanding || (m.joined && c.inflight[m.group]) {
		c.mu.Unlock()
		return newError(wire.Collide, op, tok)
	}
	m.outstanding = true
	c.mu.Unlock()
	return c.send(op, tok, r)
}

// usable reports ErrNoInit after Close and ErrNotOK once the connection is
// lost; the caller holds c.mu.
func (c *Client) usable(op string, tok Token) error {
	if c.closed {
		return newError(wire.NoInit, op, tok)
	}
	if c.lostErr != nil {
		return &Error{Code: wire.NotOK, Op: op, Token: tok, Msg: "connection to the daemon lost", Err: c.lostErr}
	}
	return nil
}

// lookup finds a live token of the wanted kind; the caller holds c.mu.
func (c *Client) lookup(op string, tok Token, subscriber bool) (*member, error) {
	if err := c.usable(op, tok); err != nil {
		return nil, err
	}
	m, ok := c.members[tok]
	if !ok || m.subscriber != subscriber {
		return nil, newError(wire.BadMemberToken, op, tok)
	}
	if m.denied {
		return nil, newError(wire.PermissionDenied, op, tok) // as the daemon answers for such a token
	}
	if m.ended {
		return nil, newError(wire.NotAMember, op, tok)
	}
	return m, nil
}

// send writes a request frame. A write failure means the connection is
// gone (ErrNotOK), or the client was closed meanwhile (ErrNoInit).
func (c *Client) send(op string, tok Token, r *wire.Request) error {
	err := c.write(wire.MsgRequest, r)
	if err == nil {
		return nil
	}
	c.mu.Lock()
	closed := c.closed
	c.mu.Unlock()
	if closed {
		return newError(wire.NoInit, op, tok)
	}
	c.connLost(err)
	return &Error{Code: wire.NotOK, Op: op, Token: tok, Msg: "connection to the daemon lost", Err: err}
}

// arrive applies a notification (whose frame held size bytes) to the token
// states and queues it for its callback. It runs on the reader goroutine,
// so the library's view is as fresh as the frames it has received, not as
// the ones dispatched.
func (c *Client) arrive(n *Notification, size int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	switch n.Type {
	case wire.ResponsivenessNotification:
		c.push(entry{n: n, size: size})
		return
	case wire.DelayedErrorNotification:
		if n.FFDC != "" {
			c.ffdc = n.FFDC
		}
		c.delayedError(n)
		if cb := c.opts.delayedErrorCb; cb != nil {
			c.push(entry{n: n, fn: cb, size: size})
		}
		return
	}
	m, ok := c.members[Token(n.Token)]
	if !ok || m.ended {
		return // never issued, or over: nobody to tell
	}
	var fn func(*Notification)
	if m.subscriber {
		if n.Type == wire.SubscriptionNotification {
			fn = m.subCb
		}
	} else {
		fn = c.provider(m, n)
	}
	if fn != nil {
		c.push(entry{n: n, fn: fn, size: size})
	}
}

// provider updates a provider's state for n and returns its callback.
func (c *Client) provider(m *member, n *Notification) func(*Notification) {
	switch n.Type {
	case wire.NPhaseNotification:
		m.voteDue = true
		if m.joined {
			c.inflight[m.group] = true
		}
		return m.cbs.NPhase
	case wire.ApprovedNotification, wire.RejectedNotification:
		m.voteDue = false
		m.outstanding = false
		delete(c.inflight, m.group)
		approved := n.Type == wire.ApprovedNotification
		switch {
		case !m.joined && n.Protocol == wire.JoinProtocol:
			// The only protocol a joiner hears of is its own join.
			if approved {
				m.joined = true
			} else {
				m.ended = true
			}
		case approved && m.joined && leaves(n.Protocol) && n.Proposal != nil && contains(n.Proposal.Changing, m.self):
			m.ended = true
		}
		if approved {
			return m.cbs.Approved
		}
		return m.cbs.Rejected
	case wire.AnnouncementNotification:
		return m.cbs.Announcement
	case wire.MergeNotification:
		return m.cbs.Merge
	}
	return nil
}

// delayedError updates the failing token's state: a refused join or
// subscription leaves no membership, and a refused proposal is no longer
// outstanding.
func (c *Client) delayedError(n *Notification) {
	m, ok := c.members[Token(n.Token)]
	if !ok {
		return
	}
	op := wire.Op(0)
	if n.Failing != nil {
		op = n.Failing.Op
	}
	switch {
	case op == wire.OpJoin || (op == 0 && n.Protocol == wire.JoinProtocol && !m.subscriber):
		if !m.joined {
			m.ended = true
			m.denied = n.Code == wire.PermissionDenied
		}
	case op == wire.OpSubscribe || (op == 0 && m.subscriber && n.Protocol == wire.SubscriptionRequest):
		if m.subscriber {
			m.ended = true
		}
	case op == wire.OpVote:
	default:
		m.outstanding = false
	}
}

// leaves reports whether a protocol of kind t removes its changing providers.
func leaves(t RequestType) bool {
	switch t {
	case wire.LeaveProtocol, wire.ExpelProtocol, wire.FailureLeaveProtocol, wire.CastOutProtocol:
		return true
	}
	return false
}

func contains(list []Provider, p Provider) bool {
	for _, q := range list {
		if q == p {
			return true
		}
	}
	return false
}

package wire

// MsgType is the second byte of every frame: what the body holds.
type MsgType uint8

// Message types. Client to daemon: Hello, Request, Respond, AdminQuery.
// Daemon to client: Welcome, Refused, Notification, AdminReply.
const (
	MsgHello        MsgType = 1 // body: Hello; the first frame a client sends
	MsgWelcome      MsgType = 2 // body: Welcome; the daemon's answer to Hello
	MsgRefused      MsgType = 3 // body: Refused; sent before the daemon closes a connection it will not serve
	MsgRequest      MsgType = 4 // body: Request
	MsgNotification MsgType = 5 // body: Notification
	MsgRespond      MsgType = 6 // body: Respond; a client's answer to a responsiveness check
	MsgAdminQuery   MsgType = 7 // body: AdminQuery (hagsctl)
	MsgAdminReply   MsgType = 8 // body: AdminReply
)

// Valid reports whether t is a known message type.
func (t MsgType) Valid() bool { return t >= MsgHello && t <= MsgAdminReply }

// Provider identifies a provider in a group: its instance number and the
// node it runs on (ha_gs_provider_t).
type Provider struct {
	Instance int32 `msgpack:"i"`
	Node     int32 `msgpack:"n"`
}

// Attributes are a group's attributes (ha_gs_group_attributes_t, without the
// version and size fields, which only the C layer checks).
type Attributes struct {
	GroupName                 string       `msgpack:"name"`
	SourceGroupName           string       `msgpack:"src,omitempty"`
	BatchControl              BatchControl `msgpack:"batch"`
	NumPhases                 NumPhases    `msgpack:"phases"`
	SourceReflectionNumPhases NumPhases    `msgpack:"srcphases,omitempty"`
	DefaultVote               Vote         `msgpack:"vote"`
	MergeControl              MergeControl `msgpack:"merge,omitempty"`
	TimeLimit                 uint32       `msgpack:"limit"`
	SourceReflectionTimeLimit uint32       `msgpack:"srclimit,omitempty"`
}

// Responsiveness is a client's responsiveness-check settings
// (ha_gs_responsiveness_t without the counter's address, which stays in the
// client).
type Responsiveness struct {
	Type              ResponsivenessType `msgpack:"type"`
	Interval          uint32             `msgpack:"interval"` // seconds between checks
	ResponseTimeLimit uint32             `msgpack:"limit"`    // seconds
	CounterLength     uint32             `msgpack:"ctrlen,omitempty"`
}

// Hello opens a session. The daemon identifies the peer by SO_PEERCRED, never
// by what Hello says.
type Hello struct {
	Pid              int32          `msgpack:"pid"`
	Program          string         `msgpack:"prog,omitempty"` // for logs and hagsctl
	DeactivateScript string         `msgpack:"script,omitempty"`
	Responsiveness   Responsiveness `msgpack:"resp"`
	Admin            bool           `msgpack:"admin,omitempty"` // hagsctl: queries only, no groups
}

// Welcome accepts a session.
type Welcome struct {
	Node        int32  `msgpack:"node"`   // this daemon's node number
	Client      uint64 `msgpack:"client"` // the session's id on this node
	Domain      string `msgpack:"domain"`
	Incarnation uint64 `msgpack:"inc"` // changes every time the daemon starts
	// Adapters lists the network addresses of the domain's nodes (for a
	// one-node domain, this node's), for ha_gs_get_adapter_info.
	Adapters []Adapter `msgpack:"adapters,omitempty"`
	// NodeName is this daemon's node name (hagsd --name, default
	// "node<N>"); Nodes the domain's nodes known to it at this moment,
	// with their names where it knows them.
	NodeName string     `msgpack:"name,omitempty"`
	Nodes    []NodeName `msgpack:"nodes,omitempty"`
}

// NodeName is one node of the domain by number and name.
type NodeName struct {
	Node int32  `msgpack:"node"`
	Name string `msgpack:"name,omitempty"`
}

// Adapter is one address of a node's network interface: the domain's
// node table as ha_gs_get_adapter_info reads it.
type Adapter struct {
	Node      int32  `msgpack:"node"`
	Interface string `msgpack:"if"`
	Addr      []byte `msgpack:"addr"` // 4 bytes (IPv4) or 16 (IPv6), network order
}

// Refused rejects a session, with the code the client's init returns.
type Refused struct {
	Code   Code   `msgpack:"code"`
	Reason string `msgpack:"reason"`
	// FFDC is the id under which the daemon logged the refusal (at most
	// MaxFFDCLength bytes), for ha_gs_get_ffdc_id; empty when none.
	FFDC string `msgpack:"ffdc,omitempty"`
}

// Op is the operation a Request asks for.
type Op uint8

const (
	OpJoin             Op = 1
	OpLeave            Op = 2
	OpGoodbye          Op = 3
	OpExpel            Op = 4
	OpChangeState      Op = 5
	OpSendMessage      Op = 6
	OpChangeAttributes Op = 7
	OpVote             Op = 8
	OpSubscribe        Op = 9
	OpUnsubscribe      Op = 10
	OpQuit             Op = 11 // orderly end of the session: the client's providers said goodbye
)

var opNames = [...]string{"", "join", "leave", "goodbye", "expel", "change-state", "send-message",
	"change-attributes", "vote", "subscribe", "unsubscribe", "quit"}

// String names the operation.
func (o Op) String() string {
	if int(o) < len(opNames) && o > 0 {
		return opNames[o]
	}
	return "unknown-op"
}

// Valid reports whether o is a known operation.
func (o Op) Valid() bool { return o >= OpJoin && o <= OpQuit }

// Protocol is the protocol kind a request of this operation starts, as
// reported in a delayed error's gs_protocol_type. A vote reports the kind of
// the protocol voted on, which only the daemon knows; Protocol returns 0 for it.
func (o Op) Protocol() RequestType {
	switch o {
	case OpJoin:
		return JoinProtocol
	case OpLeave:
		return LeaveProtocol
	case OpGoodbye, OpQuit:
		return FailureLeaveProtocol
	case OpExpel:
		return ExpelProtocol
	case OpChangeState:
		return StateValueChangeProtocol
	case OpSendMessage:
		return ProviderMessageProtocol
	case OpChangeAttributes:
		return GroupAttributeChangeProtocol
	case OpSubscribe, OpUnsubscribe:
		return SubscriptionRequest
	}
	return 0
}

// Request is every client request: the union of the GSAPI request blocks,
// tagged by Op. Fields that an Op does not use are left zero. Byte slices
// use nil for "absent" and an empty slice for "present and empty".
type Request struct {
	Op    Op    `msgpack:"op"`
	Token int32 `msgpack:"tok"` // provider or subscriber token, chosen by the client

	// Join, Subscribe.
	Group string `msgpack:"group,omitempty"`
	// Join, ChangeAttributes.
	Attributes *Attributes `msgpack:"attrs,omitempty"`
	// Join.
	Instance  int32  `msgpack:"inst,omitempty"`
	LocalName string `msgpack:"lname,omitempty"`

	// Proposals: Leave, Expel, ChangeState, SendMessage, ChangeAttributes.
	NumPhases NumPhases `msgpack:"phases,omitempty"`
	TimeLimit uint32    `msgpack:"limit,omitempty"`

	// Leave.
	LeaveCode uint32 `msgpack:"lcode,omitempty"`

	// Expel.
	ExpelList       []Provider `msgpack:"expel,omitempty"`
	DeactivatePhase uint32     `msgpack:"dphase,omitempty"`
	DeactivateFlag  *string    `msgpack:"dflag,omitempty"` // nil: no flag

	// ChangeState (the new state); Vote (a proposed state value).
	State []byte `msgpack:"state"`
	// SendMessage (the message); Vote (a provider message).
	Message []byte `msgpack:"msg"`

	// Vote.
	Vote        Vote `msgpack:"vote,omitempty"`
	DefaultVote Vote `msgpack:"dvote,omitempty"`

	// Subscribe.
	Control SubscriptionControl `msgpack:"ctl,omitempty"`
}

// Respond answers a responsiveness check.
type Respond struct {
	Seq     uint64     `msgpack:"seq"`
	RC      CallbackRC `msgpack:"rc"`
	Counter uint64     `msgpack:"ctr,omitempty"` // counter method: the counter's value
}

// LeaveInfo says why one changing provider leaves (ha_gs_leave_info_t).
type LeaveInfo struct {
	Reason LeaveReason `msgpack:"r"`
	Code   uint32      `msgpack:"c,omitempty"`
}

// ExpelInfo describes an expel protocol's deactivate scripts
// (ha_gs_expel_info_t). Results parallels Proposal.Changing.
type ExpelInfo struct {
	Phase   uint32             `msgpack:"phase"`
	Flag    *string            `msgpack:"flag,omitempty"`
	Results []DeactivateResult `msgpack:"results"`
}

// Proposal is the content of n-phase, approved and rejected notifications
// (ha_gs_proposal_t). In an n-phase or rejected notification Current and
// CurrentState describe the group before the change; in an approved one,
// after it.
type Proposal struct {
	Phase              uint32       `msgpack:"phase"`
	WhatsChanged       WhatsChanged `msgpack:"what"`
	Current            []Provider   `msgpack:"cur"`
	Changing           []Provider   `msgpack:"chg"`
	CurrentState       []byte       `msgpack:"cstate"`
	ProposedState      []byte       `msgpack:"pstate"`
	Message            []byte       `msgpack:"msg"`
	ProposedAttributes *Attributes  `msgpack:"pattrs,omitempty"`
	LeaveInfo          []LeaveInfo  `msgpack:"leave,omitempty"`
	ExpelInfo          *ExpelInfo   `msgpack:"expel,omitempty"`
}

// Notification is every message the daemon sends a client about its groups,
// tagged by Type. Token is the provider or subscriber token it concerns (for a
// delayed error, the token of the failing request).
type Notification struct {
	Type     NotificationType `msgpack:"type"`
	Token    int32            `msgpack:"tok"`
	Group    string           `msgpack:"group,omitempty"`
	Protocol RequestType      `msgpack:"proto,omitempty"`
	Summary  SummaryCode      `msgpack:"sum,omitempty"`

	// N-phase: the phase's time limit in seconds (0: none).
	TimeLimit uint32 `msgpack:"limit,omitempty"`
	// N-phase, approved, rejected.
	Proposal *Proposal `msgpack:"prop,omitempty"`

	// Announcement: the providers concerned.
	Providers []Provider `msgpack:"provs,omitempty"`

	// Subscription.
	SubType  SubscriptionType `msgpack:"subtype,omitempty"`
	State    []byte           `msgpack:"state"`
	Full     []Provider       `msgpack:"full"`
	Changing []Provider       `msgpack:"chg"`

	// Delayed error.
	Code    Code     `msgpack:"code,omitempty"`
	Failing *Request `msgpack:"failing,omitempty"`

	// Responsiveness check: answer with Respond{Seq}.
	Seq            uint64          `msgpack:"seq,omitempty"`
	Responsiveness *Responsiveness `msgpack:"resp,omitempty"`

	// FFDC is the id under which the daemon logged the failure this
	// notification reports (delayed errors), for ha_gs_get_ffdc_id; empty
	// when none. At most MaxFFDCLength bytes.
	FFDC string `msgpack:"ffdc,omitempty"`
}

// AdminQuery asks the daemon about the domain (hagsctl).
type AdminQuery struct {
	What  string `msgpack:"what"` // "status", "groups" or "group"
	Group string `msgpack:"group,omitempty"`
}

// AdminReply answers an AdminQuery. Error is set when the query failed.
type AdminReply struct {
	Error  string         `msgpack:"error,omitempty"`
	Status *Status        `msgpack:"status,omitempty"`
	Groups []GroupSummary `msgpack:"groups,omitempty"`
	Group  *GroupDetail   `msgpack:"detail,omitempty"`
}

// Status is a daemon's view of itself and its domain.
type Status struct {
	Domain      string       `msgpack:"domain"`
	Node        int32        `msgpack:"node"`
	Version     string       `msgpack:"version"`
	Pid         int32        `msgpack:"pid"`
	Incarnation uint64       `msgpack:"inc"`
	StartedUnix int64        `msgpack:"started"`
	Clients     int          `msgpack:"clients"`
	Groups      int          `msgpack:"groups"`
	Nodes       []NodeStatus `msgpack:"nodes"`
	// Runtime is the daemon process's own counters since it started, for
	// benchmarks and profiles; absent from a daemon that does not count.
	Runtime *RuntimeCounters `msgpack:"runtime,omitempty"`
}

// RuntimeCounters are a daemon process's cumulative counters: what the
// benchmark's profile guard divides by the requests it made
// (BENCHMARKS.md).
type RuntimeCounters struct {
	Allocs     uint64 `msgpack:"allocs"`      // heap objects allocated
	AllocBytes uint64 `msgpack:"alloc_bytes"` // heap bytes allocated
	// VoluntarySwitches counts the times a thread of the process went
	// to sleep to wait (getrusage ru_nvcsw, every thread, exited ones
	// too): each is a wake-up later. InvoluntarySwitches counts the
	// times one was preempted (ru_nivcsw).
	VoluntarySwitches   uint64 `msgpack:"vcsw"`
	InvoluntarySwitches uint64 `msgpack:"ivcsw"`
	// Resent counts the log entries this daemon sent again after a
	// failure; LogDuplicates and LogOutOfOrder the entries (of any node)
	// it dropped as sent twice and as sent after a lost one
	// (docs/design/domain.md, "Exactly once").
	Resent        uint64 `msgpack:"resent"`
	LogDuplicates uint64 `msgpack:"log_dup"`
	LogOutOfOrder uint64 `msgpack:"log_ooo"`
}

// NodeStatus is one node of the domain as a daemon sees it.
type NodeStatus struct {
	Node    int32  `msgpack:"node"`
	Name    string `msgpack:"name,omitempty"`
	Address string `msgpack:"addr,omitempty"`
	Role    string `msgpack:"role"`   // "leader", "voter", "follower"
	Health  string `msgpack:"health"` // "alive", "suspect", "dead"
}

// GroupSummary is one line of "hagsctl groups".
type GroupSummary struct {
	Name        string `msgpack:"name"`
	Providers   int    `msgpack:"providers"`
	Subscribers int    `msgpack:"subscribers"`
	Protocol    string `msgpack:"protocol,omitempty"` // running protocol, if any
}

// GroupDetail is "hagsctl group NAME".
type GroupDetail struct {
	Name string `msgpack:"name"`
	// Owner is the uid of the client whose join created the group (0 for
	// HostMembership); docs/access-control.md says what it may do.
	Owner       uint32             `msgpack:"owner"`
	Attributes  Attributes         `msgpack:"attrs"`
	State       []byte             `msgpack:"state"`
	Providers   []ProviderDetail   `msgpack:"providers"`
	Subscribers []SubscriberDetail `msgpack:"subscribers"`
	Protocol    *ProtocolDetail    `msgpack:"protocol,omitempty"`
	Queued      int                `msgpack:"queued"` // membership changes waiting to run
}

// ProviderDetail describes one provider for hagsctl.
type ProviderDetail struct {
	Provider  Provider `msgpack:"p"`
	Pid       int32    `msgpack:"pid"`
	LocalName string   `msgpack:"lname,omitempty"`
}

// SubscriberDetail describes one subscriber for hagsctl.
type SubscriberDetail struct {
	Node    int32               `msgpack:"node"`
	Pid     int32               `msgpack:"pid"`
	Control SubscriptionControl `msgpack:"ctl"`
}

// ProtocolDetail describes a group's running protocol for hagsctl.
type ProtocolDetail struct {
	Type     RequestType `msgpack:"type"`
	Phase    uint32      `msgpack:"phase"`
	Proposer Provider    `msgpack:"proposer"`
	Waiting  []Provider  `msgpack:"waiting"` // providers whose vote is still due
}

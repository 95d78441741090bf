package gsapi

import "github.com/openhags/hags/internal/wire"

// The data types of the GSAPI are the wire types themselves, so that a
// notification is decoded once and handed to callbacks as it arrived. They
// are declared in internal/wire, which the daemon shares, and named here so
// that users never import it. Because go doc prints an alias without the
// fields of what it names, each alias below lists its type's fields with
// their meanings (TestTypeDocsListEveryField keeps the lists complete).

// Notification is everything the daemon tells a client about its groups
// (the ha_gs_*_notification_t blocks), tagged by Type. A Notification
// handed to a callback belongs to the callback: the library never touches
// it again. Its fields, and the notifications that fill them:
//
//	Type            NotificationType     which notification this is; every one
//	Token           int32                the provider or subscriber token it concerns; for a delayed error, the token of the failing request
//	Group           string               the group's name
//	Protocol        RequestType          n-phase, approved, rejected: the protocol's kind; delayed error: the failing request's kind (for a vote, the kind of the protocol voted on, 0 when the daemon no longer knows it); subscription: the kind of the approved change (SubscriptionRequest for the first one)
//	Summary         SummaryCode          approved, rejected: how the protocol ended; announcement: what it reports; subscription: GroupDissolved at the end
//	TimeLimit       uint32               n-phase: the phase's time limit in seconds, 0 for none
//	Proposal        *Proposal            n-phase, approved, rejected: the change
//	Providers       []Provider           announcement: the providers concerned (tardy or unresponsive)
//	SubType         SubscriptionType     subscription: what it reports (state value, joins, leaves, dissolution)
//	State           []byte               subscription: the group's state value
//	Full            []Provider           subscription: the group's providers; nil with SubscribeDeltasOnly
//	Changing        []Provider           subscription: the providers that joined or left
//	Code            Code                 delayed error: the error
//	Failing         *Request             delayed error: the failing request as it was sent
//	Seq             uint64               responsiveness: the check's number (the library answers it)
//	Responsiveness  *Responsiveness      responsiveness: the settings given to Dial
//	FFDC            string               delayed error: the id under which the daemon logged the failure, for Client.FFDC
//
// docs/protocol.md says who receives which notification and when.
type Notification = wire.Notification

// Provider identifies a provider (ha_gs_provider_t). Its fields:
//
//	Instance  int32  the instance number its Join gave (0 … 32767)
//	Node      int32  the number of the node it runs on
type Provider = wire.Provider

// Proposal is the content of n-phase, approved and rejected notifications
// (ha_gs_proposal_t). Its fields:
//
//	Phase               uint32        the phase, counted from 1; in an approval or rejection, the number of phases that ran
//	WhatsChanged        WhatsChanged  what the protocol changes (ChangeMembership, ChangeStateValue, ChangeProviderMessage, ChangeAttributes)
//	Current             []Provider    the group's providers: before the change in n-phase and rejected notifications, after it in approved ones
//	Changing            []Provider    the providers joining, leaving, failing or expelled; in a reflection, the source's
//	CurrentState        []byte        the group's state value, before or after the change as for Current
//	ProposedState       []byte        the proposed state value; nil when none is proposed
//	Message             []byte        the provider message of this notification; nil when none
//	ProposedAttributes  *Attributes   an attribute change: the proposed attributes
//	LeaveInfo           []LeaveInfo   a leave, failure leave or expel: why each Changing provider leaves, in the same order
//	ExpelInfo           *ExpelInfo    an expel: its deactivate scripts
//
// docs/c-contract.md fixes what its fields mean before and after a change.
type Proposal = wire.Proposal

// Attributes are a group's attributes (ha_gs_group_attributes_t, without
// the version and size fields, which only the C library checks). Its
// fields:
//
//	GroupName                  string        the group's name, at most MaxGroupNameLength bytes
//	SourceGroupName            string        the group whose changes are reflected into this one; "" for none
//	BatchControl               BatchControl  which queued joins or failure leaves may share one protocol
//	NumPhases                  NumPhases     OnePhase or NPhase, for joins and failure leaves
//	SourceReflectionNumPhases  NumPhases     OnePhase or NPhase, for reflections of the source
//	DefaultVote                Vote          VoteApprove or VoteReject: the vote of a provider that fails or says goodbye during a protocol
//	MergeControl               MergeControl  accepted and kept; hags never splits a group
//	TimeLimit                  uint32        seconds per phase of joins and failure leaves; 0 for none
//	SourceReflectionTimeLimit  uint32        seconds per phase of reflections; 0 for none
type Attributes = wire.Attributes

// Adapter is one network address of a node of the domain, as
// ha_gs_get_adapter_info looks it up. Its fields:
//
//	Node       int32   the node the address belongs to
//	Interface  string  the interface's name, such as "eth0"
//	Addr       []byte  the address: 4 bytes (IPv4) or 16 (IPv6), in network order
type Adapter = wire.Adapter

// Responsiveness is the responsiveness-check setting given at Dial
// (ha_gs_responsiveness_t without the counter's address). Its fields:
//
//	Type               ResponsivenessType  NoResponsiveness, PingResponsiveness or CounterResponsiveness
//	Interval           uint32              seconds between checks
//	ResponseTimeLimit  uint32              seconds an answer may take
//	CounterLength      uint32              the counter method: the counter's size, 4 or 8 bytes
type Responsiveness = wire.Responsiveness

// LeaveInfo says why one changing provider leaves (ha_gs_leave_info_t).
// Its fields:
//
//	Reason  LeaveReason  why it leaves
//	Code    uint32       for ProviderLeft, the LeaveCode of its LeaveRequest; else 0
type LeaveInfo = wire.LeaveInfo

// ExpelInfo describes an expel protocol's deactivate scripts
// (ha_gs_expel_info_t). Its fields:
//
//	Phase    uint32              the phase at whose start the scripts run; 0: none runs
//	Flag     *string             the expel request's deactivate flag; nil when it gave none
//	Results  []DeactivateResult  one per provider of Proposal.Changing, in order: DeactivateNotRun until its script has run
type ExpelInfo = wire.ExpelInfo

// Request is a request as sent to the daemon; delayed errors echo it in
// Notification.Failing. Fields an operation does not use are zero. Its
// fields:
//
//	Op               Op                   the operation
//	Token            int32                the provider or subscriber token
//	Group            string               OpJoin, OpSubscribe: the group
//	Attributes       *Attributes          OpJoin, OpChangeAttributes: the attributes
//	Instance         int32                OpJoin: the instance number
//	LocalName        string               OpJoin: the provider's local name
//	NumPhases        NumPhases            proposals (leave, expel, state value, message, attributes): one or n phases
//	TimeLimit        uint32               proposals: seconds per phase; 0 for none
//	LeaveCode        uint32               OpLeave: the code the others see in LeaveInfo
//	ExpelList        []Provider           OpExpel: the providers to expel
//	DeactivatePhase  uint32               OpExpel: the phase whose start runs the deactivate scripts; 0 for none
//	DeactivateFlag   *string              OpExpel: the flag given to the scripts; nil for none
//	State            []byte               OpChangeState: the new state value; OpVote: a proposed one
//	Message          []byte               OpSendMessage: the message; OpVote: a provider message
//	Vote             Vote                 OpVote: the vote
//	DefaultVote      Vote                 OpVote: the voter's new default vote; NullVote keeps it
//	Control          SubscriptionControl  OpSubscribe: what the subscriber asked for
type Request = wire.Request

// Op is the operation a Request asks for.
type Op = wire.Op

// Operations, as echoed in Notification.Failing.Op.
const (
	OpJoin             Op = wire.OpJoin
	OpLeave            Op = wire.OpLeave
	OpGoodbye          Op = wire.OpGoodbye
	OpExpel            Op = wire.OpExpel
	OpChangeState      Op = wire.OpChangeState
	OpSendMessage      Op = wire.OpSendMessage
	OpChangeAttributes Op = wire.OpChangeAttributes
	OpVote             Op = wire.OpVote
	OpSubscribe        Op = wire.OpSubscribe
	OpUnsubscribe      Op = wire.OpUnsubscribe
	OpQuit             Op = wire.OpQuit
)

// Code is a GSAPI return code (ha_gs_rc_t).
type Code = wire.Code

// NumPhases chooses a one-phase or an n-phase protocol.
type NumPhases = wire.NumPhases

// Vote is a provider's answer in one phase.
type Vote = wire.Vote

// NotificationType says which kind of notification a Notification is.
type NotificationType = wire.NotificationType

// RequestType is the kind of a protocol or request.
type RequestType = wire.RequestType

// SummaryCode is a set of flags describing how a protocol ended.
type SummaryCode = wire.SummaryCode

// WhatsChanged is a set of flags naming what a protocol changes.
type WhatsChanged = wire.WhatsChanged

// LeaveReason says why a provider left.
type LeaveReason = wire.LeaveReason

// DeactivateResult is the outcome of one deactivate script.
type DeactivateResult = wire.DeactivateResult

// BatchControl says which membership changes may share one protocol.
type BatchControl = wire.BatchControl

// MergeControl is accepted and recorded; hags never splits a group.
type MergeControl = wire.MergeControl

// ResponsivenessType chooses how the daemon checks a client.
type ResponsivenessType = wire.ResponsivenessType

// CallbackRC is the answer of a responsiveness callback.
type CallbackRC = wire.CallbackRC

// SubscriptionControl chooses what a subscriber hears about.
type SubscriptionControl = wire.SubscriptionControl

// SubscriptionType says what a subscription notification reports.
type SubscriptionType = wire.SubscriptionType

// Token names one provider (from Join) or one subscription (from
// Subscribe) within a Client. Tokens are chosen by the client, start at 1
// and are never reused within a session. It is an alias of int32 so that
// Notification.Token can be passed straight back, as in Vote(n.Token, ...).
type Token = int32

// Return codes.
const (
	OK                      Code = wire.OK
	NotOK                   Code = wire.NotOK
	Exists                  Code = wire.Exists
	NoInit                  Code = wire.NoInit
	NameTooLong             Code = wire.NameTooLong
	NoMemory                Code = wire.NoMemory
	NotAMember              Code = wire.NotAMember
	BadClientToken          Code = wire.BadClientToken
	BadMemberToken          Code = wire.BadMemberToken
	BadParameter            Code = wire.BadParameter
	UnknownGroup            Code = wire.UnknownGroup
	InvalidGroup            Code = wire.InvalidGroup
	NoSourceGroupProvider   Code = wire.NoSourceGroupProvider
	BadGroupAttributes      Code = wire.BadGroupAttributes
	WrongOldState           Code = wire.WrongOldState
	DuplicateInstanceNumber Code = wire.DuplicateInstanceNumber
	Collide                 Code = wire.Collide
	SockCreateFailed        Code = wire.SockCreateFailed
	SockInitFailed          Code = wire.SockInitFailed
	ConnectFailed           Code = wire.ConnectFailed
	VoteNotExpected         Code = wire.VoteNotExpected
	NotSupported            Code = wire.NotSupported
	InvalidSourceGroup      Code = wire.InvalidSourceGroup
	UnknownProvider         Code = wire.UnknownProvider
	ProviderAppearsTwice    Code = wire.ProviderAppearsTwice
	InvalidDeactivatePhase  Code = wire.InvalidDeactivatePhase
	BacklevelProviders      Code = wire.BacklevelProviders
	StateValueTooLong       Code = wire.StateValueTooLong
	MessageTooLong          Code = wire.MessageTooLong
	PermissionDenied        Code = wire.PermissionDenied
	NoAdapterInfo           Code = wire.NoAdapterInfo
	ForkedChild             Code = wire.ForkedChild
)

// Phase counts.
const (
	OnePhase NumPhases = wire.OnePhase
	NPhase   NumPhases = wire.NPhase
)

// Votes.
const (
	NullVote     Vote = wire.NullVote
	VoteApprove  Vote = wire.VoteApprove
	VoteContinue Vote = wire.VoteContinue
	VoteReject   Vote = wire.VoteReject
)

// Notification types.
const (
	NPhaseNotification         NotificationType = wire.NPhaseNotification
	ApprovedNotification       NotificationType = wire.ApprovedNotification
	RejectedNotification       NotificationType = wire.RejectedNotification
	AnnouncementNotification   NotificationType = wire.AnnouncementNotification
	SubscriptionNotification   NotificationType = wire.SubscriptionNotification
	DelayedErrorNotification   NotificationType = wire.DelayedErrorNotification
	ResponsivenessNotification NotificationType = wire.ResponsivenessNotification
	QueryNotification          NotificationType = wire.QueryNotification
	MergeNotification          NotificationType = wire.MergeNotification
)

// Protocol and request kinds.
const (
	JoinProtocol                  RequestType = wire.JoinProtocol
	FailureLeaveProtocol          RequestType = wire.FailureLeaveProtocol
	LeaveProtocol                 RequestType = wire.LeaveProtocol
	ExpelProtocol                 RequestType = wire.ExpelProtocol
	StateValueChangeProtocol      RequestType = wire.StateValueChangeProtocol
	ProviderMessageProtocol       RequestType = wire.ProviderMessageProtocol
	CastOutProtocol               RequestType = wire.CastOutProtocol
	SourceStateReflectionProtocol RequestType = wire.SourceStateReflectionProtocol
	MergeProtocol                 RequestType = wire.MergeProtocol
	SubscriptionRequest           RequestType = wire.SubscriptionRequest
	GroupAttributeChangeProtocol  RequestType = wire.GroupAttributeChangeProtocol
)

// Summary code flags.
const (
	ExplicitApprove              SummaryCode = wire.ExplicitApprove
	ExplicitReject               SummaryCode = wire.ExplicitReject
	DefaultApprove               SummaryCode = wire.DefaultApprove
	DefaultReject                SummaryCode = wire.DefaultReject
	TimeLimitExceeded            SummaryCode = wire.TimeLimitExceeded
	ProviderFailure              SummaryCode = wire.ProviderFailure
	ResponsivenessNoResponse     SummaryCode = wire.ResponsivenessNoResponse
	ResponsivenessResponse       SummaryCode = wire.ResponsivenessResponse
	DeactivateSuccessful         SummaryCode = wire.DeactivateSuccessful
	DeactivateUnsuccessful       SummaryCode = wire.DeactivateUnsuccessful
	DeactivateTimeLimitExceeded  SummaryCode = wire.DeactivateTimeLimitExceeded
	GroupDissolved               SummaryCode = wire.GroupDissolved
	GroupServicesHasDiedHorribly SummaryCode = wire.GroupServicesHasDiedHorribly
)

// What-changed flags.
const (
	ChangeMembership      WhatsChanged = wire.ChangeMembership
	ChangeStateValue      WhatsChanged = wire.ChangeStateValue
	ChangeProviderMessage WhatsChanged = wire.ChangeProviderMessage
	ChangeAttributes      WhatsChanged = wire.ChangeAttributes
)

// Leave reasons.
const (
	ProviderLeft        LeaveReason = wire.ProviderLeft
	ProviderProcessDied LeaveReason = wire.ProviderProcessDied
	ProviderNodeDied    LeaveReason = wire.ProviderNodeDied
	ProviderSaidGoodbye LeaveReason = wire.ProviderSaidGoodbye
	ProviderExpelled    LeaveReason = wire.ProviderExpelled
	ProviderCastOut     LeaveReason = wire.ProviderCastOut
)

// Deactivate script results.
const (
	DeactivateNotRun   DeactivateResult = wire.DeactivateNotRun
	DeactivateOK       DeactivateResult = wire.DeactivateOK
	DeactivateFailed   DeactivateResult = wire.DeactivateFailed
	DeactivateTimedOut DeactivateResult = wire.DeactivateTimedOut
)

// Batch controls.
const (
	NoBatching         BatchControl = wire.NoBatching
	BatchJoins         BatchControl = wire.BatchJoins
	BatchFailureLeaves BatchControl = wire.BatchFailureLeaves
	BatchBoth          BatchControl = wire.BatchBoth
)

// Merge controls.
const (
	DissolveMerge MergeControl = wire.DissolveMerge
	DontMerge     MergeControl = wire.DontMerge
)

// Responsiveness methods.
const (
	NoResponsiveness      ResponsivenessType = wire.NoResponsiveness
	PingResponsiveness    ResponsivenessType = wire.PingResponsiveness
	CounterResponsiveness ResponsivenessType = wire.CounterResponsiveness
)

// Responsiveness callback answers.
const (
	CallbackOK    CallbackRC = wire.CallbackOK
	CallbackNotOK CallbackRC = wire.CallbackNotOK
)

// Subscription controls.
const (
	SubscribeStateValue    SubscriptionControl = wire.SubscribeStateValue
	SubscribeDeltaJoins    SubscriptionControl = wire.SubscribeDeltaJoins
	SubscribeDeltaLeaves   SubscriptionControl = wire.SubscribeDeltaLeaves
	SubscribeAllMembership SubscriptionControl = wire.SubscribeAllMembership
	SubscribeDeltasOnly    SubscriptionControl = wire.SubscribeDeltasOnly
)

// Subscription notification types.
const (
	SubscriptionStateValue  SubscriptionType = wire.SubscriptionStateValue
	SubscriptionDeltaJoin   SubscriptionType = wire.SubscriptionDeltaJoin
	SubscriptionDeltaLeave  SubscriptionType = wire.SubscriptionDeltaLeave
	SubscriptionDissolved   SubscriptionType = wire.SubscriptionDissolved
	SubscriptionSpecialData SubscriptionType = wire.SubscriptionSpecialData
)

// Limits, the same numbers as the HA_GS_MAX_* macros of ha_gs.h.
const (
	MaxGroupNameLength       = wire.MaxGroupNameLength
	MaxLocalNameLength       = wire.MaxLocalNameLength
	MaxStateValueLength      = wire.MaxStateValueLength
	MaxProviderMessageLength = wire.MaxProviderMessageLength
	MaxDeactivateFlagLength  = wire.MaxDeactivateFlagLength
	MaxScriptPathLength      = wire.MaxScriptPathLength
	// MaxProgramNameLength bounds WithProgram's name (no C macro: the C
	// library names its program itself).
	MaxProgramNameLength = wire.MaxProgramNameLength
	// MaxTokensPerClient bounds the distinct tokens one Client may name in
	// joins and subscriptions (HA_GS_MAX_TOKENS_PER_CLIENT); the join or
	// subscription naming one more gets a delayed ErrNoMemory.
	MaxTokensPerClient = wire.MaxTokensPerClient
)

// Environment variables, defaults and names shared with ha_gs.h and the
// daemon (each defined once, in internal/wire).
const (
	// DomainEnv names the environment variable that names the domain
	// (HA_GS_DOMAIN_ENV).
	DomainEnv = wire.DomainEnv
	// SocketEnv names the environment variable that overrides the
	// daemon's socket path (HA_GS_SOCKET_ENV).
	SocketEnv = wire.SocketEnv
	// DefaultDomain is the domain used when none is named.
	DefaultDomain = wire.DefaultDomain
	// SocketDir holds a directory per domain with that domain's sockets
	// on this node: SocketDir/<domain>/hagsd.sock is the daemon's.
	SocketDir = wire.SocketDir
	// HostMembershipGroup is the daemon's system group of nodes
	// (HA_GS_HOST_MEMBERSHIP_GROUP), open to any subscriber.
	HostMembershipGroup = wire.HostMembershipGroup
)

// SocketPath returns the default socket of the daemon serving domain:
// SocketDir/<domain>/hagsd.sock, with DefaultDomain for the empty name.
func SocketPath(domain string) string { return wire.SocketPath(domain) }

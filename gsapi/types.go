package gsapi

import "github.com/openhags/hags/internal/wire"

// The data types of the GSAPI are the wire types themselves, so that a
// notification is decoded once and handed to callbacks as it arrived. They
// are re-exported here so that users never import internal/wire.

// Notification is everything the daemon tells a client about its groups
// (the ha_gs_*_notification_t blocks), tagged by Type. Token is the provider
// or subscriber token it concerns; for a delayed error, the token of the
// failing request. A Notification handed to a callback belongs to the
// callback: the library never touches it again.
type Notification = wire.Notification

// Provider identifies a provider: its instance number and node number.
type Provider = wire.Provider

// Proposal is the content of n-phase, approved and rejected notifications.
// docs/c-contract.md fixes what its fields mean before and after a change.
type Proposal = wire.Proposal

// Attributes are a group's attributes (ha_gs_group_attributes_t).
type Attributes = wire.Attributes

// Adapter is one network address of a node of the domain.
type Adapter = wire.Adapter

// Responsiveness is the responsiveness-check setting given at Dial.
type Responsiveness = wire.Responsiveness

// LeaveInfo says why one changing provider leaves.
type LeaveInfo = wire.LeaveInfo

// ExpelInfo describes an expel protocol's deactivate scripts.
type ExpelInfo = wire.ExpelInfo

// Request is a request as sent to the daemon; delayed errors echo it in
// Notification.Failing.
type Request = wire.Request

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
	OK                      = wire.OK
	NotOK                   = wire.NotOK
	Exists                  = wire.Exists
	NoInit                  = wire.NoInit
	NameTooLong             = wire.NameTooLong
	NoMemory                = wire.NoMemory
	NotAMember              = wire.NotAMember
	BadClientToken          = wire.BadClientToken
	BadMemberToken          = wire.BadMemberToken
	BadParameter            = wire.BadParameter
	UnknownGroup            = wire.UnknownGroup
	InvalidGroup            = wire.InvalidGroup
	NoSourceGroupProvider   = wire.NoSourceGroupProvider
	BadGroupAttributes      = wire.BadGroupAttributes
	WrongOldState           = wire.WrongOldState
	DuplicateInstanceNumber = wire.DuplicateInstanceNumber
	Collide                 = wire.Collide
	SockCreateFailed        = wire.SockCreateFailed
	SockInitFailed          = wire.SockInitFailed
	ConnectFailed           = wire.ConnectFailed
	VoteNotExpected         = wire.VoteNotExpected
	NotSupported            = wire.NotSupported
	InvalidSourceGroup      = wire.InvalidSourceGroup
	UnknownProvider         = wire.UnknownProvider
	ProviderAppearsTwice    = wire.ProviderAppearsTwice
	InvalidDeactivatePhase  = wire.InvalidDeactivatePhase
	BacklevelProviders      = wire.BacklevelProviders
	StateValueTooLong       = wire.StateValueTooLong
	MessageTooLong          = wire.MessageTooLong
	PermissionDenied        = wire.PermissionDenied
	NoAdapterInfo           = wire.NoAdapterInfo
	ForkedChild             = wire.ForkedChild
)

// Phase counts.
const (
	OnePhase = wire.OnePhase
	NPhase   = wire.NPhase
)

// Votes.
const (
	NullVote     = wire.NullVote
	VoteApprove  = wire.VoteApprove
	VoteContinue = wire.VoteContinue
	VoteReject   = wire.VoteReject
)

// Notification types.
const (
	NPhaseNotification         = wire.NPhaseNotification
	ApprovedNotification       = wire.ApprovedNotification
	RejectedNotification       = wire.RejectedNotification
	AnnouncementNotification   = wire.AnnouncementNotification
	SubscriptionNotification   = wire.SubscriptionNotification
	DelayedErrorNotification   = wire.DelayedErrorNotification
	ResponsivenessNotification = wire.ResponsivenessNotification
	QueryNotification          = wire.QueryNotification
	MergeNotification          = wire.MergeNotification
)

// Protocol and request kinds.
const (
	JoinProtocol                  = wire.JoinProtocol
	FailureLeaveProtocol          = wire.FailureLeaveProtocol
	LeaveProtocol                 = wire.LeaveProtocol
	ExpelProtocol                 = wire.ExpelProtocol
	StateValueChangeProtocol      = wire.StateValueChangeProtocol
	ProviderMessageProtocol       = wire.ProviderMessageProtocol
	CastOutProtocol               = wire.CastOutProtocol
	SourceStateReflectionProtocol = wire.SourceStateReflectionProtocol
	MergeProtocol                 = wire.MergeProtocol
	SubscriptionRequest           = wire.SubscriptionRequest
	GroupAttributeChangeProtocol  = wire.GroupAttributeChangeProtocol
)

// Summary code flags.
const (
	ExplicitApprove              = wire.ExplicitApprove
	ExplicitReject               = wire.ExplicitReject
	DefaultApprove               = wire.DefaultApprove
	DefaultReject                = wire.DefaultReject
	TimeLimitExceeded            = wire.TimeLimitExceeded
	ProviderFailure              = wire.ProviderFailure
	ResponsivenessNoResponse     = wire.ResponsivenessNoResponse
	ResponsivenessResponse       = wire.ResponsivenessResponse
	DeactivateSuccessful         = wire.DeactivateSuccessful
	DeactivateUnsuccessful       = wire.DeactivateUnsuccessful
	DeactivateTimeLimitExceeded  = wire.DeactivateTimeLimitExceeded
	GroupDissolved               = wire.GroupDissolved
	GroupServicesHasDiedHorribly = wire.GroupServicesHasDiedHorribly
)

// What-changed flags.
const (
	ChangeMembership      = wire.ChangeMembership
	ChangeStateValue      = wire.ChangeStateValue
	ChangeProviderMessage = wire.ChangeProviderMessage
	ChangeAttributes      = wire.ChangeAttributes
)

// Leave reasons.
const (
	ProviderLeft        = wire.ProviderLeft
	ProviderProcessDied = wire.ProviderProcessDied
	ProviderNodeDied    = wire.ProviderNodeDied
	ProviderSaidGoodbye = wire.ProviderSaidGoodbye
	ProviderExpelled    = wire.ProviderExpelled
	ProviderCastOut     = wire.ProviderCastOut
)

// Deactivate script results.
const (
	DeactivateNotRun   = wire.DeactivateNotRun
	DeactivateOK       = wire.DeactivateOK
	DeactivateFailed   = wire.DeactivateFailed
	DeactivateTimedOut = wire.DeactivateTimedOut
)

// Batch controls.
const (
	NoBatching         = wire.NoBatching
	BatchJoins         = wire.BatchJoins
	BatchFailureLeaves = wire.BatchFailureLeaves
	BatchBoth          = wire.BatchBoth
)

// Merge controls.
const (
	DissolveMerge = wire.DissolveMerge
	DontMerge     = wire.DontMerge
)

// Responsiveness methods.
const (
	NoResponsiveness      = wire.NoResponsiveness
	PingResponsiveness    = wire.PingResponsiveness
	CounterResponsiveness = wire.CounterResponsiveness
)

// Responsiveness callback answers.
const (
	CallbackOK    = wire.CallbackOK
	CallbackNotOK = wire.CallbackNotOK
)

// Subscription controls.
const (
	SubscribeStateValue    = wire.SubscribeStateValue
	SubscribeDeltaJoins    = wire.SubscribeDeltaJoins
	SubscribeDeltaLeaves   = wire.SubscribeDeltaLeaves
	SubscribeAllMembership = wire.SubscribeAllMembership
	SubscribeDeltasOnly    = wire.SubscribeDeltasOnly
)

// Subscription notification types.
const (
	SubscriptionStateValue  = wire.SubscriptionStateValue
	SubscriptionDeltaJoin   = wire.SubscriptionDeltaJoin
	SubscriptionDeltaLeave  = wire.SubscriptionDeltaLeave
	SubscriptionDissolved   = wire.SubscriptionDissolved
	SubscriptionSpecialData = wire.SubscriptionSpecialData
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

// Environment variables and names shared with ha_gs.h.
const (
	// DomainEnv names the domain (HA_GS_DOMAIN_ENV).
	DomainEnv = "HA_DOMAIN_NAME"
	// SocketEnv overrides the daemon's socket path (HA_GS_SOCKET_ENV).
	SocketEnv = "HA_GS_SOCKET"
	// DefaultDomain is the domain used when none is named.
	DefaultDomain = "hags"
	// HostMembershipGroup is the daemon's system group of nodes
	// (HA_GS_HOST_MEMBERSHIP_GROUP), open to any subscriber.
	HostMembershipGroup = "HostMembership"
)

// SocketPath returns the default socket of the daemon serving domain:
// /run/hags/<domain>/hagsd.sock.
func SocketPath(domain string) string {
	return "/run/hags/" + domain + "/hagsd.sock"
}

package wire

// The numeric values below are the project's ABI: include/ha_gs.h uses the
// same numbers, and they never change once released. New members are added
// at the end of their list.

// Code is a GSAPI return code (ha_gs_rc_t). OK is 0; every other value is
// distinct and stable.
type Code int32

// Return codes, in the order of ha_gs_rc_t (docs/c-contract.md).
const (
	OK                      Code = 0
	NotOK                   Code = 1
	Exists                  Code = 2
	NoInit                  Code = 3
	NameTooLong             Code = 4
	NoMemory                Code = 5
	NotAMember              Code = 6
	BadClientToken          Code = 7
	BadMemberToken          Code = 8
	BadParameter            Code = 9
	UnknownGroup            Code = 10
	InvalidGroup            Code = 11
	NoSourceGroupProvider   Code = 12
	BadGroupAttributes      Code = 13
	WrongOldState           Code = 14
	DuplicateInstanceNumber Code = 15
	Collide                 Code = 16
	SockCreateFailed        Code = 17
	SockInitFailed          Code = 18
	ConnectFailed           Code = 19
	VoteNotExpected         Code = 20
	NotSupported            Code = 21
	InvalidSourceGroup      Code = 22
	UnknownProvider         Code = 23
	ProviderAppearsTwice    Code = 24
	InvalidDeactivatePhase  Code = 25
	BacklevelProviders      Code = 26
	StateValueTooLong       Code = 27
	MessageTooLong          Code = 28
	PermissionDenied        Code = 29
	NoAdapterInfo           Code = 30
	ForkedChild             Code = 31
)

var codeNames = [...]string{
	"HA_GS_OK", "HA_GS_NOT_OK", "HA_GS_EXISTS", "HA_GS_NO_INIT", "HA_GS_NAME_TOO_LONG",
	"HA_GS_NO_MEMORY", "HA_GS_NOT_A_MEMBER", "HA_GS_BAD_CLIENT_TOKEN", "HA_GS_BAD_MEMBER_TOKEN",
	"HA_GS_BAD_PARAMETER", "HA_GS_UNKNOWN_GROUP", "HA_GS_INVALID_GROUP",
	"HA_GS_NO_SOURCE_GROUP_PROVIDER", "HA_GS_BAD_GROUP_ATTRIBUTES", "HA_GS_WRONG_OLD_STATE",
	"HA_GS_DUPLICATE_INSTANCE_NUMBER", "HA_GS_COLLIDE", "HA_GS_SOCK_CREATE_FAILED",
	"HA_GS_SOCK_INIT_FAILED", "HA_GS_CONNECT_FAILED", "HA_GS_VOTE_NOT_EXPECTED",
	"HA_GS_NOT_SUPPORTED", "HA_GS_INVALID_SOURCE_GROUP", "HA_GS_UNKNOWN_PROVIDER",
	"HA_GS_PROVIDER_APPEARS_TWICE", "HA_GS_INVALID_DEACTIVATE_PHASE",
	"HA_GS_BACKLEVEL_PROVIDERS", "HA_GS_STATE_VALUE_TOO_LONG", "HA_GS_MESSAGE_TOO_LONG",
	"HA_GS_PERMISSION_DENIED", "HA_GS_NO_ADAPTER_INFO", "HA_GS_FORKED_CHILD",
}

// AllCodes lists every return code, OK first.
func AllCodes() []Code {
	out := make([]Code, len(codeNames))
	for i := range out {
		out[i] = Code(i)
	}
	return out
}

// String returns the C name of the code, such as "HA_GS_COLLIDE".
func (c Code) String() string {
	if c >= 0 && int(c) < len(codeNames) {
		return codeNames[c]
	}
	return "HA_GS_UNKNOWN_CODE"
}

// Valid reports whether c is one of the defined return codes.
func (c Code) Valid() bool { return c >= 0 && int(c) < len(codeNames) }

// NumPhases chooses a one-phase or an n-phase protocol (ha_gs_num_phases_t).
type NumPhases int32

const (
	OnePhase NumPhases = 1 // HA_GS_1_PHASE: approved at once
	NPhase   NumPhases = 2 // HA_GS_N_PHASE: providers vote in one or more phases
)

// Valid reports whether n is OnePhase or NPhase.
func (n NumPhases) Valid() bool { return n == OnePhase || n == NPhase }

// Vote is a provider's answer in one phase (ha_gs_vote_value_t).
type Vote int32

const (
	NullVote     Vote = 0 // HA_GS_NULL_VOTE: as a default vote, keep the current one
	VoteApprove  Vote = 1 // HA_GS_VOTE_APPROVE
	VoteContinue Vote = 2 // HA_GS_VOTE_CONTINUE: ask for another phase
	VoteReject   Vote = 3 // HA_GS_VOTE_REJECT
)

// NotificationType is the first field of every notification
// (ha_gs_notification_type_t).
type NotificationType int32

const (
	NPhaseNotification         NotificationType = 1
	ApprovedNotification       NotificationType = 2
	RejectedNotification       NotificationType = 3
	AnnouncementNotification   NotificationType = 4
	SubscriptionNotification   NotificationType = 5
	DelayedErrorNotification   NotificationType = 6
	ResponsivenessNotification NotificationType = 7
	QueryNotification          NotificationType = 8
	MergeNotification          NotificationType = 9
)

// RequestType is the kind of a protocol or request (ha_gs_request_t).
type RequestType int32

const (
	JoinProtocol                  RequestType = 1
	FailureLeaveProtocol          RequestType = 2
	LeaveProtocol                 RequestType = 3
	ExpelProtocol                 RequestType = 4
	StateValueChangeProtocol      RequestType = 5
	ProviderMessageProtocol       RequestType = 6
	CastOutProtocol               RequestType = 7
	SourceStateReflectionProtocol RequestType = 8
	MergeProtocol                 RequestType = 9
	SubscriptionRequest           RequestType = 10
	GroupAttributeChangeProtocol  RequestType = 11
)

// SummaryCode is a set of flags describing how a protocol ended or what an
// announcement reports (ha_gs_summary_code_t).
type SummaryCode uint32

const (
	ExplicitApprove              SummaryCode = 1 << 0
	ExplicitReject               SummaryCode = 1 << 1
	DefaultApprove               SummaryCode = 1 << 2
	DefaultReject                SummaryCode = 1 << 3
	TimeLimitExceeded            SummaryCode = 1 << 4
	ProviderFailure              SummaryCode = 1 << 5
	ResponsivenessNoResponse     SummaryCode = 1 << 6
	ResponsivenessResponse       SummaryCode = 1 << 7
	DeactivateSuccessful         SummaryCode = 1 << 8
	DeactivateUnsuccessful       SummaryCode = 1 << 9
	DeactivateTimeLimitExceeded  SummaryCode = 1 << 10
	GroupDissolved               SummaryCode = 1 << 11
	GroupServicesHasDiedHorribly SummaryCode = 1 << 12
)

// WhatsChanged is a set of flags naming what a protocol changes
// (ha_gs_whats_changed_t).
type WhatsChanged uint32

const (
	ChangeMembership      WhatsChanged = 1 << 0
	ChangeStateValue      WhatsChanged = 1 << 1
	ChangeProviderMessage WhatsChanged = 1 << 2
	ChangeAttributes      WhatsChanged = 1 << 3
)

// LeaveReason says why a provider left (ha_gs_leave_reason_t).
type LeaveReason int32

const (
	ProviderLeft        LeaveReason = 1 // ha_gs_leave
	ProviderProcessDied LeaveReason = 2 // connection to the daemon dropped
	ProviderNodeDied    LeaveReason = 3 // node left the domain
	ProviderSaidGoodbye LeaveReason = 4 // ha_gs_goodbye or ha_gs_quit
	ProviderExpelled    LeaveReason = 5 // ha_gs_expel
	ProviderCastOut     LeaveReason = 6
)

// DeactivateResult is the outcome of one deactivate script
// (ha_gs_deactivate_result_t).
type DeactivateResult int32

const (
	DeactivateNotRun   DeactivateResult = 0
	DeactivateOK       DeactivateResult = 1
	DeactivateFailed   DeactivateResult = 2
	DeactivateTimedOut DeactivateResult = 3
)

// BatchControl says which membership changes may be combined into one
// protocol (ha_gs_batch_ctrl_t).
type BatchControl int32

const (
	NoBatching         BatchControl = 0
	BatchJoins         BatchControl = 1
	BatchFailureLeaves BatchControl = 2
	BatchBoth          BatchControl = 3
)

// MergeControl is ha_gs_merge_ctrl_t. hags never splits a group, so it is
// accepted and recorded but never acted on.
type MergeControl int32

const (
	DissolveMerge MergeControl = 1
	DontMerge     MergeControl = 2
)

// ResponsivenessType chooses how the daemon checks a client
// (ha_gs_responsiveness_type_t).
type ResponsivenessType int32

const (
	NoResponsiveness      ResponsivenessType = 0
	PingResponsiveness    ResponsivenessType = 1
	CounterResponsiveness ResponsivenessType = 2
)

// CallbackRC is the answer of a responsiveness callback (ha_gs_callback_rc_t).
type CallbackRC int32

const (
	CallbackOK    CallbackRC = 0
	CallbackNotOK CallbackRC = 1
)

// SubscriptionControl chooses what a subscriber hears about
// (ha_gs_subscription_ctrl_t).
type SubscriptionControl uint32

const (
	SubscribeStateValue    SubscriptionControl = 1 << 0
	SubscribeDeltaJoins    SubscriptionControl = 1 << 1
	SubscribeDeltaLeaves   SubscriptionControl = 1 << 2
	SubscribeAllMembership                     = SubscribeDeltaJoins | SubscribeDeltaLeaves
	SubscribeDeltasOnly    SubscriptionControl = 1 << 3
)

// SubscriptionType says what a subscription notification reports
// (ha_gs_subscription_type_t).
type SubscriptionType uint32

const (
	SubscriptionStateValue  SubscriptionType = 1 << 0
	SubscriptionDeltaJoin   SubscriptionType = 1 << 1
	SubscriptionDeltaLeave  SubscriptionType = 1 << 2
	SubscriptionDissolved   SubscriptionType = 1 << 3
	SubscriptionSpecialData SubscriptionType = 1 << 4
)

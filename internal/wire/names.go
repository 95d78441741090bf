package wire

import (
	"strconv"
	"strings"
)

// Short, stable names for logs, hagsctl and the transcript tests.

// requestTypeNames spells each protocol kind twice: as in ha_gs.h without
// the HA_GS_ prefix (String, for logs), and short and lower-case (Short,
// as hagsctl shows it).
var requestTypeNames = map[RequestType]struct{ upper, short string }{
	JoinProtocol:                  {"JOIN", "join"},
	FailureLeaveProtocol:          {"FAILURE_LEAVE", "failure-leave"},
	LeaveProtocol:                 {"LEAVE", "leave"},
	ExpelProtocol:                 {"EXPEL", "expel"},
	StateValueChangeProtocol:      {"STATE_VALUE_CHANGE", "state-change"},
	ProviderMessageProtocol:       {"PROVIDER_MESSAGE", "provider-message"},
	CastOutProtocol:               {"CAST_OUT", "cast-out"},
	SourceStateReflectionProtocol: {"SOURCE_STATE_REFLECTION", "source-reflection"},
	MergeProtocol:                 {"MERGE", "merge"},
	SubscriptionRequest:           {"SUBSCRIPTION", "subscription"},
	GroupAttributeChangeProtocol:  {"GROUP_ATTRIBUTE_CHANGE", "attribute-change"},
}

// String names the protocol kind as in ha_gs.h without the HA_GS_ prefix.
func (t RequestType) String() string { return nameOr(requestTypeNames[t].upper, int64(t)) }

// Short names the protocol kind short and lower-case, as hagsctl shows it
// ("join", "failure-leave", ...); "unknown" for a kind without a name.
func (t RequestType) Short() string {
	if n := requestTypeNames[t].short; n != "" {
		return n
	}
	return "unknown"
}

var notificationTypeNames = map[NotificationType]string{
	NPhaseNotification: "NPHASE", ApprovedNotification: "APPROVED", RejectedNotification: "REJECTED",
	AnnouncementNotification: "ANNOUNCEMENT", SubscriptionNotification: "SUBSCRIPTION",
	DelayedErrorNotification: "DELAYED_ERROR", ResponsivenessNotification: "RESPONSIVENESS",
	QueryNotification: "QUERY", MergeNotification: "MERGE",
}

// String names the notification type.
func (t NotificationType) String() string { return nameOr(notificationTypeNames[t], int64(t)) }

var leaveReasonNames = map[LeaveReason]string{
	ProviderLeft: "LEFT", ProviderProcessDied: "PROCESS_DIED", ProviderNodeDied: "NODE_DIED",
	ProviderSaidGoodbye: "SAID_GOODBYE", ProviderExpelled: "EXPELLED", ProviderCastOut: "CAST_OUT",
}

// String names the leave reason.
func (r LeaveReason) String() string { return nameOr(leaveReasonNames[r], int64(r)) }

var deactivateNames = map[DeactivateResult]string{
	DeactivateNotRun: "NOT_RUN", DeactivateOK: "OK", DeactivateFailed: "FAILED", DeactivateTimedOut: "TIMED_OUT",
}

// String names the deactivate result.
func (r DeactivateResult) String() string { return nameOr(deactivateNames[r], int64(r)) }

var voteNames = map[Vote]string{NullVote: "NULL", VoteApprove: "APPROVE", VoteContinue: "CONTINUE", VoteReject: "REJECT"}

// String names the vote.
func (v Vote) String() string { return nameOr(voteNames[v], int64(v)) }

var summaryNames = []string{
	"EXPLICIT_APPROVE", "EXPLICIT_REJECT", "DEFAULT_APPROVE", "DEFAULT_REJECT", "TIME_LIMIT_EXCEEDED",
	"PROVIDER_FAILURE", "RESPONSIVENESS_NO_RESPONSE", "RESPONSIVENESS_RESPONSE", "DEACTIVATE_SUCCESSFUL",
	"DEACTIVATE_UNSUCCESSFUL", "DEACTIVATE_TIME_LIMIT_EXCEEDED", "GROUP_DISSOLVED",
	"GROUP_SERVICES_HAS_DIED_HORRIBLY",
}

// String lists the flags joined by "|", or "0" when none is set.
func (s SummaryCode) String() string { return flagNames(uint32(s), summaryNames) }

var whatsChangedNames = []string{"MEMBERSHIP", "STATE_VALUE", "PROVIDER_MESSAGE", "ATTRIBUTES"}

// String lists the flags joined by "|", or "0" when none is set.
func (w WhatsChanged) String() string { return flagNames(uint32(w), whatsChangedNames) }

var subscriptionTypeNames = []string{"STATE_VALUE", "DELTA_JOIN", "DELTA_LEAVE", "DISSOLVED", "SPECIAL_DATA"}

// String lists the flags joined by "|", or "0" when none is set.
func (s SubscriptionType) String() string { return flagNames(uint32(s), subscriptionTypeNames) }

// String formats the provider as instance@node.
func (p Provider) String() string {
	return strconv.Itoa(int(p.Instance)) + "@" + strconv.Itoa(int(p.Node))
}

// FormatProviders formats a list as "1@1,2@1", or "-" when it is empty.
func FormatProviders(ps []Provider) string {
	if len(ps) == 0 {
		return "-"
	}
	parts := make([]string, len(ps))
	for i, p := range ps {
		parts[i] = p.String()
	}
	return strings.Join(parts, ",")
}

func nameOr(name string, v int64) string {
	if name != "" {
		return name
	}
	return strconv.FormatInt(v, 10)
}

func flagNames(v uint32, names []string) string {
	if v == 0 {
		return "0"
	}
	var parts []string
	for i, n := range names {
		if v&(1<<i) != 0 {
			parts = append(parts, n)
			v &^= 1 << i
		}
	}
	if v != 0 {
		parts = append(parts, "0x"+strconv.FormatUint(uint64(v), 16))
	}
	return strings.Join(parts, "|")
}

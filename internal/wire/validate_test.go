package wire

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func attrs(name string) *Attributes {
	return &Attributes{GroupName: name, NumPhases: OnePhase, DefaultVote: VoteApprove}
}

func TestRequestCheck(t *testing.T) {
	long := strings.Repeat("x", MaxGroupNameLength+1)
	exact := strings.Repeat("x", MaxGroupNameLength)
	cases := []struct {
		name string
		req  Request
		want Code
	}{
		{"op 0", Request{Op: 0, Token: 1}, BadParameter},
		{"unknown op (a later level)", Request{Op: 99, Token: 1}, NotSupported},
		{"zero token", Request{Op: OpLeave, Token: 0, NumPhases: OnePhase}, BadMemberToken},
		{"join ok", Request{Op: OpJoin, Token: 1, Group: "g", Attributes: attrs("g")}, OK},
		{"join name at limit", Request{Op: OpJoin, Token: 1, Group: exact, Attributes: attrs(exact)}, OK},
		{"join name too long", Request{Op: OpJoin, Token: 1, Group: long, Attributes: attrs(long)}, NameTooLong},
		{"join empty name", Request{Op: OpJoin, Token: 1, Group: "", Attributes: attrs("")}, BadParameter},
		{"join NUL in name", Request{Op: OpJoin, Token: 1, Group: "a\x00b", Attributes: attrs("a\x00b")}, BadParameter},
		{"join no attributes", Request{Op: OpJoin, Token: 1, Group: "g"}, BadGroupAttributes},
		{"join attributes name differs", Request{Op: OpJoin, Token: 1, Group: "g", Attributes: attrs("h")}, BadGroupAttributes},
		{"join bad default vote", Request{Op: OpJoin, Token: 1, Group: "g",
			Attributes: &Attributes{GroupName: "g", NumPhases: OnePhase, DefaultVote: VoteContinue}}, BadGroupAttributes},
		{"join bad phases", Request{Op: OpJoin, Token: 1, Group: "g",
			Attributes: &Attributes{GroupName: "g", NumPhases: 7, DefaultVote: VoteApprove}}, BadGroupAttributes},
		{"join bad batch", Request{Op: OpJoin, Token: 1, Group: "g",
			Attributes: &Attributes{GroupName: "g", NumPhases: OnePhase, DefaultVote: VoteApprove, BatchControl: 9}}, BadGroupAttributes},
		{"join source is itself", Request{Op: OpJoin, Token: 1, Group: "g",
			Attributes: &Attributes{GroupName: "g", NumPhases: OnePhase, DefaultVote: VoteApprove,
				SourceGroupName: "g", SourceReflectionNumPhases: OnePhase}}, InvalidSourceGroup},
		{"join source without reflection phases", Request{Op: OpJoin, Token: 1, Group: "g",
			Attributes: &Attributes{GroupName: "g", NumPhases: OnePhase, DefaultVote: VoteApprove,
				SourceGroupName: "s"}}, BadGroupAttributes},
		{"join source ok", Request{Op: OpJoin, Token: 1, Group: "g",
			Attributes: &Attributes{GroupName: "g", NumPhases: OnePhase, DefaultVote: VoteApprove,
				SourceGroupName: "HostMembership", SourceReflectionNumPhases: NPhase}}, OK},
		{"join negative instance", Request{Op: OpJoin, Token: 1, Group: "g", Attributes: attrs("g"), Instance: -1}, BadParameter},
		{"join long local name", Request{Op: OpJoin, Token: 1, Group: "g", Attributes: attrs("g"),
			LocalName: strings.Repeat("n", MaxLocalNameLength+1)}, NameTooLong},
		{"leave bad phases", Request{Op: OpLeave, Token: 1}, BadParameter},
		{"expel empty", Request{Op: OpExpel, Token: 1, NumPhases: OnePhase}, BadParameter},
		{"expel twice", Request{Op: OpExpel, Token: 1, NumPhases: OnePhase,
			ExpelList: []Provider{{1, 1}, {1, 1}}}, ProviderAppearsTwice},
		{"expel 1-phase deactivate 2", Request{Op: OpExpel, Token: 1, NumPhases: OnePhase,
			ExpelList: []Provider{{1, 1}}, DeactivatePhase: 2}, InvalidDeactivatePhase},
		{"expel n-phase deactivate 2", Request{Op: OpExpel, Token: 1, NumPhases: NPhase,
			ExpelList: []Provider{{1, 1}}, DeactivatePhase: 2}, OK},
		{"state missing", Request{Op: OpChangeState, Token: 1, NumPhases: OnePhase}, BadParameter},
		{"state at limit", Request{Op: OpChangeState, Token: 1, NumPhases: OnePhase,
			State: make([]byte, MaxStateValueLength)}, OK},
		{"state too long", Request{Op: OpChangeState, Token: 1, NumPhases: OnePhase,
			State: make([]byte, MaxStateValueLength+1)}, StateValueTooLong},
		{"message too long", Request{Op: OpSendMessage, Token: 1, NumPhases: OnePhase,
			Message: make([]byte, MaxProviderMessageLength+1)}, MessageTooLong},
		{"message at limit", Request{Op: OpSendMessage, Token: 1, NumPhases: OnePhase,
			Message: make([]byte, MaxProviderMessageLength)}, OK},
		{"attributes missing", Request{Op: OpChangeAttributes, Token: 1, NumPhases: OnePhase}, BadGroupAttributes},
		{"vote null", Request{Op: OpVote, Token: 1, Vote: NullVote}, BadParameter},
		{"vote continue default reject", Request{Op: OpVote, Token: 1, Vote: VoteContinue, DefaultVote: VoteReject}, OK},
		{"vote default continue", Request{Op: OpVote, Token: 1, Vote: VoteApprove, DefaultVote: VoteContinue}, BadParameter},
		{"vote state too long", Request{Op: OpVote, Token: 1, Vote: VoteApprove, State: make([]byte, MaxStateValueLength+1)}, StateValueTooLong},
		{"subscribe none", Request{Op: OpSubscribe, Token: 1, Group: "g"}, BadParameter},
		{"subscribe deltas only alone", Request{Op: OpSubscribe, Token: 1, Group: "g", Control: SubscribeDeltasOnly}, BadParameter},
		{"subscribe unknown bit", Request{Op: OpSubscribe, Token: 1, Group: "g", Control: 1 << 9}, BadParameter},
		{"subscribe ok", Request{Op: OpSubscribe, Token: 1, Group: "g", Control: SubscribeAllMembership | SubscribeDeltasOnly}, OK},
		{"subscribe long name", Request{Op: OpSubscribe, Token: 1, Group: long, Control: SubscribeStateValue}, NameTooLong},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, tc.req.Check(), "Check of %+v", tc.req)
		})
	}
}

func TestNormalizeTruncatesDeactivateFlag(t *testing.T) {
	long := strings.Repeat("f", 1000)
	r := Request{Op: OpExpel, Token: 1, NumPhases: OnePhase, ExpelList: []Provider{{1, 1}}, DeactivateFlag: &long}
	r.Normalize()
	assert.Len(t, *r.DeactivateFlag, MaxDeactivateFlagLength-1, "the flag keeps 255 bytes plus the C NUL")
	assert.Len(t, long, 1000, "Normalize must not modify the caller's string")
	assert.Equal(t, OK, r.Check())
}

func TestHelloCheck(t *testing.T) {
	cases := []struct {
		name  string
		hello Hello
		want  Code
		why   string
	}{
		{"empty", Hello{}, OK, ""},
		{"program at the limit", Hello{Program: strings.Repeat("p", MaxProgramNameLength)}, OK, ""},
		{"program too long", Hello{Program: strings.Repeat("p", MaxProgramNameLength+1)}, NameTooLong, "program name is 256 bytes"},
		{"script at the limit", Hello{DeactivateScript: "/" + strings.Repeat("s", MaxScriptPathLength-1)}, OK, ""},
		{"script too long", Hello{DeactivateScript: "/" + strings.Repeat("s", MaxScriptPathLength)}, BadParameter, "script path is 4096 bytes"},
	}
	for _, c := range cases {
		code, why := c.hello.Check()
		assert.Equal(t, c.want, code, "%s: code", c.name)
		if c.why != "" {
			assert.Contains(t, why, c.why, "%s: the reason says why", c.name)
		}
	}
}

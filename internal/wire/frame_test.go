package wire

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFrameRoundTrip(t *testing.T) {
	flag := "fast"
	req := Request{
		Op: OpExpel, Token: 7, NumPhases: NPhase, TimeLimit: 5,
		ExpelList:       []Provider{{Instance: 1, Node: 2}, {Instance: 3, Node: 2}},
		DeactivatePhase: 2, DeactivateFlag: &flag,
		State: nil, Message: []byte{},
	}
	note := Notification{
		Type: ApprovedNotification, Token: 3, Group: "g", Protocol: JoinProtocol,
		Proposal: &Proposal{Phase: 1, WhatsChanged: ChangeMembership,
			Current: []Provider{{1, 1}}, Changing: []Provider{{1, 1}}, CurrentState: []byte{}},
	}
	var stream []byte
	var err error
	stream, err = AppendFrame(stream, MsgRequest, &req)
	require.NoError(t, err)
	stream, err = AppendFrame(stream, MsgNotification, &note)
	require.NoError(t, err)

	r := NewReader(bytes.NewReader(stream))
	typ, body, err := r.Next()
	require.NoError(t, err)
	require.Equal(t, MsgRequest, typ)
	var gotReq Request
	require.NoError(t, Decode(body, &gotReq))
	assert.Equal(t, req, gotReq, "a request must survive encoding unchanged")
	assert.Nil(t, gotReq.State, "an absent byte slice must stay nil")
	assert.NotNil(t, gotReq.Message, "a present empty byte slice must stay non-nil")

	typ, body, err = r.Next()
	require.NoError(t, err)
	require.Equal(t, MsgNotification, typ)
	var gotNote Notification
	require.NoError(t, Decode(body, &gotNote))
	assert.Equal(t, note, gotNote, "a notification must survive encoding unchanged")

	_, _, err = r.Next()
	assert.ErrorIs(t, err, io.EOF, "a stream that ends between frames ends with io.EOF")
}

func frame(n uint32, payload []byte) []byte {
	b := binary.BigEndian.AppendUint32(nil, n)
	return append(b, payload...)
}

func TestReaderRejectsBadFrames(t *testing.T) {
	good, err := AppendFrame(nil, MsgHello, &Hello{Pid: 1})
	require.NoError(t, err)

	cases := []struct {
		name string
		in   []byte
		want error
	}{
		{"oversized length", frame(MaxFrameSize+1, nil), ErrFrameTooLarge},
		{"shorter than header", frame(1, []byte{Version}), ErrShortFrame},
		{"wrong version", frame(2, []byte{Version + 1, byte(MsgHello)}), ErrBadVersion},
		{"unknown type", frame(2, []byte{Version, 200}), ErrUnknownType},
		{"zero type", frame(2, []byte{Version, 0}), ErrUnknownType},
		{"truncated body", good[:len(good)-1], io.ErrUnexpectedEOF},
		{"truncated length", good[:2], io.ErrUnexpectedEOF},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := NewReader(bytes.NewReader(tc.in)).Next()
			assert.ErrorIs(t, err, tc.want)
		})
	}
}

func TestDecodeRejectsGarbageAndTrailingBytes(t *testing.T) {
	var h Hello
	assert.Error(t, Decode([]byte{0xc1}, &h), "0xc1 is never valid msgpack")
	assert.Error(t, Decode([]byte("\x81\xa3pid\xa5hello"), &h), "a string where an int belongs is an error")
	b, err := AppendFrame(nil, MsgHello, &Hello{Pid: 9})
	require.NoError(t, err)
	body := append(append([]byte{}, b[lengthSize+headerSize:]...), 0x01)
	assert.ErrorIs(t, Decode(body, &h), ErrTrailingBytes)
}

func TestAppendFrameRefusesOversizedBody(t *testing.T) {
	big := Request{Op: OpSendMessage, Token: 1, NumPhases: OnePhase, Message: make([]byte, MaxFrameSize)}
	_, err := AppendFrame(nil, MsgRequest, &big)
	assert.ErrorIs(t, err, ErrFrameTooLarge)
}

func TestCodeNames(t *testing.T) {
	seen := map[string]bool{}
	for _, c := range AllCodes() {
		name := c.String()
		assert.True(t, strings.HasPrefix(name, "HA_GS_"), "code %d has a C name", c)
		assert.False(t, seen[name], "code name %s is unique", name)
		seen[name] = true
	}
	assert.Equal(t, "HA_GS_OK", OK.String())
	assert.Equal(t, "HA_GS_FORKED_CHILD", ForkedChild.String(), "the last code keeps its place")
	assert.False(t, Code(999).Valid())
	assert.Equal(t, "HA_GS_UNKNOWN_CODE", Code(-1).String())
}

func TestErrorsAreDistinct(t *testing.T) {
	all := []error{ErrFrameTooLarge, ErrShortFrame, ErrBadVersion, ErrUnknownType, ErrTrailingBytes}
	for i, a := range all {
		for j, b := range all {
			assert.Equal(t, i == j, errors.Is(a, b), "%v vs %v", a, b)
		}
	}
}

func TestNames(t *testing.T) {
	assert.Equal(t, "JOIN", JoinProtocol.String())
	assert.Equal(t, "77", RequestType(77).String(), "an unknown value prints as its number")
	assert.Equal(t, "EXPLICIT_REJECT|TIME_LIMIT_EXCEEDED", (ExplicitReject | TimeLimitExceeded).String())
	assert.Equal(t, "0", SummaryCode(0).String())
	assert.Equal(t, "MEMBERSHIP|0x80", (ChangeMembership | 0x80).String(), "unknown bits are shown, not dropped")
	assert.Equal(t, "1@2,3@4", FormatProviders([]Provider{{1, 2}, {3, 4}}))
	assert.Equal(t, "-", FormatProviders(nil))
	assert.Equal(t, "SAID_GOODBYE", ProviderSaidGoodbye.String())
	assert.Equal(t, "TIMED_OUT", DeactivateTimedOut.String())
	assert.Equal(t, "CONTINUE", VoteContinue.String())
	assert.Equal(t, "DISSOLVED", SubscriptionDissolved.String())
	assert.Equal(t, "DELAYED_ERROR", DelayedErrorNotification.String())
}

// TestProtocolKindShortNames: every protocol kind with a name in String
// has a short one (hagsctl's), each distinct; a kind without one is
// "unknown".
func TestProtocolKindShortNames(t *testing.T) {
	seen := map[string]bool{}
	for k := range requestTypeNames {
		short := k.Short()
		assert.NotEqual(t, "unknown", short, "%s has a short name", k)
		assert.False(t, seen[short], "%s's short name %q is its own", k, short)
		seen[short] = true
	}
	assert.Equal(t, "failure-leave", FailureLeaveProtocol.Short())
	assert.Equal(t, "state-change", StateValueChangeProtocol.Short())
	assert.Equal(t, "unknown", RequestType(77).Short(), "a kind without a name")
}

// TestNextWithinRefusesBeforeReading: a frame whose length prefix exceeds
// the caller's limit is refused without its payload being read, and a frame
// within the limit reads as with Next.
func TestNextWithinRefusesBeforeReading(t *testing.T) {
	small, err := AppendFrame(nil, MsgHello, &Hello{Program: "p"})
	require.NoError(t, err)
	big, err := AppendFrame(nil, MsgHello, &Hello{Program: strings.Repeat("p", 100)})
	require.NoError(t, err)

	typ, _, err := NewReader(bytes.NewReader(small)).NextWithin(64)
	require.NoError(t, err, "a frame within the limit is read")
	assert.Equal(t, MsgHello, typ)

	src := bytes.NewReader(big)
	_, _, err = NewReader(src).NextWithin(64)
	assert.ErrorIs(t, err, ErrFrameTooLarge, "a frame over the limit is refused")
	assert.Contains(t, err.Error(), "at most 64", "the error names the limit")

	huge := binary.BigEndian.AppendUint32(nil, MaxFrameSize+1)
	_, _, err = NewReader(bytes.NewReader(huge)).NextWithin(1 << 30)
	assert.ErrorIs(t, err, ErrFrameTooLarge, "a limit above MaxFrameSize does not raise it")
}

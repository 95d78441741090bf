package wire

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func sampleNotifications() []*Notification {
	members := []Provider{{Instance: 1, Node: 1}, {Instance: 2, Node: 1}, {Instance: 300, Node: 70000}}
	return []*Notification{
		{Type: ApprovedNotification, Token: 9, Group: "svc", Protocol: JoinProtocol, Summary: ExplicitApprove,
			Proposal: &Proposal{Phase: 1, WhatsChanged: ChangeMembership, Current: members, Changing: members[2:]}},
		{Type: NPhaseNotification, Group: "tok", Protocol: StateValueChangeProtocol, TimeLimit: 10,
			Proposal: &Proposal{Phase: 2, Current: members, ProposedState: []byte{0xa3, 't', 'o', 'k', 0, 1}}},
		{Type: SubscriptionNotification, Group: "g", SubType: SubscriptionStateValue, State: []byte("v"), Full: members},
		{Type: DelayedErrorNotification, Code: Collide, Failing: &Request{Op: OpJoin, Token: 1, Group: "g"}, FFDC: "id"},
		{Type: AnnouncementNotification, Group: "g", Providers: members},
	}
}

// TestNotificationFramesMatchAppendFrame: a frame spliced for a token is
// the frame AppendFrame makes for the notification with that token.
func TestNotificationFramesMatchAppendFrame(t *testing.T) {
	tokens := []int32{1, 2, 127, 128, 255, 256, 65535, 65536, math.MaxInt32, -1, -32, -33, -128, -129, -32768, -32769, math.MinInt32}
	for _, n := range sampleNotifications() {
		f, err := NewNotificationFrames(n)
		require.NoError(t, err, "type %d encodes", n.Type)
		for _, tok := range tokens {
			c := *n
			c.Token = tok
			want, err := AppendFrame(nil, MsgNotification, &c)
			require.NoError(t, err)
			got := f.Append([]byte{0xee}, tok)
			require.Equal(t, byte(0xee), got[0], "Append appends to dst")
			assert.Equal(t, want, got[1:], "type %d, token %d: the spliced frame equals the encoded one", n.Type, tok)

			var back Notification
			require.NoError(t, Decode(got[1+lengthSize+headerSize:], &back), "the spliced frame decodes")
			assert.Equal(t, tok, back.Token, "the recipient's token is in the frame")
		}
	}
}

func TestNotificationFramesIgnoreTheNotesToken(t *testing.T) {
	n := sampleNotifications()[0]
	f, err := NewNotificationFrames(n)
	require.NoError(t, err)
	assert.Equal(t, int32(9), n.Token, "the caller's notification is not changed")
	c := *n
	c.Token = 4
	want, _ := AppendFrame(nil, MsgNotification, &c)
	assert.Equal(t, want, f.Append(nil, 4), "the frame carries the token given to Append, not the note's")
}

func BenchmarkNotificationFrames(b *testing.B) {
	n := sampleNotifications()[0]
	b.Run("AppendFrame", func(b *testing.B) {
		c := *n
		for b.Loop() {
			c.Token++
			_, _ = AppendFrame(nil, MsgNotification, &c)
		}
	})
	b.Run("Spliced8", func(b *testing.B) {
		for b.Loop() {
			f, _ := NewNotificationFrames(n)
			for tok := range int32(8) {
				_ = f.Append(nil, tok+1)
			}
		}
	})
}

func TestNotificationFramesRefuseWhatMightNotFit(t *testing.T) {
	n := &Notification{Type: SubscriptionNotification, Group: "g", State: make([]byte, MaxFrameSize-40)}
	_, err := NewNotificationFrames(n)
	assert.ErrorIs(t, err, ErrFrameTooLarge, "a body within 4 bytes of the limit is not spliced (a token may need them)")
}

package mgmtwire

import (
	"bytes"
	"encoding/binary"
	"io"
	"net"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhags/hags/internal/wire"
)

// pipe returns two Conns joined by an in-memory stream.
func pipe(t *testing.T, max int) (*Conn, *Conn) {
	t.Helper()
	a, b := net.Pipe()
	t.Cleanup(func() { a.Close(); b.Close() })
	return NewConn(a, max), NewConn(b, max)
}

// send runs c.Send in its own goroutine (net.Pipe has no buffer) and
// returns a channel with its error.
func send(c *Conn, typ wire.MsgType, v any) <-chan error {
	done := make(chan error, 1)
	go func() { done <- c.Send(typ, v) }()
	return done
}

func TestMessagesRoundTrip(t *testing.T) {
	a, b := pipe(t, MaxMessageClient)
	body, err := EncodeBody([]string{"one", "two"})
	require.NoError(t, err)
	msgs := []struct {
		typ wire.MsgType
		v   any
		out any
	}{
		{MsgWelcome, &Welcome{Access: AccessAll}, &Welcome{}},
		{MsgRequest, &Request{ID: 7, Op: OpMoveGroup, Handle: 3, NodeHandle: 4, IgnoreLocked: true,
			Params: map[string]string{"k": "v"}, Nodes: []string{"NodeA", "NodeB"}}, &Request{}},
		{MsgResponse, &Response{ID: 7, Code: 997, Message: "moving", Handle: 2, Body: body}, &Response{}},
		{MsgEvent, &Event{Watch: 9, Change: body}, &Event{}},
	}
	for _, m := range msgs {
		done := send(a, m.typ, m.v)
		typ, got, err := b.Recv()
		require.NoError(t, err, "%T is received", m.v)
		require.NoError(t, <-done, "%T is sent", m.v)
		assert.Equal(t, m.typ, typ, "%T keeps its type", m.v)
		require.NoError(t, Decode(got, m.out))
		assert.Equal(t, m.v, m.out, "%T survives the trip unchanged", m.v)
	}
	var list []string
	require.NoError(t, DecodeBody(body, &list))
	assert.Equal(t, []string{"one", "two"}, list, "a body decodes to what was encoded")
	assert.Error(t, DecodeBody(nil, &list), "an empty body is no object")
}

// TestLargeMessageGoesInParts: a message larger than a frame is sent as
// parts and received whole; a receiver with a smaller bound refuses it
// before holding more than its bound.
func TestLargeMessageGoesInParts(t *testing.T) {
	big := &Request{ID: 1, Op: OpApplyConfig, Expr: strings.Repeat("x", 3*wire.MaxFrameSize)}
	var stream bytes.Buffer
	w := NewConn(&bufConn{Buffer: &stream}, MaxMessageAll)
	require.NoError(t, w.Send(MsgRequest, big))
	assert.Greater(t, stream.Len(), 3*wire.MaxFrameSize, "the whole message is written")

	raw := stream.Bytes()
	r := NewConn(&bufConn{Buffer: bytes.NewBuffer(append([]byte(nil), raw...))}, MaxMessageAll)
	typ, body, err := r.Recv()
	require.NoError(t, err, "the parts join into one message")
	assert.Equal(t, MsgRequest, typ, "the joined message has the type of its parts")
	var got Request
	require.NoError(t, Decode(body, &got))
	assert.Equal(t, *big, got, "the joined message is the one sent")

	small := NewConn(&bufConn{Buffer: bytes.NewBuffer(append([]byte(nil), raw...))}, MaxMessageRead)
	_, _, err = small.Recv()
	assert.ErrorIs(t, err, ErrMessageTooLarge, "a Read connection's bound stops the parts")
}

func TestRecvRefusesBadRuns(t *testing.T) {
	frame := func(typ wire.MsgType, v any) []byte {
		b, err := wire.AppendFrame(nil, typ, v)
		require.NoError(t, err)
		return b
	}
	cases := []struct {
		name   string
		stream []byte
		want   error
	}{
		{"a frame inside a run of parts", append(frame(MsgPart, &Part{Type: MsgRequest, Data: []byte{}}),
			frame(MsgRequest, &Request{ID: 1})...), ErrBadPart},
		{"a part of parts", frame(MsgPart, &Part{Type: MsgPart, Last: true, Data: []byte{0xc0}}), ErrBadPart},
		{"a part of an unknown type", frame(MsgPart, &Part{Type: 99, Last: true, Data: []byte{0xc0}}), ErrBadPart},
		{"a part that is no Part", frame(MsgPart, "hello"), ErrBadPart},
		{"a type of hagsd's protocol", frame(wire.MsgType(9), &Request{}), wire.ErrUnknownType},
		{"a stream cut inside a run", frame(MsgPart, &Part{Type: MsgRequest, Data: []byte{0x80}}), io.EOF},
		{"a frame over the bound", frame(MsgRequest, &Request{Expr: strings.Repeat("y", 200)}), ErrMessageTooLarge},
		{"a lying length", binary.BigEndian.AppendUint32(nil, wire.MaxFrameSize+1), wire.ErrFrameTooLarge},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := NewConn(&bufConn{Buffer: bytes.NewBuffer(tc.stream)}, 100)
			_, _, err := c.Recv()
			assert.ErrorIs(t, err, tc.want)
		})
	}
}

func TestOps(t *testing.T) {
	for _, o := range Ops() {
		assert.True(t, o.Known(), "%s is known", o)
		assert.NotContains(t, o.String(), "op-", "%d has a name", o)
		assert.Equal(t, o >= OpCreateGroup, o.Mutating(), "%s mutates exactly when it is 32 or more", o)
		assert.Equal(t, o.Mutating() || o == OpConsole, o.NeedsAll(), "%s needs access All when it mutates or hands out the console's token", o)
	}
	assert.False(t, Op(0).Known(), "0 is no operation")
	assert.False(t, Op(200).Known(), "200 is no operation")
	assert.Len(t, Ops(), 15+25, "15 reads (console among them) and 25 mutating operations")
}

// bufConn is a net.Conn over a buffer, for streams built in advance.
type bufConn struct {
	net.Conn
	*bytes.Buffer
}

func (c *bufConn) Read(p []byte) (int, error)  { return c.Buffer.Read(p) }
func (c *bufConn) Write(p []byte) (int, error) { return c.Buffer.Write(p) }
func (c *bufConn) Close() error                { return nil }

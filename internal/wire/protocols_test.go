package wire

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestReaderOfAnotherProtocol: a Reader made with NewReaderOf accepts the
// types its validity function names and refuses the others, including
// this package's own, with ErrUnknownType; every other frame rule holds.
func TestReaderOfAnotherProtocol(t *testing.T) {
	mine := func(t MsgType) bool { return t == 40 || t == 41 }
	var stream []byte
	var err error
	stream, err = AppendFrame(stream, 40, map[string]int{"a": 1})
	require.NoError(t, err)
	stream, err = AppendFrame(stream, 41, "x")
	require.NoError(t, err)

	r := NewReaderOf(bytes.NewReader(stream), mine)
	typ, body, err := r.Next()
	require.NoError(t, err, "type 40 is the other protocol's")
	assert.Equal(t, MsgType(40), typ)
	var m map[string]int
	require.NoError(t, Decode(body, &m))
	assert.Equal(t, map[string]int{"a": 1}, m, "the body decodes as sent")
	typ, _, err = r.Next()
	require.NoError(t, err, "type 41 is the other protocol's")
	assert.Equal(t, MsgType(41), typ)

	hello, err := AppendFrame(nil, MsgHello, &Hello{Pid: 1})
	require.NoError(t, err)
	_, _, err = NewReaderOf(bytes.NewReader(hello), mine).Next()
	assert.ErrorIs(t, err, ErrUnknownType, "hagsd's Hello is no message of the other protocol")
	_, _, err = NewReaderOf(bytes.NewReader(frame(MaxFrameSize+1, nil)), mine).Next()
	assert.ErrorIs(t, err, ErrFrameTooLarge, "the size bound holds for other protocols too")
	_, _, err = NewReaderOf(bytes.NewReader(frame(2, []byte{Version + 1, 40})), mine).Next()
	assert.ErrorIs(t, err, ErrBadVersion, "the version byte holds for other protocols too")

	_, _, err = NewReader(bytes.NewReader(stream)).Next()
	assert.ErrorIs(t, err, ErrUnknownType, "NewReader still knows only hagsd's types")
}

// TestFramesWithinAnotherBound: a protocol with a larger bound than
// MaxFrameSize writes and reads frames up to it, refuses larger ones on
// both sides, and a frame beyond MaxFrameSize is not kept in the Reader's
// buffer; the bound of other Readers is unchanged.
func TestFramesWithinAnotherBound(t *testing.T) {
	mine := func(t MsgType) bool { return t == 40 }
	const bound = 4 * MaxFrameSize
	big := make([]byte, 2*MaxFrameSize)
	stream, err := AppendFrameWithin(nil, 40, big, bound)
	require.NoError(t, err, "a frame within the protocol's bound is written")
	_, err = AppendFrame(nil, 40, big)
	assert.ErrorIs(t, err, ErrFrameTooLarge, "AppendFrame keeps MaxFrameSize")
	_, err = AppendFrameWithin(nil, 40, make([]byte, bound), bound)
	assert.ErrorIs(t, err, ErrFrameTooLarge, "a frame beyond the protocol's bound is refused when written")

	r := NewReaderWithin(bytes.NewReader(stream), mine, bound)
	typ, body, err := r.Next()
	require.NoError(t, err, "a frame within the protocol's bound is read")
	assert.Equal(t, MsgType(40), typ)
	var got []byte
	require.NoError(t, Decode(body, &got))
	assert.Len(t, got, len(big), "the body decodes as sent")
	assert.Zero(t, cap(r.buf), "a frame beyond MaxFrameSize is not kept in the Reader's buffer")

	_, _, err = NewReaderWithin(bytes.NewReader(frame(bound+1, nil)), mine, bound).Next()
	assert.ErrorIs(t, err, ErrFrameTooLarge, "a frame beyond the protocol's bound is refused before it is read")
	_, _, err = NewReaderOf(bytes.NewReader(stream), mine).Next()
	assert.ErrorIs(t, err, ErrFrameTooLarge, "NewReaderOf keeps MaxFrameSize")
}

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

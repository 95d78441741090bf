package daemon

import (
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/openhags/hags/internal/wire"
)

// TestHugeDeclaredLengthIsRefused: a client frame of a few bytes whose
// request declares an expel list of a billion providers is refused with
// BadParameter like any malformed frame; the daemon allocates nothing for
// it (it used to try, and die of it) and goes on serving.
func TestHugeDeclaredLengthIsRefused(t *testing.T) {
	tn := startNode(t, Config{}, nil)
	good := dialRaw(t, tn.socket)
	good.hello(false)

	body := []byte{0x83, 0xa2, 'o', 'p', byte(wire.OpExpel), 0xa3, 't', 'o', 'k', 0x01, 0xa5, 'e', 'x', 'p', 'e', 'l', 0xdd}
	body = binary.BigEndian.AppendUint32(body, 1<<30)
	frame := binary.BigEndian.AppendUint32(nil, uint32(2+len(body)))
	frame = append(append(frame, wire.Version, byte(wire.MsgRequest)), body...)

	bad := dialRaw(t, tn.socket)
	bad.hello(false)
	bad.write(frame)
	var r wire.Refused
	bad.read(wire.MsgRefused, &r)
	assert.Equal(t, wire.BadParameter, r.Code, "a frame declaring more than it holds is malformed")
	assert.Contains(t, r.Reason, "malformed msgpack", "the refusal says why")
	bad.requireClosed()
	good.roundTrip(1)
}

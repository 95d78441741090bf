package daemon

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/openhags/hags/daemon/protocol"
	"github.com/openhags/hags/internal/wire"
)

// TestOtherWireLevelIsNotSupported: a peer whose first frame speaks another
// version of the wire protocol (a library of another level than the
// daemon) is refused with NotSupported, not BadParameter, and the daemon
// goes on serving others.
func TestOtherWireLevelIsNotSupported(t *testing.T) {
	tn := startNode(t, Config{}, nil)
	good := dialRaw(t, tn.socket)
	good.hello(false)

	hello, err := wire.AppendFrame(nil, wire.MsgHello, &wire.Hello{Pid: 1, Program: "newer"})
	assert.NoError(t, err)
	hello[4] = wire.Version + 1
	newer := dialRaw(t, tn.socket)
	newer.write(hello)
	var r wire.Refused
	newer.read(wire.MsgRefused, &r)
	assert.Equal(t, wire.NotSupported, r.Code, "a library of another wire level is not supported")
	assert.Contains(t, r.Reason, "version", "the refusal names the version")
	newer.requireClosed()
	good.roundTrip(1)
}

// TestUnknownOperationIsNotSupported: a request whose operation this
// daemon does not know (sent by a newer library) is refused with a
// delayed NotSupported by the real engine; an operation of 0 is malformed
// (BadParameter).
func TestUnknownOperationIsNotSupported(t *testing.T) {
	tn := startNode(t, Config{}, protocol.New())
	c := dialRaw(t, tn.socket)
	c.hello(false)
	for _, tc := range []struct {
		op   wire.Op
		want wire.Code
	}{{wire.OpQuit + 1, wire.NotSupported}, {200, wire.NotSupported}, {0, wire.BadParameter}} {
		c.send(wire.MsgRequest, &wire.Request{Op: tc.op, Token: 1, Group: "g"})
		var n wire.Notification
		c.read(wire.MsgNotification, &n)
		assert.Equal(t, wire.DelayedErrorNotification, n.Type, "op %d is refused", tc.op)
		assert.Equal(t, tc.want, n.Code, "op %d is refused with %s", tc.op, tc.want)
	}
}

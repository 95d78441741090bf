package daemon

import (
	"encoding/binary"
	"net"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhags/hags/daemon/protocol"
	"github.com/openhags/hags/internal/wire"
)

func TestDelayedErrorCarriesLoggedFFDC(t *testing.T) {
	tn := startNode(t, Config{Node: 2, Incarnation: 9}, protocol.New())
	c := dialRaw(t, tn.socket)
	c.hello(false)
	c.send(wire.MsgRequest, &wire.Request{Op: wire.OpSubscribe, Token: 1, Group: "nosuch", Control: wire.SubscribeStateValue})
	var n wire.Notification
	c.read(wire.MsgNotification, &n)
	require.Equal(t, wire.DelayedErrorNotification, n.Type, "subscribing to an unknown group is a delayed error")
	require.Equal(t, wire.UnknownGroup, n.Code, "the delayed error says UnknownGroup")
	require.NotEmpty(t, n.FFDC, "a delayed error carries an FFDC id")
	assert.LessOrEqual(t, len(n.FFDC), wire.MaxFFDCLength, "the id fits in fc_eid_t")
	assert.Contains(t, tn.logs.String(), "ffdc_id="+n.FFDC, "the daemon logs the error under the id it sends")

	c.send(wire.MsgRequest, &wire.Request{Op: wire.OpSubscribe, Token: 2, Group: "nosuch", Control: wire.SubscribeStateValue})
	var n2 wire.Notification
	c.read(wire.MsgNotification, &n2)
	assert.NotEqual(t, n.FFDC, n2.FFDC, "every reported error gets its own id")
}

func TestProtocolBreachIsRefusedWithFFDC(t *testing.T) {
	tn := startNode(t, Config{}, nil)
	c := dialRaw(t, tn.socket)
	c.hello(false)
	// A frame shorter than its header, in one write: the daemon may close
	// as soon as it has read the length, so a second write could fail.
	c.write(append(binary.BigEndian.AppendUint32(nil, 1), wire.Version))
	var r wire.Refused
	c.read(wire.MsgRefused, &r)
	assert.Equal(t, wire.BadParameter, r.Code, "a bad frame ends the session with BadParameter")
	require.NotEmpty(t, r.FFDC, "the refusal carries an FFDC id")
	assert.Contains(t, tn.logs.String(), "ffdc_id="+r.FFDC, "the daemon logs the breach under the id it sends")
	c.requireClosed()
}

func TestRefusalCarriesLoggedFFDC(t *testing.T) {
	tn2 := startNode(t, Config{Authorize: func(net.Conn) (protocol.Cred, error) {
		return protocol.Cred{Uid: 1234}, assert.AnError
	}}, nil)
	c := dialRaw(t, tn2.socket)
	var r wire.Refused
	c.read(wire.MsgRefused, &r)
	assert.Equal(t, wire.PermissionDenied, r.Code, "an unauthorized peer is refused with PermissionDenied")
	require.NotEmpty(t, r.FFDC, "the refusal carries an FFDC id")
	assert.Contains(t, tn2.logs.String(), "ffdc_id="+r.FFDC, "the daemon logs the refusal under the id it sends")
}

func TestWelcomeListsLocalAdapters(t *testing.T) {
	tn := startNode(t, Config{Node: 4}, nil)
	c := dialRaw(t, tn.socket)
	w := c.hello(false)
	require.NotEmpty(t, w.Adapters, "Welcome lists this node's interface addresses")
	var loopback bool
	for _, a := range w.Adapters {
		assert.Equal(t, int32(4), a.Node, "every adapter belongs to this node")
		assert.NotEmpty(t, a.Interface, "every adapter names its interface")
		assert.Contains(t, []int{4, 16}, len(a.Addr), "addresses are 4 or 16 bytes")
		loopback = loopback || net.IP(a.Addr).Equal(net.IPv4(127, 0, 0, 1))
	}
	assert.True(t, loopback, "127.0.0.1 is among the node's addresses")
}

package daemon

import (
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhags/hags/daemon/protocol"
	"github.com/openhags/hags/internal/wire"
)

// ping reads the next responsiveness check and returns its Seq.
func (c *rawClient) ping() uint64 {
	c.t.Helper()
	n := c.notification()
	require.Equal(c.t, wire.ResponsivenessNotification, n.Type, "the daemon sends a responsiveness check")
	require.NotNil(c.t, n.Responsiveness, "the check carries the client's settings")
	return n.Seq
}

func respondingClient(t *testing.T, typ wire.ResponsivenessType) (*testNode, *rawClient, protocol.ClientID) {
	tn := startNode(t, Config{}, nil)
	tn.respUnit = 20 * time.Millisecond
	c := dialRaw(t, tn.socket)
	c.send(wire.MsgHello, &wire.Hello{Pid: int32(os.Getpid()),
		Responsiveness: wire.Responsiveness{Type: typ, Interval: 1, ResponseTimeLimit: 5}})
	var w wire.Welcome
	c.read(wire.MsgWelcome, &w)
	ev := tn.eng.next(t, protocol.EventConnect)
	return tn, c, ev.Client
}

func TestPingResponsiveness(t *testing.T) {
	tn, c, id := respondingClient(t, wire.PingResponsiveness)

	seq := c.ping()
	c.send(wire.MsgRespond, &wire.Respond{Seq: seq, RC: wire.CallbackOK})
	seq2 := c.ping()
	assert.Greater(t, seq2, seq, "each check has a new Seq")

	// Not answering seq2 fails the check.
	ev := tn.eng.next(t, protocol.EventResponsiveness)
	assert.Equal(t, id, ev.Client, "the verdict names the client")
	assert.False(t, ev.Responsive, "an unanswered check makes the client unresponsive")

	// A callback that answers NOT_OK keeps it unresponsive (no new event);
	// an OK answer makes it responsive again.
	seq3 := c.ping()
	c.send(wire.MsgRespond, &wire.Respond{Seq: seq3, RC: wire.CallbackNotOK})
	seq4 := c.ping()
	c.send(wire.MsgRespond, &wire.Respond{Seq: seq4 - 1, RC: wire.CallbackOK}) // stale: ignored
	c.send(wire.MsgRespond, &wire.Respond{Seq: seq4, RC: wire.CallbackOK})
	ev = tn.eng.next(t, protocol.EventResponsiveness)
	assert.True(t, ev.Responsive, "an OK answer makes the client responsive again")
}

func TestCounterResponsiveness(t *testing.T) {
	tn, c, _ := respondingClient(t, wire.CounterResponsiveness)
	c.send(wire.MsgRespond, &wire.Respond{Seq: c.ping(), Counter: 1})
	c.send(wire.MsgRespond, &wire.Respond{Seq: c.ping(), Counter: 2})
	c.send(wire.MsgRespond, &wire.Respond{Seq: c.ping(), Counter: 2})
	ev := tn.eng.next(t, protocol.EventResponsiveness)
	assert.False(t, ev.Responsive, "a counter that did not advance fails the check")
}

package daemon

import (
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhags/hags/daemon/protocol"
	"github.com/openhags/hags/internal/wire"
)

// TestOneNotificationManyTokens: a notification for several local
// recipients is encoded once; each recipient still gets its own token,
// whatever the size of its encoding.
func TestOneNotificationManyTokens(t *testing.T) {
	var pids atomic.Int32
	pids.Store(2000)
	tn := startNode(t, Config{Node: 1, Authorize: func(net.Conn) (protocol.Cred, error) {
		return protocol.Cred{Pid: pids.Add(1)}, nil
	}}, protocol.New())

	tokens := []int32{1, 300, 70000, 127}
	var clients []*rawClient
	for i, tok := range tokens {
		c := dialRaw(t, tn.socket)
		c.hello(false)
		c.send(wire.MsgRequest, joinReq(tok, int32(i+1)))
		clients = append(clients, c)
		for j, earlier := range clients {
			n := earlier.notification()
			assert.Equal(t, wire.ApprovedNotification, n.Type, "join %d is approved", i+1)
			assert.Equal(t, tokens[j], n.Token, "provider %d hears of join %d under its own token", j+1, i+1)
			require.NotNil(t, n.Proposal, "the approval has a proposal")
			assert.Len(t, n.Proposal.Current, i+1, "the approval lists the group after join %d", i+1)
		}
	}
}

// TestIdleMemoryReturn: once the run loop has been idle after some work,
// the daemon returns its free memory once, and not again until it has
// worked again.
func TestIdleMemoryReturn(t *testing.T) {
	calls := make(chan struct{}, 8)
	oldAfter, oldReturn := idleMemoryReturn, returnMemory
	idleMemoryReturn, returnMemory = 20*time.Millisecond, func() { calls <- struct{}{} }
	t.Cleanup(func() { idleMemoryReturn, returnMemory = oldAfter, oldReturn })
	tn := startNode(t, Config{}, nil)

	quiet := func(what string) {
		t.Helper()
		select {
		case <-calls:
			t.Fatalf("an idle daemon should return its memory once, not at every idle period (%s)", what)
		case <-time.After(10 * idleMemoryReturn):
		}
	}
	c := dialRaw(t, tn.socket)
	c.hello(false)
	c.roundTrip(1)
	// The daemon's own start (its admission) and the round trip may each
	// be followed by a return: wait until the returns stop.
	select {
	case <-calls:
	case <-time.After(waitBudget):
		t.Fatal("the daemon should return its memory once idle after work")
	}
	for settled := false; !settled; {
		select {
		case <-calls:
		case <-time.After(10 * idleMemoryReturn):
			settled = true
		}
	}
	c.roundTrip(2)
	select {
	case <-calls:
	case <-time.After(waitBudget):
		t.Fatal("after more work the daemon should return its memory again")
	}
	quiet("after the second work")
}

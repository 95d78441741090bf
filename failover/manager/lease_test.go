package manager

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sync/errgroup"

	"github.com/openhags/hags/failover/engine"
	"github.com/openhags/hags/gsapi"
)

// stuckSender is a hagsd session whose writes wait until released, as a
// write to a hagsd that does not read does.
type stuckSender struct {
	sent    chan uint64
	release chan error
}

func (s *stuckSender) SendMessage(_ gsapi.Token, req gsapi.MessageRequest) error {
	var r renewal
	if err := decode(req.Message, &r); err != nil {
		return err
	}
	s.sent <- r.Seq
	return <-s.release
}

// TestLeaseTickDoesNotWaitForTheWrite: while a renewal's write waits, the
// tick returns, the lease's lock is free (the client's dispatcher hands
// approvals over under it), and no second renewal is sent; a write that
// fails lets the next tick send another.
func TestLeaseTickDoesNotWaitForTheWrite(t *testing.T) {
	m, err := New(Config{Name: "NodeA", StateDir: t.TempDir(), Runner: idleRunner{},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	require.NoError(t, err)
	m.g, _ = errgroup.WithContext(context.Background())
	s := &stuckSender{sent: make(chan uint64, 4), release: make(chan error)}
	m.lease.setConn(&leaseConn{gs: s, tok: 1, node: 1, inc: 1, session: 1})

	ticked := make(chan struct{})
	go func() { m.tickLease(); close(ticked) }()
	select {
	case seq := <-s.sent:
		assert.Equal(t, uint64(1), seq, "the first renewal")
	case <-time.After(10 * time.Second):
		t.Fatal("no renewal was sent")
	}
	select {
	case <-ticked:
	case <-time.After(10 * time.Second):
		t.Fatal("the tick waited for the renewal's write")
	}
	require.True(t, m.lease.mu.TryLock(), "the lease's lock is free while the write waits")
	assert.True(t, m.lease.busy, "the renewal in flight is counted")
	m.lease.mu.Unlock()

	m.tickLease()
	select {
	case seq := <-s.sent:
		t.Fatalf("renewal %d sent while renewal 1 was in flight", seq)
	default:
	}

	s.release <- errors.New("connection reset")
	require.NoError(t, m.g.Wait())
	m.lease.mu.Lock()
	assert.False(t, m.lease.busy, "a failed write frees the next tick to renew")
	assert.NotContains(t, m.lease.sentAt, uint64(1), "the failed renewal is forgotten")
	m.lease.mu.Unlock()

	go m.tickLease()
	select {
	case seq := <-s.sent:
		assert.Equal(t, uint64(2), seq, "the next tick sends another renewal")
	case <-time.After(10 * time.Second):
		t.Fatal("no renewal after the failed one")
	}
	s.release <- nil
	require.NoError(t, m.g.Wait())
}

// TestHeldStartsEndWithTheSession: a node already fenced (its lease ran
// out) holds the starts its engine asks for; when its hagsd session then
// ends, those starts are dropped, so the next session's lease does not
// run them.
func TestHeldStartsEndWithTheSession(t *testing.T) {
	m, err := New(Config{Name: "NodeA", StateDir: t.TempDir(), Runner: idleRunner{},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	m.ctx = ctx
	m.lease.fenced = true
	m.runAction(engine.Action{ID: 1, Resource: "r1", Op: engine.ActStart})
	require.Len(t, m.held, 1, "without a lease the start is held")

	m.sessionLost(errors.New("hagsd went away"))
	assert.Empty(t, m.held, "the held start ends with the session that asked for it")
}

package integration

import (
	"context"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sync/errgroup"

	"github.com/openhags/hags/daemon"
	"github.com/openhags/hags/daemon/ipc"
	"github.com/openhags/hags/gsapi"
	"github.com/openhags/hags/internal/wire"
)

// Load: many sessions and groups on one real hagsd, and clients that stop
// reading or stop dispatching, while the others keep being served.

// rssKiB returns a process's resident set size in KiB.
func rssKiB(t *testing.T, pid int) int {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	require.NoError(t, err)
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			require.NoError(t, err)
			return n
		}
	}
	t.Fatal("no VmRSS in /proc/PID/status")
	return 0
}

// status asks the daemon at socket for its status.
func status(t *testing.T, socket string) *wire.Status {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	a, err := ipc.DialAdmin(ctx, socket, "load-test")
	require.NoError(t, err)
	defer a.Close()
	rep, err := a.Query(ctx, wire.AdminQuery{What: "status"})
	require.NoError(t, err)
	return rep.Status
}

func oneGroup(name string) gsapi.Attributes {
	return gsapi.Attributes{GroupName: name, NumPhases: gsapi.OnePhase, DefaultVote: gsapi.VoteApprove}
}

// TestLoadThousandClientsTenThousandGroups: 1,000 client sessions on one
// daemon create 10,000 groups (ten each); every join is approved, the
// daemon keeps serving a newcomer promptly, its memory stays bounded, and
// when the clients go every group dissolves.
func TestLoadThousandClientsTenThousandGroups(t *testing.T) {
	const clients, perClient = 1000, 10
	c := startCluster(t)
	pid := c.daemon.Pid()
	before := rssKiB(t, pid)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var approved atomic.Int64
	cls := make([]*gsapi.Client, clients)
	var g errgroup.Group
	g.SetLimit(16)
	start := time.Now()
	for i := range cls {
		g.Go(func() error {
			cl, err := gsapi.Dial(ctx, gsapi.WithSocket(c.socket), gsapi.WithProgram("load"))
			if err != nil {
				return fmt.Errorf("client %d: %w", i, err)
			}
			cls[i] = cl
			go cl.Run(ctx)
			for k := range perClient {
				_, err := cl.Join(gsapi.JoinRequest{Attributes: oneGroup(fmt.Sprintf("load-%04d-%d", i, k)), Instance: 1,
					Callbacks: gsapi.ProviderCallbacks{Approved: func(*gsapi.Notification) { approved.Add(1) }}})
				if err != nil {
					return fmt.Errorf("client %d join %d: %w", i, k, err)
				}
			}
			return nil
		})
	}
	require.NoError(t, g.Wait(), "1,000 clients connect and ask to join 10 groups each")
	t.Cleanup(func() {
		for _, cl := range cls {
			if cl != nil {
				cl.Close()
			}
		}
	})
	require.Eventually(t, func() bool { return approved.Load() == clients*perClient }, 3*time.Minute, 50*time.Millisecond,
		"all 10,000 joins are approved")
	took := time.Since(start)
	st := status(t, c.socket)
	assert.Equal(t, clients, st.Clients, "the daemon counts 1,000 client sessions")
	assert.Equal(t, clients*perClient+1, st.Groups, "the daemon holds 10,000 groups and HostMembership")
	loaded := rssKiB(t, pid)

	// A newcomer is served promptly.
	nc, err := gsapi.Dial(ctx, gsapi.WithSocket(c.socket))
	require.NoError(t, err, "one more client is admitted")
	defer nc.Close()
	got := make(chan time.Duration, 1)
	t0 := time.Now()
	_, err = nc.Join(gsapi.JoinRequest{Attributes: oneGroup("load-0000-0"), Instance: 2,
		Callbacks: gsapi.ProviderCallbacks{Approved: func(*gsapi.Notification) { got <- time.Since(t0) }}})
	require.NoError(t, err)
	go nc.Run(ctx)
	var lat time.Duration
	select {
	case lat = <-got:
	case <-time.After(wait):
		t.Fatal("a newcomer's join into a loaded daemon is approved")
	}

	for i, cl := range cls {
		cl.Close()
		cls[i] = nil
	}
	nc.Close()
	require.Eventually(t, func() bool { return status(t, c.socket).Groups == 1 }, time.Minute, 50*time.Millisecond,
		"every group dissolves when its clients are gone; HostMembership stays")
	after := rssKiB(t, pid)
	t.Logf("hagsd RSS: %d KiB idle, %d KiB with 1,000 clients in 10,000 groups (%.1f KiB per group), %d KiB after they left; "+
		"10,000 joins approved in %v; a newcomer's join took %v", before, loaded, float64(loaded-before)/float64(clients*perClient),
		after, took.Round(time.Millisecond), lat.Round(time.Microsecond))
	assert.Less(t, loaded, 1<<20, "the daemon stays under 1 GiB with 10,000 groups")
}

// floodState has p propose n one-phase state changes of size bytes, one
// after the other, each waiting for its approval; it returns the slowest
// round trip.
func floodState(t *testing.T, p *gsapi.Client, tok gsapi.Token, approvals <-chan struct{}, n, size int, stop <-chan struct{}) time.Duration {
	t.Helper()
	var worst time.Duration
	v := make([]byte, size)
	for i := range n {
		select {
		case <-stop:
			return worst
		default:
		}
		copy(v, strconv.Itoa(i))
		t0 := time.Now()
		require.NoError(t, p.ChangeStateValue(tok, gsapi.StateChangeRequest{NumPhases: gsapi.OnePhase, State: v}), "proposal %d", i)
		select {
		case <-approvals:
		case <-time.After(wait):
			t.Fatalf("state change %d is approved while another client misbehaves", i)
		}
		worst = max(worst, time.Since(t0))
	}
	return worst
}

// flooder joins group g through a gsapi client that dispatches, and
// returns it, its token, its approvals of state changes and the failure
// leaves it sees.
func flooder(t *testing.T, ctx context.Context, socket, g string) (*gsapi.Client, gsapi.Token, chan struct{}, chan *gsapi.Notification) {
	t.Helper()
	p, err := gsapi.Dial(ctx, gsapi.WithSocket(socket), gsapi.WithProgram("flooder"))
	require.NoError(t, err)
	t.Cleanup(func() { p.Close() })
	approvals := make(chan struct{}, 16)
	joined := make(chan struct{}, 1)
	fails := make(chan *gsapi.Notification, 4)
	tok, err := p.Join(gsapi.JoinRequest{Attributes: oneGroup(g), Instance: 1, Callbacks: gsapi.ProviderCallbacks{
		Approved: func(n *gsapi.Notification) {
			switch n.Protocol {
			case wire.JoinProtocol:
				select {
				case joined <- struct{}{}:
				default:
				}
			case wire.StateValueChangeProtocol:
				approvals <- struct{}{}
			case wire.FailureLeaveProtocol:
				fails <- n
			}
		}}})
	require.NoError(t, err)
	go p.Run(ctx)
	select {
	case <-joined:
	case <-time.After(wait):
		t.Fatal("the flooder joins")
	}
	return p, tok, approvals, fails
}

// TestLoadNeverReadingClientIsCutOff: a client that joins a group and then
// never reads its socket cannot hold anybody up. Its socket buffer, then
// its outbox in the daemon (daemon.OutboxFrames, daemon.OutboxBytes) fill;
// the daemon closes its session; the group sees it leave with
// PROCESS_DIED; the provider that floods the group with state changes is
// served promptly throughout, and a third client on the side too.
func TestLoadNeverReadingClientIsCutOff(t *testing.T) {
	c := startCluster(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	p, tok, approvals, fails := flooder(t, ctx, c.socket, "busy")

	raw, err := net.Dial("unix", c.socket)
	require.NoError(t, err)
	defer raw.Close()
	require.NoError(t, wire.WriteFrame(raw, wire.MsgHello, &wire.Hello{Pid: 1, Program: "never-reads"}))
	require.NoError(t, wire.WriteFrame(raw, wire.MsgRequest, &wire.Request{Op: wire.OpJoin, Token: 1, Group: "busy",
		Instance: 2, Attributes: &wire.Attributes{GroupName: "busy", NumPhases: wire.OnePhase, DefaultVote: wire.VoteApprove}}))

	stop := make(chan struct{})
	worst := make(chan time.Duration, 1)
	go func() {
		// Enough 16 KiB values to fill the outbox's 16 MiB and the socket
		// buffer several times over.
		worst <- floodState(t, p, tok, approvals, 4*daemon.OutboxBytes/wire.MaxStateValueLength, wire.MaxStateValueLength, stop)
	}()
	var leave *gsapi.Notification
	select {
	case leave = <-fails:
	case <-time.After(2 * time.Minute):
		t.Fatal("the never-reading client's session is closed and its provider fails")
	}
	close(stop)
	w := <-worst
	require.NotNil(t, leave.Proposal)
	assert.Equal(t, []gsapi.Provider{{Instance: 2, Node: 1}}, leave.Proposal.Changing, "the provider that never read leaves")
	assert.Equal(t, wire.ProviderProcessDied, leave.Proposal.LeaveInfo[0].Reason, "its session was closed: a process failure")
	assert.Less(t, w, 2*time.Second, "the flooder's changes were approved promptly while the other client did not read")

	side, err := gsapi.Dial(ctx, gsapi.WithSocket(c.socket))
	require.NoError(t, err, "the daemon admits another client")
	side.Close()
	t.Logf("the never-reading client was cut off; the flooder's slowest round trip was %v", w)
}

// TestLoadNonDispatchingClientIsBounded: a gsapi client that reads its
// socket but never calls Dispatch holds at most gsapi.MaxPending
// notifications (MaxPendingBytes of frames), then stops reading; the daemon
// then cuts it off as it does a client that never reads; the others are
// served throughout, and the stalled client, when it finally dispatches,
// gets what it had queued and then ErrNotOK.
func TestLoadNonDispatchingClientIsBounded(t *testing.T) {
	c := startCluster(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	p, tok, approvals, fails := flooder(t, ctx, c.socket, "busy")

	stalled, err := gsapi.Dial(ctx, gsapi.WithSocket(c.socket), gsapi.WithProgram("never-dispatches"))
	require.NoError(t, err)
	defer stalled.Close()
	var seen atomic.Int64
	_, err = stalled.Join(gsapi.JoinRequest{Attributes: oneGroup("busy"), Instance: 2,
		Callbacks: gsapi.ProviderCallbacks{Approved: func(*gsapi.Notification) { seen.Add(1) }}})
	require.NoError(t, err)

	stop := make(chan struct{})
	var maxPending atomic.Int64
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for {
			maxPending.Store(max(maxPending.Load(), int64(stalled.Pending())))
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
	worst := make(chan time.Duration, 1)
	go func() {
		worst <- floodState(t, p, tok, approvals, 2*(gsapi.MaxPendingBytes+daemon.OutboxBytes)/wire.MaxStateValueLength,
			wire.MaxStateValueLength, stop)
	}()
	var leave *gsapi.Notification
	select {
	case leave = <-fails:
	case <-time.After(2 * time.Minute):
		t.Fatal("the non-dispatching client's session is closed and its provider fails")
	}
	close(stop)
	w := <-worst
	<-sampled
	assert.Equal(t, wire.ProviderProcessDied, leave.Proposal.LeaveInfo[0].Reason, "its session was closed")
	assert.Less(t, w, 2*time.Second, "the flooder was served promptly")

	// Now it dispatches: what it queued, then the loss.
	var derr error
	for derr == nil {
		derr = stalled.Dispatch(gsapi.NonBlocking)
	}
	assert.ErrorIs(t, derr, gsapi.ErrNotOK, "after its queue, the stalled client learns its session is gone")
	// Each approval carries the 16 KiB value twice (current and
	// proposed), so the byte bound stops the reading first.
	limit := int64(gsapi.MaxPendingBytes/(2*wire.MaxStateValueLength) + 1)
	assert.LessOrEqual(t, maxPending.Load(), limit, "the stalled client never held more than MaxPendingBytes of notifications")
	assert.Greater(t, maxPending.Load(), limit/2, "the stalled client did queue notifications up to its bound")
	assert.GreaterOrEqual(t, seen.Load(), maxPending.Load(), "Dispatch delivered what was queued")
	t.Logf("the non-dispatching client held at most %d notifications (bound %d), %d delivered when it dispatched; "+
		"the flooder's slowest round trip was %v", maxPending.Load(), limit, seen.Load(), w)
}

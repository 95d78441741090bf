package integration

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhags/hags/daemon"
	"github.com/openhags/hags/gsapi"
	"github.com/openhags/hags/internal/wire"
)

// Attacks on a real hagsd's sessions (issue 12, holes 4 and 5): requests the
// engine refuses must not be replicated, per-session data is bounded, and a
// client faster than its rate limit is slowed, not cut off.

// rawSession opens a session on socket by hand, to send what gsapi never
// would, and returns the connection and its frame reader.
func rawSession(t *testing.T, socket string) (net.Conn, *wire.Reader) {
	t.Helper()
	c, err := net.Dial("unix", socket)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	r := wire.NewReader(c)
	require.NoError(t, wire.WriteFrame(c, wire.MsgHello, &wire.Hello{Pid: int32(os.Getpid()), Program: "attacker"}))
	typ, _, err := r.Next()
	require.NoError(t, err)
	require.Equal(t, wire.MsgWelcome, typ, "the attacker is an admitted client")
	return c, r
}

// peakRSS samples a process's resident set until stop is closed and
// returns the largest value seen, in KiB.
func peakRSS(t *testing.T, pid int, stop <-chan struct{}) <-chan int {
	out := make(chan int, 1)
	go func() {
		peak := 0
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			peak = max(peak, rssKiB(t, pid))
			select {
			case <-stop:
				out <- peak
				return
			case <-tick.C:
			}
		}
	}()
	return out
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	st, err := os.Stat(path)
	require.NoError(t, err)
	return st.Size()
}

// TestAttackForeignStateFloodIsNotReplicated: the attack of issue 12, hole
// 4. A client sends 100 state changes of 1,000,000 bytes, then 100 of
// 16 KiB, on a token another client owns. Every one is refused with the
// engine's code (StateValueTooLong, then BadMemberToken), and none is
// replicated: the raft log on disk and the daemon's memory stay where they
// were. Before the fix the log grew by about 100 MiB and the resident set
// by about 150 MB.
func TestAttackForeignStateFloodIsNotReplicated(t *testing.T) {
	m := startDomain(t, 1, 1)
	db := filepath.Join(m.dir, "data1", "raft.db")
	pid := m.daemons[0].Pid()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	owner, err := gsapi.Dial(ctx, gsapi.WithSocket(m.sockets[0]), gsapi.WithProgram("owner"))
	require.NoError(t, err)
	defer owner.Close()
	joined := make(chan struct{}, 1)
	var heard atomic.Int32
	tok, err := owner.Join(gsapi.JoinRequest{Attributes: oneGroup("victim"), Instance: 1, Callbacks: gsapi.ProviderCallbacks{
		Approved: func(n *gsapi.Notification) {
			if n.Protocol == wire.JoinProtocol {
				joined <- struct{}{}
			} else {
				heard.Add(1)
			}
		}}})
	require.NoError(t, err)
	go owner.Run(ctx)
	select {
	case <-joined:
	case <-time.After(wait):
		t.Fatal("the owner joins its group")
	}

	dbBefore, rssBefore := fileSize(t, db), rssKiB(t, pid)
	conn, r := rawSession(t, m.sockets[0])
	stop := make(chan struct{})
	peak := peakRSS(t, pid, stop)
	for _, wave := range []struct {
		size int
		want wire.Code
	}{{1_000_000, wire.StateValueTooLong}, {wire.MaxStateValueLength, wire.BadMemberToken}} {
		const count = 100
		refused := make(chan wire.Code, count)
		go func() {
			defer close(refused)
			for range count {
				conn.SetReadDeadline(time.Now().Add(4 * wait))
				_, body, err := r.Next()
				if err != nil {
					return
				}
				var n wire.Notification
				if wire.Decode(body, &n) != nil {
					return
				}
				refused <- n.Code
			}
		}()
		state := make([]byte, wave.size)
		for range count {
			require.NoError(t, wire.WriteFrame(conn, wire.MsgRequest, &wire.Request{Op: wire.OpChangeState, Token: int32(tok),
				NumPhases: wire.OnePhase, State: state}), "the attacker's request is sent")
		}
		got := 0
		for code := range refused {
			assert.Equal(t, wave.want, code, "a state change of %d bytes on a foreign token is refused with the engine's code", wave.size)
			got++
		}
		require.Equal(t, count, got, "each of the %d requests of %d bytes is answered", count, wave.size)
	}
	close(stop)
	rssPeak := <-peak
	dbAfter := fileSize(t, db)
	t.Logf("raft.db %d → %d bytes; hagsd RSS %d KiB before, %d KiB at most during the flood", dbBefore, dbAfter, rssBefore, rssPeak)
	assert.Less(t, dbAfter-dbBefore, int64(1<<20), "no refused request reaches the raft log (it grew by %d bytes)", dbAfter-dbBefore)
	assert.Less(t, rssPeak-rssBefore, 64<<10, "the daemon's memory stays bounded during the flood")
	assert.Zero(t, heard.Load(), "the owner of the token hears of no protocol")
	assert.Equal(t, 1, status(t, m.sockets[0]).Groups-1, "the victim's group is untouched")
}

// TestAttackHugeProgramNamesAreRefused: issue 12, hole 5. Thirty sessions
// whose Hello names a program of 1 MB are refused at Hello (BadParameter:
// the Hello is over 16 KiB) and the daemon's memory stays bounded; a name
// of 256 bytes is refused with NameTooLong by the daemon and, before
// anything is sent, by gsapi. Before the fix all thirty sessions were
// admitted and kept their names (RSS 70 → 550 MB in the report).
func TestAttackHugeProgramNamesAreRefused(t *testing.T) {
	c := startCluster(t)
	pid := c.daemon.Pid()
	before := rssKiB(t, pid)
	stop := make(chan struct{})
	peak := peakRSS(t, pid, stop)
	huge := strings.Repeat("p", 1<<20-64)
	for i := range 30 {
		conn, err := net.Dial("unix", c.socket)
		require.NoError(t, err)
		defer conn.Close()
		require.NoError(t, wire.WriteFrame(conn, wire.MsgHello, &wire.Hello{Pid: int32(os.Getpid()), Program: huge}))
		conn.SetReadDeadline(time.Now().Add(wait))
		typ, body, err := wire.NewReader(conn).Next()
		require.NoError(t, err, "session %d is answered", i)
		require.Equal(t, wire.MsgRefused, typ, "a Hello naming a program of 1 MB is refused (session %d)", i)
		var ref wire.Refused
		require.NoError(t, wire.Decode(body, &ref))
		assert.Equal(t, wire.BadParameter, ref.Code, "an oversized Hello is BadParameter")
		assert.Contains(t, ref.Reason, "hello too large", "the refusal says why")
	}
	close(stop)
	rssPeak := <-peak
	t.Logf("hagsd RSS %d KiB before, %d KiB at most during 30 Hellos of 1 MB", before, rssPeak)
	assert.Less(t, rssPeak-before, 64<<10, "the daemon's memory stays bounded")
	assert.Zero(t, status(t, c.socket).Clients, "no such session was admitted")

	conn, err := net.Dial("unix", c.socket)
	require.NoError(t, err)
	defer conn.Close()
	require.NoError(t, wire.WriteFrame(conn, wire.MsgHello, &wire.Hello{Pid: 1, Program: strings.Repeat("p", wire.MaxProgramNameLength+1)}))
	_, body, err := wire.NewReader(conn).Next()
	require.NoError(t, err)
	var ref wire.Refused
	require.NoError(t, wire.Decode(body, &ref))
	assert.Equal(t, wire.NameTooLong, ref.Code, "a program name of 256 bytes is NameTooLong")

	_, err = gsapi.Dial(context.Background(), gsapi.WithSocket(c.socket), gsapi.WithProgram(strings.Repeat("p", wire.MaxProgramNameLength+1)))
	assert.ErrorIs(t, err, gsapi.ErrNameTooLong, "gsapi refuses a long program name itself")
	cl, err := gsapi.Dial(context.Background(), gsapi.WithSocket(c.socket), gsapi.WithProgram(strings.Repeat("p", wire.MaxProgramNameLength)))
	require.NoError(t, err, "a program name of 255 bytes is accepted")
	cl.Close()
}

// TestFastClientIsSlowedNotKilled: a provider sends one-phase state
// changes of 16 KiB back to back, without waiting for approvals (gsapi
// would refuse that with Collide, so it speaks the wire itself), about
// 20 MiB in all: more than its token bucket's burst (daemon.RequestBurst).
// hagsd reads it more slowly — its writes block on its own socket — and
// says so in its log; the session is never cut off, and every change is
// approved, in the order sent. Before the fix nothing paced a client.
func TestFastClientIsSlowedNotKilled(t *testing.T) {
	c := startCluster(t)
	conn, r := rawSession(t, c.socket)
	require.NoError(t, wire.WriteFrame(conn, wire.MsgRequest, &wire.Request{Op: wire.OpJoin, Token: 1, Group: "fast",
		Attributes: &wire.Attributes{GroupName: "fast", NumPhases: wire.OnePhase, DefaultVote: wire.VoteApprove}}))
	const count = 1200
	notes := make(chan wire.Notification, count+1)
	go func() {
		defer close(notes)
		for range count + 1 {
			conn.SetReadDeadline(time.Now().Add(4 * wait))
			_, body, err := r.Next()
			if err != nil {
				return
			}
			var n wire.Notification
			if wire.Decode(body, &n) != nil {
				return
			}
			notes <- n
		}
	}()
	n := <-notes
	require.Equal(t, wire.ApprovedNotification, n.Type, "the client joins its group")

	start := time.Now()
	sent := 0
	for i := range count {
		state := make([]byte, wire.MaxStateValueLength)
		copy(state, strconv.Itoa(i))
		frame, err := wire.AppendFrame(nil, wire.MsgRequest, &wire.Request{Op: wire.OpChangeState, Token: 1,
			NumPhases: wire.OnePhase, State: state})
		require.NoError(t, err)
		conn.SetWriteDeadline(time.Now().Add(4 * wait))
		_, err = conn.Write(frame)
		require.NoError(t, err, "state change %d is written: the client is slowed, not cut off", i)
		sent += len(frame) - 6 + daemon.RequestOverhead
	}
	for i := range count {
		n, ok := <-notes
		require.True(t, ok, "the session is up until approval %d", i)
		require.Equal(t, wire.ApprovedNotification, n.Type, "state change %d is approved", i)
		want := strconv.Itoa(i)
		require.Equal(t, want, string(n.Proposal.ProposedState[:len(want)]), "state changes are approved in the order sent")
	}
	took := time.Since(start)
	least := time.Duration(float64(sent-daemon.RequestBurst) / daemon.RequestBytesPerSecond * float64(time.Second))
	t.Logf("%d state changes (%d bytes as the rate limit counts them) approved in %v; the limit allows no less than %v",
		count, sent, took, least)
	// A lower bound only: a busy machine makes the run slower, never faster.
	assert.GreaterOrEqual(t, took, least*9/10, "the client was held to its rate")
	_, _, err := c.daemon.Log.WaitFor(regexp.MustCompile(`reading it more slowly.*program=attacker|program=attacker.*reading it more slowly`), 0, wait)
	assert.NoError(t, err, "hagsd logs that it slows the client")
	assert.Equal(t, 1, status(t, c.socket).Clients, "the fast client's session is still up")
}

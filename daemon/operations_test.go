package daemon

import (
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhags/hags/daemon/protocol"
	"github.com/openhags/hags/internal/wire"
)

// TestHeartbeatStopsWhenTheRunLoopIsWedged: the heartbeat is called by the
// run loop itself, so a loop stuck in a handler stops it, and it resumes
// when the loop turns again. The loop is wedged in its idle handler (it
// runs after the node's admission was applied); virtual time
// (testing/synctest) shows a whole minute without a beat, exactly.
func TestHeartbeatStopsWhenTheRunLoopIsWedged(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		wedged, release := make(chan struct{}), make(chan struct{})
		var once sync.Once
		oldAfter, oldReturn := idleMemoryReturn, returnMemory
		idleMemoryReturn = time.Second
		returnMemory = func() { once.Do(func() { close(wedged); <-release }) }
		t.Cleanup(func() { idleMemoryReturn, returnMemory = oldAfter, oldReturn })

		var beats atomic.Int64
		var admitted atomic.Int64
		n, err := newNode(Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Operations: Operations{
			Heartbeat:      func() { beats.Add(1) },
			HeartbeatEvery: 100 * time.Millisecond,
			OnAdmission: func(ok bool, epoch uint64) {
				if ok && epoch != 0 {
					admitted.Add(1)
				}
			},
		}}, newFakeEngine())
		require.NoError(t, err)
		<-wedged
		atWedge := beats.Load()
		assert.GreaterOrEqual(t, atWedge, int64(5), "the loop beat every 100 ms until it was wedged, a second after its admission")
		assert.Equal(t, int64(1), admitted.Load(), "the node was admitted once, and said so")
		time.Sleep(time.Minute) // virtual: every other goroutine is blocked
		assert.Equal(t, atWedge, beats.Load(), "a wedged run loop beats no more")
		close(release)
		time.Sleep(time.Second)
		assert.Greater(t, beats.Load(), atWedge+5, "the loop beats again once it turns")
		require.NoError(t, n.Close())
	})
}

func TestOperationsRefusesAHeartbeatWithoutPeriod(t *testing.T) {
	_, err := newNode(Config{Socket: "/nonexistent/x.sock", Operations: Operations{Heartbeat: func() {}}}, newFakeEngine())
	assert.ErrorIs(t, err, errHeartbeat)
}

// TestNodeMetricsCountWhatHappens drives a real engine through a socket:
// a join, a refused request, a one-phase state change, a client that
// stops; the counters, the latency histogram and the gauges follow.
func TestNodeMetricsCountWhatHappens(t *testing.T) {
	reg := prometheus.NewRegistry()
	var pids atomic.Int32
	pids.Store(3000)
	tn := startNode(t, Config{Node: 1, Operations: Operations{Metrics: reg}, Authorize: func(net.Conn) (protocol.Cred, error) {
		return protocol.Cred{Pid: pids.Add(1)}, nil
	}}, protocol.New())
	met := tn.met
	require.NotNil(t, met, "Config.Metrics gives the node its metrics")

	c := dialRaw(t, tn.socket)
	c.hello(false)
	c.send(wire.MsgRequest, joinReq(7, 1))
	require.Equal(t, wire.ApprovedNotification, c.notification().Type, "the join is approved")
	assert.Equal(t, 1.0, testutil.ToFloat64(met.requests.WithLabelValues("join", "ok")), "the join is counted, ordered")
	assert.Equal(t, 1.0, testutil.ToFloat64(met.protocols.WithLabelValues("join", "approved")), "its protocol is counted")

	c.send(wire.MsgRequest, &wire.Request{Op: wire.OpLeave, Token: 99, Group: "svc", NumPhases: wire.OnePhase})
	require.Equal(t, wire.DelayedErrorNotification, c.notification().Type, "a leave on a token never named is refused")
	assert.Equal(t, 1.0, testutil.ToFloat64(met.requests.WithLabelValues("leave", "bad_member_token")),
		"the refusal is counted under its code")

	c.send(wire.MsgRequest, &wire.Request{Op: wire.OpChangeState, Token: 7, Group: "svc", NumPhases: wire.OnePhase, State: []byte("v2")})
	require.Equal(t, wire.ApprovedNotification, c.notification().Type, "the state change is approved")
	assert.Equal(t, 1.0, testutil.ToFloat64(met.protocols.WithLabelValues("state_value_change", "approved")))
	n, err := testutil.GatherAndCount(reg, "hags_protocol_duration_seconds")
	require.NoError(t, err)
	assert.Equal(t, 2, n, "the join's and the state change's latencies are observed, one series each")
	met.mu.Lock()
	assert.Empty(t, met.started, "no proposal is left waiting once its end was delivered")
	met.mu.Unlock()

	require.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP hags_groups The domain's groups.
# TYPE hags_groups gauge
hags_groups 2
# HELP hags_providers The providers of all of the domain's groups.
# TYPE hags_providers gauge
hags_providers 2
# HELP hags_sessions This daemon's sessions, by kind (client, admin).
# TYPE hags_sessions gauge
hags_sessions{kind="admin"} 0
hags_sessions{kind="client"} 1
# HELP hags_admitted 1 while the domain admits this daemon, else 0.
# TYPE hags_admitted gauge
hags_admitted 1
`), "hags_groups", "hags_providers", "hags_sessions", "hags_admitted"),
		"svc and HostMembership, each with one provider (the client; the node itself); one client session")
	leader, err := testutil.GatherAndCount(reg, "hags_raft_state")
	require.NoError(t, err)
	assert.Equal(t, 4, leader, "one series per raft state")
	assert.GreaterOrEqual(t, testutil.ToFloat64(met.leaderChanges), 1.0, "the one-node domain's election was seen")

	met.script(wire.DeactivateTimedOut)
	met.script(wire.DeactivateNotRun)
	assert.Equal(t, 1.0, testutil.ToFloat64(met.scripts.WithLabelValues("timed_out")))
	assert.Equal(t, 0.0, testutil.ToFloat64(met.scripts.WithLabelValues("ok")), "a script not run is no result")
}

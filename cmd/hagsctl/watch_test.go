package main

import (
	"context"
	"encoding/json"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhags/hags/daemon/ipc"
	"github.com/openhags/hags/internal/wire"
)

func TestNodesTextAndJSON(t *testing.T) {
	socket := startDaemon(t)
	code, out, errs := ctl(t, "--socket", socket, "nodes")
	require.Equal(t, 0, code, "hagsctl nodes succeeds: %s", errs)
	assert.Regexp(t, `(?m)^NODE\s+NAME\s+ADDRESS\s+ROLE\s+HEALTH$`, out, "nodes prints a header")
	assert.Regexp(t, `(?m)^1\s+node1\s+-\s+leader\s+alive$`, out,
		"a one-node domain's daemon leads, is alive, and is named as --name's default says (it has no address for other daemons)")

	code, out, errs = ctl(t, "--socket", socket, "--json", "nodes")
	require.Equal(t, 0, code, "hagsctl --json nodes succeeds: %s", errs)
	var nodes []map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &nodes), "--json nodes prints a list of nodes")
	assert.Equal(t, []map[string]any{{"node": 1.0, "name": "node1", "address": "", "role": "leader", "health": "alive"}}, nodes,
		"the one node, as JSON")
}

func TestDiffOfSnapshots(t *testing.T) {
	before := snapshot(&wire.Status{Nodes: []wire.NodeStatus{
		{Node: 1, Name: "a", Role: "leader", Health: "alive"},
		{Node: 2, Name: "b", Role: "voter", Health: "alive"},
	}}, []wire.GroupSummary{{Name: "svc", Providers: 2}})
	after := snapshot(&wire.Status{Nodes: []wire.NodeStatus{
		{Node: 1, Name: "a", Role: "leader", Health: "alive"},
		{Node: 2, Name: "b", Role: "voter", Health: "dead"},
		{Node: 3, Name: "c", Role: "follower", Health: "alive"},
	}}, []wire.GroupSummary{{Name: "svc", Providers: 1, Protocol: "failure-leave"}})
	assert.Equal(t, []string{
		"group svc protocol - -> failure-leave",
		"group svc providers 2 -> 1",
		"node 2 (b) health alive -> dead",
		"node 3 (c) health alive (new)",
		"node 3 (c) role follower (new)",
	}, diff(before, after), "only the changes are listed, in order")
	assert.Empty(t, diff(after, after), "no change, no line")
	assert.Contains(t, diff(nil, before), "node 1 (a) role leader", "the first look lists everything")
	gone := snapshot(&wire.Status{}, nil)
	assert.Contains(t, diff(after, gone), "group svc providers gone (was 1)", "a dissolved group is reported gone")
}

// lockedBuffer is written by watch and read by the test.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestWatchFollowsChanges(t *testing.T) {
	socket := startDaemon(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	conn, err := ipc.DialAdmin(ctx, socket, "test")
	require.NoError(t, err, "an admin session opens")
	defer conn.Close()
	var out lockedBuffer
	done := make(chan error, 1)
	go func() { done <- watch(ctx, conn, 10*time.Millisecond, 5*time.Second, &out) }()
	require.Eventually(t, func() bool { return strings.Contains(out.String(), "group svc providers 1") }, 10*time.Second,
		10*time.Millisecond, "the first look shows the group and its provider")
	assert.Contains(t, out.String(), "node 1 (node1) role leader", "the first look shows the node by its name")

	// A second provider joins: watch reports the change.
	c2 := dialProvider(t, socket)
	require.NoError(t, wire.WriteFrame(c2, wire.MsgRequest, &wire.Request{Op: wire.OpJoin, Token: 1, Group: "svc", Instance: 4,
		Attributes: &wire.Attributes{GroupName: "svc", NumPhases: wire.OnePhase, DefaultVote: wire.VoteApprove}}))
	require.Eventually(t, func() bool { return strings.Contains(out.String(), "group svc providers 1 -> 2") }, 10*time.Second,
		10*time.Millisecond, "watch reports the new provider")
	cancel()
	select {
	case err := <-done:
		assert.NoError(t, err, "watch ends quietly when told to")
	case <-time.After(10 * time.Second):
		t.Fatal("watch did not end after its context")
	}
}

// dialProvider opens a client session on socket (the test daemon admits
// everyone) and returns it once welcomed.
func dialProvider(t *testing.T, socket string) net.Conn {
	t.Helper()
	c, err := net.Dial("unix", socket)
	require.NoError(t, err, "the daemon answers")
	t.Cleanup(func() { c.Close() })
	require.NoError(t, wire.WriteFrame(c, wire.MsgHello, &wire.Hello{Pid: 99}))
	typ, _, err := wire.NewReader(c).Next()
	require.NoError(t, err, "the daemon replies to Hello")
	require.Equal(t, wire.MsgWelcome, typ, "the client is welcomed")
	return c
}

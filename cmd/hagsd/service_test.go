package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhags/hags/internal/harness"
	"github.com/openhags/hags/internal/metrics/metricstest"
)

const wait = 30 * time.Second

var (
	toolsOnce sync.Once
	toolsDir  string
	toolsErr  error
)

// tools builds hagsd and gsclient once for the tests of this file.
func tools(t *testing.T) string {
	t.Helper()
	toolsOnce.Do(func() {
		toolsDir, toolsErr = os.MkdirTemp("", "hagsd-tools-")
		if toolsErr != nil {
			return
		}
		os.Chmod(toolsDir, 0o755)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		toolsErr = harness.Build(ctx, toolsDir, "./cmd/hagsd", "./examples/go/gsclient")
	})
	require.NoError(t, toolsErr)
	return toolsDir
}

func TestMain(m *testing.M) {
	code := m.Run()
	if toolsDir != "" {
		os.RemoveAll(toolsDir)
	}
	os.Exit(code)
}

// loopbackPorts returns n TCP ports of 127.0.0.1 that were free a moment
// ago, all different.
func loopbackPorts(t *testing.T, n int) []int {
	t.Helper()
	var lns []net.Listener
	var ports []int
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		lns = append(lns, ln)
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	for _, ln := range lns {
		ln.Close()
	}
	return ports
}

// TestReadyOnlyOnceAdmitted runs voter 1 of a domain of three voters under
// a fake systemd notification socket with a watchdog: while it is alone
// it cannot be admitted, and its run loop's WATCHDOG=1 keep coming while
// no READY=1 does; once voter 2 is up the domain admits it and READY=1
// comes, with a status saying so. SIGTERM gives STOPPING=1.
func TestReadyOnlyOnceAdmitted(t *testing.T) {
	bin := tools(t)
	dir := shortDir(t)
	ports := loopbackPorts(t, 6)
	var voters, gossip []string
	for i := range 3 {
		voters = append(voters, fmt.Sprintf("%d=127.0.0.1:%d", i+1, ports[2*i]))
		gossip = append(gossip, fmt.Sprintf("127.0.0.1:%d", ports[2*i+1]))
	}
	start := func(i int, notify *harness.NotifySocket) *harness.Daemon {
		t.Helper()
		args := []string{"--domain", "readytest", "--node", fmt.Sprint(i + 1), "--insecure",
			"--voters", strings.Join(voters, ","), "--gossip", gossip[i], "--join", strings.Join(gossip, ","),
			"--data-dir", filepath.Join(dir, fmt.Sprintf("data%d", i+1))}
		socket := filepath.Join(dir, fmt.Sprintf("n%d.sock", i+1))
		// WATCHDOG_USEC as systemd sets it for WatchdogSec=0.4s.
		d, err := harness.StartProcess(filepath.Join(bin, "hagsd"), []string{notify.Env(), "WATCHDOG_USEC=400000"},
			`msg=ready`, harness.TestLog(t, fmt.Sprintf("hagsd%d", i+1)), append([]string{"--socket", socket}, args...)...)
		require.NoError(t, err)
		t.Cleanup(func() { d.Kill() })
		return d
	}
	n1, err := harness.NewNotifySocket(dir)
	require.NoError(t, err)
	t.Cleanup(n1.Close)
	d1 := start(0, n1)

	watchdog := regexp.MustCompile(`^WATCHDOG=1$`)
	from := 0
	for beat := range 3 {
		_, i, err := n1.Msgs.WaitFor(watchdog, from, wait)
		require.NoError(t, err, "hagsd alone keeps sending WATCHDOG=1 (beat %d)", beat+1)
		from = i + 1
	}
	msgs := n1.Msgs.All()
	assert.NotContains(t, msgs, "READY=1", "a voter alone is not admitted, so it is not ready: %v", msgs)
	assert.True(t, containsPrefix(msgs, "STATUS=waiting for domain readytest to admit node 1"), "its status says what it waits for: %v", msgs)

	n2dir := filepath.Join(dir, "n2")
	require.NoError(t, os.Mkdir(n2dir, 0o755))
	n2, err := harness.NewNotifySocket(n2dir)
	require.NoError(t, err)
	t.Cleanup(n2.Close)
	start(1, n2)
	_, i, err := n1.Msgs.WaitFor(regexp.MustCompile(`^READY=1$`), 0, wait)
	require.NoError(t, err, "with a second voter the domain admits node 1, which says READY=1")
	require.Greater(t, len(n1.Msgs.All()), i+1, "READY=1 comes with a status line")
	assert.Regexp(t, `^STATUS=admitted to domain readytest as node 1 \(epoch \d+\); serving$`, n1.Msgs.All()[i+1])
	_, _, err = d1.Log.WaitFor(regexp.MustCompile(`admitted to the domain`), 0, wait)
	require.NoError(t, err, "its log agrees")
	_, _, err = n2.Msgs.WaitFor(regexp.MustCompile(`^READY=1$`), 0, wait)
	require.NoError(t, err, "node 2 is ready too")

	_, after, err := n1.Msgs.WaitFor(watchdog, i+1, wait)
	require.NoError(t, err, "the watchdog keeps being fed after READY=1")
	require.NoError(t, d1.Stop(wait), "hagsd exits 0 on SIGTERM")
	assert.Contains(t, n1.Msgs.All()[after:], "STOPPING=1", "and says it is stopping")
}

func containsPrefix(lines []string, prefix string) bool {
	for _, l := range lines {
		if strings.HasPrefix(l, prefix) {
			return true
		}
	}
	return false
}

// shortDir is a new directory with a short path, for sockets.
func shortDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "hgs")
	require.NoError(t, err)
	require.NoError(t, os.Chmod(dir, 0o755))
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

var metricsAddr = regexp.MustCompile(`serving metrics.* addr=(\S+)`)

// TestLiveMetricsMoveWithProtocols scrapes a real hagsd while real clients
// join, change the state value, vote a protocol down, make requests the
// daemon refuses, and expel a provider whose deactivate script runs: every
// counter and gauge concerned moves by what happened.
func TestLiveMetricsMoveWithProtocols(t *testing.T) {
	bin := tools(t)
	dir := shortDir(t)
	socket := filepath.Join(dir, "hagsd.sock")
	d, err := harness.StartDaemon(filepath.Join(bin, "hagsd"), socket, harness.TestLog(t, "hagsd"),
		"--domain", "metricstest", "--metrics-addr", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, d.Stop(wait), "hagsd exits 0 on SIGTERM") })
	line, _, err := d.Log.WaitFor(metricsAddr, 0, wait)
	require.NoError(t, err)
	addr := metricsAddr.FindStringSubmatch(line)[1]

	scrape := func() metricstest.Families {
		t.Helper()
		f, err := metricstest.Scrape(addr)
		require.NoError(t, err)
		return f
	}
	value := func(f metricstest.Families, name string, labels ...string) float64 {
		t.Helper()
		v, _ := f.Value(name, labels...)
		return v
	}
	eventually := func(what string, ok func(metricstest.Families) bool) {
		t.Helper()
		var last metricstest.Families
		require.Eventually(t, func() bool { last = scrape(); return ok(last) }, wait, 20*time.Millisecond,
			"%s (last scrape: %v)", what, last)
	}
	eventually("the daemon is admitted, and leads its one-node domain", func(f metricstest.Families) bool {
		return value(f, "hags_admitted") == 1 && value(f, "hags_raft_state", "state", "leader") == 1
	})
	f := scrape()
	assert.GreaterOrEqual(t, value(f, "hags_raft_term"), 1.0)
	assert.Equal(t, 1.0, value(f, "hags_nodes", "health", "alive"), "one node, alive")
	assert.Equal(t, 0.0, value(f, "hags_sessions", "kind", "client"))
	assert.GreaterOrEqual(t, value(f, "hags_raft_leader_changes_total"), 1.0, "the election was seen")
	assert.Equal(t, 0.0, value(f, "hags_raft_apply_lag"))
	base := value(f, "hags_protocols_total", "kind", "join", "outcome", "approved") // HostMembership's

	client := func(name string, args ...string) *harness.Client {
		c, err := harness.StartClient(filepath.Join(bin, "gsclient"), name, socket, harness.TestLog(t, name), args...)
		require.NoError(t, err)
		t.Cleanup(c.Kill)
		return c
	}
	expect := func(c *harness.Client, pattern string, from int) {
		t.Helper()
		_, _, err := c.Expect(pattern, from, wait)
		require.NoError(t, err)
	}
	// autovote sets a client's vote policy and waits for the client to say
	// so: the client reads commands and notifications on separate paths, so
	// a policy only sent may still be unread when the next vote arrives.
	autovote := func(c *harness.Client, policy string) {
		t.Helper()
		mark := c.Mark()
		require.NoError(t, c.Send("autovote "+policy))
		expect(c, `^autovote `+policy, mark)
	}
	script := filepath.Join(harness.ScriptDir(t), "deactivate.sh")
	require.NoError(t, os.WriteFile(script, []byte("#!/bin/sh\nexit 0\n"), 0o755))
	alice := client("alice")
	bob := client("bob", "--deactivate-script", script)
	expect(alice, `^ready`, 0)
	expect(bob, `^ready`, 0)

	require.NoError(t, alice.Send("join web 1 phases=n limit=30"))
	expect(alice, `^APPROVED .*proto=JOIN`, 0)
	mark := alice.Mark()
	autovote(alice, "approve")
	autovote(bob, "approve")
	require.NoError(t, bob.Send("join web 2 phases=n limit=30"))
	expect(bob, `^APPROVED .*proto=JOIN`, 0)
	expect(alice, `^APPROVED .*proto=JOIN`, mark)

	eventually("two joins ordered and approved, two providers, two client sessions", func(f metricstest.Families) bool {
		return value(f, "hags_requests_total", "kind", "join", "outcome", "ok") == 2 &&
			value(f, "hags_protocols_total", "kind", "join", "outcome", "approved") == base+2 &&
			value(f, "hags_providers") >= 3 && value(f, "hags_groups") == 2 &&
			value(f, "hags_sessions", "kind", "client") == 2
	})
	f = scrape()
	assert.Equal(t, 2.0, value(f, "hags_protocol_duration_seconds", "kind", "join"), "both joins' latencies are observed")

	// A state change that alice votes down.
	autovote(alice, "reject")
	mark = bob.Mark()
	require.NoError(t, bob.Send("state 1 v1 phases=n limit=30")) // each client's first token is 1
	expect(bob, `^REJECTED .*proto=STATE_VALUE_CHANGE`, mark)
	// A request the domain refuses after ordering it. (What the daemon
	// refuses at once, the client library refuses before sending:
	// daemon/operations_test.go counts those with a raw client.)
	require.NoError(t, alice.Send("subscribe nosuchgroup state"))
	expect(alice, `^DELAYED_ERROR .*code=HA_GS_UNKNOWN_GROUP`, 0)
	// An expel with bob's deactivate script, in phase 1.
	autovote(alice, "approve")
	mark = alice.Mark()
	require.NoError(t, alice.Send("expel 1 2@1 phases=n limit=30 dphase=1"))
	expect(alice, `^APPROVED .*proto=EXPEL`, mark)

	eventually("the rejection, the delayed error, the expel and its script are counted", func(f metricstest.Families) bool {
		return value(f, "hags_protocols_total", "kind", "state_value_change", "outcome", "rejected") == 1 &&
			value(f, "hags_protocol_duration_seconds", "kind", "state_value_change") == 1 &&
			value(f, "hags_requests_total", "kind", "subscribe", "outcome", "ok") == 1 &&
			value(f, "hags_delayed_errors_total", "kind", "subscribe", "code", "unknown_group") == 1 &&
			value(f, "hags_protocols_total", "kind", "expel", "outcome", "approved") == 1 &&
			value(f, "hags_deactivate_scripts_total", "result", "ok") == 1 &&
			value(f, "hags_providers") == 2
	})
}

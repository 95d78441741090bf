package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhags/hags/failover"
	"github.com/openhags/hags/internal/harness"
	"github.com/openhags/hags/internal/metrics/metricstest"
)

// bin holds hagsd and hagsrmd, built once.
var bin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "hagsrmd-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	err = harness.Build(ctx, dir, "./cmd/hagsd", "./cmd/hagsrmd")
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	bin = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

const wait = 30 * time.Second

// shortDir is a fresh directory with a short path, for sockets.
func shortDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "rmd")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

var metricsAddr = regexp.MustCompile(`serving metrics.* addr=(\S+)`)

// TestFlagsAndConfigFile: hagsrmd reads the same kind of file as hagsd,
// the command line wins, and bad settings are refused with exit 2.
func TestFlagsAndConfigFile(t *testing.T) {
	conf := filepath.Join(t.TempDir(), "hagsrmd.conf")
	require.NoError(t, os.WriteFile(conf, []byte("# the failover manager\ndomain prod\nstate-dir = /srv/rm\nmetrics-addr 127.0.0.1:9465\n"), 0o644))
	o, err := parse([]string{"--config", conf, "--log-level", "debug"}, io.Discard)
	require.NoError(t, err)
	assert.Equal(t, "prod", o.domain, "the file sets the domain")
	assert.Equal(t, "/run/hags/prod/hagsrmd.sock", o.socket, "the domain names the default management socket")
	assert.Equal(t, "/srv/rm", o.stateDir)
	assert.Equal(t, "127.0.0.1:9465", o.metrics.Addr)
	o, err = parse([]string{"--config", conf, "--domain", "other"}, io.Discard)
	require.NoError(t, err)
	assert.Equal(t, "other", o.domain, "the command line wins over the file")

	for _, bad := range [][]string{
		{"--metrics-addr", "0.0.0.0:9465"},             // not loopback
		{"--metrics-addr", ":9465"},                    // every interface
		{"--metrics-allow-remote"},                     // nothing to allow
		{"--domain", "../etc"},                         // not a domain name
		{"--state-dir", "relative"},                    // not absolute
		{"--config", filepath.Join(t.TempDir(), "no")}, // missing file
	} {
		_, err := parse(bad, io.Discard)
		assert.Error(t, err, "%v is refused", bad)
		assert.Equal(t, 2, run(bad, io.Discard), "%v exits 2", bad)
	}
	_, err = parse([]string{"--metrics-addr", "0.0.0.0:9465", "--metrics-allow-remote"}, io.Discard)
	assert.NoError(t, err, "a remote address is accepted when allowed")
}

// TestLiveMetricsAndNotify runs a real hagsd and a real hagsrmd under a
// fake systemd notification socket: READY=1 comes once the management
// socket is served; a resource brought online shows in the gauges and the
// start histogram; killing its process makes the manager restart it, and
// the restart counter moves; SIGTERM gives STOPPING=1 and exit 0.
func TestLiveMetricsAndNotify(t *testing.T) {
	dir := shortDir(t)
	gs := filepath.Join(dir, "gs.sock")
	d, err := harness.StartDaemon(filepath.Join(bin, "hagsd"), gs, harness.TestLog(t, "hagsd"), "--domain", "rmdtest")
	require.NoError(t, err)
	t.Cleanup(func() { d.Stop(wait) })

	notify, err := harness.NewNotifySocket(dir)
	require.NoError(t, err)
	t.Cleanup(notify.Close)
	rm := filepath.Join(dir, "rm.sock")
	mgr, err := harness.StartProcess(filepath.Join(bin, "hagsrmd"), []string{notify.Env()}, `serving metrics`, harness.TestLog(t, "hagsrmd"),
		"--domain", "rmdtest", "--gs-socket", gs, "--socket", rm, "--state-dir", filepath.Join(dir, "state"),
		"--agents-dir", filepath.Join(dir, "ocf"), "--metrics-addr", "127.0.0.1:0")
	require.NoError(t, err)
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			mgr.Kill()
		}
	})
	line, _, err := mgr.Log.WaitFor(metricsAddr, 0, wait)
	require.NoError(t, err)
	addr := metricsAddr.FindStringSubmatch(line)[1]

	_, _, err = notify.Msgs.WaitFor(regexp.MustCompile(`^READY=1$`), 0, wait)
	require.NoError(t, err, "hagsrmd tells systemd it is ready")
	_, err = os.Stat(rm)
	require.NoError(t, err, "the management socket exists once READY=1 is sent")
	assert.Contains(t, notify.Msgs.All(), "STATUS=serving "+rm, "the status names the socket")

	scrape := func() metricstest.Families {
		t.Helper()
		f, err := metricstest.Scrape(addr)
		require.NoError(t, err)
		return f
	}
	value := func(f metricstest.Families, name string, labels ...string) float64 {
		t.Helper()
		v, ok := f.Value(name, labels...)
		require.True(t, ok, "%s%v is exposed (have %v)", name, labels, f.Names())
		return v
	}
	// The gauges follow the manager's state as it is agreed: read/write
	// first, this node Up once its probe is done, so both are waited for.
	require.Eventually(t, func() bool {
		f := scrape()
		rw, _ := f.Value("hags_rm_read_write")
		up, _ := f.Value("hags_rm_nodes", "state", "ClusterNodeUp")
		return rw == 1 && up == 1
	}, wait, 50*time.Millisecond, "the one-node cluster becomes read/write and this node Up")
	f := scrape()
	assert.Equal(t, 0.0, f.Sum("hags_rm_groups"), "no group yet")
	assert.Equal(t, 1.0, value(f, "hags_rm_nodes", "state", "ClusterNodeUp"), "this node is Up")
	assert.Equal(t, 0.0, value(f, "hags_rm_restarts_total"))
	assert.Contains(t, f.Names(), "go_goroutines", "the runtime's metrics are served too")

	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	c, err := failover.Dial(ctx, failover.WithSocket(rm))
	require.NoError(t, err)
	defer c.Close()
	g, err := c.CreateGroup(ctx, "web", nil)
	require.NoError(t, err)
	pidFile := filepath.Join(dir, "worker.pid")
	_, err = c.CreateResource(ctx, failover.ResourceSpec{Name: "worker", Group: "web", Agent: "exec",
		Params: map[string]string{"command": "echo $$ > " + pidFile + "; exec sleep 600"}})
	require.NoError(t, err)
	if err := g.Online(ctx); !errors.Is(err, failover.ErrIOPending) {
		require.NoError(t, err, "the group comes online")
	}
	info, err := g.Wait(ctx)
	require.NoError(t, err)
	require.Equal(t, failover.GroupOnline, info.State, "the group is online")

	require.Eventually(t, func() bool {
		f := scrape()
		g, _ := f.Value("hags_rm_groups", "state", "ClusterGroupOnline")
		r, _ := f.Value("hags_rm_resources", "state", "ClusterResourceOnline")
		s, _ := f.Value("hags_rm_agent_action_duration_seconds", "action", "start", "outcome", "ok")
		return g == 1 && r == 1 && s == 1
	}, wait, 50*time.Millisecond, "the gauges catch up with the group online")
	f = scrape()
	assert.Equal(t, 1.0, value(f, "hags_rm_groups", "state", "ClusterGroupOnline"), "the gauge shows the group online")
	assert.Equal(t, 1.0, value(f, "hags_rm_resources", "state", "ClusterResourceOnline"), "the gauge shows the resource online")
	assert.Equal(t, 0.0, value(f, "hags_rm_resources", "state", "ClusterResourceOffline"))
	assert.Equal(t, 1.0, value(f, "hags_rm_agent_action_duration_seconds", "action", "start", "outcome", "ok"),
		"one start was timed")

	pidText, err := os.ReadFile(pidFile)
	require.NoError(t, err, "the exec resource wrote its pid")
	pid, err := strconv.Atoi(strings.TrimSpace(string(pidText)))
	require.NoError(t, err)
	require.NoError(t, syscall.Kill(pid, syscall.SIGKILL), "the resource's process is killed")
	require.Eventually(t, func() bool {
		f := scrape()
		restarts, _ := f.Value("hags_rm_restarts_total")
		starts, _ := f.Value("hags_rm_agent_action_duration_seconds", "action", "start", "outcome", "ok")
		online, _ := f.Value("hags_rm_resources", "state", "ClusterResourceOnline")
		return restarts == 1 && starts == 2 && online == 1
	}, wait, 50*time.Millisecond, "the failure is restarted in place: one restart, a second start, online again")

	mark := len(notify.Msgs.All())
	require.NoError(t, mgr.Stop(wait), "hagsrmd exits 0 on SIGTERM")
	stopped = true
	assert.GreaterOrEqual(t, notify.Count("STOPPING=1", mark), 1, "hagsrmd tells systemd it is stopping")
}

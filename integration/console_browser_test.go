package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhags/hags/internal/harness"
)

// The failover manager's binaries, built once on first use (the other
// tests of this package do not need them).
var (
	rmBinOnce sync.Once
	rmBinErr  error
)

func rmBinaries(t *testing.T) {
	t.Helper()
	rmBinOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		rmBinErr = harness.Build(ctx, bin, "./cmd/hagsrmd", "./cmd/hagsrm")
	})
	require.NoError(t, rmBinErr, "hagsrmd and hagsrm build")
}

// chromium returns Debian's Chromium, installing it when it is missing;
// the test is skipped, saying why, only when the package cannot be had.
func chromium(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	if os.Geteuid() != 0 {
		t.Skip("Chromium is not installed and installing it needs root: apt-get install chromium")
	}
	t.Log("installing Debian's chromium (chromedp drives it over the DevTools protocol; no chromium-driver needed)")
	install := exec.Command("apt-get", "install", "-y", "-q", "chromium")
	install.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
	out, err := install.CombinedOutput()
	if err != nil {
		update := exec.Command("apt-get", "update", "-q")
		if uout, uerr := update.CombinedOutput(); uerr != nil {
			t.Skipf("Chromium cannot be had here: apt-get update failed: %v\n%s", uerr, uout)
		}
		install = exec.Command("apt-get", "install", "-y", "-q", "chromium")
		install.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		if out, err = install.CombinedOutput(); err != nil {
			t.Skipf("Chromium cannot be had here: apt-get install chromium failed: %v\n%s", err, out)
		}
	}
	p, err := exec.LookPath("chromium")
	require.NoError(t, err, "apt-get installed chromium: %s", out)
	return p
}

// consoleCluster is three real hagsd and three real hagsrmd processes.
type consoleCluster struct {
	t       *testing.T
	m       *multi
	sockets []string // the managers' sockets
}

// startConsoleCluster starts a domain of three hagsd and a hagsrmd on each;
// node 1's serves the web console on a free loopback port. It returns
// once every manager reports all three nodes Up.
func startConsoleCluster(t *testing.T) *consoleCluster {
	t.Helper()
	rmBinaries(t)
	m := startMulti(t, 3)
	c := &consoleCluster{t: t, m: m}
	for i := range 3 {
		sock := filepath.Join(m.dir, fmt.Sprintf("rm%d.sock", i+1))
		args := []string{"--gs-socket", m.sockets[i], "--state-dir", filepath.Join(m.dir, fmt.Sprintf("rm%d", i+1))}
		if i == 0 {
			args = append(args, "--http", "127.0.0.1:0")
		}
		d, err := harness.StartDaemon(filepath.Join(bin, "hagsrmd"), sock, harness.TestLog(t, fmt.Sprintf("hagsrmd%d", i+1)), args...)
		require.NoError(t, err, "hagsrmd %d starts", i+1)
		t.Cleanup(func() { assert.NoError(t, d.Stop(30*time.Second), "hagsrmd %d exits 0 on SIGTERM", i+1) })
		c.sockets = append(c.sockets, sock)
	}
	for i := range 3 {
		require.Eventually(t, func() bool {
			out, err := c.rm(i, "--json", "node", "list")
			if err != nil {
				return false
			}
			var v struct {
				Nodes []struct{ State string }
			}
			if json.Unmarshal([]byte(out), &v) != nil || len(v.Nodes) != 3 {
				return false
			}
			for _, n := range v.Nodes {
				if n.State != "ClusterNodeUp" {
					return false
				}
			}
			return true
		}, 60*time.Second, 100*time.Millisecond, "manager %d sees three nodes Up", i+1)
	}
	return c
}

// rm runs hagsrm against node i's manager.
func (c *consoleCluster) rm(i int, args ...string) (string, error) {
	cmd := exec.Command(filepath.Join(bin, "hagsrm"), append([]string{"--socket", c.sockets[i]}, args...)...)
	out, err := cmd.Output()
	if ee, ok := err.(*exec.ExitError); ok {
		return string(out), fmt.Errorf("hagsrm %v: %w: %s", args, err, ee.Stderr)
	}
	return string(out), err
}

// must runs hagsrm and fails the test if it fails.
func (c *consoleCluster) must(i int, args ...string) string {
	c.t.Helper()
	out, err := c.rm(i, args...)
	require.NoError(c.t, err, "hagsrm %v", args)
	return out
}

// owner returns a group's owner as node 1's manager reports it.
func (c *consoleCluster) owner(group string) string {
	c.t.Helper()
	var g struct{ Owner string }
	require.NoError(c.t, json.Unmarshal([]byte(c.must(0, "--json", "group", "state", group)), &g))
	return g.Owner
}

// TestConsoleInABrowser drives the web console in headless Chromium
// against a live three-node cluster: the page follows a move made with
// hagsrm without being reloaded, a button moves a group, a refused
// request shows its code, and a screenshot is kept as the test's
// artifact (go test -artifacts -outputdir DIR keeps it under DIR).
func TestConsoleInABrowser(t *testing.T) {
	browser := chromium(t)
	c := startConsoleCluster(t)
	c.must(0, "group", "create", "web")
	c.must(0, "resource", "create", "daemon", "--group", "web", "--agent", "exec", "--param", "command=sleep 100000")
	c.must(0, "group", "online", "web", "--wait", "30s")
	require.Equal(t, "node1", c.owner("web"), "a new group belongs to the node whose manager created it")

	url := strings.TrimSpace(c.must(0, "console"))
	require.Regexp(t, `^http://127\.0\.0\.1:\d+/\?token=[0-9a-f]{64}$`, url, "hagsrm console prints the URL with the token")
	_, err := c.rm(1, "console")
	require.Error(t, err, "node 2's manager serves no console")
	assert.Contains(t, err.Error(), "ERROR_INVALID_STATE", "and says so with its code")

	// As root Chromium needs --no-sandbox; the network flags keep it from
	// reaching for Google's services, which this machine cannot reach.
	opts := append([]chromedp.ExecAllocatorOption{}, chromedp.DefaultExecAllocatorOptions[:]...)
	opts = append(opts, chromedp.ExecPath(browser), chromedp.NoSandbox, chromedp.Headless, chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true), chromedp.NoFirstRun, chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1400, 1000))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancelCtx := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf))
	defer cancelCtx()
	ctx, cancelT := context.WithTimeout(ctx, 3*time.Minute)
	defer cancelT()

	ownerCell := `tr[data-group="web"] td.owner`
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(url),
		chromedp.WaitVisible(chromedp.CSS(ownerCell)),
	), "the page loads and shows the group")
	href, err := chromedp.Run(ctx, chromedp.Evaluate[string](`window.location.href`))
	require.NoError(t, err)
	assert.NotContains(t, href, "token", "the page takes the token out of the address bar")
	waitText(t, ctx, `#access`, "operator", "the token makes the page an operator's")
	waitText(t, ctx, ownerCell, "node1", "the page shows the group on node1")
	rows, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#nodes tbody tr").length`))
	require.NoError(t, err)
	assert.Equal(t, 3, rows, "one row per node")
	_, err = chromedp.Run(ctx, chromedp.Evaluate[chromedp.Void](`window.notReloaded = true`))
	require.NoError(t, err)

	// A move started from hagsrm shows on the page as it happens.
	c.must(1, "group", "move", "web", "node2")
	waitText(t, ctx, ownerCell, "node2", "the page follows a move made with hagsrm")
	kept, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.notReloaded === true`))
	require.NoError(t, err)
	assert.True(t, kept, "the page was updated in place, not reloaded")
	waitText(t, ctx, `tr[data-group="web"] td.state`, "Online", "the group comes online on node2")

	// A button moves the group.
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Evaluate[chromedp.Void](`(() => { const s = document.querySelector('tr[data-group="web"] select.move-target');
			s.value = "node3"; s.dispatchEvent(new Event("change")); })()`),
		chromedp.Click(chromedp.CSS(`tr[data-group="web"] button[data-op="move-group"]`)),
	), "the Move button is clicked with node3 chosen")
	waitText(t, ctx, `#results li:first-child .code`, "ERROR_IO_PENDING (997)", "the button's move is accepted and goes on")
	waitText(t, ctx, ownerCell, "node3", "the page shows the group on node3")
	require.Eventually(t, func() bool { return c.owner("web") == "node3" }, 30*time.Second, 50*time.Millisecond,
		"the cluster itself moved the group to node3")
	waitText(t, ctx, `tr[data-group="web"] td.state`, "Online", "the group comes online on node3")

	// A request the cluster refuses shows its code.
	require.NoError(t, chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`tr[data-node="node1"] button[data-op="resume-node"]`))))
	waitText(t, ctx, `#results li:first-child .code`, "ERROR_CLUSTER_NODE_NOT_PAUSED (5058)",
		"resuming a node that is not paused shows its code")

	timeline, err := chromedp.Run(ctx, chromedp.TextContent(chromedp.CSS(`#timeline`)))
	require.NoError(t, err)
	assert.Contains(t, timeline, "owner node1 → node2", "the timeline holds the hagsrm move")
	assert.Contains(t, timeline, "owner node2 → node3", "the timeline holds the button's move")

	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	require.NoError(t, err, "a screenshot is taken")
	shot := filepath.Join(t.ArtifactDir(), "console.png")
	require.NoError(t, os.WriteFile(shot, png, 0o644))
	t.Logf("screenshot: %s", shot)
}

// waitText waits until the element sel holds text want, re-checking in
// the browser at every change of the page (no polling from here).
func waitText(t *testing.T, ctx context.Context, sel, want, msg string) {
	t.Helper()
	look := fmt.Sprintf(`(() => { const e = document.querySelector(%q); return e ? e.textContent.trim() : ""; })()`, sel)
	_, err := chromedp.Run(ctx, chromedp.Poll[bool](fmt.Sprintf(`%s === %q`, look, want),
		chromedp.WithPollingMutation(), chromedp.WithPollingTimeout(60*time.Second)))
	if err != nil {
		got, _ := chromedp.Run(ctx, chromedp.Evaluate[string](look))
		t.Fatalf("%s: %s shows %q, want %q: %v", msg, sel, got, want, err)
	}
}

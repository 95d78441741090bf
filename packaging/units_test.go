// Package packaging holds the tests of what installs hags: the systemd
// units (units_test.go) and the Debian packages (deb_test.go). The files
// themselves are packaging/systemd, packaging/etc and packaging/deb;
// docs/operations.md explains them.
package packaging

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhags/hags/internal/harness"
	"github.com/openhags/hags/internal/manpage"
)

const root = ".."

// unit is a unit file: section → key → values (a key may repeat).
type unit map[string]map[string][]string

func parseUnit(t *testing.T, path string) unit {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	u := unit{}
	section := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, "["):
			section = strings.Trim(line, "[]")
			u[section] = map[string][]string{}
		default:
			k, v, ok := strings.Cut(line, "=")
			require.True(t, ok, "%s: %q is key=value", path, line)
			u[section][k] = append(u[section][k], v)
		}
	}
	require.NoError(t, sc.Err())
	return u
}

func (u unit) get(section, key string) string {
	vs := u[section][key]
	if len(vs) == 0 {
		return ""
	}
	return vs[len(vs)-1]
}

// renderUnits runs `make units` with SBINDIR=sbin into dir and returns the
// two unit files' paths.
func renderUnits(t *testing.T, sbin, dir string) (hagsd, hagsrmd string) {
	t.Helper()
	out, err := exec.Command("make", "-s", "-C", root, "units", "SBINDIR="+sbin, "SYSCONFDIR=/etc", "UNITOUT="+dir).CombinedOutput()
	require.NoError(t, err, "make units:\n%s", out)
	return filepath.Join(dir, "hagsd.service"), filepath.Join(dir, "hagsrmd.service")
}

// renderPages renders every manual page into dir/manN, a MANPATH.
func renderPages(t *testing.T, dir string) {
	t.Helper()
	pages, err := filepath.Glob(filepath.Join(root, "docs", "man", "*.[0-9].md"))
	require.NoError(t, err)
	require.NotEmpty(t, pages)
	for _, p := range pages {
		_, err := manpage.Build(p, dir)
		require.NoError(t, err)
	}
}

// buildDaemons builds hagsd and hagsrmd into a new directory.
func buildDaemons(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "hags-units-")
	require.NoError(t, err)
	require.NoError(t, os.Chmod(dir, 0o755))
	t.Cleanup(func() { os.RemoveAll(dir) })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	require.NoError(t, harness.Build(ctx, dir, "./cmd/hagsd", "./cmd/hagsrmd"))
	return dir
}

// TestUnitsSayWhatTheDesignNeeds renders the units as make install does
// and checks the settings docs/operations.md gives reasons for, then has
// systemd-analyze verify them, with the real daemons at their ExecStart
// and the pages their Documentation= names on MANPATH: not a word of
// complaint.
func TestUnitsSayWhatTheDesignNeeds(t *testing.T) {
	sbin := buildDaemons(t)
	dir := t.TempDir()
	hagsdUnit, hagsrmdUnit := renderUnits(t, sbin, dir)

	d := parseUnit(t, hagsdUnit)
	assert.Equal(t, "notify", d.get("Service", "Type"), "hagsd tells systemd when it is admitted")
	assert.Equal(t, sbin+"/hagsd --config /etc/hags/hagsd.conf", d.get("Service", "ExecStart"), "hagsd reads /etc/hags/hagsd.conf")
	assert.Equal(t, "infinity", d.get("Service", "TimeoutStartSec"), "admission may wait for the other voters")
	assert.NotEmpty(t, d.get("Service", "WatchdogSec"), "the run loop feeds a watchdog")
	assert.Equal(t, "on-failure", d.get("Service", "Restart"))
	assert.Equal(t, "multi-user.target", d.get("Install", "WantedBy"))

	m := parseUnit(t, hagsrmdUnit)
	assert.Equal(t, "notify", m.get("Service", "Type"))
	assert.Equal(t, sbin+"/hagsrmd --config /etc/hags/hagsrmd.conf", m.get("Service", "ExecStart"))
	assert.Equal(t, "always", m.get("Service", "Restart"), "a dead hagsrmd must come back, whatever its exit")
	assert.Equal(t, "0", m.get("Unit", "StartLimitIntervalSec"), "and however often it dies")
	assert.Contains(t, m.get("Unit", "After"), "hagsd.service", "hagsrmd starts after hagsd is ready")
	assert.Contains(t, m.get("Unit", "Wants"), "hagsd.service")
	assert.Equal(t, "process", m.get("Service", "KillMode"), "what agents started outside their groups survives a crash, for the probe")
	restart, err := time.ParseDuration(m.get("Service", "RestartSec"))
	require.NoError(t, err)
	assert.LessOrEqual(t, restart, 2*time.Second, "hagsrmd comes back within seconds")

	sa, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze is not installed (apt-get install systemd): the units' syntax is not verified here")
	}
	renderPages(t, filepath.Join(dir, "man"))
	cmd := exec.Command(sa, "verify", hagsdUnit, hagsrmdUnit)
	cmd.Env = append(os.Environ(), "MANPATH="+filepath.Join(dir, "man"), "SYSTEMD_LOG_LEVEL=notice")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err = cmd.Run()
	assert.NoError(t, err, "systemd-analyze verify accepts the units: %s", stderr.String())
	assert.Empty(t, stderr.String(), "systemd-analyze verify has nothing to say about the units")

	// The same check fails on a unit it should refuse, so its silence above
	// means something.
	bad := filepath.Join(dir, "bad.service")
	b, err := os.ReadFile(hagsdUnit)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(bad, bytes.Replace(b, []byte("WatchdogSec=30s"), []byte("WatchdogSec=soon"), 1), 0o644))
	cmd = exec.Command(sa, "verify", bad)
	cmd.Env = append(os.Environ(), "MANPATH="+filepath.Join(dir, "man"))
	out, _ := cmd.CombinedOutput()
	assert.Contains(t, string(out), "Failed to parse sec value", "systemd-analyze verify complains about a bad value")
}

// TestUnitsStartUnderSystemd starts the units under this machine's systemd
// when it has one (PID 1 is systemd, and we are root): hagsd.service is
// active once `systemctl start` returns (Type=notify: READY=1 came), then
// hagsrmd.service; a hagsd stopped with SIGSTOP misses its watchdog and is
// restarted. The units run under test names, from /run/systemd/system,
// with a throw-away configuration.
func TestUnitsStartUnderSystemd(t *testing.T) {
	comm, _ := os.ReadFile("/proc/1/comm")
	if strings.TrimSpace(string(comm)) != "systemd" || os.Geteuid() != 0 {
		t.Skipf("this machine's PID 1 is %q, not systemd (or we are not root): the units cannot be started for real here; "+
			"cmd/hagsd and cmd/hagsrmd test the notify protocol against a fake notify socket", strings.TrimSpace(string(comm)))
	}
	sbin := buildDaemons(t)
	dir := t.TempDir()
	hagsdUnit, hagsrmdUnit := renderUnits(t, sbin, dir)
	state := filepath.Join(dir, "state")
	conf := map[string]string{
		"hagsd.conf":   "domain hagsunit\nsocket " + filepath.Join(dir, "gs.sock") + "\n",
		"hagsrmd.conf": "domain hagsunit\ngs-socket " + filepath.Join(dir, "gs.sock") + "\nsocket " + filepath.Join(dir, "rm.sock") + "\nstate-dir " + state + "\n",
	}
	for name, text := range conf {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644))
	}
	names := map[string]string{hagsdUnit: "hags-test-hagsd.service", hagsrmdUnit: "hags-test-hagsrmd.service"}
	for src, name := range names {
		b, err := os.ReadFile(src)
		require.NoError(t, err)
		text := strings.ReplaceAll(string(b), "/etc/hags/", dir+"/")
		text = strings.ReplaceAll(text, "hagsd.service", "hags-test-hagsd.service")
		text = strings.ReplaceAll(text, "WatchdogSec=30s", "WatchdogSec=3s")
		path := filepath.Join("/run/systemd/system", name)
		require.NoError(t, os.WriteFile(path, []byte(text), 0o644))
		t.Cleanup(func() {
			exec.Command("systemctl", "stop", name).Run()
			os.Remove(path)
			exec.Command("systemctl", "daemon-reload").Run()
		})
	}
	systemctl := func(args ...string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		out, err := exec.CommandContext(ctx, "systemctl", args...).CombinedOutput()
		require.NoError(t, err, "systemctl %v: %s", args, out)
		return strings.TrimSpace(string(out))
	}
	show := func(name, prop string) string { return systemctl("show", "-P", prop, name) }
	systemctl("daemon-reload")
	systemctl("start", "hags-test-hagsd.service")
	assert.Equal(t, "active", show("hags-test-hagsd.service", "ActiveState"), "start returned: hagsd said READY=1")
	assert.Contains(t, show("hags-test-hagsd.service", "StatusText"), "admitted", "the status says hagsd is admitted")
	systemctl("start", "hags-test-hagsrmd.service")
	assert.Equal(t, "active", show("hags-test-hagsrmd.service", "ActiveState"))

	pid := show("hags-test-hagsd.service", "MainPID")
	systemctl("kill", "--signal=SIGSTOP", "hags-test-hagsd.service")
	require.Eventually(t, func() bool {
		return show("hags-test-hagsd.service", "NRestarts") != "0" && show("hags-test-hagsd.service", "ActiveState") == "active" &&
			show("hags-test-hagsd.service", "MainPID") != pid
	}, 2*time.Minute, 200*time.Millisecond, "a stopped hagsd misses its watchdog and is restarted")
	fmt.Fprintln(os.Stderr, "hags units ran under systemd")
}

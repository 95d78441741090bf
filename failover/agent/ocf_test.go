package agent

import (
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

	"github.com/openhags/hags/failover"
	"github.com/openhags/hags/failover/agent/actlog"
	"github.com/openhags/hags/failover/engine"
)

func TestDummyStartProbeStop(t *testing.T) {
	needResourceAgents(t)
	t.Parallel()
	h := newHarness(t, "NodeA")
	ctx := context.Background()
	res := Resource{Name: "db", Agent: dummy}

	running, detail, err := h.r.Probe(ctx, res)
	require.NoError(t, err)
	assert.False(t, running, "a Dummy never started does not run (%s)", detail)

	a := start("db", dummy, nil)
	a.MonitorInterval = 50 * time.Millisecond
	got := h.do(t, a)
	assert.Equal(t, engine.ActionResult{ID: a.ID, Resource: "db", Op: engine.ActStart, Outcome: engine.OutcomeOK,
		Detail: "start: exit 0 (OCF_SUCCESS)"}, got, "Dummy starts")
	_, err = os.Stat(filepath.Join(h.stateDir, "rsctmp", "Dummy-db.state"))
	assert.NoError(t, err, "Dummy keeps its state in HA_RSCTMP under the state dir")

	running, detail, err = h.r.Probe(ctx, res)
	require.NoError(t, err)
	assert.True(t, running, "a started Dummy runs (%s)", detail)

	s := stop("db", dummy, nil)
	got = h.do(t, s)
	assert.Equal(t, engine.OutcomeOK, got.Outcome, "Dummy stops: %s", got.Detail)
	h.noFailure(t, "monitoring a running Dummy finds nothing wrong, and the stop ended it")
	running, detail, err = h.r.Probe(ctx, res)
	require.NoError(t, err)
	assert.False(t, running, "a stopped Dummy does not run (%s)", detail)

	recs, err := actlog.ReadFile(h.actLog)
	require.NoError(t, err)
	require.Len(t, recs, 2, "one start and one stop record")
	assert.Equal(t, actlog.OpStart, recs[0].Op)
	assert.Equal(t, actlog.OpStop, recs[1].Op)
	for _, r := range recs {
		assert.Equal(t, "NodeA", r.Node, "records carry the node")
		assert.Equal(t, "db", r.Resource, "records carry the resource")
		assert.True(t, r.OK, "both actions succeeded")
		assert.Equal(t, "ocf:heartbeat:Dummy", r.Agent)
	}
	assert.Less(t, recs[0].Mono, recs[1].Mono, "the start began before the stop ended")
}

func TestDummyValidateAndMetaData(t *testing.T) {
	needResourceAgents(t)
	t.Parallel()
	h := newHarness(t, "NodeA")
	ctx := context.Background()

	require.NoError(t, h.r.Validate(ctx, Resource{Name: "db", Agent: dummy}), "Dummy validates with its defaults")

	err := h.r.Validate(ctx, Resource{Name: "db", Agent: dummy, Params: map[string]string{"state": "/nonexistent/dir/state"}})
	require.ErrorIs(t, err, failover.ErrClusterResourceConfiguration, "validate-all refuses a state file it cannot write")
	assert.Contains(t, err.Error(), "is not writable", "the error carries the agent's own words")
	assert.Contains(t, err.Error(), "OCF_ERR_ARGS", "the error names the exit code")

	md, err := h.r.MetaData(ctx, dummy)
	require.NoError(t, err)
	assert.Equal(t, "Dummy", md.Name)
	assert.Equal(t, 20*time.Second, md.StartTimeout, "Dummy's start timeout")
	assert.Equal(t, 20*time.Second, md.StopTimeout, "Dummy's stop timeout")
	assert.Equal(t, 20*time.Second, md.MonitorTimeout, "Dummy's monitor timeout")
	assert.Equal(t, 10*time.Second, md.MonitorInterval, "Dummy's suggested monitor interval")
	assert.Equal(t, 5*time.Second, md.Timeouts["meta-data"], "every action's timeout is kept")
	var names []string
	for _, p := range md.Parameters {
		names = append(names, p.Name)
	}
	assert.Equal(t, []string{"state", "fake"}, names, "Dummy's parameters")
}

func TestTwoNodesOnOneMachineKeepApart(t *testing.T) {
	needResourceAgents(t)
	t.Parallel()
	a := newHarness(t, "NodeA")
	b := newHarness(t, "NodeB")
	ctx := context.Background()
	res := Resource{Name: "shared name", Agent: testSpec}
	got := a.do(t, start(res.Name, testSpec, nil))
	require.Equal(t, engine.OutcomeOK, got.Outcome, got.Detail)

	running, _, err := a.r.Probe(ctx, res)
	require.NoError(t, err)
	assert.True(t, running, "node A sees the resource it started")
	running, _, err = b.r.Probe(ctx, res)
	require.NoError(t, err)
	assert.False(t, running, "node B, with another state dir, does not see node A's")

	// Dummy itself, by the same means: its state file is in HA_RSCTMP.
	got = a.do(t, start("db", dummy, nil))
	require.Equal(t, engine.OutcomeOK, got.Outcome, got.Detail)
	running, _, err = b.r.Probe(ctx, Resource{Name: "db", Agent: dummy})
	require.NoError(t, err)
	assert.False(t, running, "node B does not see node A's Dummy")
}

func TestOCFEnvironment(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "NodeA")
	dump := filepath.Join(t.TempDir(), "env")
	a := start("a name with spaces", testSpec, map[string]string{"envdump": dump, "ip": "10.0.0.1", "Mixed_Case9": "x y"})
	a.Timeout = 7 * time.Second
	got := h.do(t, a)
	require.Equal(t, engine.OutcomeOK, got.Outcome, got.Detail)
	b, err := os.ReadFile(dump + ".start")
	require.NoError(t, err)
	env := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		k, v, _ := strings.Cut(l, "=")
		env[k] = v
	}
	want := map[string]string{
		"OCF_ROOT":                     testRoot,
		"OCF_RA_VERSION_MAJOR":         "1",
		"OCF_RA_VERSION_MINOR":         "1",
		"OCF_RESOURCE_INSTANCE":        "a name with spaces",
		"OCF_RESOURCE_TYPE":            "Test",
		"OCF_RESOURCE_PROVIDER":        "hagstest",
		"OCF_RESKEY_ip":                "10.0.0.1",
		"OCF_RESKEY_Mixed_Case9":       "x y",
		"OCF_RESKEY_envdump":           dump,
		"OCF_RESKEY_CRM_meta_timeout":  "7000",
		"OCF_RESKEY_CRM_meta_interval": "0",
		"OCF_RESKEY_CRM_meta_on_node":  "NodeA",
		"HA_RSCTMP":                    filepath.Join(h.stateDir, "rsctmp"),
		"PATH":                         "/usr/sbin:/usr/bin:/sbin:/bin",
	}
	for k, v := range want {
		assert.Equal(t, v, env[k], "the agent gets %s", k)
	}
	for k := range env {
		_, expected := want[k]
		assert.True(t, expected || k == "PWD" || k == "SHLVL" || k == "_", "the agent gets nothing else, but got %s", k)
	}
	fi, err := os.Stat(filepath.Join(h.stateDir, "rsctmp"))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o755), fi.Mode().Perm(), "HA_RSCTMP is mode 0755")
}

func TestOCFOutcomeTable(t *testing.T) {
	t.Parallel()
	type row struct{ start, stop, monitor engine.Outcome }
	ok, soft, hard, fatal := engine.OutcomeOK, engine.OutcomeSoft, engine.OutcomeHard, engine.OutcomeFatal
	table := map[int]row{
		0:   {ok, ok, ok},
		1:   {soft, soft, soft},
		2:   {hard, hard, hard},
		3:   {hard, hard, hard},
		4:   {hard, hard, hard},
		5:   {hard, hard, hard},
		6:   {fatal, fatal, fatal},
		7:   {soft, ok, soft},
		8:   {soft, soft, ok},
		9:   {soft, soft, soft},
		42:  {soft, soft, soft},
		190: {soft, soft, ok},
		191: {soft, soft, ok},
		255: {soft, soft, soft},
	}
	for code, want := range table {
		assert.Equal(t, want.start, OCFOutcome("start", code), "start exit %d", code)
		assert.Equal(t, want.stop, OCFOutcome("stop", code), "stop exit %d", code)
		assert.Equal(t, want.monitor, OCFOutcome("monitor", code), "monitor exit %d", code)
	}
}

// TestOCFExitCodesThroughRealAgents runs the test agent exiting with each
// code from start and stop, and checks the runner's outcome against the
// table.
func TestOCFExitCodesThroughRealAgents(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "NodeA")
	for _, code := range []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 42, 190, 255} {
		for _, op := range []engine.ActionOp{engine.ActStart, engine.ActStop} {
			name := opName(op)
			params := map[string]string{"exit_" + name: fmt.Sprint(code)}
			a := engine.Action{ID: nextID(), Op: op, Resource: "codes", Agent: testSpec, Params: params}
			got := h.do(t, a)
			assert.Equal(t, OCFOutcome(name, code), got.Outcome, "%s exiting %d: %s", name, code, got.Detail)
			assert.Contains(t, got.Detail, fmt.Sprintf("exit %d (", code), "the detail names the code")
		}
	}
}

func TestActionTimeoutKillsTheGroup(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "NodeA")
	pidFile := filepath.Join(t.TempDir(), "pid")
	a := start("hangs", testSpec, map[string]string{"hang_start": "1", "pidfile": pidFile})
	a.Timeout = 500 * time.Millisecond
	got := h.do(t, a)
	assert.Equal(t, engine.OutcomeSoft, got.Outcome, "a start that hangs past its timeout failed (soft)")
	assert.Contains(t, got.Detail, "did not finish within 500ms; its process group was killed")
	pid := readPid(t, pidFile)
	killLater(t, pid)
	requireGone(t, pid, "the hung start's grandchild")
}

func TestMetaDataTimeoutBoundsTheAction(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "NodeA")
	pidFile := filepath.Join(t.TempDir(), "pid")
	got := h.do(t, start("slow", ocf("hagstest", "SlowStart"), map[string]string{"pidfile": pidFile}))
	assert.Equal(t, engine.OutcomeSoft, got.Outcome, "the start is killed at the meta-data's timeout")
	assert.Contains(t, got.Detail, "did not finish within 1s", "the meta-data's start timeout (1s) applied")
	pid := readPid(t, pidFile)
	killLater(t, pid)
	requireGone(t, pid, "the slow start's grandchild")
}

func TestMetaDataDefaultsWhenTheAgentGivesNone(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "NodeA")
	ctx := context.Background()
	for _, typ := range []string{"NoMetaData", "BadMetaData"} {
		md, err := h.r.MetaData(ctx, ocf("hagstest", typ))
		assert.ErrorIs(t, err, ErrMetaData, "%s has no usable meta-data", typ)
		assert.Equal(t, DefaultActionTimeout, md.StartTimeout, "%s: the default start timeout stands", typ)
		got := h.do(t, start("x-"+typ, ocf("hagstest", typ), nil))
		assert.Equal(t, engine.OutcomeOK, got.Outcome, "%s still starts, under the default timeout: %s", typ, got.Detail)
	}
	md, err := h.r.MetaData(ctx, testSpec)
	require.NoError(t, err)
	assert.Equal(t, 15*time.Second, md.StartTimeout, `"15s"`)
	assert.Equal(t, 25*time.Second, md.StopTimeout, `"25" is seconds`)
	assert.Equal(t, 12*time.Second, md.MonitorTimeout, "the monitor without a role counts")
	assert.Equal(t, 5*time.Second, md.MonitorInterval, "its interval")
	_, ok := md.Timeouts["validate-all"]
	assert.False(t, ok, `"soon" is no timeout`)

	md, err = h.r.MetaData(ctx, execSpec)
	require.NoError(t, err)
	assert.Equal(t, DefaultActionTimeout, md.StopTimeout, "exec has the default timeouts")
}

func TestMonitorFailuresAreReported(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "NodeA")
	dir := t.TempDir()
	cases := []struct {
		control string
		outcome engine.Outcome
		detail  string
	}{
		{"7", engine.OutcomeSoft, "monitor: exit 7 (OCF_NOT_RUNNING)"},
		{"1", engine.OutcomeSoft, "monitor: exit 1 (OCF_ERR_GENERIC)"},
		{"5", engine.OutcomeHard, "monitor: exit 5 (OCF_ERR_INSTALLED)"},
		{"6", engine.OutcomeFatal, "monitor: exit 6 (OCF_ERR_CONFIGURED)"},
		{"hang", engine.OutcomeSoft, "monitor did not finish within 300ms"},
	}
	for i, c := range cases {
		name := fmt.Sprintf("mon-%d", i)
		control := filepath.Join(dir, name)
		pidFile := control + ".pid"
		a := start(name, testSpec, map[string]string{"control": control, "pidfile": pidFile})
		a.MonitorInterval = 50 * time.Millisecond
		a.MonitorTimeout = 300 * time.Millisecond
		got := h.do(t, a)
		require.Equal(t, engine.OutcomeOK, got.Outcome, got.Detail)
		writeFile(t, control, c.control)
		f := h.failure(t)
		assert.Equal(t, name, f.Resource)
		assert.Equal(t, c.outcome, f.Outcome, "monitor %s", c.control)
		assert.Contains(t, f.Detail, c.detail)
		if c.control == "hang" {
			pid := readPid(t, pidFile)
			killLater(t, pid)
			requireGone(t, pid, "the hung monitor's grandchild")
		}
		got = h.do(t, stop(name, testSpec, map[string]string{"control": control}))
		assert.Equal(t, engine.OutcomeOK, got.Outcome, got.Detail)
	}
	h.noFailure(t, "each failure is reported once")
}

func TestStopEndsAMonitorInProgress(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "NodeA")
	dir := t.TempDir()
	control := filepath.Join(dir, "control")
	pidFile := filepath.Join(dir, "pid")
	params := map[string]string{"control": control, "pidfile": pidFile}
	a := start("r", testSpec, params)
	a.MonitorInterval = 50 * time.Millisecond
	a.MonitorTimeout = time.Hour
	got := h.do(t, a)
	require.Equal(t, engine.OutcomeOK, got.Outcome, got.Detail)
	writeFile(t, control, "hang")
	pid := readPid(t, pidFile) // a monitor is hanging now
	killLater(t, pid)
	got = h.do(t, stop("r", testSpec, params))
	assert.Equal(t, engine.OutcomeOK, got.Outcome, "the stop runs once the monitor is killed: %s", got.Detail)
	requireGone(t, pid, "the hung monitor's grandchild")
	h.noFailure(t, "a monitor killed by a stop is not a failure")
}

func TestStopAbortsARunningStart(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "NodeA")
	pidFile := filepath.Join(t.TempDir(), "pid")
	params := map[string]string{"hang_start": "1", "pidfile": pidFile}
	a := start("r", testSpec, params)
	a.Timeout = time.Hour
	h.r.Execute(a)
	pid := readPid(t, pidFile)
	killLater(t, pid)
	s := stop("r", testSpec, nil)
	h.r.Execute(s)
	got := h.result(t, a.ID)
	assert.Equal(t, engine.OutcomeSoft, got.Outcome, "the start is aborted")
	assert.Contains(t, got.Detail, "aborted")
	got = h.result(t, s.ID)
	assert.Equal(t, engine.OutcomeOK, got.Outcome, "the stop runs after it: %s", got.Detail)
	requireGone(t, pid, "the aborted start's grandchild")
}

func TestGarbageOutputIsBoundedAndReadable(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "NodeA")
	for _, mode := range []string{"garbage", "huge", "longline", "nonewline"} {
		before := h.log.outputBytes()
		got := h.do(t, start("noisy-"+mode, testSpec, map[string]string{"output": mode, "exit_start": "1"}))
		assert.Equal(t, engine.OutcomeSoft, got.Outcome, "%s: exit 1 is a soft failure", mode)
		assert.LessOrEqual(t, len(got.Detail), MaxDetail+len("…"), "%s: the detail is bounded", mode)
		for _, r := range got.Detail {
			assert.True(t, r >= 0x20 || r == '\t', "%s: the detail is printable, but holds %q", mode, r)
		}
		assert.LessOrEqual(t, h.log.outputBytes()-before, ActionLogLimit, "%s: no more than ActionLogLimit bytes of output are logged", mode)
		if mode == "nonewline" {
			assert.Contains(t, got.Detail, "the last words without a newline", "a last line without newline makes the detail")
		}
	}
	assert.True(t, h.log.has("output past the log limit was not logged"), "the log says output was left out")
}

func TestExitReasonMakesTheDetail(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "NodeA")
	got := h.do(t, start("conf", testSpec, map[string]string{"reason": "the address 10.0.0.999 is not valid", "exit_start": "6"}))
	assert.Equal(t, engine.OutcomeFatal, got.Outcome, "OCF_ERR_CONFIGURED is fatal")
	assert.Equal(t, "start: exit 6 (OCF_ERR_CONFIGURED): the address 10.0.0.999 is not valid", got.Detail)
}

func TestChildrenThatOutliveTheAgentAreKilled(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "NodeA")
	pidFile := filepath.Join(t.TempDir(), "pid")
	got := h.do(t, start("forks", testSpec, map[string]string{"fork": "1", "pidfile": pidFile}))
	assert.Equal(t, engine.OutcomeOK, got.Outcome, got.Detail)
	pid := readPid(t, pidFile)
	killLater(t, pid)
	requireGone(t, pid, "a process the agent left in its group")
}

func TestProbeResults(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "NodeA")
	ctx := context.Background()
	dir := t.TempDir()
	cases := []struct {
		exit    string
		running bool
		detail  string
	}{
		{"0", true, "probe monitor: exit 0 (OCF_SUCCESS)"},
		{"7", false, "probe monitor: exit 7 (OCF_NOT_RUNNING)"},
		{"5", false, "probe monitor: exit 5 (OCF_ERR_INSTALLED)"},
		{"190", true, "probe monitor: exit 190 (OCF_DEGRADED)"},
		{"1", true, "counted as running"},
		{"6", true, "counted as running"},
		{"hang", true, "did not finish within 300ms"},
	}
	for _, c := range cases {
		control := filepath.Join(dir, "control-"+c.exit)
		writeFile(t, control, c.exit)
		res := Resource{Name: "p", Agent: testSpec, Timeout: 300 * time.Millisecond,
			Params: map[string]string{"control": control, "pidfile": control + ".pid"}}
		running, detail, err := h.r.Probe(ctx, res)
		require.NoError(t, err, "probe with monitor %s", c.exit)
		assert.Equal(t, c.running, running, "probe with monitor %s: %s", c.exit, detail)
		assert.Contains(t, detail, c.detail)
	}
	running, detail, err := h.r.Probe(ctx, Resource{Name: "p", Agent: ocf("hagstest", "Missing")})
	require.NoError(t, err)
	assert.False(t, running, "an agent not installed runs nothing here")
	assert.Contains(t, detail, "not installed")

	_, _, err = h.r.Probe(ctx, Resource{Name: "p", Agent: ocf("..", "Test")})
	assert.ErrorIs(t, err, ErrBadAgent, "a spec that climbs out of the root is refused")
}

func TestValidateRefusals(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "NodeA")
	ctx := context.Background()
	cases := []struct {
		res  Resource
		code *failover.Error
		why  string
	}{
		{Resource{Name: "r", Agent: ocf("hagstest", "Missing")}, failover.ErrClusterResourceTypeNotFound, "no such agent"},
		{Resource{Name: "r", Agent: ocf("nosuchprovider", "Test")}, failover.ErrClusterResourceTypeNotFound, "no such provider"},
		{Resource{Name: "r", Agent: ocf("..", "hagstest")}, failover.ErrClusterResourceTypeNotFound, "a provider that climbs"},
		{Resource{Name: "r", Agent: ocf("hagstest", "../hagstest/Test")}, failover.ErrClusterResourceTypeNotFound, "a type with a slash"},
		{Resource{Name: "r", Agent: failover.AgentSpec{Class: "lsb"}}, failover.ErrClusterResourceTypeNotFound, "an unknown class"},
		{Resource{Name: "r", Agent: testSpec, Params: map[string]string{"bad-name": "x"}}, failover.ErrInvalidParameter, "a parameter name that is no variable name"},
		{Resource{Name: "r", Agent: testSpec, Params: map[string]string{"x": "a\x00b"}}, failover.ErrInvalidParameter, "a NUL in a value"},
		{Resource{Name: "r", Agent: testSpec, Params: map[string]string{"CRM_meta_timeout": "1"}}, failover.ErrInvalidParameter, "a meta parameter"},
		{Resource{Name: "r", Agent: testSpec, Params: map[string]string{"exit_validate_all": "6", "reason": "bad ip"}}, failover.ErrClusterResourceConfiguration, "validate-all refuses"},
		{Resource{Name: "r", Agent: testSpec, Params: map[string]string{"hang_validate_all": "1", "pidfile": filepath.Join(t.TempDir(), "p")}, Timeout: 200 * time.Millisecond}, failover.ErrClusterResourceConfiguration, "validate-all hangs"},
	}
	for _, c := range cases {
		err := h.r.Validate(ctx, c.res)
		assert.ErrorIs(t, err, c.code, "%s: want %v, got %v", c.why, c.code, err)
	}
	err := h.r.Validate(ctx, Resource{Name: "r", Agent: testSpec, Params: map[string]string{"exit_validate_all": "6", "reason": "bad ip"}})
	assert.Contains(t, err.Error(), "bad ip", "the agent's words are in the error")
	assert.NoError(t, h.r.Validate(ctx, Resource{Name: "r", Agent: ocf("hagstest", "NoValidate")}),
		"an agent without validate-all (exit 3) accepts everything")
	assert.NoError(t, h.r.Validate(ctx, Resource{Name: "r", Agent: testSpec, Params: map[string]string{"ip": "10.0.0.1"}}))
}

func TestUnsafeAgentFilesAreRefused(t *testing.T) {
	t.Parallel()
	if os.Geteuid() != 0 {
		t.Skip("chown needs root")
	}
	root := filepath.Join(t.TempDir(), "ocf")
	// Files are made by a child process (see setupRoot).
	out, err := exec.Command("/bin/sh", "-c", `set -e
mkdir -p "$1/resource.d/p" "$1/resource.d/open" "$1/elsewhere"
chmod 755 "$1" "$1/resource.d" "$1/resource.d/p" "$1/elsewhere"
chmod 777 "$1/resource.d/open"
for f in "$1/resource.d/p/WorldWritable" "$1/resource.d/p/Nobodys" "$1/resource.d/open/InOpenDir" "$1/elsewhere/Real"; do
  printf '#!/bin/sh\nexit 0\n' > "$f"; chmod 755 "$f"
done
chmod 777 "$1/resource.d/p/WorldWritable"
chown 65534 "$1/resource.d/p/Nobodys"
ln -s ../../elsewhere/Real "$1/resource.d/p/Linked"`, "setup", root).CombinedOutput()
	require.NoError(t, err, "%s", out)
	h := newHarnessIn(t, "NodeA", t.TempDir(), root)
	ctx := context.Background()
	for _, typ := range []string{"WorldWritable", "Nobodys"} {
		err := h.r.Validate(ctx, Resource{Name: "r", Agent: ocf("p", typ)})
		assert.ErrorIs(t, err, failover.ErrClusterResourceConfiguration, "%s is refused: %v", typ, err)
		got := h.do(t, start("r-"+typ, ocf("p", typ), nil))
		assert.Equal(t, engine.OutcomeHard, got.Outcome, "%s is never run here: %s", typ, got.Detail)
	}
	err = h.r.Validate(ctx, Resource{Name: "r", Agent: ocf("open", "InOpenDir")})
	assert.ErrorIs(t, err, failover.ErrClusterResourceConfiguration, "an agent in a world-writable directory is refused: %v", err)
	assert.NoError(t, h.r.Validate(ctx, Resource{Name: "r", Agent: ocf("p", "Linked")}),
		"a link to a safe agent outside the root is followed")
}

func TestParseOCFDuration(t *testing.T) {
	t.Parallel()
	good := map[string]time.Duration{
		"20s": 20 * time.Second, "20": 20 * time.Second, " 20 ": 20 * time.Second, "2min": 2 * time.Minute,
		"2m": 2 * time.Minute, "1.5m": 90 * time.Second, "500ms": 500 * time.Millisecond, "500msec": 500 * time.Millisecond,
		"1h": time.Hour, "1hr": time.Hour, "90sec": 90 * time.Second, "20 s": 20 * time.Second, "20S": 20 * time.Second,
		"100us": 100 * time.Microsecond, "24h": 24 * time.Hour,
	}
	for s, want := range good {
		got, ok := ParseOCFDuration(s)
		assert.True(t, ok, "%q is a duration", s)
		assert.Equal(t, want, got, "%q", s)
	}
	for _, s := range []string{"", "s", "0", "0s", "-5s", "20x", "1e3", "1..2s", "soon", "25h", "99999999999999999999999s", "20s5", "NaN", "Inf"} {
		_, ok := ParseOCFDuration(s)
		assert.False(t, ok, "%q is not a usable timeout", s)
	}
}

func TestParseMetaDataRefusesNonDocuments(t *testing.T) {
	t.Parallel()
	for _, doc := range []string{"", "garbage", "<html><body/></html>", "\x00\x01\x02", `<resource-agent name="x"`} {
		_, err := ParseMetaData([]byte(doc))
		assert.Error(t, err, "%q is not meta-data", doc)
	}
	md, err := ParseMetaData([]byte(`<resource-agent name="x"><actions><action name="start" timeout="9999h"/><action name="stop" timeout="3s"/></actions></resource-agent>`))
	require.NoError(t, err)
	assert.Equal(t, DefaultActionTimeout, md.StartTimeout, "an unbelievable timeout gives the default")
	assert.Equal(t, 3*time.Second, md.StopTimeout)
}

func TestCloseAbortsRunningActionsAndWaits(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "NodeA")
	pidFile := filepath.Join(t.TempDir(), "pid")
	a := start("r", testSpec, map[string]string{"hang_start": "1", "pidfile": pidFile})
	a.Timeout = time.Hour
	h.r.Execute(a)
	pid := readPid(t, pidFile)
	killLater(t, pid)
	require.NoError(t, h.r.Close())
	select {
	case got := <-h.results:
		assert.Equal(t, a.ID, got.ID)
		assert.Equal(t, engine.OutcomeSoft, got.Outcome, "a start aborted by Close failed: %s", got.Detail)
	default:
		t.Fatal("Close returns after the result of every running action was reported")
	}
	requireGone(t, pid, "the aborted start's grandchild")

	late := start("r2", testSpec, nil)
	h.r.Execute(late)
	got := h.result(t, late.ID)
	assert.Equal(t, engine.OutcomeSoft, got.Outcome, "an action after Close fails")
	assert.Contains(t, got.Detail, "closed")
	_, _, err := h.r.Probe(context.Background(), Resource{Name: "r", Agent: testSpec})
	assert.ErrorIs(t, err, ErrClosed)
}

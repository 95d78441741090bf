package agent

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhags/hags/failover"
	"github.com/openhags/hags/failover/agent/actlog"
	"github.com/openhags/hags/failover/engine"
)

// Environment of the helper process (helperMain).
const (
	helperStateEnv = "HAGS_AGENT_TEST_STATE"
	helperPidEnv   = "HAGS_AGENT_TEST_PIDFILE"
)

// helperMain is the test binary run as a manager that starts one exec
// resource, "leftover", whose command leaves `sleep 1000` in the
// background (its pid in $HAGS_AGENT_TEST_PIDFILE) and waits for it. It
// prints "started PID PGID" and blocks until it is killed.
func helperMain(mode string) int {
	if mode != "exec" {
		fmt.Fprintln(os.Stderr, "unknown helper mode", mode)
		return 2
	}
	results := make(chan engine.ActionResult, 1)
	r, err := New(Options{StateDir: os.Getenv(helperStateEnv), OCFRoot: testRoot,
		Logger:  slog.New(slog.NewTextHandler(io.Discard, nil)),
		Results: func(res engine.ActionResult) { results <- res }})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	r.Execute(start("leftover", execSpec, map[string]string{ExecCommand: pidCommand(os.Getenv(helperPidEnv), false)}))
	if res := <-results; res.Outcome != engine.OutcomeOK {
		fmt.Fprintln(os.Stderr, "start failed:", res.Detail)
		return 1
	}
	r.mu.Lock()
	ec := r.resources["leftover"].exec
	r.mu.Unlock()
	fmt.Printf("started %d %d\n", ec.p.Pid(), ec.p.Pgid())
	select {} // until killed
}

// pidCommand is a command that writes a pid to path (whole, by rename):
// with background, a `sleep 1000` left in the background that the shell
// waits for; without, the shell's own, which then becomes `sleep 1000`.
func pidCommand(path string, self bool) string {
	q := strconv.Quote(path)
	if self {
		return fmt.Sprintf(`echo $$ > %s.tmp && mv %s.tmp %s && exec sleep 1000`, q, q, q)
	}
	return fmt.Sprintf(`sleep 1000 & echo $! > %s.tmp && mv %s.tmp %s; wait`, q, q, q)
}

func TestExecExitIsSeenAtOnce(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "NodeA")
	pidFile := filepath.Join(t.TempDir(), "pid")
	got := h.do(t, start("svc", execSpec, map[string]string{ExecCommand: pidCommand(pidFile, true)}))
	require.Equal(t, engine.OutcomeOK, got.Outcome, got.Detail)
	pid := readPid(t, pidFile)
	killLater(t, pid)

	before := time.Now()
	require.NoError(t, syscall.Kill(pid, syscall.SIGKILL))
	f := h.failure(t)
	t.Logf("exec process killed → failure reported: %v", time.Since(before))
	assert.Equal(t, engine.Failure{Resource: "svc", Outcome: engine.OutcomeSoft, Detail: "the command ended: killed by signal killed"}, f,
		"an exec process that ends is a soft failure, reported without a stop")

	got = h.do(t, stop("svc", execSpec, nil))
	assert.Equal(t, engine.OutcomeOK, got.Outcome, "stopping what has ended succeeds: %s", got.Detail)
	recs, err := actlog.ReadFile(h.actLog)
	require.NoError(t, err)
	require.Len(t, recs, 3, "start, the exit, and the stop are logged")
	assert.Equal(t, []actlog.Op{actlog.OpStart, actlog.OpStop, actlog.OpStop}, []actlog.Op{recs[0].Op, recs[1].Op, recs[2].Op})
	assert.Equal(t, actlog.WhyExit, recs[1].Why, "the exit is logged as the end of the run")
	assert.Equal(t, actlog.WhyStop, recs[2].Why)

	// Restart in place, straight after the failure, without a stop.
	require.NoError(t, os.Remove(pidFile))
	got = h.do(t, start("svc", execSpec, map[string]string{ExecCommand: pidCommand(pidFile, true)}))
	require.Equal(t, engine.OutcomeOK, got.Outcome, got.Detail)
	before = time.Now()
	require.NoError(t, syscall.Kill(readPid(t, pidFile), syscall.SIGKILL))
	f = h.failure(t)
	assert.Equal(t, engine.OutcomeSoft, f.Outcome)
	got = h.do(t, start("svc", execSpec, map[string]string{ExecCommand: pidCommand(pidFile, true)}))
	t.Logf("exec process killed → failure → started again: %v", time.Since(before))
	assert.True(t, strings.HasPrefix(got.Detail, "start: running"), "a start after the failure starts anew: %s", got.Detail)
	killLater(t, readPid(t, pidFile))
}

func TestExecStopIsTermThenKill(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "NodeA")
	dir := t.TempDir()

	// A command that ends on SIGTERM.
	pidFile := filepath.Join(dir, "polite")
	got := h.do(t, start("polite", execSpec, map[string]string{ExecCommand: pidCommand(pidFile, true)}))
	require.Equal(t, engine.OutcomeOK, got.Outcome, got.Detail)
	pid := readPid(t, pidFile)
	killLater(t, pid)
	s := stop("polite", execSpec, nil)
	s.Timeout = time.Hour
	got = h.do(t, s)
	assert.Equal(t, engine.OutcomeOK, got.Outcome)
	assert.Equal(t, "stop: killed by signal terminated after SIGTERM", got.Detail)
	requireGone(t, pid, "the stopped command")

	// A command that ignores SIGTERM, with a child that does too.
	pidFile = filepath.Join(dir, "stubborn")
	q := strconv.Quote(pidFile)
	cmd := fmt.Sprintf(`trap '' TERM; sleep 1000 & echo $! > %s.tmp && mv %s.tmp %s; while :; do wait; done`, q, q, q)
	got = h.do(t, start("stubborn", execSpec, map[string]string{ExecCommand: cmd}))
	require.Equal(t, engine.OutcomeOK, got.Outcome, got.Detail)
	pid = readPid(t, pidFile)
	killLater(t, pid)
	s = stop("stubborn", execSpec, nil)
	s.Timeout = 300 * time.Millisecond
	got = h.do(t, s)
	assert.Equal(t, engine.OutcomeOK, got.Outcome)
	assert.Equal(t, "stop: still running 300ms after SIGTERM; killed", got.Detail)
	requireGone(t, pid, "the stubborn command's child")
	h.noFailure(t, "an exit caused by a stop is no failure")
}

func TestExecFastStopKillsAtOnce(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "NodeA")
	pidFile := filepath.Join(t.TempDir(), "pid")
	q := strconv.Quote(pidFile)
	cmd := fmt.Sprintf(`trap '' TERM; sleep 1000 & echo $! > %s.tmp && mv %s.tmp %s; while :; do wait; done`, q, q, q)
	got := h.do(t, start("r", execSpec, map[string]string{ExecCommand: cmd}))
	require.Equal(t, engine.OutcomeOK, got.Outcome, got.Detail)
	pid := readPid(t, pidFile)
	killLater(t, pid)
	s := stop("r", execSpec, nil)
	s.Timeout = time.Hour
	s.Fast = true
	got = h.do(t, s)
	assert.Equal(t, engine.OutcomeOK, got.Outcome)
	assert.Equal(t, "stop: killed at once (fast stop)", got.Detail, "a fast stop does not wait for SIGTERM to work")
	requireGone(t, pid, "the fast-stopped command's child")
}

// startHelper runs the test binary as a manager with one exec resource
// (helperMain) and returns it with the resource's pids.
func startHelper(t *testing.T, stateDir string) (helper *exec.Cmd, leader, pgid, grandchild int) {
	t.Helper()
	pidFile := filepath.Join(t.TempDir(), "pid")
	helper = exec.Command(os.Args[0], "-test.run=^$")
	helper.Env = append(os.Environ(), helperEnv+"=exec", helperStateEnv+"="+stateDir, helperPidEnv+"="+pidFile)
	out, err := helper.StdoutPipe()
	require.NoError(t, err)
	helper.Stderr = os.Stderr
	require.NoError(t, helper.Start())
	t.Cleanup(func() { _ = helper.Process.Kill(); _ = helper.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	require.NoError(t, err, "the helper reports its resource")
	_, err = fmt.Sscanf(line, "started %d %d", &leader, &pgid)
	require.NoError(t, err, "the helper's report %q", line)
	grandchild = readPid(t, pidFile)
	killLater(t, leader)
	killLater(t, grandchild)
	return helper, leader, pgid, grandchild
}

func TestExecDiesWithTheManager(t *testing.T) {
	t.Parallel()
	helper, leader, pgid, grandchild := startHelper(t, t.TempDir())
	assert.Positive(t, pgid)
	require.NoError(t, helper.Process.Signal(syscall.SIGKILL), "the manager is SIGKILLed")
	_ = helper.Wait()
	requireGone(t, leader, "the exec command's shell")
	requireGone(t, grandchild, "the process the exec command started")
}

func TestExecLeftoversAreKilledByTheNextProbe(t *testing.T) {
	t.Parallel()
	stateDir := t.TempDir()
	helper, leader, pgid, grandchild := startHelper(t, stateDir)
	// Leave something behind: without its guard, the command's children
	// outlive the manager (PR_SET_PDEATHSIG reaches the shell only).
	require.NoError(t, syscall.Kill(pgid, syscall.SIGKILL), "the guard is killed")
	// A SIGKILLed process runs on until its exit is done; wait for that, or
	// the probe below may find the guard still exiting and kill it too.
	requireGone(t, pgid, "the guard")
	require.NoError(t, helper.Process.Signal(syscall.SIGKILL), "then the manager")
	_ = helper.Wait()
	requireGone(t, leader, "the exec command's shell")
	require.False(t, processGone(grandchild), "the background process is left behind")

	h := newHarnessIn(t, "NodeA", stateDir, testRoot)
	running, detail, err := h.r.Probe(context.Background(), Resource{Name: "leftover", Agent: execSpec})
	require.NoError(t, err)
	assert.False(t, running, "leftovers are killed, so the resource does not run")
	assert.Contains(t, detail, fmt.Sprintf("killed 1 processes left by an earlier run (pids [%d])", grandchild))
	requireGone(t, grandchild, "the leftover")
	entries, err := os.ReadDir(filepath.Join(stateDir, "exec"))
	require.NoError(t, err)
	assert.Empty(t, entries, "the record is removed")
	recs, err := actlog.ReadFile(h.actLog)
	require.NoError(t, err)
	require.Len(t, recs, 1)
	assert.Equal(t, actlog.WhyLeftover, recs[0].Why, "killing the leftovers ends the earlier run in the action log")

	running, detail, err = h.r.Probe(context.Background(), Resource{Name: "leftover", Agent: execSpec})
	require.NoError(t, err)
	assert.False(t, running)
	assert.Equal(t, "probe: not running", detail)
}

func TestExecRecordsThatAreNotOursAreNotKilled(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "NodeA")
	// A process group that is nobody's resource.
	bystander := exec.Command("/bin/sleep", "1000")
	bystander.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	require.NoError(t, bystander.Start())
	t.Cleanup(func() { _ = bystander.Process.Kill(); _ = bystander.Wait() })
	pid := bystander.Process.Pid
	st, err := readStat(pid)
	require.NoError(t, err)

	cases := []struct {
		why string
		rec execRecord
	}{
		{"a record from another boot", execRecord{Pgid: pid, Start: st.start, Boot: "another boot", Owner: "1:1"}},
		{"a group that started before the record says", execRecord{Pgid: pid, Start: st.start + 100000, Boot: bootID(), Owner: "1:1"}},
		{"a record this process wrote", execRecord{Pgid: pid, Start: st.start, Boot: bootID(), Owner: selfID()}},
	}
	for i, c := range cases {
		name := fmt.Sprintf("r%d", i)
		c.rec.Resource = name
		b, err := json.Marshal(c.rec)
		require.NoError(t, err)
		writeFile(t, h.r.recordPath(name), string(b))
		running, _, err := h.r.Probe(context.Background(), Resource{Name: name, Agent: execSpec})
		require.NoError(t, err)
		assert.False(t, running, c.why)
		assert.False(t, processGone(pid), "%s: the bystander is not killed", c.why)
	}
	writeFile(t, h.r.recordPath("bad"), "{not json")
	running, _, err := h.r.Probe(context.Background(), Resource{Name: "bad", Agent: execSpec})
	require.NoError(t, err)
	assert.False(t, running, "a record that is not valid is dropped")
	_, err = os.Stat(h.r.recordPath("bad"))
	assert.True(t, os.IsNotExist(err), "the bad record is removed")
}

func TestExecValidate(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "NodeA")
	ctx := context.Background()
	cases := []struct {
		params map[string]string
		code   *failover.Error
		why    string
	}{
		{nil, failover.ErrClusterResourceConfiguration, "no command"},
		{map[string]string{ExecCommand: "  "}, failover.ErrClusterResourceConfiguration, "a blank command"},
		{map[string]string{ExecCommand: "true", "other": "x"}, failover.ErrClusterResourceConfiguration, "an unknown parameter"},
		{map[string]string{ExecCommand: "true", ExecUser: "no-such-user-here"}, failover.ErrClusterResourceConfiguration, "an unknown user"},
		{map[string]string{ExecCommand: "a\x00b"}, failover.ErrInvalidParameter, "a NUL in the command"},
	}
	for _, c := range cases {
		err := h.r.Validate(ctx, Resource{Name: "r", Agent: execSpec, Params: c.params})
		assert.ErrorIs(t, err, c.code, "%s: got %v", c.why, err)
		got := h.do(t, start("r", execSpec, c.params))
		assert.Equal(t, engine.OutcomeFatal, got.Outcome, "%s: the start fails everywhere: %s", c.why, got.Detail)
	}
	assert.NoError(t, h.r.Validate(ctx, Resource{Name: "r", Agent: execSpec, Params: map[string]string{ExecCommand: "sleep 1"}}))
}

func TestExecRunsAsItsUserWithItsEnvironment(t *testing.T) {
	t.Parallel()
	if os.Geteuid() != 0 {
		t.Skip("switching user needs root")
	}
	h := newHarness(t, "NodeA")
	got := h.do(t, start("as nobody", execSpec, map[string]string{
		ExecCommand: `echo "uid=$(id -u) resource=$HAGSRM_RESOURCE node=$HAGSRM_NODE path=$PATH"; exit 0`,
		ExecUser:    "nobody",
	}))
	require.Equal(t, engine.OutcomeOK, got.Outcome, got.Detail)
	f := h.failure(t)
	assert.Equal(t, "the command ended: exit 0: uid=65534 resource=as nobody node=NodeA path=/usr/sbin:/usr/bin:/sbin:/bin", f.Detail,
		"the command ran as nobody with the resource's and node's names; its output makes the detail")
}

func TestExecCloseKillsTheResources(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "NodeA")
	pidFile := filepath.Join(t.TempDir(), "pid")
	got := h.do(t, start("r", execSpec, map[string]string{ExecCommand: pidCommand(pidFile, false)}))
	require.Equal(t, engine.OutcomeOK, got.Outcome, got.Detail)
	pid := readPid(t, pidFile)
	killLater(t, pid)
	require.NoError(t, h.r.Close())
	requireGone(t, pid, "the exec resource's process after Close")
	h.noFailure(t, "Close's kill is no failure")
	recs, err := actlog.ReadFile(h.actLog)
	require.NoError(t, err)
	require.Len(t, recs, 2)
	assert.Equal(t, actlog.WhyClose, recs[1].Why, "the kill at Close ends the run in the action log")
	entries, err := os.ReadDir(filepath.Join(h.stateDir, "exec"))
	require.NoError(t, err)
	assert.Empty(t, entries, "no record is left")
}

func TestExecStartOfARunningResourceIsOK(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "NodeA")
	pidFile := filepath.Join(t.TempDir(), "pid")
	params := map[string]string{ExecCommand: pidCommand(pidFile, true)}
	got := h.do(t, start("r", execSpec, params))
	require.Equal(t, engine.OutcomeOK, got.Outcome, got.Detail)
	pid := readPid(t, pidFile)
	killLater(t, pid)
	got = h.do(t, start("r", execSpec, params))
	assert.Equal(t, engine.OutcomeOK, got.Outcome)
	assert.True(t, strings.HasPrefix(got.Detail, "start: already running"), got.Detail)
	running, _, err := h.r.Probe(context.Background(), Resource{Name: "r", Agent: execSpec})
	require.NoError(t, err)
	assert.True(t, running, "our own child runs")
}

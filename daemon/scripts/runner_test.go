package scripts

import (
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhags/hags/daemon/protocol"
	"github.com/openhags/hags/internal/harness"
	"github.com/openhags/hags/internal/wire"
)

func TestExitZeroIsOK(t *testing.T) {
	t.Parallel()
	r, h := newTestRunner(t)
	p := writeScript(t, harness.ScriptDir(t), "ok.sh", "exit 0\n")
	res := runSync(t, r, scriptRun(11, p))
	assert.Equal(t, protocol.ScriptResult{ID: 11, Result: wire.DeactivateOK}, res,
		"a script that exits 0 reports DeactivateOK with its run ID")
	assertFinishedLog(t, h, "exit 0")
}

func TestNonZeroExitIsFailed(t *testing.T) {
	t.Parallel()
	r, h := newTestRunner(t)
	p := writeScript(t, harness.ScriptDir(t), "fail.sh", "exit 3\n")
	res := runSync(t, r, scriptRun(12, p))
	assert.Equal(t, protocol.ScriptResult{ID: 12, Result: wire.DeactivateFailed}, res,
		"a script that exits 3 reports DeactivateFailed")
	assertFinishedLog(t, h, "exit 3")
}

func TestKilledBySignalIsFailed(t *testing.T) {
	t.Parallel()
	r, h := newTestRunner(t)
	p := writeScript(t, harness.ScriptDir(t), "sig.sh", "kill -TERM $$\n")
	res := runSync(t, r, scriptRun(13, p))
	assert.Equal(t, wire.DeactivateFailed, res.Result, "a script that dies of a signal reports DeactivateFailed")
	assertFinishedLog(t, h, "killed by signal terminated")
}

func TestCannotStartIsFailed(t *testing.T) {
	t.Parallel()
	dir := harness.ScriptDir(t)
	noExec := filepath.Join(dir, "noexec.sh")
	writeExternally(t, noExec, "#!/bin/sh\nexit 0\n", "644")
	badInterp := filepath.Join(dir, "badinterp.sh")
	writeExternally(t, badInterp, "#!/nonexistent/interpreter\n", "755")
	cases := map[string]*protocol.ScriptRun{
		"missing":             scriptRun(1, filepath.Join(dir, "missing.sh")),
		"relative":            scriptRun(2, "ok.sh"),
		"not executable":      scriptRun(3, noExec),
		"missing interpreter": scriptRun(4, badInterp),
		"directory":           scriptRun(5, dir),
		"unknown reason": func() *protocol.ScriptRun {
			sr := scriptRun(6, writeScript(t, dir, "ok.sh", "exit 0\n"))
			sr.Reason = 99
			return sr
		}(),
	}
	for name, sr := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			r, h := newTestRunner(t)
			res := runSync(t, r, sr)
			assert.Equal(t, protocol.ScriptResult{ID: sr.ID, Result: wire.DeactivateFailed}, res,
				"a script that cannot start reports DeactivateFailed")
			assert.NotEmpty(t, errorRecords(h), "the reason it could not start is logged as an error")
		})
	}
}

func TestEmptyPathIsNotRun(t *testing.T) {
	t.Parallel()
	r, _ := newTestRunner(t)
	res := runSync(t, r, scriptRun(14, ""))
	assert.Equal(t, protocol.ScriptResult{ID: 14, Result: wire.DeactivateNotRun}, res,
		"a provider with no registered script reports DeactivateNotRun")
}

func TestTimeLimitKillsScriptAndGrandchild(t *testing.T) {
	t.Parallel()
	r, h := newTestRunner(t)
	dir := harness.ScriptDir(t)
	// The grandchild inherits stdout and would keep the output pipe open
	// for 1000 s if it survived.
	p := writeScript(t, dir, "hang.sh", `
echo $$ > "`+dir+`/script.pid"
sleep 1000 &
echo $! > "`+dir+`/grandchild.pid"
echo started
wait
`)
	// Were the grandchild to survive, reading its output would end only
	// after an hour, and runSync would fail: the outcome comes promptly
	// because the whole group is killed.
	r.DrainTimeout = time.Hour
	sr := scriptRun(21, p)
	sr.TimeLimit = 1
	began := time.Now()
	res := runSync(t, r, sr)
	elapsed := time.Since(began)

	assert.Equal(t, protocol.ScriptResult{ID: 21, Result: wire.DeactivateTimedOut}, res,
		"a script still running at its time limit reports DeactivateTimedOut")
	assert.GreaterOrEqual(t, elapsed, time.Second, "the script is not killed before its 1 s limit")
	assert.Contains(t, h.outputLines("stdout"), "started", "output written before the kill is logged")
	requireGone(t, readPid(t, filepath.Join(dir, "script.pid")), "the script")
	requireGone(t, readPid(t, filepath.Join(dir, "grandchild.pid")), "the grandchild holding stdout")
	assertFinishedLog(t, h, "killed at the time limit")
}

func TestNoTimeLimitLetsScriptFinish(t *testing.T) {
	t.Parallel()
	r, _ := newTestRunner(t)
	p := writeScript(t, harness.ScriptDir(t), "slow.sh", "sleep 1.2; exit 0\n")
	sr := scriptRun(22, p)
	sr.TimeLimit = 0
	res := runSync(t, r, sr)
	assert.Equal(t, wire.DeactivateOK, res.Result, "with TimeLimit 0 a script taking over a second still finishes")
}

func TestLeftoverProcessesAreKilledAfterExit(t *testing.T) {
	t.Parallel()
	r, _ := newTestRunner(t)
	// A surviving child holding stdout would delay the outcome by an hour
	// and fail runSync.
	r.DrainTimeout = time.Hour
	dir := harness.ScriptDir(t)
	p := writeScript(t, dir, "leave.sh", `
sleep 1000 &
echo $! > "`+dir+`/leftover.pid"
exit 0
`)
	res := runSync(t, r, scriptRun(23, p))
	assert.Equal(t, wire.DeactivateOK, res.Result, "the script's own exit status decides the result")
	requireGone(t, readPid(t, filepath.Join(dir, "leftover.pid")), "the process left behind in the script's group")
}

func TestEscapedProcessDoesNotHangTheRun(t *testing.T) {
	t.Parallel()
	r, h := newTestRunner(t)
	r.DrainTimeout = 200 * time.Millisecond
	dir := harness.ScriptDir(t)
	// The pid file appears only once the child has left the script's
	// session, so the script's exit cannot race the escape.
	p := writeScript(t, dir, "escape.sh", `
pidfile="`+dir+`/escaped.pid"
setsid sh -c 'echo $$ > "$1"; exec sleep 1000' escaper "$pidfile" &
while [ ! -s "$pidfile" ]; do sleep 0.01; done
exit 0
`)
	res := runSync(t, r, scriptRun(24, p))
	pid := readPid(t, filepath.Join(dir, "escaped.pid"))
	t.Cleanup(func() { _ = syscall.Kill(pid, syscall.SIGKILL) })
	assert.Equal(t, wire.DeactivateOK, res.Result,
		"a process that left the group and holds stdout does not change the result or block the run")
	found := false
	for _, rec := range h.snapshot() {
		found = found || strings.Contains(rec.Msg, "still holds its output open")
	}
	assert.True(t, found, "the log says output was abandoned because an escaped process held it open")
}

// dumpScript writes a script that records its arguments and environment
// in dir/args and dir/env.
func dumpScript(t *testing.T, dir string) string {
	return writeScript(t, dir, "dump.sh", `
out="`+dir+`"
echo "$#" > "$out/args"
for a in "$@"; do printf '%s\n' "$a" >> "$out/args"; done
env > "$out/env"
pwd > "$out/pwd"
`)
}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err, "the script should have written %s", path)
	return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
}

// scriptEnv reads dir/env without the variables dash adds itself.
func scriptEnv(t *testing.T, dir string) []string {
	var env []string
	for _, kv := range readLines(t, filepath.Join(dir, "env")) {
		k, _, _ := strings.Cut(kv, "=")
		if k == "PWD" || k == "OLDPWD" || k == "SHLVL" || k == "_" {
			continue
		}
		env = append(env, kv)
	}
	sort.Strings(env)
	return env
}

func TestArgumentsAndEnvironment(t *testing.T) {
	t.Parallel()
	r, _ := newTestRunner(t)
	r.Domain = "prod"
	dir := harness.ScriptDir(t)
	sr := scriptRun(31, dumpScript(t, dir))
	flag := "fence now"
	sr.Flag = &flag
	sr.TimeLimit = 30
	res := runSync(t, r, sr)
	require.Equal(t, wire.DeactivateOK, res.Result, "the dump script exits 0")

	assert.Equal(t, []string{"7", "--", "web-tier", "7", "2", "4242", "expel", "fence now"},
		readLines(t, filepath.Join(dir, "args")),
		"arguments are: --, group, instance, node, pid, reason, flag (one argument, spaces kept)")
	assert.Equal(t, []string{
		"HA_DOMAIN_NAME=prod",
		"HA_GS_DEACTIVATE_FLAG=fence now",
		"HA_GS_GROUP=web-tier",
		"HA_GS_PROVIDER_INSTANCE=7",
		"HA_GS_PROVIDER_NODE=2",
		"HA_GS_PROVIDER_PID=4242",
		"HA_GS_REASON=expel",
		"HA_GS_TIME_LIMIT=30",
		"PATH=" + ScriptPath,
	}, scriptEnv(t, dir), "the environment is clean: PATH and the HA_GS_* variables, nothing of the daemon's")
	assert.Equal(t, []string{"/"}, readLines(t, filepath.Join(dir, "pwd")), "the script runs in /")
}

func TestFlagAbsentEmptyAndLong(t *testing.T) {
	t.Parallel()
	empty := ""
	withNul := "abc\x00def"
	long := strings.Repeat("x", 300)
	cases := []struct {
		name     string
		flag     *string
		wantArgs []string
		wantEnv  string // "" = no HA_GS_DEACTIVATE_FLAG
	}{
		{"absent", nil, []string{"6", "--", "web-tier", "7", "2", "4242", "failure"}, ""},
		{"empty", &empty, []string{"7", "--", "web-tier", "7", "2", "4242", "failure", ""}, "HA_GS_DEACTIVATE_FLAG="},
		{"cut at NUL", &withNul, []string{"7", "--", "web-tier", "7", "2", "4242", "failure", "abc"}, "HA_GS_DEACTIVATE_FLAG=abc"},
		{"cut at 255 bytes", &long, []string{"7", "--", "web-tier", "7", "2", "4242", "failure", long[:255]}, "HA_GS_DEACTIVATE_FLAG=" + long[:255]},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			r, _ := newTestRunner(t)
			dir := harness.ScriptDir(t)
			sr := scriptRun(32, dumpScript(t, dir))
			sr.Reason = protocol.ScriptFailure
			sr.Flag = c.flag
			require.Equal(t, wire.DeactivateOK, runSync(t, r, sr).Result, "the dump script exits 0")
			assert.Equal(t, c.wantArgs, readLines(t, filepath.Join(dir, "args")), "arguments for flag %s", c.name)
			var got string
			for _, kv := range scriptEnv(t, dir) {
				if strings.HasPrefix(kv, EnvDeactivateFlag+"=") {
					got = kv
				}
			}
			assert.Equal(t, c.wantEnv, got, "HA_GS_DEACTIVATE_FLAG for flag %s", c.name)
		})
	}
}

func TestOutputIsLoggedLineByLine(t *testing.T) {
	t.Parallel()
	r, h := newTestRunner(t)
	long := strings.Repeat("y", maxLineBytes+10)
	p := writeScript(t, harness.ScriptDir(t), "talk.sh", `
echo "stopping service"
echo "first problem" >&2
echo "second problem" >&2
printf 'crlf line\r\n'
echo "`+long+`"
printf 'no newline at the end'
`)
	res := runSync(t, r, scriptRun(41, p))
	require.Equal(t, wire.DeactivateOK, res.Result, "the chatty script exits 0")
	assert.Equal(t, []string{"stopping service", "crlf line", long[:maxLineBytes], long[maxLineBytes:], "no newline at the end"},
		h.outputLines("stdout"), "each stdout line is one record; an overlong line is split; a last partial line is kept")
	assert.Equal(t, []string{"first problem", "second problem"}, h.outputLines("stderr"),
		"stderr lines are logged in order with stream=stderr")
	for _, rec := range h.snapshot() {
		if rec.Msg != "deactivate script output" {
			continue
		}
		assert.Equal(t, "web-tier", rec.Attrs["group"], "output records name the group")
		assert.Equal(t, "7", rec.Attrs["instance"], "output records name the provider instance")
		assert.Equal(t, "2", rec.Attrs["node"], "output records name the provider node")
		assert.Equal(t, p, rec.Attrs["script"], "output records name the script")
		assert.Equal(t, "41", rec.Attrs["run"], "output records name the run ID")
	}
}

func TestRunsAsRegisteringUser(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("switching to uid 65534 needs root; this test runs only when the tests run as root")
	}
	t.Parallel()
	r, _ := newTestRunner(t)
	// t.TempDir's parents are private to root; build a tree nobody can reach.
	dir, err := os.MkdirTemp("", "hags-scripts-uid-")
	require.NoError(t, err)
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	require.NoError(t, os.Chmod(dir, 0o777))
	p := writeScript(t, dir, "whoami.sh", `id -u > "`+dir+`/uid"; id -g > "`+dir+`/gid"; id -G > "`+dir+`/groups"`+"\n")
	require.NoError(t, CheckScript(p, 65534, 65534), "the script is executable by nobody")

	sr := scriptRun(51, p)
	sr.Uid, sr.Gid = 65534, 65534
	require.Equal(t, wire.DeactivateOK, runSync(t, r, sr).Result, "the script runs as nobody and exits 0")
	assert.Equal(t, []string{"65534"}, readLines(t, filepath.Join(dir, "uid")), "the script runs with the client's uid")
	assert.Equal(t, []string{"65534"}, readLines(t, filepath.Join(dir, "gid")), "the script runs with the client's gid")
	assert.Equal(t, []string{"65534"}, readLines(t, filepath.Join(dir, "groups")),
		"the script has no supplementary groups (root's are dropped)")
}

func TestCredential(t *testing.T) {
	t.Parallel()
	cred, err := credential(0, 0, 65534, 100)
	require.NoError(t, err, "root may run a script as anyone")
	assert.Equal(t, &syscall.Credential{Uid: 65534, Gid: 100}, cred, "root switches uid and gid, dropping supplementary groups")

	cred, err = credential(1000, 1000, 1000, 1000)
	require.NoError(t, err, "a non-root daemon runs its own user's scripts")
	assert.Nil(t, cred, "no switch is needed for the daemon's own uid and gid")

	_, err = credential(1000, 1000, 1001, 1000)
	assert.ErrorIs(t, err, ErrCannotSwitchUser, "a non-root daemon cannot run another uid's script")
	_, err = credential(1000, 1000, 1000, 5)
	assert.ErrorIs(t, err, ErrCannotSwitchUser, "a non-root daemon cannot run a script under another gid")
}

func TestDuplicateIDRunsOnce(t *testing.T) {
	t.Parallel()
	r, h := newTestRunner(t)
	dir := harness.ScriptDir(t)
	count := filepath.Join(dir, "count")
	release := filepath.Join(dir, "release")
	p := writeScript(t, dir, "once.sh", `
echo run >> "`+count+`"
echo started
while [ ! -e "`+release+`" ]; do sleep 0.02; done
exit 0
`)
	first := start(r, scriptRun(61, p))
	second := start(r, scriptRun(61, p)) // while the first is running
	h.waitForLine(t, "started")
	require.NoError(t, os.WriteFile(release, nil, 0o644))

	want := protocol.ScriptResult{ID: 61, Result: wire.DeactivateOK}
	assert.Equal(t, want, waitResult(t, first), "the first Run reports the outcome")
	assert.Equal(t, want, waitResult(t, second), "a Run with the same ID while running reports the same outcome")
	assert.Equal(t, want, runSync(t, r, scriptRun(61, p)), "a Run with the same ID after it finished reports the first outcome")
	assert.Equal(t, []string{"run"}, readLines(t, count), "the script ran exactly once for ID 61")

	assert.Equal(t, wire.DeactivateOK, runSync(t, r, scriptRun(62, p)).Result, "another ID runs")
	assert.Equal(t, []string{"run", "run"}, readLines(t, count), "a new ID starts the script again")
}

func TestRememberedRunsAreBounded(t *testing.T) {
	t.Parallel()
	r := New(nil)
	r.runs = map[uint64]*runState{}
	running := &runState{} // not started: Close would not signal it
	r.runs[0] = running
	for id := uint64(1); id <= RememberedRuns+1; id++ {
		st := &runState{}
		r.runs[id] = st
		r.finish(id, st, wire.DeactivateOK)
	}
	assert.Len(t, r.runs, RememberedRuns+1, "the last RememberedRuns finished runs and the running one are kept")
	assert.NotContains(t, r.runs, uint64(1), "the oldest finished run is forgotten")
	assert.Contains(t, r.runs, uint64(RememberedRuns+1), "the newest finished run is remembered")
	assert.Contains(t, r.runs, uint64(0), "a running run is never forgotten")
}

func TestCloseKillsRunningScripts(t *testing.T) {
	t.Parallel()
	h := newCapture()
	r := New(slog.New(h))
	dir := harness.ScriptDir(t)
	p := writeScript(t, dir, "forever.sh", `
echo $$ > "`+dir+`/script.pid"
sleep 1000 &
echo $! > "`+dir+`/child.pid"
echo started
wait
`)
	ch := start(r, scriptRun(71, p))
	h.waitForLine(t, "started")

	closed := make(chan error, 1)
	go func() { closed <- r.Close() }()
	select {
	case err := <-closed:
		require.NoError(t, err, "Close reports no error")
	case <-time.After(waitBudget):
		t.Fatalf("Close should return within %v after killing the running script", waitBudget)
	}
	select {
	case res := <-ch:
		assert.Equal(t, protocol.ScriptResult{ID: 71, Result: wire.DeactivateFailed}, res,
			"a script killed by Close reports DeactivateFailed")
	default:
		t.Fatal("done should have been called before Close returned")
	}
	requireGone(t, readPid(t, filepath.Join(dir, "script.pid")), "the script")
	requireGone(t, readPid(t, filepath.Join(dir, "child.pid")), "the script's child")

	res := runSync(t, r, scriptRun(72, p))
	assert.Equal(t, protocol.ScriptResult{ID: 72, Result: wire.DeactivateFailed}, res,
		"Run after Close starts nothing and reports DeactivateFailed")
	assert.NoError(t, r.Close(), "a second Close is harmless")
}

func TestNilArguments(t *testing.T) {
	t.Parallel()
	r, _ := newTestRunner(t)
	got := make(chan protocol.ScriptResult, 1)
	r.Run(nil, func(res protocol.ScriptResult) { got <- res })
	assert.Equal(t, wire.DeactivateFailed, waitResult(t, got).Result, "a nil ScriptRun reports DeactivateFailed")
	r.Run(scriptRun(81, writeScript(t, harness.ScriptDir(t), "ok.sh", "exit 0\n")), nil) // must not panic
	require.NoError(t, r.Close(), "Close waits for the run with a nil callback")
}

func TestRunDoesNotKeepCallerData(t *testing.T) {
	t.Parallel()
	r, _ := newTestRunner(t)
	dir := harness.ScriptDir(t)
	sr := scriptRun(91, dumpScript(t, dir))
	flag := "original"
	sr.Flag = &flag
	ch := start(r, sr)
	flag = "changed"
	sr.Group = "changed"
	require.Equal(t, wire.DeactivateOK, waitResult(t, ch).Result, "the dump script exits 0")
	args := readLines(t, filepath.Join(dir, "args"))
	assert.True(t, slices.Contains(args, "original") && slices.Contains(args, "web-tier"),
		"the script sees the ScriptRun as it was when Run returned, got %v", args)
}

func assertFinishedLog(t *testing.T, h *captureHandler, how string) {
	t.Helper()
	for _, rec := range h.snapshot() {
		if rec.Msg == "deactivate script finished" {
			assert.Equal(t, how, rec.Attrs["how"], "the end of the script is logged with how it ended")
			return
		}
	}
	t.Errorf("a 'deactivate script finished' record should be logged; log: %+v", h.snapshot())
}

func errorRecords(h *captureHandler) []logRecord {
	var out []logRecord
	for _, rec := range h.snapshot() {
		if rec.Level >= slog.LevelError {
			out = append(out, rec)
		}
	}
	return out
}

func TestCloseStopsReadingOutputOfEscapedProcess(t *testing.T) {
	t.Parallel()
	h := newCapture()
	r := New(slog.New(h))
	r.DrainTimeout = time.Hour // only Close can end the reading
	dir := harness.ScriptDir(t)
	p := writeScript(t, dir, "escape.sh", `
echo $$ > "`+dir+`/script.pid"
pidfile="`+dir+`/escaped.pid"
setsid sh -c 'echo $$ > "$1"; exec sleep 1000' escaper "$pidfile" &
while [ ! -s "$pidfile" ]; do sleep 0.01; done
exit 0
`)
	ch := start(r, scriptRun(73, p))
	require.Eventually(t, func() bool {
		_, err1 := os.Stat(filepath.Join(dir, "script.pid"))
		_, err2 := os.Stat(filepath.Join(dir, "escaped.pid"))
		return err1 == nil && err2 == nil
	}, waitBudget, 10*time.Millisecond, "the script should start and its escaped child write its pid")
	t.Cleanup(func() { _ = syscall.Kill(readPid(t, filepath.Join(dir, "escaped.pid")), syscall.SIGKILL) })
	// The runner reaps the script only after it has seen the exit, so once
	// the pid is gone for good the run is reading leftover output.
	scriptPid := readPid(t, filepath.Join(dir, "script.pid"))
	require.Eventually(t, func() bool { return errors.Is(syscall.Kill(scriptPid, 0), syscall.ESRCH) },
		waitBudget, 10*time.Millisecond, "the script (pid %d) exits at once and is reaped by the runner", scriptPid)

	closed := make(chan error, 1)
	go func() { closed <- r.Close() }()
	select {
	case err := <-closed:
		require.NoError(t, err, "Close reports no error")
	case <-time.After(waitBudget):
		t.Fatalf("Close should stop reading output held by an escaped process and return within %v", waitBudget)
	}
	assert.Equal(t, wire.DeactivateOK, waitResult(t, ch).Result,
		"the script exited 0 before Close, so its result stands")
}

// TestGroupNameCannotInjectOptions: clients choose group names and flags,
// and both may look like options. The attack registered
// /usr/bin/env as a root script and joined a group named "-S sh -c ...":
// env read the group name as its -S option and ran the shell. With "--"
// before every argument, env takes the name for a program to run, finds
// none, and fails; nothing else runs.
func TestGroupNameCannotInjectOptions(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("/usr/bin/env passes the root-script check only for a root runner")
	}
	env, err := filepath.EvalSymlinks("/usr/bin/env")
	require.NoError(t, err, "the test needs /usr/bin/env")
	t.Parallel()
	r, _ := newTestRunner(t)
	dir := harness.ScriptDir(t)
	pwned := filepath.Join(dir, "pwned")
	sr := scriptRun(91, env)
	sr.Group = "-Ssh -c 'touch " + pwned + "'"
	flag := "-Ssh -c 'touch " + pwned + "-flag'"
	sr.Flag = &flag
	require.Less(t, len(sr.Group), wire.MaxGroupNameLength, "the group name is one a client may choose")
	assert.Equal(t, wire.DeactivateFailed, runSync(t, r, sr).Result, "env finds no program of that name and fails")
	_, err = os.Stat(pwned)
	assert.ErrorIs(t, err, fs.ErrNotExist, "the group name was not taken for an option: no shell ran")
	_, err = os.Stat(pwned + "-flag")
	assert.ErrorIs(t, err, fs.ErrNotExist, "nor was the flag")

	// A script that parses options the POSIX way sees none.
	p := writeScript(t, dir, "getopts.sh", `
while getopts "Sx:" o; do echo "option $o" >> "`+dir+`/opts"; done
shift $((OPTIND - 1))
printf '%s\n' "$@" > "`+dir+`/operands"
`)
	sr = scriptRun(92, p)
	sr.Group = "-x1"
	require.Equal(t, wire.DeactivateOK, runSync(t, r, sr).Result, "the getopts script exits 0")
	_, err = os.Stat(filepath.Join(dir, "opts"))
	assert.ErrorIs(t, err, fs.ErrNotExist, "getopts found no option")
	assert.Equal(t, []string{"-x1", "7", "2", "4242", "expel"}, readLines(t, filepath.Join(dir, "operands")),
		"after \"--\" everything is an operand, the group name first")
}

// TestRunnerRechecksBeforeExec: a root script that became writable by
// others after it was registered is refused when its run comes, and does
// not run.
func TestRunnerRechecksBeforeExec(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("the root-script rule applies to scripts run as root")
	}
	t.Parallel()
	r, h := newTestRunner(t)
	dir := harness.ScriptDir(t)
	p := writeScript(t, dir, "later.sh", `touch "`+dir+`/ran"`+"\n")
	require.NoError(t, CheckScript(p, 0, 0), "the script is fine when registered")
	require.NoError(t, os.Chmod(p, 0o777))
	assert.Equal(t, wire.DeactivateFailed, runSync(t, r, scriptRun(93, p)).Result, "the run is reported failed")
	_, err := os.Stat(filepath.Join(dir, "ran"))
	assert.ErrorIs(t, err, fs.ErrNotExist, "the script did not run")
	found := false
	for _, rec := range h.snapshot() {
		found = found || strings.Contains(rec.Attrs["err"], "refused just before it ran")
	}
	assert.True(t, found, "the log says why: %+v", h.snapshot())
}

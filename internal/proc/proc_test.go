package proc

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// waitBudget is how long a test waits for something that should happen
// before it fails; the machine is shared and slow at times.
const waitBudget = 30 * time.Second

// helperEnv makes the test binary act as a helper process (TestMain).
const helperEnv = "HAGS_PROC_TEST_HELPER"

func TestMain(m *testing.M) {
	if mode := os.Getenv(helperEnv); mode != "" {
		os.Exit(helperMain(mode))
	}
	os.Exit(m.Run())
}

// helperMain starts `sh -c 'sleep 1000 & wait'` with the parent
// death policy mode names, prints "child PID" and "grandchild PID" and
// blocks until it is killed.
func helperMain(mode string) int {
	policy := map[string]ParentDeath{"child": KillOnParentDeath, "group": KillGroupOnParentDeath}[mode]
	if policy == LiveOnParentDeath {
		fmt.Fprintln(os.Stderr, "unknown helper mode", mode)
		return 2
	}
	p, err := Start(context.Background(), Spec{
		Path:          "/bin/sh",
		Args:          []string{"-c", "sleep 1000 & wait"},
		OnParentDeath: policy,
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	var grand int
	for deadline := time.Now().Add(waitBudget); grand == 0 && time.Now().Before(deadline); {
		grand = childOf(p.Pid())
		if grand == 0 {
			time.Sleep(5 * time.Millisecond) // polling /proc: no event tells when the shell has forked
		}
	}
	fmt.Printf("child %d\ngrandchild %d\n", p.Pid(), grand)
	select {} // until killed
}

// childOf returns a child of pid found in /proc, or 0.
func childOf(pid int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pid, pid))
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0
	}
	n, _ := strconv.Atoi(f[0])
	return n
}

// processGone reports whether pid no longer runs: it does not exist, or it
// is a zombie waiting for a parent that does not reap.
func processGone(pid int) bool {
	if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
		return true
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i >= 0 && i+2 < len(s) && (s[i+2] == 'Z' || s[i+2] == 'X')
}

func requireGone(t *testing.T, pid int, what string) {
	t.Helper()
	require.Eventually(t, func() bool { return processGone(pid) }, waitBudget, 10*time.Millisecond,
		"%s (pid %d) should be gone", what, pid)
}

// killLater kills pid when the test ends, in case an assertion failed
// while it still ran.
func killLater(t *testing.T, pid int) {
	t.Cleanup(func() {
		if pid > 1 {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	})
}

// memLog is a slog handler that keeps records in memory.
type memLog struct {
	mu      sync.Mutex
	records []slog.Record
}

func (h *memLog) Enabled(context.Context, slog.Level) bool { return true }
func (h *memLog) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.records = append(h.records, r.Clone())
	return nil
}
func (h *memLog) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *memLog) WithGroup(string) slog.Handler      { return h }

// lines returns the "line" attribute of the output records of stream.
func (h *memLog) lines(stream string) []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for _, r := range h.records {
		if !strings.HasSuffix(r.Message, " output") {
			continue
		}
		var s, l string
		r.Attrs(func(a slog.Attr) bool {
			switch a.Key {
			case "stream":
				s = a.Value.String()
			case "line":
				l = a.Value.String()
			}
			return true
		})
		if s == stream {
			out = append(out, l)
		}
	}
	return out
}

func (h *memLog) messages() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for _, r := range h.records {
		out = append(out, r.Message)
	}
	return out
}

func sh(script string) Spec {
	return Spec{Path: "/bin/sh", Args: []string{"-c", script}}
}

func TestRunReportsHowTheProcessEnded(t *testing.T) {
	t.Parallel()
	cases := []struct {
		script   string
		code     int
		signal   syscall.Signal
		success  bool
		how      string
		scenario string
	}{
		{"exit 0", 0, 0, true, "exit 0", "a process that exits 0 succeeds"},
		{"exit 3", 3, 0, false, "exit 3", "a process that exits 3 reports code 3"},
		{"kill -TERM $$", -1, syscall.SIGTERM, false, "killed by signal terminated", "a process killed by a signal reports it"},
	}
	for _, c := range cases {
		res := Run(context.Background(), sh(c.script))
		assert.NoError(t, res.Err, c.scenario)
		assert.Equal(t, c.code, res.ExitCode, c.scenario)
		assert.Equal(t, c.signal, res.Signal, c.scenario)
		assert.Equal(t, c.success, res.Success(), c.scenario)
		assert.Equal(t, c.how, res.How(), c.scenario)
		assert.Positive(t, res.Pid, c.scenario)
	}
}

func TestStartRefusesWhatCannotRun(t *testing.T) {
	t.Parallel()
	_, err := Start(context.Background(), Spec{Path: "sh"})
	assert.ErrorIs(t, err, ErrNotAbsolute, "a relative program path is refused")

	res := Run(context.Background(), Spec{Path: "/nonexistent/program"})
	assert.Error(t, res.Err, "a missing program cannot start")
	assert.Equal(t, -1, res.ExitCode, "a process that never ran has no exit code")
	assert.False(t, res.Success(), "a process that never ran did not succeed")
	assert.Contains(t, res.How(), "cannot start", "How says it could not start")

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	res = Run(ctx, sh("exit 0"))
	assert.ErrorIs(t, res.Err, ErrNotStarted, "nothing starts once the context is done")
	assert.True(t, res.Aborted, "a run refused for a done context counts as aborted")
}

func TestRunGivesACleanEnvironment(t *testing.T) {
	t.Parallel()
	spec := sh(`pwd; env | sort; if read x; then echo read:"$x"; else echo stdin-eof; fi`)
	spec.Env = []string{"PATH=" + SafePath, "ONE=1"}
	spec.CaptureStdout = 4096
	res := Run(context.Background(), spec)
	require.True(t, res.Success(), "the script runs: %s", res.How())
	out := strings.Split(strings.TrimSpace(string(res.Stdout)), "\n")
	require.NotEmpty(t, out)
	assert.Equal(t, "/", out[0], "the working directory is / by default")
	assert.Equal(t, "stdin-eof", out[len(out)-1], "stdin is /dev/null")
	var env []string
	for _, l := range out[1 : len(out)-1] {
		if !strings.HasPrefix(l, "PWD=") { // the shell adds PWD itself
			env = append(env, l)
		}
	}
	assert.Equal(t, []string{"ONE=1", "PATH=" + SafePath}, env, "the environment is exactly Spec.Env")
}

func TestRunAsNobodyWithoutSupplementaryGroups(t *testing.T) {
	t.Parallel()
	if os.Geteuid() != 0 {
		t.Skip("switching user needs root")
	}
	spec := sh(`id -u; id -g; grep '^Groups:' /proc/self/status`)
	spec.Env = []string{"PATH=" + SafePath}
	spec.Cred = &syscall.Credential{Uid: 65534, Gid: 65534}
	spec.CaptureStdout = 1024
	res := Run(context.Background(), spec)
	require.True(t, res.Success(), "id runs as nobody: %s", res.How())
	out := strings.Split(strings.TrimSpace(string(res.Stdout)), "\n")
	require.Len(t, out, 3, "three lines of output: %q", res.Stdout)
	assert.Equal(t, "65534", out[0], "the process runs with uid 65534")
	assert.Equal(t, "65534", out[1], "the process runs with gid 65534")
	assert.Equal(t, "Groups:", strings.TrimSpace(out[2]), "the process has no supplementary groups")
}

func TestTimeoutKillsTheWholeGroup(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "grandchild")
	spec := sh(`sleep 1000 & echo $! > "$1"; wait`)
	spec.Args = append(spec.Args, "timeout-test", pidFile)
	spec.Timeout = 300 * time.Millisecond
	res := Run(context.Background(), spec)
	assert.True(t, res.TimedOut, "a process still running at its timeout is killed (%s)", res.How())
	assert.Equal(t, syscall.SIGKILL, res.Signal, "the kill at the timeout is SIGKILL")
	assert.Equal(t, "killed at the time limit", res.How())
	assert.False(t, res.Success(), "a timed-out process did not succeed")
	pid := readPid(t, pidFile)
	killLater(t, pid)
	requireGone(t, pid, "the grandchild in the timed-out process's group")
}

func TestLeftoversAreKilledWhenTheProcessExits(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "grandchild")
	spec := sh(`sleep 1000 >/dev/null 2>&1 & echo $! > "$1"; exit 0`)
	spec.Args = append(spec.Args, "leftover-test", pidFile)
	res := Run(context.Background(), spec)
	assert.True(t, res.Success(), "the script itself exits 0: %s", res.How())
	pid := readPid(t, pidFile)
	killLater(t, pid)
	requireGone(t, pid, "the process the script left in its group")
}

func TestCancelKillsTheGroupAndCountsAsAborted(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	p, err := Start(ctx, sh(`echo started; exec sleep 1000`))
	require.NoError(t, err)
	cancel()
	res := p.Wait()
	assert.True(t, res.Aborted, "cancelling the context kills the process (%s)", res.How())
	assert.Equal(t, "killed: context done", res.How())
	assert.False(t, res.TimedOut, "an abort is not a timeout")
}

func TestOutputIsLoggedBoundedAndTailed(t *testing.T) {
	t.Parallel()
	h := &memLog{}
	long := strings.Repeat("x", MaxLineBytes+10)
	spec := sh(`printf '%s\n' one "$1"; printf 'bin\001\377ary\n' >&2; printf 'last-no-newline'`)
	spec.Args = append(spec.Args, "output-test", long)
	spec.Log = slog.New(h)
	spec.Name = "test helper"
	spec.TailLines = 3
	res := Run(context.Background(), spec)
	require.True(t, res.Success(), res.How())
	assert.Equal(t, []string{"one", long[:MaxLineBytes], long[MaxLineBytes:], "last-no-newline"}, h.lines("stdout"),
		"each stdout line is one record; a line longer than MaxLineBytes is split; a last line without newline is logged")
	assert.Equal(t, []string{"bin\x01\xffary"}, h.lines("stderr"), "stderr lines are logged as they are")
	require.Len(t, res.Tail, 3, "the tail keeps the last three lines")
	// stdout and stderr are read concurrently: their lines interleave in
	// any order, but each stream's last line is in the tail.
	assert.Contains(t, res.Tail, "last-no-newline", "the tail holds stdout's last line")
	assert.Contains(t, res.Tail, "bin?\uFFFDary", "the tail holds stderr's line, made printable")
	for _, l := range res.Tail {
		assert.LessOrEqual(t, len(l), MaxTailLine+len("…"), "tail lines are cut")
		assert.NotContains(t, l, "\x01", "tail lines hold no control characters")
	}
	assert.Contains(t, h.messages(), "test helper output", "records are named after Spec.Name")
}

func TestCaptureAndLogLimits(t *testing.T) {
	t.Parallel()
	h := &memLog{}
	// 2 MiB of stdout, 1 MiB of stderr in 1 KiB lines.
	spec := sh(`head -c 2097152 /dev/zero | tr '\0' 'a'; head -c 1048576 /dev/zero | tr '\0' 'b' | fold -w 1023 >&2`)
	spec.Env = []string{"PATH=" + SafePath}
	spec.Log = slog.New(h)
	spec.CaptureStdout = 1000
	spec.LogLimit = 64 << 10
	spec.TailLines = 2
	res := Run(context.Background(), spec)
	require.True(t, res.Success(), res.How())
	assert.Len(t, res.Stdout, 1000, "stdout is kept up to CaptureStdout")
	assert.True(t, res.StdoutTruncated, "the rest of stdout is counted as truncated")
	assert.Empty(t, h.lines("stdout"), "captured stdout is not logged")
	logged := 0
	for _, l := range h.lines("stderr") {
		logged += len(l) + 1
	}
	assert.LessOrEqual(t, logged, 64<<10, "no more than LogLimit bytes are logged")
	assert.Greater(t, logged, 60<<10, "output is logged up to the limit")
	assert.Contains(t, h.messages(), "process: output past the log limit was not logged", "a warning says output was left out")
	require.Len(t, res.Tail, 2, "the tail still follows the output past the log limit")
}

func TestDrainStopsWhenAnEscapedGrandchildHoldsThePipe(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "escaped")
	h := &memLog{}
	// The pid file appears only once the child has left the group, so
	// the script's exit cannot race the escape.
	spec := sh(`setsid sh -c 'echo $$ > "$1"; exec sleep 1000' escaper "$1" & while [ ! -s "$1" ]; do sleep 0.01; done; echo bye`)
	spec.Args = append(spec.Args, "drain-test", pidFile)
	spec.Env = []string{"PATH=" + SafePath}
	spec.Log = slog.New(h)
	spec.DrainTimeout = 200 * time.Millisecond
	res := Run(context.Background(), spec)
	pid := readPid(t, pidFile)
	killLater(t, pid)
	assert.True(t, res.Success(), "the script exits 0: %s", res.How())
	assert.True(t, res.OutputCut, "reading stopped at the drain timeout while the escaped process held the pipe")
	assert.Equal(t, []string{"bye"}, h.lines("stdout"), "output written before the exit is logged")
	assert.False(t, processGone(pid), "a process that left the group (setsid) is not killed with it")
}

func TestCancelCutsTheDrainShort(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "escaped")
	ctx, cancel := context.WithCancel(context.Background())
	spec := sh(`setsid sh -c 'echo $$ > "$1"; exec sleep 1000' escaper "$1" & while [ ! -s "$1" ]; do sleep 0.01; done`)
	spec.Args = append(spec.Args, "drain-test", pidFile)
	spec.Env = []string{"PATH=" + SafePath}
	spec.DrainTimeout = time.Hour // only the context can end the reading
	p, err := Start(ctx, spec)
	require.NoError(t, err)
	pid := readPid(t, pidFile)
	killLater(t, pid)
	// The shell exits once the pid file is there; wait until it has.
	require.Eventually(t, func() bool { return processGone(p.Pid()) }, waitBudget, 5*time.Millisecond,
		"the shell exits after its child escaped")
	cancel()
	select {
	case <-p.Done():
	case <-time.After(waitBudget):
		t.Fatalf("a done context should stop the drain within %v", waitBudget)
	}
	res := p.Wait()
	assert.True(t, res.Success(), "the process exited 0 before the cancel, so that stands: %s", res.How())
	assert.False(t, res.Aborted, "a process that had exited was not killed")
	assert.True(t, res.OutputCut, "reading was cut short")
}

func TestStartedProcessIsSignalledAsAGroup(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "grandchild")
	spec := sh(`trap 'exit 42' TERM; sleep 1000 & echo $! > "$1"; wait`)
	spec.Args = append(spec.Args, "signal-test", pidFile)
	p, err := Start(context.Background(), spec)
	require.NoError(t, err)
	require.Eventually(t, func() bool { _, err := os.Stat(pidFile); return err == nil }, waitBudget, 5*time.Millisecond,
		"the script writes its grandchild's pid")
	pid := readPid(t, pidFile)
	killLater(t, pid)
	require.NoError(t, p.Signal(syscall.SIGTERM), "signalling a running group works")
	res := p.Wait()
	assert.Equal(t, 42, res.ExitCode, "the shell got SIGTERM and ran its trap")
	requireGone(t, pid, "the grandchild got SIGTERM too")
	assert.ErrorIs(t, p.Signal(syscall.SIGTERM), ErrExited, "an exited process is not signalled")
	assert.ErrorIs(t, p.Kill(), ErrExited, "an exited process is not killed")
}

// TestPdeathsigOutlivesTheCallersThread shows why children are forked on a
// thread that never ends: PR_SET_PDEATHSIG set on a child forked by a
// thread that ends kills the child (the control), while Start with
// KillOnParentDeath from the same kind of thread does not.
func TestPdeathsigOutlivesTheCallersThread(t *testing.T) {
	t.Parallel()
	for _, naive := range []bool{true, false} {
		var (
			tid  int
			cmd  *exec.Cmd
			p    *Process
			sErr error
		)
		done := make(chan bool)
		// A goroutine that ends locked to the main thread wedges it rather
		// than ending it; try until the goroutine runs on another thread.
		for started := false; !started; started = <-done {
			go func() {
				runtime.LockOSThread() // never unlocked: the thread ends with this goroutine
				tid = unix.Gettid()
				if tid == unix.Getpid() {
					runtime.UnlockOSThread()
					done <- false
					return
				}
				defer func() { done <- true }()
				startChild(naive, &cmd, &p, &sErr)
			}()
		}
		require.NoError(t, sErr)
		taskDir := fmt.Sprintf("/proc/self/task/%d", tid)
		require.Eventually(t, func() bool { _, err := os.Stat(taskDir); return err != nil }, waitBudget, 5*time.Millisecond,
			"the thread of a goroutine that exits locked ends")
		// The parent-death signal, if any, was sent as the thread ended;
		// SIGTERM comes after it, so the signal the child dies of says
		// which came first.
		if naive {
			_ = cmd.Process.Signal(syscall.SIGTERM)
			_ = cmd.Wait()
			ws := cmd.ProcessState.Sys().(syscall.WaitStatus)
			assert.Equal(t, syscall.SIGKILL, ws.Signal(),
				"control: a child forked with Pdeathsig by a thread that ended was killed when the thread ended")
		} else {
			require.NoError(t, p.Signal(syscall.SIGTERM))
			assert.Equal(t, syscall.SIGTERM, p.Wait().Signal,
				"a child started with KillOnParentDeath lives on after the caller's thread ended")
		}
	}
}

// startChild starts sleep with a parent-death signal: naively, or with
// Start.
func startChild(naive bool, cmd **exec.Cmd, p **Process, err *error) {
	if naive {
		*cmd = exec.Command("/bin/sleep", "1000")
		(*cmd).SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		*err = (*cmd).Start()
		return
	}
	*p, *err = Start(context.Background(), Spec{Path: "/bin/sleep", Args: []string{"1000"}, OnParentDeath: KillOnParentDeath})
}

// startHelper runs the test binary as a helper process in mode and returns
// it with the pids it reports.
func startHelper(t *testing.T, mode string) (helper *exec.Cmd, child, grandchild int) {
	t.Helper()
	helper = exec.Command(os.Args[0], "-test.run=^$")
	helper.Env = append(os.Environ(), helperEnv+"="+mode)
	out, err := helper.StdoutPipe()
	require.NoError(t, err)
	helper.Stderr = os.Stderr
	require.NoError(t, helper.Start())
	t.Cleanup(func() { _ = helper.Process.Kill(); _ = helper.Wait() })
	sc := bufio.NewScanner(out)
	for (child == 0 || grandchild == 0) && sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 2 {
			n, _ := strconv.Atoi(f[1])
			switch f[0] {
			case "child":
				child = n
			case "grandchild":
				grandchild = n
			}
		}
	}
	require.Positive(t, child, "the helper reports its child")
	require.Positive(t, grandchild, "the helper reports its grandchild")
	killLater(t, child)
	killLater(t, grandchild)
	return helper, child, grandchild
}

func TestParentDeathKillsTheChild(t *testing.T) {
	t.Parallel()
	helper, child, grandchild := startHelper(t, "child")
	require.NoError(t, helper.Process.Signal(syscall.SIGKILL))
	_ = helper.Wait()
	requireGone(t, child, "the child of a SIGKILLed parent (KillOnParentDeath)")
	// PR_SET_PDEATHSIG reaches the child only; its own child lives on.
	// That is what KillGroupOnParentDeath is for.
	assert.False(t, processGone(grandchild), "KillOnParentDeath does not reach the child's children")
}

func TestParentDeathKillsTheGroup(t *testing.T) {
	t.Parallel()
	helper, child, grandchild := startHelper(t, "group")
	require.NoError(t, helper.Process.Signal(syscall.SIGKILL))
	_ = helper.Wait()
	requireGone(t, child, "the child of a SIGKILLed parent (KillGroupOnParentDeath)")
	requireGone(t, grandchild, "the grandchild of a SIGKILLed parent (KillGroupOnParentDeath)")
}

func TestGuardedGroupStopsLikeAnyOther(t *testing.T) {
	t.Parallel()
	h := &memLog{}
	p, err := Start(context.Background(), Spec{Path: "/bin/sh", Args: []string{"-c", "trap 'exit 7' TERM; echo ready; sleep 1000 & wait"},
		OnParentDeath: KillGroupOnParentDeath, Log: slog.New(h)})
	require.NoError(t, err)
	require.Eventually(t, func() bool { return len(h.lines("stdout")) > 0 }, waitBudget, 5*time.Millisecond,
		"the shell says it has set its trap")
	assert.NotEqual(t, p.Pid(), p.Pgid(), "the guard leads the group")
	guard := p.Pgid()
	require.NoError(t, p.Signal(syscall.SIGTERM), "SIGTERM to the group")
	res := p.Wait()
	assert.Equal(t, 7, res.ExitCode, "the child got SIGTERM and the guard did not kill it first")
	assert.True(t, processGone(guard), "the guard is gone with the group once the child exited")
}

func readPid(t *testing.T, path string) int {
	t.Helper()
	var b []byte
	require.Eventually(t, func() bool {
		var err error
		b, err = os.ReadFile(path)
		return err == nil && strings.HasSuffix(string(b), "\n")
	}, waitBudget, 5*time.Millisecond, "pid file %s is written", path)
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	require.NoError(t, err, "pid file %s holds a number", path)
	return pid
}

package scripts

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/openhags/hags/daemon/protocol"
	"github.com/openhags/hags/internal/wire"
)

const (
	// ScriptPath is the PATH a deactivate script runs with.
	ScriptPath = "/usr/sbin:/usr/bin:/sbin:/bin"

	// DefaultDrainTimeout is how long a Runner keeps reading a script's
	// output after the script and its process group are gone (see
	// Runner.DrainTimeout).
	DefaultDrainTimeout = 2 * time.Second

	// RememberedRuns is how many finished run IDs a Runner remembers to
	// answer a repeated Run with the first outcome. Runs still in progress
	// are always remembered.
	RememberedRuns = 4096

	// maxLineBytes is the longest output line logged as one record; a
	// longer line is logged in pieces of this size.
	maxLineBytes = 4096
)

// Environment variables a deactivate script receives (besides PATH).
const (
	EnvGroup            = "HA_GS_GROUP"
	EnvProviderInstance = "HA_GS_PROVIDER_INSTANCE"
	EnvProviderNode     = "HA_GS_PROVIDER_NODE"
	EnvProviderPid      = "HA_GS_PROVIDER_PID"
	EnvReason           = "HA_GS_REASON"
	EnvDeactivateFlag   = "HA_GS_DEACTIVATE_FLAG" // only when a flag was given
	EnvTimeLimit        = "HA_GS_TIME_LIMIT"      // seconds; 0 = none
	EnvDomain           = "HA_DOMAIN_NAME"        // only when Runner.Domain is set
)

// EndOfOptions is a script's first argument: the rest are operands, never
// options.
const EndOfOptions = "--"

// Reason words passed to a script after its pid and in HA_GS_REASON.
const (
	ReasonExpel   = "expel"
	ReasonFailure = "failure"
)

// Runner starts deactivate scripts and reports their outcome. It is safe
// for concurrent use. Set its exported fields before the first Run and do
// not change them afterwards.
//
// A Runner owns one goroutine per running script. Close kills every running
// script and returns after all those goroutines, and the done callback of
// every Run made before Close, have returned.
type Runner struct {
	// Logger receives a record when a script starts and ends and one per
	// line it writes to stdout or stderr. Nil means slog.Default().
	Logger *slog.Logger
	// Domain, when not empty, is given to scripts as HA_DOMAIN_NAME.
	Domain string
	// DrainTimeout bounds how long output is still read after the script
	// exited and its process group was killed; only a process that left
	// the group (setsid) can hold the output open that long. Zero means
	// DefaultDrainTimeout.
	DrainTimeout time.Duration

	mu       sync.Mutex
	closed   bool
	runs     map[uint64]*runState // running, and the last RememberedRuns finished
	finished []uint64             // finished IDs, oldest first
	wg       sync.WaitGroup       // script goroutines and late callbacks
}

// runState is what a Runner knows of one run ID. Its fields are guarded by
// Runner.mu.
type runState struct {
	done    bool
	result  wire.DeactivateResult
	waiters []func(protocol.ScriptResult)

	pgid     int        // process group of the script; 0 before it started
	outputs  []*os.File // read ends of its stdout and stderr pipes
	exited   bool       // the script's leader exited (it may not be reaped yet)
	timedOut bool       // killed at the time limit
	aborted  bool       // killed by Close
}

// New returns a Runner that logs to logger (nil: slog.Default()).
func New(logger *slog.Logger) *Runner {
	return &Runner{Logger: logger}
}

// Run starts the script for run and calls done exactly once, from another
// goroutine, with the outcome: DeactivateOK when it exits 0;
// DeactivateFailed when it exits non-zero, dies of a signal, cannot be
// started, or is killed by Close; DeactivateTimedOut when it is killed at
// run.TimeLimit seconds. An empty run.Path yields DeactivateNotRun. Run
// never blocks on the script.
//
// Each run ID runs at most once: a Run with an ID that is running or has
// finished recently (the last RememberedRuns) starts nothing and reports
// the first run's outcome. Run copies what it needs from run before it
// returns. done must not wait for Close; a nil done is allowed.
func (r *Runner) Run(run *protocol.ScriptRun, done func(protocol.ScriptResult)) {
	if done == nil {
		done = func(protocol.ScriptResult) {}
	}
	if run == nil {
		r.logger().Error("deactivate script: nil ScriptRun; reporting failure")
		r.mu.Lock()
		r.laterLocked(done, protocol.ScriptResult{Result: wire.DeactivateFailed})
		r.mu.Unlock()
		return
	}
	sr := *run
	if sr.Flag != nil {
		f := *sr.Flag
		sr.Flag = &f
	}

	r.mu.Lock()
	defer r.mu.Unlock()
	if r.runs == nil {
		r.runs = make(map[uint64]*runState)
	}
	if st, ok := r.runs[sr.ID]; ok {
		r.logger().Warn("deactivate script: run ID seen before; not starting it again",
			"run", sr.ID, "script", sr.Path, "finished", st.done)
		if st.done {
			r.laterLocked(done, protocol.ScriptResult{ID: sr.ID, Result: st.result})
		} else {
			st.waiters = append(st.waiters, done)
		}
		return
	}
	if r.closed {
		r.logger().Error("deactivate script: runner is closed; reporting failure",
			"run", sr.ID, "script", sr.Path)
		r.laterLocked(done, protocol.ScriptResult{ID: sr.ID, Result: wire.DeactivateFailed})
		return
	}
	st := &runState{waiters: []func(protocol.ScriptResult){done}}
	r.runs[sr.ID] = st
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		res := r.execute(st, &sr)
		r.finish(sr.ID, st, res)
	}()
}

// Close kills the process group of every running script and waits until
// their goroutines, and the done callbacks of every Run made before Close,
// have returned. Scripts killed this way report DeactivateFailed. Run after
// Close starts nothing and reports DeactivateFailed (or, for an ID that
// already finished, that first outcome). Close always returns nil; it may
// be called more than once.
func (r *Runner) Close() error {
	r.mu.Lock()
	r.closed = true
	for _, st := range r.runs {
		if st.done || st.pgid == 0 {
			continue
		}
		if !st.exited {
			st.aborted = true
			killGroup(st.pgid)
		}
		for _, f := range st.outputs {
			_ = f.SetReadDeadline(time.Now()) // stop waiting for escaped holders
		}
	}
	r.mu.Unlock()
	r.wg.Wait()
	return nil
}

// laterLocked calls done with res on a new goroutine, which Close waits
// for unless the Runner is already closed. r.mu must be held, so that the
// WaitGroup never grows once Close has started waiting.
func (r *Runner) laterLocked(done func(protocol.ScriptResult), res protocol.ScriptResult) {
	if r.closed {
		go done(res)
		return
	}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		done(res)
	}()
}

// finish records the outcome of a run, forgets the oldest finished runs
// beyond RememberedRuns, and calls every waiter.
func (r *Runner) finish(id uint64, st *runState, result wire.DeactivateResult) {
	r.mu.Lock()
	st.done = true
	st.result = result
	waiters := st.waiters
	st.waiters = nil
	r.finished = append(r.finished, id)
	for len(r.finished) > RememberedRuns {
		old := r.finished[0]
		r.finished = r.finished[1:]
		if s, ok := r.runs[old]; ok && s.done {
			delete(r.runs, old)
		}
	}
	r.mu.Unlock()
	res := protocol.ScriptResult{ID: id, Result: result}
	for _, w := range waiters {
		w(res)
	}
}

func (r *Runner) logger() *slog.Logger {
	if r.Logger != nil {
		return r.Logger
	}
	return slog.Default()
}

func (r *Runner) drainTimeout() time.Duration {
	if r.DrainTimeout > 0 {
		return r.DrainTimeout
	}
	return DefaultDrainTimeout
}

// execute runs one script to its end and classifies the outcome.
func (r *Runner) execute(st *runState, sr *protocol.ScriptRun) wire.DeactivateResult {
	log := r.logger().With("run", sr.ID, "script", sr.Path, "group", sr.Group,
		"instance", sr.Provider.Instance, "node", sr.Provider.Node)
	if sr.Path == "" {
		log.Info("deactivate script: provider registered no script; not run")
		return wire.DeactivateNotRun
	}
	cmd, err := r.command(sr)
	if err != nil {
		log.Error("deactivate script cannot run", "err", err)
		return wire.DeactivateFailed
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		log.Error("deactivate script: cannot create output pipe", "err", err)
		return wire.DeactivateFailed
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		closeAll(outR, outW)
		log.Error("deactivate script: cannot create output pipe", "err", err)
		return wire.DeactivateFailed
	}
	defer closeAll(outR, errR)
	cmd.Stdout, cmd.Stderr = outW, errW

	// Start under the lock so that Close either sees the process group or
	// prevents the start.
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		closeAll(outW, errW)
		log.Error("deactivate script: runner closed before the script started")
		return wire.DeactivateFailed
	}
	err = cmd.Start()
	if err == nil {
		st.pgid = cmd.Process.Pid
		st.outputs = []*os.File{outR, errR}
	}
	r.mu.Unlock()
	closeAll(outW, errW) // the script holds its own copies
	if err != nil {
		log.Error("deactivate script cannot start", "err", err)
		return wire.DeactivateFailed
	}
	started := time.Now()
	log.Info("deactivate script started", "pid", st.pgid, "reason", reasonWord(sr.Reason),
		"uid", sr.Uid, "gid", sr.Gid, "time_limit", sr.TimeLimit)

	var pumps sync.WaitGroup
	pumps.Add(2)
	go func() { defer pumps.Done(); pumpLines(outR, "stdout", log) }()
	go func() { defer pumps.Done(); pumpLines(errR, "stderr", log) }()

	var timer *time.Timer
	if sr.TimeLimit > 0 {
		timer = time.AfterFunc(time.Duration(sr.TimeLimit)*time.Second, func() {
			r.mu.Lock()
			defer r.mu.Unlock()
			if !st.exited {
				st.timedOut = true
				killGroup(st.pgid)
			}
		})
	}

	// Wait for the leader to exit without reaping it: while it is a zombie
	// its pid, and so its process group ID, cannot be reused, so killing
	// the group cannot hit anyone else. Then kill whatever the script left
	// behind in its group, and only then reap it.
	if err := waitExited(st.pgid); err != nil {
		log.Warn("deactivate script: waiting for exit", "err", err)
	}
	r.mu.Lock()
	st.exited = true
	killGroup(st.pgid)
	timedOut, aborted := st.timedOut, st.aborted
	r.mu.Unlock()
	if timer != nil {
		timer.Stop()
	}
	waitErr := cmd.Wait()
	elapsed := time.Since(started)

	r.mu.Lock()
	if !r.closed { // Close has already cut reading short
		deadline := time.Now().Add(r.drainTimeout())
		_ = outR.SetReadDeadline(deadline)
		_ = errR.SetReadDeadline(deadline)
	}
	r.mu.Unlock()
	pumps.Wait()

	result, how := classify(waitErr, timedOut, aborted)
	log.Info("deactivate script finished", "result", resultWord(result), "how", how,
		"elapsed", elapsed.Round(time.Millisecond))
	return result
}

// command builds the exec.Cmd for sr: never through a shell, in its own
// process group, as sr's uid and gid, in "/", with a clean environment and
// stdin from /dev/null. The script is checked again first (CheckScript):
// it may have changed since it was registered.
//
// Arguments after the path start with "--": the group name and the flag
// are chosen by clients and may start with '-', and "--" ends the options
// for getopt and for every program that follows its convention, so neither
// can be taken for an option (docs/deactivate-scripts.md).
func (r *Runner) command(sr *protocol.ScriptRun) (*exec.Cmd, error) {
	if !filepath.IsAbs(sr.Path) {
		return nil, fmt.Errorf("deactivate script %q: %w", sr.Path, ErrNotAbsolute)
	}
	reason := reasonWord(sr.Reason)
	if reason == "" {
		return nil, fmt.Errorf("deactivate script %q: unknown reason %d", sr.Path, sr.Reason)
	}
	cred, err := credential(os.Geteuid(), os.Getegid(), sr.Uid, sr.Gid)
	if err != nil {
		return nil, err
	}
	if err := CheckScript(sr.Path, sr.Uid, sr.Gid); err != nil {
		return nil, fmt.Errorf("refused just before it ran: %w", err)
	}
	instance := strconv.FormatInt(int64(sr.Provider.Instance), 10)
	node := strconv.FormatInt(int64(sr.Provider.Node), 10)
	pid := strconv.FormatInt(int64(sr.Pid), 10)
	limit := strconv.FormatUint(uint64(sr.TimeLimit), 10)

	args := []string{sr.Path, EndOfOptions, sr.Group, instance, node, pid, reason}
	env := []string{
		"PATH=" + ScriptPath,
		EnvGroup + "=" + sr.Group,
		EnvProviderInstance + "=" + instance,
		EnvProviderNode + "=" + node,
		EnvProviderPid + "=" + pid,
		EnvReason + "=" + reason,
		EnvTimeLimit + "=" + limit,
	}
	if sr.Flag != nil {
		flag := cleanFlag(*sr.Flag)
		args = append(args, flag)
		env = append(env, EnvDeactivateFlag+"="+flag)
	}
	if r.Domain != "" {
		env = append(env, EnvDomain+"="+r.Domain)
	}
	return &exec.Cmd{
		Path: sr.Path,
		Args: args,
		Env:  env,
		Dir:  "/",
		SysProcAttr: &syscall.SysProcAttr{
			Setpgid:    true,
			Credential: cred,
		},
	}, nil
}

// cleanFlag cuts a flag the way C would see it: at the first NUL, and at
// wire.MaxDeactivateFlagLength-1 bytes.
func cleanFlag(f string) string {
	if i := strings.IndexByte(f, 0); i >= 0 {
		f = f[:i]
	}
	if len(f) > wire.MaxDeactivateFlagLength-1 {
		f = f[:wire.MaxDeactivateFlagLength-1]
	}
	return f
}

// credential returns the credential to start a script as uid/gid from a
// daemon running as euid/egid. A daemon running as root switches to them
// (with no supplementary groups); any other daemon can only run scripts
// registered by its own uid and gid, and then runs them with its own
// credentials (nil: no switch).
func credential(euid, egid int, uid, gid uint32) (*syscall.Credential, error) {
	if euid == 0 {
		return &syscall.Credential{Uid: uid, Gid: gid}, nil
	}
	if uint32(euid) == uid && uint32(egid) == gid {
		return nil, nil
	}
	return nil, fmt.Errorf("%w: hagsd runs as uid %d gid %d, not root, and cannot switch to uid %d gid %d",
		ErrCannotSwitchUser, euid, egid, uid, gid)
}

// classify turns how a script ended into a result and a few words for the log.
func classify(waitErr error, timedOut, aborted bool) (wire.DeactivateResult, string) {
	switch {
	case timedOut:
		return wire.DeactivateTimedOut, "killed at the time limit"
	case aborted:
		return wire.DeactivateFailed, "killed by daemon shutdown"
	case waitErr == nil:
		return wire.DeactivateOK, "exit 0"
	}
	var ee *exec.ExitError
	if errors.As(waitErr, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return wire.DeactivateFailed, "killed by signal " + ws.Signal().String()
		}
		return wire.DeactivateFailed, "exit " + strconv.Itoa(ee.ExitCode())
	}
	return wire.DeactivateFailed, "wait failed: " + waitErr.Error()
}

func reasonWord(r protocol.ScriptReason) string {
	switch r {
	case protocol.ScriptExpel:
		return ReasonExpel
	case protocol.ScriptFailure:
		return ReasonFailure
	}
	return ""
}

func resultWord(r wire.DeactivateResult) string {
	switch r {
	case wire.DeactivateNotRun:
		return "not run"
	case wire.DeactivateOK:
		return "ok"
	case wire.DeactivateFailed:
		return "failed"
	case wire.DeactivateTimedOut:
		return "timed out"
	}
	return "unknown"
}

// killGroup sends SIGKILL to process group pgid; a group that is already
// gone is not an error. pgid 0 and 1 are refused: kill(0) and kill(-1)
// would hit the daemon's own group or every process.
func killGroup(pgid int) {
	if pgid > 1 {
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
	}
}

// waitExited blocks until process pid has exited, leaving it unreaped.
func waitExited(pid int) error {
	for {
		var info unix.Siginfo
		err := unix.Waitid(unix.P_PID, pid, &info, unix.WEXITED|unix.WNOWAIT, nil)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return fmt.Errorf("waitid %d: %w", pid, err)
		}
		return nil
	}
}

// pumpLines logs each line read from f until EOF or f's read deadline.
func pumpLines(f *os.File, stream string, log *slog.Logger) {
	br := bufio.NewReaderSize(f, maxLineBytes)
	for {
		line, err := br.ReadSlice('\n')
		if len(line) > 0 {
			text := strings.TrimSuffix(strings.TrimSuffix(string(line), "\n"), "\r")
			log.Info("deactivate script output", "stream", stream, "line", text)
		}
		switch {
		case err == nil, errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF):
		case errors.Is(err, os.ErrDeadlineExceeded):
			log.Warn("deactivate script: a process outside the script's process group still holds its output open; no longer reading it",
				"stream", stream)
		default:
			log.Warn("deactivate script: reading output", "stream", stream, "err", err)
		}
		return
	}
}

func closeAll(files ...*os.File) {
	for _, f := range files {
		_ = f.Close()
	}
}

package scripts

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/openhags/hags/daemon/protocol"
	"github.com/openhags/hags/internal/proc"
	"github.com/openhags/hags/internal/wire"
)

const (
	// ScriptPath is the PATH a deactivate script runs with.
	ScriptPath = proc.SafePath

	// DefaultDrainTimeout is how long a Runner keeps reading a script's
	// output after the script and its process group are gone (see
	// Runner.DrainTimeout).
	DefaultDrainTimeout = proc.DefaultDrainTimeout

	// RememberedRuns is how many finished run IDs a Runner remembers to
	// answer a repeated Run with the first outcome. Runs still in progress
	// are always remembered.
	RememberedRuns = 4096

	// maxLineBytes is the longest output line logged as one record; a
	// longer line is logged in pieces of this size.
	maxLineBytes = proc.MaxLineBytes
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
	ctx      context.Context // done when Close starts: kills running scripts
	cancel   context.CancelFunc
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
	if r.ctx == nil {
		r.ctx, r.cancel = context.WithCancel(context.Background())
	}
	ctx := r.ctx
	st := &runState{waiters: []func(protocol.ScriptResult){done}}
	r.runs[sr.ID] = st
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		res := r.execute(ctx, &sr)
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
	if r.cancel != nil {
		r.cancel() // kills running scripts' groups and stops reading their output
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

// execute runs one script to its end and classifies the outcome. ctx is
// done when Close starts.
func (r *Runner) execute(ctx context.Context, sr *protocol.ScriptRun) wire.DeactivateResult {
	log := r.logger().With("run", sr.ID, "script", sr.Path, "group", sr.Group,
		"instance", sr.Provider.Instance, "node", sr.Provider.Node)
	if sr.Path == "" {
		log.Info("deactivate script: provider registered no script; not run")
		return wire.DeactivateNotRun
	}
	spec, err := r.command(sr)
	if err != nil {
		log.Error("deactivate script cannot run", "err", err)
		return wire.DeactivateFailed
	}
	spec.Name = "deactivate script"
	spec.Log = log
	spec.DrainTimeout = r.drainTimeout()
	p, err := proc.Start(ctx, spec)
	if err != nil {
		log.Error("deactivate script cannot start", "err", err)
		return wire.DeactivateFailed
	}
	log.Info("deactivate script started", "pid", p.Pid(), "reason", reasonWord(sr.Reason),
		"uid", sr.Uid, "gid", sr.Gid, "time_limit", sr.TimeLimit)
	res := p.Wait()
	result, how := classify(res)
	log.Info("deactivate script finished", "result", resultWord(result), "how", how,
		"elapsed", res.Elapsed.Round(time.Millisecond))
	return result
}

// command builds the proc.Spec for sr: never through a shell, as sr's uid
// and gid, in "/", with a clean environment, killed at sr.TimeLimit (proc
// adds the process group and stdin from /dev/null). The script is checked
// again first (CheckScript): it may have changed since it was registered.
//
// Arguments after the path start with "--": the group name and the flag
// are chosen by clients and may start with '-', and "--" ends the options
// for getopt and for every program that follows its convention, so neither
// can be taken for an option (docs/deactivate-scripts.md).
func (r *Runner) command(sr *protocol.ScriptRun) (proc.Spec, error) {
	if !filepath.IsAbs(sr.Path) {
		return proc.Spec{}, fmt.Errorf("deactivate script %q: %w", sr.Path, ErrNotAbsolute)
	}
	reason := reasonWord(sr.Reason)
	if reason == "" {
		return proc.Spec{}, fmt.Errorf("deactivate script %q: unknown reason %d", sr.Path, sr.Reason)
	}
	cred, err := credential(os.Geteuid(), os.Getegid(), sr.Uid, sr.Gid)
	if err != nil {
		return proc.Spec{}, err
	}
	if err := CheckScript(sr.Path, sr.Uid, sr.Gid); err != nil {
		return proc.Spec{}, fmt.Errorf("refused just before it ran: %w", err)
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
	return proc.Spec{
		Path:    sr.Path,
		Args:    args[1:],
		Env:     env,
		Dir:     "/",
		Cred:    cred,
		Timeout: time.Duration(sr.TimeLimit) * time.Second,
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
func classify(res proc.Result) (wire.DeactivateResult, string) {
	switch {
	case res.TimedOut:
		return wire.DeactivateTimedOut, "killed at the time limit"
	case res.Aborted:
		return wire.DeactivateFailed, "killed by daemon shutdown"
	case res.Success():
		return wire.DeactivateOK, "exit 0"
	}
	return wire.DeactivateFailed, res.How()
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

package proc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// Defaults and limits.
const (
	// SafePath is a PATH for helpers: the system's directories only.
	SafePath = "/usr/sbin:/usr/bin:/sbin:/bin"
	// DefaultDrainTimeout is how long output is still read after a
	// process and its group are gone (Spec.DrainTimeout).
	DefaultDrainTimeout = 2 * time.Second
	// MaxLineBytes is the longest output line logged as one record; a
	// longer line is logged in pieces of this size.
	MaxLineBytes = 4096
	// MaxTailLine is the longest line kept in Result.Tail; a longer one is
	// cut.
	MaxTailLine = 512
)

// Errors Start returns, or Result.Err wraps, and Process.Signal returns.
var (
	// ErrNotAbsolute: Spec.Path is not an absolute path.
	ErrNotAbsolute = errors.New("program path is not absolute")
	// ErrNotStarted: the context was done before the process started.
	ErrNotStarted = errors.New("not started: context done")
	// ErrGuard: the parent-death guard (KillGroupOnParentDeath) could not
	// be started, so neither was the process.
	ErrGuard = errors.New("cannot start the parent-death guard")
	// ErrExited: the process has exited; its group was killed already.
	ErrExited = errors.New("process has exited")
)

// ParentDeath says what becomes of a child when the process that started
// it dies.
type ParentDeath uint8

// What a child does when its parent dies.
const (
	// LiveOnParentDeath: nothing happens; the child lives on (the
	// default).
	LiveOnParentDeath ParentDeath = 0
	// KillOnParentDeath: the child gets SIGKILL (PR_SET_PDEATHSIG); the
	// processes it started do not.
	KillOnParentDeath ParentDeath = 1
	// KillGroupOnParentDeath: the child gets SIGKILL, and a guard process
	// kills its whole process group. The guard is the group's leader: the
	// group ID is the guard's pid, not the child's.
	KillGroupOnParentDeath ParentDeath = 2
)

// Spec says what to run and how. The zero value of every field but Path
// is usable.
type Spec struct {
	// Path is the program, an absolute path. It is run directly, never
	// through a shell; it is also argv[0].
	Path string
	// Args are the arguments after argv[0].
	Args []string
	// Env is the whole environment, "NAME=value" each; nothing is
	// inherited from this process. Put SafePath in a PATH entry if the
	// program needs one.
	Env []string
	// Dir is the working directory; "" means "/".
	Dir string
	// Cred, when not nil, is the user, group and supplementary groups the
	// process runs as (an empty Groups list means none). Nil keeps this
	// process's own.
	Cred *syscall.Credential
	// Timeout, when positive, bounds the run: at the timeout the whole
	// process group gets SIGKILL and Result.TimedOut is set.
	Timeout time.Duration
	// OnParentDeath says whether the child dies with this process.
	OnParentDeath ParentDeath

	// Name names the process in log messages ("deactivate script",
	// "agent"): "<Name> output" for each line. "" means "process".
	Name string
	// Log receives one record per output line (attributes "stream" and
	// "line") and warnings about reading the output. Attach what
	// identifies the run with Logger.With. Nil: output is read and
	// discarded.
	Log *slog.Logger
	// LogLimit, when positive, is how many bytes of output are logged;
	// the rest is counted, and one warning says how much was left out.
	LogLimit int
	// CaptureStdout, when positive, keeps up to that many bytes of stdout
	// in Result.Stdout (the rest is read and counted as truncated); stdout
	// is then neither logged nor in Result.Tail. Stderr is always logged.
	CaptureStdout int
	// TailLines, when positive, keeps the last that many output lines in
	// Result.Tail, made printable.
	TailLines int
	// DrainTimeout bounds how long output is still read after the process
	// exited and its group was killed; only a process that left the group
	// (setsid) can hold the output open that long. Zero means
	// DefaultDrainTimeout.
	DrainTimeout time.Duration
}

// Result is how a process ended.
type Result struct {
	// Pid is the process's pid (0 if it never started).
	Pid int
	// ExitCode is its exit status, or -1 if it did not exit normally
	// (killed by a signal, or never started).
	ExitCode int
	// Signal is the signal that killed it, 0 if it exited.
	Signal syscall.Signal
	// TimedOut: it was killed at Spec.Timeout.
	TimedOut bool
	// Aborted: it was killed because its context was done, or never
	// started because the context was done already.
	Aborted bool
	// Err is why it could not start (wrapping ErrNotAbsolute,
	// ErrNotStarted, ErrGuard or the exec error), or why waiting for it
	// failed. A process with Err set did not run to an exit status.
	Err error
	// Stdout is what it wrote to stdout, with Spec.CaptureStdout.
	Stdout []byte
	// StdoutTruncated: it wrote more than Spec.CaptureStdout bytes.
	StdoutTruncated bool
	// Tail holds its last Spec.TailLines output lines, oldest first.
	Tail []string
	// OutputCut: output was no longer read before end of file (a process
	// outside the group held it open past the drain timeout, or the
	// context was done).
	OutputCut bool
	// Elapsed is the time from start to exit.
	Elapsed time.Duration
}

// Success reports whether the process ran and exited 0 on its own.
func (r Result) Success() bool {
	return r.Err == nil && !r.TimedOut && !r.Aborted && r.Signal == 0 && r.ExitCode == 0
}

// How says in a few words how the process ended: "exit 3", "killed by
// signal terminated", "killed at the time limit", "killed: context done",
// "cannot start: …".
func (r Result) How() string {
	switch {
	case r.TimedOut:
		return "killed at the time limit"
	case r.Aborted:
		return "killed: context done"
	case r.Err != nil && r.Pid == 0:
		return "cannot start: " + r.Err.Error()
	case r.Err != nil:
		return "wait failed: " + r.Err.Error()
	case r.Signal != 0:
		return "killed by signal " + r.Signal.String()
	}
	return "exit " + strconv.Itoa(r.ExitCode)
}

// Process is a started child. Its methods are safe for concurrent use.
// It owns the goroutines that watch it; Wait returns once they have ended.
type Process struct {
	pid     int
	pgid    int
	cmd     *exec.Cmd
	guard   *exec.Cmd // the parent-death guard, or nil
	started time.Time
	drain   time.Duration
	out     *collector
	timer   *time.Timer   // Spec.Timeout, or nil
	stopCtx func() bool   // unregisters the context callback
	aborts  chan struct{} // closed when abort has returned

	mu       sync.Mutex
	exited   bool       // the child exited (it may not be reaped yet)
	timedOut bool       // killed at the timeout
	aborted  bool       // killed because the context was done
	cut      bool       // output reading cut short by the context
	outputs  []*os.File // read ends of stdout and stderr until closed

	done chan struct{} // closed when res is final
	res  Result
}

// Run starts the process spec describes and waits for its end. It never
// returns before the process's group is killed and its output read (or
// the drain timeout passed). A process that cannot start gives a Result
// with Err set and ExitCode -1.
func Run(ctx context.Context, spec Spec) Result {
	p, err := Start(ctx, spec)
	if err != nil {
		return Result{ExitCode: -1, Err: err, Aborted: errors.Is(err, ErrNotStarted)}
	}
	return p.Wait()
}

// Start starts the process spec describes and returns at once. When ctx is
// done the process's group is killed (Result.Aborted); pass
// context.Background() for a process that ends only when told to. The
// error, when Start fails, wraps ErrNotAbsolute, ErrNotStarted, ErrGuard or
// the error of exec.
func Start(ctx context.Context, spec Spec) (*Process, error) {
	if !filepath.IsAbs(spec.Path) {
		return nil, fmt.Errorf("proc: %q: %w", spec.Path, ErrNotAbsolute)
	}
	if ctx.Err() != nil {
		return nil, fmt.Errorf("proc: %s: %w", spec.Path, ErrNotStarted)
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("proc: %s: output pipe: %w", spec.Path, err)
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		closeAll(outR, outW)
		return nil, fmt.Errorf("proc: %s: output pipe: %w", spec.Path, err)
	}
	env := spec.Env
	if env == nil {
		env = []string{} // nil would make exec inherit ours
	}
	dir := spec.Dir
	if dir == "" {
		dir = "/"
	}
	cmd := &exec.Cmd{
		Path:        spec.Path,
		Args:        append([]string{spec.Path}, spec.Args...),
		Env:         env,
		Dir:         dir,
		Stdout:      outW,
		Stderr:      errW,
		SysProcAttr: &syscall.SysProcAttr{Setpgid: true, Credential: spec.Cred},
	}
	var guard *exec.Cmd
	if spec.OnParentDeath == KillGroupOnParentDeath {
		if guard, err = startGuard(); err != nil {
			closeAll(outR, outW, errR, errW)
			return nil, fmt.Errorf("proc: %s: %w: %w", spec.Path, ErrGuard, err)
		}
		cmd.SysProcAttr.Pgid = guard.Process.Pid
	}
	if spec.OnParentDeath != LiveOnParentDeath {
		cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
		err = onForkThread(cmd.Start)
	} else {
		err = cmd.Start()
	}
	closeAll(outW, errW) // the child holds its own copies
	if err != nil {
		closeAll(outR, errR)
		if guard != nil {
			killGroup(guard.Process.Pid)
			_ = guard.Wait()
		}
		return nil, fmt.Errorf("proc: %s: %w", spec.Path, err)
	}

	p := &Process{
		pid:     cmd.Process.Pid,
		pgid:    cmd.Process.Pid,
		cmd:     cmd,
		guard:   guard,
		started: time.Now(),
		drain:   spec.DrainTimeout,
		out:     newCollector(spec),
		outputs: []*os.File{outR, errR},
		aborts:  make(chan struct{}),
		done:    make(chan struct{}),
	}
	if guard != nil {
		p.pgid = guard.Process.Pid
	}
	if p.drain <= 0 {
		p.drain = DefaultDrainTimeout
	}
	var pumps sync.WaitGroup
	pumps.Add(2)
	go func() { defer pumps.Done(); p.out.pump(outR, "stdout") }()
	go func() { defer pumps.Done(); p.out.pump(errR, "stderr") }()
	if spec.Timeout > 0 {
		p.timer = time.AfterFunc(spec.Timeout, p.timeout)
	}
	p.stopCtx = context.AfterFunc(ctx, p.abort)
	go p.supervise(&pumps)
	return p, nil
}

// Pid returns the child's pid.
func (p *Process) Pid() int { return p.pid }

// Pgid returns the child's process group ID: its pid, or the guard's with
// KillGroupOnParentDeath.
func (p *Process) Pgid() int { return p.pgid }

// Done is closed when the process has ended and Wait would not block.
func (p *Process) Done() <-chan struct{} { return p.done }

// Wait blocks until the process has exited, its group has been killed and
// its output read, and returns how it ended.
func (p *Process) Wait() Result {
	<-p.done
	return p.res
}

// Signal sends sig to the process's whole group. After the child has
// exited it sends nothing and returns ErrExited: the group was killed when
// the child exited.
func (p *Process) Signal(sig syscall.Signal) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.exited {
		return ErrExited
	}
	if err := syscall.Kill(-p.pgid, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("proc: signal %s to group %d: %w", sig, p.pgid, err)
	}
	return nil
}

// Kill sends SIGKILL to the process's whole group (see Signal).
func (p *Process) Kill() error { return p.Signal(syscall.SIGKILL) }

// timeout kills the group at Spec.Timeout, unless the child exited first.
func (p *Process) timeout() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.exited {
		p.timedOut = true
		killGroup(p.pgid)
	}
}

// abort kills the group when the context is done, and stops reading
// output at once.
func (p *Process) abort() {
	defer close(p.aborts)
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.exited {
		p.aborted = true
		killGroup(p.pgid)
	}
	p.cut = true
	for _, f := range p.outputs {
		_ = f.SetReadDeadline(time.Now())
	}
}

// supervise waits for the child's exit, kills what it left in its group,
// reaps it, reads the rest of its output and publishes the result.
func (p *Process) supervise(pumps *sync.WaitGroup) {
	// Wait for the exit without reaping: while the child is an unreaped
	// zombie (and the guard, if any, is our unreaped child too) the group
	// ID cannot be reused, so the kill below reaches only this group.
	waitErr := waitExited(p.pid)
	p.mu.Lock()
	p.exited = true
	killGroup(p.pgid)
	timedOut, aborted := p.timedOut, p.aborted
	p.mu.Unlock()
	elapsed := time.Since(p.started)
	if p.timer != nil {
		p.timer.Stop()
	}

	reapErr := p.cmd.Wait()
	if p.guard != nil {
		_ = p.guard.Wait() // killed with the group
	}

	p.mu.Lock()
	if !p.cut {
		deadline := time.Now().Add(p.drain)
		for _, f := range p.outputs {
			_ = f.SetReadDeadline(deadline)
		}
	}
	p.mu.Unlock()
	pumps.Wait()
	// The context may still cut the drain short until here.
	if !p.stopCtx() {
		<-p.aborts // abort was started: let it finish, so that no goroutine outlives Wait
	}
	p.mu.Lock()
	closeAll(p.outputs...)
	p.outputs = nil
	p.mu.Unlock()

	res := Result{Pid: p.pid, ExitCode: -1, TimedOut: timedOut, Aborted: aborted, Elapsed: elapsed}
	if state := p.cmd.ProcessState; state != nil {
		if ws, ok := state.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			res.Signal = ws.Signal()
		} else {
			res.ExitCode = state.ExitCode()
		}
	} else if reapErr != nil {
		res.Err = reapErr
	}
	if waitErr != nil && res.Err == nil && p.cmd.ProcessState == nil {
		res.Err = waitErr
	}
	p.out.finish(&res)
	p.res = res
	close(p.done)
}

// killGroup sends SIGKILL to process group pgid; a group that is already
// gone is not an error. pgid 0 and 1 are refused: kill(0) and kill(-1)
// would hit our own group or every process.
func killGroup(pgid int) {
	if pgid > 1 {
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
	}
}

func closeAll(files ...*os.File) {
	for _, f := range files {
		_ = f.Close()
	}
}

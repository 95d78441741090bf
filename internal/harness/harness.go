// Package harness starts real hagsd daemons, hagsrmd managers and gsclient
// processes and talks to them through their standard streams. The demo and the
// real-process tests use it; nothing here runs inside the daemon or the
// client library.
package harness

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Build compiles the named main packages of this module into dir and returns
// dir. It is how tests get real binaries without depending on make.
func Build(ctx context.Context, dir string, pkgs ...string) error {
	args := append([]string{"build", "-o", dir + "/"}, pkgs...)
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = moduleRoot()
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("harness: go build %v: %w\n%s", pkgs, err, out)
	}
	return nil
}

func moduleRoot() string {
	dir, _ := os.Getwd()
	for d := dir; d != "/"; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d
		}
	}
	return dir
}

// TB is what TestLog needs of a test; *testing.T and *testing.B have it.
type TB interface {
	Logf(format string, args ...any)
	Cleanup(func())
}

// TestLog returns a tee that logs each line of a process to t, prefixed,
// until t's cleanups have run: a line read after that (the process's last
// output, still being read when the test ended) is not logged, since
// logging after a test has finished is a data race and a panic. The lines
// stay in the process's Lines either way. Call it before starting the
// process, so that its own cleanup (registered after) runs first and its
// last lines are logged.
func TestLog(t TB, prefix string) func(string) {
	var mu sync.Mutex
	done := false
	t.Cleanup(func() {
		mu.Lock()
		done = true
		mu.Unlock()
	})
	return func(line string) {
		mu.Lock()
		defer mu.Unlock()
		if !done {
			t.Logf("%s| %s", prefix, line)
		}
	}
}

// Lines collects the lines a process writes and lets callers wait for one.
type Lines struct {
	mu      sync.Mutex
	lines   []string
	changed chan struct{} // closed and replaced whenever a line arrives or the stream ends
	done    bool
}

func newLines() *Lines { return &Lines{changed: make(chan struct{})} }

func (l *Lines) feed(r io.Reader, tee func(string)) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for sc.Scan() {
		line := sc.Text()
		if tee != nil {
			tee(line)
		}
		l.add(line)
	}
	l.end()
}

// add appends a line and wakes the waiters.
func (l *Lines) add(line string) {
	l.mu.Lock()
	l.lines = append(l.lines, line)
	close(l.changed)
	l.changed = make(chan struct{})
	l.mu.Unlock()
}

// end marks the stream ended and wakes the waiters.
func (l *Lines) end() {
	l.mu.Lock()
	l.done = true
	close(l.changed)
	l.changed = make(chan struct{})
	l.mu.Unlock()
}

// All returns a copy of every line so far.
func (l *Lines) All() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.lines...)
}

// WaitFor waits until a line at index ≥ from matches re and returns the
// line and its index. It fails when the stream ends or the timeout passes.
func (l *Lines) WaitFor(re *regexp.Regexp, from int, timeout time.Duration) (string, int, error) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		l.mu.Lock()
		for i := from; i < len(l.lines); i++ {
			if re.MatchString(l.lines[i]) {
				line := l.lines[i]
				l.mu.Unlock()
				return line, i, nil
			}
		}
		from = max(from, len(l.lines))
		done, changed := l.done, l.changed
		l.mu.Unlock()
		if done {
			return "", -1, fmt.Errorf("harness: stream ended without a line matching %q", re)
		}
		select {
		case <-changed:
		case <-deadline.C:
			return "", -1, fmt.Errorf("harness: no line matching %q within %v", re, timeout)
		}
	}
}

// Daemon is a running hagsd or hagsrmd.
type Daemon struct {
	Socket string
	Log    *Lines // stderr (the structured log)
	name   string // the program, for errors
	cmd    *exec.Cmd
	proc   *exited
}

// exited records a process's end: done is closed once err is set.
type exited struct {
	done chan struct{}
	err  error
}

func reap(cmd *exec.Cmd) *exited {
	e := &exited{done: make(chan struct{})}
	go func() {
		e.err = cmd.Wait()
		close(e.done)
	}()
	return e
}

// wait waits up to timeout for the process to end and returns its exit error.
func (e *exited) wait(timeout time.Duration) (error, bool) {
	select {
	case <-e.done:
		return e.err, true
	case <-time.After(timeout):
		return nil, false
	}
}

// StartDaemon starts bin (hagsd) serving socket and waits for its ready line.
func StartDaemon(bin, socket string, tee func(string), args ...string) (*Daemon, error) {
	return startDaemon("hagsd", bin, socket, []string{"HA_GS_SOCKET=" + socket}, `ready`, tee,
		append([]string{"--socket", socket}, args...))
}

// StartManager starts bin (hagsrmd) serving the management socket socket,
// as a client of the hagsd serving gsSocket, and waits for its ready line.
// args are further hagsrmd flags (--state-dir, --action-log, ...).
func StartManager(bin, socket, gsSocket string, tee func(string), args ...string) (*Daemon, error) {
	return startDaemon("hagsrmd", bin, socket, []string{"HA_GS_SOCKET=" + gsSocket}, `ready`,
		tee, append([]string{"--socket", socket, "--gs-socket", gsSocket}, args...))
}

// StartProcess starts bin with args and the environment plus env, and
// waits for a line of its stderr matching ready. The Daemon's Socket is
// empty: args say what it serves.
func StartProcess(bin string, env []string, ready string, tee func(string), args ...string) (*Daemon, error) {
	return startDaemon(filepath.Base(bin), bin, "", env, ready, tee, args)
}

// startDaemon starts a daemon that logs to stderr, with the environment
// plus env, and waits up to 20 seconds for a line matching ready.
func startDaemon(name, bin, socket string, env []string, ready string, tee func(string), args []string) (*Daemon, error) {
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stdout = io.Discard
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("harness: start %s: %w", bin, err)
	}
	d := &Daemon{Socket: socket, Log: newLines(), name: name, cmd: cmd}
	go d.Log.feed(stderr, tee)
	d.proc = reap(cmd)
	if _, _, err := d.Log.WaitFor(regexp.MustCompile(ready), 0, 20*time.Second); err != nil {
		d.Kill()
		return nil, fmt.Errorf("harness: %s did not become ready: %w\n%s", name, err, strings.Join(d.Log.All(), "\n"))
	}
	return d, nil
}

// Pid is the daemon's process id.
func (d *Daemon) Pid() int { return d.cmd.Process.Pid }

// Stop sends SIGTERM and waits for the daemon to exit; it returns the exit error.
func (d *Daemon) Stop(timeout time.Duration) error {
	_ = d.cmd.Process.Signal(syscall.SIGTERM)
	if err, ok := d.proc.wait(timeout); ok {
		return err
	}
	d.Kill()
	return fmt.Errorf("harness: %s did not stop after SIGTERM", d.name)
}

// Kill sends SIGKILL (unless it already exited) and reaps the daemon.
func (d *Daemon) Kill() {
	_ = d.cmd.Process.Kill()
	<-d.proc.done
}

// Client is a running gsclient process.
type Client struct {
	Name  string
	Out   *Lines
	cmd   *exec.Cmd
	stdin io.WriteCloser
	proc  *exited
}

// StartClient starts bin (gsclient) against socket and waits for its ready line.
func StartClient(bin, name, socket string, tee func(string), args ...string) (*Client, error) {
	return StartClientAs(nil, bin, name, socket, tee, args...)
}

// StartClientAs is StartClient with the client running as cred (nil: as
// the caller). The process gets a minimal environment, since another
// user's process has no business with the caller's.
func StartClientAs(cred *syscall.Credential, bin, name, socket string, tee func(string), args ...string) (*Client, error) {
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "HA_GS_SOCKET="+socket)
	if cred != nil {
		cmd.Env = []string{"HA_GS_SOCKET=" + socket, "PATH=/usr/bin:/bin"}
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("harness: start %s: %w", bin, err)
	}
	c := &Client{Name: name, Out: newLines(), cmd: cmd, stdin: stdin}
	go c.Out.feed(stdout, tee)
	c.proc = reap(cmd)
	if _, _, err := c.Out.WaitFor(regexp.MustCompile(`^ready `), 0, 20*time.Second); err != nil {
		c.Kill()
		return nil, fmt.Errorf("harness: client %s: %w (%v)", name, err, c.Out.All())
	}
	return c, nil
}

// Pid is the client's process id.
func (c *Client) Pid() int { return c.cmd.Process.Pid }

// Send writes one command line to the client.
func (c *Client) Send(format string, args ...any) error {
	_, err := fmt.Fprintf(c.stdin, format+"\n", args...)
	return err
}

// Expect waits for a line matching the regular expression pattern written at
// or after line index from.
func (c *Client) Expect(pattern string, from int, timeout time.Duration) (string, int, error) {
	line, i, err := c.Out.WaitFor(regexp.MustCompile(pattern), from, timeout)
	if err != nil {
		return "", -1, fmt.Errorf("%s: %w; it printed:\n  %s", c.Name, err, strings.Join(c.Out.All(), "\n  "))
	}
	return line, i, nil
}

// Mark is the index the next line will have; pass it to Expect to wait only
// for what comes after this point.
func (c *Client) Mark() int { return len(c.Out.All()) }

// Kill sends SIGKILL and reaps the process.
func (c *Client) Kill() {
	_ = c.cmd.Process.Kill()
	<-c.proc.done
}

// Quit asks the client to quit and waits for it to exit.
func (c *Client) Quit(timeout time.Duration) error {
	_ = c.Send("quit")
	_ = c.stdin.Close()
	if err, ok := c.proc.wait(timeout); ok {
		return err
	}
	c.Kill()
	return fmt.Errorf("harness: client %s did not quit", c.Name)
}

// FreePorts returns n loopback TCP ports that were free a moment ago (all
// held open together, so they differ), for daemons of a test domain.
func FreePorts(n int) ([]int, error) {
	var ports []int
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		defer ln.Close()
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

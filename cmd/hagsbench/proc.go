package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// event is one line a client process reported, parsed.
type event struct {
	proc  *proc
	kind  string // ready, call, mem, state, count, lost, err
	slot  int
	group string
	sub   string // mem: self, join, left, failed
	count int64  // mem, state: group size; count: protocols
	t     int64  // CLOCK_MONOTONIC ns; count: elapsed ns
	text  string // err: the message; otherwise the raw line
}

// parseEvent parses one line of the client protocol (see client.go).
func parseEvent(line string) (event, error) {
	f := strings.Fields(line)
	ev := event{text: line}
	if len(f) == 0 {
		return ev, errors.New("empty line")
	}
	ev.kind = f[0]
	ints := func(idx ...int) ([]int64, error) {
		var out []int64
		for _, i := range idx {
			if i >= len(f) {
				return nil, fmt.Errorf("%q: want at least %d fields", line, i+1)
			}
			v, err := strconv.ParseInt(f[i], 10, 64)
			if err != nil {
				return nil, fmt.Errorf("%q: field %d: %w", line, i, err)
			}
			out = append(out, v)
		}
		return out, nil
	}
	switch ev.kind {
	case "ready":
		v, err := ints(1)
		if err != nil {
			return ev, err
		}
		ev.count = v[0]
	case "call":
		v, err := ints(1, 3)
		if err != nil {
			return ev, err
		}
		ev.slot, ev.group, ev.t = int(v[0]), f[2], v[1]
	case "mem":
		v, err := ints(1, 4, 5)
		if err != nil {
			return ev, err
		}
		ev.slot, ev.group, ev.sub, ev.count, ev.t = int(v[0]), f[2], f[3], v[1], v[2]
	case "state":
		v, err := ints(1, 3, 4)
		if err != nil {
			return ev, err
		}
		ev.slot, ev.group, ev.count, ev.t = int(v[0]), f[2], v[1], v[2]
	case "count":
		v, err := ints(1, 2)
		if err != nil {
			return ev, err
		}
		ev.count, ev.t = v[0], v[1]
	case "lost":
		v, err := ints(1, 2)
		if err != nil {
			return ev, err
		}
		ev.slot, ev.t = int(v[0]), v[1]
	case "err":
		ev.text = strings.TrimSpace(strings.TrimPrefix(line, "err"))
	default:
		return ev, fmt.Errorf("unknown event %q", line)
	}
	return ev, nil
}

// debugEvents prints every event collected ($HAGSBENCH_DEBUG=1).
var debugEvents = os.Getenv("HAGSBENCH_DEBUG") == "1"

// hub gathers the events of every client process of a run, in arrival
// order.
type hub struct {
	ch chan event
}

func newHub() *hub { return &hub{ch: make(chan event, 1<<16)} }

// errWaitTimeout is returned when expected events do not arrive in time.
var errWaitTimeout = errors.New("events did not arrive in time")

// collect waits for n events that match, dropping the others; an err
// event or the death of a process that was not expected to die fails it.
func (h *hub) collect(timeout time.Duration, n int, match func(event) bool) ([]event, error) {
	var got []event
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for len(got) < n {
		select {
		case ev := <-h.ch:
			if debugEvents {
				fmt.Fprintf(os.Stderr, "event %s: %s\n", ev.proc.name, ev.text)
			}
			if ev.kind == "err" {
				return got, fmt.Errorf("%s: %s", ev.proc.name, ev.text)
			}
			if match(ev) {
				got = append(got, ev)
			}
		case <-timer.C:
			return got, fmt.Errorf("%w: %d of %d after %v", errWaitTimeout, len(got), n, timeout)
		}
	}
	return got, nil
}

// drain discards the events queued so far.
func (h *hub) drain() {
	for {
		select {
		case <-h.ch:
		default:
			return
		}
	}
}

// proc is one client process: a hagsbench client, the libcpg program or
// the libha_gs program.
type proc struct {
	name  string
	cmd   *exec.Cmd
	stdin io.WriteCloser
	pid   int
	done  chan struct{} // closed when the process has exited and its output is read
	// eofAt is when its standard output closed (CLOCK_MONOTONIC ns): the
	// moment a killed process's descriptors, its sockets among them, are
	// closed by the kernel. Set before done is closed.
	eofAt int64
	mu    sync.Mutex
	tail  []string // its last lines of stderr, for error reports
}

// startProc starts argv as a client process and waits for its ready line.
func startProc(h *hub, name string, env []string, argv ...string) (*proc, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", argv[0], err)
	}
	p := &proc{name: name, cmd: cmd, stdin: stdin, done: make(chan struct{})}
	ready := make(chan int64, 1)
	go p.keepTail(stderr)
	go func() {
		defer close(p.done)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			ev, err := parseEvent(sc.Text())
			if err != nil {
				ev = event{kind: "err", text: err.Error()}
			}
			ev.proc = p
			if ev.kind == "ready" {
				select {
				case ready <- ev.count:
				default:
				}
				continue
			}
			h.ch <- ev
		}
		p.eofAt = monoNow()
		_ = cmd.Wait()
	}()
	select {
	case pid := <-ready:
		p.pid = int(pid)
		return p, nil
	case <-p.done:
		return nil, fmt.Errorf("%s exited before it was ready: %s", name, p.stderrTail())
	case <-time.After(20 * time.Second):
		p.kill()
		return nil, fmt.Errorf("%s not ready within 20s: %s", name, p.stderrTail())
	}
}

func (p *proc) keepTail(r io.Reader) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		p.mu.Lock()
		p.tail = append(p.tail, sc.Text())
		if len(p.tail) > 20 {
			p.tail = p.tail[len(p.tail)-20:]
		}
		p.mu.Unlock()
	}
}

func (p *proc) stderrTail() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.tail, " | ")
}

// send writes one command line.
func (p *proc) send(format string, args ...any) error {
	_, err := fmt.Fprintf(p.stdin, format+"\n", args...)
	if err != nil {
		return fmt.Errorf("%s: %w", p.name, err)
	}
	return nil
}

// quit asks the process to exit and waits a little, then kills it.
func (p *proc) quit() {
	_ = p.send("quit")
	_ = p.stdin.Close()
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		p.kill()
	}
}

// kill sends SIGKILL to the process (not to a wrapper: pid is what the
// process itself reported) and waits for it to end.
func (p *proc) kill() {
	if p.pid > 0 {
		_ = syscall.Kill(p.pid, syscall.SIGKILL)
	}
	_ = p.cmd.Process.Kill()
	<-p.done
}

// procSet is the client processes of one scenario; stop ends them all.
type procSet []*proc

func (ps procSet) stop() {
	var wg sync.WaitGroup
	for _, p := range ps {
		wg.Add(1)
		go func() { defer wg.Done(); p.quit() }()
	}
	wg.Wait()
}

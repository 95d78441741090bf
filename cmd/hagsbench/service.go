package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// service is a daemon the benchmark started: hagsd or corosync. Its log
// (stderr, and stdout) is kept so that the benchmark can wait for a line.
type service struct {
	name string
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited

	mu      sync.Mutex
	lines   []string
	changed chan struct{}
}

// startService starts argv and waits until its log has a line matching
// ready (nil: no wait).
func startService(name string, ready *regexp.Regexp, timeout time.Duration, argv ...string) (*service, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = w, w
	if err := cmd.Start(); err != nil {
		r.Close()
		w.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	w.Close()
	s := &service{name: name, cmd: cmd, done: make(chan struct{}), changed: make(chan struct{})}
	go s.read(r)
	go func() {
		_ = cmd.Wait()
		close(s.done)
	}()
	if ready != nil {
		if _, err := s.waitFor(ready, 0, timeout); err != nil {
			s.kill()
			return nil, err
		}
	}
	return s, nil
}

func (s *service) read(r io.ReadCloser) {
	defer r.Close()
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		s.mu.Lock()
		s.lines = append(s.lines, sc.Text())
		if len(s.lines) > 20000 { // a long run must not grow without bound
			s.lines = append([]string(nil), s.lines[10000:]...)
		}
		close(s.changed)
		s.changed = make(chan struct{})
		s.mu.Unlock()
	}
}

// mark returns the number of log lines so far, to wait for lines after it.
func (s *service) mark() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.lines)
}

// waitFor waits for a log line at index >= from that matches re.
func (s *service) waitFor(re *regexp.Regexp, from int, timeout time.Duration) (string, error) {
	deadline := time.After(timeout)
	for {
		s.mu.Lock()
		for i := min(from, len(s.lines)); i < len(s.lines); i++ {
			if re.MatchString(s.lines[i]) {
				l := s.lines[i]
				s.mu.Unlock()
				return l, nil
			}
		}
		from = max(from, len(s.lines))
		changed := s.changed
		s.mu.Unlock()
		select {
		case <-changed:
		case <-s.done:
			return "", fmt.Errorf("%s exited before logging %q: %s", s.name, re, s.tail())
		case <-deadline:
			return "", fmt.Errorf("%s did not log %q within %v: %s", s.name, re, timeout, s.tail())
		}
	}
}

func (s *service) tail() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Join(s.lines[max(0, len(s.lines)-15):], " | ")
}

// count returns how many log lines at index >= from match re.
func (s *service) count(re *regexp.Regexp, from int) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for i := min(from, len(s.lines)); i < len(s.lines); i++ {
		if re.MatchString(s.lines[i]) {
			n++
		}
	}
	return n
}

// pid is the daemon's process id (wrappers exec it, so it is the daemon's).
func (s *service) pid() int { return s.cmd.Process.Pid }

// kill sends SIGKILL and waits for the process to end.
func (s *service) kill() {
	_ = s.cmd.Process.Kill()
	<-s.done
}

// stop sends SIGTERM, and SIGKILL if it has not ended after timeout.
func (s *service) stop(timeout time.Duration) {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(timeout):
		s.kill()
	}
}

// rssBytes reads a process's resident set size from /proc.
func rssBytes(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	return parseRSS(b)
}

// parseRSS finds VmRSS in the text of /proc/PID/status.
func parseRSS(status []byte) (int64, error) {
	for _, line := range bytes.Split(status, []byte("\n")) {
		f := strings.Fields(string(line))
		if len(f) >= 2 && f[0] == "VmRSS:" {
			kb, err := strconv.ParseInt(f[1], 10, 64)
			if err != nil {
				return 0, fmt.Errorf("VmRSS %q: %w", f[1], err)
			}
			return kb * 1024, nil
		}
	}
	return 0, fmt.Errorf("no VmRSS line")
}

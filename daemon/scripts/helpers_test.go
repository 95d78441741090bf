package scripts

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/openhags/hags/daemon/protocol"
	"github.com/openhags/hags/internal/wire"
)

// waitBudget is how long a test waits for a script outcome before it fails.
const waitBudget = 20 * time.Second

// logRecord is one captured slog record, with the attributes of the logger
// it came from folded in.
type logRecord struct {
	Level slog.Level
	Msg   string
	Attrs map[string]string
}

// captureHandler is a slog.Handler that keeps every record in memory and
// wakes waiters on each new one.
type captureHandler struct {
	shared *captureLog
	attrs  []slog.Attr
}

type captureLog struct {
	mu      sync.Mutex
	records []logRecord
	changed chan struct{} // closed and replaced on every new record
}

func newCapture() *captureHandler {
	return &captureHandler{shared: &captureLog{changed: make(chan struct{})}}
}

func (h *captureHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h *captureHandler) Handle(_ context.Context, r slog.Record) error {
	rec := logRecord{Level: r.Level, Msg: r.Message, Attrs: map[string]string{}}
	for _, a := range h.attrs {
		rec.Attrs[a.Key] = a.Value.String()
	}
	r.Attrs(func(a slog.Attr) bool {
		rec.Attrs[a.Key] = a.Value.String()
		return true
	})
	l := h.shared
	l.mu.Lock()
	l.records = append(l.records, rec)
	close(l.changed)
	l.changed = make(chan struct{})
	l.mu.Unlock()
	return nil
}

func (h *captureHandler) WithAttrs(as []slog.Attr) slog.Handler {
	n := &captureHandler{shared: h.shared}
	n.attrs = append(append(n.attrs, h.attrs...), as...)
	return n
}

func (h *captureHandler) WithGroup(string) slog.Handler { return h }

// snapshot returns the records so far.
func (h *captureHandler) snapshot() []logRecord {
	h.shared.mu.Lock()
	defer h.shared.mu.Unlock()
	return append([]logRecord(nil), h.shared.records...)
}

// outputLines returns the script output lines logged for stream.
func (h *captureHandler) outputLines(stream string) []string {
	var out []string
	for _, r := range h.snapshot() {
		if r.Msg == "deactivate script output" && r.Attrs["stream"] == stream {
			out = append(out, r.Attrs["line"])
		}
	}
	return out
}

// waitForLine blocks until the script wrote line to stdout, or fails the test.
func (h *captureHandler) waitForLine(t *testing.T, line string) {
	t.Helper()
	deadline := time.After(waitBudget)
	for {
		h.shared.mu.Lock()
		ch := h.shared.changed
		h.shared.mu.Unlock()
		for _, l := range h.outputLines("stdout") {
			if l == line {
				return
			}
		}
		select {
		case <-ch:
		case <-deadline:
			t.Fatalf("the script should have written %q to stdout within %v; log: %+v", line, waitBudget, h.snapshot())
		}
	}
}

// newTestRunner returns a Runner logging into a capture handler; it is
// closed when the test ends.
func newTestRunner(t *testing.T) (*Runner, *captureHandler) {
	t.Helper()
	h := newCapture()
	r := New(slog.New(h))
	t.Cleanup(func() { require.NoError(t, r.Close(), "Close reports no error") })
	return r, h
}

// writeScript writes an executable /bin/sh script into dir.
func writeScript(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	writeExternally(t, p, "#!/bin/sh\n"+body, "755")
	return p
}

// writeExternally writes content to path with mode through a helper
// process. Had the test process opened the file for writing, a fork by a
// parallel test could inherit that descriptor and make exec of the file
// fail with ETXTBSY.
func writeExternally(t *testing.T, path, content, mode string) {
	t.Helper()
	cmd := exec.Command("/bin/sh", "-c", `cat > "$1" && chmod "$2" "$1"`, "write-file", path, mode)
	cmd.Stdin = strings.NewReader(content)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "writing %s: %s", path, out)
}

// scriptRun is a ScriptRun for path as the test's own user, expel reason.
func scriptRun(id uint64, path string) *protocol.ScriptRun {
	return &protocol.ScriptRun{
		ID:       id,
		Node:     2,
		Owner:    protocol.ClientID{Node: 2, Conn: 9},
		Path:     path,
		Uid:      uint32(os.Geteuid()),
		Gid:      uint32(os.Getegid()),
		Group:    "web-tier",
		Provider: wire.Provider{Instance: 7, Node: 2},
		Pid:      4242,
		Reason:   protocol.ScriptExpel,
	}
}

// runSync runs sr and waits for its outcome.
func runSync(t *testing.T, r *Runner, sr *protocol.ScriptRun) protocol.ScriptResult {
	t.Helper()
	return waitResult(t, start(r, sr))
}

// start runs sr and returns the channel its outcome arrives on.
func start(r *Runner, sr *protocol.ScriptRun) <-chan protocol.ScriptResult {
	ch := make(chan protocol.ScriptResult, 2)
	r.Run(sr, func(res protocol.ScriptResult) { ch <- res })
	return ch
}

func waitResult(t *testing.T, ch <-chan protocol.ScriptResult) protocol.ScriptResult {
	t.Helper()
	select {
	case res := <-ch:
		return res
	case <-time.After(waitBudget):
		t.Fatalf("done should have been called within %v", waitBudget)
		return protocol.ScriptResult{}
	}
}

// readPid reads a pid the script wrote to path.
func readPid(t *testing.T, path string) int {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err, "the script should have written its pid file %s", path)
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	require.NoError(t, err, "pid file %s should hold a number", path)
	return pid
}

// processGone reports whether pid no longer runs: it does not exist, or it
// is a zombie waiting for a parent that does not reap (PID 1 in a container
// may not).
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
		"%s (pid %d) should have been killed", what, pid)
}

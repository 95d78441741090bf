package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/openhags/hags/failover"
	"github.com/openhags/hags/failover/engine"
	testharness "github.com/openhags/hags/internal/harness"
)

// waitBudget is how long a test waits for something that should happen
// before it fails; the machine is shared and slow at times.
const waitBudget = 60 * time.Second

// helperEnv makes the test binary act as a helper process (TestMain).
const helperEnv = "HAGS_AGENT_TEST_HELPER"

// testRoot is an OCF root holding testdata's agents under the provider
// hagstest and Debian's heartbeat agents (linked), set up by TestMain.
var testRoot string

func TestMain(m *testing.M) {
	if mode := os.Getenv(helperEnv); mode != "" {
		os.Exit(helperMain(mode))
	}
	dir, err := os.MkdirTemp("", "hags-agent-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	testRoot = filepath.Join(dir, "ocf")
	if err := testharness.OCFRoot(testRoot, "hagstest", "testdata/ocf/resource.d/hagstest"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// needResourceAgents makes sure Debian's resource-agents is installed
// (testharness.ResourceAgents), and skips the test if it cannot be.
func needResourceAgents(t *testing.T) {
	t.Helper()
	if err := testharness.ResourceAgents(); err != nil {
		t.Skipf("this test needs Debian's resource-agents package (apt-get install resource-agents): %v", err)
	}
}

// harness is a Runner under test with its callbacks on channels.
type harness struct {
	r        *Runner
	stateDir string
	actLog   string
	results  chan engine.ActionResult
	failures chan engine.Failure
	log      *memLog
}

var actionIDs atomic.Uint64

func nextID() uint64 { return actionIDs.Add(1) }

// newHarness returns a Runner on the test OCF root with a fresh state dir
// and action log; it is closed when the test ends.
func newHarness(t *testing.T, node string) *harness {
	t.Helper()
	return newHarnessIn(t, node, t.TempDir(), testRoot)
}

// newHarnessIn is newHarness with a given state dir and OCF root.
func newHarnessIn(t *testing.T, node, stateDir, root string) *harness {
	t.Helper()
	return newHarnessWith(t, node, stateDir, root, nil)
}

// newHarnessWith is newHarnessIn with Options changed by set (nil: none).
func newHarnessWith(t *testing.T, node, stateDir, root string, set func(*Options)) *harness {
	t.Helper()
	h := &harness{
		stateDir: stateDir,
		actLog:   filepath.Join(stateDir, "actions.log"),
		results:  make(chan engine.ActionResult, 100),
		failures: make(chan engine.Failure, 100),
		log:      &memLog{},
	}
	opts := Options{
		StateDir:  stateDir,
		OCFRoot:   root,
		Node:      node,
		Logger:    slog.New(h.log),
		ActionLog: h.actLog,
		Results:   func(res engine.ActionResult) { h.results <- res },
		Failures:  func(f engine.Failure) { h.failures <- f },
	}
	if set != nil {
		set(&opts)
	}
	r, err := New(opts)
	require.NoError(t, err, "New")
	h.r = r
	t.Cleanup(func() { require.NoError(t, r.Close(), "Close") })
	return h
}

// result waits for the result of action id.
func (h *harness) result(t *testing.T, id uint64) engine.ActionResult {
	t.Helper()
	deadline := time.After(waitBudget)
	for {
		select {
		case res := <-h.results:
			if res.ID == id {
				return res
			}
			t.Fatalf("a result for action %d came while waiting for %d: %+v", res.ID, id, res)
		case <-deadline:
			t.Fatalf("the result of action %d should have come within %v", id, waitBudget)
		}
	}
}

// do executes a and waits for its result.
func (h *harness) do(t *testing.T, a engine.Action) engine.ActionResult {
	t.Helper()
	if a.ID == 0 {
		a.ID = nextID()
	}
	h.r.Execute(a)
	return h.result(t, a.ID)
}

// failure waits for a monitoring failure.
func (h *harness) failure(t *testing.T) engine.Failure {
	t.Helper()
	select {
	case f := <-h.failures:
		return f
	case <-time.After(waitBudget):
		t.Fatalf("a failure should have been reported within %v", waitBudget)
		return engine.Failure{}
	}
}

// noFailure asserts that no failure has been reported so far.
func (h *harness) noFailure(t *testing.T, why string) {
	t.Helper()
	select {
	case f := <-h.failures:
		t.Fatalf("%s, but a failure was reported: %+v", why, f)
	default:
	}
}

func ocf(provider, typ string) failover.AgentSpec {
	return failover.AgentSpec{Class: failover.AgentOCF, Provider: provider, Type: typ}
}

var (
	dummy    = ocf("heartbeat", "Dummy")
	testSpec = ocf("hagstest", "Test")
	execSpec = failover.AgentSpec{Class: failover.AgentExec}
)

func start(name string, spec failover.AgentSpec, params map[string]string) engine.Action {
	return engine.Action{ID: nextID(), Op: engine.ActStart, Resource: name, Agent: spec, Params: params}
}

func stop(name string, spec failover.AgentSpec, params map[string]string) engine.Action {
	return engine.Action{ID: nextID(), Op: engine.ActStop, Resource: name, Agent: spec, Params: params}
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

// outputBytes counts the bytes of agent output lines logged, without their
// newlines.
func (h *memLog) outputBytes() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, r := range h.records {
		if !strings.HasSuffix(r.Message, " output") {
			continue
		}
		r.Attrs(func(a slog.Attr) bool {
			if a.Key == "line" {
				n += len(a.Value.String()) // newlines not counted: the log limit counts them, so this is a lower bound
			}
			return true
		})
	}
	return n
}

func (h *memLog) has(msg string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, r := range h.records {
		if strings.Contains(r.Message, msg) {
			return true
		}
	}
	return false
}

// processGone reports whether pid no longer runs: it does not exist, or it
// is a zombie waiting for a parent that does not reap.
func processGone(pid int) bool {
	if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
		return true
	}
	st, err := readStat(pid)
	return err != nil || st.state == 'Z' || st.state == 'X'
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

// readPid waits for path to hold a pid (written whole, by rename) and
// returns it.
func readPid(t *testing.T, path string) int {
	t.Helper()
	var b []byte
	require.Eventually(t, func() bool {
		var err error
		b, err = os.ReadFile(path)
		return err == nil && strings.HasSuffix(string(b), "\n")
	}, waitBudget, 5*time.Millisecond, "pid file %s should be written", path)
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	require.NoError(t, err, "pid file %s should hold a number", path)
	return pid
}

// writeFile writes a small control file (not an executable: no ETXTBSY
// concern).
func writeFile(t *testing.T, path, content string) {
	t.Helper()
	require.NoError(t, os.WriteFile(path, []byte(content), 0o644))
}

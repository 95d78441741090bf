package integration

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/openhags/hags/failover"
	"github.com/openhags/hags/failover/engine"
	"github.com/openhags/hags/failover/manager"
	"github.com/openhags/hags/gsapi"
)

// fakeRunner runs every action at once and successfully, and remembers
// what runs.
type fakeRunner struct {
	mu      sync.Mutex
	running map[string]bool
}

func (f *fakeRunner) Run(a engine.Action, done func(engine.ActionResult)) {
	f.mu.Lock()
	if f.running == nil {
		f.running = map[string]bool{}
	}
	f.running[a.Resource] = a.Op == engine.ActStart
	f.mu.Unlock()
	go done(engine.ActionResult{ID: a.ID, Resource: a.Resource, Op: a.Op, Outcome: engine.OutcomeOK})
}

func (f *fakeRunner) Probe(context.Context, []manager.ProbeSpec) ([]string, error) { return nil, nil }
func (f *fakeRunner) StopAll(context.Context, bool, func(string) time.Duration) {
	f.mu.Lock()
	f.running = nil
	f.mu.Unlock()
}
func (f *fakeRunner) Close() error { return nil }

func TestManagersInProcessAgree(t *testing.T) {
	m := startMulti(t, 3)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	mgrs := make([]*manager.Manager, 3)
	for i := range 3 {
		log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug})).With("mgr", i+1)
		mg, err := manager.New(manager.Config{Name: fmt.Sprintf("Node%c", 'A'+i), StateDir: t.TempDir(),
			GSOptions: []gsapi.Option{gsapi.WithSocket(m.sockets[i])}, Runner: &fakeRunner{}, Logger: log})
		require.NoError(t, err)
		mgrs[i] = mg
		wg.Add(1)
		go func() { defer wg.Done(); mg.Run(ctx) }()
	}
	t.Cleanup(func() { cancel(); wg.Wait() })
	for i, mg := range mgrs {
		require.Eventually(t, mg.ReadWrite, 20*time.Second, 20*time.Millisecond, "manager %d becomes read/write", i+1)
	}
	r, err := mgrs[0].Submit(ctx, engine.Request{Op: engine.OpCreateGroup, Group: "Application Group"})
	require.NoError(t, err)
	require.Equal(t, failover.CodeSuccess, r.Code, "create group: %s", r.Message)
	for i, mg := range mgrs {
		require.Eventually(t, func() bool {
			ok := false
			mg.View(func(e *engine.Engine) { _, ok = e.Group("Application Group") })
			return ok
		}, 10*time.Second, 10*time.Millisecond, "manager %d sees the group", i+1)
	}
}

package manager

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/openhags/hags/failover"
	"github.com/openhags/hags/failover/engine"
	"github.com/openhags/hags/gsapi"
)

// idleRunner runs nothing: the manager under test never gets a session.
type idleRunner struct{}

func (idleRunner) Run(engine.Action, func(engine.ActionResult))              {}
func (idleRunner) Probe(context.Context, []ProbeSpec) ([]string, error)      { return nil, nil }
func (idleRunner) StopAll(context.Context, bool, func(string) time.Duration) {}
func (idleRunner) Close() error                                              { return nil }

// TestRunEndsCleanlyWhenCancelled: ending Run's context is how hagsrmd
// stops on SIGTERM, and it must then return nil (hagsrmd exits 0) — also
// while it serves the management socket, whose server reports its own
// closing as an error.
func TestRunEndsCleanlyWhenCancelled(t *testing.T) {
	dir := t.TempDir()
	sock := filepath.Join(dir, "hagsrmd.sock")
	m, err := New(Config{Name: "NodeA", StateDir: filepath.Join(dir, "state"), Runner: idleRunner{}, Socket: sock,
		// No hagsd: the manager keeps trying to reach it, and serves meanwhile.
		GSOptions: []gsapi.Option{gsapi.WithSocket(filepath.Join(dir, "no-hagsd.sock"))},
		Logger:    slog.New(slog.NewTextHandler(io.Discard, nil))})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	require.Eventually(t, func() bool {
		c, err := failover.Dial(ctx, failover.WithSocket(sock))
		if err != nil {
			return false
		}
		c.Close()
		return true
	}, 10*time.Second, 10*time.Millisecond, "the manager serves its management socket")
	cancel()
	select {
	case err := <-done:
		require.NoError(t, err, "Run returns nil once its context ends: a stop on request is no failure")
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
}

package manager

import (
	"context"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/openhags/hags/failover/engine"
	"github.com/openhags/hags/gsapi"
)

// idleRunner runs nothing; the manager under test never gets to act.
type idleRunner struct{}

func (idleRunner) Run(engine.Action, func(engine.ActionResult))              {}
func (idleRunner) Probe(context.Context, []ProbeSpec) ([]string, error)      { return nil, nil }
func (idleRunner) StopAll(context.Context, bool, func(string) time.Duration) {}
func (idleRunner) Close() error                                              { return nil }

// TestRunReturnsNilWhenStopped: a manager serving its management socket
// that is told to stop returns nil from Run (hagsrmd exits 0 on SIGTERM),
// although hagsd was never reachable.
func TestRunReturnsNilWhenStopped(t *testing.T) {
	dir := t.TempDir()
	sock := filepath.Join(dir, "rm.sock")
	m, err := New(Config{Name: "NodeA", StateDir: filepath.Join(dir, "state"), Runner: idleRunner{},
		Socket: sock, GSOptions: []gsapi.Option{gsapi.WithSocket(filepath.Join(dir, "no-hagsd.sock"))},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	require.Eventually(t, func() bool {
		c, err := net.Dial("unix", sock)
		if err == nil {
			c.Close()
		}
		return err == nil
	}, 10*time.Second, 10*time.Millisecond, "the management socket is served")
	cancel()
	select {
	case err := <-done:
		require.NoError(t, err, "Run returns nil when its context ends")
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
}

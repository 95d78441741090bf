package integration

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/openhags/hags/internal/harness"
)

// bin holds hagsd, hagsctl and gsclient, built once for the package.
var bin string

const wait = 15 * time.Second

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "hags-integration-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	err = harness.Build(ctx, dir, "./cmd/hagsd", "./cmd/hagsctl", "./examples/go/gsclient", "./examples/go/demo",
		"./internal/harness/peerrelay")
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	_ = os.Chmod(dir, 0o755) // the unprivileged-client test runs gsclient as nobody
	bin = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// socketDir returns a directory that every user can enter, for the daemon's
// socket (t.TempDir is private to root).
func socketDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "hags-it-")
	require.NoError(t, err)
	require.NoError(t, os.Chmod(dir, 0o755))
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

type cluster struct {
	t       *testing.T
	daemon  *harness.Daemon
	socket  string
	clients map[string]*harness.Client
}

// startCluster starts one hagsd on a fresh socket and stops it at cleanup,
// checking that it exits cleanly. args are further hagsd flags.
func startCluster(t *testing.T, args ...string) *cluster {
	t.Helper()
	socket := filepath.Join(socketDir(t), "hagsd.sock")
	d, err := harness.StartDaemon(filepath.Join(bin, "hagsd"), socket, harness.TestLog(t, "hagsd"), append([]string{"--domain", "it"}, args...)...)
	require.NoError(t, err)
	c := &cluster{t: t, daemon: d, socket: socket, clients: map[string]*harness.Client{}}
	t.Cleanup(func() {
		for _, cl := range c.clients {
			cl.Kill()
		}
		require.NoError(t, d.Stop(wait), "hagsd exits 0 on SIGTERM")
	})
	return c
}

func (c *cluster) client(name string, args ...string) *harness.Client {
	c.t.Helper()
	cl, err := harness.StartClient(filepath.Join(bin, "gsclient"), name, c.socket, harness.TestLog(c.t, name), args...)
	require.NoError(c.t, err)
	c.clients[name] = cl
	return cl
}

// expect waits for pattern in cl's output after mark and returns the line.
func expect(t *testing.T, cl *harness.Client, pattern string, mark int) string {
	t.Helper()
	line, _, err := cl.Expect(pattern, mark, wait)
	require.NoError(t, err)
	return line
}

// act runs do and waits until each client printed a line matching pattern.
func act(t *testing.T, do func(), pattern string, cls ...*harness.Client) []string {
	t.Helper()
	marks := make([]int, len(cls))
	for i, cl := range cls {
		marks[i] = cl.Mark()
	}
	do()
	lines := make([]string, len(cls))
	for i, cl := range cls {
		lines[i] = expect(t, cl, pattern, marks[i])
	}
	return lines
}

var tokRe = regexp.MustCompile(` tok=\d+`)

// approved returns the client's APPROVED lines without their tokens, which
// are the only part that differs between providers.
func approved(cl *harness.Client) []string {
	var out []string
	for _, l := range cl.Out.All() {
		if strings.HasPrefix(l, "APPROVED ") {
			out = append(out, tokRe.ReplaceAllString(l, ""))
		}
	}
	return out
}

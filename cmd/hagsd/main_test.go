package main

import (
	"bufio"
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func goTool(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	p := "/usr/local/go/bin/go"
	_, err := os.Stat(p)
	require.NoError(t, err, "the go tool is on PATH or at %s", p)
	return p
}

// TestHagsdStartsAndStopsOnSIGTERM builds the binary, starts it on a fresh
// socket, waits for its ready line, and checks that SIGTERM makes it exit 0
// and remove its socket.
func TestHagsdStartsAndStopsOnSIGTERM(t *testing.T) {
	dir, err := os.MkdirTemp("", "hagsd-cmd")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	bin := filepath.Join(dir, "hagsd")
	out, err := exec.Command(goTool(t), "build", "-o", bin, ".").CombinedOutput()
	require.NoError(t, err, "hagsd builds: %s", out)

	socket := filepath.Join(dir, "run", "hagsd.sock")
	cmd := exec.Command(bin, "--socket", socket, "--domain", "cmdtest", "--log-format", "json")
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start(), "hagsd starts")
	exited := make(chan error, 1)
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		exited <- cmd.Wait()
	}()
	t.Cleanup(func() { cmd.Process.Kill() })

	var log bytes.Buffer
	deadline := time.After(20 * time.Second)
	for ready := false; !ready; {
		select {
		case l, ok := <-lines:
			require.True(t, ok, "hagsd exited before it was ready:\n%s", log.String())
			log.WriteString(l + "\n")
			ready = strings.Contains(l, `"msg":"ready"`)
			if ready {
				assert.Contains(t, l, socket, "the ready line names the socket")
			}
		case <-deadline:
			t.Fatalf("hagsd printed no ready line:\n%s", log.String())
		}
	}
	fi, err := os.Stat(socket)
	require.NoError(t, err, "the socket exists once hagsd is ready")
	assert.Equal(t, os.ModeSocket, fi.Mode().Type(), "the path is a socket")

	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	for range lines {
	}
	select {
	case err := <-exited:
		require.NoError(t, err, "hagsd exits 0 on SIGTERM")
	case <-time.After(20 * time.Second):
		t.Fatal("hagsd did not exit after SIGTERM")
	}
	_, err = os.Stat(socket)
	assert.True(t, errors.Is(err, os.ErrNotExist), "hagsd removes its socket on exit, got %v", err)
}

func TestFlags(t *testing.T) {
	t.Setenv("HA_DOMAIN_NAME", "fromenv")
	var errb bytes.Buffer
	o, err := parse(nil, &errb)
	require.NoError(t, err)
	assert.Equal(t, "fromenv", o.domain, "the domain defaults to $HA_DOMAIN_NAME")
	assert.Equal(t, 1, o.node, "the node defaults to 1")

	_, err = parse([]string{"--node", "0"}, &errb)
	assert.Error(t, err, "node 0 is refused")
	_, err = parse([]string{"extra"}, &errb)
	assert.Error(t, err, "positional arguments are refused")

	_, err = newLogger(options{level: "loud", format: "text"}, &errb)
	assert.Error(t, err, "an unknown log level is refused")
	_, err = newLogger(options{level: "info", format: "xml"}, &errb)
	assert.Error(t, err, "an unknown log format is refused")
	assert.Equal(t, 2, run([]string{"--log-format", "xml"}, &errb), "bad flags exit 2")
}

// TestGroupAccessFlags: the mode and the rule file are read at start; a
// bad mode or a bad rule file stops hagsd before it serves anything, and
// the message names the rule file's line.
func TestGroupAccessFlags(t *testing.T) {
	var errb bytes.Buffer
	o, err := parse(nil, &errb)
	require.NoError(t, err)
	assert.Equal(t, "owner, no rules", o.access.Describe(), "the default is the owner mode without rules")

	o, err = parse([]string{"--group-access", "open"}, &errb)
	require.NoError(t, err)
	assert.True(t, o.access.Grants("g", 1234, 1234, nil), "open mode grants every group")

	dir := t.TempDir()
	good := filepath.Join(dir, "good")
	require.NoError(t, os.WriteFile(good, []byte("# rules\napp.* user:4321\n"), 0o644))
	o, err = parse([]string{"--group-rules", good}, &errb)
	require.NoError(t, err)
	assert.True(t, o.access.Grants("app.x", 4321, 1, nil), "the file's rule grants")
	assert.False(t, o.access.Grants("other", 4321, 1, nil), "and nothing else")

	_, err = parse([]string{"--group-access", "closed"}, &errb)
	assert.ErrorContains(t, err, "--group-access", "an unknown mode is refused")
	_, err = parse([]string{"--group-access", "open", "--group-rules", good}, &errb)
	assert.ErrorContains(t, err, "would grant nothing", "rules with the open mode are refused")

	bad := filepath.Join(dir, "bad")
	require.NoError(t, os.WriteFile(bad, []byte("# rules\napp.* user:4321\napp.x someone\n"), 0o644))
	errb.Reset()
	assert.Equal(t, 2, run([]string{"--group-rules", bad}, &errb), "a bad rule file stops hagsd")
	assert.Contains(t, errb.String(), bad+":3:", "the message names the file and line")
	errb.Reset()
	assert.Equal(t, 2, run([]string{"--group-rules", filepath.Join(dir, "missing")}, &errb), "a missing rule file stops hagsd")
}

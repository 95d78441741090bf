package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"net"
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

// buildHagsd builds the binary in a new directory (short: sockets go
// there too) and returns both.
func buildHagsd(t *testing.T) (bin, dir string) {
	t.Helper()
	dir, err := os.MkdirTemp("", "hagsd-cmd")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	bin = filepath.Join(dir, "hagsd")
	out, err := exec.Command(goTool(t), "build", "-o", bin, ".").CombinedOutput()
	require.NoError(t, err, "hagsd builds: %s", out)
	return bin, dir
}

// TestHagsdStartsAndStopsOnSIGTERM builds the binary, starts it on a fresh
// socket, waits for its ready line, and checks that SIGTERM makes it exit 0
// and remove its socket.
func TestHagsdStartsAndStopsOnSIGTERM(t *testing.T) {
	bin, dir := buildHagsd(t)
	socket := filepath.Join(dir, "run", "hagsd.sock")
	stop := startHagsd(t, bin, socket, "--socket", socket, "--domain", "cmdtest", "--log-format", "json")
	fi, err := os.Stat(socket)
	require.NoError(t, err, "the socket exists once hagsd is ready")
	assert.Equal(t, os.ModeSocket, fi.Mode().Type(), "the path is a socket")
	stop()
	_, err = os.Stat(socket)
	assert.True(t, errors.Is(err, os.ErrNotExist), "hagsd removes its socket on exit, got %v", err)
}

// TestInsecureDomainStartsOnlyWhenSaid: hagsd with two voters and no keys
// exits 2 naming --pki-dir and --insecure; with --insecure it starts and
// logs a warning.
func TestInsecureDomainStartsOnlyWhenSaid(t *testing.T) {
	bin, dir := buildHagsd(t)
	socket := filepath.Join(dir, "hagsd.sock")
	args := []string{"--socket", socket, "--domain", "insecuretest", "--node", "1", "--log-format", "json",
		"--voters", "1=127.0.0.1:" + freePort(t) + ",2=127.0.0.1:" + freePort(t), "--data-dir", filepath.Join(dir, "data")}

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second) // a hagsd that starts would run until killed
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, args...).CombinedOutput()
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit, "hagsd refuses to start: %s", out)
	assert.Equal(t, 2, exit.ExitCode(), "a refused configuration exits 2")
	assert.Contains(t, string(out), "--pki-dir", "the error names the flag that secures the domain")
	assert.Contains(t, string(out), "--insecure", "the error names the flag that accepts the risk")
	_, err = os.Stat(socket)
	assert.True(t, errors.Is(err, os.ErrNotExist), "nothing was started")

	stop := startHagsd(t, bin, socket, append(args, "--insecure")...)
	log := stop()
	assert.Regexp(t, `"level":"WARN","msg":"INSECURE: `, log, "hagsd --insecure warns when it starts")
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return port
}

// startHagsd starts bin with args, waits for its ready line (which must
// name socket), and returns a function that sends SIGTERM, checks that
// hagsd exits 0, and returns everything it logged.
func startHagsd(t *testing.T, bin, socket string, args ...string) (stop func() string) {
	t.Helper()
	cmd := exec.Command(bin, args...)
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
	return func() string {
		t.Helper()
		require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
		for l := range lines {
			log.WriteString(l + "\n")
		}
		select {
		case err := <-exited:
			require.NoError(t, err, "hagsd exits 0 on SIGTERM:\n%s", log.String())
		case <-time.After(20 * time.Second):
			t.Fatal("hagsd did not exit after SIGTERM")
		}
		return log.String()
	}
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

package scripts

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhags/hags/daemon/protocol"
	"github.com/openhags/hags/internal/harness"
	"github.com/openhags/hags/internal/wire"
)

// shellSample copies examples/scripts/deactivate.sh into a directory that
// hagsd accepts scripts from (whoever owns the source tree) and returns the
// copy's path.
func shellSample(t *testing.T) string {
	t.Helper()
	src, err := os.ReadFile("../../examples/scripts/deactivate.sh")
	require.NoError(t, err)
	p := filepath.Join(harness.ScriptDir(t), "deactivate.sh")
	writeExternally(t, p, string(src), "755")
	require.NoError(t, CheckScript(p, uint32(os.Geteuid()), uint32(os.Getegid())),
		"the shell sample is an executable file")
	return p
}

// cSample compiles examples/scripts/deactivate.c with the strict flags the
// sample promises to build with and returns the program's path.
func cSample(t *testing.T) string {
	t.Helper()
	src, err := filepath.Abs("../../examples/scripts/deactivate.c")
	require.NoError(t, err)
	bin := filepath.Join(harness.ScriptDir(t), "deactivate")
	out, err := exec.Command("cc", "-Wall", "-Wextra", "-Werror", "-std=c99", "-o", bin, src).CombinedOutput()
	require.NoError(t, err, "the C sample compiles cleanly with -Wall -Wextra -Werror -std=c99:\n%s", out)
	return bin
}

func samples(t *testing.T) map[string]string {
	return map[string]string{"sh": shellSample(t), "c": cSample(t)}
}

func TestSamplesRunThroughRunner(t *testing.T) {
	t.Parallel()
	for name, path := range samples(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			r, h := newTestRunner(t)
			sr := scriptRun(101, path)
			flag := "fence"
			sr.Flag = &flag
			sr.TimeLimit = 30
			res := runSync(t, r, sr)
			assert.Equal(t, wire.DeactivateOK, res.Result, "the %s sample exits 0 when there is nothing to stop", name)
			lines := h.outputLines("stdout")
			require.NotEmpty(t, lines, "the %s sample's output reaches the daemon log", name)
			assert.Equal(t, "deactivating provider 7/2 (pid 4242) of group 'web-tier': reason=expel flag='fence'", lines[0],
				"the %s sample logs the arguments it was given", name)

			r2, h2 := newTestRunner(t)
			sr = scriptRun(102, path)
			sr.Reason = protocol.ScriptFailure // and no flag
			require.Equal(t, wire.DeactivateOK, runSync(t, r2, sr).Result, "the %s sample exits 0", name)
			lines = h2.outputLines("stdout")
			require.NotEmpty(t, lines, "the %s sample's output reaches the daemon log", name)
			assert.Equal(t, "deactivating provider 7/2 (pid 4242) of group 'web-tier': reason=failure, no flag", lines[0],
				"the %s sample tells a missing flag apart", name)
		})
	}
}

func TestSamplesStopTheService(t *testing.T) {
	t.Parallel()
	for name, path := range samples(t) {
		for _, c := range []struct {
			flag string // "" = no flag
			want syscall.Signal
		}{{"", syscall.SIGTERM}, {"force", syscall.SIGKILL}} {
			t.Run(name+"/flag="+c.flag, func(t *testing.T) {
				t.Parallel()
				svc := exec.Command("sleep", "1000")
				require.NoError(t, svc.Start(), "start the stand-in service")
				t.Cleanup(func() { _ = svc.Process.Kill() })
				exited := make(chan error, 1)
				go func() { exited <- svc.Wait() }() // reap it, so the sample sees it gone

				pidfile := filepath.Join(t.TempDir(), "exampled.pid")
				require.NoError(t, os.WriteFile(pidfile, []byte(strconv.Itoa(svc.Process.Pid)+"\n"), 0o644))
				args := []string{"web-tier", "7", "2", "4242", "expel"}
				if c.flag != "" {
					args = append(args, c.flag)
				}
				cmd := exec.Command(path, args...)
				cmd.Env = []string{"PATH=" + ScriptPath, "EXAMPLED_PIDFILE=" + pidfile}
				out, err := cmd.CombinedOutput()
				require.NoError(t, err, "the %s sample exits 0 after stopping the service:\n%s", name, out)

				var ee *exec.ExitError
				require.ErrorAs(t, waitExit(t, exited), &ee, "the service was stopped by a signal")
				ws, ok := ee.Sys().(syscall.WaitStatus)
				require.True(t, ok && ws.Signaled(), "the service was stopped by a signal")
				assert.Equal(t, c.want, ws.Signal(), "flag %q stops the service with %v", c.flag, c.want)
				_, err = os.Stat(pidfile)
				assert.True(t, errors.Is(err, os.ErrNotExist), "the sample removes the pid file of the stopped service")
			})
		}
	}
}

func TestSamplesRejectBadUsage(t *testing.T) {
	t.Parallel()
	for name, path := range samples(t) {
		err := exec.Command(path, "only", "three", "args").Run()
		var ee *exec.ExitError
		require.ErrorAs(t, err, &ee, "the %s sample fails when called with too few arguments", name)
		assert.Equal(t, 2, ee.ExitCode(), "the %s sample exits 2 on a usage error", name)
	}
}

// waitExit waits for the stand-in service's Wait result.
func waitExit(t *testing.T, ch <-chan error) error {
	t.Helper()
	select {
	case err := <-ch:
		return err
	case <-time.After(waitBudget):
		t.Fatalf("the stand-in service should have exited within %v", waitBudget)
		return nil
	}
}

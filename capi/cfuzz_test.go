package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/openhags/hags/internal/harness"
)

var (
	cfuzzOnce sync.Once
	cfuzzErr  error
)

// cfuzzBinary compiles capi/testdata/cfuzz.c once.
func cfuzzBinary(tb testing.TB) string {
	tb.Helper()
	cfuzzOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		out, err := compile(ctx, "gcc", []string{"-std=gnu99", "-pthread"}, "capi/testdata/cfuzz.c", "cfuzz")
		if err != nil {
			cfuzzErr = fmt.Errorf("%w\n%s", err, out)
		}
	})
	require.NoError(tb, cfuzzErr, "cfuzz.c compiles")
	return filepath.Join(dir, "cfuzz")
}

// runCFuzz runs the C harness as a child process against socket and fails
// on anything but PASS: a wrong code, a crash (a signal), a hang.
func runCFuzz(tb testing.TB, socket string, seed uint64, ops int, threads bool) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	args := []string{strconv.FormatUint(seed, 10), strconv.Itoa(ops)}
	if threads {
		args = append(args, "threads")
	}
	cmd := exec.CommandContext(ctx, cfuzzBinary(tb), args...)
	cmd.Env = append(os.Environ(), "HA_GS_SOCKET="+socket, "HA_DOMAIN_NAME=")
	cmd.WaitDelay = time.Second
	out, err := cmd.CombinedOutput()
	require.NoError(tb, err, "cfuzz %s passes (no crash, no hang, only defined codes); reproduce with that seed; it said:\n%s",
		args, out)
	require.Contains(tb, string(out), "PASS", "cfuzz %v reports PASS", args)
	tb.Logf("cfuzz %v: %s", args, strings.Fields(string(out))[0])
}

// TestCFuzz calls every function of the library with random, NULL and
// stale arguments — from one thread (with init and quit in between, and
// forked children), and from four threads at once on one session — for a
// few seeds against a real daemon.
func TestCFuzz(t *testing.T) {
	d := daemon(t)
	for seed := uint64(1); seed <= 6; seed++ {
		runCFuzz(t, d.Socket, seed, 400, false)
	}
	for seed := uint64(1); seed <= 3; seed++ {
		runCFuzz(t, d.Socket, seed, 800, true)
	}
}

// FuzzCAPI runs the C harness with fuzzed seeds, in both modes (make
// fuzz: each input is a child process, so this is time-boxed random
// testing of the library rather than coverage-guided fuzzing).
func FuzzCAPI(f *testing.F) {
	f.Add(uint64(7), false)
	f.Add(uint64(8), true)
	sdir, err := os.MkdirTemp("", "hags-capi-fz-")
	require.NoError(f, err)
	f.Cleanup(func() { os.RemoveAll(sdir) })
	d, err := harness.StartDaemon(filepath.Join(dir, "hagsd"), filepath.Join(sdir, "hagsd.sock"), nil)
	require.NoError(f, err, "hagsd starts")
	f.Cleanup(func() { require.NoError(f, d.Stop(wait), "hagsd exits 0 on SIGTERM") })
	f.Fuzz(func(t *testing.T, seed uint64, threads bool) {
		runCFuzz(t, d.Socket, seed, 200, threads)
	})
}

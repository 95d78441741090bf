package agent

import (
	"io"
	"log/slog"
	"testing"

	"github.com/openhags/hags/failover/engine"
)

// benchRunner returns a Runner that logs nowhere, and its results.
func benchRunner(b *testing.B) (*Runner, chan engine.ActionResult) {
	results := make(chan engine.ActionResult, 16)
	r, err := New(Options{StateDir: b.TempDir(), OCFRoot: testRoot, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Results: func(res engine.ActionResult) { results <- res }})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = r.Close() })
	return r, results
}

func benchDo(b *testing.B, r *Runner, results chan engine.ActionResult, a engine.Action) {
	r.Execute(a)
	if res := <-results; res.Outcome != engine.OutcomeOK {
		b.Fatalf("%s: %s", opName(a.Op), res.Detail)
	}
}

// BenchmarkExecStartStop: start an exec resource and stop it (SIGTERM),
// one after the other: the agent's share of moving a one-resource group.
func BenchmarkExecStartStop(b *testing.B) {
	r, results := benchRunner(b)
	params := map[string]string{ExecCommand: "exec sleep 1000"}
	for b.Loop() {
		benchDo(b, r, results, start("r", execSpec, params))
		benchDo(b, r, results, stop("r", execSpec, params))
	}
}

// BenchmarkOCFStartStop: start and stop the test agent (a shell script
// like Dummy, without ocf-shellfuncs).
func BenchmarkOCFStartStop(b *testing.B) {
	r, results := benchRunner(b)
	for b.Loop() {
		benchDo(b, r, results, start("r", testSpec, nil))
		benchDo(b, r, results, stop("r", testSpec, nil))
	}
}

// BenchmarkDummyStartStop: start and stop Debian's Dummy.
func BenchmarkDummyStartStop(b *testing.B) {
	r, results := benchRunner(b)
	for b.Loop() {
		benchDo(b, r, results, start("r", dummy, nil))
		benchDo(b, r, results, stop("r", dummy, nil))
	}
}

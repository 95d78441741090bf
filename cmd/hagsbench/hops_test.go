package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"runtime/trace"
	"slices"
	"strings"
	"testing"
	"time"

	xtrace "golang.org/x/exp/trace"
)

// The hop count: how many times the daemon's goroutines are woken per
// request, by job, read from an execution trace of the daemon (in this
// test process) while real client processes run a scenario against it.
//
//	go test ./cmd/hagsbench -run '^$' -bench Hops -benchtime 1x -v
//
// A goroutine woken (waiting → runnable) is attributed to the job its
// blocking stack names (hopRoles); the coordinator's own goroutines (the
// pipes from the client processes) are left out. "thread wake-ups" counts
// the processors (Ps) that went from idle to running: each is a thread
// taken out of its sleep.

// hopRoles names the daemon's goroutines by a function on their blocking
// stack, innermost first: the first that matches names the job.
var hopRoles = []struct{ fn, role string }{
	{"ipc.(*Outbox).Drain", "session writer"},
	{"daemon.(*Node).readLoop", "session reader"},
	{"daemon.(*Node).request", "session reader"},
	{"daemon.(*Node).run", "run loop"},
	{"agreement.(*forwarder).", "forwarder"},
	{"agreement.(*Agreement).serveForward", "forward server"},
	{"agreement.(*Agreement).lead", "deadline ticker"},
	{"raft.(*Raft).ApplyLog", "sender blocked in raft.Apply"},
	{"raft.(*Raft).runFSM", "raft FSM"},
	{"raft.(*Raft).leaderLoop", "raft leader loop"},
	{"raft.(*Raft).runFollower", "raft follower loop"},
	{"raft.(*Raft).replicate", "raft replication"},
	{"raft.(*Raft).heartbeat", "raft replication"},
	{"raft.(*Raft).run", "raft other"},
	{"raft.(*Raft).", "raft other"},
	{"cmd/hagsbench.", "(coordinator)"},
	{"main.", "(coordinator)"},
}

// hopCount is what one traced scenario woke.
type hopCount struct {
	byRole  map[string]int
	threads int // processors woken from idle
}

// countHops reads an execution trace and counts the goroutine wake-ups per
// job, and the processors started.
func countHops(r io.Reader) (hopCount, error) {
	hc := hopCount{byRole: map[string]int{}}
	tr, err := xtrace.NewReader(r)
	if err != nil {
		return hc, err
	}
	role := map[xtrace.GoID]string{} // by the stack it last blocked with
	for {
		ev, err := tr.ReadEvent()
		if errors.Is(err, io.EOF) {
			return hc, nil
		}
		if err != nil {
			return hc, err
		}
		if ev.Kind() != xtrace.EventStateTransition {
			continue
		}
		st := ev.StateTransition()
		switch st.Resource.Kind {
		case xtrace.ResourceProc:
			if from, to := st.Proc(); from == xtrace.ProcIdle && to == xtrace.ProcRunning {
				hc.threads++
			}
		case xtrace.ResourceGoroutine:
			id := st.Resource.Goroutine()
			from, to := st.Goroutine()
			switch {
			case from == xtrace.GoRunning && to == xtrace.GoWaiting:
				role[id] = roleOf(st.Stack)
			case from == xtrace.GoWaiting && to == xtrace.GoRunnable:
				hc.byRole[cmpOr(role[id], "other")]++
			}
		}
	}
}

func cmpOr(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// roleOf names the job of a goroutine blocked with stack s.
func roleOf(s xtrace.Stack) string {
	var fns []string
	for f := range s.Frames() {
		fns = append(fns, f.Func)
	}
	for _, fn := range fns {
		for _, r := range hopRoles {
			if strings.Contains(fn, r.fn) {
				return r.role
			}
		}
	}
	if len(fns) > 0 {
		return "other: " + fns[len(fns)-1]
	}
	return ""
}

// traceScenario runs f under an execution trace and counts what it woke.
func traceScenario(b *testing.B, f func() error) hopCount {
	var buf bytes.Buffer
	if err := trace.Start(&buf); err != nil {
		b.Fatal(err)
	}
	err := f()
	trace.Stop()
	if err != nil {
		b.Fatal(err)
	}
	hc, err := countHops(&buf)
	if err != nil {
		b.Fatal(err)
	}
	return hc
}

// report logs the wake-ups per request by job and reports the daemon's
// total.
func (hc hopCount) report(b *testing.B, what string, requests int) {
	var roles []string
	daemon := 0
	for r, n := range hc.byRole {
		roles = append(roles, r)
		if !strings.HasPrefix(r, "(") {
			daemon += n
		}
	}
	slices.Sort(roles)
	var sb strings.Builder
	fmt.Fprintf(&sb, "%s: %d requests; goroutine wake-ups per request by job:\n", what, requests)
	for _, r := range roles {
		fmt.Fprintf(&sb, "  %-40s %6.2f\n", r, float64(hc.byRole[r])/float64(requests))
	}
	fmt.Fprintf(&sb, "  %-40s %6.2f\n  %-40s %6.2f\n", "daemon total", float64(daemon)/float64(requests),
		"thread wake-ups (Ps started, whole process)", float64(hc.threads)/float64(requests))
	b.Log(sb.String())
	b.ReportMetric(float64(daemon)/float64(requests), "wakeups/req")
}

// BenchmarkHops traces the daemon through scenario (a) with one provider
// (a join and a goodbye per sample, each a request) and scenario (d) with
// one group (one provider message per protocol, 8 notifications each).
func BenchmarkHops(b *testing.B) {
	sys := testSystem{socket: startDaemon(b)}
	r := &runner{ctx: b.Context(), cfg: &config{}, h: newHub(), timeout: 20 * time.Second, logf: b.Logf}
	for b.Loop() {
		const samples = 200
		hc := traceScenario(b, func() error {
			_, _, err := r.joinSeen(sys, 0, samples)
			return err
		})
		hc.report(b, "(a) join → own approval, then goodbye", 2*samples)
		var done int64
		hc = traceScenario(b, func() error {
			rate, err := r.throughput(sys, 1, 2*time.Second)
			done = int64(rate * 2.4) // the loop of 2 s and its warm-up of a fifth of that

			return err
		})
		hc.report(b, "(d) one group of 8, provider messages", int(done))
	}
}

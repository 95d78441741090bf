package integration

import (
	"bufio"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/openhags/hags/internal/harness"
	"github.com/openhags/hags/internal/history"
	"github.com/openhags/hags/internal/wire"
)

// Real-process fault runs: gsclient providers against real hagsd daemons,
// with processes and daemons killed mid-phase, links cut and daemons
// restarted; what every provider printed is parsed back into histories and
// judged by internal/history.

// faultProc is one gsclient provider process of a fault run. It provides
// in one group with token 1.
type faultProc struct {
	name string
	cl   *harness.Client
	node int // index of its node
	inst int32
	fate history.Fate
}

func (p *faultProc) id() wire.Provider {
	return wire.Provider{Instance: p.inst, Node: int32(p.node + 1)}
}

// records parses what p printed.
func (p *faultProc) records(t *testing.T, group string) []history.Record {
	t.Helper()
	rs, err := history.ParseHistory(p.cl.Out.All(), group, 1)
	require.NoError(t, err, "%s prints well-formed APPROVED lines", p.name)
	return rs
}

// member reports whether p is alive and a provider by its own account.
func (p *faultProc) member(t *testing.T, group string) bool {
	if p.fate != history.Running {
		return false
	}
	rs := p.records(t, group)
	return len(rs) > 0 && !rs[len(rs)-1].Removes(p.id())
}

// faultRun is one run: its daemons' sockets, its group, its providers and
// the deactivate scripts' log.
type faultRun struct {
	t       *testing.T
	rng     *rand.Rand
	seed    int64
	group   string
	join    string // join options after "join GROUP INST"
	sockets []string
	dir     string
	pids    map[int]int // daemon pid → node index, for the scripts' log
	procs   []*faultProc
	inst    int32
	events  []string
}

// newFaultRun prepares a run against the daemons serving sockets; pids
// maps each daemon's pid to its node index (add restarted ones with
// daemonStarted).
func newFaultRun(t *testing.T, seed int64, group, join string, sockets []string) *faultRun {
	r := &faultRun{t: t, rng: rand.New(rand.NewSource(seed)), seed: seed, group: group, join: join,
		sockets: sockets, dir: harness.ScriptDir(t), pids: map[int]int{}}
	script := fmt.Sprintf("#!/bin/sh\nshift # --\necho \"$1 $2 $3 $5 $PPID\" >> %s\nexit 0\n", filepath.Join(r.dir, "scripts.log"))
	require.NoError(t, os.WriteFile(filepath.Join(r.dir, "deactivate.sh"), []byte(script), 0o755))
	t.Cleanup(func() {
		for _, p := range r.procs {
			p.cl.Kill()
		}
	})
	return r
}

func (r *faultRun) logf(format string, args ...any) {
	r.events = append(r.events, fmt.Sprintf(format, args...))
}

// report says how to reproduce the run and what happened.
func (r *faultRun) report() string {
	return fmt.Sprintf("seed %d (HAGS_FAULT_SEED=%d reruns it)\n  %s", r.seed, r.seed, strings.Join(r.events, "\n  "))
}

// daemonStarted records that the daemon of node i has pid.
func (r *faultRun) daemonStarted(i int, d *harness.Daemon) { r.pids[d.Pid()] = i }

// spawn starts a provider on node i, sets its vote policy and waits until
// its join is approved.
func (r *faultRun) spawn(i int, autovote string, args ...string) *faultProc {
	t := r.t
	t.Helper()
	r.inst++
	name := fmt.Sprintf("p%d@%d", r.inst, i+1)
	args = append([]string{"--deactivate-script", filepath.Join(r.dir, "deactivate.sh")}, args...)
	cl, err := harness.StartClient(filepath.Join(bin, "gsclient"), name, r.sockets[i], harness.TestLog(t, name), args...)
	require.NoError(t, err, "provider %s starts; %s", name, r.report())
	p := &faultProc{name: name, cl: cl, node: i, inst: r.inst}
	r.procs = append(r.procs, p)
	require.NoError(t, cl.Send("autovote %s", autovote))
	require.NoError(t, cl.Send("join %s %d %s", r.group, r.inst, r.join))
	joinRe := fmt.Sprintf(`^APPROVED .*proto=JOIN .*changing=([^ ]*,)?%d@%d[, ]`, r.inst, i+1)
	_, _, err = cl.Expect(joinRe, 0, wait)
	require.NoError(t, err, "%s's join is approved; %s", name, r.report())
	// Every member hears of it before anything else is proposed: a
	// provider still waiting for this approval would refuse a proposal
	// with COLLIDE.
	r.await(joinRe, map[*faultProc]int{})
	r.logf("%s joined", name)
	return p
}

// members returns the running providers that are members by their own
// account.
func (r *faultRun) members() []*faultProc {
	var out []*faultProc
	for _, p := range r.procs {
		if p.member(r.t, r.group) {
			out = append(out, p)
		}
	}
	return out
}

// pick returns a random member other than those in but.
func (r *faultRun) pick(but ...*faultProc) *faultProc {
	var ps []*faultProc
	for _, p := range r.members() {
		skip := false
		for _, b := range but {
			skip = skip || b == p
		}
		if !skip {
			ps = append(ps, p)
		}
	}
	require.NotEmpty(r.t, ps, "a member is left to pick; %s", r.report())
	return ps[r.rng.Intn(len(ps))]
}

// kill SIGKILLs provider p.
func (r *faultRun) kill(p *faultProc) {
	p.cl.Kill()
	p.fate = history.Killed
	r.logf("%s killed", p.name)
}

// nodeLost marks every running provider on node i as lost with its node
// and waits until each has noticed.
func (r *faultRun) nodeLost(i int) {
	for _, p := range r.procs {
		if p.node == i && p.fate == history.Running {
			p.fate = history.NodeLost
			_, _, err := p.cl.Expect(`^lost HA_GS_NOT_OK`, 0, wait)
			require.NoError(r.t, err, "%s loses its session with its node; %s", p.name, r.report())
		}
	}
}

// await waits until every running member has printed a line matching
// pattern after its mark.
func (r *faultRun) await(pattern string, marks map[*faultProc]int) {
	r.t.Helper()
	for _, p := range r.members() {
		_, _, err := p.cl.Expect(pattern, marks[p], wait)
		require.NoError(r.t, err, "%s sees %s; %s", p.name, pattern, r.report())
	}
}

// marks returns every provider's current line count.
func (r *faultRun) marks() map[*faultProc]int {
	m := map[*faultProc]int{}
	for _, p := range r.procs {
		m[p] = p.cl.Mark()
	}
	return m
}

// propose has p send a state change of value v with extra options, and
// returns the marks from just before.
func (r *faultRun) propose(p *faultProc, v, opts string) map[*faultProc]int {
	marks := r.marks()
	require.NoError(r.t, p.cl.Send("state 1 %s %s", v, opts))
	r.logf("%s proposes %s %s", p.name, v, opts)
	return marks
}

var collideRe = regexp.MustCompile(`HA_GS_COLLIDE`)

// settle has every surviving member propose a last one-phase state change,
// one at a time, and waits until every survivor has seen each; a proposal
// that collides with a protocol still running is sent again.
func (r *faultRun) settle() {
	t := r.t
	for _, p := range r.members() {
		v := fmt.Sprintf("final-%d", p.inst)
		want := regexp.MustCompile(`^APPROVED .*state="` + v + `"`)
		deadline := time.Now().Add(2 * wait)
		for {
			mark := p.cl.Mark()
			require.NoError(t, p.cl.Send("state 1 %s", v))
			line, at, err := p.cl.Out.WaitFor(regexp.MustCompile(`^APPROVED .*state="`+v+`"|HA_GS_COLLIDE`), mark, wait)
			require.NoError(t, err, "%s's last change is approved or collides; %s", p.name, r.report())
			if want.MatchString(line) {
				break
			}
			require.True(t, collideRe.MatchString(line) && time.Now().Before(deadline),
				"%s's last change is approved in time; %s", p.name, r.report())
			// Another protocol still runs; the next attempt waits for one
			// more notification of any kind, which means progress.
			_, _, _ = p.cl.Out.WaitFor(regexp.MustCompile(`^(APPROVED|REJECTED) `), at+1, wait)
		}
		r.await(`^APPROVED .*state="`+v+`"`, map[*faultProc]int{})
	}
}

// scripts reads the scripts' log: "group instance node reason ppid".
func (r *faultRun) scripts() []history.Script {
	f, err := os.Open(filepath.Join(r.dir, "scripts.log"))
	if os.IsNotExist(err) {
		return nil
	}
	require.NoError(r.t, err)
	defer f.Close()
	var out []history.Script
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		w := strings.Fields(sc.Text())
		require.Len(r.t, w, 5, "a script log line has 5 words: %q", sc.Text())
		inst, _ := strconv.Atoi(w[1])
		node, _ := strconv.Atoi(w[2])
		ppid, _ := strconv.Atoi(w[4])
		s := history.Script{Group: w[0], Provider: wire.Provider{Instance: int32(inst), Node: int32(node)}, Reason: history.ScriptExpel}
		if w[3] == "failure" {
			s.Reason = history.ScriptFailure
		}
		if i, ok := r.pids[ppid]; ok {
			s.Node = int32(i + 1)
		}
		out = append(out, s)
	}
	return out
}

// check judges the run. stalled providers are still members that stopped
// dispatching.
func (r *faultRun) check() history.Summary {
	t := r.t
	in := history.Input{CheckScripts: true, Quiesced: true, Complete: true,
		HasScript: func(string, wire.Provider) bool { return true }, Scripts: r.scripts()}
	for _, p := range r.procs {
		in.Histories = append(in.Histories, history.History{Group: r.group, Provider: p.id(), Fate: p.fate, Records: p.records(t, r.group)})
	}
	sum, err := history.Check(in)
	require.NoError(t, err, "the providers' histories are consistent; %s", r.report())
	t.Logf("%s", sum)
	return sum
}

// faultSeeds returns the seeds of the real-process fault runs:
// HAGS_FAULT_SEED=S runs seed S; HAGS_FAULT_RUNS=N runs seeds 1..N (make
// stress); by default one.
func faultSeeds(t *testing.T) []int64 {
	t.Helper()
	if s := os.Getenv("HAGS_FAULT_SEED"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		require.NoError(t, err, "HAGS_FAULT_SEED is a number")
		return []int64{n}
	}
	n := 1
	if s := os.Getenv("HAGS_FAULT_RUNS"); s != "" {
		var err error
		n, err = strconv.Atoi(s)
		require.NoError(t, err, "HAGS_FAULT_RUNS is a number")
	}
	out := make([]int64, n)
	for i := range out {
		out[i] = int64(i + 1)
	}
	return out
}

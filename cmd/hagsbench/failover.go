package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/openhags/hags/failover/agent/actlog"
)

// The failover scenarios measure the failover manager (three hagsd and
// three hagsrmd) and, with --compare, Pacemaker (three corosync and
// pacemaker stacks), on the same agent: examples/failover/ActLogDummy,
// Debian's ocf:heartbeat:Dummy wrapped so that it writes each start and
// stop to one action log (failover/agent/actlog) with CLOCK_MONOTONIC
// times. The hags-only rows with an exec resource read the records that
// hagsrmd's agent runner writes itself. Every sample is a time from the
// coordinator's own clock reading just before it acted (started a
// command, removed a file, sent a kill) to a record of that log.
//
//	(m) move a one-resource group to a named node → started there
//	(o) online a stopped resource → started
//	(r) the resource fails (Dummy's state file removed; for hags also an
//	    exec resource's process killed) → started again
//	(n) the owner node's whole stack killed with SIGKILL → started on a
//	    survivor
//	(p) the owner cut off by its network namespace's link going down →
//	    started on the majority; rmcheck judges whether the cut-off side
//	    stopped first
//	cluster start (all nodes at once) → the group started
//	(s) 200 groups × 10 resources applied → all started; memory per node
//	idle memory per node

// rmNodes is the number of nodes of every failover cluster.
const rmNodes = 3

// rmNodeNames are the nodes' names, the same for both systems, so that the
// action log reads the same.
var rmNodeNames = [rmNodes]string{"NodeA", "NodeB", "NodeC"}

func nodeIndex(name string) int {
	for i, n := range rmNodeNames {
		if n == name {
			return i
		}
	}
	return -1
}

// rmResource is one resource of a benchmark group.
type rmResource struct {
	name    string
	exec    bool          // an exec resource (hags only); else ActLogDummy
	monitor time.Duration // 0: no recurring monitor
	// hags only: "" keeps the default.
	stopTimeout, restartDelay string
}

// rmGroup is a benchmark group.
type rmGroup struct {
	name      string
	resources []rmResource
	online    bool
}

// rmSystem is a three-node failover cluster under test. Node i is named
// rmNodeNames[i]. Timed operations return the CLOCK_MONOTONIC time taken
// just before the command that does them was started.
type rmSystem interface {
	name() string
	// startAll starts every node at once; ready waits until the cluster
	// has formed with all of them.
	startAll() error
	ready(timeout time.Duration) error
	// powerOff kills every node's whole stack with SIGKILL; their disks
	// stay.
	powerOff()
	// killNode kills node i's whole stack with SIGKILL (the machine's
	// death: what ran there is gone, its disk stays).
	killNode(i int) error
	// startNode starts node i again; ready waits for it.
	startNode(i int) error
	// cut takes node i off the network; heal puts it back.
	cut(i int) error
	heal(i int) error
	alive(i int) bool

	createGroup(g rmGroup) error
	move(group string, to int) (int64, error)
	// settle undoes what a move left behind (Pacemaker's location
	// constraint) and forgets failures (hags's restart counters,
	// Pacemaker's fail counts) between samples.
	settle(group string, res []string) error
	online(res string) (int64, error)
	offline(res string) (int64, error)
	// dummyState is the path, seen from the coordinator, of Dummy's
	// state file of res on node i.
	dummyState(i int, res string) string
	// applyScale adds groups in one configuration change; it returns when
	// the command was started and when it returned.
	applyScale(groups []rmGroup) (t0, returned int64, err error)
	// rss is the resident set of node i's processes, by program.
	rss(i int) (map[string]int64, error)
	log() *actTail
	close()
}

// actTail reads an action log as it grows. It keeps every record read.
type actTail struct {
	path string
	ctx  context.Context // ends every wait

	mu      sync.Mutex
	off     int64
	partial []byte
	recs    []actlog.Record
}

func newActTail(ctx context.Context, path string) *actTail { return &actTail{ctx: ctx, path: path} }

// poll reads what was appended since the last call.
func (a *actTail) poll() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	f, err := os.Open(a.path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	if _, err := f.Seek(a.off, io.SeekStart); err != nil {
		return err
	}
	b, err := io.ReadAll(f)
	if err != nil {
		return err
	}
	a.off += int64(len(b))
	b = append(a.partial, b...)
	end := bytes.LastIndexByte(b, '\n')
	if end < 0 {
		a.partial = b
		return nil
	}
	recs, err := actlog.Read(bytes.NewReader(b[:end+1]))
	a.partial = append([]byte(nil), b[end+1:]...)
	a.recs = append(a.recs, recs...)
	return err
}

// mark is the number of records read so far.
func (a *actTail) mark() int {
	_ = a.poll()
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.recs)
}

// records returns a copy of every record read.
func (a *actTail) records() []actlog.Record {
	_ = a.poll()
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]actlog.Record(nil), a.recs...)
}

// wait returns the first record at index ≥ from that matches, reading the
// file every 2 ms until timeout. The record's own times, not when it was
// read, are what the scenarios use.
func (a *actTail) wait(from int, timeout time.Duration, match func(actlog.Record) bool) (actlog.Record, error) {
	deadline := time.Now().Add(timeout)
	for {
		if err := a.poll(); err != nil {
			return actlog.Record{}, err
		}
		a.mu.Lock()
		for i := from; i < len(a.recs); i++ {
			if match(a.recs[i]) {
				r := a.recs[i]
				a.mu.Unlock()
				return r, nil
			}
		}
		from = max(from, len(a.recs))
		a.mu.Unlock()
		if err := a.ctx.Err(); err != nil {
			return actlog.Record{}, err
		}
		if time.Now().After(deadline) {
			return actlog.Record{}, fmt.Errorf("%w: no matching action log record within %v", errWaitTimeout, timeout)
		}
		time.Sleep(2 * time.Millisecond) // polling a file: the records carry their own times
	}
}

// waitCount waits until n records at index ≥ from match and returns them.
func (a *actTail) waitCount(from, n int, timeout time.Duration, match func(actlog.Record) bool) ([]actlog.Record, error) {
	deadline := time.Now().Add(timeout)
	for {
		if err := a.poll(); err != nil {
			return nil, err
		}
		var got []actlog.Record
		a.mu.Lock()
		for i := from; i < len(a.recs); i++ {
			if match(a.recs[i]) {
				got = append(got, a.recs[i])
			}
		}
		a.mu.Unlock()
		if len(got) >= n {
			return got, nil
		}
		if err := a.ctx.Err(); err != nil {
			return got, err
		}
		if time.Now().After(deadline) {
			return got, fmt.Errorf("%w: %d of %d action log records within %v", errWaitTimeout, len(got), n, timeout)
		}
		time.Sleep(20 * time.Millisecond) // polling a file, for a long wait
	}
}

// owner returns the node on which res runs by the log (started, and not
// stopped there since), the latest started if it runs on several, or −1.
func (a *actTail) owner(res string) int {
	since := map[string]int64{} // node → when its run began
	for _, r := range a.records() {
		if r.Resource != res {
			continue
		}
		switch {
		case r.Op == actlog.OpStart && r.OK:
			since[r.Node] = r.Mono
		case r.Op == actlog.OpStop && r.OK:
			delete(since, r.Node)
		}
	}
	best, at := -1, int64(0)
	for node, t := range since {
		if i := nodeIndex(node); i >= 0 && (best < 0 || t > at) {
			best, at = i, t
		}
	}
	return best
}

// waitOwner waits until res runs somewhere by the log.
func (a *actTail) waitOwner(res string, timeout time.Duration) (int, error) {
	owner := -1
	err := retryUntil(timeout, 20*time.Millisecond, func() error {
		if owner = a.owner(res); owner < 0 {
			return fmt.Errorf("%s does not run", res)
		}
		return nil
	})
	return owner, err
}

// powerOffRecords appends, for every resource that was running on node i
// by the log, a stop record at time at: the node died, and what ran on it
// with it. The checker then sees those runs end where they did.
func (a *actTail) powerOffRecords(i int, at int64) error {
	recs := a.records()
	running := map[string]bool{}
	for _, r := range recs {
		if r.Node != rmNodeNames[i] {
			continue
		}
		switch {
		case r.Op == actlog.OpStart:
			running[r.Resource] = true
		case r.Op == actlog.OpStop && r.OK:
			delete(running, r.Resource)
		}
	}
	for res := range running {
		err := actlog.Append(a.path, actlog.Record{Mono: at, Node: rmNodeNames[i], Resource: res, Op: actlog.OpStop,
			OK: true, Why: "power-off"})
		if err != nil {
			return err
		}
	}
	return nil
}

// isStart matches a successful start of res, on node (−1: any) or on any
// node but notOn (−1: none), begun after t.
func isStart(res string, node, notOn int, t int64) func(actlog.Record) bool {
	return func(r actlog.Record) bool {
		if r.Resource != res || r.Op != actlog.OpStart || !r.OK || r.Mono < t {
			return false
		}
		n := nodeIndex(r.Node)
		return (node < 0 || n == node) && (notOn < 0 || n != notOn)
	}
}

// isStop matches a successful stop of res on node, ended after t.
func isStop(res string, node int, t int64) func(actlog.Record) bool {
	return func(r actlog.Record) bool {
		return r.Resource == res && r.Op == actlog.OpStop && r.OK && r.Mono >= t && nodeIndex(r.Node) == node
	}
}

// runTimed runs argv and returns the time taken just before it started.
// A failure carries the command's output.
func runTimed(env []string, argv ...string) (int64, []byte, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	t0 := actlog.Now()
	err := cmd.Run()
	if err != nil {
		return t0, out.Bytes(), fmt.Errorf("%s: %w: %s", strings.Join(argv, " "), err, strings.TrimSpace(out.String()))
	}
	return t0, out.Bytes(), nil
}

// retryUntil calls f every interval until it returns nil or timeout passes.
func retryUntil(timeout, interval time.Duration, f func() error) error {
	deadline := time.Now().Add(timeout)
	for {
		err := f()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return err
		}
		time.Sleep(interval) // polling a cluster's state
	}
}

// procTreeRSS sums the resident sets of pid and its descendants, by
// program name.
func procTreeRSS(pid int) (map[string]int64, error) {
	out := map[string]int64{}
	var walk func(p int) error
	walk = func(p int) error {
		v, err := rssBytes(p)
		if err != nil {
			return err
		}
		comm := strings.TrimSpace(firstLine(fmt.Sprintf("/proc/%d/comm", p)))
		out[comm] += v
		for _, c := range childPids(p) {
			if err := walk(c); err != nil && !errors.Is(err, os.ErrNotExist) {
				return err
			}
		}
		return nil
	}
	return out, walk(pid)
}

// childPids lists the children of pid (from every thread's children file).
func childPids(pid int) []int {
	var out []int
	tasks, _ := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	for _, t := range tasks {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/children", pid, t.Name()))
		if err != nil {
			continue
		}
		for _, f := range strings.Fields(string(b)) {
			var c int
			if _, err := fmt.Sscan(f, &c); err == nil {
				out = append(out, c)
			}
		}
	}
	return out
}

func sumRSS(m map[string]int64) int64 {
	var s int64
	for _, v := range m {
		s += v
	}
	return s
}

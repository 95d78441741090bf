package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/openhags/hags/failover"
	"github.com/openhags/hags/failover/agent/actlog"
	"github.com/openhags/hags/failover/rmcheck"
	"github.com/openhags/hags/internal/harness"
)

// The failover manager's real-process tests run three real hagsd and three
// real hagsrmd on loopback (or in network namespaces), drive them through
// the real hagsrm and the failover.Client, and judge every run the same
// way when it ends (rmCluster.finish): the agents' action log must show no
// moment at which resources of one group ran on two nodes (rmcheck), every
// change acknowledged to a client must be in the configuration (the
// ledger), and once quiet every node's manager must report the same view.

// rmNames are the nodes' names, those of MS-CMRP's example "Moving a Group".
var rmNames = []string{"NodeA", "NodeB", "NodeC"}

// rmWait bounds a wait for something the cluster should do soon; the
// machine is shared and slow at times.
const rmWait = 45 * time.Second

// rmPoll paces polls of the cluster's state.
const rmPoll = 20 * time.Millisecond

var rmSetup struct {
	once sync.Once
	err  error
	ocf  string // an OCF root: hagsit's test agents and Debian's heartbeat agents
}

// needRM builds hagsrmd, hagsrm and hagsrm-actlog into bin and the tests'
// OCF root, once, and skips the test without Debian's resource-agents.
func needRM(t *testing.T) {
	t.Helper()
	if err := harness.ResourceAgents(); err != nil {
		t.Skipf("the failover tests need Debian's resource-agents package (apt-get install resource-agents): %v", err)
	}
	rmSetup.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		if rmSetup.err = harness.Build(ctx, bin, "./cmd/hagsrmd", "./cmd/hagsrm", "./cmd/hagsrm-actlog"); rmSetup.err != nil {
			return
		}
		dir, err := os.MkdirTemp(bin, "ocf-")
		if err != nil {
			rmSetup.err = err
			return
		}
		rmSetup.ocf = filepath.Join(dir, "root")
		rmSetup.err = harness.OCFRoot(rmSetup.ocf, "hagsit", "testdata/failover/hagsit")
	})
	require.NoError(t, rmSetup.err, "the failover binaries and the OCF root are built")
}

// rmCluster is three hagsd and three hagsrmd, each started, stopped and
// killed on its own, with the state each keeps across restarts.
type rmCluster struct {
	t      *testing.T
	gs     *multi
	nn     *netns // nil unless the nodes live in network namespaces
	dir    string
	actLog string // the agents' action log, shared by the nodes
	ctl    string // Ctl's control directory
	pids   string // where exec resources write their pids, a file per node

	rm   []*harness.Daemon   // each node's running hagsrmd, nil when stopped
	runs [][]*harness.Daemon // every hagsrmd run of each node, for the logs
	apis []*failover.Client  // a client of each node's hagsrmd, dialled on use

	ledger *ledger
}

// rmOptions choose how a cluster is made.
type rmOptions struct {
	netns bool // nodes in network namespaces (partition tests)
}

// startRMCluster starts the three nodes and waits until every manager
// reports every node Up. The checks of finish run when the test ends.
func startRMCluster(t *testing.T, opts rmOptions) *rmCluster {
	t.Helper()
	needRM(t)
	c := &rmCluster{t: t, rm: make([]*harness.Daemon, 3), runs: make([][]*harness.Daemon, 3),
		apis: make([]*failover.Client, 3), ledger: newLedger()}
	if opts.netns {
		c.gs, c.nn = startNamedNetnsMulti(t, 3, rmNames)
	} else {
		c.gs = startNamedDomain(t, 3, 3, rmNames)
	}
	c.dir = socketDir(t)
	c.actLog = filepath.Join(c.dir, "actions.log")
	c.ctl = filepath.Join(c.dir, "ctl")
	c.pids = filepath.Join(c.dir, "pids")
	for _, d := range []string{c.ctl, c.pids} {
		require.NoError(t, os.Mkdir(d, 0o755))
	}
	// Registered after the domain's cleanup, so it runs first: the checks
	// need the daemons.
	t.Cleanup(c.finish)
	for i := range 3 {
		c.startManager(i)
	}
	c.waitUp(0, 1, 2)
	return c
}

// stateDir is node i's hagsrmd --state-dir.
func (c *rmCluster) stateDir(i int) string { return filepath.Join(c.dir, fmt.Sprintf("state%d", i+1)) }

// socket is node i's management socket.
func (c *rmCluster) socket(i int) string { return filepath.Join(c.dir, fmt.Sprintf("rm%d.sock", i+1)) }

// startManager starts node i's hagsrmd (again, with the same state).
func (c *rmCluster) startManager(i int) {
	c.t.Helper()
	require.Nil(c.t, c.rm[i], "hagsrmd %d is not running", i+1)
	// harness.StartDaemon passes --socket first: hagsrmd's management socket.
	d, err := harness.StartDaemon(filepath.Join(bin, "hagsrmd"), c.socket(i), nil,
		"--gs-socket", c.gs.sockets[i], "--state-dir", c.stateDir(i), "--agents-dir", rmSetup.ocf,
		"--action-log", c.actLog, "--log-level", "debug")
	require.NoError(c.t, err, "hagsrmd %d starts", i+1)
	c.rm[i] = d
	c.runs[i] = append(c.runs[i], d)
}

// stopManager stops node i's hagsrmd with SIGTERM; it must exit 0.
func (c *rmCluster) stopManager(i int) {
	c.t.Helper()
	c.dropAPI(i)
	err := c.rm[i].Stop(rmWait)
	c.rm[i] = nil
	require.NoError(c.t, err, "hagsrmd %d exits 0 on SIGTERM", i+1)
}

// killManager SIGKILLs node i's hagsrmd (its hagsd lives on). Its exec
// resources die with it (their guards kill their process groups); once
// they are seen gone, the action log gets their stop, since no runner is
// left to write it. What OCF agents started runs on, as it would.
func (c *rmCluster) killManager(i int) {
	c.t.Helper()
	c.dropAPI(i)
	c.rm[i].Kill()
	c.rm[i] = nil
	c.execGone(i)
	c.logStops(i, true, "test: the manager was killed")
}

// killGS SIGKILLs node i's hagsd alone.
func (c *rmCluster) killGS(i int) { c.gs.kill(i) }

// startGS starts node i's hagsd again and waits until it is admitted.
func (c *rmCluster) startGS(i int) {
	c.t.Helper()
	c.gs.start(i)
	c.gs.waitAdmitted(i, 0)
}

// crash takes node i down as a power failure would: its hagsd and hagsrmd
// are SIGKILLed, everything its resources ran is gone and its /run (the
// agents' HA_RSCTMP, where Dummy keeps its state) is emptied. The action
// log gets the stop of everything that ran there.
func (c *rmCluster) crash(i int) {
	c.t.Helper()
	c.dropAPI(i)
	// hagsd first: were the manager to die first, its hagsd would tell the
	// cluster that the manager's process died on a node that lives on,
	// and the survivors would rightly wait for a fence instead of the
	// window.
	c.gs.kill(i)
	c.rm[i].Kill()
	c.rm[i] = nil
	c.execGone(i)
	c.emptyRun(i)
	c.logStops(i, false, "test: the node crashed")
}

// emptyRun empties node i's HA_RSCTMP as a reboot empties /run, keeping
// the runner's boot marker.
func (c *rmCluster) emptyRun(i int) {
	c.t.Helper()
	dir := filepath.Join(c.stateDir(i), "rsctmp")
	entries, err := os.ReadDir(dir)
	require.NoError(c.t, err)
	for _, e := range entries {
		if e.Name() != ".hags-boot-id" {
			require.NoError(c.t, os.RemoveAll(filepath.Join(dir, e.Name())))
		}
	}
}

// execCommand is the command of the tests' exec resources: it writes its
// pid to the node's pid file, so that the test can tell when the processes
// a node ran are gone, and runs until stopped.
func (c *rmCluster) execCommand() string {
	return fmt.Sprintf(`echo $$ >> %s/"$HAGSRM_NODE"; exec sleep 100000`, c.pids)
}

// execPids returns the pids node i's exec resources ever had.
func (c *rmCluster) execPids(i int) []int {
	b, err := os.ReadFile(filepath.Join(c.pids, rmNames[i]))
	if err != nil {
		return nil
	}
	var out []int
	for _, f := range strings.Fields(string(b)) {
		if p, err := strconv.Atoi(f); err == nil {
			out = append(out, p)
		}
	}
	return out
}

// alive reports whether pid is a live process running sleep (an exec
// resource of these tests; a reused pid runs something else).
func alive(pid int) bool {
	st, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	s := string(st)
	if i := strings.LastIndexByte(s, ')'); i < 0 || len(s) < i+3 || s[i+2] == 'Z' || s[i+2] == 'X' {
		return false
	}
	cmd, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	return bytes.HasPrefix(cmd, []byte("sleep\x00"))
}

// execGone waits until no exec resource process of node i is alive.
func (c *rmCluster) execGone(i int) {
	c.t.Helper()
	waitFor(c.t, rmWait, fmt.Sprintf("the exec resources of %s are gone", rmNames[i]), func() (bool, string) {
		for _, p := range c.execPids(i) {
			if alive(p) {
				return false, fmt.Sprintf("pid %d lives", p)
			}
		}
		return true, ""
	})
}

// logStops appends a stop record, now, for every resource the action log
// shows running on node i (only exec resources with execOnly).
func (c *rmCluster) logStops(i int, execOnly bool, why string) {
	c.t.Helper()
	recs, err := actlog.ReadFile(c.actLog)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		require.NoError(c.t, err)
	}
	agentOf := map[string]string{}
	for _, r := range recs {
		agentOf[r.Resource] = r.Agent
	}
	now := actlog.Now()
	for _, iv := range rmcheck.Intervals(recs) {
		if iv.Node != rmNames[i] || iv.To != rmcheck.Open || execOnly && agentOf[iv.Resource] != string(failover.AgentExec) {
			continue
		}
		require.NoError(c.t, actlog.Append(c.actLog, actlog.Record{Mono: now, Node: iv.Node, Resource: iv.Resource,
			Op: actlog.OpStop, OK: true, Why: why}))
	}
}

// fenceScript writes a fence command for node i that does to it what a
// power switch would: SIGKILL its hagsd and hagsrmd, wait until they and
// its exec resources are gone, empty its HA_RSCTMP, log the stop of every
// resource in the action log, and exit 0. It refuses any other node.
func (c *rmCluster) fenceScript(i int, resources ...string) string {
	c.t.Helper()
	var kill []string
	if d := c.gs.daemons[i]; d != nil {
		kill = append(kill, strconv.Itoa(d.Pid()))
	}
	if d := c.rm[i]; d != nil {
		kill = append(kill, strconv.Itoa(d.Pid()))
	}
	var logs strings.Builder
	for _, r := range resources {
		fmt.Fprintf(&logs, "%s append -file %s -node %s -resource %s -op stop -ok=true -why test-fenced || exit 1\n",
			filepath.Join(bin, "hagsrm-actlog"), c.actLog, rmNames[i], shellQuote(r))
	}
	script := fmt.Sprintf(`#!/bin/sh
# A fence agent for %[1]s of a failover test: a power switch.
[ "$1" = %[1]s ] || { echo "this fences %[1]s, not $1" >&2; exit 1; }
gone() { # pid: not a live process
	[ ! -e /proc/$1/stat ] || grep -qE '\) [ZX] ' /proc/$1/stat
}
for p in %[2]s; do
	kill -9 $p 2>/dev/null
	while ! gone $p; do sleep 0.02; done
done
for p in $(cat %[3]s 2>/dev/null); do
	while ! gone $p && grep -q '^sleep' /proc/$p/cmdline 2>/dev/null; do sleep 0.02; done
done
find %[4]s -mindepth 1 -maxdepth 1 ! -name .hags-boot-id -exec rm -rf {} +
%[5]sexit 0
`, rmNames[i], strings.Join(kill, " "), filepath.Join(c.pids, rmNames[i]), filepath.Join(c.stateDir(i), "rsctmp"), logs.String())
	path := filepath.Join(c.dir, "fence-"+rmNames[i])
	require.NoError(c.t, os.WriteFile(path, []byte(script), 0o755))
	return path
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// ctlFile writes the Ctl agent's control file name ("NODE.RESOURCE.ACTION"
// or "RESOURCE.ACTION") with word; "" removes it.
func (c *rmCluster) ctlFile(name, word string) {
	c.t.Helper()
	path := filepath.Join(c.ctl, name)
	if word == "" {
		require.NoError(c.t, os.Remove(path))
		return
	}
	require.NoError(c.t, os.WriteFile(path+".tmp", []byte(word+"\n"), 0o644))
	require.NoError(c.t, os.Rename(path+".tmp", path))
}

// ctlParam is the parameter that points a Ctl resource at its control
// directory.
func (c *rmCluster) ctlParam() string { return "ctl=" + c.ctl }

// waitFor polls cond until it holds, failing the test after budget with
// what cond last said.
func waitFor(t *testing.T, budget time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	if err := pollFor(budget, cond); err != nil {
		t.Fatalf("waiting for %s: %v", what, err)
	}
}

// pollFor polls cond until it holds, or returns what it last said after
// budget.
func pollFor(budget time.Duration, cond func() (bool, string)) error {
	deadline := time.Now().Add(budget)
	tick := time.NewTicker(rmPoll)
	defer tick.Stop()
	for {
		ok, state := cond()
		if ok {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not within %v; last: %s", budget, state)
		}
		<-tick.C
	}
}

// ---- hagsrm as a process ----

// cliResult is what one run of hagsrm --json did.
type cliResult struct {
	args   []string
	exit   int
	stdout []byte
	stderr string
	// code is the result's or the error's return code; hasCode is false
	// when the output carries none.
	code    failover.Code
	hasCode bool
	message string
}

func (r cliResult) String() string {
	return fmt.Sprintf("hagsrm %s: exit %d, stdout %s, stderr %q", strings.Join(r.args, " "), r.exit,
		bytes.TrimSpace(r.stdout), r.stderr)
}

// acked reports whether the operation was acknowledged: ERROR_SUCCESS or
// ERROR_IO_PENDING.
func (r cliResult) acked() bool {
	return r.exit == 0 && r.hasCode && (r.code == failover.CodeSuccess || r.code == failover.CodeIOPending)
}

// hagsrm runs hagsrm --json against node i's manager.
func (c *rmCluster) hagsrm(i int, args ...string) cliResult {
	c.t.Helper()
	cmd := exec.Command(filepath.Join(bin, "hagsrm"), append([]string{"--socket", c.socket(i), "--json"}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := cliResult{args: args, stdout: stdout.Bytes(), stderr: stderr.String()}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		r.exit = ee.ExitCode()
	case err != nil:
		c.t.Fatalf("hagsrm %v: %v", args, err)
	}
	var out struct {
		Result *struct {
			Code    *uint32 `json:"code"`
			Message string  `json:"message"`
		} `json:"result"`
		Error *struct {
			Code    *uint32 `json:"code"`
			Message string  `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(r.stdout, &out) == nil {
		switch {
		case out.Result != nil && out.Result.Code != nil:
			r.code, r.hasCode, r.message = failover.Code(*out.Result.Code), true, out.Result.Message
		case out.Error != nil && out.Error.Code != nil:
			r.code, r.hasCode, r.message = failover.Code(*out.Error.Code), true, out.Error.Message
		case out.Error != nil:
			r.message = out.Error.Message
		}
	}
	return r
}

// op runs a hagsrm operation on node i and notes it in the ledger when it
// was acknowledged, or refused with one of the codes after which the
// contract still sets the persistent state (ApiOnlineResource: "regardless of the
// success or failure of this immediate attempt").
func (c *rmCluster) op(i int, args ...string) cliResult {
	c.t.Helper()
	r := c.hagsrm(i, args...)
	if r.acked() || setsStateAnyway(r) {
		c.ledger.acked(c.t, args)
	}
	return r
}

// setsStateAnyway reports whether r is a resource online or offline
// whose immediate attempt failed but whose persistent state is set:
// ERROR_CLUSTER_RESOURCE_PROVIDER_FAILED, ERROR_RESOURCE_FAILED.
func setsStateAnyway(r cliResult) bool {
	pos, _ := cliArgs(r.args)
	return r.hasCode && len(pos) >= 2 && pos[0] == "resource" && (pos[1] == "online" || pos[1] == "offline") &&
		(r.code == failover.CodeClusterResourceProviderFailed || r.code == failover.CodeResourceFailed)
}

// must runs a hagsrm operation on node i and requires its code (and the
// exit status that goes with it).
func (c *rmCluster) must(i int, want failover.Code, args ...string) cliResult {
	c.t.Helper()
	r := c.op(i, args...)
	require.True(c.t, r.hasCode, "%s carries a return code", r)
	require.Equal(c.t, want, r.code, "%s", r)
	wantExit := 1
	if want == failover.CodeSuccess || want == failover.CodeIOPending {
		wantExit = 0
	}
	require.Equal(c.t, wantExit, r.exit, "exit status of %s", r)
	return r
}

// mustAck runs a hagsrm operation that must be acknowledged (SUCCESS or
// IO_PENDING) and returns its code.
func (c *rmCluster) mustAck(i int, args ...string) failover.Code {
	c.t.Helper()
	r := c.op(i, args...)
	require.True(c.t, r.acked(), "%s is acknowledged", r)
	return r.code
}

// show runs a hagsrm command that prints objects and decodes its output
// into v.
func (c *rmCluster) show(i int, v any, args ...string) {
	c.t.Helper()
	r := c.hagsrm(i, args...)
	require.Equal(c.t, 0, r.exit, "%s", r)
	reflect.ValueOf(v).Elem().SetZero() // what the output leaves out is zero, not what v held
	require.NoError(c.t, json.Unmarshal(r.stdout, v), "%s prints JSON", r)
}

// ---- the Go API ----

// api returns a client of node i's manager, dialling one if needed.
func (c *rmCluster) api(i int) (*failover.Client, error) {
	if c.apis[i] != nil {
		return c.apis[i], nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	cl, err := failover.Dial(ctx, failover.WithSocket(c.socket(i)))
	if err != nil {
		return nil, err
	}
	c.apis[i] = cl
	return cl, nil
}

// dropAPI closes node i's client (its manager stops or restarts).
func (c *rmCluster) dropAPI(i int) {
	if c.apis[i] != nil {
		c.apis[i].Close()
		c.apis[i] = nil
	}
}

// read runs fn with node i's client; an error that carries no code (the
// connection, not the cluster, failed) drops the client, so that the next
// read dials again.
func (c *rmCluster) read(i int, fn func(ctx context.Context, cl *failover.Client) error) error {
	cl, err := c.api(i)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err = fn(ctx, cl)
	if _, ok := failover.CodeOf(err); !ok {
		c.dropAPI(i)
	}
	return err
}

// groupState reads group g on node i.
func (c *rmCluster) groupState(i int, g string) (failover.GroupInfo, error) {
	var out failover.GroupInfo
	err := c.read(i, func(ctx context.Context, cl *failover.Client) error {
		gs, err := cl.Groups(ctx)
		if err != nil {
			return err
		}
		for _, x := range gs {
			if x.Name == g {
				out = x
				return nil
			}
		}
		return fmt.Errorf("no group %q", g)
	})
	return out, err
}

// resourceState reads resource r on node i.
func (c *rmCluster) resourceState(i int, r string) (failover.ResourceInfo, error) {
	var out failover.ResourceInfo
	err := c.read(i, func(ctx context.Context, cl *failover.Client) error {
		rs, err := cl.Resources(ctx)
		if err != nil {
			return err
		}
		for _, x := range rs {
			if x.Name == r {
				out = x
				return nil
			}
		}
		return fmt.Errorf("no resource %q", r)
	})
	return out, err
}

// waitGroup polls group g on node i until cond holds and returns it.
func (c *rmCluster) waitGroup(i int, g, what string, cond func(failover.GroupInfo) bool) failover.GroupInfo {
	c.t.Helper()
	var last failover.GroupInfo
	waitFor(c.t, rmWait, fmt.Sprintf("group %s %s (asking %s)", g, what, rmNames[i]), func() (bool, string) {
		gi, err := c.groupState(i, g)
		if err != nil {
			return false, err.Error()
		}
		last = gi
		return cond(gi), groupLine(gi)
	})
	return last
}

// knows waits until node i's manager has applied the creation of groups
// (a node answers reads, and opens handles by name, from what it has
// applied; another node's creation reaches it a moment later).
func (c *rmCluster) knows(i int, groups ...string) {
	c.t.Helper()
	for _, g := range groups {
		c.waitGroup(i, g, "known", func(failover.GroupInfo) bool { return true })
	}
}

// waitOnline waits until group g is Online on one of the nodes named and
// not moving, as node i reports it, and returns it.
func (c *rmCluster) waitOnline(i int, g string, owners ...string) failover.GroupInfo {
	c.t.Helper()
	return c.waitGroup(i, g, fmt.Sprintf("Online on one of %v", owners), func(gi failover.GroupInfo) bool {
		for _, o := range owners {
			if gi.State == failover.GroupOnline && gi.Owner == o && gi.MovingTo == "" {
				return true
			}
		}
		return false
	})
}

// waitResource polls resource r on node i until cond holds and returns it.
func (c *rmCluster) waitResource(i int, r, what string, cond func(failover.ResourceInfo) bool) failover.ResourceInfo {
	c.t.Helper()
	var last failover.ResourceInfo
	waitFor(c.t, rmWait, fmt.Sprintf("resource %s %s (asking %s)", r, what, rmNames[i]), func() (bool, string) {
		ri, err := c.resourceState(i, r)
		if err != nil {
			return false, err.Error()
		}
		last = ri
		return cond(ri), fmt.Sprintf("%s %s on %s (persistent %s, seq %d, last failure %q)",
			ri.Name, ri.State, ri.Owner, ri.PersistentState, ri.Sequence, ri.LastFailure)
	})
	return last
}

func groupLine(g failover.GroupInfo) string {
	return fmt.Sprintf("%s %s owner %s moving to %q (persistent %s, seq %d, status %v)",
		g.Name, g.State, g.Owner, g.MovingTo, g.PersistentState, g.Sequence, g.Status)
}

// waitUp waits until the managers of nodes are read/write and report each
// of nodes Up (or Paused: up, and paused by an operator). A manager that
// has just started answers reads from its durable state, which may show
// every node Up from before a restart; only a manager in the agreeing
// majority answers a mutating call with anything but
// ERROR_SHARING_PAUSED. The call used, confirm-fenced of the manager's
// own node, is refused (ERROR_INVALID_STATE) by a live manager and so
// changes nothing.
func (c *rmCluster) waitUp(nodes ...int) {
	c.t.Helper()
	for _, i := range nodes {
		waitFor(c.t, rmWait, fmt.Sprintf("%s's manager reports %v up", rmNames[i], names(nodes)), func() (bool, string) {
			if r := c.hagsrm(i, "node", "confirm-fenced", rmNames[i]); !r.hasCode || r.code != failover.CodeInvalidState {
				return false, "not read/write: " + r.String()
			}
			var ns []failover.NodeInfo
			err := c.read(i, func(ctx context.Context, cl *failover.Client) (err error) {
				ns, err = cl.Nodes(ctx)
				return err
			})
			if err != nil {
				return false, err.Error()
			}
			for _, j := range nodes {
				up := false
				for _, n := range ns {
					if n.Name == rmNames[j] && (n.State == failover.NodeUp || n.State == failover.NodePaused) {
						up = true
					}
				}
				if !up {
					return false, fmt.Sprintf("nodes %v", ns)
				}
			}
			return true, ""
		})
	}
}

func names(nodes []int) []string {
	var out []string
	for _, i := range nodes {
		out = append(out, rmNames[i])
	}
	return out
}

// running lists the nodes whose hagsrmd runs.
func (c *rmCluster) running() []int {
	var out []int
	for i, d := range c.rm {
		if d != nil {
			out = append(out, i)
		}
	}
	return out
}

// records reads the action log.
func (c *rmCluster) records() []actlog.Record {
	c.t.Helper()
	recs, err := actlog.ReadFile(c.actLog)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	require.NoError(c.t, err, "the action log reads")
	return recs
}

// startsOn counts the start records of resource r on node.
func (c *rmCluster) startsOn(r, node string) int {
	n := 0
	for _, rec := range c.records() {
		if rec.Resource == r && rec.Node == node && rec.Op == actlog.OpStart {
			n++
		}
	}
	return n
}

// firstStartAfter returns the first start record of resource r on a node
// other than not after mono (CLOCK_MONOTONIC ns), and whether there is one.
func (c *rmCluster) firstStartAfter(r, not string, mono int64) (actlog.Record, bool) {
	for _, rec := range c.records() {
		if rec.Resource == r && rec.Node != not && rec.Op == actlog.OpStart && rec.OK && rec.Mono > mono {
			return rec, true
		}
	}
	return actlog.Record{}, false
}

// ---- the checks at the end of every test ----

// finish checks the run (when the test has not failed already: a cluster
// left in the middle of something need not be quiet), stops the managers
// and feeds the action log to the checker; on failure it prints the
// managers' logs.
func (c *rmCluster) finish() {
	t := c.t
	live := c.running()
	if !t.Failed() && len(live) > 0 {
		if err := c.checkViews(live); err != nil {
			t.Errorf("once quiet, every manager reports the same view: %v", err)
		} else if err := c.ledger.check(c, live[0]); err != nil {
			t.Errorf("every acknowledged change is in the configuration: %v", err)
		}
	}
	if t.Failed() {
		for _, i := range live {
			for _, what := range []string{"group", "resource", "node"} {
				t.Logf("%s's %s list: %s", rmNames[i], what, c.hagsrm(i, what, "list").stdout)
			}
		}
	}
	for i := range c.apis {
		c.dropAPI(i)
	}
	// SIGTERM all managers at once; each stops what its node runs.
	var wg sync.WaitGroup
	errs := make([]error, 3)
	for _, i := range live {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = c.rm[i].Stop(rmWait)
		}()
	}
	wg.Wait()
	for _, i := range live {
		c.rm[i] = nil
		if errs[i] != nil {
			t.Errorf("hagsrmd %d exits 0 on SIGTERM: %v", i+1, errs[i])
		}
	}
	c.checkOverlaps()
	if t.Failed() {
		for i, runs := range c.runs {
			for k, d := range runs {
				for _, l := range d.Log.All() {
					t.Logf("hagsrmd%d.%d| %s", i+1, k+1, l)
				}
			}
		}
		if b, err := os.ReadFile(c.actLog); err == nil {
			t.Logf("action log:\n%s", b)
		}
	}
}

// checkOverlaps feeds the action log to rmcheck: no moment may exist at
// which resources of one group ran on two nodes.
func (c *rmCluster) checkOverlaps() {
	recs, err := actlog.ReadFile(c.actLog)
	if errors.Is(err, os.ErrNotExist) {
		return
	}
	if err != nil {
		c.t.Errorf("the action log reads: %v", err)
		return
	}
	if vs := rmcheck.Overlaps(recs, c.ledger.groupOf()); len(vs) > 0 {
		c.t.Errorf("the action log shows a group running on two nodes at once:\n%s", rmcheck.Report(vs))
	}
}

// checkViews waits until the managers of nodes are quiet (no group
// pending or moving, no resource pending) and print the same group, resource
// and node lists, byte for byte: states, owners and sequence numbers
// agree.
func (c *rmCluster) checkViews(nodes []int) error {
	var last string
	err := pollFor(rmWait, func() (bool, string) {
		views := make([][3][]byte, len(nodes))
		for k, i := range nodes {
			for j, what := range []string{"group", "resource", "node"} {
				r := c.hagsrm(i, what, "list")
				if r.exit != 0 {
					return false, r.String()
				}
				views[k][j] = bytes.TrimSpace(r.stdout)
			}
		}
		var lists struct {
			Groups    []failover.GroupInfo    `json:"groups"`
			Resources []failover.ResourceInfo `json:"resources"`
		}
		_ = json.Unmarshal(views[0][0], &lists)
		_ = json.Unmarshal(views[0][1], &lists)
		for _, g := range lists.Groups {
			if g.State == failover.GroupPending || g.MovingTo != "" {
				return false, "not quiet: " + groupLine(g)
			}
		}
		for _, r := range lists.Resources {
			if r.State.Pending() {
				return false, fmt.Sprintf("not quiet: resource %s is %s", r.Name, r.State)
			}
		}
		for k := 1; k < len(views); k++ {
			for j := range 3 {
				if !bytes.Equal(views[0][j], views[k][j]) {
					last = fmt.Sprintf("%s says\n%s\n%s says\n%s", rmNames[nodes[0]], views[0][j], rmNames[nodes[k]], views[k][j])
					return false, last
				}
			}
		}
		return true, ""
	})
	return err
}

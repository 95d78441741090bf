// Command demofailover shows the failover manager at work on one machine.
// It starts three hagsd daemons on loopback (NodeA, NodeB, NodeC) and a
// hagsrmd on each, creates "Application Group" with an OCF Dummy resource
// (Debian's resource-agents) and an exec resource that depends on it, and
// then, through the Go API (failover.Client):
//
//   - plays MS-CMRP's example "Moving a Group" step by step: open the
//     group, read its owner (NodeA), open NodeB, move the group there
//     (ERROR_IO_PENDING), poll its state until it is no longer Pending:
//     Online on NodeB;
//   - plays ApiOnlineResource: brings online a resource with a complex
//     dependency, providers first, and a resource whose agent fails the
//     first time, which goes Failed and is restarted in place;
//   - kills NodeB's hagsd with SIGKILL and shows the group come up on
//     another node once NodeB's self-fencing window has passed.
//
// Each step prints what it called, the code it got and how long it took;
// the agents' starts and stops are read back from the action log, and the
// overlap checker (failover/rmcheck) confirms that no two nodes ran the
// group at once. It exits 0, or 1 if anything did not happen as expected.
//
// It must run as root: hagsrmd runs resource agents as root and joins
// hags.rm, a group only root's processes may join.
//
// Run it with `make demo-failover`.
package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/openhags/hags/failover"
	"github.com/openhags/hags/failover/agent"
	"github.com/openhags/hags/failover/agent/actlog"
	"github.com/openhags/hags/failover/rmcheck"
	"github.com/openhags/hags/internal/harness"
)

const (
	groupName = "Application Group"
	// wait bounds every wait of the demo: past it the demo fails.
	wait = 20 * time.Second
	// pollEvery is how often the "Moving a Group" client polls the group's state
	// (the seed's client polls every five seconds; a demo is less patient).
	pollEvery = 10 * time.Millisecond
	// dummyStopTimeout is the Dummy resource's stop timeout. The Dummy
	// agent's meta-data gives 20 s; the self-fencing window of a group is
	// the lease's timeout plus the longest stop timeout of its OCF
	// resources (docs/design/failover.md), so a short one keeps the
	// failover of step 6 short.
	dummyStopTimeout = "2s"
)

var nodeNames = [3]string{"NodeA", "NodeB", "NodeC"}

var outMu sync.Mutex

func say(format string, args ...any) {
	outMu.Lock()
	defer outMu.Unlock()
	fmt.Printf(format+"\n", args...)
}

func main() {
	bin := flag.String("bin", "build/bin", "directory holding hagsd, hagsrmd and hagsrm")
	ocf := os.Getenv("OCF_ROOT")
	if ocf == "" {
		ocf = agent.DefaultOCFRoot
	}
	agents := flag.String("agents-dir", ocf, "the OCF root holding resource.d/heartbeat/Dummy (default $OCF_ROOT, else /usr/lib/ocf)")
	flag.Parse()
	start := time.Now()
	if err := run(*bin, *agents); err != nil {
		say("\ndemo-failover FAILED: %v", err)
		os.Exit(1)
	}
	say("\ndemo-failover finished in %v", time.Since(start).Round(time.Millisecond))
}

// preflight refuses to start what cannot work, saying why.
func preflight(bin, agents string) error {
	if os.Geteuid() != 0 {
		return errors.New("run it as root: hagsrmd runs resource agents as root and joins hags.rm, " +
			"a group that only root's processes may join")
	}
	dummy := filepath.Join(agents, "resource.d", "heartbeat", "Dummy")
	if _, err := os.Stat(dummy); err != nil {
		return fmt.Errorf("the OCF agent %s is missing: install Debian's resource-agents "+
			"(apt-get install resource-agents; make demo-failover does it): %w", dummy, err)
	}
	for _, b := range []string{"hagsd", "hagsrmd", "hagsrm"} {
		if _, err := os.Stat(filepath.Join(bin, b)); err != nil {
			return fmt.Errorf("%s is missing from %s (make build): %w", b, bin, err)
		}
	}
	return nil
}

// node is one node of the demo's cluster: its hagsd and its hagsrmd.
type node struct {
	name             string
	gsSocket, socket string // hagsd's, hagsrmd's
	hagsd, hagsrmd   *harness.Daemon
}

// demo is the demo's cluster and where it keeps its files. Its phases run
// one after the other, on the main goroutine.
type demo struct {
	dir, bin, agents string
	nodes            [3]*node
	actions          string // the action log all three managers append to
	ctx              context.Context
}

func run(bin, agents string) error {
	if err := preflight(bin, agents); err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "hags-demo-failover-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	d := &demo{dir: dir, bin: bin, agents: agents, actions: filepath.Join(dir, "actions.log"), ctx: ctx}
	say("== demo-failover: the failover manager on three nodes of this machine")
	say("   working directory %s; OCF agents from %s", dir, agents)
	defer d.kill()
	for _, phase := range []func() error{d.startCluster, d.createGroup, d.movingAGroup, d.onlineResource, d.failover, d.check, d.stop} {
		if err := phase(); err != nil {
			d.showLogs()
			return err
		}
	}
	return nil
}

// showLogs prints the end of every daemon's log, to tell why a step failed.
func (d *demo) showLogs() {
	for _, n := range d.nodes {
		if n == nil {
			continue
		}
		for _, p := range []struct {
			what string
			d    *harness.Daemon
		}{{"hagsd", n.hagsd}, {"hagsrmd", n.hagsrmd}} {
			if p.d == nil {
				continue
			}
			lines := p.d.Log.All()
			say("\n-- the last lines of %s's %s log:", n.name, p.what)
			for _, l := range lines[max(0, len(lines)-25):] {
				say("   %s", l)
			}
		}
	}
}

// startCluster starts three hagsd on loopback and a hagsrmd on each, and
// waits until every manager reports the three nodes Up.
func (d *demo) startCluster() error {
	ports, err := harness.FreePorts(6)
	if err != nil {
		return err
	}
	var voters, gossip []string
	for i := range 3 {
		voters = append(voters, fmt.Sprintf("%d=127.0.0.1:%d", i+1, ports[2*i]))
		gossip = append(gossip, fmt.Sprintf("127.0.0.1:%d", ports[2*i+1]))
	}
	say("\n== 1. three hagsd on loopback, named %s (--insecure: a demo on loopback; a real domain gives --pki-dir)",
		strings.Join(nodeNames[:], ", "))
	for i, name := range nodeNames {
		n := &node{name: name}
		d.nodes[i] = n
		ndir := filepath.Join(d.dir, name)
		if err := os.Mkdir(ndir, 0o700); err != nil {
			return err
		}
		n.gsSocket = filepath.Join(ndir, "hagsd.sock")
		n.socket = filepath.Join(ndir, "hagsrmd.sock")
		show := func(line string) { // the domain's news, not every log line
			for _, w := range []string{"admitted to the domain", "node declared down"} {
				if strings.Contains(line, w) {
					say("    %s hagsd| %s", name, line)
					return
				}
			}
		}
		n.hagsd, err = harness.StartDaemon(filepath.Join(d.bin, "hagsd"), n.gsSocket, show,
			"--domain", "demofailover", "--node", fmt.Sprint(i+1), "--name", name,
			"--voters", strings.Join(voters, ","), "--gossip", gossip[i], "--join", strings.Join(gossip, ","),
			"--data-dir", filepath.Join(ndir, "hagsd"), "--insecure")
		if err != nil {
			return err
		}
	}
	for _, n := range d.nodes {
		if _, _, err := n.hagsd.Log.WaitFor(regexp.MustCompile(`admitted to the domain`), 0, wait); err != nil {
			return fmt.Errorf("%s's hagsd: %w", n.name, err)
		}
	}

	say("\n== 2. a hagsrmd on each node (its state in %s/<node>/rm, every agent action in %s)", d.dir, d.actions)
	began := time.Now()
	for _, n := range d.nodes {
		show := func(line string) {
			for _, w := range []string{"lost the hagsd session", "every resource of this node is stopped"} {
				if strings.Contains(line, w) {
					say("    %s hagsrmd| %s", n.name, line)
					return
				}
			}
		}
		n.hagsrmd, err = harness.StartManager(filepath.Join(d.bin, "hagsrmd"), n.socket, n.gsSocket, show,
			"--state-dir", filepath.Join(d.dir, n.name, "rm"), "--agents-dir", d.agents, "--action-log", d.actions)
		if err != nil {
			return err
		}
	}
	for _, n := range d.nodes {
		c, err := failover.Dial(d.ctx, failover.WithSocket(n.socket))
		if err != nil {
			return err
		}
		err = poll(d.ctx, func() (bool, error) {
			nodes, err := c.Nodes(d.ctx)
			if err != nil {
				return false, err
			}
			up := 0
			for _, ni := range nodes {
				if ni.State == failover.NodeUp {
					up++
				}
			}
			return up == 3, nil
		})
		c.Close()
		if err != nil {
			return fmt.Errorf("%s's hagsrmd does not see three nodes Up: %w", n.name, err)
		}
	}
	say("   every manager reports NodeA, NodeB and NodeC Up, %v after they started", since(began))
	return nil
}

// poll calls done every 10 ms until it says true, fails, or wait passes.
// (A demo's readiness check; the example's polling is in movingAGroup.)
func poll(ctx context.Context, done func() (bool, error)) error {
	deadline := time.Now().Add(wait)
	for {
		ok, err := done()
		switch {
		case err != nil:
			return err
		case ok:
			return nil
		case time.Now().After(deadline):
			return fmt.Errorf("not within %v", wait)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(pollEvery):
		}
	}
}

func since(t time.Time) time.Duration { return roundDur(time.Since(t)) }

func roundDur(d time.Duration) time.Duration {
	switch {
	case d < time.Millisecond:
		return d.Round(time.Microsecond)
	case d < time.Second:
		return d.Round(100 * time.Microsecond)
	}
	return d.Round(time.Millisecond)
}

// call runs one operation, prints what it called, the code it got, how
// long it took and what f says about the result, and fails unless the code
// is want. f returns its detail and its error.
func call(what string, want failover.Code, f func() (string, error)) error {
	began := time.Now()
	detail, err := f()
	took := since(began)
	code, ok := failover.CodeOf(err)
	if !ok {
		say("   %-56s %-24s %9v", what, "no code", took)
		return fmt.Errorf("%s: %w", what, err)
	}
	line := fmt.Sprintf("   %-56s %-24s %9v", what, code, took)
	if detail != "" {
		line += "  " + detail
	}
	say("%s", line)
	if code != want {
		return fmt.Errorf("%s returned %v (%v), want %v", what, code, err, want)
	}
	return nil
}

// dial connects a failover.Client to n's hagsrmd, printing the call.
func (d *demo) dial(n *node) (*failover.Client, error) {
	var c *failover.Client
	err := call(fmt.Sprintf("failover.Dial(%s's hagsrmd)", n.name), failover.CodeSuccess, func() (string, error) {
		var err error
		c, err = failover.Dial(d.ctx, failover.WithSocket(n.socket))
		if err != nil {
			return "", err
		}
		return "access " + c.Access().String(), nil
	})
	return c, err
}

func groupDetail(g failover.GroupInfo) string {
	s := fmt.Sprintf("%v, owner %s, sequence %d", g.State, g.Owner, g.Sequence)
	if g.MovingTo != "" {
		s += ", moving to " + g.MovingTo
	}
	return s
}

func resourceDetail(r failover.ResourceInfo) string {
	return fmt.Sprintf("%v on %s, persistent %s, sequence %d", r.State, r.Owner, r.PersistentState, r.Sequence)
}

// createResource creates a resource in the demo's group, printing the call.
func createResource(ctx context.Context, c *failover.Client, spec failover.ResourceSpec, shown string) (*failover.Resource, error) {
	spec.Group = groupName
	var r *failover.Resource
	err := call(fmt.Sprintf("CreateResource(%s, %s)", spec.Name, shown), failover.CodeSuccess, func() (string, error) {
		var err error
		r, err = c.CreateResource(ctx, spec)
		return "", err
	})
	return r, err
}

func execSpec(name, command string) failover.ResourceSpec {
	return failover.ResourceSpec{Name: name, Agent: "exec", Params: map[string]string{"command": command}}
}

// createGroup creates the demo's group on NodeA and brings it online.
func (d *demo) createGroup() error {
	ctx := d.ctx
	say("\n== 3. creating %q with the Go API, through NodeA's hagsrmd: the new group belongs to NodeA", groupName)
	say("   db is Debian's OCF Dummy agent with stop-timeout=%s (its meta-data says 20s). No fence command is", dummyStopTimeout)
	say("   configured, so a group taken from a dead node waits out its self-fencing window: the lease's")
	say("   timeout plus the longest OCF stop timeout of the group. The short stop timeout keeps step 6 short.")
	say("   web is an exec resource that depends on db.")
	c, err := d.dial(d.nodes[0])
	if err != nil {
		return err
	}
	defer c.Close()
	var g *failover.Group
	if err := call(fmt.Sprintf("CreateGroup(%q)", groupName), failover.CodeSuccess, func() (string, error) {
		g, err = c.CreateGroup(ctx, groupName, nil)
		return "", err
	}); err != nil {
		return err
	}
	if _, err := createResource(ctx, c, failover.ResourceSpec{Name: "db", Agent: "ocf:heartbeat:Dummy",
		Props: map[string]string{"stop-timeout": dummyStopTimeout}},
		"ocf:heartbeat:Dummy, stop-timeout="+dummyStopTimeout); err != nil {
		return err
	}
	web, err := createResource(ctx, c, execSpec("web", "exec sleep infinity"), `exec "exec sleep infinity"`)
	if err != nil {
		return err
	}
	if err := call(`web.SetDependency("[db]")`, failover.CodeSuccess, func() (string, error) {
		return "", web.SetDependency(ctx, "[db]")
	}); err != nil {
		return err
	}
	mark := d.actionMark()
	if err := call("Group.Online()", failover.CodeIOPending, func() (string, error) {
		return "", g.Online(ctx)
	}); err != nil {
		return err
	}
	var info failover.GroupInfo
	if err := call("Group.Wait()", failover.CodeSuccess, func() (string, error) {
		wctx, cancel := context.WithTimeout(ctx, wait)
		defer cancel()
		info, err = g.Wait(wctx)
		return groupDetail(info), err
	}); err != nil {
		return err
	}
	if info.State != failover.GroupOnline || info.Owner != "NodeA" {
		return fmt.Errorf("the new group should be Online on NodeA: %s", groupDetail(info))
	}
	if err := d.showActions(mark); err != nil {
		return err
	}
	_, err = d.agree(d.nodes[:], info)
	return err
}

// agree waits until every manager of nodes reports the group at want's
// sequence number or later (each applies an agreed change when its hagsd
// delivers it, a moment apart), prints their views, and fails unless they
// are the same.
func (d *demo) agree(nodes []*node, want failover.GroupInfo) ([]failover.GroupInfo, error) {
	ctx := d.ctx
	began := time.Now()
	var views []failover.GroupInfo
	var names []string
	for _, n := range nodes {
		c, err := failover.Dial(ctx, failover.WithSocket(n.socket))
		if err != nil {
			return nil, err
		}
		var info failover.GroupInfo
		err = poll(ctx, func() (bool, error) {
			g, err := c.OpenGroup(ctx, groupName)
			if err != nil {
				return false, err
			}
			defer g.Close()
			info, err = g.State(ctx)
			return info.Sequence >= want.Sequence, err
		})
		c.Close()
		if err != nil {
			return nil, fmt.Errorf("%s's view of the group: %w", n.name, err)
		}
		views = append(views, info)
		names = append(names, n.name)
	}
	for i, v := range views {
		if v.State != views[0].State || v.Owner != views[0].Owner || v.Sequence != views[0].Sequence {
			return nil, fmt.Errorf("%s and %s disagree: %s; %s", names[0], names[i], groupDetail(views[0]), groupDetail(v))
		}
	}
	say("   %s all report %s (within %v)", strings.Join(names, ", "), groupDetail(views[0]), since(began))
	return views, nil
}

// movingAGroup plays MS-CMRP's example "Moving a Group".
func (d *demo) movingAGroup() error {
	ctx := d.ctx
	say("\n== 4. MS-CMRP's example \"Moving a Group\": the client needs %q on NodeB.", groupName)
	say("   It may connect to any node: it talks to NodeC's hagsrmd, which neither owns the group nor receives it.")
	c, err := d.dial(d.nodes[2])
	if err != nil {
		return err
	}
	defer c.Close()
	var g *failover.Group
	if err := call(fmt.Sprintf("OpenGroup(%q)          [ApiOpenGroup]", groupName), failover.CodeSuccess, func() (string, error) {
		g, err = c.OpenGroup(ctx, groupName)
		return "", err
	}); err != nil {
		return err
	}
	var info failover.GroupInfo
	if err := call("Group.State()                    [ApiGetGroupState]", failover.CodeSuccess, func() (string, error) {
		info, err = g.State(ctx)
		return groupDetail(info), err
	}); err != nil {
		return err
	}
	if info.Owner != "NodeA" || info.State != failover.GroupOnline {
		return fmt.Errorf("before the move the group should be Online on NodeA: %s", groupDetail(info))
	}
	say("   the owner is NodeA, not NodeB: the client moves the group")
	var nodeB *failover.Node
	if err := call(`OpenNode("NodeB")                [ApiOpenNode]`, failover.CodeSuccess, func() (string, error) {
		nodeB, err = c.OpenNode(ctx, "NodeB")
		return "", err
	}); err != nil {
		return err
	}
	mark := d.actionMark()
	moved := time.Now()
	if err := call("Group.MoveTo(NodeB)              [ApiMoveGroupToNode]", failover.CodeIOPending, func() (string, error) {
		return "", g.MoveTo(ctx, nodeB)
	}); err != nil {
		return err
	}
	say("   ERROR_IO_PENDING: the move goes on. The client polls Group.State() until the group is no longer")
	say("   ClusterGroupPending (the seed's client polls every five seconds; this one every %v):", pollEvery)
	polls := 0
	var last string
	for info.State = failover.GroupPending; info.State == failover.GroupPending; {
		if time.Since(moved) > wait {
			return fmt.Errorf("the group is still Pending %v after the move: %s", wait, groupDetail(info))
		}
		time.Sleep(pollEvery) // the seed's client polls on a period
		polls++
		if info, err = g.State(ctx); err != nil {
			return fmt.Errorf("Group.State(): %w", err)
		}
		if s := groupDetail(info); s != last { // show each state the polls met, once
			say("     poll %3d  +%-9v Group.State() → ERROR_SUCCESS  %s", polls, since(moved), s)
			last = s
		}
	}
	took := since(moved)
	if info.State != failover.GroupOnline || info.Owner != "NodeB" {
		return fmt.Errorf("after the move the group should be Online on NodeB: %s", groupDetail(info))
	}
	say("   the move is complete: %v on %s, %v after ApiMoveGroupToNode, %d polls", info.State, info.Owner, took, polls)
	return d.showActions(mark)
}

// onlineResource plays ApiOnlineResource: a complex dependency, then an agent that
// fails and is recovered.
func (d *demo) onlineResource() error {
	ctx := d.ctx
	say("\n== 5. ApiOnlineResource, on the group's owner NodeB (the client stays on NodeC)")
	c, err := d.dial(d.nodes[2])
	if err != nil {
		return err
	}
	defer c.Close()
	rec, err := d.watch(c)
	if err != nil {
		return err
	}
	say("   app depends on db (a simple dependency) and on vip1 or vip2 (a complex one)")
	for _, name := range []string{"vip1", "vip2"} {
		if _, err := createResource(ctx, c, execSpec(name, "exec sleep infinity"), `exec "exec sleep infinity"`); err != nil {
			return err
		}
	}
	app, err := createResource(ctx, c, execSpec("app", "exec sleep infinity"), `exec "exec sleep infinity"`)
	if err != nil {
		return err
	}
	const expr = "([vip1] or [vip2]) and [db]"
	if err := call(fmt.Sprintf("app.SetDependency(%q)", expr), failover.CodeSuccess, func() (string, error) {
		return "", app.SetDependency(ctx, expr)
	}); err != nil {
		return err
	}
	var info failover.ResourceInfo
	if err := call("app.State()                      [ApiGetResourceState]", failover.CodeSuccess, func() (string, error) {
		info, err = app.State(ctx)
		return resourceDetail(info), err
	}); err != nil {
		return err
	}
	mark, wmark := d.actionMark(), rec.mark()
	if err := call("app.Online()                     [ApiOnlineResource]", failover.CodeIOPending, func() (string, error) {
		return "", app.Online(ctx)
	}); err != nil {
		return err
	}
	if err := call("app.Wait()", failover.CodeSuccess, func() (string, error) {
		wctx, cancel := context.WithTimeout(ctx, wait)
		defer cancel()
		info, err = app.Wait(wctx)
		return resourceDetail(info), err
	}); err != nil {
		return err
	}
	if info.State != failover.ResourceOnline || info.Owner != "NodeB" {
		return fmt.Errorf("app should be Online on NodeB: %s", resourceDetail(info))
	}
	// The watcher sees the same changes as app.Wait's, through a watch of
	// its own: wait for it to have the last one too.
	if _, err := rec.waitFor(wmark, func(ch failover.Change) bool {
		return ch.Resource != nil && ch.Resource.Name == "app" && ch.Resource.State == failover.ResourceOnline
	}); err != nil {
		return fmt.Errorf("the watcher did not see app come online: %w", err)
	}
	say("   what the watcher (Client.Watch, on NodeC) saw: providers come online before app starts")
	changes := rec.since(wmark)
	showChanges(changes, func(failover.Change) bool { return true })
	if err := providersFirst(changes); err != nil {
		return err
	}
	if err := d.showActions(mark); err != nil {
		return err
	}
	if err := call("app.Online() again               [ApiOnlineResource]", failover.CodeSuccess, func() (string, error) {
		return "already Online: ERROR_SUCCESS, as the seed says", app.Online(ctx)
	}); err != nil {
		return err
	}

	say("\n   a resource whose agent fails: worker's command exits 1 the first time it runs")
	failedOnce := filepath.Join(d.dir, "worker-failed-once")
	cmd := fmt.Sprintf("test -e %s || { touch %s; exit 1; }; exec sleep infinity", failedOnce, failedOnce)
	worker, err := createResource(ctx, c, execSpec("worker", cmd), `exec "fail once, then sleep"`)
	if err != nil {
		return err
	}
	mark, wmark = d.actionMark(), rec.mark()
	onlined := time.Now()
	if err := call("worker.Online()                  [ApiOnlineResource]", failover.CodeIOPending, func() (string, error) {
		return "", worker.Online(ctx)
	}); err != nil {
		return err
	}
	failed := false
	recovered, err := rec.waitFor(wmark, func(ch failover.Change) bool {
		if ch.Resource == nil || ch.Resource.Name != "worker" {
			return false
		}
		failed = failed || ch.Resource.State == failover.ResourceFailed
		return failed && ch.Resource.State == failover.ResourceOnline
	})
	if err != nil {
		return fmt.Errorf("worker did not fail and come back online: %w", err)
	}
	say("   what the watcher saw of worker:")
	showChanges(rec.since(wmark), func(ch failover.Change) bool { return ch.Resource != nil && ch.Resource.Name == "worker" })
	w := recovered.ch.Resource
	say("   worker Failed, then was restarted in place on %s (restart-delay %v): Online %v after worker.Online(), restarts %d",
		w.Owner, w.Properties.RestartDelay, since(onlined), w.Restarts)
	if w.Owner != "NodeB" || w.Restarts < 1 {
		return fmt.Errorf("worker should have been restarted in place on NodeB: %s, restarts %d", resourceDetail(*w), w.Restarts)
	}
	if err := call("worker.State()", failover.CodeSuccess, func() (string, error) {
		info, err = worker.State(ctx)
		return fmt.Sprintf("%s; last failure: %s", resourceDetail(info), info.LastFailure), err
	}); err != nil {
		return err
	}
	return d.showActions(mark)
}

// providersFirst checks, in the order the watcher saw the changes, that
// app started only once db and one of vip1 and vip2 were Online.
func providersFirst(changes []seen) error {
	online := map[string]bool{"db": true} // db was Online before app.Online()
	for _, s := range changes {
		r := s.ch.Resource
		if r == nil {
			continue
		}
		if r.Name == "app" && r.State == failover.ResourceOnline {
			if !online["db"] || !(online["vip1"] || online["vip2"]) {
				return fmt.Errorf("app came online before its providers: %v", online)
			}
			return nil
		}
		online[r.Name] = r.State == failover.ResourceOnline
	}
	return errors.New("the watcher did not see app come online")
}

// failover kills NodeB's hagsd and shows the group come up elsewhere.
func (d *demo) failover() error {
	ctx := d.ctx
	b := d.nodes[1]
	say("\n== 6. SIGKILL NodeB's hagsd, while NodeB owns %q", groupName)
	say("   NodeB's hagsrmd loses its session and stops its resources at once; the other nodes see NodeB go")
	say("   Down and take the group over once its self-fencing window has passed (there is no fence command)")
	c, err := d.dial(d.nodes[2])
	if err != nil {
		return err
	}
	defer c.Close()
	rec, err := d.watch(c)
	if err != nil {
		return err
	}
	var g *failover.Group
	var info failover.GroupInfo
	if err := call(fmt.Sprintf("OpenGroup(%q)", groupName), failover.CodeSuccess, func() (string, error) {
		g, err = c.OpenGroup(ctx, groupName)
		return "", err
	}); err != nil {
		return err
	}
	if err := call("Group.State()", failover.CodeSuccess, func() (string, error) {
		info, err = g.State(ctx)
		return groupDetail(info), err
	}); err != nil {
		return err
	}
	if info.Owner != "NodeB" || info.State != failover.GroupOnline {
		return fmt.Errorf("before the kill the group should be Online on NodeB: %s", groupDetail(info))
	}
	var db *failover.Resource
	if err := call(`OpenResource("db")`, failover.CodeSuccess, func() (string, error) {
		db, err = c.OpenResource(ctx, "db")
		return "", err
	}); err != nil {
		return err
	}

	mark, wmark, logMark := d.actionMark(), rec.mark(), len(b.hagsrmd.Log.All())
	killed := time.Now()
	say("   kill -KILL %d (NodeB's hagsd)", b.hagsd.Pid())
	b.hagsd.Kill()
	down, err := rec.waitFor(wmark, func(ch failover.Change) bool {
		return ch.Node != nil && ch.Node.Name == "NodeB" && ch.Node.State == failover.NodeDown
	})
	if err != nil {
		return fmt.Errorf("NodeB was not seen Down: %w", err)
	}
	say("   NodeC's manager reports NodeB %v %v after the kill; why is db not online yet?",
		down.ch.Node.State, roundDur(down.at.Sub(killed)))
	var why []string
	if err := call("db.Why()", failover.CodeSuccess, func() (string, error) {
		why, err = db.Why(ctx)
		return "", err
	}); err != nil {
		return err
	}
	for _, s := range why {
		say("     %s", s)
	}
	up, err := rec.waitFor(wmark, func(ch failover.Change) bool {
		return ch.Group != nil && ch.Group.Name == groupName && ch.Group.State == failover.GroupOnline &&
			ch.Group.Owner != "NodeB" && ch.Group.MovingTo == ""
	})
	if err != nil {
		return fmt.Errorf("the group did not come online on another node: %w", err)
	}
	say("   what the watcher (on NodeC) saw after the kill:")
	showChangesFrom(rec.since(wmark), killed)
	if line, _, err := b.hagsrmd.Log.WaitFor(regexp.MustCompile(`every resource of this node is stopped`), logMark, wait); err != nil {
		return fmt.Errorf("NodeB's hagsrmd did not stop its resources: %w", err)
	} else if t, ok := logTime(line); ok {
		say("   NodeB's hagsrmd had stopped every resource of its node %v after the kill (its log)", roundDur(t.Sub(killed)))
	}
	say("   %q is %v on %s, %v after the kill", groupName, up.ch.Group.State, up.ch.Group.Owner, roundDur(up.at.Sub(killed)))
	return d.showActions(mark)
}

var logTimeRe = regexp.MustCompile(`^time=(\S+)`)

// logTime reads the time of a hagsrmd log line (text format).
func logTime(line string) (time.Time, bool) {
	m := logTimeRe.FindStringSubmatch(line)
	if m == nil {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, m[1])
	return t, err == nil
}

// check shows that the surviving nodes agree, runs the overlap checker over
// the action log, and prints hagsrm status.
func (d *demo) check() error {
	ctx := d.ctx
	say("\n== 7. checks")
	c, err := failover.Dial(ctx, failover.WithSocket(d.nodes[2].socket))
	if err != nil {
		return err
	}
	g, err := c.OpenGroup(ctx, groupName)
	if err != nil {
		c.Close()
		return err
	}
	info, err := g.State(ctx)
	c.Close()
	if err != nil {
		return err
	}
	if _, err := d.agree([]*node{d.nodes[0], d.nodes[2]}, info); err != nil {
		return err
	}
	recs, err := actlog.ReadFile(d.actions)
	if err != nil {
		return err
	}
	groupOf := map[string]string{}
	for _, r := range recs {
		groupOf[r.Resource] = groupName
	}
	if vs := rmcheck.Overlaps(recs, groupOf); len(vs) > 0 {
		return fmt.Errorf("the overlap checker found the group running on two nodes at once:\n%s", rmcheck.Report(vs))
	}
	say("   the overlap checker (failover/rmcheck) read %d agent actions: at no moment did two nodes run %q",
		len(recs), groupName)

	say("\n   hagsrm --socket <NodeA's> status")
	out, err := exec.CommandContext(ctx, filepath.Join(d.bin, "hagsrm"), "--socket", d.nodes[0].socket, "status").CombinedOutput()
	if err != nil {
		return fmt.Errorf("hagsrm status: %w: %s", err, out)
	}
	for _, l := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
		say("     %s", l)
	}
	return nil
}

// stop takes the group offline and stops the managers, then the daemons.
func (d *demo) stop() error {
	ctx := d.ctx
	say("\n== 8. stopping: the group goes offline, then every hagsrmd and hagsd gets SIGTERM")
	c, err := failover.Dial(ctx, failover.WithSocket(d.nodes[0].socket))
	if err != nil {
		return err
	}
	defer c.Close()
	g, err := c.OpenGroup(ctx, groupName)
	if err != nil {
		return err
	}
	if err := call("Group.Offline()", failover.CodeIOPending, func() (string, error) {
		return "", g.Offline(ctx)
	}); err != nil {
		return err
	}
	if err := call("Group.Wait()", failover.CodeSuccess, func() (string, error) {
		wctx, cancel := context.WithTimeout(ctx, wait)
		defer cancel()
		info, err := g.Wait(wctx)
		return groupDetail(info), err
	}); err != nil {
		return err
	}
	var errs []error
	for _, n := range d.nodes {
		if err := n.hagsrmd.Stop(wait); err != nil {
			errs = append(errs, fmt.Errorf("%s's hagsrmd: %w", n.name, err))
		}
	}
	for _, n := range d.nodes {
		if n.name == "NodeB" {
			continue // killed in step 6
		}
		if err := n.hagsd.Stop(wait); err != nil {
			errs = append(errs, fmt.Errorf("%s's hagsd: %w", n.name, err))
		}
	}
	return errors.Join(errs...)
}

// kill ends whatever still runs (after a failure).
func (d *demo) kill() {
	for _, n := range d.nodes {
		if n == nil {
			continue
		}
		if n.hagsrmd != nil {
			n.hagsrmd.Kill()
		}
		if n.hagsd != nil {
			n.hagsd.Kill()
		}
	}
}

// actionMark returns where the action log ends now, and the monotonic
// time, for showActions.
func (d *demo) actionMark() actionMark {
	recs, _ := actlog.ReadFile(d.actions) // no file yet: nothing was logged
	return actionMark{n: len(recs), mono: actlog.Now()}
}

type actionMark struct {
	n    int
	mono int64
}

// showActions prints the agent actions logged since m, timed from m.
func (d *demo) showActions(m actionMark) error {
	recs, err := actlog.ReadFile(d.actions)
	if err != nil {
		return err
	}
	if len(recs) <= m.n {
		say("   agent actions: none")
		return nil
	}
	say("   agent actions (the action log, by CLOCK_MONOTONIC):")
	recs = recs[m.n:]
	// Records are appended when an action ends; a start carries the time
	// it began.
	slices.SortStableFunc(recs, func(a, b actlog.Record) int { return cmp.Compare(a.Mono, b.Mono) })
	for _, r := range recs {
		result := "ok"
		if !r.OK {
			result = "FAILED"
		}
		why := ""
		if r.Why != "" && r.Why != actlog.WhyStop {
			why = " (" + r.Why + ")"
		}
		say("     +%-9v %-6s %-5s %-7s %s%s", roundDur(time.Duration(r.Mono-m.mono)), r.Node, r.Op, r.Resource, result, why)
	}
	return nil
}

// seen is a change and when the demo received it.
type seen struct {
	at time.Time
	ch failover.Change
}

// recorder keeps every change a Watcher delivers; one goroutine fills it
// until the watch ends (when its Client is closed).
type recorder struct {
	mu      sync.Mutex
	changes []seen
	more    chan struct{} // closed and replaced at each change and at the end
	ended   bool
}

// watch starts a Watcher on c and records its changes.
func (d *demo) watch(c *failover.Client) (*recorder, error) {
	w, err := c.Watch(d.ctx)
	if err != nil {
		return nil, fmt.Errorf("Watch: %w", err)
	}
	r := &recorder{more: make(chan struct{})}
	go func() {
		for ch := range w.Changes() {
			r.mu.Lock()
			r.changes = append(r.changes, seen{at: time.Now(), ch: ch})
			close(r.more)
			r.more = make(chan struct{})
			r.mu.Unlock()
		}
		r.mu.Lock()
		r.ended = true
		close(r.more)
		r.mu.Unlock()
	}()
	return r, nil
}

func (r *recorder) mark() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.changes)
}

func (r *recorder) since(from int) []seen {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]seen(nil), r.changes[from:]...)
}

// waitFor waits up to wait for a change at index ≥ from that pred accepts
// (pred sees every change once, in order).
func (r *recorder) waitFor(from int, pred func(failover.Change) bool) (seen, error) {
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	for {
		r.mu.Lock()
		for ; from < len(r.changes); from++ {
			if s := r.changes[from]; pred(s.ch) {
				r.mu.Unlock()
				return s, nil
			}
		}
		more, ended := r.more, r.ended
		r.mu.Unlock()
		if ended {
			return seen{}, errors.New("the watch ended")
		}
		select {
		case <-more:
		case <-deadline.C:
			return seen{}, fmt.Errorf("not within %v", wait)
		}
	}
}

func changeLine(ch failover.Change) string {
	switch {
	case ch.Node != nil:
		return fmt.Sprintf("node %s %v", ch.Node.Name, ch.Node.State)
	case ch.Group != nil:
		return "group " + groupDetail(*ch.Group)
	case ch.Resource != nil:
		r := ch.Resource
		return fmt.Sprintf("resource %-6s %v on %s, sequence %d", r.Name, r.State, r.Owner, r.Sequence)
	}
	return "?"
}

// showChanges prints the changes keep accepts, timed from the first one.
func showChanges(changes []seen, keep func(failover.Change) bool) {
	var first time.Time
	for _, s := range changes {
		if !keep(s.ch) {
			continue
		}
		if first.IsZero() {
			first = s.at
		}
		say("     +%-9v %s", roundDur(s.at.Sub(first)), changeLine(s.ch))
	}
}

// showChangesFrom prints every change, timed from t.
func showChangesFrom(changes []seen, t time.Time) {
	for _, s := range changes {
		say("     +%-9v %s", roundDur(s.at.Sub(t)), changeLine(s.ch))
	}
}

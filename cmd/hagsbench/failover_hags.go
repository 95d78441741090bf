package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/openhags/hags/failover"
	"github.com/openhags/hags/failover/agent/actlog"
)

// hagsRM is three hagsd and three hagsrmd with default settings, each
// hagsd in a network namespace of its own when namespaces can be made
// (else on loopback), each hagsrmd beside it, talking to it over its Unix
// socket. OCF resources are ActLogDummy (their records go to acts); the
// agent runner of every hagsrmd writes its own records to runner (the
// exec resources' times).
type hagsRM struct {
	cfg     *config
	nn      *netns // nil: loopback
	port    int    // loopback: the first node's port
	dir     string
	ocfRoot string
	acts    *actTail
	runner  *actTail

	mu    sync.Mutex
	hagsd [rmNodes]*service
	rmd   [rmNodes]*service
}

var hagsrmdReady = regexp.MustCompile(`msg=ready`)

// newHagsRM prepares the cluster's directories and its OCF root (the
// machine's agents and ActLogDummy); startAll starts it.
func newHagsRM(cfg *config, nn *netns, dir string) (*hagsRM, error) {
	h := &hagsRM{cfg: cfg, nn: nn, dir: dir, port: 20000 + rand.IntN(20000)}
	h.ocfRoot = filepath.Join(dir, "ocf")
	if err := os.MkdirAll(filepath.Join(h.ocfRoot, "resource.d", "hagsbench"), 0o755); err != nil {
		return nil, err
	}
	if err := installActLogDummy(cfg, filepath.Join(h.ocfRoot, "resource.d", "hagsbench")); err != nil {
		return nil, err
	}
	for _, l := range [][2]string{{"/usr/lib/ocf/resource.d/heartbeat", "resource.d/heartbeat"}, {"/usr/lib/ocf/lib", "lib"}} {
		if err := os.Symlink(l[0], filepath.Join(h.ocfRoot, l[1])); err != nil {
			return nil, err
		}
	}
	h.acts = newActTail(cfg.ctx, filepath.Join(dir, "actions.log"))
	h.runner = newActTail(cfg.ctx, filepath.Join(dir, "runner.log"))
	return h, nil
}

// installActLogDummy copies the wrapper agent into dir.
func installActLogDummy(cfg *config, dir string) error {
	b, err := os.ReadFile(filepath.Join(cfg.root, "examples", "failover", "ActLogDummy"))
	if err != nil {
		return fmt.Errorf("the wrapper agent: %w", err)
	}
	return os.WriteFile(filepath.Join(dir, "ActLogDummy"), b, 0o755)
}

func (h *hagsRM) name() string  { return "hags" }
func (h *hagsRM) log() *actTail { return h.acts }
func (h *hagsRM) rmSock(i int) string {
	return filepath.Join(h.dir, fmt.Sprintf("rm%d.sock", i+1))
}

func (h *hagsRM) addrs(i int) (raft, gossip string) {
	if h.nn != nil {
		return h.nn.addr(i) + ":7100", h.nn.addr(i) + ":7101"
	}
	p := h.port + 10*i
	return fmt.Sprintf("127.0.0.1:%d", p), fmt.Sprintf("127.0.0.1:%d", p+1)
}

func (h *hagsRM) startNode(i int) error {
	var voters, join []string
	for j := range rmNodes {
		raft, gossip := h.addrs(j)
		voters = append(voters, fmt.Sprintf("%d=%s", j+1, raft))
		join = append(join, gossip)
	}
	raft, gossip := h.addrs(i)
	gs := filepath.Join(h.dir, fmt.Sprintf("gs%d.sock", i+1))
	argv := []string{filepath.Join(h.cfg.bin, "hagsd"), "--socket", gs, "--domain", "hagsbench-rm",
		"--node", fmt.Sprint(i + 1), "--name", rmNodeNames[i], "--voters", strings.Join(voters, ","),
		"--addr", raft, "--gossip", gossip, "--join", strings.Join(join, ","),
		"--data-dir", filepath.Join(h.dir, fmt.Sprintf("data%d", i+1)),
		"--insecure"} // a benchmark in private network namespaces (or on loopback)
	if h.nn != nil {
		argv = inNs(h.nn.nodes[i], argv...)
	}
	// hagsd and hagsrmd start together (hagsrmd waits for hagsd's socket
	// itself), as a node's service manager would start them.
	var wg sync.WaitGroup
	var derr, merr error
	var d, m *service
	wg.Add(2)
	go func() {
		defer wg.Done()
		d, derr = startService(fmt.Sprintf("hagsd-%s", rmNodeNames[i]), hagsdReady, 30*time.Second, argv...)
	}()
	go func() {
		defer wg.Done()
		m, merr = startService(fmt.Sprintf("hagsrmd-%s", rmNodeNames[i]), hagsrmdReady, 30*time.Second,
			filepath.Join(h.cfg.bin, "hagsrmd"), "--gs-socket", gs, "--socket", h.rmSock(i),
			"--state-dir", filepath.Join(h.dir, fmt.Sprintf("state%d", i+1)), "--agents-dir", h.ocfRoot,
			"--action-log", h.runner.path)
	}()
	wg.Wait()
	h.mu.Lock()
	h.hagsd[i], h.rmd[i] = d, m
	h.mu.Unlock()
	if err := errors.Join(derr, merr); err != nil {
		h.kill(i)
		return err
	}
	return nil
}

func (h *hagsRM) startAll() error {
	errs := make([]error, rmNodes)
	var wg sync.WaitGroup
	for i := range rmNodes {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = h.startNode(i) }()
	}
	wg.Wait()
	return errors.Join(errs...)
}

func (h *hagsRM) alive(i int) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.hagsd[i] != nil
}

// client dials the hagsrmd of a live node.
func (h *hagsRM) client(ctx context.Context) (*failover.Client, error) {
	var errs []error
	for i := range rmNodes {
		if !h.alive(i) {
			continue
		}
		c, err := failover.Dial(ctx, failover.WithSocket(h.rmSock(i)))
		if err == nil {
			return c, nil
		}
		errs = append(errs, err)
	}
	return nil, fmt.Errorf("no hagsrmd answers: %w", errors.Join(errs...))
}

// withClient runs f with a client of a live node's hagsrmd.
func (h *hagsRM) withClient(timeout time.Duration, f func(ctx context.Context, c *failover.Client) error) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	c, err := h.client(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	return f(ctx, c)
}

// ready waits until every live node's manager is Up in every live
// manager's view.
func (h *hagsRM) ready(timeout time.Duration) error {
	return retryUntil(timeout, 100*time.Millisecond, func() error {
		for i := range rmNodes {
			if !h.alive(i) {
				continue
			}
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			c, err := failover.Dial(ctx, failover.WithSocket(h.rmSock(i)))
			if err != nil {
				cancel()
				return err
			}
			err = h.readWrite(ctx, c, i)
			c.Close()
			cancel()
			if err != nil {
				return err
			}
		}
		return nil
	})
}

// readWrite checks, through node i's manager, that every live node is Up,
// and that the manager takes changes: resuming a node that is not paused
// changes nothing, and is refused with ERROR_CLUSTER_NODE_NOT_PAUSED by a
// manager that is read/write, ERROR_SHARING_PAUSED by one that is not.
func (h *hagsRM) readWrite(ctx context.Context, c *failover.Client, i int) error {
	nodes, err := c.Nodes(ctx)
	if err != nil {
		return err
	}
	for _, n := range nodes {
		if j := nodeIndex(n.Name); j >= 0 && h.alive(j) && n.State != failover.NodeUp {
			return fmt.Errorf("%s sees %s %v", rmNodeNames[i], n.Name, n.State)
		}
	}
	n, err := c.OpenNode(ctx, rmNodeNames[i])
	if err != nil {
		return err
	}
	defer n.Close()
	if err := n.Resume(ctx); !errors.Is(err, failover.ErrClusterNodeNotPaused) {
		return fmt.Errorf("%s is not read/write yet: %v", rmNodeNames[i], err)
	}
	return nil
}

// kill ends node i's processes with SIGKILL.
func (h *hagsRM) kill(i int) {
	h.mu.Lock()
	d, m := h.hagsd[i], h.rmd[i]
	h.hagsd[i], h.rmd[i] = nil, nil
	h.mu.Unlock()
	// Both stop first, then both die: neither may see the other go and
	// act on it (hagsd telling the domain that hagsrmd's session broke
	// before hagsd itself dies), which a machine's death would not allow.
	for _, sig := range []syscall.Signal{syscall.SIGSTOP, syscall.SIGKILL} {
		for _, s := range []*service{m, d} {
			if s != nil {
				_ = s.cmd.Process.Signal(sig)
			}
		}
	}
	for _, s := range []*service{m, d} {
		if s != nil {
			<-s.done
		}
	}
}

// killNode is the death of node i: hagsrmd and hagsd get SIGKILL (an exec
// resource dies with its hagsrmd), and what the node's agents kept in its
// run-time directory goes, as /run does when a machine goes down.
func (h *hagsRM) killNode(i int) error {
	h.kill(i)
	at := actlog.Now()
	if err := os.RemoveAll(filepath.Join(h.dir, fmt.Sprintf("state%d", i+1), "rsctmp")); err != nil {
		return err
	}
	return errors.Join(h.acts.powerOffRecords(i, at), h.runner.powerOffRecords(i, at))
}

func (h *hagsRM) powerOff() {
	for i := range rmNodes {
		_ = h.killNode(i)
	}
}

func (h *hagsRM) cut(i int) error {
	if h.nn == nil {
		return fmt.Errorf("%w: no network namespaces", errSkipped)
	}
	return h.nn.setLink(i, false)
}

func (h *hagsRM) heal(i int) error {
	if h.nn == nil {
		return nil
	}
	return h.nn.setLink(i, true)
}

// resourceSpec is how r is created.
func (h *hagsRM) resourceSpec(group string, r rmResource) failover.ResourceSpec {
	spec := failover.ResourceSpec{Name: r.name, Group: group, Props: map[string]string{}}
	if r.exec {
		spec.Agent = "exec"
		spec.Params = map[string]string{"command": execCommand(r.name)}
	} else {
		spec.Agent = "ocf:hagsbench:ActLogDummy"
		spec.Params = map[string]string{"actlog": h.acts.path, "actlog_bin": h.cfg.actlogBin}
	}
	spec.Props["monitor-interval"] = r.monitor.String()
	if r.stopTimeout != "" {
		spec.Props["stop-timeout"] = r.stopTimeout
	}
	if r.restartDelay != "" {
		spec.Props["restart-delay"] = r.restartDelay
	}
	return spec
}

// execCommand is an exec resource's command: a sleep whose argument is
// the resource's own, so that the benchmark can find its process.
func execCommand(res string) string {
	var n uint32
	for _, c := range res {
		n = n*31 + uint32(c)
	}
	return fmt.Sprintf("sleep %d", 100000000+n%100000000)
}

// benchGroupProps lets a benchmark group fail over as often as the
// scenarios make it (the default allows nodes − 1 failovers in 6 hours).
var benchGroupProps = map[string]string{"failover-threshold": "100000"}

func (h *hagsRM) createGroup(g rmGroup) error {
	from := h.logFor(g).mark()
	err := h.withClient(30*time.Second, func(ctx context.Context, c *failover.Client) error {
		grp, err := c.CreateGroup(ctx, g.name, benchGroupProps)
		if err != nil {
			return err
		}
		for _, r := range g.resources {
			if _, err := c.CreateResource(ctx, h.resourceSpec(g.name, r)); err != nil {
				return err
			}
		}
		if !g.online {
			return nil
		}
		if err := grp.Online(ctx); err != nil && !errors.Is(err, failover.ErrIOPending) {
			return err
		}
		return nil
	})
	if err != nil || !g.online {
		return err
	}
	_, err = h.logFor(g).waitCount(from, len(g.resources), 60*time.Second, func(r actlog.Record) bool {
		return r.Op == actlog.OpStart && r.OK && strings.HasPrefix(r.Resource, g.name)
	})
	return err
}

// logFor is the log that times g's resources.
func (h *hagsRM) logFor(g rmGroup) *actTail {
	if len(g.resources) > 0 && g.resources[0].exec {
		return h.runner
	}
	return h.acts
}

// hagsrm runs the CLI against a live node's hagsrmd.
func (h *hagsRM) hagsrm(args ...string) (int64, []byte, error) {
	sock := ""
	for i := range rmNodes {
		if h.alive(i) {
			sock = h.rmSock(i)
			break
		}
	}
	return runTimed(nil, append([]string{filepath.Join(h.cfg.bin, "hagsrm"), "--socket", sock}, args...)...)
}

func (h *hagsRM) move(group string, to int) (int64, error) {
	t0, _, err := h.hagsrm("group", "move", group, rmNodeNames[to])
	return t0, err
}

func (h *hagsRM) settle(_ string, res []string) error {
	return h.withClient(30*time.Second, func(ctx context.Context, c *failover.Client) error {
		for _, name := range res {
			r, err := c.OpenResource(ctx, name)
			if err != nil {
				return err
			}
			err = r.Cleanup(ctx)
			r.Close()
			if err != nil && !errors.Is(err, failover.ErrIOPending) {
				return err
			}
		}
		return nil
	})
}

func (h *hagsRM) online(res string) (int64, error) {
	t0, _, err := h.hagsrm("resource", "online", res)
	return t0, err
}

func (h *hagsRM) offline(res string) (int64, error) {
	t0, _, err := h.hagsrm("resource", "offline", res)
	return t0, err
}

// setProps changes properties of a resource (hags only).
func (h *hagsRM) setProps(res string, props map[string]string) error {
	return h.withClient(30*time.Second, func(ctx context.Context, c *failover.Client) error {
		r, err := c.OpenResource(ctx, res)
		if err != nil {
			return err
		}
		defer r.Close()
		return r.Set(ctx, props)
	})
}

// setFencing gives every node a fence command that powers the node off
// (kills its hagsd and hagsrmd, as a power switch would) and succeeds,
// or takes the fence commands away.
func (h *hagsRM) setFencing(on bool) error {
	script := filepath.Join(h.dir, "fence-power-off")
	if on {
		body := "#!/bin/sh\n# hagsbench's power switch: kill the node's hagsd and hagsrmd.\n" +
			"for f in \"" + h.dir + "/pids.$1\"; do [ -f \"$f\" ] && kill -9 $(cat \"$f\") 2>/dev/null; done\nexit 0\n"
		if err := os.WriteFile(script, []byte(body), 0o755); err != nil {
			return err
		}
		for i := range rmNodes {
			if err := h.writePids(i); err != nil {
				return err
			}
		}
	}
	return h.withClient(30*time.Second, func(ctx context.Context, c *failover.Client) error {
		for _, name := range rmNodeNames {
			n, err := c.OpenNode(ctx, name)
			if err != nil {
				return err
			}
			cmd := ""
			if on {
				cmd = script
			}
			err = n.SetFenceCommand(ctx, cmd)
			n.Close()
			if err != nil {
				return err
			}
		}
		return nil
	})
}

// writePids records node i's process ids for the power switch.
func (h *hagsRM) writePids(i int) error {
	h.mu.Lock()
	d, m := h.hagsd[i], h.rmd[i]
	h.mu.Unlock()
	if d == nil || m == nil {
		return nil
	}
	return os.WriteFile(filepath.Join(h.dir, "pids."+rmNodeNames[i]), fmt.Appendf(nil, "%d %d\n", d.pid(), m.pid()), 0o644)
}

func (h *hagsRM) dummyState(i int, res string) string {
	return filepath.Join(h.dir, fmt.Sprintf("state%d", i+1), "rsctmp", "Dummy-"+res+".state")
}

func (h *hagsRM) applyScale(groups []rmGroup) (int64, int64, error) {
	var doc *failover.Config
	err := h.withClient(30*time.Second, func(ctx context.Context, c *failover.Client) error {
		var err error
		doc, err = c.Config(ctx)
		return err
	})
	if err != nil {
		return 0, 0, err
	}
	for k, g := range groups {
		gc := failover.GroupConfig{Name: g.name, PersistentState: failover.PersistentOffline}
		if g.online {
			gc.PersistentState = failover.PersistentOnline
		}
		// Spread the groups over the nodes, as Pacemaker does by itself.
		gc.GroupProperties = failover.DefaultGroupProperties()
		gc.PreferredOwners = []string{rmNodeNames[k%rmNodes]}
		for _, r := range g.resources {
			spec := h.resourceSpec(g.name, r)
			rc := failover.ResourceConfig{Name: r.name, Agent: spec.Agent, Params: spec.Params,
				PersistentState: gc.PersistentState, ResourceProperties: failover.DefaultResourceProperties()}
			for k, v := range spec.Props {
				if err := rc.ResourceProperties.Set(k, v); err != nil {
					return 0, 0, err
				}
			}
			gc.Resources = append(gc.Resources, rc)
		}
		doc.Groups = append(doc.Groups, gc)
	}
	b, err := doc.Marshal()
	if err != nil {
		return 0, 0, err
	}
	file := filepath.Join(h.dir, "scale.yaml")
	if err := os.WriteFile(file, b, 0o644); err != nil {
		return 0, 0, err
	}
	t0, _, err := h.hagsrm("config", "apply", file)
	return t0, actlog.Now(), err
}

func (h *hagsRM) rss(i int) (map[string]int64, error) {
	h.mu.Lock()
	d, m := h.hagsd[i], h.rmd[i]
	h.mu.Unlock()
	if d == nil || m == nil {
		return nil, fmt.Errorf("node %s is down", rmNodeNames[i])
	}
	out := map[string]int64{}
	for name, s := range map[string]*service{"hagsd": d, "hagsrmd": m} {
		v, err := rssBytes(s.pid())
		if err != nil {
			return nil, err
		}
		out[name] = v
	}
	return out, nil
}

func (h *hagsRM) close() {
	for i := range rmNodes {
		h.mu.Lock()
		d, m := h.hagsd[i], h.rmd[i]
		h.hagsd[i], h.rmd[i] = nil, nil
		h.mu.Unlock()
		if m != nil {
			m.stop(20 * time.Second)
		}
		if d != nil {
			d.stop(5 * time.Second)
		}
	}
}

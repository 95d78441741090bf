package main

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// netns is a small network made for scenario (f): a "switch" namespace
// with a bridge and one namespace per node joined to it by a veth pair.
// Nodes get addresses in 198.18.0.0/15 (set aside for benchmarks) that
// exist only inside these namespaces: no packet leaves them.
type netns struct {
	prefix string
	subnet int
	nodes  []string
}

func ipCmd(args ...string) error {
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ip %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// newNetns makes the network for count nodes; destroy removes it.
func newNetns(count int) (*netns, error) {
	var b [3]byte
	_, _ = rand.Read(b[:])
	n := &netns{prefix: "hb" + hex.EncodeToString(b[:]), subnet: int(b[0])}
	sw := n.prefix + "-sw"
	if err := ipCmd("netns", "add", sw); err != nil {
		return nil, fmt.Errorf("network namespaces cannot be made here (root and ip netns are needed): %w", err)
	}
	cmds := [][]string{
		{"-n", sw, "link", "add", "br0", "type", "bridge"},
		{"-n", sw, "link", "set", "br0", "up"},
		{"-n", sw, "link", "set", "lo", "up"},
	}
	for i := range count {
		ns := fmt.Sprintf("%s-n%d", n.prefix, i+1)
		n.nodes = append(n.nodes, ns)
		host := fmt.Sprintf("v%d", i+1)
		cmds = append(cmds,
			[]string{"netns", "add", ns},
			[]string{"-n", sw, "link", "add", host, "type", "veth", "peer", "name", "eth0", "netns", ns},
			[]string{"-n", sw, "link", "set", host, "master", "br0"},
			[]string{"-n", sw, "link", "set", host, "up"},
			[]string{"-n", ns, "addr", "add", n.addr(i) + "/24", "dev", "eth0"},
			[]string{"-n", ns, "link", "set", "eth0", "up"},
			[]string{"-n", ns, "link", "set", "lo", "up"},
		)
	}
	for _, c := range cmds {
		if err := ipCmd(c...); err != nil {
			n.destroy()
			return nil, err
		}
	}
	return n, nil
}

// newLoopbackNetns makes a network namespace with only its loopback
// device up and returns its name.
func newLoopbackNetns() (string, error) {
	var b [3]byte
	_, _ = rand.Read(b[:])
	ns := "hb" + hex.EncodeToString(b[:]) + "-lo"
	if err := ipCmd("netns", "add", ns); err != nil {
		return "", fmt.Errorf("network namespaces cannot be made here (root and ip netns are needed): %w", err)
	}
	if err := ipCmd("-n", ns, "link", "set", "lo", "up"); err != nil {
		_ = ipCmd("netns", "del", ns)
		return "", err
	}
	return ns, nil
}

// addr is node i's address.
func (n *netns) addr(i int) string { return fmt.Sprintf("198.18.%d.%d", n.subnet, i+1) }

// setLink takes node i off the network (up false: its link to the switch
// goes down, and the node's side loses its carrier) or puts it back.
func (n *netns) setLink(i int, up bool) error {
	state := "down"
	if up {
		state = "up"
	}
	return ipCmd("-n", n.prefix+"-sw", "link", "set", fmt.Sprintf("v%d", i+1), state)
}

func (n *netns) destroy() {
	for _, ns := range append(n.nodes, n.prefix+"-sw") {
		_ = exec.Command("ip", "netns", "del", ns).Run()
	}
}

// inNs prefixes argv to run inside namespace ns.
func inNs(ns string, argv ...string) []string {
	return append([]string{"ip", "netns", "exec", ns}, argv...)
}

// cluster3 is a domain of three nodes in network namespaces, for
// scenario (f): its daemons can be killed and restarted, and a client
// process runs on each node.
type cluster3 interface {
	name() string
	startNode(i int) error
	// waitNode waits until node i's daemon is in the domain with the other two.
	waitNode(i int) error
	killNode(i int)
	spawnOn(h *hub, i int, name string) (*proc, error)
	close()
}

// hagsCluster is three hagsd, all voters, with default settings.
type hagsCluster struct {
	cfg     *config
	nn      *netns
	dir     string
	daemons [3]*service
}

var hagsdAdmitted = regexp.MustCompile(`admitted to the domain`)

func (c *hagsCluster) name() string { return "hags" }

func (c *hagsCluster) socket(i int) string { return filepath.Join(c.dir, fmt.Sprintf("n%d.sock", i+1)) }

func (c *hagsCluster) startNode(i int) error {
	var voters, gossip []string
	for j := range 3 {
		voters = append(voters, fmt.Sprintf("%d=%s:7100", j+1, c.nn.addr(j)))
		gossip = append(gossip, c.nn.addr(j)+":7101")
	}
	argv := inNs(c.nn.nodes[i], filepath.Join(c.cfg.bin, "hagsd"), "--socket", c.socket(i),
		"--domain", "hagsbench-f", "--node", fmt.Sprint(i+1),
		"--voters", strings.Join(voters, ","), "--addr", fmt.Sprintf("%s:7100", c.nn.addr(i)),
		"--gossip", gossip[i], "--join", strings.Join(gossip, ","),
		"--data-dir", filepath.Join(c.dir, fmt.Sprintf("data%d", i+1)),
		"--insecure") // a benchmark in private network namespaces
	d, err := startService(fmt.Sprintf("hagsd%d", i+1), hagsdReady, 20*time.Second, argv...)
	if err != nil {
		return err
	}
	c.daemons[i] = d
	return nil
}

func (c *hagsCluster) waitNode(i int) error {
	_, err := c.daemons[i].waitFor(hagsdAdmitted, 0, 60*time.Second)
	return err
}

func (c *hagsCluster) killNode(i int) {
	if d := c.daemons[i]; d != nil {
		d.kill()
		c.daemons[i] = nil
	}
}

func (c *hagsCluster) spawnOn(h *hub, i int, name string) (*proc, error) {
	return startProc(h, name, clientEnv(), inNs(c.nn.nodes[i], c.cfg.self, "client", "--socket", c.socket(i))...)
}

func (c *hagsCluster) close() {
	for i := range c.daemons {
		if d := c.daemons[i]; d != nil {
			d.stop(5 * time.Second)
			c.daemons[i] = nil
		}
	}
}

// corosyncCluster is three corosync daemons.
type corosyncCluster struct {
	cfg     *config
	nn      *netns
	dir     string
	confs   [3]string
	daemons [3]*service
}

func (c *corosyncCluster) name() string { return "corosync" }

func (c *corosyncCluster) startNode(i int) error {
	if c.confs[i] == "" {
		var nodes []corosyncNode
		for j := range 3 {
			nodes = append(nodes, corosyncNode{ID: j + 1, Addr: c.nn.addr(j)})
		}
		conf, err := writeCorosyncConf(c.cfg, c.dir, fmt.Sprintf("corosync-n%d", i+1), nodes)
		if err != nil {
			return err
		}
		c.confs[i] = conf
	}
	d, err := startService(fmt.Sprintf("corosync%d", i+1), corosyncReady, 60*time.Second,
		corosyncArgv(c.nn.nodes[i], c.confs[i])...)
	if err != nil {
		return err
	}
	c.daemons[i] = d
	return nil
}

var corosyncThree = regexp.MustCompile(`Sync members\[3\]`)

func (c *corosyncCluster) waitNode(i int) error {
	_, err := c.daemons[i].waitFor(corosyncThree, 0, 60*time.Second)
	return err
}

func (c *corosyncCluster) killNode(i int) {
	if d := c.daemons[i]; d != nil {
		d.kill()
		c.daemons[i] = nil
	}
}

func (c *corosyncCluster) spawnOn(h *hub, i int, name string) (*proc, error) {
	return startProc(h, name, nil, inNs(c.nn.nodes[i], c.cfg.cpgbench)...)
}

func (c *corosyncCluster) close() {
	for i := range c.daemons {
		if d := c.daemons[i]; d != nil {
			d.stop(5 * time.Second)
			c.daemons[i] = nil
		}
	}
}

// nodeDeath is scenario (f): a provider on each of three nodes; node 3's
// daemon is killed with SIGKILL, and the sample is the time from the kill
// to the failure notification at the later of the two survivors. The
// daemon is then restarted, its provider joins again, and the next sample
// begins when all three see each other.
func (r *runner) nodeDeath(c cluster3, samples int) ([]int64, error) {
	group := uniq("f")
	var clients [3]*proc
	defer func() {
		for _, p := range clients {
			if p != nil {
				p.kill()
			}
		}
	}()
	// rejoin starts node i's client and waits until all three providers
	// are in the group.
	rejoin := func(i int) error {
		p, err := c.spawnOn(r.h, i, fmt.Sprintf("%s-f-n%d", c.name(), i+1))
		if err != nil {
			return err
		}
		clients[i] = p
		deadline := time.Now().Add(60 * time.Second)
		for {
			// A daemon that has just restarted may not be able to serve a
			// join yet; try again until the whole group is there.
			if err := p.send("join 0 %s 1", group); err != nil {
				return err
			}
			_, err := r.h.collect(15*time.Second, 3, func(ev event) bool {
				if ev.group != group || ev.kind != "mem" || ev.count != 3 {
					return false
				}
				if ev.proc == p {
					return ev.sub == "self" || ev.sub == "join"
				}
				return ev.sub == "join"
			})
			if err == nil {
				return nil
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("node %d's provider did not rejoin: %w", i+1, err)
			}
			r.logf("    node %d's provider: %v; again", i+1, err)
			p.kill()
			if p, err = c.spawnOn(r.h, i, fmt.Sprintf("%s-f-n%d", c.name(), i+1)); err != nil {
				return err
			}
			clients[i] = p
		}
	}
	for i := range 2 {
		p, err := c.spawnOn(r.h, i, fmt.Sprintf("%s-f-n%d", c.name(), i+1))
		if err != nil {
			return nil, err
		}
		clients[i] = p
		if err := r.join(p, 0, group, 1); err != nil {
			return nil, err
		}
	}
	if err := rejoin(2); err != nil {
		return nil, err
	}
	var out []int64
	for s := range samples {
		if err := r.ctx.Err(); err != nil {
			return out, err
		}
		r.h.drain()
		t0 := monoNow()
		c.killNode(2)
		evs, err := r.h.collect(60*time.Second, 2, func(ev event) bool {
			return ev.group == group && ev.proc != clients[2] && isMem("failed")(ev) && ev.count == 2
		})
		if err != nil {
			return out, fmt.Errorf("node death seen by the survivors: %w", err)
		}
		var last int64
		for _, ev := range evs {
			last = max(last, ev.t)
		}
		out = append(out, last-t0)
		r.logf("    %s node death %d: %.0f ms", c.name(), s+1, float64(last-t0)/1e6)
		clients[2].kill()
		clients[2] = nil
		if s == samples-1 {
			break
		}
		if err := c.startNode(2); err != nil {
			return out, err
		}
		if err := c.waitNode(2); err != nil {
			return out, err
		}
		if err := rejoin(2); err != nil {
			return out, err
		}
	}
	return out, nil
}

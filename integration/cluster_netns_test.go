package integration

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/openhags/hags/internal/harness"
)

// netns is a small network of namespaces made for one test: a "switch"
// namespace holding a bridge, and one namespace per node joined to it by a
// veth pair. Nodes get addresses in 198.18.0.0/15 (the range set aside for
// network benchmarks), which exist only inside these namespaces: no packet
// leaves this machine, or even the namespaces.
type netns struct {
	t      *testing.T
	prefix string
	subnet int // third octet of 198.18.<subnet>.0/24
	nodes  []string
}

// ipCmd runs ip with args and fails the test on error.
func (n *netns) ip(args ...string) {
	n.t.Helper()
	out, err := exec.Command("ip", args...).CombinedOutput()
	require.NoError(n.t, err, "ip %s: %s", strings.Join(args, " "), out)
}

// newNetns builds the network for count nodes, or skips the test when
// namespaces cannot be made here (not root, no ip tool, no netns support).
func newNetns(t *testing.T, count int) *netns {
	t.Helper()
	var b [3]byte
	_, _ = rand.Read(b[:])
	n := &netns{t: t, prefix: "hags" + hex.EncodeToString(b[:]), subnet: int(b[0])}
	sw := n.prefix + "-sw"
	if out, err := exec.Command("ip", "netns", "add", sw).CombinedOutput(); err != nil {
		t.Skipf("network namespaces cannot be created here (%v: %s); the partition tests need root and ip netns", err, strings.TrimSpace(string(out)))
	}
	t.Cleanup(n.destroy)
	n.ip("-n", sw, "link", "add", "br0", "type", "bridge")
	n.ip("-n", sw, "link", "set", "br0", "up")
	n.ip("-n", sw, "link", "set", "lo", "up")
	for i := range count {
		ns := fmt.Sprintf("%s-n%d", n.prefix, i+1)
		n.ip("netns", "add", ns)
		n.nodes = append(n.nodes, ns)
		host, peer := fmt.Sprintf("v%d", i+1), "eth0"
		n.ip("-n", sw, "link", "add", host, "type", "veth", "peer", "name", peer, "netns", ns)
		n.ip("-n", sw, "link", "set", host, "master", "br0")
		n.ip("-n", sw, "link", "set", host, "up")
		n.ip("-n", ns, "addr", "add", n.addr(i)+"/24", "dev", peer)
		n.ip("-n", ns, "link", "set", peer, "up")
		n.ip("-n", ns, "link", "set", "lo", "up")
	}
	return n
}

// addr is node i's address.
func (n *netns) addr(i int) string { return fmt.Sprintf("198.18.%d.%d", n.subnet, i+1) }

// cut takes node i off the network by downing its link at the switch.
func (n *netns) cut(i int) {
	n.ip("-n", n.prefix+"-sw", "link", "set", fmt.Sprintf("v%d", i+1), "down")
}

// heal puts node i back on the network.
func (n *netns) heal(i int) { n.ip("-n", n.prefix+"-sw", "link", "set", fmt.Sprintf("v%d", i+1), "up") }

func (n *netns) destroy() {
	for _, ns := range append(n.nodes, n.prefix+"-sw") {
		_ = exec.Command("ip", "netns", "del", ns).Run()
	}
}

// wrapper writes a script that runs hagsd inside node i's namespace (the
// harness starts binaries directly); exec keeps the pid, so signals reach
// hagsd itself.
func (n *netns) wrapper(dir string, i int) string {
	n.t.Helper()
	path := filepath.Join(dir, fmt.Sprintf("hagsd-in-n%d", i+1))
	script := fmt.Sprintf("#!/bin/sh\nexec ip netns exec %s %s \"$@\"\n", n.nodes[i], filepath.Join(bin, "hagsd"))
	require.NoError(n.t, os.WriteFile(path, []byte(script), 0o755), "the wrapper script is written")
	return path
}

// startNetnsMulti starts count daemons, node i in namespace i, all voters,
// and waits until each is admitted.
func startNetnsMulti(t *testing.T, count int) (*multi, *netns) {
	t.Helper()
	return startNamedNetnsMulti(t, count, nil)
}

// startNamedNetnsMulti is startNetnsMulti with node i named names[i]
// (hagsd --name); nil names keep hagsd's default names.
func startNamedNetnsMulti(t *testing.T, count int, names []string) (*multi, *netns) {
	t.Helper()
	nn := newNetns(t, count)
	m := &multi{t: t, dir: socketDir(t), clients: map[string]*harness.Client{}}
	var voters, gossip []string
	for i := range count {
		voters = append(voters, fmt.Sprintf("%d=%s:7100", i+1, nn.addr(i)))
		gossip = append(gossip, nn.addr(i)+":7101")
	}
	for i := range count {
		m.bins = append(m.bins, nn.wrapper(m.dir, i))
		m.args = append(m.args, []string{"--domain", "netns", "--node", fmt.Sprint(i + 1),
			"--voters", strings.Join(voters, ","), "--gossip", gossip[i], "--join", strings.Join(gossip, ","),
			"--data-dir", filepath.Join(m.dir, fmt.Sprintf("data%d", i+1)), "--insecure"})
		if i < len(names) {
			m.args[i] = append(m.args[i], "--name", names[i])
		}
		m.sockets = append(m.sockets, filepath.Join(m.dir, fmt.Sprintf("n%d.sock", i+1)))
		m.daemons = append(m.daemons, nil)
		m.start(i)
	}
	for i := range count {
		m.waitAdmitted(i, 0)
	}
	m.cleanup()
	return m, nn
}

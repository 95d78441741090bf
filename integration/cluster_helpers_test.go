package integration

import (
	"encoding/json"
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/openhags/hags/internal/harness"
)

// multi is a domain of several real hagsd processes on loopback, each with
// its own socket, data directory and clients.
type multi struct {
	t       *testing.T
	dir     string
	args    [][]string // each node's hagsd arguments, for restarts
	bins    []string   // each node's hagsd (or a wrapper); empty: the built hagsd
	daemons []*harness.Daemon
	sockets []string
	clients map[string]*harness.Client
}

// freePorts returns n TCP ports on 127.0.0.1 that were free a moment ago.
func freePorts(t *testing.T, n int) []int {
	t.Helper()
	var lns []net.Listener
	var ports []int
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err, "a loopback port can be had")
		lns = append(lns, ln)
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	for _, ln := range lns {
		ln.Close()
	}
	return ports
}

// startMulti starts n daemons, all voters, on loopback, and waits until
// each is admitted to the domain. extra arguments go to every daemon.
func startMulti(t *testing.T, n int, extra ...string) *multi {
	t.Helper()
	return startDomain(t, n, n, extra...)
}

// startDomain starts n daemons on loopback, the first nvoters of them the
// domain's voters and the others followers, and waits until each is
// admitted to the domain. extra arguments go to every daemon; without
// --pki-dir among them, the daemons run with --insecure.
func startDomain(t *testing.T, n, nvoters int, extra ...string) *multi {
	t.Helper()
	return startNamedDomain(t, n, nvoters, nil, extra...)
}

// startNamedDomain is startDomain with node i named names[i] (hagsd
// --name); nil names keep hagsd's default names.
func startNamedDomain(t *testing.T, n, nvoters int, names []string, extra ...string) *multi {
	t.Helper()
	if !slices.Contains(extra, "--pki-dir") {
		extra = append([]string{"--insecure"}, extra...)
	}
	m := &multi{t: t, dir: socketDir(t), clients: map[string]*harness.Client{}}
	ports := freePorts(t, 2*n)
	var voters, gossip []string
	for i := range n {
		if i < nvoters {
			voters = append(voters, fmt.Sprintf("%d=127.0.0.1:%d", i+1, ports[2*i]))
		}
		gossip = append(gossip, fmt.Sprintf("127.0.0.1:%d", ports[2*i+1]))
	}
	for i := range n {
		args := []string{"--domain", "multi", "--node", fmt.Sprint(i + 1),
			"--voters", strings.Join(voters, ","),
			"--addr", fmt.Sprintf("127.0.0.1:%d", ports[2*i]),
			"--gossip", gossip[i], "--join", strings.Join(gossip, ","),
			"--data-dir", filepath.Join(m.dir, fmt.Sprintf("data%d", i+1))}
		if i < len(names) {
			args = append(args, "--name", names[i])
		}
		m.args = append(m.args, append(args, extra...))
		m.sockets = append(m.sockets, filepath.Join(m.dir, fmt.Sprintf("n%d.sock", i+1)))
		m.daemons = append(m.daemons, nil)
		m.start(i)
	}
	for i := range n {
		m.waitAdmitted(i, 0)
	}
	m.cleanup()
	return m
}

// cleanup stops the clients and daemons when the test ends, checking that
// each daemon exits cleanly.
func (m *multi) cleanup() {
	m.t.Cleanup(func() {
		for _, cl := range m.clients {
			cl.Kill()
		}
		for i, d := range m.daemons {
			if d != nil {
				require.NoError(m.t, d.Stop(wait), "hagsd %d exits 0 on SIGTERM", i+1)
			}
		}
	})
}

// start starts node i's daemon (again).
func (m *multi) start(i int) {
	m.t.Helper()
	path := filepath.Join(bin, "hagsd")
	if i < len(m.bins) {
		path = m.bins[i]
	}
	d, err := harness.StartDaemon(path, m.sockets[i], harness.TestLog(m.t, fmt.Sprintf("hagsd%d", i+1)), m.args[i]...)
	require.NoError(m.t, err, "hagsd %d starts", i+1)
	m.daemons[i] = d
}

var admittedRe = regexp.MustCompile(`admitted to the domain`)

// waitAdmitted waits until node i's log says it was admitted, at or after
// log line from.
func (m *multi) waitAdmitted(i, from int) {
	m.t.Helper()
	_, _, err := m.daemons[i].Log.WaitFor(admittedRe, from, wait)
	require.NoError(m.t, err, "hagsd %d is admitted to the domain", i+1)
}

// client starts a gsclient named name on node i.
func (m *multi) client(name string, i int, args ...string) *harness.Client {
	m.t.Helper()
	cl, err := harness.StartClient(filepath.Join(bin, "gsclient"), name, m.sockets[i], harness.TestLog(m.t, name), args...)
	require.NoError(m.t, err, "client %s starts on node %d", name, i+1)
	m.clients[name] = cl
	return cl
}

func (m *multi) all(names ...string) []*harness.Client {
	out := make([]*harness.Client, len(names))
	for i, n := range names {
		out[i] = m.clients[n]
	}
	return out
}

// kill SIGKILLs node i's daemon.
func (m *multi) kill(i int) {
	m.daemons[i].Kill()
	m.daemons[i] = nil
}

// requireSameHistory checks that every named client's approvals are a
// contiguous run of ref's: the same changes in the same order from the
// moment it joined.
func requireSameHistory(t *testing.T, ref []string, clients ...*harness.Client) {
	t.Helper()
	for _, cl := range clients {
		h := approved(cl)
		require.NotEmpty(t, h, "%s saw approvals", cl.Name)
		start := indexOf(ref, h[0])
		require.GreaterOrEqual(t, start, 0, "%s's first approval %q appears in the reference history", cl.Name, h[0])
		require.LessOrEqual(t, start+len(h), len(ref), "%s saw no more than the reference history", cl.Name)
		require.Equal(t, ref[start:start+len(h)], h, "%s saw exactly the reference sequence from its own join on", cl.Name)
	}
}

// ctlStatus is what hagsctl --json status prints, in part (docs/cli.md).
type ctlStatus struct {
	Nodes []struct {
		Node int32  `json:"node"`
		Name string `json:"name"`
		Role string `json:"role"`
	} `json:"nodes"`
}

// leader returns the index of the node whose daemon leads now, as hagsctl
// status on node 0 reports it.
func (m *multi) leader() int {
	m.t.Helper()
	for i := range m.daemons {
		if m.daemons[i] == nil {
			continue
		}
		out, err := exec.Command(filepath.Join(bin, "hagsctl"), "--socket", m.sockets[i], "--json", "status").CombinedOutput()
		require.NoError(m.t, err, "hagsctl status on node %d: %s", i+1, out)
		var st ctlStatus
		require.NoError(m.t, json.Unmarshal(out, &st), "hagsctl --json status prints a status")
		for _, ns := range st.Nodes {
			if ns.Role == "leader" {
				return int(ns.Node) - 1
			}
		}
	}
	m.t.Fatal("no daemon reports a leader")
	return -1
}

// output collects a process's standard output.
type output struct {
	mu sync.Mutex
	b  strings.Builder
}

func (o *output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.b.Write(p)
}

func (o *output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.b.String()
}

// watch runs "hagsctl watch" against node i until the test ends.
func (m *multi) watch(i int) *output {
	m.t.Helper()
	out := &output{}
	cmd := exec.Command(filepath.Join(bin, "hagsctl"), "--socket", m.sockets[i], "--interval", "50ms", "watch")
	cmd.Stdout = out
	cmd.Stderr = out
	require.NoError(m.t, cmd.Start(), "hagsctl watch starts")
	m.t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	return out
}

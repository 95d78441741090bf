package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"text/template"
	"time"
)

// system is one group-communication system under test on this machine:
// its daemon and a way to start client processes that speak the line
// protocol of client.go.
type system interface {
	// name is the system's name in the results: "hags", "corosync",
	// "libha_gs".
	name() string
	// spawn starts one client process.
	spawn(h *hub, name string) (*proc, error)
	// daemonPid is the daemon's process id (for its memory).
	daemonPid() int
	// counters reads the daemons' counters (the profile guard).
	counters() (counters, error)
	// close stops the daemon.
	close()
}

// hagsSystem is a one-node hags domain: one hagsd serving a socket, and
// clients that are this program in its client role (or, for scenario h,
// the libha_gs program).
type hagsSystem struct {
	label  string
	dir    string
	socket string
	d      *service
	client []string // argv of a client process
	env    []string
}

var hagsdReady = regexp.MustCompile(`msg=ready`)

// startHags starts a one-node hagsd with default settings in a new
// directory under dir.
func startHags(cfg *config, dir string) (*hagsSystem, error) {
	sub, err := os.MkdirTemp(dir, "hagsd-")
	if err != nil {
		return nil, err
	}
	socket := filepath.Join(sub, "hagsd.sock")
	d, err := startService("hagsd", hagsdReady, 20*time.Second,
		filepath.Join(cfg.bin, "hagsd"), "--socket", socket, "--domain", "hagsbench")
	if err != nil {
		return nil, err
	}
	return &hagsSystem{
		label: "hags", dir: sub, socket: socket, d: d,
		client: []string{cfg.self, "client", "--socket", socket},
		env:    clientEnv(),
	}, nil
}

// clientEnv is the environment added for hags client processes: one P
// for the Go runtime (GOMAXPROCS=1), since each client has one dispatch
// loop, as the single-threaded libcpg client has, and more Ps only wake
// more threads on a machine of two cores; then $HAGSBENCH_CLIENT_ENV.
func clientEnv() []string {
	return append([]string{"GOMAXPROCS=1"}, strings.Fields(os.Getenv("HAGSBENCH_CLIENT_ENV"))...)
}

// withCClient returns the same daemon with clients that use libha_gs.
func (s *hagsSystem) withCClient(cfg *config) *hagsSystem {
	c := *s
	c.label = "libha_gs"
	c.client = []string{cfg.gsbench}
	c.env = append(clientEnv(), "HA_GS_SOCKET="+s.socket, "LD_LIBRARY_PATH="+filepath.Join(cfg.root, "build", "lib"))
	return &c
}

func (s *hagsSystem) name() string   { return s.label }
func (s *hagsSystem) daemonPid() int { return s.d.pid() }
func (s *hagsSystem) close()         { s.d.stop(10 * time.Second) }
func (s *hagsSystem) counters() (counters, error) {
	return hagsCounters([]int{s.d.pid()}, []string{s.socket})
}

func (s *hagsSystem) spawn(h *hub, name string) (*proc, error) {
	return startProc(h, name, s.env, s.client...)
}

// corosyncSystem is one corosync on loopback and cpgbench clients. Both
// run in a network namespace of their own, holding only its loopback
// device, so that neither the port nor the IPC socket (an abstract Unix
// socket, which is per network namespace) can meet a corosync that the
// machine runs as a service; where no namespace can be made, on the
// machine's loopback if no other corosync runs (ns is then "").
type corosyncSystem struct {
	dir string
	ns  string
	d   *service
	cpg string
}

// corosyncNode is one node of a corosync.conf node list.
type corosyncNode struct {
	ID   int
	Addr string
}

// renderCorosyncConf fills in the shipped template.
func renderCorosyncConf(tmplPath, stateDir string, nodes []corosyncNode) ([]byte, error) {
	t, err := template.ParseFiles(tmplPath)
	if err != nil {
		return nil, fmt.Errorf("corosync template: %w", err)
	}
	var b bytes.Buffer
	err = t.Execute(&b, struct {
		Nodes    []corosyncNode
		StateDir string
	}{nodes, stateDir})
	if err != nil {
		return nil, fmt.Errorf("corosync template: %w", err)
	}
	return b.Bytes(), nil
}

var corosyncReady = regexp.MustCompile(`ready to provide service`)

// corosyncArgv is the command that starts corosync in the foreground in a
// mount namespace of its own, with a private /run (its pid file is fixed at
// /run/corosync.pid), optionally inside network namespace ns.
func corosyncArgv(ns, conf string) []string {
	inner := []string{"unshare", "--mount", "--propagation", "private", "sh", "-c",
		`mount -t tmpfs tmpfs /run && exec corosync -f -c "$0"`, conf}
	if ns == "" {
		return inner
	}
	return append([]string{"ip", "netns", "exec", ns}, inner...)
}

// writeCorosyncConf writes a configuration for nodes into a new directory
// under dir and returns the file's path.
func writeCorosyncConf(cfg *config, dir, name string, nodes []corosyncNode) (string, error) {
	sub := filepath.Join(dir, name)
	if err := os.MkdirAll(sub, 0o755); err != nil {
		return "", err
	}
	conf, err := renderCorosyncConf(cfg.corosyncTmpl, sub, nodes)
	if err != nil {
		return "", err
	}
	path := filepath.Join(sub, "corosync.conf")
	return path, os.WriteFile(path, conf, 0o644)
}

// errNoCorosync says that Corosync cannot be run here.
var errNoCorosync = errors.New("corosync is not available")

// checkCorosync reports whether corosync and cpgbench are there.
func checkCorosync(cfg *config) error {
	if _, err := exec.LookPath("corosync"); err != nil {
		return fmt.Errorf("%w: %v (make bench-compare installs Debian's corosync and libcpg-dev)", errNoCorosync, err)
	}
	if _, err := os.Stat(cfg.cpgbench); err != nil {
		return fmt.Errorf("%w: the libcpg client %s: %v", errNoCorosync, cfg.cpgbench, err)
	}
	if _, err := exec.LookPath("unshare"); err != nil {
		return fmt.Errorf("%w: %v", errNoCorosync, err)
	}
	return nil
}

// startCorosync starts one corosync on 127.0.0.1.
func startCorosync(cfg *config, dir string) (*corosyncSystem, error) {
	if err := checkCorosync(cfg); err != nil {
		return nil, err
	}
	conf, err := writeCorosyncConf(cfg, dir, "corosync-loopback", []corosyncNode{{ID: 1, Addr: "127.0.0.1"}})
	if err != nil {
		return nil, err
	}
	ns, err := newLoopbackNetns()
	if err != nil {
		// Without network namespaces, the machine's own loopback will
		// do, unless a Corosync already runs there.
		if out, perr := exec.Command("pgrep", "-x", "corosync").Output(); perr == nil && len(out) > 0 {
			return nil, fmt.Errorf("%w: no network namespace (%v), and a corosync already runs on this machine", errNoCorosync, err)
		}
		ns = ""
	}
	d, err := startService("corosync", corosyncReady, 30*time.Second, corosyncArgv(ns, conf)...)
	if err != nil {
		if ns != "" {
			_ = ipCmd("netns", "del", ns)
		}
		return nil, err
	}
	return &corosyncSystem{dir: filepath.Dir(conf), ns: ns, d: d, cpg: cfg.cpgbench}, nil
}

func (s *corosyncSystem) name() string   { return "corosync" }
func (s *corosyncSystem) daemonPid() int { return s.d.pid() }
func (s *corosyncSystem) counters() (counters, error) {
	return processCounters([]int{s.d.pid()})
}
func (s *corosyncSystem) close() {
	s.d.stop(10 * time.Second)
	if s.ns != "" {
		_ = ipCmd("netns", "del", s.ns)
	}
}

func (s *corosyncSystem) spawn(h *hub, name string) (*proc, error) {
	if s.ns == "" {
		return startProc(h, name, nil, s.cpg)
	}
	return startProc(h, name, nil, inNs(s.ns, s.cpg)...)
}

// uniq makes group names unique within a run.
var uniqCounter int

func uniq(prefix string) string {
	uniqCounter++
	return prefix + "-" + strconv.Itoa(uniqCounter)
}

// corosyncVersion is the first line of corosync -v, or "" when it is not
// installed.
func corosyncVersion() string {
	out, err := exec.Command("corosync", "-v").Output()
	if err != nil {
		return ""
	}
	line, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	return strings.TrimSuffix(strings.TrimSpace(line), ".")
}

package main

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/openhags/hags/daemon"
	"github.com/openhags/hags/daemon/agreement"
	"github.com/openhags/hags/internal/pki"
)

// DefaultDataDir is where a daemon of a domain of several nodes keeps its
// raft state unless --data-dir says otherwise: /var/lib/hags/<domain>.
const DefaultDataDir = "/var/lib/hags"

// clusterOptions are the settings of a domain of several nodes.
type clusterOptions struct {
	name    string
	addr    string // raft and forwarding: host:port
	voters  string // N=host:port,...
	dataDir string
	gossip  string // host:port
	join    string // host:port,...
	pkiDir  string
	// insecure lets daemons of several nodes run without --pki-dir.
	insecure bool
	replace  time.Duration
	snap     agreement.SnapshotPolicy
}

func (c *clusterOptions) register(fs *flag.FlagSet) {
	fs.StringVar(&c.name, "name", "", "this node's name, shown by hagsctl (default node<N>)")
	fs.StringVar(&c.addr, "addr", "", "this node's address for the other daemons, host:port (several nodes)")
	fs.StringVar(&c.voters, "voters", "", "the domain's voters, N=host:port,... (3 or 5; several nodes)")
	fs.StringVar(&c.dataDir, "data-dir", "", "where raft's term, vote and log are kept (default /var/lib/hags/<domain>)")
	fs.StringVar(&c.gossip, "gossip", "", "this node's failure-detector address, host:port, UDP and TCP (default: --addr's port + 1)")
	fs.StringVar(&c.join, "join", "", "other nodes' failure-detector addresses, host:port,... (default: each voter's port + 1)")
	fs.DurationVar(&c.replace, "replace-after", daemon.DefaultReplaceAfter, "how long a voter must be gone before a healthy follower takes its place")
	fs.StringVar(&c.pkiDir, "pki-dir", "", "the domain's keys (hagsctl domain init): mutual TLS between daemons and the gossip key")
	fs.BoolVar(&c.insecure, "insecure", false, "run a domain of several nodes without --pki-dir: plain TCP and unencrypted gossip (trusted test networks only)")
	d := agreement.DefaultSnapshotPolicy()
	c.snap = d // Retain has no flag
	fs.Uint64Var(&c.snap.Threshold, "snapshot-threshold", d.Threshold, "snapshot the groups and trim raft's log once it has gained this many entries")
	fs.DurationVar(&c.snap.Interval, "snapshot-interval", d.Interval, "how often the snapshot threshold is checked (after a random pause of one to two intervals)")
	fs.Uint64Var(&c.snap.Trailing, "snapshot-trailing", d.Trailing, "entries kept in the log behind a snapshot, for followers a little behind")
}

// nextPort returns host:port+1 of a host:port address.
func nextPort(addr string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", err
	}
	p, err := strconv.Atoi(port)
	if err != nil || p <= 0 || p >= 65535 {
		return "", fmt.Errorf("address %s: port %q cannot be followed by another", addr, port)
	}
	return net.JoinHostPort(host, strconv.Itoa(p+1)), nil
}

// parseVoters parses "N=host:port,..." into servers.
func parseVoters(s string) ([]agreement.Server, error) {
	var out []agreement.Server
	seen := map[int32]bool{}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		num, addr, ok := strings.Cut(part, "=")
		if !ok {
			return nil, fmt.Errorf("--voters %q: want N=host:port", part)
		}
		n, err := strconv.ParseInt(num, 10, 32)
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("--voters %q: %q is not a node number", part, num)
		}
		if _, _, err := net.SplitHostPort(addr); err != nil {
			return nil, fmt.Errorf("--voters %q: %w", part, err)
		}
		if seen[int32(n)] {
			return nil, fmt.Errorf("--voters: node %d is listed twice", n)
		}
		seen[int32(n)] = true
		out = append(out, agreement.Server{Node: int32(n), Addr: addr})
	}
	return out, nil
}

// clusterConfig turns the options into the daemon's Cluster, or nil for a
// one-node domain.
func (o *options) clusterConfig() (*daemon.Cluster, error) {
	c := &o.cluster
	if c.voters == "" {
		if c.addr != "" {
			return nil, fmt.Errorf("--addr needs --voters: a domain of several nodes is named by its voters")
		}
		if c.insecure {
			return nil, fmt.Errorf("--insecure needs --voters: a one-node domain does not listen on the network")
		}
		return nil, nil
	}
	voters, err := parseVoters(c.voters)
	if err != nil {
		return nil, err
	}
	if len(voters) == 0 {
		return nil, fmt.Errorf("--voters names no voter")
	}
	addr := c.addr
	for _, v := range voters {
		if v.Node == int32(o.node) {
			if addr == "" {
				addr = v.Addr
			} else if addr != v.Addr {
				return nil, fmt.Errorf("--addr %s differs from this node's address in --voters (%s)", addr, v.Addr)
			}
		}
	}
	if addr == "" {
		return nil, fmt.Errorf("--addr is needed: node %d is not a voter", o.node)
	}
	name := c.name
	if name == "" {
		name = fmt.Sprintf("node%d", o.node)
	}
	dir := c.dataDir
	if dir == "" {
		dir = filepath.Join(DefaultDataDir, o.domain)
	}
	gossip := c.gossip
	if gossip == "" {
		if gossip, err = nextPort(addr); err != nil {
			return nil, fmt.Errorf("--gossip: %w", err)
		}
	}
	var join []string
	if c.join != "" {
		for _, j := range strings.Split(c.join, ",") {
			if j = strings.TrimSpace(j); j != "" {
				join = append(join, j)
			}
		}
	} else {
		for _, v := range voters {
			g, err := nextPort(v.Addr)
			if err != nil {
				return nil, fmt.Errorf("--join: %w", err)
			}
			join = append(join, g)
		}
	}
	if c.replace <= 0 {
		return nil, fmt.Errorf("--replace-after %v: want a positive duration", c.replace)
	}
	if c.snap.Threshold == 0 {
		return nil, fmt.Errorf("--snapshot-threshold 0: want at least 1 entry")
	}
	if c.snap.Trailing == 0 {
		return nil, fmt.Errorf("--snapshot-trailing 0: want at least 1 entry")
	}
	if c.snap.Interval < 10*time.Millisecond {
		return nil, fmt.Errorf("--snapshot-interval %v: want at least 10ms", c.snap.Interval)
	}
	if err := c.checkSecurity(); err != nil {
		return nil, err
	}
	return &daemon.Cluster{Name: name, Addr: addr, Voters: voters, DataDir: dir, Gossip: gossip, Join: join,
		ReplaceAfter: c.replace, Snapshot: c.snap}, nil
}

// errInsecure refuses a daemon of several nodes without keys.
var errInsecure = errors.New("--voters without --pki-dir: the daemons would talk over plain TCP and gossip unencrypted, " +
	"and anyone who can reach this node's addresses could join the domain and run deactivate scripts as root; " +
	"give --pki-dir with the keys of hagsctl domain init, or --insecure on a trusted test network")

// checkSecurity refuses a domain of several nodes without keys unless
// --insecure says so (docs/design/domain.md, "Configuration"): a daemon
// with --voters listens on the network, and without --pki-dir it would
// accept any connection.
func (c *clusterOptions) checkSecurity() error {
	switch {
	case c.pkiDir == "" && !c.insecure:
		return errInsecure
	case c.pkiDir != "" && c.insecure:
		return fmt.Errorf("--insecure with --pki-dir: the keys secure the domain; drop one of them")
	}
	return nil
}

// insecureEvery is how often a daemon started with --insecure repeats its
// warning (tests shorten it).
var insecureEvery = time.Minute

// insecureWarning is what such a daemon logs, at start and every
// insecureEvery.
const insecureWarning = "INSECURE: --insecure: daemons talk over plain TCP and gossip is unencrypted; " +
	"anyone who can reach this node's addresses can join the domain; use --pki-dir (hagsctl domain init)"

// warnInsecure logs insecureWarning now and every interval until the
// returned stop is called; stop waits for the goroutine it starts.
func warnInsecure(log *slog.Logger, every time.Duration) (stop func()) {
	log.Warn(insecureWarning)
	done := make(chan struct{})
	exited := make(chan struct{})
	go func() {
		defer close(exited)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				log.Warn(insecureWarning)
			case <-done:
				return
			}
		}
	}()
	return func() {
		close(done)
		<-exited
	}
}

// secure loads the domain's keys from --pki-dir, when given: the node's
// certificate for mutual TLS between daemons (the listener on Addr becomes
// a TLS stream layer) and the gossip key.
func secure(c *daemon.Cluster, dir, domain string, node int32, log *slog.Logger) error {
	if dir == "" {
		return nil
	}
	id, err := pki.LoadNode(dir, c.Name)
	if err != nil {
		return fmt.Errorf("--pki-dir: %w", err)
	}
	if id.Domain != domain {
		return fmt.Errorf("--pki-dir: the keys are for domain %q, not %q", id.Domain, domain)
	}
	if id.Node.Number != node {
		return fmt.Errorf("--pki-dir: the certificate of %s is for node %d, not %d", c.Name, id.Node.Number, node)
	}
	keys, err := pki.LoadGossipKeys(dir)
	if err != nil {
		return fmt.Errorf("--pki-dir: %w", err)
	}
	ln, err := net.Listen("tcp", c.Addr)
	if err != nil {
		return fmt.Errorf("listen %s: %w", c.Addr, err)
	}
	c.Stream = agreement.NewTLSStreamLayer(ln, nil, id.TLSConfig(), agreement.WithTLSLogger(log.With("component", "tls")))
	c.GossipKeys = keys
	log.Info("daemons talk over mutual TLS; gossip is encrypted", "pki_dir", dir, "certificate", c.Name)
	return nil
}

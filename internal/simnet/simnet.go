// Package simnet is an in-memory network for simulated domains, with faults
// drawn from a seeded random source: partitions, crashed hosts, dropped and
// delayed packets, severed and slow streams. It gives each daemon what it
// needs to talk to the others without a socket: a stream layer for raft
// and forwarding (Listener, a raft.StreamLayer), a memberlist transport
// (Gossip), and in-memory client listeners (ClientListener).
//
// Streams are net.Pipe pairs, whose deadlines follow the fake clock inside
// a testing/synctest bubble; packets are copied on send, so hosts never
// share memory. Every method is safe for concurrent use. Addresses are
// "host:port" labels; hosts are named by their host part, and no real
// network is ever touched.
package simnet

import (
	"errors"
	"fmt"
	"math/rand"
	"net"
	"sync"
	"time"

	"github.com/hashicorp/memberlist"
	"github.com/hashicorp/raft"
)

// Errors of dials and sends.
var (
	ErrUnreachable = errors.New("simnet: host unreachable")
	ErrRefused     = errors.New("simnet: connection refused")
	ErrClosed      = net.ErrClosed
)

// Network is one simulated network.
type Network struct {
	mu        sync.Mutex
	rng       *rand.Rand
	crashed   map[string]bool
	group     map[string]int // partition group of each host (absent: 0)
	silent    bool           // the partition keeps its streams (Cut)
	drop      map[[2]string]float64
	delay     map[[2]string]time.Duration
	listeners map[string]*Listener        // by address
	gossip    map[string]*GossipTransport // by address
	conns     map[*conn]struct{}
	lost      map[*conn]struct{} // streams that swallowed bytes across a cut
}

// New returns a fully connected network whose random faults come from
// seed.
func New(seed int64) *Network {
	return &Network{
		rng:       rand.New(rand.NewSource(seed)),
		crashed:   map[string]bool{},
		group:     map[string]int{},
		drop:      map[[2]string]float64{},
		delay:     map[[2]string]time.Duration{},
		listeners: map[string]*Listener{},
		gossip:    map[string]*GossipTransport{},
		conns:     map[*conn]struct{}{},
		lost:      map[*conn]struct{}{},
	}
}

func hostOf(addr string) string {
	h, _, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	return h
}

// reachable reports whether from can talk to to now; call with mu held.
func (n *Network) reachable(from, to string) bool {
	return !n.crashed[from] && !n.crashed[to] && n.group[from] == n.group[to]
}

// brokenLocked returns (and forgets) every stream that can no longer carry
// traffic: one that crosses a partition or reaches a crashed host (but for
// those across a Cut, which stay open and lose what is written), and one
// that lost data across a Cut no longer there, whose hole would show. The
// caller severs them after unlocking.
func (n *Network) brokenLocked() []*conn {
	var out []*conn
	for c := range n.conns {
		hole := false
		if _, lost := n.lost[c]; lost {
			hole = !n.cutLocked(c.from, c.to)
		}
		if hole || !n.reachable(c.from, c.to) && !n.cutLocked(c.from, c.to) {
			out = append(out, c)
			delete(n.conns, c)
			delete(n.lost, c)
		}
	}
	return out
}

func severAll(cs []*conn) {
	for _, c := range cs {
		c.sever()
	}
}

// Partition splits the network: hosts in different groups cannot talk, and
// streams between them break. Hosts not named are in a group of their own
// with the other unnamed ones.
func (n *Network) Partition(groups ...[]string) { n.regroup(groups, false) }

// Cut splits the network as Partition does, but silently, as a link that
// goes down does: streams between the groups stay open, what is written
// on them is lost without an error, and a dial across waits for its
// timeout before it fails. Only a deadline or a timer on the other end of
// a stream tells that nothing comes back. A stream that lost data breaks
// when its hosts can talk again (Heal, or another Cut or Partition).
func (n *Network) Cut(groups ...[]string) { n.regroup(groups, true) }

// Heal joins every partition again (crashed hosts stay crashed).
func (n *Network) Heal() { n.regroup(nil, false) }

func (n *Network) regroup(groups [][]string, silent bool) {
	n.mu.Lock()
	clear(n.group)
	for i, g := range groups {
		for _, h := range g {
			n.group[h] = i + 1
		}
	}
	n.silent = silent
	broken := n.brokenLocked()
	n.mu.Unlock()
	severAll(broken)
}

// cutLocked reports whether traffic from one host to another is lost
// silently now: the hosts are up, and a Cut lies between them.
func (n *Network) cutLocked(from, to string) bool {
	return n.silent && !n.crashed[from] && !n.crashed[to] && n.group[from] != n.group[to]
}

// Crash makes host unreachable at once: its streams break, its packets
// and dials go nowhere, until Restore.
func (n *Network) Crash(host string) {
	n.mu.Lock()
	n.crashed[host] = true
	broken := n.brokenLocked()
	n.mu.Unlock()
	severAll(broken)
}

// Restore makes a crashed host reachable again.
func (n *Network) Restore(host string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	delete(n.crashed, host)
}

// Drop makes packets from one host to another get lost with probability
// rate (0 to 1), and streams between them break with that probability at
// each write.
func (n *Network) Drop(from, to string, rate float64) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.drop[[2]string{from, to}] = rate
}

// Delay holds packets and stream writes from one host to another for d.
func (n *Network) Delay(from, to string, d time.Duration) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.delay[[2]string{from, to}] = d
}

// ClearFaults removes every drop and delay.
func (n *Network) ClearFaults() {
	n.mu.Lock()
	defer n.mu.Unlock()
	clear(n.drop)
	clear(n.delay)
}

// Intn draws from the network's seeded source (for test scenarios that
// want one stream of randomness).
func (n *Network) Intn(k int) int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.rng.Intn(k)
}

// fate decides what happens to traffic from one host to another now:
// whether it gets through, and after what delay.
func (n *Network) fate(from, to string) (bool, time.Duration) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if !n.reachable(from, to) {
		return false, 0
	}
	if r := n.drop[[2]string{from, to}]; r > 0 && n.rng.Float64() < r {
		return false, 0
	}
	return true, n.delay[[2]string{from, to}]
}

// Addr is a simulated address.
type Addr string

// Network is "sim".
func (Addr) Network() string { return "sim" }

// String is the host:port label.
func (a Addr) String() string { return string(a) }

// conn is one end of a stream between two hosts.
type conn struct {
	net.Conn
	nw       *Network
	from, to string
	peer     *conn
	once     *sync.Once // shared by both ends
}

func (c *conn) Write(b []byte) (int, error) {
	ok, d := c.nw.fate(c.from, c.to)
	if !ok && c.nw.swallow(c) {
		return len(b), nil
	}
	if !ok {
		c.sever()
		return 0, fmt.Errorf("simnet: write %s→%s: %w", c.from, c.to, net.ErrClosed)
	}
	if d > 0 {
		time.Sleep(d)
	}
	return c.Conn.Write(b)
}

func (c *conn) Close() error {
	c.sever()
	return nil
}

// swallow reports whether what c writes now is lost across a Cut, and
// remembers that c's stream has a hole.
func (n *Network) swallow(c *conn) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	if !n.cutLocked(c.from, c.to) {
		return false
	}
	if _, open := n.conns[c]; open {
		n.lost[c] = struct{}{}
	}
	return true
}

// sever closes both ends and forgets them. Never call it with nw.mu held.
func (c *conn) sever() {
	c.once.Do(func() {
		c.Conn.Close()
		c.peer.Conn.Close()
		c.nw.mu.Lock()
		delete(c.nw.conns, c)
		delete(c.nw.conns, c.peer)
		delete(c.nw.lost, c)
		delete(c.nw.lost, c.peer)
		c.nw.mu.Unlock()
	})
}

func (c *conn) LocalAddr() net.Addr  { return Addr(c.from) }
func (c *conn) RemoteAddr() net.Addr { return Addr(c.to) }

// pipe makes a stream from host from to host to, or fails when to cannot
// be reached.
func (n *Network) pipe(from, to string) (client, server *conn, err error) {
	a, b := net.Pipe()
	once := new(sync.Once)
	client = &conn{Conn: a, nw: n, from: from, to: to, once: once}
	server = &conn{Conn: b, nw: n, from: to, to: from, once: once}
	client.peer, server.peer = server, client
	n.mu.Lock()
	defer n.mu.Unlock()
	if !n.reachable(from, to) {
		a.Close()
		b.Close()
		return nil, nil, ErrUnreachable
	}
	n.conns[client] = struct{}{}
	n.conns[server] = struct{}{}
	return client, server, nil
}

// Listener accepts streams at one address; it is a raft.StreamLayer.
type Listener struct {
	nw     *Network
	addr   string
	accept chan net.Conn
	done   chan struct{}
	once   sync.Once
}

var _ raft.StreamLayer = (*Listener)(nil)

// Listen opens a stream listener at addr ("host:port").
func (n *Network) Listen(addr string) (*Listener, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if _, busy := n.listeners[addr]; busy {
		return nil, fmt.Errorf("simnet: %s is in use", addr)
	}
	l := &Listener{nw: n, addr: addr, accept: make(chan net.Conn, 16), done: make(chan struct{})}
	n.listeners[addr] = l
	return l, nil
}

// Accept waits for the next stream.
func (l *Listener) Accept() (net.Conn, error) {
	select {
	case c := <-l.accept:
		return c, nil
	case <-l.done:
		return nil, ErrClosed
	}
}

// Close stops accepting; the address is free again.
func (l *Listener) Close() error {
	l.once.Do(func() {
		close(l.done)
		l.nw.mu.Lock()
		if l.nw.listeners[l.addr] == l {
			delete(l.nw.listeners, l.addr)
		}
		l.nw.mu.Unlock()
	})
	return nil
}

// Addr is the listening address.
func (l *Listener) Addr() net.Addr { return Addr(l.addr) }

// Dial opens a stream from this listener's host to address.
func (l *Listener) Dial(address raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	return l.nw.dial(hostOf(l.addr), string(address), timeout)
}

// dial connects from host to a listener at addr.
func (n *Network) dial(from, addr string, timeout time.Duration) (net.Conn, error) {
	to := hostOf(addr)
	n.mu.Lock()
	l := n.listeners[addr]
	cut := n.cutLocked(from, to)
	n.mu.Unlock()
	if cut { // nothing answers: the dial gives up after its timeout
		time.Sleep(timeout)
		return nil, fmt.Errorf("simnet: dial %s: %w", addr, ErrUnreachable)
	}
	if l == nil {
		ok, _ := n.fate(from, to)
		if !ok {
			return nil, fmt.Errorf("simnet: dial %s: %w", addr, ErrUnreachable)
		}
		return nil, fmt.Errorf("simnet: dial %s: %w", addr, ErrRefused)
	}
	client, server, err := n.pipe(from, to)
	if err != nil {
		return nil, fmt.Errorf("simnet: dial %s: %w", addr, err)
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case l.accept <- server:
		return client, nil
	case <-l.done:
	case <-t.C:
	}
	client.sever()
	return nil, fmt.Errorf("simnet: dial %s: %w", addr, ErrRefused)
}

// ClientListener is a net.Listener for a daemon's clients on one host:
// clients Dial it directly (no fault applies to a host's own clients).
type ClientListener struct {
	accept chan net.Conn
	done   chan struct{}
	once   sync.Once
	name   string
}

// NewClientListener returns an open ClientListener named name.
func NewClientListener(name string) *ClientListener {
	return &ClientListener{accept: make(chan net.Conn), done: make(chan struct{}), name: name}
}

// Accept waits for the next client.
func (l *ClientListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.accept:
		return c, nil
	case <-l.done:
		return nil, ErrClosed
	}
}

// Close stops accepting.
func (l *ClientListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

// Addr names the listener.
func (l *ClientListener) Addr() net.Addr { return Addr(l.name) }

// Dial connects a client.
func (l *ClientListener) Dial() (net.Conn, error) {
	a, b := net.Pipe()
	select {
	case l.accept <- b:
		return a, nil
	case <-l.done:
		a.Close()
		b.Close()
		return nil, ErrClosed
	}
}

// GossipTransport is a memberlist transport at one address: packets are
// dropped (never queued without bound) when the peer is unreachable or its
// queue is full, so a sender never blocks on a dead peer.
type GossipTransport struct {
	nw      *Network
	addr    string
	packets chan *memberlist.Packet
	streams chan net.Conn
	done    chan struct{}
	once    sync.Once
}

var _ memberlist.NodeAwareTransport = (*GossipTransport)(nil)

// Gossip opens a memberlist transport at addr ("ip:port"; memberlist
// wants an IP, which is only a label here).
func (n *Network) Gossip(addr string) (*GossipTransport, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if _, busy := n.gossip[addr]; busy {
		return nil, fmt.Errorf("simnet: %s is in use", addr)
	}
	g := &GossipTransport{nw: n, addr: addr, packets: make(chan *memberlist.Packet, 1024),
		streams: make(chan net.Conn, 16), done: make(chan struct{})}
	n.gossip[addr] = g
	return g, nil
}

// FinalAdvertiseAddr is the transport's own address.
func (g *GossipTransport) FinalAdvertiseAddr(string, int) (net.IP, int, error) {
	host, port, err := net.SplitHostPort(g.addr)
	if err != nil {
		return nil, 0, err
	}
	ip := net.ParseIP(host)
	if ip == nil {
		return nil, 0, fmt.Errorf("simnet: gossip address %s: host is not an IP", g.addr)
	}
	var p int
	fmt.Sscan(port, &p)
	return ip, p, nil
}

// WriteTo sends a packet (copied) to addr, subject to the network's faults.
func (g *GossipTransport) WriteTo(b []byte, addr string) (time.Time, error) {
	now := time.Now()
	ok, d := g.nw.fate(hostOf(g.addr), hostOf(addr))
	if !ok {
		return now, nil // lost, as UDP would be
	}
	g.nw.mu.Lock()
	peer := g.nw.gossip[addr]
	g.nw.mu.Unlock()
	if peer == nil {
		return now, nil
	}
	p := &memberlist.Packet{Buf: append([]byte(nil), b...), From: Addr(g.addr)}
	deliver := func() {
		p.Timestamp = time.Now()
		select {
		case peer.packets <- p:
		case <-peer.done:
		default: // queue full: dropped
		}
	}
	if d > 0 {
		time.AfterFunc(d, deliver)
	} else {
		deliver()
	}
	return now, nil
}

// WriteToAddress is WriteTo.
func (g *GossipTransport) WriteToAddress(b []byte, a memberlist.Address) (time.Time, error) {
	return g.WriteTo(b, a.Addr)
}

// PacketCh delivers incoming packets.
func (g *GossipTransport) PacketCh() <-chan *memberlist.Packet { return g.packets }

// DialTimeout opens a stream to the transport at addr.
func (g *GossipTransport) DialTimeout(addr string, timeout time.Duration) (net.Conn, error) {
	g.nw.mu.Lock()
	peer := g.nw.gossip[addr]
	g.nw.mu.Unlock()
	if peer == nil {
		return nil, fmt.Errorf("simnet: dial %s: %w", addr, ErrRefused)
	}
	client, server, err := g.nw.pipe(hostOf(g.addr), hostOf(addr))
	if err != nil {
		return nil, fmt.Errorf("simnet: dial %s: %w", addr, err)
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case peer.streams <- server:
		return client, nil
	case <-peer.done:
	case <-t.C:
	}
	client.sever()
	return nil, fmt.Errorf("simnet: dial %s: %w", addr, ErrRefused)
}

// DialAddressTimeout is DialTimeout.
func (g *GossipTransport) DialAddressTimeout(a memberlist.Address, timeout time.Duration) (net.Conn, error) {
	return g.DialTimeout(a.Addr, timeout)
}

// StreamCh delivers incoming streams.
func (g *GossipTransport) StreamCh() <-chan net.Conn { return g.streams }

// Shutdown frees the address; nothing more is delivered.
func (g *GossipTransport) Shutdown() error {
	g.once.Do(func() {
		close(g.done)
		g.nw.mu.Lock()
		if g.nw.gossip[g.addr] == g {
			delete(g.nw.gossip, g.addr)
		}
		g.nw.mu.Unlock()
	})
	return nil
}

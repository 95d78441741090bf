// Package membership detects the death of the daemons of a domain with
// hashicorp/memberlist (SWIM gossip, tuned for a LAN), and tells the daemon
// which nodes are alive, suspect, dead or gone.
//
// Each daemon gossips one small record about itself (its node number, name,
// incarnation and raft address) as memberlist metadata, under the
// memberlist name that is its node number. Membership refuses any record
// whose memberlist name is not its node number, and any whose number or
// incarnation is implausible (checkRecord), before memberlist stores it.
// It keeps the latest record of every node it has heard of, with its
// health, and reports every change through Config.OnChange: in order, one
// at a time, from a goroutine of its own (never from memberlist's, whose
// locks are held while it calls its delegates).
//
// The gossip key is shared by the whole domain, so a record proves only
// that its sender holds the key, not that it is the node it names: the
// daemon treats what Membership reports as a hint, never as the sole
// ground for declaring a node down (docs/design/domain.md, "Node
// failure").
//
// Lock order: memberlist calls the event delegate with its own node lock
// held, and the delegate takes Membership's lock; so Membership never calls
// memberlist while holding its lock.
//
// docs/design/domain.md explains the timings.
package membership

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/hashicorp/memberlist"
	"github.com/vmihailenco/msgpack/v5"

	"github.com/openhags/hags/internal/wire"
)

// Health is what the failure detector says of a node.
type Health uint8

const (
	HealthUnknown Health = iota // never heard of
	HealthAlive                 // answering
	HealthDead                  // declared dead
	HealthLeft                  // left on purpose (its daemon stopped)
)

// String is the name hagsctl shows.
func (h Health) String() string {
	switch h {
	case HealthAlive:
		return "alive"
	case HealthDead:
		return "dead"
	case HealthLeft:
		return "left"
	}
	return "unknown"
}

// Gone reports whether the node is dead or left.
func (h Health) Gone() bool { return h == HealthDead || h == HealthLeft }

// Member is the latest record of one node.
type Member struct {
	Node     int32
	Name     string
	Inc      uint64 // the daemon's incarnation
	RaftAddr string // where its raft (and forwarding) stream listens
	Addr     string // its gossip address
	Health   Health
	Since    time.Time // when Health last changed
}

// meta is what a daemon gossips about itself.
type meta struct {
	Node     int32  `msgpack:"n"`
	Name     string `msgpack:"m"`
	Inc      uint64 `msgpack:"i"`
	RaftAddr string `msgpack:"r"`
	Leaving  bool   `msgpack:"l,omitempty"` // its daemon is stopping
}

// Record checks; docs/design/domain.md ("Node failure") explains them.
const (
	// MaxIncarnationAhead is how far ahead of the receiver's clock a
	// record's incarnation may be. An incarnation is its daemon's start
	// time in Unix seconds, or one more than the last when that is larger
	// (restarts within a second), so a real one is ahead only by clock
	// skew and by restarts faster than one a second.
	MaxIncarnationAhead = 24 * time.Hour
	// maxNameLen bounds a node's name in its record.
	maxNameLen = 255
	// refusalLogEvery: a refused record is logged at most once per
	// interval for each memberlist name (a sender of forged records must
	// not flood the log); maxRefusalNames bounds the names remembered.
	refusalLogEvery = 10 * time.Second
	maxRefusalNames = 256
)

// Errors of the record checks, wrapped with the offending value.
var (
	ErrRecordUndecodable = errors.New("membership: the record does not decode")
	ErrRecordNode        = errors.New("membership: not a node number")
	ErrRecordName        = errors.New("membership: the gossip name is not the record's node number")
	ErrRecordInc         = errors.New("membership: implausible incarnation")
	ErrRecordField       = errors.New("membership: malformed field")
	ErrNoKeys            = errors.New("membership: a gossip key is empty")
)

// checkRecord decodes the record gossiped under memberlist name name, and
// refuses it unless name is its node number in decimal, the number is
// positive, the incarnation is between 1 and 2^32-1 and at most
// MaxIncarnationAhead ahead of now, the name is short printable text and
// the raft address is host:port (or empty).
func checkRecord(name string, b []byte, now time.Time) (meta, error) {
	var md meta
	if err := wire.CheckShape(b); err != nil {
		return md, fmt.Errorf("%w: %w", ErrRecordUndecodable, err)
	}
	if err := msgpack.Unmarshal(b, &md); err != nil {
		return md, fmt.Errorf("%w: %w", ErrRecordUndecodable, err)
	}
	if md.Node <= 0 {
		return md, fmt.Errorf("%w: %d", ErrRecordNode, md.Node)
	}
	if name != strconv.Itoa(int(md.Node)) {
		return md, fmt.Errorf("%w: name %q, node %d", ErrRecordName, name, md.Node)
	}
	limit := now.Add(MaxIncarnationAhead).Unix()
	if md.Inc == 0 || md.Inc > 1<<32-1 || limit > 0 && md.Inc > uint64(limit) {
		return md, fmt.Errorf("%w: %d (the clock here says %d)", ErrRecordInc, md.Inc, now.Unix())
	}
	if len(md.Name) > maxNameLen || !utf8.ValidString(md.Name) || strings.ContainsFunc(md.Name, unicode.IsControl) {
		return md, fmt.Errorf("%w: name %q", ErrRecordField, md.Name)
	}
	if md.RaftAddr != "" {
		_, port, err := net.SplitHostPort(md.RaftAddr)
		if p, perr := strconv.ParseUint(port, 10, 16); err != nil || perr != nil || p == 0 {
			return md, fmt.Errorf("%w: raft address %q", ErrRecordField, md.RaftAddr)
		}
	}
	return md, nil
}

// Timing is the failure detector's tuning.
type Timing struct {
	// ProbeInterval: each daemon probes one other every interval.
	ProbeInterval time.Duration
	// ProbeTimeout: how long to wait for a direct probe's answer before
	// asking others to probe indirectly.
	ProbeTimeout time.Duration
	// SuspicionMult: a suspect is declared dead after SuspicionMult ×
	// ProbeInterval (× log10 of the node count, from 10 nodes on) unless
	// it refutes.
	SuspicionMult int
	// GossipInterval: how often news (suspect, dead, alive) is spread.
	GossipInterval time.Duration
	// TCPTimeout bounds a stream connection (joins, state exchanges).
	TCPTimeout time.Duration
}

// LANTiming is the default for daemons on one LAN; docs/design/domain.md
// explains the numbers (a dead node is declared dead within about a
// second).
func LANTiming() Timing {
	return Timing{
		ProbeInterval:  200 * time.Millisecond,
		ProbeTimeout:   100 * time.Millisecond,
		SuspicionMult:  2,
		GossipInterval: 100 * time.Millisecond,
		TCPTimeout:     2 * time.Second,
	}
}

// Config configures a Membership.
type Config struct {
	Node     int32
	Name     string
	Inc      uint64
	RaftAddr string
	// Bind is the gossip address (host:port, UDP and TCP) unless
	// Transport is set.
	Bind string
	// Join are other daemons' gossip addresses; Membership keeps trying
	// them until one answers.
	Join []string
	// Keys encrypt and authenticate gossip (each 16, 24 or 32 bytes, from
	// hagsctl domain init): the first (the primary) encrypts what this
	// daemon sends, and a message under any of them is accepted, so that
	// a new key can be installed everywhere before it is used, and an old
	// one removed once nobody uses it. Empty: plain gossip.
	Keys [][]byte
	// Transport replaces memberlist's UDP/TCP transport (simulations).
	Transport memberlist.NodeAwareTransport
	// Timing; zero: LANTiming.
	Timing Timing
	Logger *slog.Logger
	// LibLogger receives memberlist's own log lines; nil: discarded.
	LibLogger *log.Logger
	// OnChange is called with a node's record whenever its health or
	// incarnation changes. Calls are sequential, in the order memberlist
	// reported the changes, from Membership's own goroutine; it may call
	// Membership's methods but should not block for long.
	OnChange func(Member)
}

// Membership is this daemon's view of the domain's daemons. Its methods
// are safe for concurrent use.
type Membership struct {
	cfg Config
	log *slog.Logger
	ml  *memberlist.Memberlist

	leaving atomic.Bool

	refuseMu sync.Mutex
	refused  map[string]time.Time // memberlist name → when a refusal of its record was last logged

	mu      sync.Mutex
	table   map[int32]*Member
	leavers map[int32]uint64 // nodes whose record said they were leaving, by incarnation
	changes []Member
	closed  bool
	wake    chan struct{}
	done    chan struct{}
	wg      sync.WaitGroup
}

// New starts gossiping and joins the domain through cfg.Join (in the
// background: a daemon that starts first waits for the others).
func New(cfg Config) (*Membership, error) {
	if cfg.Node <= 0 {
		return nil, fmt.Errorf("membership: node number %d: want a positive number", cfg.Node)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.Timing == (Timing{}) {
		cfg.Timing = LANTiming()
	}
	m := &Membership{
		cfg:     cfg,
		log:     cfg.Logger.With("component", "membership"),
		refused: make(map[string]time.Time),
		table:   make(map[int32]*Member),
		leavers: make(map[int32]uint64),
		wake:    make(chan struct{}, 1),
		done:    make(chan struct{}),
	}
	// The others would refuse a record this daemon cannot accept itself.
	if _, err := checkRecord(strconv.Itoa(int(cfg.Node)), m.ownRecord(), time.Now()); err != nil {
		return nil, fmt.Errorf("membership: this daemon's own record: %w", err)
	}
	mc, err := m.memberlistConfig()
	if err != nil {
		return nil, err
	}
	ml, err := memberlist.Create(mc)
	if err != nil {
		return nil, fmt.Errorf("membership: start gossip on %s: %w", cfg.Bind, err)
	}
	m.ml = ml
	m.wg.Add(3)
	go m.notifyLoop()
	go m.joinLoop()
	go m.reconnectLoop()
	return m, nil
}

func (m *Membership) memberlistConfig() (*memberlist.Config, error) {
	cfg := m.cfg
	mc := memberlist.DefaultLANConfig()
	mc.Name = strconv.Itoa(int(cfg.Node))
	t := cfg.Timing
	mc.ProbeInterval, mc.ProbeTimeout, mc.SuspicionMult = t.ProbeInterval, t.ProbeTimeout, t.SuspicionMult
	mc.GossipInterval, mc.TCPTimeout = t.GossipInterval, t.TCPTimeout
	mc.Delegate = delegate{m}
	mc.Events = events{m}
	mc.Alive = events{m}
	mc.Logger = cfg.LibLogger
	if mc.Logger == nil {
		mc.Logger = log.New(io.Discard, "", 0)
	}
	if len(cfg.Keys) > 0 {
		for _, k := range cfg.Keys {
			if len(k) == 0 {
				return nil, ErrNoKeys
			}
		}
		kr, err := memberlist.NewKeyring(cfg.Keys, cfg.Keys[0])
		if err != nil {
			return nil, fmt.Errorf("membership: gossip keys: %w", err)
		}
		mc.Keyring = kr
	}
	if cfg.Transport != nil {
		mc.Transport = cfg.Transport
	} else {
		host, port, err := net.SplitHostPort(cfg.Bind)
		if err != nil {
			return nil, fmt.Errorf("membership: gossip address %q: %w", cfg.Bind, err)
		}
		p, err := strconv.Atoi(port)
		if err != nil {
			return nil, fmt.Errorf("membership: gossip port %q: %w", port, err)
		}
		mc.BindAddr, mc.BindPort = host, p
		mc.AdvertiseAddr, mc.AdvertisePort = host, p
	}
	return mc, nil
}

// joinLoop contacts the seeds until one answers (or none are given).
func (m *Membership) joinLoop() {
	defer m.wg.Done()
	var seeds []string
	for _, s := range m.cfg.Join {
		if s != m.cfg.Bind {
			seeds = append(seeds, s)
		}
	}
	if len(seeds) == 0 {
		return
	}
	retry := 50 * time.Millisecond
	for {
		n, err := m.ml.Join(seeds)
		if n > 0 {
			m.log.Info("joined the gossip", "contacted", n)
			return
		}
		m.log.Debug("no gossip seed answered; retrying", "err", err, "in", retry)
		t := time.NewTimer(retry)
		select {
		case <-t.C:
		case <-m.done:
			t.Stop()
			return
		}
		retry = min(2*retry, 2*time.Second)
	}
}

// reconnectEvery is how often Membership tries to reach the nodes it
// holds dead: memberlist stops probing a dead node, so after a partition
// heals the two sides would not find each other again on their own.
const reconnectEvery = time.Second

func (m *Membership) reconnectLoop() {
	defer m.wg.Done()
	t := time.NewTicker(reconnectEvery)
	defer t.Stop()
	for {
		select {
		case <-t.C:
		case <-m.done:
			return
		}
		var addrs []string
		m.mu.Lock()
		for _, mem := range m.table {
			if mem.Health == HealthDead && mem.Node != m.cfg.Node {
				addrs = append(addrs, mem.Addr)
			}
		}
		m.mu.Unlock()
		if len(addrs) == 0 {
			continue
		}
		if n, _ := m.ml.Join(addrs); n > 0 {
			m.log.Info("reached nodes held dead", "reached", n)
		}
	}
}

// check checks a memberlist node's record (checkRecord), logging a
// refusal (at most once per refusalLogEvery for each memberlist name).
// It is called with memberlist's locks held: it must not call memberlist.
func (m *Membership) check(n *memberlist.Node) (meta, error) {
	md, err := checkRecord(n.Name, n.Meta, time.Now())
	if err == nil {
		return md, nil
	}
	now := time.Now()
	m.refuseMu.Lock()
	last, seen := m.refused[n.Name]
	logIt := !seen || now.Sub(last) >= refusalLogEvery
	if logIt {
		if len(m.refused) >= maxRefusalNames {
			clear(m.refused)
		}
		m.refused[n.Name] = now
	}
	m.refuseMu.Unlock()
	if logIt {
		m.log.Warn("gossip record refused", "name", n.Name, "addr", n.Address(), "err", err)
	}
	return md, err
}

// record updates the table from a memberlist node (called with
// memberlist's locks held: it must not call memberlist) and queues the
// change for OnChange. memberlist keeps one entry per name, which is the
// node number, and orders its news by its own incarnation numbers, so the
// record it reports is the latest; an entry never goes back to an earlier
// run of a daemon. (Keeping the highest incarnation seen instead let one
// forged record hide the real daemon for good.)
func (m *Membership) record(n *memberlist.Node, h Health) {
	md, err := m.check(n)
	if err != nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	old := m.table[md.Node]
	if md.Leaving {
		m.leavers[md.Node] = md.Inc
	}
	if h == HealthDead {
		if inc, ok := m.leavers[md.Node]; ok && inc == md.Inc {
			h = HealthLeft
		}
	}
	mem := Member{Node: md.Node, Name: md.Name, Inc: md.Inc, RaftAddr: md.RaftAddr, Addr: n.Address(), Health: h, Since: time.Now()}
	if old != nil && old.Health == h && old.Inc == md.Inc {
		mem.Since = old.Since
		*old = mem
		return
	}
	m.table[md.Node] = &mem
	if !m.closed {
		m.changes = append(m.changes, mem)
		select {
		case m.wake <- struct{}{}:
		default:
		}
	}
}

func (m *Membership) notifyLoop() {
	defer m.wg.Done()
	for {
		select {
		case <-m.wake:
		case <-m.done:
			return
		}
		m.mu.Lock()
		changes := m.changes
		m.changes = nil
		m.mu.Unlock()
		for _, c := range changes {
			m.log.Info("node health", "member", c.Node, "name", c.Name, "inc", c.Inc, "health", c.Health.String())
			if m.cfg.OnChange != nil {
				m.cfg.OnChange(c)
			}
		}
	}
}

// Members returns every node heard of, by node number. memberlist does not
// publish suspicion, so a suspect node is still alive here until it is
// declared dead.
func (m *Membership) Members() []Member {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]Member, 0, len(m.table))
	for _, mem := range m.table {
		out = append(out, *mem)
	}
	slices.SortFunc(out, func(a, b Member) int { return cmp.Compare(a.Node, b.Node) })
	return out
}

// Member returns the record of one node.
func (m *Membership) Member(node int32) (Member, bool) {
	for _, mem := range m.Members() {
		if mem.Node == node {
			return mem, true
		}
	}
	return Member{}, false
}

// Alive reports whether node, in incarnation inc, is alive or suspect (not
// yet declared dead).
func (m *Membership) Alive(node int32, inc uint64) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	mem := m.table[node]
	return mem != nil && mem.Inc == inc && !mem.Health.Gone()
}

// CountAlive returns how many of nodes are alive now (not declared dead
// or gone); this daemon counts as alive.
func (m *Membership) CountAlive(nodes []int32) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	count := 0
	for _, n := range nodes {
		if mem := m.table[n]; n == m.cfg.Node || mem != nil && mem.Health == HealthAlive {
			count++
		}
	}
	return count
}

// Leave tells the others this daemon is going (they see it left at once,
// rather than dead after the timeouts), waiting at most timeout.
func (m *Membership) Leave(timeout time.Duration) error {
	// First say so in this daemon's record, so that the others can tell a
	// departure from a death (memberlist's callbacks do not).
	m.leaving.Store(true)
	if err := m.ml.UpdateNode(timeout / 2); err != nil {
		m.log.Debug("could not announce leaving in the record", "err", err)
	}
	if err := m.ml.Leave(timeout); err != nil {
		return fmt.Errorf("membership: leave: %w", err)
	}
	return nil
}

// Close stops gossiping and returns after Membership's goroutines have
// exited. memberlist's own probe goroutines may outlive it by up to one
// probe timeout (they hold no resource of ours).
func (m *Membership) Close() error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil
	}
	m.closed = true
	close(m.done)
	m.mu.Unlock()
	err := m.ml.Shutdown()
	m.wg.Wait()
	if err != nil {
		return fmt.Errorf("membership: shutdown: %w", err)
	}
	return nil
}

// delegate gossips this daemon's record.
type delegate struct{ m *Membership }

// ownRecord is this daemon's record, encoded.
func (m *Membership) ownRecord() []byte {
	b, err := msgpack.Marshal(&meta{Node: m.cfg.Node, Name: m.cfg.Name, Inc: m.cfg.Inc, RaftAddr: m.cfg.RaftAddr,
		Leaving: m.leaving.Load()})
	if err != nil {
		m.log.Error("node record does not encode", "err", err)
		return nil
	}
	return b
}

func (d delegate) NodeMeta(limit int) []byte {
	b := d.m.ownRecord()
	if len(b) > limit {
		d.m.log.Error("node record does not fit the gossip metadata", "limit", limit, "size", len(b))
		return nil
	}
	return b
}
func (delegate) NotifyMsg([]byte)                           {}
func (delegate) GetBroadcasts(overhead, limit int) [][]byte { return nil }
func (delegate) LocalState(join bool) []byte                { return nil }
func (delegate) MergeRemoteState(buf []byte, join bool)     {}

// events turns memberlist's callbacks into records, and refuses records
// that fail checkRecord before memberlist stores them (NotifyAlive: an
// error makes memberlist drop the alive message, whether gossiped or part
// of a state exchange).
type events struct{ m *Membership }

func (e events) NotifyAlive(n *memberlist.Node) error {
	_, err := e.m.check(n)
	return err
}

func (e events) NotifyJoin(n *memberlist.Node)   { e.m.record(n, HealthAlive) }
func (e events) NotifyUpdate(n *memberlist.Node) { e.m.record(n, HealthAlive) }
func (e events) NotifyLeave(n *memberlist.Node)  { e.m.record(n, HealthDead) }

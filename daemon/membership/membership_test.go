package membership

import (
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/memberlist"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/vmihailenco/msgpack/v5"
)

// freeAddrs returns n loopback addresses whose port was free for both TCP
// and UDP a moment ago. The ports are drawn below the kernel's ephemeral
// range (32768 and up on Linux): a port the kernel handed out for ":0" is
// the kind it hands out again, as the local end of another test's outgoing
// connection, in the moment between this check and the daemon's bind (a
// fresh-clone make test once failed TestKeyring on "address already in
// use" that way).
func freeAddrs(t *testing.T, n int) []string {
	t.Helper()
	var out []string
	for tries := 0; len(out) < n; tries++ {
		require.Less(t, tries, 1000, "a loopback port free for TCP and UDP can be had")
		addr := fmt.Sprintf("127.0.0.1:%d", 20000+rand.IntN(12000))
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			continue
		}
		pc, err := net.ListenPacket("udp", addr)
		ln.Close()
		if err != nil {
			continue
		}
		pc.Close()
		if !slices.Contains(out, addr) {
			out = append(out, addr)
		}
	}
	return out
}

// watcher collects OnChange calls.
type watcher struct {
	ch   chan Member
	seen []Member
}

// waitFor returns the first record of node with health h reported since
// the start, waiting for it if need be.
func (w *watcher) waitFor(t *testing.T, node int32, h Health) Member {
	t.Helper()
	return w.waitForInc(t, node, h, 0)
}

// waitForInc is waitFor for incarnation inc (0: any).
func (w *watcher) waitForInc(t *testing.T, node int32, h Health, inc uint64) Member {
	t.Helper()
	match := func(m Member) bool { return m.Node == node && m.Health == h && (inc == 0 || m.Inc == inc) }
	for _, m := range w.seen {
		if match(m) {
			return m
		}
	}
	deadline := time.After(10 * time.Second)
	for {
		select {
		case m := <-w.ch:
			w.seen = append(w.seen, m)
			if match(m) {
				return m
			}
		case <-deadline:
			t.Fatalf("node %d was never reported %s", node, h)
			return Member{}
		}
	}
}

func start(t *testing.T, node int32, inc uint64, addrs []string) (*Membership, *watcher) {
	t.Helper()
	w := &watcher{ch: make(chan Member, 64)}
	m, err := New(Config{
		Node: node, Name: fmt.Sprintf("n%d", node), Inc: inc, RaftAddr: fmt.Sprintf("10.0.0.%d:7100", node),
		Bind: addrs[node-1], Join: addrs,
		OnChange: func(mem Member) { w.ch <- mem },
	})
	require.NoError(t, err, "membership %d starts", node)
	return m, w
}

func TestDeathAndLeaveAreReported(t *testing.T) {
	addrs := freeAddrs(t, 3)
	m1, w1 := start(t, 1, 10, addrs)
	defer m1.Close()
	m2, _ := start(t, 2, 20, addrs)
	m3, _ := start(t, 3, 30, addrs)
	defer m3.Close()
	m2b := (*Membership)(nil)
	defer func() {
		if m2b != nil {
			m2b.Close()
		}
	}()

	got := w1.waitFor(t, 2, HealthAlive)
	assert.Equal(t, Member{Node: 2, Name: "n2", Inc: 20, RaftAddr: "10.0.0.2:7100", Addr: addrs[1], Health: HealthAlive, Since: got.Since},
		got, "a joining node's record arrives with its metadata")
	w1.waitFor(t, 3, HealthAlive)
	assert.True(t, m1.Alive(2, 20), "node 2 is alive in incarnation 20")
	assert.False(t, m1.Alive(2, 19), "an older incarnation of node 2 is not alive")
	assert.Equal(t, 3, m1.CountAlive([]int32{1, 2, 3}), "all three count as alive")

	require.NoError(t, m2.Close(), "node 2 stops without leaving (a crash)")
	w1.waitFor(t, 2, HealthDead)
	assert.False(t, m1.Alive(2, 20), "a dead node is not alive")
	mem, ok := m1.Member(2)
	require.True(t, ok, "a dead node stays in the table")
	assert.Equal(t, HealthDead, mem.Health, "the table says dead")
	assert.Equal(t, 2, m1.CountAlive([]int32{1, 2, 3}), "two of three are alive")

	require.NoError(t, m3.Leave(time.Second), "node 3 leaves on purpose")
	w1.waitFor(t, 3, HealthLeft)

	// Node 2 comes back as a new incarnation on the same address.
	m2b, _ = start(t, 2, 21, addrs)
	back := w1.waitForInc(t, 2, HealthAlive, 21)
	assert.Equal(t, uint64(21), back.Inc, "the restarted daemon is seen with its new incarnation")
	assert.True(t, m1.Alive(2, 21), "the new incarnation is alive")
}

// record encodes a gossip record as a daemon (or a forger) would.
func record(t *testing.T, md meta) []byte {
	t.Helper()
	b, err := msgpack.Marshal(&md)
	require.NoError(t, err, "a record encodes")
	return b
}

func TestRecordChecks(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	good := meta{Node: 3, Name: "node3", Inc: uint64(now.Unix()), RaftAddr: "10.0.0.3:7100"}
	md, err := checkRecord("3", record(t, good), now)
	require.NoError(t, err, "a daemon's own record passes")
	assert.Equal(t, good, md, "the record is decoded")
	ahead := uint64(now.Add(MaxIncarnationAhead).Unix())
	_, err = checkRecord("3", record(t, meta{Node: 3, Name: "n", Inc: ahead}), now)
	assert.NoError(t, err, "an incarnation MaxIncarnationAhead ahead (clock skew, fast restarts) passes; an empty raft address too")
	_, err = checkRecord("3", record(t, meta{Node: 3, Inc: 1}), now)
	assert.NoError(t, err, "a small counter (simulations) passes")

	for _, c := range []struct {
		what string
		name string
		b    []byte
		want error
	}{
		{"garbage", "3", []byte{0xc1, 0x00}, ErrRecordUndecodable},
		{"a huge declared array", "3", []byte{0xdd, 0x7f, 0xff, 0xff, 0xff}, ErrRecordUndecodable},
		{"no record at all", "3", nil, ErrRecordUndecodable},
		{"node 0", "0", record(t, meta{Node: 0, Inc: 5}), ErrRecordNode},
		{"a negative node", "-3", record(t, meta{Node: -3, Inc: 5}), ErrRecordNode},
		{"another name than the number", "forger", record(t, good), ErrRecordName},
		{"another node's number as name", "2", record(t, good), ErrRecordName},
		{"a padded number", "03", record(t, good), ErrRecordName},
		{"incarnation 0", "3", record(t, meta{Node: 3, Inc: 0}), ErrRecordInc},
		{"an incarnation beyond 32 bits", "3", record(t, meta{Node: 3, Inc: 1 << 40}), ErrRecordInc},
		{"an incarnation a day and a second ahead", "3", record(t, meta{Node: 3, Inc: ahead + 1}), ErrRecordInc},
		{"an incarnation ten years ahead", "3", record(t, meta{Node: 3, Inc: uint64(now.AddDate(10, 0, 0).Unix())}), ErrRecordInc},
		{"a control character in the name", "3", record(t, meta{Node: 3, Inc: 5, Name: "node\n3"}), ErrRecordField},
		{"a long name", "3", record(t, meta{Node: 3, Inc: 5, Name: strings.Repeat("n", maxNameLen+1)}), ErrRecordField},
		{"a name that is not UTF-8", "3", record(t, meta{Node: 3, Inc: 5, Name: "\xff"}), ErrRecordField},
		{"a raft address without a port", "3", record(t, meta{Node: 3, Inc: 5, RaftAddr: "10.0.0.3"}), ErrRecordField},
		{"a raft address with port 0", "3", record(t, meta{Node: 3, Inc: 5, RaftAddr: "10.0.0.3:0"}), ErrRecordField},
		{"a raft address with a port beyond 65535", "3", record(t, meta{Node: 3, Inc: 5, RaftAddr: "10.0.0.3:70000"}), ErrRecordField},
	} {
		_, err := checkRecord(c.name, c.b, now)
		assert.ErrorIs(t, err, c.want, "%s is refused", c.what)
	}
}

// forger is a memberlist that holds the domain's key (none here) but
// gossips a record of its choosing, under a name of its choosing, and
// claims the address advertise (empty: its own).
func forger(t *testing.T, name string, md meta, advertise string) *memberlist.Memberlist {
	t.Helper()
	c := memberlist.DefaultLANConfig()
	c.Name = name
	bind := freeAddrs(t, 1)[0] // not port 0: memberlist would advertise the port it picks
	host, port, _ := net.SplitHostPort(bind)
	c.BindAddr = host
	c.BindPort, _ = strconv.Atoi(port)
	if advertise != "" {
		host, port, err := net.SplitHostPort(advertise)
		require.NoError(t, err)
		c.AdvertiseAddr = host
		c.AdvertisePort, _ = strconv.Atoi(port)
	}
	c.PushPullInterval = 0 // one state exchange, on joining
	c.Delegate = fixedMeta(record(t, md))
	c.LogOutput = io.Discard
	ml, err := memberlist.Create(c)
	require.NoError(t, err, "the forger starts")
	t.Cleanup(func() { ml.Shutdown() })
	return ml
}

// fixedMeta is a memberlist delegate gossiping a fixed record.
type fixedMeta []byte

func (f fixedMeta) NodeMeta(int) []byte                      { return f }
func (fixedMeta) NotifyMsg([]byte)                           {}
func (fixedMeta) GetBroadcasts(overhead, limit int) [][]byte { return nil }
func (fixedMeta) LocalState(join bool) []byte                { return nil }
func (fixedMeta) MergeRemoteState(buf []byte, join bool)     {}

// logBuffer is a slog handler's output that tests can wait on.
type logBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestForgedRecordsAreRefused: memberlist nodes gossiping a record under
// a name that is not its node number, or with an implausible incarnation,
// are refused before memberlist stores them: they never appear, nor does
// the node they name, and the refusal is logged.
func TestForgedRecordsAreRefused(t *testing.T) {
	addrs := freeAddrs(t, 2)
	var logs logBuffer
	w := &watcher{ch: make(chan Member, 64)}
	m1, err := New(Config{Node: 1, Name: "n1", Inc: 10, RaftAddr: "10.0.0.1:7100", Bind: addrs[0],
		Logger:   slog.New(slog.NewTextHandler(&logs, nil)),
		OnChange: func(mem Member) { w.ch <- mem }})
	require.NoError(t, err)
	defer m1.Close()

	huge := uint64(time.Now().AddDate(10, 0, 0).Unix())
	for _, f := range []struct {
		name string
		md   meta
		why  string
	}{
		{"forger", meta{Node: 2, Name: "n2", Inc: huge, RaftAddr: "10.0.0.9:7100"}, "is not the record's node number"},
		{"3", meta{Node: 3, Name: "n3", Inc: huge, RaftAddr: "10.0.0.9:7100"}, "implausible incarnation"},
		{"4", meta{Node: 4, Name: "n4", Inc: 1 << 40, RaftAddr: "10.0.0.9:7100"}, "implausible incarnation"},
	} {
		ml := forger(t, f.name, f.md, "")
		ml.Join([]string{addrs[0]}) // the exchange may succeed; what matters is what m1 keeps of it
		require.Eventually(t, func() bool {
			return strings.Contains(logs.String(), fmt.Sprintf("name=%s", f.name)) && strings.Contains(logs.String(), f.why)
		}, 10*time.Second, 10*time.Millisecond, "the refusal of %q is logged (%s); the log says:\n%s", f.name, f.why, logs.String())
		for _, n := range m1.ml.Members() {
			assert.NotEqual(t, f.name, n.Name, "memberlist never stores the forged node %q", f.name)
		}
		_, known := m1.Member(f.md.Node)
		assert.False(t, known, "node %d is unknown: only a forged record named it", f.md.Node)
	}

	// A real daemon joins as usual afterwards.
	m2, _ := start(t, 2, 20, addrs)
	defer m2.Close()
	assert.Equal(t, uint64(20), w.waitFor(t, 2, HealthAlive).Inc, "node 2's own record is taken")
	for _, mem := range w.seen {
		assert.NotEqual(t, huge, mem.Inc, "no forged incarnation was ever reported")
	}
}

// TestForgedIncarnationDoesNotHideTheRealOne: a forger that holds the key
// and uses node 2's name and address gossips a plausible newer incarnation
// of node 2. memberlist takes it, until node 2 refutes it; the record
// reported then is node 2's own again (keeping the highest incarnation
// seen kept the forged one for good, and node 2 out).
func TestForgedIncarnationDoesNotHideTheRealOne(t *testing.T) {
	addrs := freeAddrs(t, 2)
	m1, w1 := start(t, 1, 10, addrs)
	defer m1.Close()
	m2, _ := start(t, 2, 20, addrs)
	defer m2.Close()
	w1.waitForInc(t, 2, HealthAlive, 20)

	forged := uint64(time.Now().Unix()) + 60
	ml := forger(t, "2", meta{Node: 2, Name: "n2", Inc: forged, RaftAddr: "10.0.0.9:7100"}, addrs[1])
	_, err := ml.Join([]string{addrs[0]})
	require.NoError(t, err, "the forger joins: it holds the key and its record is plausible")
	w1.waitForInc(t, 2, HealthAlive, forged) // the forgery arrived
	require.NoError(t, ml.Shutdown())
	require.Eventually(t, func() bool { return m1.Alive(2, 20) }, 10*time.Second, 10*time.Millisecond,
		"node 2 refutes the forged record and is seen alive in its own incarnation again")
}

// TestKeyring: two daemons whose keyrings hold the same two keys, each
// with another primary, hear each other (what rotating a key goes
// through); empty or badly sized keys are refused.
func TestKeyring(t *testing.T) {
	addrs := freeAddrs(t, 2)
	oldKey, newKey := []byte(strings.Repeat("o", 32)), []byte(strings.Repeat("n", 32))
	ws := make([]*watcher, 2)
	for i, keys := range [][][]byte{{newKey, oldKey}, {oldKey, newKey}} {
		ws[i] = &watcher{ch: make(chan Member, 64)}
		w := ws[i]
		m, err := New(Config{Node: int32(i + 1), Name: fmt.Sprint("n", i+1), Inc: 10, Bind: addrs[i], Join: addrs, Keys: keys,
			OnChange: func(mem Member) { w.ch <- mem }})
		require.NoError(t, err, "a daemon with two keys starts")
		defer m.Close()
	}
	ws[0].waitFor(t, 2, HealthAlive)
	ws[1].waitFor(t, 1, HealthAlive)

	for _, keys := range [][][]byte{{{}}, {[]byte("short")}, {newKey, make([]byte, 7)}} {
		_, err := New(Config{Node: 3, Inc: 10, Bind: "127.0.0.1:0", Keys: keys})
		assert.Error(t, err, "keys %q are refused", keys)
	}
}

// FuzzCheckRecord: whatever a sender holding the key gossips, checkRecord
// never panics, and what it accepts is a record a daemon could have sent
// under that name, at that time.
func FuzzCheckRecord(f *testing.F) {
	now := time.Unix(1_700_000_000, 0)
	for _, md := range []meta{
		{Node: 3, Name: "node3", Inc: uint64(now.Unix()), RaftAddr: "10.0.0.3:7100"},
		{Node: 3, Name: "node3", Inc: 1 << 40, RaftAddr: "10.0.0.3:7100", Leaving: true},
		{Node: -1, Inc: 1},
	} {
		b, err := msgpack.Marshal(&md)
		require.NoError(f, err)
		f.Add("3", b)
	}
	f.Add("forger", []byte{0xdd, 0x7f, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, name string, b []byte) {
		md, err := checkRecord(name, b, now)
		if err != nil {
			return
		}
		assert.Equal(t, strconv.Itoa(int(md.Node)), name, "an accepted record's name is its node number")
		assert.Positive(t, md.Node, "an accepted record names a node")
		assert.True(t, md.Inc >= 1 && md.Inc <= uint64(now.Add(MaxIncarnationAhead).Unix()),
			"an accepted incarnation is plausible: %d", md.Inc)
	})
}

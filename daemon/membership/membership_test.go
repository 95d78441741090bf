package membership

import (
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// freeAddrs returns n loopback addresses whose port was free for both TCP
// and UDP a moment ago.
func freeAddrs(t *testing.T, n int) []string {
	t.Helper()
	var out []string
	for len(out) < n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err, "a loopback port can be had")
		addr := ln.Addr().String()
		pc, err := net.ListenPacket("udp", addr)
		ln.Close()
		if err != nil {
			continue
		}
		pc.Close()
		out = append(out, addr)
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
		Node: node, Name: fmt.Sprintf("n%d", node), Inc: inc, RaftAddr: fmt.Sprintf("raft-%d", node),
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
	assert.Equal(t, Member{Node: 2, Name: "n2", Inc: 20, RaftAddr: "raft-2", Addr: addrs[1], Health: HealthAlive, Since: got.Since},
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

package pki_test

import (
	"io"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/memberlist"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhags/hags/internal/pki"
)

// joins records the members a memberlist has been told about.
type joins struct {
	mu    sync.Mutex
	names []string
}

func (j *joins) NotifyJoin(n *memberlist.Node) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.names = append(j.names, n.Name)
}
func (j *joins) NotifyLeave(*memberlist.Node)  {}
func (j *joins) NotifyUpdate(*memberlist.Node) {}

func (j *joins) seen() []string {
	j.mu.Lock()
	defer j.mu.Unlock()
	return append([]string(nil), j.names...)
}

func gossipKey(t *testing.T) []byte {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "pki")
	_, err := pki.Init(dir, "prod", []pki.Node{{Number: 1, Name: "n1"}}, false)
	require.NoError(t, err)
	key, err := pki.LoadGossipKey(dir)
	require.NoError(t, err)
	return key
}

// startMember runs a memberlist on a loopback port with key (nil: no
// encryption).
func startMember(t *testing.T, name string, key []byte) (*memberlist.Memberlist, *joins) {
	t.Helper()
	c := memberlist.DefaultLocalConfig()
	c.Name = name
	c.BindAddr = "127.0.0.1"
	c.BindPort = 0
	c.SecretKey = key
	c.LogOutput = io.Discard
	c.TCPTimeout = 2 * time.Second
	j := &joins{}
	c.Events = j
	m, err := memberlist.Create(c)
	require.NoError(t, err, "memberlist %s starts", name)
	t.Cleanup(func() { m.Shutdown() })
	return m, j
}

func names(m *memberlist.Memberlist) []string {
	var out []string
	for _, n := range m.Members() {
		out = append(out, n.Name)
	}
	return out
}

// TestGossipKeyAdmitsOnlyItsHolders: two memberlists with the domain's gossip
// key become members of each other; one with another domain's key, and one
// with no key, can neither join them nor be joined, and never see them.
func TestGossipKeyAdmitsOnlyItsHolders(t *testing.T) {
	key := gossipKey(t)
	m1, _ := startMember(t, "m1", key)
	m2, _ := startMember(t, "m2", key)
	foreign, foreignSaw := startMember(t, "foreign", gossipKey(t))
	plain, plainSaw := startMember(t, "plain", nil)
	addr := func(m *memberlist.Memberlist) string { return m.LocalNode().Address() }

	n, err := m2.Join([]string{addr(m1)})
	require.NoError(t, err, "a holder of the same key joins")
	assert.Equal(t, 1, n)
	require.Eventually(t, func() bool { return m1.NumMembers() == 2 && m2.NumMembers() == 2 },
		10*time.Second, 10*time.Millisecond, "m1 and m2 see each other")

	for _, outsider := range []*memberlist.Memberlist{foreign, plain} {
		name := outsider.LocalNode().Name
		_, err := outsider.Join([]string{addr(m1)})
		assert.Error(t, err, "%s cannot join m1", name)
		_, err = m2.Join([]string{addr(outsider)})
		assert.Error(t, err, "m2 cannot join %s", name)
	}

	// Each join attempt above was a full TCP exchange that failed; had
	// any state crossed, the member lists would show it now.
	assert.ElementsMatch(t, []string{"m1", "m2"}, names(m1), "m1 knows only the key holders")
	assert.ElementsMatch(t, []string{"m1", "m2"}, names(m2), "m2 knows only the key holders")
	assert.Equal(t, []string{"foreign"}, names(foreign), "the foreign member knows only itself")
	assert.Equal(t, []string{"plain"}, names(plain), "the member without a key knows only itself")
	assert.Equal(t, []string{"foreign"}, foreignSaw.seen(), "the foreign member was never told of another")
	assert.Equal(t, []string{"plain"}, plainSaw.seen(), "the member without a key was never told of another")
}

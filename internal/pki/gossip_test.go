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
	return startMemberWith(t, name, func(c *memberlist.Config) { c.SecretKey = key })
}

// startKeyringMember runs a memberlist with a keyring of keys, the first
// primary, as a daemon does with LoadGossipKeys.
func startKeyringMember(t *testing.T, name string, keys [][]byte) *memberlist.Memberlist {
	t.Helper()
	ring, err := memberlist.NewKeyring(keys, keys[0])
	require.NoError(t, err, "the keys make a keyring")
	m, _ := startMemberWith(t, name, func(c *memberlist.Config) { c.Keyring = ring })
	return m
}

func startMemberWith(t *testing.T, name string, set func(*memberlist.Config)) (*memberlist.Memberlist, *joins) {
	t.Helper()
	c := memberlist.DefaultLocalConfig()
	c.Name = name
	c.BindAddr = "127.0.0.1"
	c.BindPort = 0
	set(c)
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

// TestGossipKeyRotationKeepsNeighbouringStepsTalking: the gossip key file
// after each step of a rotation (one key; rotate; promote; finish) is
// loaded as a keyring, as daemons load it. A daemon at one step and a
// daemon at the next can always join and see each other, so a rotation
// done step by step, each step on every node before the next, never
// splits the domain. Daemons two steps apart cannot, which is why each
// step must be everywhere before the next.
func TestGossipKeyRotationKeepsNeighbouringStepsTalking(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pki")
	_, err := pki.Init(dir, "prod", []pki.Node{{Number: 1, Name: "n1"}}, false)
	require.NoError(t, err)
	var steps [][][]byte
	load := func() {
		keys, err := pki.LoadGossipKeys(dir)
		require.NoError(t, err)
		steps = append(steps, keys)
	}
	load()
	_, err = pki.RotateGossipKey(dir)
	require.NoError(t, err)
	load()
	_, err = pki.PromoteGossipKey(dir)
	require.NoError(t, err)
	load()
	_, err = pki.FinishGossipRotation(dir)
	require.NoError(t, err)
	load()
	names := []string{"one key", "rotated", "promoted", "finished"}

	addr := func(m *memberlist.Memberlist) string { return m.LocalNode().Address() }
	for i := 0; i+1 < len(steps); i++ {
		a := startKeyringMember(t, names[i], steps[i])
		b := startKeyringMember(t, names[i+1], steps[i+1])
		_, err := b.Join([]string{addr(a)})
		require.NoError(t, err, "a daemon at step %q joins one at step %q", names[i+1], names[i])
		require.Eventually(t, func() bool { return a.NumMembers() == 2 && b.NumMembers() == 2 },
			10*time.Second, 10*time.Millisecond, "steps %q and %q see each other", names[i], names[i+1])
	}
	for _, p := range [][2]int{{0, 2}, {0, 3}} {
		a := startKeyringMember(t, names[p[0]]+" (far)", steps[p[0]])
		b := startKeyringMember(t, names[p[1]]+" (far)", steps[p[1]])
		_, err := b.Join([]string{addr(a)})
		assert.Error(t, err, "a daemon at step %q cannot join one at step %q", names[p[1]], names[p[0]])
		assert.Equal(t, 1, a.NumMembers(), "step %q knows only itself", names[p[0]])
	}
}

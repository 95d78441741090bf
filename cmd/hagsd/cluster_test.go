package main

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhags/hags/daemon/agreement"
)

func TestClusterFlagsAndConfigFile(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "hags.conf")
	require.NoError(t, os.WriteFile(conf, []byte(`# a domain of three
domain = prod
node 2
voters 1=10.0.0.1:7100,2=10.0.0.2:7100,3=10.0.0.3:7100
data-dir=/srv/hags
insecure true
`), 0o644))
	o, err := parse([]string{"--config", conf, "--name", "beta"}, io.Discard)
	require.NoError(t, err, "a configuration file and flags parse")
	assert.Equal(t, "prod", o.domain, "the file sets the domain")
	c, err := o.clusterConfig()
	require.NoError(t, err, "the cluster settings are valid")
	require.NotNil(t, c, "--voters makes a domain of several nodes")
	assert.Equal(t, "10.0.0.2:7100", c.Addr, "this node's address comes from the voters")
	assert.Equal(t, "beta", c.Name, "the command line sets the name")
	assert.Equal(t, "/srv/hags", c.DataDir, "the file sets the data directory")
	assert.True(t, o.cluster.insecure, "the file says insecure")
	assert.Equal(t, []agreement.Server{{Node: 1, Addr: "10.0.0.1:7100"}, {Node: 2, Addr: "10.0.0.2:7100"}, {Node: 3, Addr: "10.0.0.3:7100"}},
		c.Voters, "the voters are parsed in order")

	o, err = parse([]string{"--config=" + conf, "--domain", "other", "--node", "4", "--addr", "10.0.0.4:7100"}, io.Discard)
	require.NoError(t, err, "command-line flags override the file")
	c, _ = o.clusterConfig()
	assert.Equal(t, "/srv/hags", c.DataDir, "the file's data directory stays")
	assert.Equal(t, "node4", c.Name, "the default name is node<N>")
	assert.Equal(t, "10.0.0.4:7100", c.Addr, "a follower names its own address")

	o, err = parse(nil, io.Discard)
	require.NoError(t, err, "no settings at all is a one-node domain")
	c, err = o.clusterConfig()
	require.NoError(t, err)
	assert.Nil(t, c, "without --voters the domain has one node")

	for _, bad := range [][]string{
		{"--voters", "1=10.0.0.1:7100", "--node", "2"},   // not a voter, no --addr
		{"--voters", "1=10.0.0.1"},                       // no port
		{"--voters", "x=10.0.0.1:7100"},                  // not a number
		{"--voters", "1=a:1,1=b:2"},                      // twice
		{"--voters", "1=a:1", "--addr", "b:2"},           // disagrees with --voters
		{"--addr", "a:1"},                                // --addr alone
		{"--config", filepath.Join(dir, "missing.conf")}, // no such file
		{"--voters", "1=a:1", "--snapshot-threshold", "0"},
		{"--voters", "1=a:1", "--snapshot-trailing", "0"},
		{"--voters", "1=a:1", "--snapshot-interval", "1ms"},
	} {
		// --insecure, so that each is refused for its own fault.
		_, err := parse(append(bad, "--insecure"), io.Discard)
		assert.Error(t, err, "%v is refused", bad)
	}
	d, err := parse([]string{"--voters", "1=a:1,2=b:1,3=c:1", "--domain", "dom", "--insecure"}, io.Discard)
	require.NoError(t, err)
	c, _ = d.clusterConfig()
	assert.Equal(t, filepath.Join(DefaultDataDir, "dom"), c.DataDir, "the default data directory is per domain")
	assert.Equal(t, agreement.DefaultSnapshotPolicy().Threshold, c.Snapshot.Threshold, "snapshots by default as the agreement does")

	d, err = parse([]string{"--voters", "1=a:1,2=b:1,3=c:1", "--snapshot-threshold", "64", "--snapshot-interval", "200ms",
		"--snapshot-trailing", "16", "--pki-dir", "/etc/hags/keys"}, io.Discard)
	require.NoError(t, err)
	c, _ = d.clusterConfig()
	assert.Equal(t, agreement.SnapshotPolicy{Threshold: 64, Interval: 200 * time.Millisecond, Trailing: 16, Retain: agreement.DefaultSnapshotPolicy().Retain},
		c.Snapshot, "the snapshot flags reach the agreement")
}

// TestSeveralNodesNeedKeysOrInsecure: a daemon of a domain of several nodes
// without --pki-dir refuses to start, saying what to give, unless
// --insecure says the network is trusted; --insecure makes no sense with
// keys or without --voters. A one-node domain needs neither.
func TestSeveralNodesNeedKeysOrInsecure(t *testing.T) {
	voters := []string{"--voters", "1=127.0.0.1:7100,2=127.0.0.1:7200", "--node", "1"}
	_, err := parse(voters, io.Discard)
	require.ErrorIs(t, err, errInsecure, "two voters without keys are refused")
	assert.Contains(t, err.Error(), "--pki-dir", "the error names the flag that secures the domain")
	assert.Contains(t, err.Error(), "--insecure", "the error names the flag that accepts the risk")
	var stderr strings.Builder
	assert.Equal(t, 2, run(voters, &stderr), "hagsd exits 2 without starting anything")
	assert.Contains(t, stderr.String(), "--voters without --pki-dir", "hagsd says why")

	for _, ok := range [][]string{
		append(voters, "--insecure"),
		append(voters, "--pki-dir", "/etc/hags/keys"),
		nil,
	} {
		_, err := parse(ok, io.Discard)
		assert.NoError(t, err, "%v starts", ok)
	}
	_, err = parse([]string{"--voters", "1=127.0.0.1:7100", "--node", "1"}, io.Discard)
	assert.ErrorIs(t, err, errInsecure, "a single voter listens on the network too: keys or --insecure")
	_, err = parse(append(voters, "--insecure", "--pki-dir", "/etc/hags/keys"), io.Discard)
	assert.ErrorContains(t, err, "--insecure with --pki-dir", "keys and --insecure together are refused")
	_, err = parse([]string{"--insecure"}, io.Discard)
	assert.ErrorContains(t, err, "--insecure needs --voters", "--insecure on a one-node domain is refused")
}

// TestInsecureWarningRepeats: warnInsecure warns at once and then every
// interval, until stopped.
func TestInsecureWarningRepeats(t *testing.T) {
	var out syncBuffer
	log := slog.New(slog.NewTextHandler(&out, nil))
	stop := warnInsecure(log, 10*time.Millisecond)
	assert.Equal(t, 1, strings.Count(out.String(), "INSECURE"), "the first warning is logged at once")
	require.Eventually(t, func() bool { return strings.Count(out.String(), "INSECURE") >= 3 }, 10*time.Second, 5*time.Millisecond,
		"the warning is repeated every interval")
	stop() // returns once the goroutine has exited (the race detector would see a write after it)
	assert.Contains(t, out.String(), "level=WARN", "it is a warning")
}

// syncBuffer is a strings.Builder safe for a logger's goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

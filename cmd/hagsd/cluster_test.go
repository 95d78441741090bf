package main

import (
	"io"
	"os"
	"path/filepath"
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
		_, err := parse(bad, io.Discard)
		assert.Error(t, err, "%v is refused", bad)
	}
	d, err := parse([]string{"--voters", "1=a:1,2=b:1,3=c:1", "--domain", "dom"}, io.Discard)
	require.NoError(t, err)
	c, _ = d.clusterConfig()
	assert.Equal(t, filepath.Join(DefaultDataDir, "dom"), c.DataDir, "the default data directory is per domain")
	assert.Equal(t, agreement.DefaultSnapshotPolicy().Threshold, c.Snapshot.Threshold, "snapshots by default as the agreement does")

	d, err = parse([]string{"--voters", "1=a:1,2=b:1,3=c:1", "--snapshot-threshold", "64", "--snapshot-interval", "200ms",
		"--snapshot-trailing", "16"}, io.Discard)
	require.NoError(t, err)
	c, _ = d.clusterConfig()
	assert.Equal(t, agreement.SnapshotPolicy{Threshold: 64, Interval: 200 * time.Millisecond, Trailing: 16, Retain: agreement.DefaultSnapshotPolicy().Retain},
		c.Snapshot, "the snapshot flags reach the agreement")
}

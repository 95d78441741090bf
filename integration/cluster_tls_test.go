package integration

import (
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestClusterOverTLS: daemons started with the keys of hagsctl domain init
// (--pki-dir) agree over mutual TLS and encrypted gossip: identical
// sequences, and a killed daemon is still a NODE_DIED failure leave.
func TestClusterOverTLS(t *testing.T) {
	keys := filepath.Join(t.TempDir(), "keys")
	out, err := exec.Command(filepath.Join(bin, "hagsctl"), "domain", "init", "--dir", keys, "--domain", "multi",
		"--node", "1=node1:127.0.0.1", "--node", "2=node2:127.0.0.1", "--node", "3=node3:127.0.0.1").CombinedOutput()
	require.NoError(t, err, "hagsctl domain init makes the keys: %s", out)

	m := startMulti(t, 3, "--pki-dir", keys)
	for i, d := range m.daemons {
		_, _, err := d.Log.WaitFor(regexp.MustCompile(`mutual TLS`), 0, wait)
		require.NoError(t, err, "hagsd %d uses the domain's keys", i+1)
	}
	joinAll(t, m, "g", "p1", "p2", "p3")
	act(t, func() { require.NoError(t, m.clients["p2"].Send("state 1 over-tls")) },
		`^APPROVED .*proto=STATE_VALUE_CHANGE .*state="over-tls"`, m.all("p1", "p2", "p3")...)
	act(t, func() { m.kill(2) }, `^APPROVED .*proto=FAILURE_LEAVE .*changing=1@3 .*leave=NODE_DIED`, m.all("p1", "p2")...)
	requireSameHistory(t, approved(m.clients["p1"]), m.all("p2", "p3")...)
}

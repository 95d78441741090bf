package main

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhags/hags/internal/pki"
)

func domainCtl(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := run(append([]string{"domain"}, args...), &out, &errb)
	return code, out.String(), errb.String()
}

func fileMode(t *testing.T, path string) fs.FileMode {
	t.Helper()
	st, err := os.Stat(path)
	require.NoError(t, err, "%s exists", path)
	return st.Mode().Perm()
}

func TestDomainInitCreatesKeysAndCertificates(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "keys")
	code, out, errs := domainCtl("init", "--dir", dir, "--domain", "prod",
		"--node", "1=alpha:127.0.0.1", "--node", "2=beta:10.0.0.2,beta.lan", "--node", "3=gamma")
	require.Equal(t, 0, code, "init succeeds; stderr: %s", errs)
	assert.Contains(t, out, "wrote 0600 "+filepath.Join(dir, "ca-key.pem"), "init lists the CA key with its mode")
	assert.Contains(t, out, "wrote 0644 "+filepath.Join(dir, "ca.pem"))
	assert.Contains(t, out, "wrote 0600 "+filepath.Join(dir, "gossip.key"))

	assert.Equal(t, fs.FileMode(0o600), fileMode(t, filepath.Join(dir, "ca-key.pem")), "the CA key is private")
	assert.Equal(t, fs.FileMode(0o600), fileMode(t, filepath.Join(dir, "gossip.key")), "the gossip key is private")
	for _, name := range []string{"alpha", "beta", "gamma"} {
		assert.Equal(t, fs.FileMode(0o600), fileMode(t, pki.NodeKeyPath(dir, name)), "%s's key is private", name)
		assert.Equal(t, fs.FileMode(0o644), fileMode(t, pki.NodeCertPath(dir, name)))
		id, err := pki.LoadNode(dir, name)
		require.NoError(t, err, "%s's certificate verifies against the domain CA", name)
		assert.Equal(t, "prod", id.Domain)
	}
	id, err := pki.LoadNode(dir, "beta")
	require.NoError(t, err)
	assert.Equal(t, int32(2), id.Node.Number)
	assert.ElementsMatch(t, []string{"10.0.0.2", "beta.lan"}, id.Node.Addrs, "the certificate lists the given addresses")
	_, err = pki.LoadGossipKey(dir)
	require.NoError(t, err, "the gossip key loads")

	caBefore, err := os.ReadFile(filepath.Join(dir, "ca.pem"))
	require.NoError(t, err)
	code, _, errs = domainCtl("init", "--dir", dir, "--domain", "prod", "--node", "1=alpha")
	assert.Equal(t, 1, code, "a second init without --force fails")
	assert.Contains(t, errs, "already exists", "and says why")
	caAfter, err := os.ReadFile(filepath.Join(dir, "ca.pem"))
	require.NoError(t, err)
	assert.Equal(t, caBefore, caAfter, "the refused init left the CA alone")

	code, _, errs = domainCtl("init", "--dir", dir, "--domain", "prod", "--node", "1=alpha", "--force")
	assert.Equal(t, 0, code, "--force replaces the CA; stderr: %s", errs)
	caAfter, err = os.ReadFile(filepath.Join(dir, "ca.pem"))
	require.NoError(t, err)
	assert.NotEqual(t, caBefore, caAfter, "the CA is new")
}

func TestDomainInitReadsANodesFile(t *testing.T) {
	tmp := t.TempDir()
	list := filepath.Join(tmp, "nodes")
	require.NoError(t, os.WriteFile(list, []byte("# the voters\n1=alpha:127.0.0.1\n\n2=beta:127.0.0.2\n"), 0o644))
	dir := filepath.Join(tmp, "keys")
	t.Setenv("HA_DOMAIN_NAME", "fromenv")
	code, _, errs := domainCtl("init", "--dir", dir, "--nodes", list, "--node", "3=gamma")
	require.Equal(t, 0, code, "init succeeds; stderr: %s", errs)
	nodes, err := pki.ListNodes(dir)
	require.NoError(t, err)
	require.Len(t, nodes, 3, "the file's nodes and the flag's node")
	assert.Equal(t, "alpha", nodes[0].Name)
	assert.Equal(t, "beta", nodes[1].Name)
	assert.Equal(t, "gamma", nodes[2].Name)
	ca, err := pki.LoadCA(dir)
	require.NoError(t, err)
	assert.Equal(t, "fromenv", ca.Domain, "the domain defaults to $HA_DOMAIN_NAME")

	require.NoError(t, os.WriteFile(list, []byte("1=alpha\nnonsense\n"), 0o644))
	code, _, errs = domainCtl("init", "--dir", filepath.Join(tmp, "other"), "--nodes", list)
	assert.Equal(t, 2, code, "a bad line in the nodes file is a usage error")
	assert.Contains(t, errs, list+":2", "the error names the file and line")
}

func TestDomainAddNode(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "keys")
	code, _, errs := domainCtl("init", "--dir", dir, "--domain", "prod", "--node", "1=alpha")
	require.Equal(t, 0, code, errs)

	code, out, errs := domainCtl("add-node", "--dir", dir, "--node", "4=delta:10.0.0.4")
	require.Equal(t, 0, code, "add-node succeeds; stderr: %s", errs)
	assert.Contains(t, out, "wrote 0600 "+pki.NodeKeyPath(dir, "delta"))
	id, err := pki.LoadNode(dir, "delta")
	require.NoError(t, err, "the new certificate verifies against the existing CA")
	assert.Equal(t, int32(4), id.Node.Number)

	code, _, errs = domainCtl("add-node", "--dir", dir, "--node", "4=delta")
	assert.Equal(t, 1, code, "add-node refuses to reissue without --force")
	assert.Contains(t, errs, "already exists")
	code, _, _ = domainCtl("add-node", "--dir", dir, "--node", "4=delta", "--force")
	assert.Equal(t, 0, code, "--force reissues")
	code, _, errs = domainCtl("add-node", "--dir", dir, "--node", "1=other")
	assert.Equal(t, 1, code, "a node number already taken is refused")
	assert.Contains(t, errs, "already belongs to alpha")

	code, _, _ = domainCtl("add-node", "--dir", filepath.Join(t.TempDir(), "none"), "--node", "5=eps")
	assert.Equal(t, 1, code, "add-node needs an existing CA")
}

func TestDomainUsageErrors(t *testing.T) {
	dir := t.TempDir()
	for name, args := range map[string][]string{
		"no subcommand":      {},
		"unknown subcommand": {"rotate"},
		"no dir":             {"init", "--node", "1=a"},
		"no node":            {"init", "--dir", dir},
		"bad node":           {"init", "--dir", dir, "--node", "a=1"},
		"bad domain":         {"init", "--dir", dir, "--domain", "a/b", "--node", "1=a"},
		"stray argument":     {"init", "--dir", dir, "--node", "1=a", "extra"},
		"nodes on add-node":  {"add-node", "--dir", dir, "--nodes", "f"},
	} {
		code, _, errs := domainCtl(args...)
		want := 2
		if name == "bad domain" {
			want = 1 // well-formed flags, refused by pki
		}
		assert.Equal(t, want, code, "%s: exit code", name)
		assert.NotEmpty(t, errs, "%s: says what is wrong", name)
	}
	_, err := os.Stat(filepath.Join(dir, "ca.pem"))
	assert.ErrorIs(t, err, fs.ErrNotExist, "no usage error writes anything")

	code, _, errs := domainCtl("--help")
	assert.Equal(t, 0, code, "help is not an error")
	assert.Contains(t, errs, "hagsctl domain init")
}

func TestDomainRevoke(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "keys")
	code, _, errs := domainCtl("init", "--dir", dir, "--domain", "prod", "--node", "1=alpha:127.0.0.1", "--node", "2=beta:127.0.0.2")
	require.Equal(t, 0, code, "init succeeds; stderr: %s", errs)
	before, err := pki.LoadNode(dir, "beta")
	require.NoError(t, err)

	code, out, errs := domainCtl("revoke", "--dir", dir, "--node", "2")
	require.Equal(t, 0, code, "revoke succeeds; stderr: %s", errs)
	assert.Contains(t, out, "revoked the certificate of node 2 (beta), serial "+before.Certificate.Leaf.SerialNumber.String())
	assert.Contains(t, out, "wrote 0644 "+filepath.Join(dir, "crl.pem"))
	assert.Contains(t, out, "restart each daemon", "the output says a restart is needed")
	assert.Contains(t, out, "add-node --dir "+dir+" --node 2=beta:127.0.0.2 --force", "and how to let the node back")
	assert.Equal(t, fs.FileMode(0o644), fileMode(t, filepath.Join(dir, "crl.pem")))
	_, err = pki.LoadNode(dir, "beta")
	assert.ErrorIs(t, err, pki.ErrRevoked, "beta's certificate is revoked")

	code, _, errs = domainCtl("revoke", "--dir", dir, "--node", "2")
	assert.Equal(t, 1, code, "revoking it again fails")
	assert.Contains(t, errs, "already revoked")
	code, _, errs = domainCtl("revoke", "--dir", dir, "--node", "7")
	assert.Equal(t, 1, code, "a node without a certificate fails")
	assert.Contains(t, errs, "no certificate of node 7")
	for _, args := range [][]string{{"--dir", dir}, {"--node", "1"}, {"--dir", dir, "--node", "0"}, {"--dir", dir, "--node", "1", "extra"}} {
		code, _, _ = domainCtl(append([]string{"revoke"}, args...)...)
		assert.Equal(t, 2, code, "usage error for %v", args)
	}
}

func TestDomainRotateGossipKey(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "keys")
	code, _, errs := domainCtl("init", "--dir", dir, "--domain", "prod", "--node", "1=alpha")
	require.Equal(t, 0, code, "init succeeds; stderr: %s", errs)
	old, err := pki.LoadGossipKey(dir)
	require.NoError(t, err)
	oldID := pki.GossipKeyID(old)

	code, out, errs := domainCtl("rotate-gossip-key", "--dir", dir)
	require.Equal(t, 0, code, "the rotation starts; stderr: %s", errs)
	keys, err := pki.LoadGossipKeys(dir)
	require.NoError(t, err)
	require.Len(t, keys, 2)
	newID := pki.GossipKeyID(keys[1])
	assert.Contains(t, out, "keys (the first is used, all are accepted): "+oldID+", "+newID)
	assert.Contains(t, out, "restart each daemon")
	assert.Contains(t, out, "--promote", "the output names the next step")

	code, _, errs = domainCtl("rotate-gossip-key", "--dir", dir)
	assert.Equal(t, 1, code, "a second rotation waits for the first")
	assert.Contains(t, errs, "rotation is in progress")

	code, out, errs = domainCtl("rotate-gossip-key", "--dir", dir, "--promote")
	require.Equal(t, 0, code, "promote; stderr: %s", errs)
	assert.Contains(t, out, newID+", "+oldID, "the new key is used, the old accepted")
	assert.Contains(t, out, "--finish")

	code, out, errs = domainCtl("rotate-gossip-key", "--dir", dir, "--finish")
	require.Equal(t, 0, code, "finish; stderr: %s", errs)
	assert.Contains(t, out, "accepted): "+newID+"\n")
	key, err := pki.LoadGossipKey(dir)
	require.NoError(t, err)
	assert.Equal(t, newID, pki.GossipKeyID(key), "the file holds the new key alone")
	assert.Equal(t, fs.FileMode(0o600), fileMode(t, filepath.Join(dir, "gossip.key")))

	code, _, _ = domainCtl("rotate-gossip-key", "--dir", dir, "--promote", "--finish")
	assert.Equal(t, 2, code, "--promote and --finish together are a usage error")
	code, _, _ = domainCtl("rotate-gossip-key")
	assert.Equal(t, 2, code, "--dir is required")
}

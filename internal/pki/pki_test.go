package pki

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/tls"
	"crypto/x509"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var threeNodes = []Node{
	{Number: 1, Name: "alpha", Addrs: []string{"127.0.0.1", "alpha.example.com"}},
	{Number: 2, Name: "beta", Addrs: []string{"127.0.0.1:6001", "::1"}},
	{Number: 3, Name: "gamma", Addrs: []string{"[fd00::3]:6001"}},
}

// initDomain creates a domain with threeNodes in a fresh directory.
func initDomain(t *testing.T, domain string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "pki")
	_, err := Init(dir, domain, threeNodes, false)
	require.NoError(t, err, "Init creates a new domain's keys")
	return dir
}

func mode(t *testing.T, path string) fs.FileMode {
	t.Helper()
	st, err := os.Stat(path)
	require.NoError(t, err, "%s exists", path)
	return st.Mode().Perm()
}

func TestInitWritesTheLayoutWithExactModes(t *testing.T) {
	old := setUmask(0)
	defer setUmask(old) // a permissive umask must not loosen key modes

	dir := filepath.Join(t.TempDir(), "pki")
	wrote, err := Init(dir, "prod", threeNodes, false)
	require.NoError(t, err)

	want := map[string]fs.FileMode{
		filepath.Join(dir, "ca.pem"):                 0o644,
		filepath.Join(dir, "ca-key.pem"):             0o600,
		filepath.Join(dir, "gossip.key"):             0o600,
		filepath.Join(dir, "nodes", "alpha.pem"):     0o644,
		filepath.Join(dir, "nodes", "alpha-key.pem"): 0o600,
		filepath.Join(dir, "nodes", "beta.pem"):      0o644,
		filepath.Join(dir, "nodes", "beta-key.pem"):  0o600,
		filepath.Join(dir, "nodes", "gamma.pem"):     0o644,
		filepath.Join(dir, "nodes", "gamma-key.pem"): 0o600,
	}
	assert.ElementsMatch(t, keys(want), wrote, "Init reports every file it wrote")
	for path, m := range want {
		assert.Equal(t, m, mode(t, path), "%s has mode %04o", path, m)
	}
	assert.Equal(t, fs.FileMode(0o700), mode(t, dir), "the key directory is private")
	assert.Equal(t, fs.FileMode(0o700), mode(t, filepath.Join(dir, "nodes")), "the nodes directory is private")

	ents, err := os.ReadDir(dir)
	require.NoError(t, err)
	for _, e := range ents {
		assert.NotRegexp(t, `^\.`, e.Name(), "no temporary file is left behind")
	}
}

func keys(m map[string]fs.FileMode) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestCAAndNodeCertificatesVerify(t *testing.T) {
	dir := initDomain(t, "prod")
	ca, err := LoadCA(dir)
	require.NoError(t, err)
	assert.Equal(t, "prod", ca.Domain, "the CA names its domain")
	assert.True(t, ca.Cert.IsCA, "the CA certificate is a CA")
	assert.Equal(t, elliptic.P256(), ca.Cert.PublicKey.(*ecdsa.PublicKey).Curve, "the CA key is P-256")
	assert.Greater(t, time.Until(ca.Cert.NotAfter), 15*365*24*time.Hour, "the CA is long-lived")
	require.NoError(t, ca.Cert.CheckSignatureFrom(ca.Cert), "the CA is self-signed")

	for _, n := range threeNodes {
		id, err := LoadNode(dir, n.Name)
		require.NoError(t, err, "node %s loads", n.Name)
		assert.Equal(t, "prod", id.Domain)
		assert.Equal(t, n.Number, id.Node.Number, "the certificate carries node %s's number", n.Name)
		assert.Equal(t, n.Name, id.Node.Name)
		leaf := id.Certificate.Leaf
		assert.Equal(t, elliptic.P256(), leaf.PublicKey.(*ecdsa.PublicKey).Curve, "node keys are P-256")
		for _, u := range []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth} {
			_, err := leaf.Verify(x509.VerifyOptions{Roots: ca.Pool(), KeyUsages: []x509.ExtKeyUsage{u}})
			assert.NoError(t, err, "node %s's certificate verifies against the CA for usage %v", n.Name, u)
		}
		num, name, err := id.VerifyPeer(leaf, x509.ExtKeyUsageClientAuth)
		require.NoError(t, err)
		assert.Equal(t, n.Number, num)
		assert.Equal(t, n.Name, name)
		for _, a := range n.Addrs {
			assert.NoError(t, leaf.VerifyHostname(hostOf(a)), "node %s's certificate lists address %s", n.Name, a)
		}
		assert.NoError(t, leaf.VerifyHostname(n.Name), "the node name is a DNS SAN")
		assert.Equal(t, "hags://prod/node/"+itoa(n.Number), leaf.URIs[0].String(), "the URI SAN names domain and node")
	}

	nodes, err := ListNodes(dir)
	require.NoError(t, err)
	require.Len(t, nodes, 3, "ListNodes finds the three nodes")
	for i, n := range nodes {
		assert.Equal(t, threeNodes[i].Number, n.Number)
		assert.Equal(t, threeNodes[i].Name, n.Name)
	}
}

func itoa(n int32) string { return strconv.Itoa(int(n)) }

func TestInitRefusesToReplaceACAUnlessForced(t *testing.T) {
	dir := initDomain(t, "prod")
	before, err := os.ReadFile(filepath.Join(dir, CAFile))
	require.NoError(t, err)
	oldID, err := LoadNode(dir, "alpha")
	require.NoError(t, err)

	_, err = Init(dir, "prod", threeNodes, false)
	require.ErrorIs(t, err, ErrExists, "a second Init without force is refused")
	after, err := os.ReadFile(filepath.Join(dir, CAFile))
	require.NoError(t, err)
	assert.Equal(t, before, after, "a refused Init leaves the CA alone")

	require.NoError(t, os.Remove(filepath.Join(dir, CAFile)))
	_, err = Init(dir, "prod", threeNodes, false)
	require.ErrorIs(t, err, ErrExists, "the CA key alone is enough to refuse")

	_, err = Init(dir, "prod", threeNodes, true)
	require.NoError(t, err, "force replaces the CA")
	newID, err := LoadNode(dir, "alpha")
	require.NoError(t, err)
	_, _, err = newID.VerifyPeer(oldID.Certificate.Leaf, x509.ExtKeyUsageClientAuth)
	assert.ErrorIs(t, err, ErrNotDomain, "certificates of the replaced CA are no longer accepted")
}

func TestInitRejectsBadInput(t *testing.T) {
	dir := t.TempDir()
	for name, c := range map[string]struct {
		domain string
		nodes  []Node
	}{
		"empty domain":     {"", threeNodes},
		"slash in domain":  {"a/b", threeNodes},
		"dot domain":       {"..", threeNodes},
		"duplicate name":   {"d", []Node{{Number: 1, Name: "a"}, {Number: 2, Name: "a"}}},
		"duplicate number": {"d", []Node{{Number: 1, Name: "a"}, {Number: 1, Name: "b"}}},
		"zero number":      {"d", []Node{{Number: 0, Name: "a"}}},
		"path in name":     {"d", []Node{{Number: 1, Name: "../a"}}},
		"empty address":    {"d", []Node{{Number: 1, Name: "a", Addrs: []string{" "}}}},
	} {
		_, err := Init(dir, c.domain, c.nodes, false)
		assert.ErrorIs(t, err, ErrInvalid, "%s is refused", name)
	}
	_, err := os.Stat(filepath.Join(dir, CAFile))
	assert.ErrorIs(t, err, fs.ErrNotExist, "refused input writes nothing")
}

func TestAddNode(t *testing.T) {
	dir := initDomain(t, "prod")
	wrote, err := AddNode(dir, Node{Number: 4, Name: "delta", Addrs: []string{"10.0.0.4"}}, false)
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{NodeCertPath(dir, "delta"), NodeKeyPath(dir, "delta")}, wrote)
	assert.Equal(t, fs.FileMode(0o600), mode(t, NodeKeyPath(dir, "delta")), "the new key is private")
	id, err := LoadNode(dir, "delta")
	require.NoError(t, err, "the added node's certificate verifies against the existing CA")
	assert.Equal(t, int32(4), id.Node.Number)

	_, err = AddNode(dir, Node{Number: 4, Name: "delta"}, false)
	assert.ErrorIs(t, err, ErrExists, "an existing node is not reissued without force")
	_, err = AddNode(dir, Node{Number: 2, Name: "epsilon"}, false)
	assert.ErrorIs(t, err, ErrInvalid, "a number held by another node is refused")
	_, err = AddNode(dir, Node{Number: 4, Name: "delta", Addrs: []string{"10.0.0.40"}}, true)
	require.NoError(t, err, "force reissues")
	id, err = LoadNode(dir, "delta")
	require.NoError(t, err)
	assert.Equal(t, []string{"10.0.0.40"}, id.Node.Addrs, "the reissued certificate has the new address")

	require.NoError(t, os.Remove(filepath.Join(dir, CAKeyFile)))
	_, err = AddNode(dir, Node{Number: 5, Name: "zeta"}, false)
	assert.ErrorIs(t, err, fs.ErrNotExist, "issuing needs the CA key")
}

func TestKeysReadableByOthersAreRefused(t *testing.T) {
	dir := initDomain(t, "prod")
	require.NoError(t, os.Chmod(NodeKeyPath(dir, "alpha"), 0o640))
	_, err := LoadNode(dir, "alpha")
	assert.ErrorIs(t, err, ErrKeyMode, "a node key readable by the group is refused")

	require.NoError(t, os.Chmod(filepath.Join(dir, GossipKeyFile), 0o604))
	_, err = LoadGossipKey(dir)
	assert.ErrorIs(t, err, ErrKeyMode, "a world-readable gossip key is refused")

	require.NoError(t, os.Chmod(filepath.Join(dir, CAKeyFile), 0o644))
	_, err = LoadCA(dir)
	assert.ErrorIs(t, err, ErrKeyMode, "a world-readable CA key is refused")
}

func TestLoadNodeRefusesACertificateOfAnotherDomain(t *testing.T) {
	dir := initDomain(t, "prod")
	other := initDomain(t, "test")
	data, err := os.ReadFile(NodeCertPath(other, "alpha"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(NodeCertPath(dir, "alpha"), data, 0o644))
	key, err := os.ReadFile(NodeKeyPath(other, "alpha"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(NodeKeyPath(dir, "alpha"), key, 0o600))
	_, err = LoadNode(dir, "alpha")
	assert.ErrorIs(t, err, ErrNotDomain, "a certificate from another domain's CA does not load")
}

func TestGossipKey(t *testing.T) {
	a, err := LoadGossipKey(initDomain(t, "prod"))
	require.NoError(t, err)
	assert.Len(t, a, 32, "the gossip key is 32 bytes")
	b, err := LoadGossipKey(initDomain(t, "prod"))
	require.NoError(t, err)
	assert.NotEqual(t, a, b, "each Init makes a new key")

	dir := initDomain(t, "prod")
	require.NoError(t, os.WriteFile(filepath.Join(dir, GossipKeyFile), []byte("c2hvcnQ=\n"), 0o600))
	_, err = LoadGossipKey(dir)
	assert.Error(t, err, "a short key is refused")
}

func TestParseNode(t *testing.T) {
	good := map[string]Node{
		"1=alpha":                      {Number: 1, Name: "alpha"},
		"2=beta:10.0.0.2":              {Number: 2, Name: "beta", Addrs: []string{"10.0.0.2"}},
		" 3 = gamma : fd00::3, g.lan ": {Number: 3, Name: "gamma", Addrs: []string{"fd00::3", "g.lan"}},
		"4=d:[::1]:6000,h:7":           {Number: 4, Name: "d", Addrs: []string{"[::1]:6000", "h:7"}},
	}
	for spec, want := range good {
		got, err := ParseNode(spec)
		require.NoError(t, err, "%q parses", spec)
		assert.Equal(t, want, got, "%q", spec)
		again, err := ParseNode(got.String())
		require.NoError(t, err)
		assert.Equal(t, got, again, "String and ParseNode round-trip %q", spec)
	}
	for _, spec := range []string{"", "alpha", "x=alpha", "0=alpha", "-1=a", "1=", "1=a/b", "1=a:,", "99999999999=a"} {
		_, err := ParseNode(spec)
		assert.ErrorIs(t, err, ErrInvalid, "%q is refused", spec)
	}
}

// handshake runs a TLS handshake over an in-memory pipe, then one byte from
// server to client, and returns each side's error.
func handshake(t *testing.T, server, client *tls.Config) (serverErr, clientErr error) {
	t.Helper()
	sc, cc := net.Pipe()
	deadline := time.Now().Add(10 * time.Second)
	sc.SetDeadline(deadline)
	cc.SetDeadline(deadline)
	done := make(chan error, 1)
	go func() {
		s := tls.Server(sc, server)
		defer s.Close()
		err := s.Handshake()
		if err == nil {
			_, err = s.Write([]byte{1})
		}
		done <- err
	}()
	c := tls.Client(cc, client)
	clientErr = c.Handshake()
	if clientErr == nil {
		_, clientErr = io.ReadFull(c, make([]byte, 1))
	}
	cc.Close() // not c.Close: both ends writing close_notify on a pipe would wait for each other
	return <-done, clientErr
}

func clientFor(id *Identity, serverName string) *tls.Config {
	cfg := id.TLSConfig()
	cfg.ServerName = serverName
	return cfg
}

func TestTLSConfigIsMutualAndDomainBound(t *testing.T) {
	dir := initDomain(t, "prod")
	alpha, err := LoadNode(dir, "alpha")
	require.NoError(t, err)
	beta, err := LoadNode(dir, "beta")
	require.NoError(t, err)
	foreignDir := initDomain(t, "prod") // same domain name, another CA
	foreign, err := LoadNode(foreignDir, "beta")
	require.NoError(t, err)

	cfg := alpha.TLSConfig()
	assert.Equal(t, uint16(tls.VersionTLS13), cfg.MinVersion, "TLS 1.3 only")
	assert.Equal(t, tls.RequireAndVerifyClientCert, cfg.ClientAuth, "the server requires and verifies a client certificate")

	t.Run("same domain", func(t *testing.T) {
		serr, cerr := handshake(t, alpha.TLSConfig(), clientFor(beta, "alpha"))
		assert.NoError(t, serr, "alpha accepts beta")
		assert.NoError(t, cerr, "beta accepts alpha")
	})
	t.Run("client of a foreign CA", func(t *testing.T) {
		c := clientFor(foreign, "alpha")
		c.RootCAs = beta.Pool() // trust the server, to isolate the server's check
		c.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			return &foreign.Certificate, nil // offer it even though the server asks for another CA
		}
		serr, cerr := handshake(t, alpha.TLSConfig(), c)
		assert.ErrorContains(t, serr, "certificate signed by unknown authority", "the server refuses a client certificate of another CA")
		assert.Error(t, cerr, "the refused client cannot read")
	})
	t.Run("client without a certificate", func(t *testing.T) {
		c := clientFor(beta, "alpha")
		c.Certificates = nil
		serr, cerr := handshake(t, alpha.TLSConfig(), c)
		assert.ErrorContains(t, serr, "didn't provide a certificate", "the server refuses a client without a certificate")
		assert.Error(t, cerr)
	})
	t.Run("server of a foreign CA", func(t *testing.T) {
		serr, cerr := handshake(t, foreign.TLSConfig(), clientFor(alpha, "beta"))
		assert.ErrorContains(t, cerr, "certificate signed by unknown authority", "the client refuses a server of another CA")
		assert.Error(t, serr)
	})
	t.Run("server not at the dialed address", func(t *testing.T) {
		serr, cerr := handshake(t, alpha.TLSConfig(), clientFor(beta, "10.9.9.9"))
		assert.ErrorContains(t, cerr, "10.9.9.9", "the client checks the server's certificate lists the dialed address")
		assert.Error(t, serr)
	})
	t.Run("same CA, other domain", func(t *testing.T) {
		// The CA never issues such a certificate; forge one with its key
		// to show the domain check stands on its own.
		ca, err := LoadCA(dir)
		require.NoError(t, err)
		rogue := *ca
		rogue.Domain = "elsewhere"
		nc, err := rogue.Issue(Node{Number: 9, Name: "alpha"})
		require.NoError(t, err)
		pair, err := tls.X509KeyPair(nc.CertPEM, nc.KeyPEM)
		require.NoError(t, err)
		c := clientFor(beta, "alpha")
		c.Certificates = []tls.Certificate{pair}
		serr, cerr := handshake(t, alpha.TLSConfig(), c)
		assert.ErrorIs(t, serr, ErrNotDomain, "the server refuses a peer naming another domain")
		assert.Error(t, cerr)
	})
}

// TestGossipKeyRotationFile: the steps of a rotation leave the file with
// the keys in the expected order, refuse steps out of order, and keep its
// mode; LoadGossipKey refuses a file of several keys.
func TestGossipKeyRotationFile(t *testing.T) {
	dir := initDomain(t, "prod")
	path := filepath.Join(dir, GossipKeyFile)
	old, err := LoadGossipKey(dir)
	require.NoError(t, err)
	_, err = PromoteGossipKey(dir)
	assert.ErrorIs(t, err, ErrInvalid, "nothing to promote before a rotation")
	_, err = FinishGossipRotation(dir)
	assert.ErrorIs(t, err, ErrInvalid, "nothing to finish before a rotation")

	keys, err := RotateGossipKey(dir)
	require.NoError(t, err)
	require.Len(t, keys, 2)
	assert.Equal(t, old, keys[0], "the old key stays primary")
	newKey := keys[1]
	assert.NotEqual(t, old, newKey)
	loaded, err := LoadGossipKeys(dir)
	require.NoError(t, err)
	assert.Equal(t, [][]byte{old, newKey}, loaded, "the file holds old then new")
	assert.Equal(t, fs.FileMode(0o600), mode(t, path), "the file stays private")
	_, err = LoadGossipKey(dir)
	assert.ErrorIs(t, err, ErrInvalid, "a single-key loader refuses a file of two keys")
	_, err = RotateGossipKey(dir)
	assert.ErrorIs(t, err, ErrInvalid, "a second rotation waits for the first")

	keys, err = PromoteGossipKey(dir)
	require.NoError(t, err)
	assert.Equal(t, [][]byte{newKey, old}, keys, "the new key is primary, the old still accepted")
	keys, err = FinishGossipRotation(dir)
	require.NoError(t, err)
	assert.Equal(t, [][]byte{newKey}, keys)
	only, err := LoadGossipKey(dir)
	require.NoError(t, err, "after the rotation the file holds one key again")
	assert.Equal(t, newKey, only)
	assert.NotEqual(t, GossipKeyID(old), GossipKeyID(newKey), "keys have distinct ids")
	assert.Len(t, GossipKeyID(old), 16)
}

func TestGossipKeysFileIsChecked(t *testing.T) {
	dir := initDomain(t, "prod")
	path := filepath.Join(dir, GossipKeyFile)
	k1 := "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
	k2 := "HwAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
	write := func(s string) { require.NoError(t, os.WriteFile(path, []byte(s), 0o600)) }

	write("# rotated\n\n" + k2 + "\n" + k1 + "\n")
	keys, err := LoadGossipKeys(dir)
	require.NoError(t, err, "comments and blank lines are skipped")
	require.Len(t, keys, 2)
	assert.Equal(t, byte(0x1f), keys[0][0], "the first key is the primary")
	for name, text := range map[string]string{
		"empty":    "\n# nothing\n",
		"twice":    k1 + "\n" + k1 + "\n",
		"not b64":  k1 + "\n!!!\n",
		"short":    "c2hvcnQ=\n",
		"too many": k1 + "\n" + k2 + "\nAQECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\nAgECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\nAwECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n",
	} {
		write(text)
		_, err := LoadGossipKeys(dir)
		assert.ErrorIs(t, err, ErrInvalid, "a file %s is refused", name)
	}
}

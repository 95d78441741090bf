package pki

import (
	"crypto/x509"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRevokedCertificateIsRefusedBothWays: beta's certificate is put on the
// revocation list. Daemons that load their identity afterwards refuse it as
// a client and as a server, and say it is revoked; beta itself can no longer
// load it. A new certificate for beta is accepted; the old one stays listed.
func TestRevokedCertificateIsRefusedBothWays(t *testing.T) {
	dir := initDomain(t, "prod")
	oldBeta, err := LoadNode(dir, "beta") // what a thief of beta's key holds
	require.NoError(t, err)
	alphaBefore, err := LoadNode(dir, "alpha")
	require.NoError(t, err)

	rev, err := Revoke(dir, 2)
	require.NoError(t, err, "beta's certificate is revoked")
	assert.Equal(t, "beta", rev.Node.Name)
	assert.Equal(t, 0, rev.Serial.Cmp(oldBeta.Certificate.Leaf.SerialNumber), "the revoked serial is beta's certificate's")
	assert.Equal(t, filepath.Join(dir, CRLFile), rev.Path)
	assert.Equal(t, fs.FileMode(0o644), mode(t, rev.Path), "the list is public, like the certificates")

	serr, cerr := handshake(t, alphaBefore.TLSConfig(), clientFor(oldBeta, "alpha"))
	assert.NoError(t, serr, "a daemon started before the revocation still accepts beta: the list is read at start")
	assert.NoError(t, cerr)

	alpha, err := LoadNode(dir, "alpha")
	require.NoError(t, err, "alpha loads with the list")
	serr, cerr = handshake(t, alpha.TLSConfig(), clientFor(oldBeta, "alpha"))
	assert.ErrorIs(t, serr, ErrRevoked, "alpha's server refuses beta's revoked client certificate")
	assert.ErrorContains(t, serr, "node 2 (beta)", "and says whose")
	assert.Error(t, cerr, "beta's connection fails")
	serr, cerr = handshake(t, oldBeta.TLSConfig(), clientFor(alpha, "beta"))
	assert.ErrorIs(t, cerr, ErrRevoked, "alpha's client refuses beta's revoked server certificate")
	assert.Error(t, serr)
	_, _, err = alpha.VerifyPeer(oldBeta.Certificate.Leaf, x509.ExtKeyUsageClientAuth)
	assert.ErrorIs(t, err, ErrRevoked, "VerifyPeer refuses it too")

	_, err = LoadNode(dir, "beta")
	assert.ErrorIs(t, err, ErrRevoked, "beta's daemon cannot start with its revoked certificate")
	_, err = Revoke(dir, 2)
	assert.ErrorIs(t, err, ErrExists, "revoking the same certificate twice is refused")
	_, err = Revoke(dir, 9)
	assert.ErrorIs(t, err, ErrInvalid, "a node without a certificate cannot be revoked")

	_, err = AddNode(dir, threeNodes[1], true)
	require.NoError(t, err, "beta gets a new certificate")
	newBeta, err := LoadNode(dir, "beta")
	require.NoError(t, err, "the new certificate is not revoked")
	_, err = Revoke(dir, 3)
	require.NoError(t, err, "gamma is revoked too")
	alpha, err = LoadNode(dir, "alpha")
	require.NoError(t, err)
	serr, cerr = handshake(t, alpha.TLSConfig(), clientFor(newBeta, "alpha"))
	assert.NoError(t, serr, "alpha accepts beta's new certificate")
	assert.NoError(t, cerr)
	serr, _ = handshake(t, alpha.TLSConfig(), clientFor(oldBeta, "alpha"))
	assert.ErrorIs(t, serr, ErrRevoked, "the old one stays revoked after the list grew")
	rl, err := loadCRL(dir, alpha.CA)
	require.NoError(t, err)
	assert.Len(t, rl.RevokedCertificateEntries, 2, "the list holds both revocations")
	assert.Equal(t, int64(2), rl.Number.Int64(), "each new list has the next number")
}

// TestRevocationListMustComeFromTheCA: a list signed by another CA, or one
// that is not a list, stops the daemon from loading its identity, rather
// than being ignored.
func TestRevocationListMustComeFromTheCA(t *testing.T) {
	dir := initDomain(t, "prod")
	other := initDomain(t, "prod")
	_, err := Revoke(other, 1)
	require.NoError(t, err)
	data, err := os.ReadFile(filepath.Join(other, CRLFile))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, CRLFile), data, 0o644))
	_, err = LoadNode(dir, "beta")
	assert.ErrorIs(t, err, ErrNotDomain, "a list signed by another CA is refused")
	_, err = Revoke(dir, 2)
	assert.ErrorIs(t, err, ErrNotDomain, "and Revoke will not extend it")

	require.NoError(t, os.WriteFile(filepath.Join(dir, CRLFile), []byte("not a list\n"), 0o644))
	_, err = LoadNode(dir, "beta")
	assert.ErrorContains(t, err, "X509 CRL", "a file that is not a list is refused")

	require.NoError(t, os.Remove(filepath.Join(dir, CAKeyFile)))
	require.NoError(t, os.Remove(filepath.Join(dir, CRLFile)))
	_, err = Revoke(dir, 2)
	assert.ErrorIs(t, err, fs.ErrNotExist, "revoking needs the CA key")
}

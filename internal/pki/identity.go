package pki

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Identity is what a daemon needs to talk to the other daemons of its
// domain: its own certificate and key, and the domain CA to check theirs.
// It is read-only once loaded and may be shared between goroutines.
type Identity struct {
	Domain      string
	Node        Node // number and name from the certificate; Addrs its IP and DNS SANs
	Certificate tls.Certificate
	CA          *x509.Certificate
	// revoked holds the certificates on the domain's revocation list
	// (CRLFile) when the identity was loaded; peers presenting one are
	// refused.
	revoked revocations
}

// LoadNode reads node name's identity from dir: ca.pem,
// nodes/NAME.pem and nodes/NAME-key.pem (which must not be readable by
// others), and crl.pem when present. It checks that the certificate chains
// to the CA, names the CA's domain, matches the key, and is not revoked,
// and that the revocation list is signed by the CA. ca-key.pem is not
// needed. The list is read once: a daemon sees a new one when it restarts.
func LoadNode(dir, name string) (*Identity, error) {
	if err := checkNodeName(name); err != nil {
		return nil, err
	}
	caCert, err := readCert(filepath.Join(dir, CAFile))
	if err != nil {
		return nil, err
	}
	domain, err := CertDomain(caCert)
	if err != nil {
		return nil, err
	}
	certPEM, err := os.ReadFile(NodeCertPath(dir, name))
	if err != nil {
		return nil, fmt.Errorf("pki: %w", err)
	}
	keyPEM, err := readKeyFile(NodeKeyPath(dir, name))
	if err != nil {
		return nil, err
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("pki: node %s: %w", name, err)
	}
	revoked, err := loadRevocations(dir, caCert)
	if err != nil {
		return nil, err
	}
	id := &Identity{Domain: domain, Certificate: pair, CA: caCert, revoked: revoked}
	if err := id.verifyPeer(pair.Leaf, x509.ExtKeyUsageServerAuth); err != nil {
		return nil, fmt.Errorf("pki: node %s in %s: %w", name, dir, err)
	}
	_, num, cn, err := PeerNode(pair.Leaf)
	if err != nil {
		return nil, err
	}
	if cn != name {
		return nil, fmt.Errorf("%w: %s names node %q, want %q", ErrNotDomain, NodeCertPath(dir, name), cn, name)
	}
	id.Node = nodeOf(num, cn, pair.Leaf)
	return id, nil
}

// Pool returns a certificate pool holding only the domain CA.
func (id *Identity) Pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(id.CA)
	return p
}

// TLSConfig returns a configuration for either end of a connection between
// daemons of the domain: TLS 1.3 only; the server requires a client
// certificate; both ends verify the peer's certificate against the domain CA
// (and the client, as usual, that it names the address dialed) and then that
// it names a node of this domain and is not on the revocation list loaded
// with the identity (the error wraps ErrRevoked). A client using it must
// dial through tls.Dialer or set ServerName, as with any tls.Config. Each
// call returns a new Config the caller may change.
func (id *Identity) TLSConfig() *tls.Config {
	pool := id.Pool()
	cert := id.Certificate
	return &tls.Config{
		MinVersion:   tls.VersionTLS13,
		Certificates: []tls.Certificate{cert},
		RootCAs:      pool,
		ClientCAs:    pool,
		ClientAuth:   tls.RequireAndVerifyClientCert,
		VerifyConnection: func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return fmt.Errorf("%w: the peer sent no certificate", ErrNotDomain)
			}
			d, _, _, err := PeerNode(cs.PeerCertificates[0])
			if err != nil {
				return err
			}
			if d != id.Domain {
				return fmt.Errorf("%w: the peer belongs to domain %q, not %q", ErrNotDomain, d, id.Domain)
			}
			return id.revoked.check(cs.PeerCertificates[0])
		},
	}
}

// VerifyPeer checks a certificate a peer presented, outside a TLS
// handshake: it chains to the domain CA, allows usage, names a node of
// this domain, and is not revoked. It returns the node's number and name.
func (id *Identity) VerifyPeer(cert *x509.Certificate, usage x509.ExtKeyUsage) (int32, string, error) {
	if err := id.verifyPeer(cert, usage); err != nil {
		return 0, "", err
	}
	_, num, name, err := PeerNode(cert)
	return num, name, err
}

func (id *Identity) verifyPeer(cert *x509.Certificate, usage x509.ExtKeyUsage) error {
	if cert == nil {
		return errors.New("pki: no certificate")
	}
	if _, err := cert.Verify(x509.VerifyOptions{Roots: id.Pool(), KeyUsages: []x509.ExtKeyUsage{usage}}); err != nil {
		return fmt.Errorf("%w: %w", ErrNotDomain, err)
	}
	d, _, _, err := PeerNode(cert)
	if err != nil {
		return err
	}
	if d != id.Domain {
		return fmt.Errorf("%w: certificate names domain %q, not %q", ErrNotDomain, d, id.Domain)
	}
	return id.revoked.check(cert)
}

package pki

import (
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// CRLFile is the domain's certificate revocation list, under the key
// directory: an X.509 CRL signed by the domain CA, PEM-encoded, mode 0644,
// copied to every node. A daemon reads it when it starts (LoadNode) and
// refuses peers whose certificate it lists; without the file nothing is
// revoked.
const CRLFile = "crl.pem"

// ErrRevoked: a certificate is on the domain's revocation list.
var ErrRevoked = errors.New("pki: certificate revoked")

// Revoked is one certificate Revoke put on the list.
type Revoked struct {
	Node   Node
	Serial *big.Int
	At     time.Time
	Path   string // the list written
}

// Revoke puts the certificate of node number, as it is now in dir's nodes
// directory, on the domain's revocation list in dir, signed with the CA
// key in dir. Certificates revoked before stay on the list. It refuses
// (ErrExists) a certificate already listed and (ErrInvalid) a number that
// has no certificate in dir. A new certificate issued for the same node
// afterwards (AddNode with force) is not revoked: revoking names one
// certificate, not a node number.
//
// Running daemons read the list only when they start.
func Revoke(dir string, number int32) (*Revoked, error) {
	ca, err := LoadCA(dir)
	if err != nil {
		return nil, err
	}
	certs, err := nodeCerts(dir, ca.Domain)
	if err != nil {
		return nil, err
	}
	var target *nodeCert
	for i := range certs {
		if certs[i].node.Number == number {
			target = &certs[i]
			break
		}
	}
	if target == nil {
		return nil, fmt.Errorf("%w: no certificate of node %d under %s", ErrInvalid, number, filepath.Join(dir, NodesDir))
	}
	old, err := loadCRL(dir, ca.Cert)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.RevocationList{Number: big.NewInt(1)}
	if old != nil {
		for _, e := range old.RevokedCertificateEntries {
			if e.SerialNumber.Cmp(target.cert.SerialNumber) == 0 {
				return nil, fmt.Errorf("%w: the certificate of node %d (%s), serial %s, is already revoked",
					ErrExists, number, target.node.Name, target.cert.SerialNumber)
			}
		}
		tmpl.RevokedCertificateEntries = append(tmpl.RevokedCertificateEntries, old.RevokedCertificateEntries...)
		if old.Number != nil {
			tmpl.Number = new(big.Int).Add(old.Number, big.NewInt(1))
		}
	}
	now := time.Now().UTC().Truncate(time.Second)
	tmpl.RevokedCertificateEntries = append(tmpl.RevokedCertificateEntries,
		x509.RevocationListEntry{SerialNumber: target.cert.SerialNumber, RevocationTime: now})
	tmpl.ThisUpdate = now
	// Daemons read the list at start and never fetch a newer one, so it
	// does not go stale: it is valid as long as the CA.
	tmpl.NextUpdate = ca.Cert.NotAfter
	der, err := x509.CreateRevocationList(rand.Reader, tmpl, ca.Cert, ca.Key)
	if err != nil {
		return nil, fmt.Errorf("pki: create the revocation list: %w", err)
	}
	path := filepath.Join(dir, CRLFile)
	if err := writeFile(path, pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: der}), CertMode); err != nil {
		return nil, err
	}
	return &Revoked{Node: target.node, Serial: target.cert.SerialNumber, At: now, Path: path}, nil
}

// loadCRL reads and verifies dir's revocation list against the CA
// certificate; nil when there is none.
func loadCRL(dir string, ca *x509.Certificate) (*x509.RevocationList, error) {
	path := filepath.Join(dir, CRLFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("pki: %w", err)
	}
	block, rest := pem.Decode(b)
	if block == nil || block.Type != "X509 CRL" || strings.TrimSpace(string(rest)) != "" {
		return nil, fmt.Errorf("pki: %s: want exactly one PEM X509 CRL block", path)
	}
	rl, err := x509.ParseRevocationList(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("pki: %s: %w", path, err)
	}
	if err := rl.CheckSignatureFrom(ca); err != nil {
		return nil, fmt.Errorf("%w: %s is not signed by the domain CA: %w", ErrNotDomain, path, err)
	}
	return rl, nil
}

// revocations is the set of revoked serial numbers (decimal) and when each
// was revoked.
type revocations map[string]time.Time

// loadRevocations reads dir's revocation list, if any.
func loadRevocations(dir string, ca *x509.Certificate) (revocations, error) {
	rl, err := loadCRL(dir, ca)
	if err != nil || rl == nil {
		return nil, err
	}
	out := make(revocations, len(rl.RevokedCertificateEntries))
	for _, e := range rl.RevokedCertificateEntries {
		out[e.SerialNumber.String()] = e.RevocationTime
	}
	return out, nil
}

// check returns ErrRevoked, with the certificate's node and serial, when
// cert is listed.
func (r revocations) check(cert *x509.Certificate) error {
	at, ok := r[cert.SerialNumber.String()]
	if !ok {
		return nil
	}
	who := fmt.Sprintf("%q", cert.Subject.CommonName)
	if _, num, name, err := PeerNode(cert); err == nil {
		who = fmt.Sprintf("node %d (%s)", num, name)
	}
	return fmt.Errorf("%w: the certificate of %s, serial %s, was revoked at %s", ErrRevoked, who, cert.SerialNumber,
		at.UTC().Format(time.RFC3339))
}

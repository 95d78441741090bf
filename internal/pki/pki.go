// Package pki creates and loads what the daemons of one hags domain use to
// recognise each other: a domain certificate authority, one certificate per
// node issued by it, and the shared key that encrypts memberlist's gossip.
//
// A domain is a trust boundary. A daemon accepts a raft connection only from
// a peer whose certificate chains to the domain's CA and names the same
// domain, and presents its own certificate in return (mutual TLS 1.3). The
// gossip key keeps nodes of other domains, and anyone else on the network,
// out of failure detection. docs/design/security.md has the threat model,
// the files and their modes, and what rotation is possible.
//
// Everything here uses the Go standard library's crypto: ECDSA P-256 keys,
// X.509 certificates, PEM files.
package pki

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Errors returned by this package, wrapped with details.
var (
	// ErrExists: a file the call would create is already there, and the
	// caller did not ask to overwrite it.
	ErrExists = errors.New("pki: already exists")
	// ErrInvalid: a domain name, node name, node number or address is
	// not acceptable.
	ErrInvalid = errors.New("pki: invalid argument")
	// ErrNotDomain: a certificate does not belong to the expected domain,
	// or does not name a domain and node the way this package writes them.
	ErrNotDomain = errors.New("pki: certificate does not belong to the domain")
	// ErrKeyMode: a private key file may be read by users other than its
	// owner.
	ErrKeyMode = errors.New("pki: private key file is readable by others")
)

// Validity periods of the certificates this package issues.
const (
	// CAValidity is how long a domain CA is valid: long enough that a
	// domain never has to replace it in the ordinary course of things.
	CAValidity = 20 * 365 * 24 * time.Hour
	// NodeValidity is how long a node certificate is valid (never past
	// its CA).
	NodeValidity = 10 * 365 * 24 * time.Hour
	// clockSkew backdates NotBefore so that a node whose clock is a little
	// behind the issuer's accepts a fresh certificate.
	clockSkew = time.Hour
)

// URIScheme is the scheme of the URI SAN that names a certificate's domain
// (and node): hags://DOMAIN for a CA, hags://DOMAIN/node/NUMBER for a node.
const URIScheme = "hags"

var nameRE = regexp.MustCompile(`^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$`)

// maxNameLen bounds domain and node names (a DNS label's length).
const maxNameLen = 63

// CheckDomain reports whether domain can name a domain: 1 to 63 letters,
// digits, '-', '_' and '.', with no empty dot-separated part.
func CheckDomain(domain string) error {
	if len(domain) == 0 || len(domain) > maxNameLen || !nameRE.MatchString(domain) {
		return fmt.Errorf("%w: domain name %q: want 1 to %d of [A-Za-z0-9_.-], no empty part between dots", ErrInvalid, domain, maxNameLen)
	}
	return nil
}

// checkNodeName applies the domain-name rule to node names, which are also
// file names under the nodes directory.
func checkNodeName(name string) error {
	if len(name) == 0 || len(name) > maxNameLen || !nameRE.MatchString(name) {
		return fmt.Errorf("%w: node name %q: want 1 to %d of [A-Za-z0-9_.-], no empty part between dots", ErrInvalid, name, maxNameLen)
	}
	return nil
}

// Node describes one node of a domain for its certificate.
type Node struct {
	Number int32  // the node number (positive), as in ha_gs_provider_t
	Name   string // the node name; its certificate's CN and file name
	// Addrs are the host names and IP addresses other daemons dial to reach
	// this node (a port, if present, is ignored). The certificate carries
	// them, and the name, as subject alternative names: a daemon dialing
	// an address checks that the peer's certificate lists it.
	Addrs []string
}

// Check reports whether n can be given a certificate.
func (n Node) Check() error {
	if n.Number <= 0 {
		return fmt.Errorf("%w: node number %d: want a positive number", ErrInvalid, n.Number)
	}
	if err := checkNodeName(n.Name); err != nil {
		return err
	}
	for _, a := range n.Addrs {
		if hostOf(a) == "" {
			return fmt.Errorf("%w: node %s: empty address", ErrInvalid, n.Name)
		}
	}
	return nil
}

// String formats n the way ParseNode reads it.
func (n Node) String() string {
	s := strconv.Itoa(int(n.Number)) + "=" + n.Name
	if len(n.Addrs) > 0 {
		s += ":" + strings.Join(n.Addrs, ",")
	}
	return s
}

// ParseNode reads a node from NUMBER=NAME[:ADDR[,ADDR...]], for example
// "1=alpha:10.0.0.1,alpha.example.com" or "2=beta:fd00::2". The name ends at
// the first colon, so IPv6 addresses need no brackets.
func ParseNode(spec string) (Node, error) {
	num, rest, ok := strings.Cut(strings.TrimSpace(spec), "=")
	if !ok {
		return Node{}, fmt.Errorf("%w: node %q: want NUMBER=NAME[:ADDR[,ADDR...]]", ErrInvalid, spec)
	}
	n64, err := strconv.ParseInt(strings.TrimSpace(num), 10, 32)
	if err != nil {
		return Node{}, fmt.Errorf("%w: node %q: number: %w", ErrInvalid, spec, err)
	}
	name, addrs, _ := strings.Cut(rest, ":")
	n := Node{Number: int32(n64), Name: strings.TrimSpace(name)}
	if strings.TrimSpace(addrs) != "" {
		for _, a := range strings.Split(addrs, ",") {
			n.Addrs = append(n.Addrs, strings.TrimSpace(a))
		}
	}
	if err := n.Check(); err != nil {
		return Node{}, err
	}
	return n, nil
}

// hostOf strips a port and brackets from an address, if it has them.
func hostOf(addr string) string {
	addr = strings.TrimSpace(addr)
	if h, _, err := net.SplitHostPort(addr); err == nil {
		return h
	}
	return strings.TrimSuffix(strings.TrimPrefix(addr, "["), "]")
}

// CA is a domain's certificate authority. It holds the private key, so it
// exists only where certificates are issued (hagsctl domain init and
// add-node); daemons load just the certificate.
type CA struct {
	Domain string
	Cert   *x509.Certificate
	Key    *ecdsa.PrivateKey
}

// NewCA creates a self-signed CA for domain, valid for CAValidity from now.
func NewCA(domain string) (*CA, error) {
	if err := CheckDomain(domain); err != nil {
		return nil, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("pki: generate CA key: %w", err)
	}
	serial, err := newSerial()
	if err != nil {
		return nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "hags domain " + domain + " CA", Organization: []string{domain}},
		NotBefore:             now.Add(-clockSkew),
		NotAfter:              now.Add(CAValidity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
		URIs:                  []*url.URL{domainURI(domain)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("pki: create CA certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("pki: parse CA certificate: %w", err)
	}
	return &CA{Domain: domain, Cert: cert, Key: key}, nil
}

// NodeCert is a node's certificate and private key, PEM-encoded.
type NodeCert struct {
	Node    Node
	CertPEM []byte
	KeyPEM  []byte // PKCS#8 "PRIVATE KEY"
}

// Issue creates a key and a certificate for node n, signed by ca. The
// certificate serves both ends of a connection (server and client
// authentication); its CN is the node name and its URI SAN is
// hags://DOMAIN/node/NUMBER.
func (ca *CA) Issue(n Node) (*NodeCert, error) {
	if err := n.Check(); err != nil {
		return nil, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("pki: generate key for node %s: %w", n.Name, err)
	}
	serial, err := newSerial()
	if err != nil {
		return nil, err
	}
	now := time.Now()
	notAfter := now.Add(NodeValidity)
	if notAfter.After(ca.Cert.NotAfter) {
		notAfter = ca.Cert.NotAfter
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: n.Name, Organization: []string{ca.Domain}},
		NotBefore:    now.Add(-clockSkew),
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		URIs:         []*url.URL{nodeURI(ca.Domain, n.Number)},
		DNSNames:     []string{n.Name},
	}
	for _, a := range n.Addrs {
		h := hostOf(a)
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else if h != n.Name {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, &key.PublicKey, ca.Key)
	if err != nil {
		return nil, fmt.Errorf("pki: create certificate for node %s: %w", n.Name, err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("pki: encode key for node %s: %w", n.Name, err)
	}
	return &NodeCert{
		Node:    n,
		CertPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		KeyPEM:  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}),
	}, nil
}

// CertPEM returns the CA certificate, PEM-encoded.
func (ca *CA) CertPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Cert.Raw})
}

// KeyPEM returns the CA's private key, PEM-encoded (PKCS#8).
func (ca *CA) KeyPEM() ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(ca.Key)
	if err != nil {
		return nil, fmt.Errorf("pki: encode CA key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// Pool returns a pool holding only the CA certificate.
func (ca *CA) Pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.Cert)
	return p
}

func newSerial() (*big.Int, error) {
	s, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("pki: serial number: %w", err)
	}
	return s.Add(s, big.NewInt(1)), nil // never zero
}

func domainURI(domain string) *url.URL {
	return &url.URL{Scheme: URIScheme, Host: domain}
}

func nodeURI(domain string, number int32) *url.URL {
	return &url.URL{Scheme: URIScheme, Host: domain, Path: "/node/" + strconv.Itoa(int(number))}
}

// CertDomain returns the domain a CA certificate names (its hags://DOMAIN
// URI SAN).
func CertDomain(cert *x509.Certificate) (string, error) {
	for _, u := range cert.URIs {
		if u.Scheme == URIScheme && u.Host != "" && (u.Path == "" || u.Path == "/") {
			return u.Host, nil
		}
	}
	return "", fmt.Errorf("%w: %q names no hags domain", ErrNotDomain, cert.Subject.CommonName)
}

// PeerNode returns the domain and node number a node certificate names (its
// hags://DOMAIN/node/NUMBER URI SAN) and the node name (its CN). It does not
// verify the certificate: the TLS handshake has done that when the
// certificate comes from tls.ConnectionState.PeerCertificates.
func PeerNode(cert *x509.Certificate) (domain string, number int32, name string, err error) {
	for _, u := range cert.URIs {
		if u.Scheme != URIScheme || u.Host == "" {
			continue
		}
		num, ok := strings.CutPrefix(u.Path, "/node/")
		if !ok {
			continue
		}
		n, perr := strconv.ParseInt(num, 10, 32)
		if perr != nil || n <= 0 {
			continue
		}
		return u.Host, int32(n), cert.Subject.CommonName, nil
	}
	return "", 0, "", fmt.Errorf("%w: %q names no hags node", ErrNotDomain, cert.Subject.CommonName)
}

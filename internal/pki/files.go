package pki

import (
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// The layout of a domain's key directory. Modes are exact: files are
// created with them and chmod'ed to them whatever the umask.
//
//	DIR/               0700
//	DIR/ca.pem         0644  the domain CA certificate (every node)
//	DIR/ca-key.pem     0600  the CA's private key (only where certificates are issued)
//	DIR/gossip.key     0600  memberlist's keys: 32 bytes each, base64, one a line, primary first (every node)
//	DIR/crl.pem        0644  the revocation list, signed by the CA (every node; absent: none revoked)
//	DIR/nodes/         0700
//	DIR/nodes/NAME.pem      0644  node NAME's certificate
//	DIR/nodes/NAME-key.pem  0600  node NAME's private key (only on node NAME)
const (
	CAFile        = "ca.pem"
	CAKeyFile     = "ca-key.pem"
	GossipKeyFile = "gossip.key"
	NodesDir      = "nodes"

	DirMode  fs.FileMode = 0o700
	CertMode fs.FileMode = 0o644
	KeyMode  fs.FileMode = 0o600
)

// GossipKeySize is the length of memberlist's key: AES-256.
const GossipKeySize = 32

// NodeCertPath is where node name's certificate lives under dir.
func NodeCertPath(dir, name string) string {
	return filepath.Join(dir, NodesDir, name+".pem")
}

// NodeKeyPath is where node name's private key lives under dir.
func NodeKeyPath(dir, name string) string {
	return filepath.Join(dir, NodesDir, name+"-key.pem")
}

// Init creates a domain's keys in dir: a new CA, a new gossip key, and a
// certificate for each node. It refuses (ErrExists) when dir already holds a
// CA certificate or key, unless force is set; with force, the new CA replaces
// the old one and every certificate the old one issued stops being accepted.
// It returns the paths it wrote.
func Init(dir, domain string, nodes []Node, force bool) ([]string, error) {
	if err := CheckDomain(domain); err != nil {
		return nil, err
	}
	if err := checkUnique(nodes); err != nil {
		return nil, err
	}
	if !force {
		for _, f := range []string{CAFile, CAKeyFile} {
			if _, err := os.Lstat(filepath.Join(dir, f)); err == nil {
				return nil, fmt.Errorf("%w: %s (use --force to replace the domain's CA)", ErrExists, filepath.Join(dir, f))
			}
		}
	}
	ca, err := NewCA(domain)
	if err != nil {
		return nil, err
	}
	certs := make([]*NodeCert, 0, len(nodes))
	for _, n := range nodes {
		nc, err := ca.Issue(n)
		if err != nil {
			return nil, err
		}
		certs = append(certs, nc)
	}
	gossip, err := newGossipKey()
	if err != nil {
		return nil, err
	}
	caKey, err := ca.KeyPEM()
	if err != nil {
		return nil, err
	}

	if err := mkdir(dir); err != nil {
		return nil, err
	}
	var wrote []string
	write := func(path string, data []byte, mode fs.FileMode) error {
		if err := writeFile(path, data, mode); err != nil {
			return err
		}
		wrote = append(wrote, path)
		return nil
	}
	// The key before the certificate, so that a fresh directory never
	// holds a CA certificate without its key.
	if err := write(filepath.Join(dir, CAKeyFile), caKey, KeyMode); err != nil {
		return wrote, err
	}
	if err := write(filepath.Join(dir, CAFile), ca.CertPEM(), CertMode); err != nil {
		return wrote, err
	}
	if err := write(filepath.Join(dir, GossipKeyFile), gossipText([][]byte{gossip}), KeyMode); err != nil {
		return wrote, err
	}
	for _, nc := range certs {
		paths, err := writeNode(dir, nc)
		wrote = append(wrote, paths...)
		if err != nil {
			return wrote, err
		}
	}
	return wrote, nil
}

// AddNode issues a certificate for one more node from the CA in dir (which
// must hold ca-key.pem) and writes it. It refuses (ErrExists) when a
// certificate for that name is already there, unless force is set, and
// (ErrInvalid) when another name already has that number.
func AddNode(dir string, n Node, force bool) ([]string, error) {
	if err := n.Check(); err != nil {
		return nil, err
	}
	ca, err := LoadCA(dir)
	if err != nil {
		return nil, err
	}
	if !force {
		if _, err := os.Lstat(NodeCertPath(dir, n.Name)); err == nil {
			return nil, fmt.Errorf("%w: %s (use --force to issue a new certificate)", ErrExists, NodeCertPath(dir, n.Name))
		}
	}
	existing, err := ListNodes(dir)
	if err != nil {
		return nil, err
	}
	for _, e := range existing {
		if e.Number == n.Number && e.Name != n.Name {
			return nil, fmt.Errorf("%w: node number %d already belongs to %s", ErrInvalid, n.Number, e.Name)
		}
	}
	nc, err := ca.Issue(n)
	if err != nil {
		return nil, err
	}
	return writeNode(dir, nc)
}

// ListNodes returns the nodes whose certificates are under dir, read from
// the certificates (number, name, addresses), in node-number order.
// Certificates that do not name a node of the directory's domain are
// skipped.
func ListNodes(dir string) ([]Node, error) {
	caCert, err := readCert(filepath.Join(dir, CAFile))
	if err != nil {
		return nil, err
	}
	domain, err := CertDomain(caCert)
	if err != nil {
		return nil, err
	}
	certs, err := nodeCerts(dir, domain)
	if err != nil {
		return nil, err
	}
	out := make([]Node, 0, len(certs))
	for _, c := range certs {
		out = append(out, c.node)
	}
	return out, nil
}

// nodeCert is a node certificate found under a key directory.
type nodeCert struct {
	node Node
	cert *x509.Certificate
}

// nodeCerts reads the certificates under dir's nodes directory that name
// a node of domain, in node-number order.
func nodeCerts(dir, domain string) ([]nodeCert, error) {
	ents, err := os.ReadDir(filepath.Join(dir, NodesDir))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("pki: %w", err)
	}
	var out []nodeCert
	for _, e := range ents {
		name, ok := strings.CutSuffix(e.Name(), ".pem")
		if !ok || strings.HasSuffix(name, "-key") || e.IsDir() {
			continue
		}
		cert, err := readCert(filepath.Join(dir, NodesDir, e.Name()))
		if err != nil {
			return nil, err
		}
		d, num, cn, err := PeerNode(cert)
		if err != nil || d != domain {
			continue
		}
		out = append(out, nodeCert{node: nodeOf(num, cn, cert), cert: cert})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].node.Number < out[j].node.Number })
	return out, nil
}

func nodeOf(num int32, name string, cert *x509.Certificate) Node {
	n := Node{Number: num, Name: name}
	for _, ip := range cert.IPAddresses {
		n.Addrs = append(n.Addrs, ip.String())
	}
	for _, d := range cert.DNSNames {
		if d != name {
			n.Addrs = append(n.Addrs, d)
		}
	}
	return n
}

// LoadCA reads the CA certificate and private key from dir.
func LoadCA(dir string) (*CA, error) {
	cert, err := readCert(filepath.Join(dir, CAFile))
	if err != nil {
		return nil, err
	}
	domain, err := CertDomain(cert)
	if err != nil {
		return nil, err
	}
	keyPath := filepath.Join(dir, CAKeyFile)
	keyPEM, err := readKeyFile(keyPath)
	if err != nil {
		return nil, err
	}
	key, err := parseKey(keyPath, keyPEM)
	if err != nil {
		return nil, err
	}
	pub, ok := cert.PublicKey.(*ecdsa.PublicKey)
	if !ok || !pub.Equal(&key.PublicKey) {
		return nil, fmt.Errorf("pki: %s does not hold the key of %s", keyPath, filepath.Join(dir, CAFile))
	}
	return &CA{Domain: domain, Cert: cert, Key: key}, nil
}

func checkUnique(nodes []Node) error {
	names := map[string]bool{}
	nums := map[int32]bool{}
	for _, n := range nodes {
		if err := n.Check(); err != nil {
			return err
		}
		if names[n.Name] {
			return fmt.Errorf("%w: node name %s given twice", ErrInvalid, n.Name)
		}
		if nums[n.Number] {
			return fmt.Errorf("%w: node number %d given twice", ErrInvalid, n.Number)
		}
		names[n.Name], nums[n.Number] = true, true
	}
	return nil
}

func writeNode(dir string, nc *NodeCert) ([]string, error) {
	if err := mkdir(filepath.Join(dir, NodesDir)); err != nil {
		return nil, err
	}
	keyPath, certPath := NodeKeyPath(dir, nc.Node.Name), NodeCertPath(dir, nc.Node.Name)
	if err := writeFile(keyPath, nc.KeyPEM, KeyMode); err != nil {
		return nil, err
	}
	if err := writeFile(certPath, nc.CertPEM, CertMode); err != nil {
		return []string{keyPath}, err
	}
	return []string{keyPath, certPath}, nil
}

func mkdir(dir string) error {
	if err := os.MkdirAll(dir, DirMode); err != nil {
		return fmt.Errorf("pki: %w", err)
	}
	return nil
}

// writeFile replaces path with data, atomically (a temporary file in the
// same directory, synced, renamed) and with exactly mode.
func writeFile(path string, data []byte, mode fs.FileMode) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("pki: %w", err)
	}
	tmp := f.Name()
	err = f.Chmod(mode)
	if err == nil {
		_, err = f.Write(data)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("pki: write %s: %w", path, err)
	}
	return nil
}

// readKeyFile reads a private key file, refusing one that users other than
// its owner may read or write.
func readKeyFile(path string) ([]byte, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("pki: %w", err)
	}
	if st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("%w: %s has mode %04o, want %04o", ErrKeyMode, path, st.Mode().Perm(), KeyMode)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("pki: %w", err)
	}
	return b, nil
}

func readCert(path string) (*x509.Certificate, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("pki: %w", err)
	}
	block, _ := pem.Decode(b)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("pki: %s: no PEM CERTIFICATE block", path)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("pki: %s: %w", path, err)
	}
	return cert, nil
}

func parseKey(path string, b []byte) (*ecdsa.PrivateKey, error) {
	block, _ := pem.Decode(b)
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("pki: %s: no PEM PRIVATE KEY block", path)
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("pki: %s: %w", path, err)
	}
	key, ok := k.(*ecdsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("pki: %s: %T is not an ECDSA key", path, k)
	}
	return key, nil
}

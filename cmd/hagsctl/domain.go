package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/openhags/hags/internal/pki"
	"github.com/openhags/hags/internal/wire"
)

const domainUsage = `usage:
  hagsctl domain init --dir DIR [--domain NAME] --node N=NAME[:ADDR,...] ... [--nodes FILE] [--force]
  hagsctl domain add-node --dir DIR --node N=NAME[:ADDR,...] ... [--force]
  hagsctl domain revoke --dir DIR --node N
  hagsctl domain rotate-gossip-key --dir DIR [--promote | --finish]

init creates the domain's CA, its gossip key and a certificate for every
node; it refuses to replace an existing CA unless --force. add-node issues
certificates for more nodes from the CA in DIR. A node is its number, its
name and the addresses other daemons dial it at, e.g. 1=alpha:10.0.0.1.
--nodes reads one node per line (blank lines and # comments ignored).

revoke puts node N's current certificate on the domain's revocation list
(crl.pem, signed by the CA in DIR). rotate-gossip-key replaces the gossip
key in three steps: without a flag it adds a new key beside the current
one, --promote makes the new key the one used, --finish drops the old one.
After revoke and after each rotation step, copy the file to every node and
restart each daemon: a daemon reads its keys only when it starts.
docs/design/security.md says which files go to which node.
`

// runDomain implements "hagsctl domain ...": creating and extending a
// domain's keys and certificates. It needs no daemon.
func runDomain(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		switch args[0] {
		case "revoke":
			return runRevoke(args[1:], stdout, stderr)
		case "rotate-gossip-key":
			return runRotateGossipKey(args[1:], stdout, stderr)
		}
	}
	if len(args) == 0 || (args[0] != "init" && args[0] != "add-node") {
		fmt.Fprint(stderr, domainUsage)
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
			return 0
		}
		return 2
	}
	sub := args[0]
	fs := flag.NewFlagSet("hagsctl domain "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, domainUsage); fs.PrintDefaults() }
	dir := fs.String("dir", "", "the domain's key directory (required)")
	force := fs.Bool("force", false, "replace an existing CA (init) or node certificate (add-node)")
	var nodes []pki.Node
	fs.Func("node", "a node: N=NAME[:ADDR,...] (repeatable)", func(s string) error {
		n, err := pki.ParseNode(s)
		if err != nil {
			return err
		}
		nodes = append(nodes, n)
		return nil
	})
	var domain, nodesFile *string
	if sub == "init" {
		def := os.Getenv(wire.DomainEnv)
		if def == "" {
			def = wire.DefaultDomain
		}
		domain = fs.String("domain", def, "the domain's name (default $"+wire.DomainEnv+" or "+wire.DefaultDomain+")")
		nodesFile = fs.String("nodes", "", "a file of nodes, one N=NAME[:ADDR,...] per line")
	}
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() != 0 {
		fmt.Fprintf(stderr, "hagsctl domain %s: unexpected argument %q\n", sub, fs.Arg(0))
		return 2
	}
	if *dir == "" {
		fmt.Fprintf(stderr, "hagsctl domain %s: --dir is required\n", sub)
		return 2
	}
	if nodesFile != nil && *nodesFile != "" {
		more, err := readNodesFile(*nodesFile)
		if err != nil {
			fmt.Fprintln(stderr, "hagsctl:", err)
			return 2
		}
		nodes = append(nodes, more...)
	}
	if len(nodes) == 0 {
		fmt.Fprintf(stderr, "hagsctl domain %s: give at least one --node\n", sub)
		return 2
	}

	var wrote []string
	var err error
	switch sub {
	case "init":
		wrote, err = pki.Init(*dir, *domain, nodes, *force)
	case "add-node":
		for _, n := range nodes {
			var w []string
			w, err = pki.AddNode(*dir, n, *force)
			wrote = append(wrote, w...)
			if err != nil {
				break
			}
		}
	}
	for _, p := range wrote {
		mode := "?"
		if st, serr := os.Stat(p); serr == nil {
			mode = fmt.Sprintf("%04o", st.Mode().Perm())
		}
		fmt.Fprintf(stdout, "wrote %s %s\n", mode, p)
	}
	if err != nil {
		fmt.Fprintln(stderr, "hagsctl:", err)
		return 1
	}
	return 0
}

// readNodesFile reads one node per line; blank lines and lines starting with
// # are skipped.
func readNodesFile(path string) ([]pki.Node, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []pki.Node
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		n, err := pki.ParseNode(text)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, line, err)
		}
		out = append(out, n)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return out, nil
}

// domainFlags parses a domain subcommand's flags, which all need --dir and
// take no arguments; it returns the exit code to use when parsing stops
// (ok false).
func domainFlags(fs *flag.FlagSet, args []string, dir *string, stderr io.Writer) (code int, ok bool) {
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, domainUsage); fs.PrintDefaults() }
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0, false
		}
		return 2, false
	}
	if fs.NArg() != 0 {
		fmt.Fprintf(stderr, "%s: unexpected argument %q\n", fs.Name(), fs.Arg(0))
		return 2, false
	}
	if *dir == "" {
		fmt.Fprintf(stderr, "%s: --dir is required\n", fs.Name())
		return 2, false
	}
	return 0, true
}

// runRevoke implements "hagsctl domain revoke".
func runRevoke(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("hagsctl domain revoke", flag.ContinueOnError)
	dir := fs.String("dir", "", "the domain's key directory, with the CA key (required)")
	node := fs.Int("node", 0, "the number of the node whose certificate is revoked (required)")
	if code, ok := domainFlags(fs, args, dir, stderr); !ok {
		return code
	}
	if *node <= 0 || *node > math.MaxInt32 {
		fmt.Fprintln(stderr, "hagsctl domain revoke: --node N is required: a positive node number")
		return 2
	}
	rev, err := pki.Revoke(*dir, int32(*node))
	if err != nil {
		fmt.Fprintln(stderr, "hagsctl:", err)
		return 1
	}
	fmt.Fprintf(stdout, "revoked the certificate of node %d (%s), serial %s\n", rev.Node.Number, rev.Node.Name, rev.Serial)
	fmt.Fprintf(stdout, "wrote 0644 %s\n", rev.Path)
	fmt.Fprintf(stdout, "Copy %s to every node and restart each daemon: a daemon reads the list only when it starts,\n", pki.CRLFile)
	fmt.Fprintln(stdout, "and until it restarts it still accepts the revoked certificate.")
	fmt.Fprintf(stdout, "To let node %d back, issue it a new certificate: hagsctl domain add-node --dir %s --node %s --force\n",
		rev.Node.Number, *dir, rev.Node)
	return 0
}

// runRotateGossipKey implements "hagsctl domain rotate-gossip-key".
func runRotateGossipKey(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("hagsctl domain rotate-gossip-key", flag.ContinueOnError)
	dir := fs.String("dir", "", "the domain's key directory (required)")
	promote := fs.Bool("promote", false, "step 2: gossip with the new key, still accepting the old")
	finish := fs.Bool("finish", false, "step 3: drop the old key")
	if code, ok := domainFlags(fs, args, dir, stderr); !ok {
		return code
	}
	if *promote && *finish {
		fmt.Fprintln(stderr, "hagsctl domain rotate-gossip-key: give --promote or --finish, not both")
		return 2
	}
	step, next := pki.RotateGossipKey, "then: hagsctl domain rotate-gossip-key --dir "+*dir+" --promote"
	switch {
	case *promote:
		step, next = pki.PromoteGossipKey, "then: hagsctl domain rotate-gossip-key --dir "+*dir+" --finish"
	case *finish:
		step, next = pki.FinishGossipRotation, "the rotation is complete"
	}
	keys, err := step(*dir)
	if err != nil {
		fmt.Fprintln(stderr, "hagsctl:", err)
		return 1
	}
	ids := make([]string, len(keys))
	for i, k := range keys {
		ids[i] = pki.GossipKeyID(k)
	}
	fmt.Fprintf(stdout, "wrote 0600 %s\n", filepath.Join(*dir, pki.GossipKeyFile))
	fmt.Fprintf(stdout, "keys (the first is used, all are accepted): %s\n", strings.Join(ids, ", "))
	fmt.Fprintf(stdout, "Copy %s to every node and restart each daemon, one at a time: a daemon reads it only when it starts.\n",
		pki.GossipKeyFile)
	fmt.Fprintf(stdout, "When every daemon has restarted, %s.\n", next)
	return 0
}

package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/openhags/hags/daemon"
	"github.com/openhags/hags/internal/pki"
)

const domainUsage = `usage:
  hagsctl domain init --dir DIR [--domain NAME] --node N=NAME[:ADDR,...] ... [--nodes FILE] [--force]
  hagsctl domain add-node --dir DIR --node N=NAME[:ADDR,...] ... [--force]

init creates the domain's CA, its gossip key and a certificate for every
node; it refuses to replace an existing CA unless --force. add-node issues
certificates for more nodes from the CA in DIR. A node is its number, its
name and the addresses other daemons dial it at, e.g. 1=alpha:10.0.0.1.
--nodes reads one node per line (blank lines and # comments ignored).
docs/design/security.md says which files go to which node.
`

// runDomain implements "hagsctl domain ...": creating and extending a
// domain's keys and certificates. It needs no daemon.
func runDomain(args []string, stdout, stderr io.Writer) int {
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
		def := os.Getenv("HA_DOMAIN_NAME")
		if def == "" {
			def = daemon.DefaultDomain
		}
		domain = fs.String("domain", def, "the domain's name (default $HA_DOMAIN_NAME or "+daemon.DefaultDomain+")")
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

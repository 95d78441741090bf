package main

import (
	"bufio"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/openhags/hags/internal/cli"
	"github.com/openhags/hags/internal/pki"
	"github.com/openhags/hags/internal/wire"
)

const domainLong = `usage:
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
docs/design/security.md says which files go to which node.`

// nodeList is the repeatable --node N=NAME[:ADDR,...] flag.
type nodeList []pki.Node

func (l *nodeList) String() string {
	parts := make([]string, len(*l))
	for i, n := range *l {
		parts[i] = n.String()
	}
	return strings.Join(parts, " ")
}

func (l *nodeList) Set(s string) error {
	n, err := pki.ParseNode(s)
	if err != nil {
		return err
	}
	*l = append(*l, n)
	return nil
}

func (l *nodeList) Type() string { return "N=NAME[:ADDR,...]" }

// domainCommand is "hagsctl domain ...": creating and extending a domain's
// keys and certificates. It needs no daemon.
func (a *app) domainCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "domain",
		Short: "create, extend, revoke and rotate the domain's keys (hagsctl domain --help)",
		Long:  domainLong,
		Args:  cobra.ArbitraryArgs,
		RunE:  cli.NeedSubcommand,
	}
	cmd.AddCommand(a.issueCommand("init"), a.issueCommand("add-node"), a.revokeCommand(), a.rotateCommand())
	return cmd
}

// issueCommand is "domain init" or "domain add-node".
func (a *app) issueCommand(sub string) *cobra.Command {
	var (
		dir, domain, nodesFile string
		force                  bool
		nodes                  nodeList
	)
	cmd := &cobra.Command{
		Use:   sub + " --dir DIR --node N=NAME[:ADDR,...] ...",
		Short: "issue the domain's CA, gossip key and node certificates",
		Args:  cli.NArgs(0, 0, "none"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if dir == "" {
				return cli.Usagef(cmd, "--dir is required")
			}
			if nodesFile != "" {
				more, err := readNodesFile(nodesFile)
				if err != nil {
					return cli.Usagef(cmd, "%v", err)
				}
				nodes = append(nodes, more...)
			}
			if len(nodes) == 0 {
				return cli.Usagef(cmd, "give at least one --node")
			}
			var wrote []string
			var err error
			switch sub {
			case "init":
				wrote, err = pki.Init(dir, domain, nodes, force)
			case "add-node":
				for _, n := range nodes {
					var w []string
					w, err = pki.AddNode(dir, n, force)
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
				fmt.Fprintf(a.stdout, "wrote %s %s\n", mode, p)
			}
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&dir, "dir", "", "the domain's key directory (required)")
	f.BoolVar(&force, "force", false, "replace an existing CA (init) or node certificate (add-node)")
	f.Var(&nodes, "node", "a node: N=NAME[:ADDR,...] (repeatable)")
	if sub == "init" {
		def := os.Getenv(wire.DomainEnv)
		if def == "" {
			def = wire.DefaultDomain
		}
		f.StringVar(&domain, "domain", def, "the domain's name (default $"+wire.DomainEnv+" or "+wire.DefaultDomain+")")
		f.StringVar(&nodesFile, "nodes", "", "a file of nodes, one N=NAME[:ADDR,...] per line")
	}
	return cmd
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

// revokeCommand is "hagsctl domain revoke".
func (a *app) revokeCommand() *cobra.Command {
	var (
		dir  string
		node int
	)
	cmd := &cobra.Command{
		Use:   "revoke --dir DIR --node N",
		Short: "put node N's certificate on the domain's revocation list",
		Args:  cli.NArgs(0, 0, "none"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if dir == "" {
				return cli.Usagef(cmd, "--dir is required")
			}
			if node <= 0 || node > math.MaxInt32 {
				return cli.Usagef(cmd, "--node N is required: a positive node number")
			}
			rev, err := pki.Revoke(dir, int32(node))
			if err != nil {
				return err
			}
			w := a.stdout
			fmt.Fprintf(w, "revoked the certificate of node %d (%s), serial %s\n", rev.Node.Number, rev.Node.Name, rev.Serial)
			fmt.Fprintf(w, "wrote 0644 %s\n", rev.Path)
			fmt.Fprintf(w, "Copy %s to every node and restart each daemon: a daemon reads the list only when it starts,\n", pki.CRLFile)
			fmt.Fprintln(w, "and until it restarts it still accepts the revoked certificate.")
			fmt.Fprintf(w, "To let node %d back, issue it a new certificate: hagsctl domain add-node --dir %s --node %s --force\n",
				rev.Node.Number, dir, rev.Node)
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "", "the domain's key directory, with the CA key (required)")
	cmd.Flags().IntVar(&node, "node", 0, "the number of the node whose certificate is revoked (required)")
	return cmd
}

// rotateCommand is "hagsctl domain rotate-gossip-key".
func (a *app) rotateCommand() *cobra.Command {
	var (
		dir             string
		promote, finish bool
	)
	cmd := &cobra.Command{
		Use:   "rotate-gossip-key --dir DIR [--promote | --finish]",
		Short: "replace the gossip key in three steps",
		Args:  cli.NArgs(0, 0, "none"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if dir == "" {
				return cli.Usagef(cmd, "--dir is required")
			}
			if promote && finish {
				return cli.Usagef(cmd, "give --promote or --finish, not both")
			}
			step, next := pki.RotateGossipKey, "then: hagsctl domain rotate-gossip-key --dir "+dir+" --promote"
			switch {
			case promote:
				step, next = pki.PromoteGossipKey, "then: hagsctl domain rotate-gossip-key --dir "+dir+" --finish"
			case finish:
				step, next = pki.FinishGossipRotation, "the rotation is complete"
			}
			keys, err := step(dir)
			if err != nil {
				return err
			}
			ids := make([]string, len(keys))
			for i, k := range keys {
				ids[i] = pki.GossipKeyID(k)
			}
			w := a.stdout
			fmt.Fprintf(w, "wrote 0600 %s\n", filepath.Join(dir, pki.GossipKeyFile))
			fmt.Fprintf(w, "keys (the first is used, all are accepted): %s\n", strings.Join(ids, ", "))
			fmt.Fprintf(w, "Copy %s to every node and restart each daemon, one at a time: a daemon reads it only when it starts.\n",
				pki.GossipKeyFile)
			fmt.Fprintf(w, "When every daemon has restarted, %s.\n", next)
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "", "the domain's key directory (required)")
	cmd.Flags().BoolVar(&promote, "promote", false, "step 2: gossip with the new key, still accepting the old")
	cmd.Flags().BoolVar(&finish, "finish", false, "step 3: drop the old key")
	return cmd
}

// Command hagsctl shows what a hags daemon knows: its domain and nodes, the
// groups, and one group's providers, subscribers, running protocol and
// queued changes.
//
//	hagsctl [--socket PATH] [--json] status
//	hagsctl [--socket PATH] [--json] nodes
//	hagsctl [--socket PATH] [--interval D] watch
//	hagsctl [--socket PATH] [--json] groups
//	hagsctl [--socket PATH] [--json] group NAME
//	hagsctl domain init|add-node|revoke|rotate-gossip-key --dir DIR ...
//	hagsctl completion bash|zsh
//
// The socket is --socket, else $HA_GS_SOCKET, else the default path of the
// domain named by $HA_DOMAIN_NAME ("hags" when unset). hagsctl opens an
// admin session, which may query but never join or vote.
//
// Exit status: 0 on success, 1 on a failure (one line on stderr), 2 on a
// usage error (one line saying what was wrong, then the usage, on
// stderr). docs/cli.md describes the JSON output.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/openhags/hags/daemon/ipc"
	"github.com/openhags/hags/internal/cli"
	"github.com/openhags/hags/internal/wire"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func defaultSocket() string {
	if s := os.Getenv(wire.SocketEnv); s != "" {
		return s
	}
	return wire.SocketPath(os.Getenv(wire.DomainEnv))
}

// app is one run of hagsctl: its flags and its output.
type app struct {
	stdout, stderr io.Writer
	socket         string
	json           bool
	timeout        time.Duration
	interval       time.Duration
}

func run(args []string, stdout, stderr io.Writer) int {
	a := &app{stdout: stdout, stderr: stderr}
	root := a.rootCommand()
	root.SetArgs(args)
	root.SetOut(stdout) // completion scripts
	root.SetErr(stderr)
	// Help goes to stderr, as it always has; stdout holds only what was
	// asked for.
	help := root.HelpFunc()
	root.SetHelpFunc(func(c *cobra.Command, args []string) {
		c.SetOut(stderr)
		help(c, args)
	})
	cmd, err := root.ExecuteC()
	switch {
	case err == nil:
		return cli.ExitOK
	case cli.ReportUsage(stderr, cmd, err):
		return cli.ExitUsage
	}
	fmt.Fprintln(stderr, "hagsctl:", err)
	return cli.ExitFail
}

func (a *app) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "hagsctl",
		Short: "Show what a hags daemon knows: its domain, nodes and groups; manage the domain's keys",
		Long: `hagsctl shows what a hags daemon knows: its domain and nodes, the groups, and one
group's providers, subscribers, running protocol and queued changes. It opens an
admin session, which may query but never join or vote.

The socket is --socket, else $HA_GS_SOCKET, else the default path of the domain
named by $HA_DOMAIN_NAME ("hags" when unset).

Exit status: 0 on success, 1 on a failure, 2 on a usage error.`,
		SilenceErrors: true,
		SilenceUsage:  true,
		Args:          cobra.ArbitraryArgs,
		RunE:          cli.NeedSubcommand,
	}
	root.SetFlagErrorFunc(cli.FlagError)
	pf := root.PersistentFlags()
	pf.StringVar(&a.socket, "socket", defaultSocket(), "the daemon's socket (default $HA_GS_SOCKET or the domain's)")
	pf.BoolVar(&a.json, "json", false, "print JSON instead of text")
	pf.DurationVar(&a.timeout, "timeout", 10*time.Second, "give up after this long (watch: on each query)")
	pf.DurationVar(&a.interval, "interval", 250*time.Millisecond, "watch: how often to look")
	query := func(use, short, what string, args cobra.PositionalArgs) *cobra.Command {
		return &cobra.Command{Use: use, Short: short, Args: args,
			RunE: func(cmd *cobra.Command, args []string) error {
				q := wire.AdminQuery{What: what}
				if len(args) > 0 {
					q.Group = args[0]
				}
				return a.query(q)
			}}
	}
	root.AddCommand(
		query("status", "the daemon, its domain and nodes", "status", cli.NArgs(0, 0, "none")),
		query("nodes", "the domain's nodes: role (leader, voter, follower) and health", "nodes", cli.NArgs(0, 0, "none")),
		&cobra.Command{Use: "watch", Short: "follow changes of nodes and groups live, until interrupted",
			Args: cli.NArgs(0, 0, "none"), RunE: a.watch},
		query("groups", "every group: providers, subscribers, running protocol", "groups", cli.NArgs(0, 0, "none")),
		query("group NAME", "one group: attributes, state value, providers, subscribers, protocol, queue", "group",
			cli.NArgs(1, 1, "NAME")),
		a.domainCommand(),
	)
	return root
}

// query asks the daemon q and prints the answer.
func (a *app) query(q wire.AdminQuery) error {
	ctx, cancel := context.WithTimeout(context.Background(), a.timeout)
	defer cancel()
	conn, err := ipc.DialAdmin(ctx, a.socket, "hagsctl")
	if err != nil {
		return err
	}
	defer conn.Close()
	asked := q
	if q.What == "nodes" {
		asked.What = "status" // answered from status
	}
	rep, err := conn.Query(ctx, asked)
	if err != nil {
		return err
	}
	if a.json {
		return printJSON(a.stdout, q, rep)
	}
	return printText(a.stdout, q, rep)
}

// watch runs "hagsctl watch" until SIGINT or SIGTERM (nil) or until the
// daemon's session ends (its error).
func (a *app) watch(cmd *cobra.Command, _ []string) error {
	if a.interval <= 0 {
		return cli.Usagef(cmd, "--interval must be positive")
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	dctx, cancel := context.WithTimeout(ctx, a.timeout)
	conn, err := ipc.DialAdmin(dctx, a.socket, "hagsctl")
	cancel()
	if err != nil {
		return err
	}
	defer conn.Close()
	go func() { <-ctx.Done(); conn.Close() }()
	return watch(ctx, conn, a.interval, a.timeout, a.stdout)
}

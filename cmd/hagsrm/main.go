// Command hagsrm is the operator's command line of the hags failover
// manager: it talks to the hagsrmd of its node through the Go package
// failover, and does every operation of docs/failover.md.
//
//	hagsrm [--socket PATH] [--json] group state|online|offline|move|owners|create|delete|list|set ...
//	hagsrm [--socket PATH] [--json] resource state|online|offline|fail|owners|depend|create|delete|
//	                                          lock|unlock|cleanup|list|why|set|params ...
//	hagsrm [--socket PATH] [--json] node state|pause|resume|list|fence|confirm-fenced ...
//	hagsrm [--socket PATH] [--json] watch | status | console | config show | config apply FILE
//	hagsrm completion bash|zsh
//
// The socket is --socket, else $HAGSRM_SOCKET, else
// /run/hags/<domain>/hagsrmd.sock with the domain from $HA_DOMAIN_NAME.
//
// Exit status: 0 on success and on ERROR_IO_PENDING (the operation goes
// on), 1 on a failure (with --json, {"error": {"name", "code",
// "message"}} on stdout), 2 on a usage error (one line saying what was
// wrong, then the usage, on stderr). With --json, stdout holds exactly one
// JSON object (watch: one per line).
package main

import (
	"context"
	"errors"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/openhags/hags/failover"
	"github.com/openhags/hags/internal/cli"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// reported is an error that was already printed (with the object that
// goes with it); it only sets the exit status.
type reported struct{ err error }

func (r *reported) Error() string { return r.err.Error() }

// app is one run of hagsrm: its flags, its output and its connection.
type app struct {
	stdout, stderr io.Writer
	json           bool
	socket         string
	client         *failover.Client
}

// connect dials hagsrmd once and keeps the connection for the run.
func (a *app) connect(ctx context.Context) (*failover.Client, error) {
	if a.client != nil {
		return a.client, nil
	}
	var opts []failover.Option
	if a.socket != "" {
		opts = append(opts, failover.WithSocket(a.socket))
	}
	c, err := failover.Dial(ctx, opts...)
	if err != nil {
		return nil, err
	}
	a.client = c
	return c, nil
}

func run(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	a := &app{stdout: stdout, stderr: stderr}
	root := a.rootCommand()
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	cmd, err := root.ExecuteContextC(ctx)
	if a.client != nil {
		a.client.Close()
	}
	if err == nil {
		return cli.ExitOK
	}
	if cli.ReportUsage(stderr, cmd, err) {
		return cli.ExitUsage
	}
	var rep *reported
	if !errors.As(err, &rep) {
		a.printError(err, nil)
	}
	return cli.ExitFail
}

func (a *app) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "hagsrm",
		Short: "Manage the resource groups of a hags failover cluster",
		Long: `hagsrm manages the groups, resources and nodes of a hags failover cluster through
the hagsrmd of this node. Operations that take time (bringing resources online,
moving groups) return ERROR_IO_PENDING at once; --wait D waits up to D for them.

The socket is --socket, else $HAGSRM_SOCKET, else /run/hags/<domain>/hagsrmd.sock
with the domain from $HA_DOMAIN_NAME ("hags" when unset).

Exit status: 0 on success and ERROR_IO_PENDING, 1 on failure, 2 on a usage error.`,
		SilenceErrors: true,
		SilenceUsage:  true,
		Args:          cobra.ArbitraryArgs,
		RunE:          cli.NeedSubcommand,
	}
	root.SetFlagErrorFunc(cli.FlagError)
	root.PersistentFlags().BoolVar(&a.json, "json", false, "print one JSON object on stdout (watch: one per line)")
	root.PersistentFlags().StringVar(&a.socket, "socket", "", "hagsrmd's management socket (default $HAGSRM_SOCKET, else /run/hags/<domain>/hagsrmd.sock)")
	root.AddCommand(a.groupCommand(), a.resourceCommand(), a.nodeCommand(), a.configCommand(),
		a.watchCommand(), a.statusCommand(), a.consoleCommand())
	return root
}

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
//
// The socket is --socket, else $HA_GS_SOCKET, else the default path of the
// domain named by $HA_DOMAIN_NAME ("hags" when unset). hagsctl opens an
// admin session, which may query but never join or vote.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/openhags/hags/daemon/ipc"
	"github.com/openhags/hags/internal/wire"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

const usage = `usage: hagsctl [--socket PATH] [--json] [--timeout D] COMMAND
commands:
  status        the daemon, its domain and nodes
  nodes         the domain's nodes: role (leader, voter, follower) and health
  watch         follow changes of nodes and groups live, until interrupted
  groups        every group: providers, subscribers, running protocol
  group NAME    one group: attributes, state value, providers, subscribers, protocol, queue
  domain ...    create, extend, revoke and rotate the domain's keys (hagsctl domain --help)
`

func defaultSocket() string {
	if s := os.Getenv(wire.SocketEnv); s != "" {
		return s
	}
	return wire.SocketPath(os.Getenv(wire.DomainEnv))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "domain" { // keys and certificates; no daemon needed (domain.go)
		return runDomain(args[1:], stdout, stderr)
	}
	fs := flag.NewFlagSet("hagsctl", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, usage); fs.PrintDefaults() }
	socket := fs.String("socket", defaultSocket(), "the daemon's socket (default $HA_GS_SOCKET or the domain's)")
	asJSON := fs.Bool("json", false, "print JSON instead of text")
	timeout := fs.Duration("timeout", 10*time.Second, "give up after this long (watch: on each query)")
	interval := fs.Duration("interval", 250*time.Millisecond, "watch: how often to look")
	// Flags may come before or after the command and its argument.
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return 0
			}
			return 2
		}
		if fs.NArg() == 0 {
			break
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
	var q wire.AdminQuery
	switch {
	case len(pos) == 1 && (pos[0] == "status" || pos[0] == "groups"):
		q.What = pos[0]
	case len(pos) == 1 && pos[0] == "nodes":
		q.What = "nodes" // answered from status
	case len(pos) == 1 && pos[0] == "watch":
		return runWatch(*socket, *interval, *timeout, stdout, stderr)
	case len(pos) == 2 && pos[0] == "group":
		q.What, q.Group = "group", pos[1]
	default:
		fs.Usage()
		return 2
	}

	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	conn, err := ipc.DialAdmin(ctx, *socket, "hagsctl")
	if err != nil {
		fmt.Fprintln(stderr, "hagsctl:", err)
		return 1
	}
	defer conn.Close()
	asked := q
	if q.What == "nodes" {
		asked.What = "status"
	}
	rep, err := conn.Query(ctx, asked)
	if err != nil {
		fmt.Fprintln(stderr, "hagsctl:", err)
		return 1
	}
	if *asJSON {
		err = printJSON(stdout, q, rep)
	} else {
		err = printText(stdout, q, rep)
	}
	if err != nil {
		fmt.Fprintln(stderr, "hagsctl:", err)
		return 1
	}
	return 0
}

func printJSON(w io.Writer, q wire.AdminQuery, rep *wire.AdminReply) error {
	var v any
	switch q.What {
	case "status":
		v = rep.Status
	case "nodes":
		v = []wire.NodeStatus{}
		if rep.Status != nil && rep.Status.Nodes != nil {
			v = rep.Status.Nodes
		}
	case "groups":
		v = rep.Groups
		if rep.Groups == nil {
			v = []wire.GroupSummary{}
		}
	case "group":
		v = groupJSON(rep.Group)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// groupJSON adds the printable form of the state value beside its bytes.
func groupJSON(d *wire.GroupDetail) any {
	if d == nil {
		return nil
	}
	return struct {
		*wire.GroupDetail
		StateText string `json:"StateText"`
	}{d, formatState(d.State)}
}

// runWatch runs "hagsctl watch" until SIGINT or SIGTERM (0) or until the
// daemon's session ends (1).
func runWatch(socket string, interval, timeout time.Duration, stdout, stderr io.Writer) int {
	if interval <= 0 {
		fmt.Fprintln(stderr, "hagsctl: --interval must be positive")
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	dctx, cancel := context.WithTimeout(ctx, timeout)
	conn, err := ipc.DialAdmin(dctx, socket, "hagsctl")
	cancel()
	if err != nil {
		fmt.Fprintln(stderr, "hagsctl:", err)
		return 1
	}
	defer conn.Close()
	go func() { <-ctx.Done(); conn.Close() }()
	if err := watch(ctx, conn, interval, timeout, stdout); err != nil {
		fmt.Fprintln(stderr, "hagsctl:", err)
		return 1
	}
	return 0
}

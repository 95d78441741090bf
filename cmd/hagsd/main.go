// Command hagsd is the hags node daemon. With no configuration it runs a
// one-node domain in the foreground, serving clients on a Unix socket, until
// SIGTERM or SIGINT. With --voters it joins a domain of several nodes.
//
//	hagsd [--config FILE] [--socket PATH] [--domain NAME] [--node N] [--client-group NAME]
//	      [--name NAME] [--addr HOST:PORT] [--voters N=HOST:PORT,...] [--data-dir DIR]
//	      [--gossip HOST:PORT] [--join HOST:PORT,...] [--pki-dir DIR | --insecure]
//	      [--group-access owner|open] [--group-rules FILE]
//	      [--metrics-addr HOST:PORT [--metrics-allow-remote]]
//	      [--log-level debug|info|warn|error] [--log-format text|json]
//
// A configuration file holds the same settings, one per line ("node 2").
// Under systemd it says READY=1 once its domain admits it and feeds the
// watchdog from its run loop (service.go, docs/operations.md).
// The group rule file is read once, at start (docs/access-control.md).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/openhags/hags/daemon"
	"github.com/openhags/hags/daemon/access"
	"github.com/openhags/hags/daemon/scripts"
	"github.com/openhags/hags/internal/flagfile"
	"github.com/openhags/hags/internal/logflag"
	"github.com/openhags/hags/internal/metrics"
	"github.com/openhags/hags/internal/wire"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stderr))
}

// options are hagsd's command-line settings.
type options struct {
	socket, domain, clientGroup string
	node                        int
	level, format               string
	config                      string
	groupAccess, groupRules     string
	access                      *access.Policy // from groupAccess and groupRules
	cluster                     clusterOptions
	metrics                     metrics.Flags
}

func parse(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("hagsd", flag.ContinueOnError)
	fs.SetOutput(stderr)
	domain := os.Getenv(wire.DomainEnv)
	if domain == "" {
		domain = wire.DefaultDomain
	}
	fs.StringVar(&o.socket, "socket", "", "Unix socket to serve (default /run/hags/<domain>/hagsd.sock)")
	fs.StringVar(&o.domain, "domain", domain, "domain name (default $HA_DOMAIN_NAME or \"hags\")")
	fs.IntVar(&o.node, "node", 1, "this node's number")
	fs.StringVar(&o.clientGroup, "client-group", daemon.DefaultClientGroup, "group whose members may connect besides root")
	fs.StringVar(&o.level, "log-level", "info", "log level: debug, info, warn or error")
	fs.StringVar(&o.format, "log-format", "text", "log format: text or json")
	fs.StringVar(&o.config, "config", "", "a file of settings, one \"name value\" per line (command-line flags win)")
	fs.StringVar(&o.groupAccess, "group-access", "owner",
		"who may join a group another uid owns: owner (only what --group-rules grants) or open (every admitted client)")
	fs.StringVar(&o.groupRules, "group-rules", "", "a file granting groups to further users and unix groups, read once at start")
	o.cluster.register(fs)
	o.metrics.Register(fs)
	args, err := flagfile.Expand(args)
	if err != nil {
		return o, err
	}
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() != 0 {
		return o, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	if o.node <= 0 || o.node > 1<<31-1 {
		return o, fmt.Errorf("--node %d: want a positive number", o.node)
	}
	if _, err := o.clusterConfig(); err != nil {
		return o, err
	}
	if o.access, err = o.accessPolicy(); err != nil {
		return o, err
	}
	if err := o.metrics.Check(); err != nil {
		return o, err
	}
	return o, nil
}

// accessPolicy reads --group-access and, once, the --group-rules file.
func (o *options) accessPolicy() (*access.Policy, error) {
	mode, err := access.ParseMode(o.groupAccess)
	if err != nil {
		return nil, fmt.Errorf("--group-access: %w", err)
	}
	p := &access.Policy{Mode: mode}
	if o.groupRules == "" {
		return p, nil
	}
	if mode == access.ModeOpen {
		return nil, fmt.Errorf("--group-rules %s: with --group-access=open every client may join every group; the rules would grant nothing", o.groupRules)
	}
	if p.Rules, err = access.LoadRules(o.groupRules); err != nil {
		return nil, fmt.Errorf("--group-rules: %w", err)
	}
	return p, nil
}

func newLogger(o options, w io.Writer) (*slog.Logger, error) {
	return logflag.New(o.level, o.format, w)
}

func run(args []string, stderr io.Writer) int {
	o, err := parse(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "hagsd:", err)
		return 2
	}
	log, err := newLogger(o, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "hagsd:", err)
		return 2
	}

	cluster, err := o.clusterConfig()
	if err != nil {
		fmt.Fprintln(stderr, "hagsd:", err)
		return 2
	}
	if cluster != nil {
		if err := secure(cluster, o.cluster.pkiDir, o.domain, int32(o.node), log); err != nil {
			log.Error("cannot start", "err", err)
			return 1
		}
		if o.cluster.insecure {
			defer warnInsecure(log, insecureEvery)()
		}
	}
	svc := &service{log: log, domain: o.domain, node: o.node}
	ops, err := svc.operations()
	if err != nil {
		log.Error("cannot start", "err", err)
		return 1
	}
	var msrv *metrics.Server
	if o.metrics.Addr != "" {
		reg := metrics.NewRegistry(daemon.Version)
		if msrv, err = metrics.Listen(o.metrics.Addr, o.metrics.AllowRemote, reg, log); err != nil {
			log.Error("cannot serve metrics", "err", err)
			return 1
		}
		defer msrv.Close() // for the returns before Serve; a no-op after it
		ops.Metrics = reg
	}
	runner := scripts.New(log.With("component", "scripts"))
	runner.Domain = o.domain // scripts see HA_DOMAIN_NAME
	node, err := daemon.New(daemon.Config{
		Domain:      o.domain,
		Node:        int32(o.node),
		Name:        o.cluster.name,
		Socket:      o.socket,
		ClientGroup: o.clientGroup,
		Logger:      log,
		Scripts:     runner,
		CheckScript: scripts.CheckScript,
		Access:      o.access,
		Cluster:     cluster,
		Operations:  ops,
	})
	if err != nil {
		log.Error("cannot start", "err", err)
		return 1
	}
	ln, err := node.Listen()
	if err != nil {
		log.Error("cannot listen", "err", err)
		node.Close()
		return 1
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	served := make(chan error, 1)
	go func() { served <- node.Serve(ln) }()
	svc.serving()
	log.Info("ready", "socket", node.Socket(), "domain", o.domain, "node", o.node, "version", daemon.Version)
	metricsDone := make(chan struct{})
	if msrv != nil {
		log.Info("serving metrics", "addr", msrv.Addr().String())
		go func() {
			defer close(metricsDone)
			if err := msrv.Serve(ctx); err != nil {
				log.Error("the metrics endpoint stopped", "err", err)
			}
		}()
	} else {
		close(metricsDone)
	}

	code := 0
	select {
	case <-ctx.Done():
		log.Info("signal received; shutting down")
	case err := <-served:
		log.Error("serving stopped", "err", err)
		code = 1
	}
	svc.stopping()
	stop() // ends the metrics server
	<-metricsDone
	if err := node.Close(); err != nil {
		log.Error("close", "err", err)
		code = 1
	}
	if err := runner.Close(); err != nil {
		log.Error("stopping scripts", "err", err)
	}
	return code
}

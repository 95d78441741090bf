// Command hagsrmd is the failover manager of one node: a Group Services
// client of the node's hagsd that, with the managers of the other nodes,
// keeps resource groups online (docs/failover.md, docs/design/failover.md).
//
//	hagsrmd [--config FILE] [--domain NAME] [--gs-socket PATH] [--socket PATH]
//	        [--state-dir DIR] [--agents-dir DIR]
//	        [--admin-group NAME] [--user-group NAME] [--action-log FILE]
//	        [--metrics-addr HOST:PORT [--metrics-allow-remote]]
//	        [--http HOST:PORT [--http-allow-remote]]
//	        [--log-level debug|info|warn|error] [--log-format text|json]
//	        [--pprof ADDR]
//
// --pprof serves Go's profiles (net/http/pprof) on ADDR, a loopback
// address such as 127.0.0.1:6061, for measuring the manager; it is off
// unless given, and refuses an address that is not loopback.
//
// A configuration file holds the same settings, one per line ("domain
// prod"), as hagsd's does (internal/flagfile). It runs in the foreground
// until SIGTERM or SIGINT, then stops the resources its node runs (the
// other nodes take its groups over) and exits 0. Under systemd it reports
// READY=1 once it serves its management socket and STOPPING=1 when it
// stops (docs/operations.md).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"github.com/openhags/hags/internal/listenaddr"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	sd "github.com/coreos/go-systemd/v22/daemon"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"

	"github.com/openhags/hags/failover"
	"github.com/openhags/hags/failover/agent"
	"github.com/openhags/hags/failover/agent/actlog"
	"github.com/openhags/hags/failover/console"
	"github.com/openhags/hags/failover/manager"
	"github.com/openhags/hags/gsapi"
	"github.com/openhags/hags/internal/flagfile"
	"github.com/openhags/hags/internal/logflag"
	"github.com/openhags/hags/internal/metrics"
)

// Defaults of hagsrmd's flags.
const (
	DefaultStateDir   = "/var/lib/hags/rm"
	DefaultAdminGroup = "hagsadmin"
	DefaultUserGroup  = "hagsuser"
)

// version is the build's version (make sets it with -ldflags -X).
var version = "dev"

func main() { os.Exit(run(os.Args[1:], os.Stderr)) }

type options struct {
	config, domain                        string
	gsSocket, socket, stateDir, agentsDir string
	adminGroup, userGroup, actionLog      string
	level, format                         string
	metrics                               metrics.Flags
	http                                  string
	httpRemote                            bool
	pprof                                 string
}

func parse(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("hagsrmd", flag.ContinueOnError)
	fs.SetOutput(stderr)
	ocf := os.Getenv("OCF_ROOT")
	if ocf == "" {
		ocf = agent.DefaultOCFRoot
	}
	fs.StringVar(&o.config, "config", "", "a file of settings, one \"name value\" per line (command-line flags win)")
	fs.StringVar(&o.domain, "domain", domain(), "the hags domain, which names the default sockets (default $HA_DOMAIN_NAME or \"hags\")")
	fs.StringVar(&o.gsSocket, "gs-socket", "", "the node's hagsd socket (default $HA_GS_SOCKET, else the domain's default path)")
	fs.StringVar(&o.socket, "socket", "", "the management socket to serve (default /run/hags/<domain>/hagsrmd.sock)")
	fs.StringVar(&o.stateDir, "state-dir", DefaultStateDir, "this node's durable state and the agents' scratch space")
	fs.StringVar(&o.agentsDir, "agents-dir", ocf, "the OCF root (default $OCF_ROOT, else /usr/lib/ocf)")
	fs.StringVar(&o.adminGroup, "admin-group", DefaultAdminGroup, "group whose members may change the cluster besides root")
	fs.StringVar(&o.userGroup, "user-group", DefaultUserGroup, "group whose members may read the cluster's state")
	fs.StringVar(&o.actionLog, "action-log", os.Getenv(actlog.EnvVar), "append a record of every agent start and stop to this file (default $"+actlog.EnvVar+")")
	fs.StringVar(&o.http, "http", "", "serve the web console on HOST:PORT, loopback only unless --http-allow-remote (default: no console); hagsrm console prints its URL")
	fs.BoolVar(&o.httpRemote, "http-allow-remote", false, "let --http listen on an address other than loopback; the console's token is then needed to read it too")
	fs.StringVar(&o.level, "log-level", "info", "log level: debug, info, warn or error")
	fs.StringVar(&o.format, "log-format", "text", "log format: text or json")
	fs.StringVar(&o.pprof, "pprof", "", "serve Go's profiles on this loopback host:port (off when empty)")
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
	if o.domain == "" || o.domain == "." || o.domain == ".." || strings.ContainsAny(o.domain, "/\x00") {
		return o, fmt.Errorf("--domain %q: not a domain name", o.domain)
	}
	if o.socket == "" {
		o.socket = failover.SocketPath(o.domain)
	}
	if err := o.metrics.Check(); err != nil {
		return o, err
	}
	if o.http != "" {
		if _, err := console.CheckAddress(o.http, o.httpRemote); err != nil {
			return o, fmt.Errorf("--http: %w (--http-allow-remote allows it)", err)
		}
	} else if o.httpRemote {
		return o, errors.New("--http-allow-remote needs --http")
	}
	if !filepath.IsAbs(o.stateDir) {
		return o, fmt.Errorf("--state-dir %q: want an absolute path", o.stateDir)
	}
	if o.pprof != "" {
		if err := checkLoopback(o.pprof); err != nil {
			return o, fmt.Errorf("--pprof %q: %w", o.pprof, err)
		}
	}
	return o, nil
}

// checkLoopback accepts host:port with a loopback IP address only: the
// profiles show the manager's memory, and must not reach the network.
func checkLoopback(addr string) error {
	_, _, loopback, err := listenaddr.Parse(addr, false)
	if err != nil {
		return err
	}
	if !loopback {
		return errors.New("want a loopback IP address such as 127.0.0.1")
	}
	return nil
}

// servePprof serves the profiles on addr until ctx ends.
func servePprof(ctx context.Context, addr string, log interface{ Error(string, ...any) }) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("pprof server stopped", "err", err)
		}
	}()
	context.AfterFunc(ctx, func() { _ = srv.Close() })
	return nil
}

func domain() string {
	if d := os.Getenv(gsapi.DomainEnv); d != "" {
		return d
	}
	return gsapi.DefaultDomain
}

func run(args []string, stderr io.Writer) int {
	o, err := parse(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "hagsrmd:", err)
		return 2
	}
	log, err := logflag.New(o.level, o.format, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "hagsrmd:", err)
		return 2
	}
	gsOpts := []gsapi.Option{gsapi.WithDomain(o.domain)}
	if o.gsSocket != "" {
		gsOpts = append(gsOpts, gsapi.WithSocket(o.gsSocket))
	}
	var reg *prometheus.Registry
	var msrv *metrics.Server
	if o.metrics.Addr != "" {
		reg = metrics.NewRegistry(version)
		if msrv, err = metrics.Listen(o.metrics.Addr, o.metrics.AllowRemote, reg, log); err != nil {
			log.Error("cannot serve metrics", "err", err)
			return 1
		}
		defer msrv.Close() // for the returns before Serve; a no-op after it
		log.Info("serving metrics", "addr", msrv.Addr().String())
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if o.pprof != "" {
		if err := servePprof(ctx, o.pprof, log); err != nil {
			log.Error("cannot serve --pprof", "err", err)
			return 1
		}
		log.Info("serving profiles", "addr", o.pprof)
	}
	// The agent runner names the node in its action log and to OCF agents
	// (OCF_RESKEY_CRM_meta_on_node): ask hagsd for the name up front.
	name, err := nodeName(ctx, gsOpts)
	if err != nil {
		log.Error("cannot reach hagsd", "err", err)
		return 1
	}
	agents, err := manager.NewAgents(agent.Options{StateDir: o.stateDir, OCFRoot: o.agentsDir, Node: name,
		Logger: log.With("component", "agents"), ActionLog: o.actionLog})
	if err != nil {
		log.Error("cannot start the agent runner", "err", err)
		return 1
	}
	cfg := manager.Config{Name: name, GSOptions: gsOpts, StateDir: o.stateDir, Runner: agents,
		Logger: log, Socket: o.socket, AdminGroup: o.adminGroup, UserGroup: o.userGroup,
		Console: o.http, ConsoleRemote: o.httpRemote,
		Ready: func() { notify(log, sd.SdNotifyReady, "STATUS=serving "+o.socket) }}
	if reg != nil {
		cfg.Metrics = reg
	}
	m, err := manager.New(cfg)
	if err != nil {
		agents.Close()
		log.Error("cannot start", "err", err)
		return 1
	}
	log.Info("ready", "node", name, "socket", o.socket, "state_dir", o.stateDir, "metrics", o.metrics.Addr)
	// The manager and the metrics server end together: the first to stop
	// stops the other.
	ctx, cancel := context.WithCancel(ctx)
	g, gctx := errgroup.WithContext(ctx)
	if msrv != nil {
		g.Go(func() error { return msrv.Serve(gctx) })
	}
	g.Go(func() error {
		defer cancel()
		return m.Run(gctx)
	})
	g.Go(func() error {
		<-gctx.Done()
		notify(log, sd.SdNotifyStopping)
		return nil
	})
	if err := g.Wait(); err != nil {
		log.Error("stopped", "err", err)
		return 1
	}
	log.Info("stopped")
	return 0
}

// notify tells systemd the states (sd_notify(3)); outside systemd it does
// nothing.
func notify(log *slog.Logger, states ...string) {
	if _, err := sd.SdNotify(false, strings.Join(states, "\n")); err != nil {
		log.Warn("cannot notify systemd", "err", err)
	}
}

// nodeName asks hagsd for this node's name, trying again every half
// second until ctx ends (hagsd may still be starting).
func nodeName(ctx context.Context, opts []gsapi.Option) (string, error) {
	for {
		c, err := gsapi.Dial(ctx, append([]gsapi.Option{gsapi.WithProgram("hagsrmd")}, opts...)...)
		if err == nil {
			defer c.Close()
			return c.NodeName(), nil
		}
		select {
		case <-ctx.Done():
			return "", err
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// Package metrics serves a hags daemon's Prometheus metrics over HTTP.
// hagsd and hagsrmd each build their own registry (NewRegistry), register
// their collectors in it, and serve it on --metrics-addr. docs/metrics.md
// lists the metrics and says why the address is refused unless it is a
// loopback one or --metrics-allow-remote is given.
//
// Nothing here is global: there is no default registry, so two daemons in
// one process (the tests) never mix their metrics.
package metrics

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"github.com/openhags/hags/internal/listenaddr"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Namespace prefixes every hags metric.
const Namespace = "hags"

// Path is where the metrics are served.
const Path = "/metrics"

// Errors of CheckAddr.
var (
	ErrBadAddr   = errors.New("metrics: not a host:port address")
	ErrNotLocal  = errors.New("metrics: the address is not a loopback one")
	ErrNoAddress = errors.New("metrics: no address")
)

// Flags are the metrics settings of a daemon's command line. The zero value
// serves nothing.
type Flags struct {
	// Addr is host:port to serve on; empty: no metrics.
	Addr string
	// AllowRemote accepts an Addr that is not loopback.
	AllowRemote bool
}

// Register adds --metrics-addr and --metrics-allow-remote to fs.
func (f *Flags) Register(fs *flag.FlagSet) {
	fs.StringVar(&f.Addr, "metrics-addr", "",
		"serve Prometheus metrics at http://ADDR"+Path+" (host:port; default: none; a loopback address unless --metrics-allow-remote)")
	fs.BoolVar(&f.AllowRemote, "metrics-allow-remote", false,
		"let --metrics-addr be an address other hosts can reach (the metrics are served without authentication)")
}

// Check validates the flags without listening.
func (f *Flags) Check() error {
	if f.Addr == "" {
		if f.AllowRemote {
			return fmt.Errorf("--metrics-allow-remote needs --metrics-addr")
		}
		return nil
	}
	if err := CheckAddr(f.Addr, f.AllowRemote); err != nil {
		return fmt.Errorf("--metrics-addr %s: %w", f.Addr, err)
	}
	return nil
}

// CheckAddr refuses an address that is not host:port with a numeric port,
// and, unless allowRemote, one whose host is not a loopback IP address or
// "localhost". An empty host means every interface, so it is not loopback.
// Host names other than localhost are refused rather than resolved: what a
// name resolves to may change after the check.
func CheckAddr(addr string, allowRemote bool) error {
	if addr == "" {
		return ErrNoAddress
	}
	host, _, loopback, err := listenaddr.Parse(addr, true)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrBadAddr, err)
	}
	if !loopback && !allowRemote {
		return fmt.Errorf("%w: %q (use 127.0.0.1 or [::1], or add --metrics-allow-remote)", ErrNotLocal, host)
	}
	return nil
}

// NewRegistry returns a registry holding the Go runtime's and the process's
// collectors and hags_build_info{version} 1, ready for a daemon's own.
func NewRegistry(version string) *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace:   Namespace,
			Name:        "build_info",
			Help:        "Always 1; the version label says which build runs.",
			ConstLabels: prometheus.Labels{"version": version},
		}, func() float64 { return 1 }),
	)
	return reg
}

// Server serves one registry over HTTP.
type Server struct {
	ln  net.Listener
	srv *http.Server
}

// Listen checks addr (CheckAddr) and listens on it.
func Listen(addr string, allowRemote bool, reg *prometheus.Registry, log *slog.Logger) (*Server, error) {
	if err := CheckAddr(addr, allowRemote); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle(Path, promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		ErrorLog:            slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		ErrorHandling:       promhttp.ContinueOnError,
		MaxRequestsInFlight: 4,
		Timeout:             10 * time.Second,
	}))
	return &Server{ln: ln, srv: &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 5 * time.Second,
		WriteTimeout:      15 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelDebug),
	}}, nil
}

// Addr returns the address the server listens on (with the port chosen
// when it was 0).
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Close closes the listener of a server that will not Serve.
func (s *Server) Close() error { return s.ln.Close() }

// Serve serves until ctx ends, then closes the listener and returns nil;
// it returns an error only if serving failed.
func (s *Server) Serve(ctx context.Context) error {
	done := make(chan error, 1)
	go func() { done <- s.srv.Serve(s.ln) }()
	select {
	case <-ctx.Done():
		shut, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		s.srv.Shutdown(shut)
		<-done
		return nil
	case err := <-done:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return fmt.Errorf("metrics: %w", err)
	}
}

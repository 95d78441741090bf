// Command hagsbench measures hags with real processes on one machine, and
// the same scenarios against Corosync's closed process groups (libcpg):
//
//	(a) join latency: the call to the joiner's own approval
//	(b) a one-phase join seen by all N existing providers
//	(c) n-phase protocol latency against providers and phases, and the
//	    machine's floor: a bare Unix-socket echo between two Go processes
//	(d) one-phase protocols per second over many groups of 8 providers
//	(e) SIGKILL of a provider to the failure notification at the last other
//	(f) a daemon's death to the failure leave at the survivors of a
//	    three-node domain (network namespaces)
//	(g) hagsd's memory per group and per provider
//	(h) the C library's cost over gsapi for (a)
//	(s) on request only: a three-node domain left for --soak (10 min) with
//	    both CPUs saturated, counting false failures
//
// It starts hagsd (and corosync) itself, and client processes that are
// hagsbench in its client role ("hagsbench client"), the libcpg program
// bench/cpgbench.c or the libha_gs program bench/gsbench.c. Each client
// reports CLOCK_MONOTONIC timestamps over a pipe; see client.go.
//
//	hagsbench [--quick] [--compare] [--scenarios a,b,...] [--out DIR] [--bin DIR]
//
// hags client processes run with GOMAXPROCS=1 (see clientEnv);
// $HAGSBENCH_CLIENT_ENV adds variables (NAME=VALUE, space-separated) to
// their environment, for experiments; $HAGSBENCH_DEBUG=1 prints every
// client event.
//
// It writes DIR/latest.json, DIR/latest.txt and PNG plots. make bench runs
// hags alone, quickly; make bench-compare runs both systems, alternately,
// and reports ratios hags / Corosync. BENCHMARKS.md explains the method.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/openhags/hags/gsapi"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "client" {
		os.Exit(clientMain(os.Args[2:]))
	}
	if len(os.Args) > 1 && os.Args[1] == "spin" {
		os.Exit(spinMain())
	}
	if len(os.Args) > 1 && os.Args[1] == "echo" {
		os.Exit(echoMain(os.Args[2:]))
	}
	os.Exit(coordinatorMain(os.Args[1:]))
}

// clientMain is the client role.
func clientMain(args []string) int {
	fs := flag.NewFlagSet("hagsbench client", flag.ContinueOnError)
	socket := fs.String("socket", os.Getenv(gsapi.SocketEnv), "the daemon's socket")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if err := runClient(ctx, *socket, os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "hagsbench client:", err)
		return 1
	}
	return 0
}

// config is the coordinator's settings.
type config struct {
	root         string // the repository (build/lib, bench/)
	bin          string // hagsd's directory
	self         string // this executable, for the client role
	cpgbench     string
	gsbench      string
	corosyncTmpl string
	actlogBin    string
	out          string
	quick        bool
	compare      bool
	rounds       int
	scenarios    map[string]bool
	ctx          context.Context // the run's: ends every wait
	soak         time.Duration
}

// sizes are the points and sample counts of a run.
type sizes struct {
	bN        []int // (a), (b)
	bSamples  int
	eN        []int
	eSamples  int
	cN        []int
	cPhases   []int
	cSamples  int
	dGroups   []int
	dDuration time.Duration
	fSamples  int
	gGroups   int
	gPerGroup int
	hSamples  int
}

func (c *config) sizes() sizes {
	if c.quick {
		return sizes{
			bN: []int{1, 8, 32}, bSamples: 40,
			eN: []int{1, 8, 32}, eSamples: 10,
			cN: []int{1, 8, 64, 256}, cPhases: []int{0, 1, 2, 3}, cSamples: 30,
			dGroups: []int{1, 8, 64}, dDuration: 2 * time.Second,
			fSamples: 3, gGroups: 1000, gPerGroup: 10, hSamples: 40,
		}
	}
	return sizes{
		bN: []int{1, 2, 8, 32}, bSamples: 200,
		eN: []int{1, 8, 32}, eSamples: 40,
		cN: []int{1, 2, 8, 32, 64, 128, 256}, cPhases: []int{0, 1, 2, 3}, cSamples: 100,
		dGroups: []int{1, 2, 4, 8, 16, 32, 64}, dDuration: 5 * time.Second,
		fSamples: 10, gGroups: 1000, gPerGroup: 10, hSamples: 200,
	}
}

func coordinatorMain(args []string) int {
	var cfg config
	fs := flag.NewFlagSet("hagsbench", flag.ContinueOnError)
	fs.StringVar(&cfg.root, "root", ".", "the repository's root (build/lib, bench/)")
	fs.StringVar(&cfg.bin, "bin", "build/bin", "directory holding hagsd")
	fs.StringVar(&cfg.cpgbench, "cpgbench", "build/bench/cpgbench", "the libcpg client (bench/cpgbench.c)")
	fs.StringVar(&cfg.gsbench, "gsbench", "build/bench/gsbench", "the libha_gs client (bench/gsbench.c)")
	fs.StringVar(&cfg.corosyncTmpl, "corosync-conf", "bench/corosync/corosync.conf.tmpl", "corosync.conf template")
	fs.StringVar(&cfg.actlogBin, "actlog-bin", "build/bench/hagsrm-actlog", "hagsrm-actlog, for the failover scenarios' wrapper agent")
	fs.StringVar(&cfg.out, "out", "bench/results", "where to write latest.json, latest.txt and the plots")
	fs.BoolVar(&cfg.quick, "quick", false, "fewer points and samples (make bench)")
	fs.BoolVar(&cfg.compare, "compare", false, "run every scenario against Corosync too (make bench-compare)")
	fs.IntVar(&cfg.rounds, "rounds", 2, "alternate hags and Corosync this many times per point")
	list := fs.String("scenarios", "a,b,c,d,e,f,g,h,rm", "scenarios to run (rm: the failover manager's; s, the soak, only when named)")
	fs.DurationVar(&cfg.soak, "soak", 10*time.Minute, "how long scenario s runs")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	cfg.scenarios = map[string]bool{}
	for _, s := range strings.Split(*list, ",") {
		cfg.scenarios[strings.TrimSpace(s)] = true
	}
	if cfg.rounds < 1 {
		cfg.rounds = 1
	}
	for _, p := range []*string{&cfg.bin, &cfg.cpgbench, &cfg.gsbench, &cfg.corosyncTmpl, &cfg.out, &cfg.root, &cfg.actlogBin} {
		if abs, err := filepath.Abs(*p); err == nil {
			*p = abs
		}
	}
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintln(os.Stderr, "hagsbench:", err)
		return 1
	}
	cfg.self = self

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	cfg.ctx = ctx
	rep, err := run(ctx, &cfg)
	if rep != nil {
		if werr := rep.write(cfg.out); werr != nil {
			fmt.Fprintln(os.Stderr, "hagsbench: writing the results:", werr)
			return 1
		}
		fmt.Print(rep.table())
		fmt.Printf("\nresults in %s\n", cfg.out)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "hagsbench:", err)
		return 1
	}
	return 0
}

// run runs the chosen scenarios and returns what was measured, also when
// a scenario failed (the error says which).
func run(ctx context.Context, cfg *config) (*report, error) {
	dir, err := os.MkdirTemp("", "hagsbench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	rep := newReport(cfg)
	logf := func(format string, args ...any) {
		fmt.Fprintf(os.Stderr, "%s "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
	}
	r := &runner{ctx: ctx, cfg: cfg, h: newHub(), timeout: 30 * time.Second, logf: logf}
	sz := cfg.sizes()
	logf("hagsbench: %s; load %s", rep.Machine.CPU, rep.Machine.LoadBefore)

	hags, err := startHags(cfg, dir)
	if err != nil {
		return rep, fmt.Errorf("hagsd: %w", err)
	}
	defer hags.close()
	systems := []system{hags}
	if cfg.compare {
		cs, err := startCorosync(cfg, dir)
		if err != nil {
			rep.note("Corosync was not measured: %v", err)
			logf("Corosync will not be measured: %v", err)
		} else {
			defer cs.close()
			systems = append(systems, cs)
		}
	}
	var errs []error
	try := func(what string, f func() error) {
		if ctx.Err() != nil {
			return
		}
		logf("%s", what)
		err := f()
		if errors.Is(err, errSkipped) {
			logf("  skipped: %v", err)
			rep.note("%s skipped: %v", what, err)
			return
		}
		if err != nil {
			logf("  FAILED: %v", err)
			rep.note("%s failed: %v", what, err)
			errs = append(errs, fmt.Errorf("%s: %w", what, err))
		}
	}
	has := func(s ...string) bool { return slices.ContainsFunc(s, func(x string) bool { return cfg.scenarios[x] }) }

	if has("a", "b") {
		for _, n := range sz.bN {
			try(fmt.Sprintf("(a, b) join seen by all, N=%d", n), func() error {
				for _, sys := range systems {
					rep.add("a.join_self", n, 0, sys.name(), nil)
					rep.add("b.join_seen_by_all", n, 0, sys.name(), nil)
				}
				for round := range cfg.rounds {
					for _, sys := range systems {
						self, all, err := r.joinSeen(sys, n, split(sz.bSamples, cfg.rounds, round))
						rep.add("a.join_self", n, 0, sys.name(), self)
						rep.addGuard("a.join_self", n, sys.name(), r.guard)
						rep.add("b.join_seen_by_all", n, 0, sys.name(), all)
						if err != nil {
							return fmt.Errorf("%s: %w", sys.name(), err)
						}
					}
				}
				return nil
			})
		}
	}
	if has("e") {
		for _, n := range sz.eN {
			try(fmt.Sprintf("(e) SIGKILL seen by the others, N=%d", n), func() error {
				for round := range cfg.rounds {
					for _, sys := range systems {
						v, exit, after, err := r.killSeen(sys, n, split(sz.eSamples, cfg.rounds, round))
						rep.add("e.sigkill_seen_by_all", n, 0, sys.name(), v)
						rep.add("e.victim_exit", n, 0, sys.name(), exit)
						rep.add("e.after_victim_exit", n, 0, sys.name(), after)
						if err != nil {
							return fmt.Errorf("%s: %w", sys.name(), err)
						}
					}
				}
				return nil
			})
		}
	}
	if has("d") {
		for _, g := range sz.dGroups {
			try(fmt.Sprintf("(d) one-phase protocols per second, %d groups of %d", g, fanOut), func() error {
				for range cfg.rounds {
					for _, sys := range systems {
						v, err := r.throughput(sys, g, sz.dDuration/time.Duration(cfg.rounds))
						if err != nil {
							return fmt.Errorf("%s: %w", sys.name(), err)
						}
						rep.addRate("d.protocols_per_s", g, sys.name(), v)
						rep.addGuard("d.protocols_per_s", g, sys.name(), r.guard)
					}
				}
				return nil
			})
		}
	}
	if has("c") {
		for _, n := range sz.cN {
			try(fmt.Sprintf("(c) n-phase protocols, %d providers", n), func() error {
				v, err := r.nphase(hags, n, sz.cPhases, sz.cSamples)
				for _, k := range sz.cPhases {
					name := "c.nphase"
					if k == 0 {
						name = "c.onephase"
					}
					rep.add(name, n, k, hags.name(), v[k])
				}
				return err
			})
		}
		try("(c) the floor: a Unix-socket echo between two Go processes", func() error {
			hot, idle, err := r.echoFloor(dir, 10*sz.cSamples)
			rep.add("floor.unix_echo_hot", 1, 0, hags.name(), hot)
			rep.add("floor.unix_echo_after_idle", 1, 0, hags.name(), idle)
			return err
		})
		try("(c) n-phase protocols, 8 providers in one process", func() error {
			v, err := r.nphaseIn(hags, 8, 1, sz.cPhases, sz.cSamples)
			for _, k := range sz.cPhases {
				rep.add("c.nphase_one_process", 8, k, hags.name(), v[k])
			}
			return err
		})
	}
	if has("h") {
		try("(h) libha_gs against gsapi, join latency", func() error {
			if _, err := os.Stat(cfg.gsbench); err != nil {
				return fmt.Errorf("%w: the libha_gs client: %v (make bench builds it)", errSkipped, err)
			}
			csys := hags.withCClient(cfg)
			for round := range cfg.rounds {
				for _, sys := range []system{hags, csys} {
					self, _, err := r.joinSeen(sys, 1, split(sz.hSamples, cfg.rounds, round))
					rep.add("h.join_self", 1, 0, sys.name(), self)
					if err != nil {
						return fmt.Errorf("%s: %w", sys.name(), err)
					}
				}
			}
			return nil
		})
	}
	if has("g") {
		try(fmt.Sprintf("(g) hagsd memory: %d groups, then %d providers", sz.gGroups, sz.gGroups*sz.gPerGroup), func() error {
			fresh, err := startHags(cfg, dir)
			if err != nil {
				return err
			}
			defer fresh.close()
			m, err := r.memoryUse(fresh, sz.gGroups, sz.gPerGroup)
			if err != nil {
				return err
			}
			rep.addMemory(m)
			return nil
		})
	}
	if has("s") {
		try(fmt.Sprintf("(s) soak: a 3-node domain for %v with both CPUs saturated", cfg.soak), func() error {
			return r.soak(rep, dir, cfg.soak)
		})
	}
	if has("f") {
		try("(f) node death seen by the survivors of a 3-node domain", func() error {
			return r.runNodeDeath(rep, dir, sz.fSamples, len(systems) > 1)
		})
	}
	if has("rm") {
		what := "(rm) the failover manager: 3 hagsd + 3 hagsrmd"
		if cfg.compare {
			what += ", and Pacemaker: 3 corosync + pacemaker"
		}
		try(what, func() error { return r.runFailover(rep, dir, cfg.compare) })
	}
	rep.finish()
	if ctx.Err() != nil {
		errs = append(errs, ctx.Err())
	}
	return rep, errors.Join(errs...)
}

// errSkipped marks a scenario that cannot run on this machine (no network
// namespaces, no libha_gs client): it is noted in the results, and the
// run does not fail for it.
var errSkipped = errors.New("cannot run here")

// split divides total samples over rounds: round r's share.
func split(total, rounds, r int) int {
	base := total / rounds
	if r < total%rounds {
		base++
	}
	return base
}

// runNodeDeath runs (f) for hags and, with corosync, for Corosync, one
// after the other (each needs its own three daemons).
func (r *runner) runNodeDeath(rep *report, dir string, samples int, corosync bool) error {
	nn, err := newNetns(3)
	if err != nil {
		return fmt.Errorf("%w: %v", errSkipped, err)
	}
	defer nn.destroy()
	var clusters []cluster3
	clusters = append(clusters, &hagsCluster{cfg: r.cfg, nn: nn, dir: filepath.Join(dir, "f-hags")})
	if corosync {
		clusters = append(clusters, &corosyncCluster{cfg: r.cfg, nn: nn, dir: filepath.Join(dir, "f-corosync")})
	}
	for _, c := range clusters {
		if err := os.MkdirAll(filepath.Join(dir, "f-"+c.name()), 0o755); err != nil {
			return err
		}
		err := func() error {
			defer c.close()
			for i := range 3 {
				if err := c.startNode(i); err != nil {
					return err
				}
			}
			for i := range 3 {
				if err := c.waitNode(i); err != nil {
					return err
				}
			}
			v, err := r.nodeDeath(c, samples)
			rep.add("f.node_death_seen_by_survivors", 3, 0, c.name(), v)
			return err
		}()
		if err != nil {
			return fmt.Errorf("%s: %w", c.name(), err)
		}
	}
	return nil
}

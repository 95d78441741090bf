package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// machine describes where the numbers were taken.
type machine struct {
	CPU        string `json:"cpu"`
	Cores      int    `json:"cores"`
	MemoryMiB  int64  `json:"memory_mib"`
	Kernel     string `json:"kernel"`
	GoVersion  string `json:"go"`
	Corosync   string `json:"corosync,omitempty"`
	Pacemaker  string `json:"pacemaker,omitempty"`
	LoadBefore string `json:"load_before"`
	LoadAfter  string `json:"load_after"`
	Started    string `json:"started"`
	Seconds    int    `json:"seconds"`
	Mode       string `json:"mode"` // quick or full
}

// row is one scenario at one point, for every system measured. Latencies
// are in microseconds; ratios are hags / Corosync (for h, libha_gs / gsapi).
type row struct {
	Name   string `json:"name"`
	N      int    `json:"n"`
	Phases *int   `json:"phases,omitempty"`
	Unit   string `json:"unit"`

	HagsSamples     int      `json:"hags_samples,omitempty"`
	HagsP50         *float64 `json:"hags_p50_us,omitempty"`
	HagsP99         *float64 `json:"hags_p99_us,omitempty"`
	CorosyncSamples int      `json:"corosync_samples,omitempty"`
	CorosyncP50     *float64 `json:"corosync_p50_us,omitempty"`
	CorosyncP99     *float64 `json:"corosync_p99_us,omitempty"`
	RatioP50        *float64 `json:"ratio_p50,omitempty"`

	GsapiSamples int      `json:"gsapi_samples,omitempty"`
	GsapiP50     *float64 `json:"gsapi_p50_us,omitempty"`
	GsapiP99     *float64 `json:"gsapi_p99_us,omitempty"`

	HagsOps     *float64  `json:"hags_ops_per_s,omitempty"`
	CorosyncOps *float64  `json:"corosync_ops_per_s,omitempty"`
	HagsRuns    []float64 `json:"hags_runs,omitempty"`
	CorosyncRun []float64 `json:"corosync_runs,omitempty"`
	RatioOps    *float64  `json:"ratio_ops,omitempty"`

	// Memory: at rest (after the daemon's idle memory return), and right
	// after the joins; the resident sets are the baseline's, with the
	// groups' and with every provider's.
	HagsBytes     *float64 `json:"hags_bytes,omitempty"`
	HagsBytesBusy *float64 `json:"hags_bytes_after_joins,omitempty"`
	RSS           []int64  `json:"rss_bytes,omitempty"`
	RSSBusy       []int64  `json:"rss_bytes_after_joins,omitempty"`

	// The failover scenarios: three nodes, hags against Pacemaker (ratio_p50
	// is hags / Pacemaker there); memory rows carry bytes per node.
	Nodes              int               `json:"nodes,omitempty"`
	PacemakerSamples   int               `json:"pacemaker_samples,omitempty"`
	PacemakerP50       *float64          `json:"pacemaker_p50_us,omitempty"`
	PacemakerP99       *float64          `json:"pacemaker_p99_us,omitempty"`
	PacemakerBytes     *float64          `json:"pacemaker_bytes,omitempty"`
	RatioBytes         *float64          `json:"ratio_bytes,omitempty"`
	HagsTwoOwners      *int              `json:"hags_two_owners,omitempty"`
	PacemakerTwoOwners *int              `json:"pacemaker_two_owners,omitempty"`
	Detail             map[string]string `json:"detail,omitempty"`

	// Counts (scenario s) over a period.
	HagsCount *float64 `json:"hags_count,omitempty"`
	Over      string   `json:"over,omitempty"`

	// The profile guard ((a) and (d)): the daemons' wake-ups (voluntary
	// context switches) and heap allocations per client request over the
	// measured samples (counters.go).
	HagsWakeupsPerReq     *float64 `json:"hags_wakeups_per_request,omitempty"`
	HagsAllocsPerReq      *float64 `json:"hags_allocs_per_request,omitempty"`
	CorosyncWakeupsPerReq *float64 `json:"corosync_wakeups_per_request,omitempty"`

	Target string `json:"target,omitempty"`
	Met    *bool  `json:"met,omitempty"`

	samples map[string][]int64
	guards  map[string]guard
}

// report is everything a run measured.
type report struct {
	Machine   machine  `json:"machine"`
	Scenarios []*row   `json:"scenarios"`
	Notes     []string `json:"notes,omitempty"`

	started time.Time
}

func newReport(cfg *config) *report {
	r := &report{started: time.Now()}
	r.Machine = machine{
		CPU:        cpuModel(),
		Cores:      runtime.NumCPU(),
		MemoryMiB:  memTotalMiB(),
		Kernel:     firstLine("/proc/sys/kernel/osrelease"),
		GoVersion:  runtime.Version(),
		LoadBefore: firstLine("/proc/loadavg"),
		Started:    r.started.UTC().Format(time.RFC3339),
		Mode:       "full",
	}
	if cfg.quick {
		r.Machine.Mode = "quick"
	}
	if cfg.compare {
		r.Machine.Corosync = corosyncVersion()
		r.Machine.Pacemaker = pacemakerVersion()
	}
	return r
}

func (r *report) note(format string, args ...any) {
	r.Notes = append(r.Notes, fmt.Sprintf(format, args...))
}

func (r *report) find(name string, n, phases int, unit string) *row {
	for _, x := range r.Scenarios {
		if x.Name == name && x.N == n && (x.Phases == nil && phases < 0 || x.Phases != nil && *x.Phases == phases) {
			return x
		}
	}
	x := &row{Name: name, N: n, Unit: unit, samples: map[string][]int64{}}
	if phases >= 0 {
		x.Phases = &phases
	}
	r.Scenarios = append(r.Scenarios, x)
	return x
}

// phasesOf says whether a scenario records its phase count.
func phasesOf(name string, k int) int {
	if strings.HasPrefix(name, "c.") {
		return k
	}
	return -1
}

// add records latency samples (nanoseconds) of one system.
func (r *report) add(name string, n, phases int, sys string, ns []int64) {
	x := r.find(name, n, phasesOf(name, phases), "us")
	x.samples[sys] = append(x.samples[sys], ns...)
}

// addRM records latency samples (nanoseconds) of a failover scenario.
func (r *report) addRM(name, sys string, ns []int64) {
	x := r.find(name, rmNodes, -1, "us")
	x.Nodes = rmNodes
	x.samples[sys] = append(x.samples[sys], ns...)
}

// addRMMemory records the resident set per node of a failover cluster.
func (r *report) addRMMemory(name, sys string, bytes int64, detail string) {
	x := r.find(name, rmNodes, -1, "bytes")
	x.Nodes = rmNodes
	v := float64(bytes)
	switch sys {
	case "hags":
		x.HagsBytes = &v
	case "pacemaker":
		x.PacemakerBytes = &v
	}
	if x.Detail == nil {
		x.Detail = map[string]string{}
	}
	x.Detail[sys] = detail
}

// addPartition records (p): the takeover times and in how many of the
// samples two nodes ran the group at once.
func (r *report) addPartition(sys string, ns []int64, twice, samples int) {
	r.addRM("p.partition_takeover", sys, ns)
	x := r.find("p.partition_takeover", rmNodes, -1, "us")
	p := &x.HagsTwoOwners
	if sys == "pacemaker" {
		p = &x.PacemakerTwoOwners
	}
	if *p == nil {
		*p = new(int)
	}
	**p += twice
}

// addGuard adds the profile guard's counts of one measurement of a system
// (g nil: its counters could not be read).
func (r *report) addGuard(name string, n int, sys string, g *guard) {
	if g == nil || (sys != "hags" && sys != "corosync") {
		return
	}
	unit := "us"
	if strings.HasPrefix(name, "d.") {
		unit = "ops/s"
	}
	x := r.find(name, n, -1, unit)
	if x.guards == nil {
		x.guards = map[string]guard{}
	}
	sum := x.guards[sys]
	sum.wakeups += g.wakeups
	sum.requests += g.requests
	if g.allocs >= 0 {
		sum.allocs += g.allocs
	} else {
		sum.allocs = -1 << 62
	}
	x.guards[sys] = sum
}

// addRate records one throughput measurement of one system.
func (r *report) addRate(name string, n int, sys string, opsPerSec float64) {
	x := r.find(name, n, -1, "ops/s")
	switch sys {
	case "hags":
		x.HagsRuns = append(x.HagsRuns, math.Round(opsPerSec))
	case "corosync":
		x.CorosyncRun = append(x.CorosyncRun, math.Round(opsPerSec))
	}
}

// addCount records a count of scenario (s) and whether it met its target
// (the count that is expected; "0").
func (r *report) addCount(name string, n int, over string, v float64, want string) {
	x := r.find(name, n, -1, "count")
	x.HagsCount, x.Over = &v, over
	x.Target = "= " + want + " " + over
	met := fmt.Sprint(v) == want
	x.Met = &met
}

// addMemory records scenario (g): at rest, and right after the joins.
func (r *report) addMemory(m memory) {
	g := r.find("g.rss_per_group", m.Groups, -1, "bytes")
	g.HagsBytes, g.HagsBytesBusy = ptr(math.Round(m.PerGroup)), ptr(math.Round(m.PerGroupBusy))
	g.RSS, g.RSSBusy = m.RSSAtRest, m.RSSAfterJoins
	p := r.find("g.rss_per_provider", m.Providers, -1, "bytes")
	p.HagsBytes, p.HagsBytesBusy = ptr(math.Round(m.PerProvider)), ptr(math.Round(m.PerProviderBusy))
	p.RSS, p.RSSBusy = m.RSSAtRest, m.RSSAfterJoins
}

func ptr[T any](v T) *T { return &v }

func round1(v float64) *float64 { return ptr(math.Round(v*10) / 10) }

// finish computes the summaries, ratios and targets.
func (r *report) finish() {
	r.Machine.LoadAfter = firstLine("/proc/loadavg")
	r.Machine.Seconds = int(time.Since(r.started).Seconds())
	for _, x := range r.Scenarios {
		if s := x.samples["hags"]; len(s) > 0 {
			sum := summarize(s)
			x.HagsSamples, x.HagsP50, x.HagsP99 = sum.N, round1(sum.P50), round1(sum.P99)
		}
		if s := x.samples["pacemaker"]; len(s) > 0 {
			sum := summarize(s)
			x.PacemakerSamples, x.PacemakerP50, x.PacemakerP99 = sum.N, round1(sum.P50), round1(sum.P99)
			if x.HagsP50 != nil && *x.PacemakerP50 > 0 {
				x.RatioP50 = ptr(math.Round(*x.HagsP50 / *x.PacemakerP50 * 1000) / 1000)
			}
		}
		x.perRequest()
		if x.HagsBytes != nil && x.PacemakerBytes != nil && *x.PacemakerBytes > 0 {
			x.RatioBytes = ptr(math.Round(*x.HagsBytes / *x.PacemakerBytes * 1000) / 1000)
		}
		if s := x.samples["corosync"]; len(s) > 0 {
			sum := summarize(s)
			x.CorosyncSamples, x.CorosyncP50, x.CorosyncP99 = sum.N, round1(sum.P50), round1(sum.P99)
		}
		if x.Name == "h.join_self" {
			// (h) compares the two clients of hags: hags_* is libha_gs.
			if s := x.samples["hags"]; len(s) > 0 {
				sum := summarize(s)
				x.GsapiSamples, x.GsapiP50, x.GsapiP99 = sum.N, round1(sum.P50), round1(sum.P99)
			}
			x.HagsSamples, x.HagsP50, x.HagsP99 = 0, nil, nil
			if s := x.samples["libha_gs"]; len(s) > 0 {
				sum := summarize(s)
				x.HagsSamples, x.HagsP50, x.HagsP99 = sum.N, round1(sum.P50), round1(sum.P99)
			}
			if x.HagsP50 != nil && x.GsapiP50 != nil && *x.GsapiP50 > 0 {
				x.RatioP50 = ptr(math.Round(*x.HagsP50 / *x.GsapiP50 * 100) / 100)
			}
			continue
		}
		if x.HagsP50 != nil && x.CorosyncP50 != nil && *x.CorosyncP50 > 0 {
			x.RatioP50 = ptr(math.Round(*x.HagsP50 / *x.CorosyncP50 * 1000) / 1000)
		}
		if len(x.HagsRuns) > 0 {
			x.HagsOps = ptr(median(x.HagsRuns))
		}
		if len(x.CorosyncRun) > 0 {
			x.CorosyncOps = ptr(median(x.CorosyncRun))
		}
		if x.HagsOps != nil && x.CorosyncOps != nil && *x.CorosyncOps > 0 {
			x.RatioOps = ptr(math.Round(*x.HagsOps / *x.CorosyncOps * 1000) / 1000)
		}
		x.judge()
	}
	// Keep the file in a stable order: by scenario, then point.
	slices.SortStableFunc(r.Scenarios, func(a, b *row) int {
		if c := strings.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		if a.N != b.N {
			return a.N - b.N
		}
		pa, pb := -1, -1
		if a.Phases != nil {
			pa = *a.Phases
		}
		if b.Phases != nil {
			pb = *b.Phases
		}
		return pa - pb
	})
}

// perRequest divides the profile guard's counts by the requests.
func (x *row) perRequest() {
	for sys, g := range x.guards {
		if g.requests <= 0 {
			continue
		}
		w := ptr(math.Round(float64(g.wakeups)/float64(g.requests)*100) / 100)
		switch sys {
		case "hags":
			x.HagsWakeupsPerReq = w
			if g.allocs >= 0 {
				x.HagsAllocsPerReq = ptr(math.Round(float64(g.allocs)/float64(g.requests)*10) / 10)
			}
		case "corosync":
			x.CorosyncWakeupsPerReq = w
		}
	}
}

// judge sets the target for the row, and whether it is met, when
// the row has one and the numbers to judge it.
func (x *row) judge() {
	set := func(target string, met bool) { x.Target, x.Met = target, &met }
	switch {
	case x.Name == "b.join_seen_by_all" && (x.N == 8 || x.N == 32):
		if x.RatioP50 != nil {
			set("<= 0.7x Corosync p50", *x.RatioP50 <= 0.7)
		} else {
			x.Target = "<= 0.7x Corosync p50"
		}
	case x.Name == "e.sigkill_seen_by_all" && x.N == 8:
		if x.RatioP50 != nil {
			set("<= 0.3x Corosync p50", *x.RatioP50 <= 0.3)
		} else {
			x.Target = "<= 0.3x Corosync p50"
		}
	case x.Name == "d.protocols_per_s":
		if x.RatioOps != nil {
			set(">= 1.0x Corosync", *x.RatioOps >= 1.0)
		} else {
			x.Target = ">= 1.0x Corosync"
		}
	case x.Name == "c.nphase" && x.N == 8 && x.Phases != nil && *x.Phases == 1:
		if x.HagsP50 != nil {
			set("<= 300 us p50", *x.HagsP50 <= 300)
		}
	case x.Name == "f.node_death_seen_by_survivors":
		if x.HagsP50 != nil {
			set("<= 1 s median (hags)", *x.HagsP50 <= 1e6)
		}
	case x.Nodes == rmNodes:
		x.judgeRM()
	case x.Name == "g.rss_per_provider":
		if x.HagsBytes != nil {
			set("<= 1024 bytes", *x.HagsBytes <= 1024)
		}
	case x.Name == "g.rss_per_group":
		if x.HagsBytes != nil {
			set("<= 4096 bytes", *x.HagsBytes <= 4096)
		}
	}
}

// judgeRM sets the failover issues' targets: absolute ones for hags alone
// (exec resources), ratios to Pacemaker in the same run.
func (x *row) judgeRM() {
	set := func(target string, met bool) { x.Target, x.Met = target, &met }
	abs := func(target string, limitUs float64) {
		if x.HagsP50 != nil {
			set(target, *x.HagsP50 <= limitUs)
		} else {
			x.Target = target
		}
	}
	ratio := func(target string, limit float64) {
		if x.RatioP50 != nil {
			set(target, *x.RatioP50 <= limit)
		} else {
			x.Target = target
		}
	}
	const mib = 1 << 20
	switch x.Name {
	case "m.exec_move":
		abs("<= 50 ms p50", 50e3)
	case "r.exec_kill_after_delay":
		abs("<= 50 ms p50 after the restart delay", 50e3)
	case "n.exec_node_death":
		abs("<= 2 s median", 2e6)
	case "s.exec.apply_returned":
		abs("<= 10 s", 10e6)
	case "s.exec.hagsrmd_rss_max", "s.hagsrmd_rss_max":
		if x.HagsBytes != nil {
			set("<= 64 MiB per hagsrmd", *x.HagsBytes <= 64*mib)
		}
	case "m.move", "o.online":
		ratio("<= 0.2x Pacemaker p50", 0.2)
	case "r.dummy_state_removed":
		ratio("<= 0.5x Pacemaker p50", 0.5)
	case "n.node_death":
		ratio("<= 0.3x Pacemaker p50", 0.3)
	case "start.cluster_start":
		ratio("<= 0.1x Pacemaker p50", 0.1)
	case "s.all_started":
		ratio("< 1.0x Pacemaker", 0.999)
	case "idle.rss_per_node":
		if x.RatioBytes != nil {
			set("<= 0.25x Pacemaker", *x.RatioBytes <= 0.25)
		}
	case "p.partition_takeover":
		if x.HagsTwoOwners != nil {
			set("never two owners (hags)", *x.HagsTwoOwners == 0)
		}
	}
}

// write saves latest.json, latest.txt and the plots in dir.
func (r *report) write(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "latest.json"), append(b, '\n'), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "latest.txt"), []byte(r.table()), 0o644); err != nil {
		return err
	}
	return r.plots(dir)
}

func fmtUs(v *float64) string {
	switch {
	case v == nil:
		return "-"
	case *v >= 1e6:
		return fmt.Sprintf("%.2f s", *v/1e6)
	case *v >= 1e4:
		return fmt.Sprintf("%.1f ms", *v/1e3)
	}
	return fmt.Sprintf("%.0f µs", *v)
}

func fmtF(v *float64, unit string) string {
	if v == nil {
		return "-"
	}
	return fmt.Sprintf("%.0f %s", *v, unit)
}

func fmtMiB(v *float64) string {
	if v == nil {
		return "-"
	}
	return fmt.Sprintf("%.1f MiB", *v/(1<<20))
}

func fmtCount(v *int) string {
	if v == nil {
		return "-"
	}
	return fmt.Sprint(*v)
}

func fmtFloat(v *float64, prec int) string {
	if v == nil {
		return "-"
	}
	return fmt.Sprintf("%.*f", prec, *v)
}

func fmtRatio(v *float64) string {
	if v == nil {
		return "-"
	}
	return fmt.Sprintf("%.2f", *v)
}

// table renders the results as text: latencies, throughput, the C
// library against gsapi, memory, then the notes.
func (r *report) table() string {
	var b bytes.Buffer
	m := r.Machine
	fmt.Fprintf(&b, "hagsbench (%s): %s, %d cores, %d MiB, Linux %s, %s", m.Mode, m.CPU, m.Cores, m.MemoryMiB, m.Kernel, m.GoVersion)
	if m.Corosync != "" {
		fmt.Fprintf(&b, ", %s", m.Corosync)
	}
	if m.Pacemaker != "" {
		fmt.Fprintf(&b, ", %s", m.Pacemaker)
	}
	fmt.Fprintf(&b, "\nload average before: %s; after: %s; %d s\n", m.LoadBefore, m.LoadAfter, m.Seconds)
	met := func(x *row) string {
		if x.Met == nil {
			return ""
		}
		return map[bool]string{true: "yes", false: "NO"}[*x.Met]
	}
	section := func(title, header string, rows func(w io.Writer) bool) {
		var sb bytes.Buffer
		w := tabwriter.NewWriter(&sb, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(w, header)
		if rows(w) {
			_ = w.Flush()
			fmt.Fprintf(&b, "\n%s\n%s", title, sb.String())
		}
	}
	section("Latency: p50 and p99 (hags / Corosync = ratio of the p50s)",
		"scenario\tn\tphases\thags p50\thags p99\tcorosync p50\tcorosync p99\thags/corosync\ttarget\tmet\t",
		func(w io.Writer) bool {
			some := false
			for _, x := range r.Scenarios {
				if x.Unit != "us" || x.Name == "h.join_self" || x.Nodes == rmNodes {
					continue
				}
				some = true
				ph := ""
				if x.Phases != nil {
					ph = fmt.Sprint(*x.Phases)
				}
				fmt.Fprintf(w, "%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", x.Name, x.N, ph,
					fmtUs(x.HagsP50), fmtUs(x.HagsP99), fmtUs(x.CorosyncP50), fmtUs(x.CorosyncP99), fmtRatio(x.RatioP50), x.Target, met(x))
			}
			return some
		})
	section("Throughput: median of the runs (hags one-phase protocols, Corosync agreed multicasts)",
		"scenario\tgroups\thags\tcorosync\thags/corosync\ttarget\tmet\t",
		func(w io.Writer) bool {
			some := false
			for _, x := range r.Scenarios {
				if x.Unit != "ops/s" {
					continue
				}
				some = true
				fmt.Fprintf(w, "%s\t%d\t%s\t%s\t%s\t%s\t%s\t\n", x.Name, x.N,
					fmtF(x.HagsOps, "/s"), fmtF(x.CorosyncOps, "/s"), fmtRatio(x.RatioOps), x.Target, met(x))
			}
			return some
		})
	section("The C library against gsapi: join latency, one other provider (ratio libha_gs / gsapi)",
		"scenario\tn\tlibha_gs p50\tlibha_gs p99\tgsapi p50\tgsapi p99\tlibha_gs/gsapi\t",
		func(w io.Writer) bool {
			some := false
			for _, x := range r.Scenarios {
				if x.Name != "h.join_self" {
					continue
				}
				some = true
				fmt.Fprintf(w, "%s\t%d\t%s\t%s\t%s\t%s\t%s\t\n", x.Name, x.N,
					fmtUs(x.HagsP50), fmtUs(x.HagsP99), fmtUs(x.GsapiP50), fmtUs(x.GsapiP99), fmtRatio(x.RatioP50))
			}
			return some
		})
	section("Profile guard: the daemons' wake-ups (voluntary context switches) and hags's heap allocations per client request",
		"scenario\tn\thags wake-ups\thags allocations\tcorosync wake-ups\t",
		func(w io.Writer) bool {
			some := false
			for _, x := range r.Scenarios {
				if x.HagsWakeupsPerReq == nil && x.CorosyncWakeupsPerReq == nil {
					continue
				}
				some = true
				fmt.Fprintf(w, "%s\t%d\t%s\t%s\t%s\t\n", x.Name, x.N, fmtFloat(x.HagsWakeupsPerReq, 2),
					fmtFloat(x.HagsAllocsPerReq, 1), fmtFloat(x.CorosyncWakeupsPerReq, 2))
			}
			return some
		})
	section("Memory: growth of hagsd's resident set, at rest and right after the joins",
		"scenario\tn\tat rest\tafter the joins\ttarget\tmet\t",
		func(w io.Writer) bool {
			some := false
			for _, x := range r.Scenarios {
				if x.Unit != "bytes" || x.Nodes == rmNodes {
					continue
				}
				some = true
				fmt.Fprintf(w, "%s\t%d\t%s\t%s\t%s\t%s\t\n", x.Name, x.N, fmtF(x.HagsBytes, "B"), fmtF(x.HagsBytesBusy, "B"), x.Target, met(x))
			}
			return some
		})
	section("Failover manager, 3 nodes: p50 and p99 (ratio hags / Pacemaker); memory per node",
		"scenario\thags p50\thags p99\tpacemaker p50\tpacemaker p99\thags/pacemaker\ttarget\tmet\t",
		func(w io.Writer) bool {
			some := false
			for _, x := range r.Scenarios {
				if x.Nodes != rmNodes {
					continue
				}
				some = true
				if x.Unit == "bytes" {
					fmt.Fprintf(w, "%s\t%s\t\t%s\t\t%s\t%s\t%s\t\n", x.Name, fmtMiB(x.HagsBytes), fmtMiB(x.PacemakerBytes),
						fmtRatio(x.RatioBytes), x.Target, met(x))
					continue
				}
				name := x.Name
				if x.HagsTwoOwners != nil || x.PacemakerTwoOwners != nil {
					name += fmt.Sprintf(" (two owners: hags %s, pacemaker %s)", fmtCount(x.HagsTwoOwners), fmtCount(x.PacemakerTwoOwners))
				}
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", name,
					fmtUs(x.HagsP50), fmtUs(x.HagsP99), fmtUs(x.PacemakerP50), fmtUs(x.PacemakerP99), fmtRatio(x.RatioP50), x.Target, met(x))
			}
			return some
		})
	section("Soak: a 3-node domain with both CPUs saturated",
		"scenario\tnodes\tcount\ttarget\tmet\t",
		func(w io.Writer) bool {
			some := false
			for _, x := range r.Scenarios {
				if x.Unit != "count" {
					continue
				}
				some = true
				fmt.Fprintf(w, "%s\t%d\t%s\t%s\t%s\t\n", x.Name, x.N, fmtF(x.HagsCount, ""), x.Target, met(x))
			}
			return some
		})
	for _, n := range r.Notes {
		fmt.Fprintf(&b, "\nnote: %s", n)
	}
	if len(r.Notes) > 0 {
		b.WriteString("\n")
	}
	return b.String()
}

func firstLine(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(strings.SplitN(string(b), "\n", 2)[0])
}

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}

func memTotalMiB() int64 {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && f[0] == "MemTotal:" {
			var kb int64
			_, _ = fmt.Sscan(f[1], &kb)
			return kb / 1024
		}
	}
	return 0
}

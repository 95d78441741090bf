package main

import (
	"fmt"
	"math"
	"path/filepath"
	"slices"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// series is one line of a plot.
type series struct {
	label  string
	pts    plotter.XYs
	dashed bool
}

// plots draws the PNG files: latency against N for both systems for (a),
// (b) and (e), n-phase latency against providers for (c), and protocols
// per second against groups for (d).
func (r *report) plots(dir string) error {
	lat := func(name, title, file string) error {
		var ss []series
		for i, sys := range []string{"hags", "corosync"} {
			var p50, p99 plotter.XYs
			for _, x := range r.Scenarios {
				if x.Name != name {
					continue
				}
				a, b := x.HagsP50, x.HagsP99
				if i == 1 {
					a, b = x.CorosyncP50, x.CorosyncP99
				}
				if a != nil && b != nil {
					p50 = append(p50, plotter.XY{X: float64(x.N), Y: *a})
					p99 = append(p99, plotter.XY{X: float64(x.N), Y: *b})
				}
			}
			if len(p50) > 0 {
				ss = append(ss, series{label: sys + " p50", pts: p50}, series{label: sys + " p99", pts: p99, dashed: true})
			}
		}
		return drawPlot(filepath.Join(dir, file), title, "N (existing providers / members)", "latency (µs)", ss, true)
	}
	if err := lat("a.join_self", "(a) join: call to the joiner's own approval", "a_join_self.png"); err != nil {
		return err
	}
	if err := lat("b.join_seen_by_all", "(b) one-phase join seen by all N others", "b_join_seen_by_all.png"); err != nil {
		return err
	}
	if err := lat("e.sigkill_seen_by_all", "(e) SIGKILL of a provider seen by all N others", "e_sigkill_seen_by_all.png"); err != nil {
		return err
	}

	// (c): one line per phase count.
	byPhase := map[int]plotter.XYs{}
	for _, x := range r.Scenarios {
		if (x.Name == "c.nphase" || x.Name == "c.onephase") && x.Phases != nil && x.HagsP50 != nil {
			byPhase[*x.Phases] = append(byPhase[*x.Phases], plotter.XY{X: float64(x.N), Y: *x.HagsP50})
		}
	}
	var cs []series
	var keys []int
	for k := range byPhase {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		label := fmt.Sprintf("n-phase, %d phase(s), p50", k)
		if k == 0 {
			label = "one-phase, p50"
		}
		cs = append(cs, series{label: label, pts: byPhase[k]})
	}
	if err := drawPlot(filepath.Join(dir, "c_nphase.png"), "(c) hags state-change protocol: proposal to approval at the last provider",
		"providers", "latency (µs)", cs, true); err != nil {
		return err
	}

	// (d): throughput.
	var ds []series
	for i, sys := range []string{"hags", "corosync"} {
		var pts plotter.XYs
		for _, x := range r.Scenarios {
			if x.Name != "d.protocols_per_s" {
				continue
			}
			v := x.HagsOps
			if i == 1 {
				v = x.CorosyncOps
			}
			if v != nil {
				pts = append(pts, plotter.XY{X: float64(x.N), Y: *v})
			}
		}
		if len(pts) > 0 {
			label := sys + ": one-phase protocols/s"
			if i == 1 {
				label = sys + ": agreed multicasts/s"
			}
			ds = append(ds, series{label: label, pts: pts})
		}
	}
	if err := drawPlot(filepath.Join(dir, "d_protocols_per_s.png"), fmt.Sprintf("(d) closed-loop throughput, groups of %d", fanOut),
		"groups", "completed per second (all groups)", ds, false); err != nil {
		return err
	}
	return r.rmPlots(dir)
}

// drawPlot draws series on log-scaled N (and, when logY, log-scaled Y)
// axes and saves a PNG; with no series it draws nothing.
func drawPlot(path, title, xlabel, ylabel string, ss []series, logY bool) error {
	// Log scales take positive values only.
	var keep []series
	for _, s := range ss {
		s.pts = slices.DeleteFunc(slices.Clone(s.pts), func(p plotter.XY) bool { return p.X <= 0 || p.Y <= 0 })
		if len(s.pts) > 0 {
			keep = append(keep, s)
		}
	}
	ss = keep
	if len(ss) == 0 {
		return nil
	}
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = xlabel
	p.Y.Label.Text = ylabel
	p.X.Scale = plot.LogScale{}
	p.X.Tick.Marker = plot.LogTicks{Prec: -1}
	if logY {
		p.Y.Scale = plot.LogScale{}
		p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
	}
	// A log axis over a single value would be padded down to 0: widen it.
	xmin, xmax, ymin, ymax := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	for _, s := range ss {
		for _, q := range s.pts {
			xmin, xmax = min(xmin, q.X), max(xmax, q.X)
			ymin, ymax = min(ymin, q.Y), max(ymax, q.Y)
		}
	}
	p.X.Min, p.X.Max = xmin/1.5, xmax*1.5
	if logY {
		p.Y.Min, p.Y.Max = ymin/1.5, ymax*1.5
	} else {
		p.Y.Min, p.Y.Max = 0, ymax*1.15
	}
	p.Title.Padding = vg.Points(10)
	p.Legend.Top = true
	p.Legend.Left = true
	p.Legend.XOffs = vg.Points(12)
	p.Legend.YOffs = -vg.Points(6)
	p.Add(plotter.NewGrid())
	for i, s := range ss {
		line, points, err := plotter.NewLinePoints(s.pts)
		if err != nil {
			return fmt.Errorf("plot %s: %w", path, err)
		}
		c := plotutil.Color(i / 2)
		if len(ss) == 1 || !hasDashed(ss) {
			c = plotutil.Color(i)
		}
		line.Color, points.Color = c, c
		points.Shape = draw.CircleGlyph{}
		if s.dashed {
			line.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
		}
		p.Add(line, points)
		p.Legend.Add(s.label, line, points)
	}
	return p.Save(7*vg.Inch, 4.5*vg.Inch, path)
}

func hasDashed(ss []series) bool {
	return slices.ContainsFunc(ss, func(s series) bool { return s.dashed })
}

// rmPlots draws the failover scenarios: p50 (filled) and p99 (hollow) of
// hags and Pacemaker per scenario on a log scale, and the resident set per
// node. Nothing is drawn without failover rows.
func (r *report) rmPlots(dir string) error {
	var lat, mem []*row
	for _, x := range r.Scenarios {
		switch {
		case x.Nodes != rmNodes:
		case x.Unit == "bytes":
			mem = append(mem, x)
		case x.HagsP50 != nil || x.PacemakerP50 != nil:
			lat = append(lat, x)
		}
	}
	if len(lat) > 0 {
		p := plot.New()
		p.Title.Text = "Failover manager, 3 nodes: hags against Pacemaker (filled: p50, hollow: p99)"
		p.Y.Label.Text = "time (ms)"
		p.Y.Scale = plot.LogScale{}
		p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
		var labels []string
		var legended [2]bool
		for i, x := range lat {
			labels = append(labels, x.Name)
			for k, sys := range []struct {
				name     string
				p50, p99 *float64
			}{{"hags", x.HagsP50, x.HagsP99}, {"pacemaker", x.PacemakerP50, x.PacemakerP99}} {
				if sys.p50 == nil || *sys.p50 <= 0 {
					continue
				}
				off := float64(i) - 0.15 + 0.3*float64(k)
				for j, v := range []*float64{sys.p50, sys.p99} {
					s, err := plotter.NewScatter(plotter.XYs{{X: off, Y: *v / 1e3}})
					if err != nil {
						return err
					}
					s.Color = plotutil.Color(k)
					s.Shape = draw.CircleGlyph{}
					if j == 1 {
						s.Shape = draw.RingGlyph{}
					}
					s.Radius = vg.Points(4)
					p.Add(s)
					if j == 0 && !legended[k] {
						legended[k] = true
						p.Legend.Add(sys.name, s)
					}
				}
			}
		}
		p.NominalX(labels...)
		p.X.Tick.Label.Rotation = 0.6
		p.X.Tick.Label.XAlign = draw.XRight
		p.X.Tick.Label.YAlign = draw.YCenter
		p.Add(plotter.NewGrid())
		p.Legend.Top = true
		p.Legend.Left = true
		if err := p.Save(9*vg.Inch, 5.5*vg.Inch, filepath.Join(dir, "rm_latency.png")); err != nil {
			return err
		}
	}
	if len(mem) > 0 {
		p := plot.New()
		p.Title.Text = "Failover manager: resident set per node (hags: hagsd + hagsrmd; Pacemaker: corosync + its daemons)"
		p.Y.Label.Text = "MiB"
		var hv, pv plotter.Values
		var labels []string
		for _, x := range mem {
			labels = append(labels, x.Name)
			h, q := 0.0, 0.0
			if x.HagsBytes != nil {
				h = *x.HagsBytes / (1 << 20)
			}
			if x.PacemakerBytes != nil {
				q = *x.PacemakerBytes / (1 << 20)
			}
			hv, pv = append(hv, h), append(pv, q)
		}
		w := vg.Points(18)
		hb, err := plotter.NewBarChart(hv, w)
		if err != nil {
			return err
		}
		hb.Color, hb.Offset = plotutil.Color(0), -w/2
		pb, err := plotter.NewBarChart(pv, w)
		if err != nil {
			return err
		}
		pb.Color, pb.Offset = plotutil.Color(1), w/2
		p.Add(hb, pb)
		p.Legend.Add("hags", hb)
		p.Legend.Add("pacemaker", pb)
		p.Legend.Top = true
		p.NominalX(labels...)
		if err := p.Save(8*vg.Inch, 4.5*vg.Inch, filepath.Join(dir, "rm_memory.png")); err != nil {
			return err
		}
	}
	return nil
}

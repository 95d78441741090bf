package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/openhags/hags/failover/agent/actlog"
	"github.com/openhags/hags/failover/rmcheck"
)

// rmSizes are the failover scenarios' sample counts.
type rmSizes struct {
	move, online, fail, death, partition, start int
	scaleGroups, scalePer                       int
}

func (c *config) rmSizes() rmSizes {
	if c.quick {
		return rmSizes{move: 10, online: 6, fail: 6, death: 3, partition: 2, start: 1, scaleGroups: 200, scalePer: 10}
	}
	return rmSizes{move: 20, online: 12, fail: 10, death: 5, partition: 3, start: 2, scaleGroups: 200, scalePer: 10}
}

// The benchmark groups: "bm" (one ActLogDummy resource, monitored every
// second, as in the comparison) and, for hags alone, "bx" (one exec
// resource, the failover issue's targets).
var (
	dummyGroup = rmGroup{name: "bm", online: true, resources: []rmResource{{name: "bm-r", monitor: time.Second}}}
	execGroup  = rmGroup{name: "bx", online: true, resources: []rmResource{{name: "bx-r", exec: true}}}
)

// rmRun is one run of the failover scenarios.
type rmRun struct {
	r   *runner
	rep *report
	sz  rmSizes
}

// runFailover runs the failover scenarios: hags alone, or hags and
// Pacemaker alternately.
func (r *runner) runFailover(rep *report, dir string, compare bool) error {
	fr := &rmRun{r: r, rep: rep, sz: r.cfg.rmSizes()}
	var nnH *netns
	nnH, err := newNetns(rmNodes)
	if err != nil {
		r.logf("  no network namespaces (%v): hags on loopback, without the partition scenario", err)
		rep.note("failover: no network namespaces (%v): hags ran on loopback, (p) was not run", err)
		nnH = nil
	} else {
		defer nnH.destroy()
	}
	hdir := filepath.Join(dir, "rm-hags")
	if err := os.MkdirAll(hdir, 0o755); err != nil {
		return err
	}
	hags, err := newHagsRM(r.cfg, nnH, hdir)
	if err != nil {
		return err
	}
	defer hags.close()
	t0 := actlog.Now()
	if err := hags.startAll(); err != nil {
		return fmt.Errorf("hags: %w", err)
	}
	if err := hags.ready(60 * time.Second); err != nil {
		return fmt.Errorf("hags: %w", err)
	}
	r.logf("  hags: 3 hagsd + 3 hagsrmd up in %.1f s", float64(actlog.Now()-t0)/1e9)

	systems := []rmSystem{hags}
	var pcmk *pcmkCluster
	if compare {
		pcmk, err = fr.startPacemaker(dir, 1000)
		if err != nil {
			r.logf("  Pacemaker will not be measured: %v", err)
			rep.note("Pacemaker was not measured: %v", err)
		} else {
			defer func() { pcmk.close(); pcmk.nn.destroy() }()
			systems = append(systems, pcmk)
		}
	}

	var errs []error
	try := func(what string, f func() error) {
		if r.ctx.Err() != nil {
			return
		}
		r.logf("%s", what)
		if err := f(); err != nil {
			if errors.Is(err, errSkipped) {
				r.logf("  skipped: %v", err)
				rep.note("%s skipped: %v", what, err)
				return
			}
			r.logf("  FAILED: %v", err)
			rep.note("%s failed: %v", what, err)
			errs = append(errs, fmt.Errorf("%s: %w", what, err))
		}
	}

	// The targets for hags alone, with an exec resource.
	try("(rm) hags, exec resource: group move, process killed, node death", func() error {
		if err := hags.createGroup(execGroup); err != nil {
			return err
		}
		if err := fr.moveSamples("m.exec_move", []rmSystem{hags}, execGroup, hags.runner, fr.sz.move); err != nil {
			return err
		}
		if err := fr.execKill(hags); err != nil {
			return err
		}
		return fr.deathSamples("n.exec_node_death", []rmSystem{hags}, execGroup, hags.runner, fr.sz.death)
	})
	if !compare {
		try(fmt.Sprintf("(s) hags: %d groups x %d exec resources", fr.sz.scaleGroups, fr.sz.scalePer), func() error {
			return fr.scale("s.exec", []rmSystem{hags}, true)
		})
		return errors.Join(errs...)
	}
	// Take the exec group out of the way of the comparison.
	try("(rm) hags: the exec group offline", func() error {
		from, owner := hags.runner.mark(), hags.runner.owner("bx-r")
		if _, _, err := hags.hagsrm("group", "offline", execGroup.name); err != nil {
			return err
		}
		_, err := hags.runner.wait(from, 30*time.Second, isStop("bx-r", owner, 0))
		return err
	})

	try("(rm) the benchmark group on every system", func() error {
		for _, s := range systems {
			if err := s.createGroup(dummyGroup); err != nil {
				return fmt.Errorf("%s: %w", s.name(), err)
			}
		}
		return nil
	})
	try("(rm) idle memory per node", func() error { return fr.idleMemory(systems) })
	try("(m) move a one-resource group", func() error {
		return fr.moveSamples("m.move", systems, dummyGroup, nil, fr.sz.move)
	})
	try("(o) online a stopped resource", func() error { return fr.onlineSamples(systems) })
	try("(r) resource failure: Dummy's state removed", func() error {
		if err := hags.setProps("bm-r", map[string]string{"restart-delay": "0s"}); err != nil {
			return err
		}
		if err := fr.failSamples("r.dummy_state_removed", systems, fr.sz.fail); err != nil {
			return err
		}
		if err := hags.setProps("bm-r", map[string]string{"restart-delay": "500ms"}); err != nil {
			return err
		}
		return fr.failSamples("r.dummy_state_removed_default_delay", []rmSystem{hags}, fr.sz.fail)
	})
	try("(n) node death, detection 1 s (Pacemaker token 1000; hags: Dummy's stop-timeout 2s)", func() error {
		if err := hags.setProps("bm-r", map[string]string{"stop-timeout": "2s"}); err != nil {
			return err
		}
		return fr.deathSamples("n.node_death_tuned", systems, dummyGroup, nil, fr.sz.death)
	})
	try("(n) node death, hags with a fence command", func() error {
		if err := hags.setFencing(true); err != nil {
			return err
		}
		defer func() { _ = hags.setFencing(false) }()
		return fr.deathSamples("n.node_death_fenced", []rmSystem{hags}, dummyGroup, nil, fr.sz.death)
	})
	try("(p) partition of the owner", func() error {
		if nnH == nil {
			return fmt.Errorf("%w: no network namespaces", errSkipped)
		}
		return fr.partitionSamples(systems)
	})
	try("(n) node death, default settings (hags: Dummy's 20 s stop timeout; Pacemaker: token 3000)", func() error {
		if err := hags.setProps("bm-r", map[string]string{"stop-timeout": "20s"}); err != nil {
			return err
		}
		if pcmk != nil {
			if err := fr.restartPacemaker(pcmk, 3000); err != nil {
				return err
			}
		}
		return fr.deathSamples("n.node_death", systems, dummyGroup, nil, max(2, fr.sz.death-2))
	})
	try("cluster start: every node at once → the group started", func() error { return fr.startSamples(systems) })
	try(fmt.Sprintf("(s) %d groups x %d resources", fr.sz.scaleGroups, fr.sz.scalePer), func() error {
		return fr.scale("s", systems, false)
	})
	return errors.Join(errs...)
}

// startPacemaker makes the network and starts Pacemaker with token.
func (fr *rmRun) startPacemaker(dir string, token int) (*pcmkCluster, error) {
	if err := checkPacemaker(fr.r.cfg); err != nil {
		return nil, err
	}
	nn, err := newNetns(rmNodes)
	if err != nil {
		return nil, err
	}
	pdir := filepath.Join(dir, "rm-pacemaker")
	p, err := newPcmkCluster(fr.r.cfg, nn, pdir, token)
	if err != nil {
		nn.destroy()
		return nil, err
	}
	t0 := actlog.Now()
	if err := p.startAll(); err != nil {
		p.close()
		nn.destroy()
		return nil, err
	}
	if err := p.ready(120 * time.Second); err != nil {
		p.close()
		nn.destroy()
		return nil, err
	}
	if err := p.configure(); err != nil {
		p.close()
		nn.destroy()
		return nil, err
	}
	fr.r.logf("  pacemaker: 3 nodes up in %.1f s", float64(actlog.Now()-t0)/1e9)
	return p, nil
}

// restartPacemaker powers the cluster off and starts it with another
// token (its configuration stays on the nodes' disks).
func (fr *rmRun) restartPacemaker(p *pcmkCluster, token int) error {
	p.powerOff()
	p.token = token
	if err := p.writeConfs(); err != nil {
		return err
	}
	if err := p.startAll(); err != nil {
		return err
	}
	if err := p.ready(120 * time.Second); err != nil {
		return err
	}
	return fr.waitRunning(p, dummyGroup, p.log())
}

// waitRunning waits until g's first resource runs somewhere by the log.
func (fr *rmRun) waitRunning(s rmSystem, g rmGroup, log *actTail) error {
	_, err := log.waitOwner(g.resources[0].name, 120*time.Second)
	return err
}

// rounds runs per(system, samples) alternately: for each round, each
// system with its share of the samples.
func (fr *rmRun) rounds(systems []rmSystem, samples int, per func(s rmSystem, n int) error) error {
	rounds := fr.r.cfg.rounds
	for round := range rounds {
		for _, s := range systems {
			if err := fr.r.ctx.Err(); err != nil {
				return err
			}
			if err := per(s, split(samples, rounds, round)); err != nil {
				return fmt.Errorf("%s: %w", s.name(), err)
			}
		}
	}
	return nil
}

func logOf(s rmSystem, log *actTail) *actTail {
	if log != nil {
		return log
	}
	return s.log()
}

// pause lets a cluster finish what a sample set off (a cleanup's probes,
// a constraint's removal) before the next sample, so that samples do not
// overlap; it is not part of any measurement.
func pause() { time.Sleep(300 * time.Millisecond) }

// moveSamples is (m): the group moves to the next node; the sample is the
// command's start to the end of the resource's start there.
func (fr *rmRun) moveSamples(row string, systems []rmSystem, g rmGroup, log *actTail, samples int) error {
	res := g.resources[0].name
	return fr.rounds(systems, samples, func(s rmSystem, n int) error {
		l := logOf(s, log)
		var out []int64
		defer func() { fr.rep.addRM(row, s.name(), out) }()
		for range n {
			owner, err := l.waitOwner(res, 60*time.Second)
			if err != nil {
				return err
			}
			to := (owner + 1) % rmNodes
			from := l.mark()
			t0, err := s.move(g.name, to)
			if err != nil {
				return err
			}
			rec, err := l.wait(from, 30*time.Second, isStart(res, to, -1, t0))
			if err != nil {
				return fmt.Errorf("move to %s: %w", rmNodeNames[to], err)
			}
			out = append(out, rec.Started()-t0)
			if err := s.settle(g.name, nil); err != nil {
				return err
			}
			pause()
		}
		fr.r.logf("    %s %s: %s", s.name(), row, msList(out))
		return nil
	})
}

// onlineSamples is (o): the resource is taken offline (untimed), then the
// sample is the online command's start to the end of the resource's start.
func (fr *rmRun) onlineSamples(systems []rmSystem) error {
	res := dummyGroup.resources[0].name
	return fr.rounds(systems, fr.sz.online, func(s rmSystem, n int) error {
		l := s.log()
		var out []int64
		defer func() { fr.rep.addRM("o.online", s.name(), out) }()
		for range n {
			owner, err := l.waitOwner(res, 60*time.Second)
			if err != nil {
				return err
			}
			from := l.mark()
			if _, err := s.offline(res); err != nil {
				return err
			}
			if _, err := l.wait(from, 30*time.Second, isStop(res, owner, 0)); err != nil {
				return fmt.Errorf("offline: %w", err)
			}
			pause()
			from = l.mark()
			t0, err := s.online(res)
			if err != nil {
				return err
			}
			rec, err := l.wait(from, 30*time.Second, isStart(res, -1, -1, t0))
			if err != nil {
				return fmt.Errorf("online: %w", err)
			}
			out = append(out, rec.Started()-t0)
			pause()
		}
		fr.r.logf("    %s o.online: %s", s.name(), msList(out))
		return nil
	})
}

// failSamples is (r) with Dummy: its state file on the owner is removed,
// as if the service had died; the sample is the removal to the end of the
// next start (the monitor, every second, finds it not running).
func (fr *rmRun) failSamples(row string, systems []rmSystem, samples int) error {
	res := dummyGroup.resources[0].name
	return fr.rounds(systems, samples, func(s rmSystem, n int) error {
		l := s.log()
		var out []int64
		defer func() { fr.rep.addRM(row, s.name(), out) }()
		for range n {
			owner, err := l.waitOwner(res, 60*time.Second)
			if err != nil {
				return err
			}
			from := l.mark()
			t0 := actlog.Now()
			if err := os.Remove(s.dummyState(owner, res)); err != nil {
				return err
			}
			rec, err := l.wait(from, 60*time.Second, isStart(res, -1, -1, t0))
			if err != nil {
				return fmt.Errorf("restart: %w", err)
			}
			if nodeIndex(rec.Node) != owner {
				fr.rep.note("%s %s: the resource came back on %s, not on %s", s.name(), row, rec.Node, rmNodeNames[owner])
			}
			out = append(out, rec.Started()-t0)
			pause()
			if err := s.settle(dummyGroup.name, []string{res}); err != nil {
				return err
			}
			pause()
		}
		fr.r.logf("    %s %s: %s", s.name(), row, msList(out))
		return nil
	})
}

// execKill is (r) for an exec resource (hags alone): its process is
// killed; the sample is the kill to the end of the restart, and the same
// less the restart delay (500 ms by default).
func (fr *rmRun) execKill(h *hagsRM) error {
	res := execGroup.resources[0].name
	var raw, after []int64
	defer func() {
		fr.rep.addRM("r.exec_kill", "hags", raw)
		fr.rep.addRM("r.exec_kill_after_delay", "hags", after)
	}()
	for range fr.sz.fail {
		pid, err := findCommand(execCommand(res))
		if err != nil {
			return err
		}
		from := h.runner.mark()
		t0 := actlog.Now()
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
			return err
		}
		rec, err := h.runner.wait(from, 30*time.Second, isStart(res, -1, -1, t0))
		if err != nil {
			return fmt.Errorf("restart: %w", err)
		}
		raw = append(raw, rec.Started()-t0)
		after = append(after, rec.Started()-t0-int64(500*time.Millisecond))
		pause()
		if err := h.settle(execGroup.name, []string{res}); err != nil {
			return err
		}
		pause()
	}
	fr.r.logf("    hags r.exec_kill: %s", msList(raw))
	return nil
}

// findCommand returns the process whose command line is cmd.
func findCommand(cmd string) (int, error) {
	want := strings.ReplaceAll(cmd, " ", "\x00")
	var found int
	err := retryUntil(10*time.Second, 10*time.Millisecond, func() error {
		ents, err := os.ReadDir("/proc")
		if err != nil {
			return err
		}
		for _, e := range ents {
			var pid int
			if _, err := fmt.Sscan(e.Name(), &pid); err != nil {
				continue
			}
			b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
			if err == nil && strings.TrimRight(string(b), "\x00") == want {
				found = pid
				return nil
			}
		}
		return fmt.Errorf("no process %q", cmd)
	})
	return found, err
}

// deathSamples is (n): the owner's whole stack is killed; the sample is
// the kill to the end of the start on a survivor. The node then starts
// again and the next sample waits for it.
func (fr *rmRun) deathSamples(row string, systems []rmSystem, g rmGroup, log *actTail, samples int) error {
	res := g.resources[0].name
	return fr.rounds(systems, samples, func(s rmSystem, n int) error {
		l := logOf(s, log)
		var out []int64
		defer func() { fr.rep.addRM(row, s.name(), out) }()
		for range n {
			owner, err := l.waitOwner(res, 60*time.Second)
			if err != nil {
				return err
			}
			if h, ok := s.(*hagsRM); ok {
				for i := range rmNodes {
					_ = h.writePids(i)
				}
			}
			from := l.mark()
			t0 := actlog.Now()
			if err := s.killNode(owner); err != nil {
				return err
			}
			rec, err := l.wait(from, 90*time.Second, isStart(res, -1, owner, t0))
			if err != nil {
				return fmt.Errorf("takeover after %s died: %w", rmNodeNames[owner], err)
			}
			out = append(out, rec.Started()-t0)
			fr.r.logf("    %s %s: %s died, %s started on %s after %.0f ms", s.name(), row, rmNodeNames[owner], res, rec.Node,
				float64(rec.Started()-t0)/1e6)
			if err := s.startNode(owner); err != nil {
				return err
			}
			if err := s.ready(120 * time.Second); err != nil {
				return err
			}
			if err := s.settle(g.name, []string{res}); err != nil {
				return err
			}
			pause()
		}
		return nil
	})
}

// partitionSamples is (p): the owner's link goes down; the sample is the
// cut to the end of the start on the majority. Then the action log is
// judged: did the cut-off node stop its copy before the majority started
// one (rmcheck finds no overlap)? The cut-off node is then powered off,
// its link restored, and it starts again.
func (fr *rmRun) partitionSamples(systems []rmSystem) error {
	res := dummyGroup.resources[0].name
	groupOf := map[string]string{res: dummyGroup.name}
	return fr.rounds(systems, fr.sz.partition, func(s rmSystem, n int) error {
		l := s.log()
		var out []int64
		twice := 0
		defer func() { fr.rep.addPartition(s.name(), out, twice, n) }()
		for range n {
			owner, err := l.waitOwner(res, 60*time.Second)
			if err != nil {
				return err
			}
			before := len(rmcheck.Overlaps(l.records(), groupOf))
			from := l.mark()
			t0 := actlog.Now()
			if err := s.cut(owner); err != nil {
				return err
			}
			rec, err := l.wait(from, 90*time.Second, isStart(res, -1, owner, t0))
			if err != nil {
				_ = s.heal(owner)
				return fmt.Errorf("takeover from the cut-off %s: %w", rmNodeNames[owner], err)
			}
			out = append(out, rec.Started()-t0)
			// Give the cut-off side time to act on its own (it may stop its
			// copy late, or never).
			stop, serr := l.wait(from, 15*time.Second, isStop(res, owner, t0))
			what := "never stopped its copy while cut off"
			if serr == nil {
				what = fmt.Sprintf("stopped its copy %+.0f ms from the majority's start", float64(stop.Mono-rec.Mono)/1e6)
			}
			if err := s.killNode(owner); err != nil {
				return err
			}
			vs := rmcheck.Overlaps(l.records(), groupOf)
			if len(vs) > before {
				twice++
				fr.rep.note("(p) %s: TWO OWNERS: %s", s.name(), rmcheck.Report(vs[before:]))
			}
			fr.r.logf("    %s p: %s cut off, %s started on %s after %.0f ms; the cut-off node %s", s.name(), rmNodeNames[owner],
				res, rec.Node, float64(rec.Started()-t0)/1e6, what)
			fr.rep.note("(p) %s: %s cut off; started on %s after %.0f ms; the cut-off node %s", s.name(), rmNodeNames[owner],
				rec.Node, float64(rec.Started()-t0)/1e6, what)
			if err := s.heal(owner); err != nil {
				return err
			}
			if err := s.startNode(owner); err != nil {
				return err
			}
			if err := s.ready(120 * time.Second); err != nil {
				return err
			}
			if err := s.settle(dummyGroup.name, []string{res}); err != nil {
				return err
			}
			pause()
		}
		return nil
	})
}

// startSamples is the cluster start: every node is powered off, then all
// start at once; the sample is the start of the first process to the end
// of the group's resource's start.
func (fr *rmRun) startSamples(systems []rmSystem) error {
	res := dummyGroup.resources[0].name
	return fr.rounds(systems, fr.sz.start, func(s rmSystem, n int) error {
		l := s.log()
		var out []int64
		defer func() { fr.rep.addRM("start.cluster_start", s.name(), out) }()
		for range n {
			s.powerOff()
			from := l.mark()
			t0 := actlog.Now()
			if err := s.startAll(); err != nil {
				return err
			}
			rec, err := l.wait(from, 180*time.Second, isStart(res, -1, -1, t0))
			if err != nil {
				return fmt.Errorf("group start: %w", err)
			}
			out = append(out, rec.Started()-t0)
			fr.r.logf("    %s cluster start: %s started on %s after %.1f s", s.name(), res, rec.Node, float64(rec.Started()-t0)/1e9)
			if err := s.ready(120 * time.Second); err != nil {
				return err
			}
		}
		return nil
	})
}

// idleMemory reads every node's resident set once the clusters have
// idled (hagsd returns free memory after 5 s idle).
func (fr *rmRun) idleMemory(systems []rmSystem) error {
	time.Sleep(8 * time.Second) // let both clusters go idle: this is what is measured
	for _, s := range systems {
		per, detail, err := nodesRSS(s)
		if err != nil {
			return fmt.Errorf("%s: %w", s.name(), err)
		}
		fr.rep.addRMMemory("idle.rss_per_node", s.name(), per, detail)
	}
	return nil
}

// nodesRSS is the mean over the nodes of each node's stack's resident
// set, and the programs' shares (means over the nodes).
func nodesRSS(s rmSystem) (int64, string, error) {
	var total int64
	byName := map[string]int64{}
	for i := range rmNodes {
		m, err := s.rss(i)
		if err != nil {
			return 0, "", err
		}
		total += sumRSS(m)
		for k, v := range m {
			byName[k] += v
		}
	}
	var parts []string
	for k, v := range byName {
		parts = append(parts, fmt.Sprintf("%s %.1f MiB", k, float64(v)/rmNodes/(1<<20)))
	}
	sort.Strings(parts)
	return total / rmNodes, strings.Join(parts, ", "), nil
}

// scaleLimit bounds how long (s) waits for every resource to start.
const scaleLimit = 15 * time.Minute

// scale is (s): groups × resources added in one configuration change,
// all online; the samples are the command's return and the last
// resource's start, then the resident sets per node.
func (fr *rmRun) scale(prefix string, systems []rmSystem, exec bool) error {
	var groups []rmGroup
	total := fr.sz.scaleGroups * fr.sz.scalePer
	for g := range fr.sz.scaleGroups {
		grp := rmGroup{name: fmt.Sprintf("s%03d", g), online: true}
		for k := range fr.sz.scalePer {
			grp.resources = append(grp.resources, rmResource{name: fmt.Sprintf("s%03d-%d", g, k), exec: exec})
		}
		groups = append(groups, grp)
	}
	for _, s := range systems {
		l := s.log()
		if h, ok := s.(*hagsRM); ok && exec {
			l = h.runner
		}
		from := l.mark()
		t0, returned, err := s.applyScale(groups)
		if err != nil {
			return fmt.Errorf("%s: %w", s.name(), err)
		}
		recs, err := l.waitCount(from, total, scaleLimit, func(r actlog.Record) bool {
			return r.Op == actlog.OpStart && r.OK && r.Mono >= t0 && strings.HasPrefix(r.Resource, "s")
		})
		var last int64
		switch {
		case errors.Is(err, errWaitTimeout):
			// A system that has not started them all within the limit
			// is a result, not a broken run: its time is recorded as
			// the limit, a lower bound, and the note says how far it got.
			last = t0 + int64(scaleLimit)
			fr.rep.note("(s) %s: %d of %d resources started within %v; %s.all_started is recorded as %v, a lower bound",
				s.name(), len(recs), total, scaleLimit, prefix, scaleLimit)
		case err != nil:
			return fmt.Errorf("%s: %w", s.name(), err)
		default:
			for _, r := range recs {
				last = max(last, r.Started())
			}
		}
		fr.rep.addRM(prefix+".apply_returned", s.name(), []int64{returned - t0})
		fr.rep.addRM(prefix+".all_started", s.name(), []int64{last - t0})
		fr.r.logf("    %s %s: apply returned after %.2f s, %d resources started after %.1f s", s.name(), prefix,
			float64(returned-t0)/1e9, total, float64(last-t0)/1e9)
		time.Sleep(8 * time.Second) // idle, as for the idle memory: this is what is measured
		per, detail, err := nodesRSS(s)
		if err != nil {
			return err
		}
		fr.rep.addRMMemory(prefix+".rss_per_node", s.name(), per, detail)
		if h, ok := s.(*hagsRM); ok {
			var worst int64
			for i := range rmNodes {
				m, err := h.rss(i)
				if err != nil {
					return err
				}
				worst = max(worst, m["hagsrmd"])
			}
			fr.rep.addRMMemory(prefix+".hagsrmd_rss_max", s.name(), worst, "the largest hagsrmd of the three")
		}
	}
	return nil
}

// msList prints samples in milliseconds.
func msList(ns []int64) string {
	var b strings.Builder
	for i, v := range ns {
		if i > 0 {
			b.WriteString(" ")
		}
		fmt.Fprintf(&b, "%.0f", float64(v)/1e6)
	}
	return b.String() + " ms"
}

package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/openhags/hags/daemon"
)

// runner runs scenarios against systems; every client event of the run
// arrives on one hub.
type runner struct {
	ctx     context.Context
	cfg     *config
	h       *hub
	timeout time.Duration // for one expected set of events
	logf    func(format string, args ...any)
	// guard is the profile guard's counts of the last joinSeen or
	// throughput, nil when the system's counters could not be read.
	guard *guard
}

func isMem(sub string) func(event) bool {
	return func(ev event) bool { return ev.kind == "mem" && ev.sub == sub }
}

// join has p's slot join group and waits for its own approval.
func (r *runner) join(p *proc, slot int, group string, inst int) error {
	if err := p.send("join %d %s %d", slot, group, inst); err != nil {
		return err
	}
	_, err := r.h.collect(r.timeout, 1, func(ev event) bool {
		return ev.proc == p && ev.slot == slot && ev.group == group && isMem("self")(ev)
	})
	if err != nil {
		return fmt.Errorf("%s joining %s: %w", p.name, group, err)
	}
	return nil
}

// joinMember is one membership to create.
type joinMember struct {
	p    *proc
	slot int
	inst int
}

// joinAll sends every join at once and waits for every joiner's approval.
func (r *runner) joinAll(group func(i int) string, ms []joinMember) error {
	want := map[string]bool{}
	key := func(p *proc, slot int, g string) string { return fmt.Sprintf("%p/%d/%s", p, slot, g) }
	for i, m := range ms {
		g := group(i)
		want[key(m.p, m.slot, g)] = true
		if err := m.p.send("join %d %s %d", m.slot, g, m.inst); err != nil {
			return err
		}
	}
	_, err := r.h.collect(r.timeout+time.Duration(len(ms))*5*time.Millisecond, len(ms), func(ev event) bool {
		return isMem("self")(ev) && want[key(ev.proc, ev.slot, ev.group)]
	})
	return err
}

// spawnN starts n client processes of sys.
func (r *runner) spawnN(sys system, tag string, n int) (procSet, error) {
	var ps procSet
	for i := range n {
		p, err := sys.spawn(r.h, fmt.Sprintf("%s-%s-%d", sys.name(), tag, i))
		if err != nil {
			ps.stop()
			return nil, err
		}
		ps = append(ps, p)
	}
	return ps, nil
}

// joinSeen is scenarios (a) and (b): n providers are in a group, one more
// joins; self is the time from its join call to its own approval, all the
// time to the approval at the last of the n others. The joiner then says
// goodbye, and the next sample begins when all n have seen it leave.
func (r *runner) joinSeen(sys system, n, samples int) (self, all []int64, err error) {
	group := uniq(fmt.Sprintf("b%d", n))
	ps, err := r.spawnN(sys, fmt.Sprintf("b%d", n), n+1)
	if err != nil {
		return nil, nil, err
	}
	defer ps.stop()
	members, joiner := ps[:n], ps[n]
	for i, p := range members {
		if err := r.join(p, 0, group, i+1); err != nil {
			return nil, nil, err
		}
	}
	r.h.drain()
	r.guard = nil
	g, ok, err := measured(sys, func() (int64, error) {
		self, all, err = r.joinSamples(group, members, joiner, samples)
		return 2 * int64(len(self)), err // a join and a goodbye each
	})
	if ok {
		r.guard = &g
	}
	return self, all, err
}

// joinSamples takes joinSeen's samples.
func (r *runner) joinSamples(group string, members procSet, joiner *proc, samples int) (self, all []int64, err error) {
	n := len(members)
	for range samples {
		if err := r.ctx.Err(); err != nil {
			return self, all, err
		}
		if err := joiner.send("join 0 %s %d", group, n+1); err != nil {
			return self, all, err
		}
		evs, err := r.h.collect(r.timeout, n+2, func(ev event) bool {
			if ev.group != group {
				return false
			}
			if ev.proc == joiner {
				return ev.kind == "call" || isMem("self")(ev)
			}
			return isMem("join")(ev) && ev.count == int64(n+1)
		})
		if err != nil {
			return self, all, fmt.Errorf("join seen by %d: %w", n, err)
		}
		var call, mine, last int64
		for _, ev := range evs {
			switch {
			case ev.kind == "call":
				call = ev.t
			case ev.proc == joiner:
				mine = ev.t
			default:
				last = max(last, ev.t)
			}
		}
		self = append(self, mine-call)
		if n > 0 {
			all = append(all, last-call)
		}
		if err := joiner.send("goodbye 0 %s", group); err != nil {
			return self, all, err
		}
		if _, err := r.h.collect(r.timeout, n, func(ev event) bool {
			return ev.group == group && ev.proc != joiner && isMem("left")(ev) && ev.count == int64(n)
		}); err != nil {
			return self, all, fmt.Errorf("leave seen by %d: %w", n, err)
		}
	}
	return self, all, nil
}

// killSeen is scenario (e): n providers and a victim are in a group; the
// victim process is killed with SIGKILL, and the sample is the time from
// the kill to the failure notification at the last of the n others. It
// also returns how that time divides: from the kill until the kernel has
// closed the victim's descriptors (its end of the daemon's socket, and of
// the pipe to this process, close together), and from then on.
func (r *runner) killSeen(sys system, n, samples int) (total, exit, after []int64, err error) {
	group := uniq(fmt.Sprintf("e%d", n))
	members, err := r.spawnN(sys, fmt.Sprintf("e%d", n), n)
	if err != nil {
		return nil, nil, nil, err
	}
	defer members.stop()
	for i, p := range members {
		if err := r.join(p, 0, group, i+1); err != nil {
			return nil, nil, nil, err
		}
	}
	for s := range samples {
		if err := r.ctx.Err(); err != nil {
			return total, exit, after, err
		}
		victim, err := sys.spawn(r.h, fmt.Sprintf("%s-e%d-victim%d", sys.name(), n, s))
		if err != nil {
			return total, exit, after, err
		}
		if err := victim.send("join 0 %s %d", group, n+1); err != nil {
			victim.kill()
			return total, exit, after, err
		}
		if _, err := r.h.collect(r.timeout, n+1, func(ev event) bool {
			if ev.group != group {
				return false
			}
			if ev.proc == victim {
				return isMem("self")(ev)
			}
			return isMem("join")(ev) && ev.count == int64(n+1)
		}); err != nil {
			victim.kill()
			return total, exit, after, fmt.Errorf("victim's join: %w", err)
		}
		t0 := monoNow()
		victim.kill()
		evs, err := r.h.collect(r.timeout, n, func(ev event) bool {
			return ev.group == group && isMem("failed")(ev) && ev.count == int64(n)
		})
		if err != nil {
			return total, exit, after, fmt.Errorf("failure seen by %d: %w", n, err)
		}
		var last int64
		for _, ev := range evs {
			last = max(last, ev.t)
		}
		total = append(total, last-t0)
		// eofAt is when this process saw the victim's output close: at
		// the kernel's close or a little later. A sample where it saw it
		// only after the last notification is not split.
		if victim.eofAt > t0 && victim.eofAt <= last {
			exit = append(exit, victim.eofAt-t0)
			after = append(after, last-victim.eofAt)
		}
	}
	return total, exit, after, nil
}

// fanOut is the number of providers per group in scenario (d).
const fanOut = 8

// throughput is scenario (d): groups of fanOut providers (fanOut
// processes, each a provider of every group); in each group one provider
// runs a closed loop of one-phase protocols (a provider message; for
// Corosync an agreed multicast) for the given time: it proposes the next
// when its own approval (delivery) of the last arrives. The result is the
// sum over the proposers of protocols completed per second.
func (r *runner) throughput(sys system, groups int, d time.Duration) (float64, error) {
	ps, err := r.spawnN(sys, fmt.Sprintf("d%d", groups), fanOut)
	if err != nil {
		return 0, err
	}
	defer ps.stop()
	prefix := uniq(fmt.Sprintf("d%d", groups))
	name := func(g int) string { return fmt.Sprintf("%s-g%d", prefix, g) }
	var ms []joinMember
	var names []string
	for g := range groups {
		for i, p := range ps {
			ms = append(ms, joinMember{p: p, slot: 0, inst: i + 1})
			names = append(names, name(g))
		}
	}
	if err := r.joinAll(func(i int) string { return names[i] }, ms); err != nil {
		return 0, fmt.Errorf("joins: %w", err)
	}
	r.h.drain()
	run := func(d time.Duration) (float64, int64, error) {
		active := 0
		for i, p := range ps {
			var mine []string
			for g := i; g < groups; g += fanOut {
				mine = append(mine, name(g))
			}
			if len(mine) == 0 {
				continue
			}
			active++
			if err := p.send("loop %d 0 %s", d.Milliseconds(), strings.Join(mine, " ")); err != nil {
				return 0, 0, err
			}
		}
		evs, err := r.h.collect(d+r.timeout, active, func(ev event) bool { return ev.kind == "count" })
		if err != nil {
			return 0, 0, err
		}
		var rate float64
		var done int64
		for _, ev := range evs {
			done += ev.count
			if ev.t > 0 {
				rate += float64(ev.count) / (float64(ev.t) / 1e9)
			}
		}
		return rate, done, nil
	}
	if _, _, err := run(d / 5); err != nil { // warm up
		return 0, fmt.Errorf("warm-up loop: %w", err)
	}
	var rate float64
	r.guard = nil
	g, ok, err := measured(sys, func() (int64, error) {
		var done int64
		var err error
		rate, done, err = run(d)
		return done, err
	})
	if ok {
		r.guard = &g
	}
	return rate, err
}

// nphase is scenario (c): providers in one group, spread over up to 8
// processes (several sessions per process beyond 8); one provider proposes
// a state change, every provider votes continue until the last phase and
// then approve. A sample is the time from the proposal to the approval at
// the last provider. Phases 0 is a one-phase proposal, for reference.
func (r *runner) nphase(sys system, providers int, phases []int, samples int) (map[int][]int64, error) {
	return r.nphaseIn(sys, providers, min(providers, 8), phases, samples)
}

// nphaseIn is nphase with the providers spread over nproc processes (one
// process: the daemon's part without the cost of waking many processes).
func (r *runner) nphaseIn(sys system, providers, nproc int, phases []int, samples int) (map[int][]int64, error) {
	ps, err := r.spawnN(sys, fmt.Sprintf("c%d", providers), nproc)
	if err != nil {
		return nil, err
	}
	defer ps.stop()
	group := uniq(fmt.Sprintf("c%d", providers))
	var ms []joinMember
	for i := range providers {
		ms = append(ms, joinMember{p: ps[i%nproc], slot: i / nproc, inst: i + 1})
	}
	if err := r.joinAll(func(int) string { return group }, ms); err != nil {
		return nil, fmt.Errorf("joins: %w", err)
	}
	r.h.drain()
	out := map[int][]int64{}
	for _, k := range phases {
		for range samples {
			if err := r.ctx.Err(); err != nil {
				return out, err
			}
			if err := ps[0].send("propose 0 %s %d", group, k); err != nil {
				return out, err
			}
			evs, err := r.h.collect(r.timeout, providers+1, func(ev event) bool {
				return ev.group == group && (ev.kind == "state" || (ev.kind == "call" && ev.proc == ps[0]))
			})
			if err != nil {
				return out, fmt.Errorf("%d-phase protocol with %d providers: %w", k, providers, err)
			}
			var call, last int64
			for _, ev := range evs {
				if ev.kind == "call" {
					call = ev.t
				} else {
					last = max(last, ev.t)
				}
			}
			out[k] = append(out[k], last-call)
		}
	}
	return out, nil
}

// memoryUse is scenario (g) on a fresh daemon: the growth of hagsd's
// resident set when groups are created (one provider each), then when they
// grow to perGroup providers each. Each reading is taken twice: right
// after the joins (the smallest of a second's readings), and at rest, once
// the daemon has been idle long enough to return its free memory to the
// system (daemon.IdleMemoryReturn).
func (r *runner) memoryUse(sys system, groups, perGroup int) (memory, error) {
	var m memory
	p, err := sys.spawn(r.h, sys.name()+"-g")
	if err != nil {
		return m, err
	}
	defer p.quit()
	prefix := uniq("g")
	name := func(i int) string { return fmt.Sprintf("%s-%d", prefix, i) }
	lowest := func(d time.Duration) int64 {
		best := int64(-1)
		for end := time.Now().Add(d); time.Now().Before(end); {
			time.Sleep(100 * time.Millisecond)
			if v, err := rssBytes(sys.daemonPid()); err == nil && (best < 0 || v < best) {
				best = v
			}
		}
		return best
	}
	read := func() (now, rest int64) {
		now = lowest(time.Second)
		time.Sleep(daemon.IdleMemoryReturn + time.Second)
		return now, lowest(time.Second)
	}
	// The first slot's session first, so the baseline includes a session.
	if err := r.join(p, 0, prefix+"-warm", 1); err != nil {
		return m, err
	}
	now0, rest0 := read()
	var ms []joinMember
	for range groups {
		ms = append(ms, joinMember{p: p, slot: 0, inst: 1})
	}
	if err := r.joinAll(name, ms); err != nil {
		return m, err
	}
	r.h.drain()
	now1, rest1 := read()
	for slot := 1; slot < perGroup; slot++ {
		ms = ms[:0]
		for range groups {
			ms = append(ms, joinMember{p: p, slot: slot, inst: slot + 1})
		}
		if err := r.joinAll(name, ms); err != nil {
			return m, err
		}
		r.h.drain()
	}
	now2, rest2 := read()
	providers := float64(groups * (perGroup - 1))
	m = memory{
		Groups: groups, Providers: groups * perGroup,
		PerGroup: float64(rest1-rest0) / float64(groups), PerProvider: float64(rest2-rest1) / providers,
		PerGroupBusy: float64(now1-now0) / float64(groups), PerProviderBusy: float64(now2-now1) / providers,
		RSSAtRest: []int64{rest0, rest1, rest2}, RSSAfterJoins: []int64{now0, now1, now2},
	}
	return m, nil
}

// memory is what scenario (g) measured, in bytes.
type memory struct {
	Groups, Providers             int
	PerGroup, PerProvider         float64 // at rest
	PerGroupBusy, PerProviderBusy float64 // right after the joins
	RSSAtRest, RSSAfterJoins      []int64 // baseline, with the groups, with all the providers
}

// maxOf returns the largest sample.
func maxOf(v []int64) int64 {
	if len(v) == 0 {
		return 0
	}
	return slices.Max(v)
}

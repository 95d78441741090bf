package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"time"
)

// spinMain is the "hagsbench spin" role: it keeps one CPU busy until it is
// killed (the soak starts one per CPU, at normal priority).
func spinMain() int {
	x := 0
	for {
		x++
	}
}

// Daemon log lines the soak counts: each is a sign of a false failure
// when no daemon died.
var (
	soakLeadership = regexp.MustCompile(`leadership changed`)
	soakDeclared   = regexp.MustCompile(`node declared down`)
	soakOut        = regexp.MustCompile(`out of the domain`)
)

// soak is scenario (s), run only when asked for: the domain of three
// hagsd of (f), all alive, a provider on each, while one busy process per
// CPU saturates the machine for d. A provider proposes a one-phase state
// change every second. Nothing should fail: the result counts failure
// notifications seen by the providers, sessions lost, and the daemons'
// leadership changes, nodes declared down and nodes put out of the
// domain; and it gives the latency of the state changes under that load.
func (r *runner) soak(rep *report, dir string, d time.Duration) error {
	nn, err := newNetns(3)
	if err != nil {
		return fmt.Errorf("%w: %v", errSkipped, err)
	}
	defer nn.destroy()
	c := &hagsCluster{cfg: r.cfg, nn: nn, dir: filepath.Join(dir, "s-hags")}
	if err := os.MkdirAll(c.dir, 0o755); err != nil {
		return err
	}
	defer c.close()
	if err := startCluster(c); err != nil {
		return err
	}
	group := uniq("s")
	var clients procSet
	defer clients.stop()
	for i := range 3 {
		p, err := c.spawn(r.h, i, fmt.Sprintf("hags-s-n%d", i+1))
		if err != nil {
			return err
		}
		clients = append(clients, p)
		if err := r.join(p, 0, group, 1); err != nil {
			return err
		}
	}
	var marks [3]int
	for i, dm := range c.daemons {
		marks[i] = dm.mark()
	}
	ncpu := runtime.NumCPU()
	var spinners []*service
	defer func() {
		for _, s := range spinners {
			s.kill()
		}
	}()
	for i := range ncpu {
		s, err := startService(fmt.Sprintf("spin%d", i), nil, 0, r.cfg.self, "spin")
		if err != nil {
			return err
		}
		spinners = append(spinners, s)
	}
	r.h.drain()
	failed, lost := 0, 0
	var lat []int64
	watch := func(ev event) {
		switch {
		case ev.kind == "lost":
			lost++
		case isMem("failed")(ev):
			failed++
		}
	}
	end := time.Now().Add(d)
	next := time.Now()
	for time.Now().Before(end) {
		if err := r.ctx.Err(); err != nil {
			return err
		}
		time.Sleep(time.Until(next))
		next = next.Add(time.Second)
		if err := clients[0].send("propose 0 %s 0", group); err != nil {
			return err
		}
		evs, err := r.h.collect(30*time.Second, 4, func(ev event) bool {
			watch(ev)
			return ev.group == group && (ev.kind == "state" || (ev.kind == "call" && ev.proc == clients[0]))
		})
		if err != nil {
			return fmt.Errorf("a state change under load: %w", err)
		}
		var call, last int64
		for _, ev := range evs {
			if ev.kind == "call" {
				call = ev.t
			} else {
				last = max(last, ev.t)
			}
		}
		lat = append(lat, last-call)
	}
	// Anything reported after the last state change counts too.
	_, _ = r.h.collect(500*time.Millisecond, 1<<30, func(ev event) bool { watch(ev); return false })
	var leader, declared, out int
	for i, dm := range c.daemons {
		leader += dm.count(soakLeadership, marks[i])
		declared += dm.count(soakDeclared, marks[i])
		out += dm.count(soakOut, marks[i])
	}
	over := "in " + d.Round(time.Second).String()
	rep.addCount("s.failure_notifications", 3, over, float64(failed), "0")
	rep.addCount("s.sessions_lost", 3, over, float64(lost), "0")
	rep.addCount("s.leadership_changes", 3, over, float64(leader), "0")
	rep.addCount("s.nodes_declared_down", 3, over, float64(declared), "0")
	rep.addCount("s.nodes_out_of_domain", 3, over, float64(out), "0")
	rep.add("s.state_change_under_load", 3, 3, 0, "hags", lat)
	r.logf("    soak: %d failure notifications, %d sessions lost, %d leadership changes, %d nodes declared down, %d out of the domain; %d state changes",
		failed, lost, leader, declared, out, len(lat))
	return nil
}

package engine

import (
	"fmt"
	"testing"
	"time"

	"github.com/openhags/hags/failover"
)

// benchConfig is groups × perGroup resources, all persistent online; in
// each group the first three resources form a chain and the rest depend
// on the first, so that bringing a group online takes four rounds.
func benchConfig(groups, perGroup int) *failover.Config {
	c := &failover.Config{}
	for g := 0; g < groups; g++ {
		gc := failover.GroupConfig{Name: fmt.Sprintf("group-%03d", g), PersistentState: failover.PersistentOnline,
			GroupProperties: failover.DefaultGroupProperties()}
		for r := 0; r < perGroup; r++ {
			rc := failover.ResourceConfig{Name: fmt.Sprintf("g%03d-r%02d", g, r), Agent: "ocf:heartbeat:Dummy",
				Params: map[string]string{"state": fmt.Sprintf("/run/dummy-%d-%d", g, r)}, PersistentState: failover.PersistentOnline,
				ResourceProperties: failover.DefaultResourceProperties()}
			switch {
			case r > 0 && r < 3:
				rc.Depends = fmt.Sprintf("[g%03d-r%02d]", g, r-1)
			case r >= 3:
				rc.Depends = fmt.Sprintf("[g%03d-r00]", g)
			}
			gc.Resources = append(gc.Resources, rc)
		}
		c.Groups = append(c.Groups, gc)
	}
	return c
}

// benchCluster returns an engine with three nodes up.
func benchCluster() *Engine {
	e := New()
	now := simT0
	e.Step(Input{Kind: InDomain, Time: now, Domain: []DomainNode{{ID: 1, Name: "A"}, {ID: 2, Name: "B"}, {ID: 3, Name: "C"}}})
	for i := NodeID(1); i <= 3; i++ {
		e.Step(Input{Kind: InNodeJoining, From: i, Time: now})
		e.Step(Input{Kind: InNodeUp, From: i, Time: now, Up: &NodeUp{Name: e.nodeName(i)}})
	}
	return e
}

// onlineAll answers every action with success until none is left and
// returns the number of steps it took.
func onlineAll(e *Engine, out []Output) int {
	var queue []Output
	queue = append(queue, out...)
	steps := 0
	for len(queue) > 0 {
		o := queue[0]
		queue = queue[1:]
		if o.Kind != OutAction {
			continue
		}
		steps++
		queue = append(queue, e.Step(Input{Kind: InResult, From: o.Node, Time: simT0,
			Result: &ActionResult{ID: o.Action.ID, Resource: o.Action.Resource, Op: o.Action.Op}})...)
	}
	return steps
}

// BenchmarkApplyAndOnline200x10 applies a configuration of 200 groups of
// 10 resources (one step) and brings every resource online (one step per
// start result). It reports the apply step's time, the mean time of the
// result steps, and the snapshot's size once all is online.
func BenchmarkApplyAndOnline200x10(b *testing.B) {
	cfg := benchConfig(200, 10)
	var applyNs, resultNs, results, snapBytes float64
	for i := 0; i < b.N; i++ {
		e := benchCluster()
		start := time.Now()
		out := e.Step(Input{Kind: InRequest, From: 1, Time: simT0, Request: &Request{ID: 1, Op: OpApplyConfig, Config: cfg}})
		applyNs += float64(time.Since(start).Nanoseconds())
		start = time.Now()
		n := onlineAll(e, out)
		resultNs += float64(time.Since(start).Nanoseconds())
		results += float64(n)
		if len(e.resources) != 2000 {
			b.Fatalf("%d resources, want 2000", len(e.resources))
		}
		for _, g := range e.Groups() {
			if g.State != failover.GroupOnline {
				b.Fatalf("group %s is %s after every start succeeded", g.Name, g.State)
			}
		}
		snapBytes = float64(len(e.Snapshot()))
	}
	b.ReportMetric(applyNs/float64(b.N)/1e6, "apply-ms")
	b.ReportMetric(resultNs/results, "ns/result-step")
	b.ReportMetric(results/float64(b.N), "result-steps")
	b.ReportMetric(snapBytes, "snapshot-bytes")
}

// BenchmarkStepFailureRestart measures one resource's failure, stop,
// restart timer and start in a cluster of 200 × 10 online resources: the
// steady-state cost of a step.
func BenchmarkStepFailureRestart(b *testing.B) {
	e := benchCluster()
	onlineAll(e, e.Step(Input{Kind: InRequest, From: 1, Time: simT0, Request: &Request{ID: 1, Op: OpApplyConfig, Config: benchConfig(200, 10)}}))
	b.ResetTimer()
	steps := 0
	for i := 0; i < b.N; i++ {
		name := fmt.Sprintf("g%03d-r%02d", i%200, 3+i%7)
		owner := e.groups[e.resources[name].group].owner
		out := e.Step(Input{Kind: InFailure, From: owner, Time: simT0, Failure: &Failure{Resource: name, Outcome: OutcomeSoft}})
		steps++
		for len(out) > 0 {
			var next []Output
			for _, o := range out {
				switch o.Kind {
				case OutAction:
					next = append(next, e.Step(Input{Kind: InResult, From: o.Node, Time: simT0,
						Result: &ActionResult{ID: o.Action.ID, Resource: o.Action.Resource, Op: o.Action.Op}})...)
					steps++
				case OutTimer:
					next = append(next, e.Step(Input{Kind: InTimer, From: o.Node, Time: simT0,
						Timer: &TimerFired{Kind: o.Timer.Kind, Key: o.Timer.Key, Token: o.Timer.Token}})...)
					steps++
				}
			}
			out = next
		}
		e.resources[name].restarts = nil // keep it restarting in place
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(steps), "ns/step")
}

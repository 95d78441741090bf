package manager

import (
	"context"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/openhags/hags/failover"
	"github.com/openhags/hags/failover/agent"
	"github.com/openhags/hags/failover/engine"
)

// probeConcurrency bounds the probes run at once when a manager joins.
const probeConcurrency = 8

// Agents is the Runner that runs real agents: failover/agent's runner,
// with what the manager needs around it (a callback per action, the set of
// resources it runs, stopping them all).
type Agents struct {
	r *agent.Runner

	mu       sync.Mutex
	done     map[uint64]func(engine.ActionResult)
	running  map[string]engine.Action // started (or found) and not stopped since
	failures func(engine.Failure)
}

// NewAgents starts an agent runner with opts; its Results and Failures
// are the Agents' own.
func NewAgents(opts agent.Options) (*Agents, error) {
	a := &Agents{done: map[uint64]func(engine.ActionResult){}, running: map[string]engine.Action{}}
	opts.Results = a.result
	opts.Failures = a.failure
	r, err := agent.New(opts)
	if err != nil {
		return nil, err
	}
	a.r = r
	return a, nil
}

// Run implements Runner.
func (a *Agents) Run(act engine.Action, done func(engine.ActionResult)) {
	a.mu.Lock()
	a.done[act.ID] = done
	if act.Op == engine.ActStart {
		a.running[act.Resource] = act // from the moment it may run
	}
	a.mu.Unlock()
	a.r.Execute(act)
}

func (a *Agents) result(res engine.ActionResult) {
	a.mu.Lock()
	done := a.done[res.ID]
	delete(a.done, res.ID)
	if res.Op == engine.ActStop && res.Outcome == engine.OutcomeOK {
		delete(a.running, res.Resource)
	}
	a.mu.Unlock()
	if done != nil {
		done(res)
	}
}

func (a *Agents) failure(f engine.Failure) {
	a.mu.Lock()
	fn := a.failures
	a.mu.Unlock()
	if fn != nil {
		fn(f)
	}
}

// setFailures names where monitor failures go.
func (a *Agents) setFailures(fn func(engine.Failure)) {
	a.mu.Lock()
	a.failures = fn
	a.mu.Unlock()
}

// Probe implements Runner: each resource's agent is asked whether it runs
// here, a few at a time. A probe that cannot tell counts as running, so
// that the resource is stopped before it runs anywhere.
func (a *Agents) Probe(ctx context.Context, res []ProbeSpec) ([]string, error) {
	var mu sync.Mutex
	var running []string
	found := map[string]engine.Action{}
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(probeConcurrency)
	for _, p := range res {
		g.Go(func() error {
			ok, _, err := a.r.Probe(ctx, agent.Resource{Name: p.Resource, Agent: p.Agent, Params: p.Params})
			if err != nil && ctx.Err() != nil {
				return ctx.Err()
			}
			if ok || err != nil {
				mu.Lock()
				running = append(running, p.Resource)
				found[p.Resource] = engine.Action{Resource: p.Resource, Agent: p.Agent, Params: p.Params}
				mu.Unlock()
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	a.mu.Lock()
	for n, act := range found {
		if _, ok := a.running[n]; !ok {
			a.running[n] = act
		}
	}
	a.mu.Unlock()
	return running, nil
}

// StopAll implements Runner: every resource this runner may run is
// stopped (fast: exec resources are killed at once), and it returns when
// all stops have ended.
func (a *Agents) StopAll(ctx context.Context, fast bool, timeout func(resource string) time.Duration) {
	a.mu.Lock()
	acts := make([]engine.Action, 0, len(a.running))
	for _, act := range a.running {
		acts = append(acts, act)
	}
	a.mu.Unlock()
	var wg sync.WaitGroup
	for i, act := range acts {
		wg.Add(1)
		// IDs far above the engine's, so that no result is mistaken for
		// one the engine waits for.
		act.ID, act.Op, act.Fast, act.Timeout = 1<<63|uint64(i), engine.ActStop, fast, timeout(act.Resource)
		a.Run(act, func(engine.ActionResult) { wg.Done() })
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
	}
}

// Validate checks that an agent exists on this node and accepts params.
func (a *Agents) Validate(ctx context.Context, spec failover.AgentSpec, params map[string]string) error {
	return a.r.Validate(ctx, agent.Resource{Name: "validate", Agent: spec, Params: params})
}

// Close implements Runner.
func (a *Agents) Close() error { return a.r.Close() }

// Defaults returns the agent's own timeouts for start, stop and monitor
// (its meta-data for OCF agents; the runner's defaults otherwise).
func (a *Agents) Defaults(ctx context.Context, spec failover.AgentSpec) (start, stop, monitor time.Duration, err error) {
	md, err := a.r.MetaData(ctx, spec)
	if err != nil {
		return 0, 0, 0, err
	}
	return md.StartTimeout, md.StopTimeout, md.MonitorTimeout, nil
}

// Installed reports whether spec's agent is on this node (no agent is run).
func (a *Agents) Installed(spec failover.AgentSpec) error { return a.r.Installed(spec) }

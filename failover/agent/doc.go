// Package agent runs the failover manager's resource agents on the node
// that owns their groups: OCF agents, unchanged (Debian's resource-agents,
// ocf:heartbeat:Dummy as the reference), and exec commands that the
// manager keeps running as its children.
//
// The manager hands the engine's Action outputs to Runner.Execute, which
// runs each on a goroutine (one action at a time per resource, in order)
// and reports an engine.ActionResult through Options.Results. A
// successful start begins monitoring: an OCF agent's monitor runs at once
// and then every Action.MonitorInterval under Action.MonitorTimeout; an
// exec command's exit is seen the moment it happens. Monitoring reports
// only failures, through Options.Failures; a stop ends it first. Probe
// tells a starting manager what runs on its node, Validate checks a
// resource before it is created, MetaData reads an agent's suggested
// timeouts.
//
// Every agent process runs through internal/proc: in its own process
// group, with exactly the environment below, its output logged line by
// line (bounded), killed with its whole group at its timeout, and killed
// with its group if the manager dies. docs/design/failover-agents.md
// states the rules: environment, exit codes and outcomes, timeouts,
// probes, exec resources and their records, the action log.
//
// The runner can append every start and stop it carries out to an action
// log (Options.ActionLog, package actlog), with CLOCK_MONOTONIC times, for
// the failover tests' checker and the benchmarks.
package agent

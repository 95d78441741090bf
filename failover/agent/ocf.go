package agent

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/openhags/hags/failover"
	"github.com/openhags/hags/failover/engine"
	"github.com/openhags/hags/internal/proc"
)

// OCF exit codes.
const (
	ocfSuccess          = 0
	ocfErrGeneric       = 1
	ocfErrArgs          = 2
	ocfErrUnimplemented = 3
	ocfErrPerm          = 4
	ocfErrInstalled     = 5
	ocfErrConfigured    = 6
	ocfNotRunning       = 7
	ocfRunningPromoted  = 8
	ocfFailedPromoted   = 9
	ocfDegraded         = 190
	ocfDegradedPromoted = 191
)

var ocfCodeNames = map[int]string{
	ocfSuccess:          "OCF_SUCCESS",
	ocfErrGeneric:       "OCF_ERR_GENERIC",
	ocfErrArgs:          "OCF_ERR_ARGS",
	ocfErrUnimplemented: "OCF_ERR_UNIMPLEMENTED",
	ocfErrPerm:          "OCF_ERR_PERM",
	ocfErrInstalled:     "OCF_ERR_INSTALLED",
	ocfErrConfigured:    "OCF_ERR_CONFIGURED",
	ocfNotRunning:       "OCF_NOT_RUNNING",
	ocfRunningPromoted:  "OCF_RUNNING_PROMOTED",
	ocfFailedPromoted:   "OCF_FAILED_PROMOTED",
	ocfDegraded:         "OCF_DEGRADED",
	ocfDegradedPromoted: "OCF_DEGRADED_PROMOTED",
}

// ocfCodeName names an OCF exit code ("OCF_NOT_RUNNING"; "unknown code" for
// codes OCF does not define).
func ocfCodeName(code int) string {
	if n, ok := ocfCodeNames[code]; ok {
		return n
	}
	return "not an OCF code"
}

// exitReasonPrefix starts the line in which an OCF agent says why it
// failed (ocf_exit_reason).
const exitReasonPrefix = "ocf-exit-reason:"

// tailLines is how many of an action's last output lines are kept to find
// its exit reason; detailLines of them make the detail when it gives none.
const (
	tailLines   = 20
	detailLines = 3
)

// OCFOutcome classifies the exit code of an OCF action that ran to its
// end. action is "start", "stop" or "monitor" (a probe is a monitor):
//
//	0                  OK
//	7 not running      OK for stop; Soft for start and monitor (the
//	                   resource is not running where it should)
//	1 generic          Soft
//	2, 3, 4, 5         Hard: never again on this node
//	6 not configured   Fatal: nowhere
//	8, 190, 191        OK for monitor (running: promoted or degraded);
//	                   Soft otherwise
//	anything else      Soft
//
// A timeout, a kill by a signal and an abort are Soft too (see the
// runner's results); an agent that cannot be executed is Hard.
func OCFOutcome(action string, code int) engine.Outcome {
	switch code {
	case ocfSuccess:
		return engine.OutcomeOK
	case ocfNotRunning:
		if action == "stop" {
			return engine.OutcomeOK
		}
		return engine.OutcomeSoft
	case ocfErrArgs, ocfErrUnimplemented, ocfErrPerm, ocfErrInstalled:
		return engine.OutcomeHard
	case ocfErrConfigured:
		return engine.OutcomeFatal
	case ocfRunningPromoted, ocfDegraded, ocfDegradedPromoted:
		if action == "monitor" {
			return engine.OutcomeOK
		}
	}
	return engine.OutcomeSoft
}

// ocfRun is one run of an OCF agent.
type ocfRun struct {
	path     string
	spec     failover.AgentSpec
	name     string // OCF_RESOURCE_INSTANCE; "" for meta-data
	params   map[string]string
	action   string
	timeout  time.Duration
	interval time.Duration // OCF_RESKEY_CRM_meta_interval: 0 but for recurring monitors
	capture  int           // bytes of stdout to keep (meta-data)
}

// runOCF runs an OCF agent action in its own process group under its
// timeout; the group is killed at the timeout and when ctx is done, and
// with this process. Every action but a stop first waits for one of the
// runner's slots (Options.MaxAgents); one whose ctx ends while it waits
// is aborted without running.
func (r *Runner) runOCF(ctx context.Context, run ocfRun) proc.Result {
	if run.action != "stop" {
		select {
		case r.slots <- struct{}{}:
			defer func() { <-r.slots }()
		case <-ctx.Done():
			return proc.Result{ExitCode: -1, Aborted: true}
		}
	}
	log := r.log.With("agent", run.spec.String(), "action", run.action)
	if run.name != "" {
		log = log.With("resource", run.name)
	}
	return proc.Run(ctx, proc.Spec{
		Path:          run.path,
		Args:          []string{run.action},
		Env:           r.ocfEnv(run),
		Timeout:       run.timeout,
		OnParentDeath: proc.KillGroupOnParentDeath,
		Name:          "agent",
		Log:           log,
		LogLimit:      ActionLogLimit,
		CaptureStdout: run.capture,
		TailLines:     tailLines,
	})
}

// ocfEnv is the environment of an OCF action: the OCF variables, one
// OCF_RESKEY_ per parameter, the meta variables agents read, HA_RSCTMP and
// a PATH. Nothing else is passed.
func (r *Runner) ocfEnv(run ocfRun) []string {
	env := []string{
		"PATH=" + proc.SafePath,
		"OCF_ROOT=" + r.ocfRoot,
		"OCF_RA_VERSION_MAJOR=1",
		"OCF_RA_VERSION_MINOR=1",
		"OCF_RESOURCE_TYPE=" + run.spec.Type,
		"OCF_RESOURCE_PROVIDER=" + run.spec.Provider,
		"HA_RSCTMP=" + r.rsctmp,
	}
	if run.name != "" {
		env = append(env, "OCF_RESOURCE_INSTANCE="+run.name)
	}
	for _, k := range failover.SortedKeys(run.params) {
		env = append(env, "OCF_RESKEY_"+k+"="+run.params[k])
	}
	env = append(env,
		"OCF_RESKEY_CRM_meta_timeout="+strconv.FormatInt(run.timeout.Milliseconds(), 10),
		"OCF_RESKEY_CRM_meta_interval="+strconv.FormatInt(run.interval.Milliseconds(), 10))
	if r.node != "" {
		env = append(env, "OCF_RESKEY_CRM_meta_on_node="+r.node)
	}
	return env
}

// metaParamPrefix starts the names of the meta variables the runner sets
// itself; a parameter may not use it.
const metaParamPrefix = "CRM_meta_"

// checkParams returns an *failover.Error for a parameter that cannot be
// passed to an agent.
func checkParams(params map[string]string) error {
	for _, k := range failover.SortedKeys(params) {
		if err := failover.CheckParam(k, params[k]); err != nil {
			return err
		}
		if strings.HasPrefix(k, metaParamPrefix) {
			return failover.Errorf(failover.CodeInvalidParameter,
				"parameter %s: names starting with %s are set by the manager", k, metaParamPrefix)
		}
	}
	return nil
}

// agentFile returns the path of spec's agent and its file information
// after checking that it may be run: spec must be a valid OCF spec (plain
// names: nothing can climb out of the OCF root by name); the file, after
// symbolic links, must be an executable regular file; it and the
// directory that holds it must belong to root or to this process's user
// and not be writable by others (a directory with the sticky bit excepted)
// or by a group other than root's. Symbolic links are followed wherever
// they lead: whoever can place one under the OCF root could as well place
// a script there, so what protects the agents is who may write where they
// really are, and that is what is checked.
func (r *Runner) agentFile(spec failover.AgentSpec) (string, os.FileInfo, error) {
	parsed, err := failover.ParseAgent(spec.String())
	if err != nil || parsed != spec || spec.Class != failover.AgentOCF {
		return "", nil, fmt.Errorf("agent %q: %w", spec.String(), ErrBadAgent)
	}
	path := filepath.Join(r.ocfRoot, "resource.d", spec.Provider, spec.Type)
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return path, nil, fmt.Errorf("agent %s: %w: no %s", spec, ErrNotInstalled, path)
	case err != nil:
		return path, nil, fmt.Errorf("agent %s: %w: %w", spec, ErrNotInstalled, err)
	case !fi.Mode().IsRegular():
		return path, nil, fmt.Errorf("agent %s: %w: %s is not a regular file", spec, ErrNotInstalled, path)
	case fi.Mode().Perm()&0o111 == 0:
		return path, nil, fmt.Errorf("agent %s: %w: %s is not executable", spec, ErrNotInstalled, path)
	}
	if err := safeOwner(path, fi); err != nil {
		return path, nil, fmt.Errorf("agent %s: %w", spec, err)
	}
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		return path, nil, fmt.Errorf("agent %s: %w: %w", spec, ErrNotInstalled, err)
	}
	dir := filepath.Dir(real)
	dfi, err := os.Stat(dir)
	if err != nil {
		return path, nil, fmt.Errorf("agent %s: %w: %w", spec, ErrNotInstalled, err)
	}
	if err := safeOwner(dir, dfi); err != nil {
		return path, nil, fmt.Errorf("agent %s: %w", spec, err)
	}
	return path, fi, nil
}

// safeOwner returns an error wrapping ErrUnsafe if fi may be changed by a
// user other than root and this process's.
func safeOwner(path string, fi os.FileInfo) error {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fmt.Errorf("%w: %s: no owner information", ErrUnsafe, path)
	}
	euid := uint32(os.Geteuid())
	if st.Uid != 0 && st.Uid != euid {
		return fmt.Errorf("%w: %s belongs to uid %d", ErrUnsafe, path, st.Uid)
	}
	perm := fi.Mode().Perm()
	sticky := fi.IsDir() && fi.Mode()&os.ModeSticky != 0
	if perm&0o002 != 0 && !sticky {
		return fmt.Errorf("%w: %s is writable by everyone (mode %v)", ErrUnsafe, path, perm)
	}
	if perm&0o020 != 0 && st.Gid != 0 && !sticky {
		return fmt.Errorf("%w: %s is writable by group %d (mode %v)", ErrUnsafe, path, st.Gid, perm)
	}
	return nil
}

// judge turns an OCF action's run into an outcome and a detail for "why".
func judge(action string, res proc.Result, timeout time.Duration) (engine.Outcome, string) {
	switch {
	case res.TimedOut:
		return engine.OutcomeSoft, clip(fmt.Sprintf("%s did not finish within %s; its process group was killed%s",
			action, timeout, reasonSuffix(res.Tail)))
	case res.Aborted:
		return engine.OutcomeSoft, fmt.Sprintf("%s was aborted (a stop came, or the manager is shutting down)", action)
	case res.Err != nil:
		if errors.Is(res.Err, syscall.ENOENT) || errors.Is(res.Err, syscall.ENOEXEC) || errors.Is(res.Err, syscall.EACCES) {
			return engine.OutcomeHard, clip(fmt.Sprintf("%s: the agent cannot be executed on this node: %v", action, res.Err))
		}
		return engine.OutcomeSoft, clip(fmt.Sprintf("%s: %s", action, res.How()))
	case res.Signal != 0:
		return engine.OutcomeSoft, clip(fmt.Sprintf("%s: %s%s", action, res.How(), reasonSuffix(res.Tail)))
	}
	o := OCFOutcome(action, res.ExitCode)
	d := fmt.Sprintf("%s: exit %d (%s)", action, res.ExitCode, ocfCodeName(res.ExitCode))
	if res.ExitCode != ocfSuccess {
		d += reasonSuffix(res.Tail)
	}
	return o, clip(d)
}

// reasonSuffix is ": " and the agent's exit reason, or its last lines, or
// "" when it said nothing.
func reasonSuffix(tail []string) string {
	for i := len(tail) - 1; i >= 0; i-- {
		if _, reason, ok := strings.Cut(tail[i], exitReasonPrefix); ok && strings.TrimSpace(reason) != "" {
			return ": " + strings.TrimSpace(reason)
		}
	}
	var last []string
	for i := len(tail) - 1; i >= 0 && len(last) < detailLines; i-- {
		if l := strings.TrimSpace(tail[i]); l != "" {
			last = append([]string{l}, last...)
		}
	}
	if len(last) == 0 {
		return ""
	}
	return ": " + strings.Join(last, " | ")
}

// ocfAction runs a start or stop. A successful start with a monitor
// interval returns the function that begins monitoring.
func (r *Runner) ocfAction(ctx context.Context, rs *resource, a engine.Action) (engine.Outcome, string, func()) {
	action := opName(a.Op)
	path, _, err := r.agentFile(a.Agent)
	if err != nil {
		return fileOutcome(err), clip(fmt.Sprintf("%s: %v", action, err)), nil
	}
	if err := checkParams(a.Params); err != nil {
		return engine.OutcomeFatal, clip(fmt.Sprintf("%s: %v", action, err)), nil
	}
	timeout := r.timeoutFor(ctx, a.Agent, action, a.Timeout)
	res := r.runOCF(ctx, ocfRun{path: path, spec: a.Agent, name: a.Resource, params: a.Params, action: action, timeout: timeout})
	o, d := judge(action, res, timeout)
	if a.Op != engine.ActStart || o != engine.OutcomeOK || a.MonitorInterval <= 0 {
		return o, d, nil
	}
	mt := r.timeoutFor(ctx, a.Agent, "monitor", a.MonitorTimeout)
	return o, d, func() {
		r.startMonitor(rs, func(ctx context.Context) { r.ocfMonitor(ctx, a, a.MonitorInterval, mt) })
	}
}

// fileOutcome classifies an agent file that cannot be run: not installed
// or unsafe here is Hard (another node may have it right), a bad spec
// Fatal.
func fileOutcome(err error) engine.Outcome {
	if errors.Is(err, ErrBadAgent) {
		return engine.OutcomeFatal
	}
	return engine.OutcomeHard
}

// ocfMonitor runs the monitor action at once and then every interval
// (counted from the end of the previous one) until ctx is done or a
// monitor fails; a failure is reported once.
func (r *Runner) ocfMonitor(ctx context.Context, a engine.Action, interval, timeout time.Duration) {
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		var o engine.Outcome
		var d string
		path, _, err := r.agentFile(a.Agent)
		if err != nil {
			o, d = fileOutcome(err), clip("monitor: "+err.Error())
		} else {
			res := r.runOCF(ctx, ocfRun{path: path, spec: a.Agent, name: a.Resource, params: a.Params,
				action: "monitor", timeout: timeout, interval: interval})
			o, d = judge("monitor", res, timeout)
		}
		if ctx.Err() != nil {
			return // stopped while it ran: the stop decides
		}
		if o != engine.OutcomeOK {
			r.fail(engine.Failure{Resource: a.Resource, Outcome: o, Detail: d})
			return
		}
		t.Reset(interval)
	}
}

// Probe reports whether res runs on this node, for a manager that starts
// or joins and must learn what runs where before anything is started.
//
// OCF: the agent's monitor runs as a probe (OCF_RESKEY_CRM_meta_interval
// 0). 0 (and 8, 190, 191) is running; 7 is not running; 5 (not installed)
// and an agent file that is missing are not running, as nothing of an
// agent that cannot run here can run here. Any other result, a timeout
// included, is reported as running, with the detail saying what the agent
// did: a resource in an unknown state must be stopped before it may start
// anywhere else, which is what a resource found running gets.
//
// exec: running if this runner's child runs it. Processes left by an
// earlier run of the manager (found through the record kept in the state
// directory) cannot be supervised, since they are not our children: they
// are killed, and the resource is reported not running.
//
// err is set only when nothing can be said: ctx done, the runner closed,
// a spec that is not valid, an OCF agent file that is unsafe to run. A
// manager should count such a resource as running.
func (r *Runner) Probe(ctx context.Context, res Resource) (running bool, detail string, err error) {
	if err := r.closedErr(); err != nil {
		return false, "", err
	}
	ctx, cancel := r.bind(ctx)
	defer cancel()
	switch res.Agent.Class {
	case failover.AgentExec:
		return r.execProbe(ctx, res)
	case failover.AgentOCF:
	default:
		return false, "", fmt.Errorf("agent: probe %s: %w: class %q", res.Name, ErrBadAgent, res.Agent.Class)
	}
	path, _, err := r.agentFile(res.Agent)
	if errors.Is(err, ErrNotInstalled) {
		return false, "probe: " + err.Error() + "; nothing of it can run here", nil
	}
	if err != nil {
		return false, "", fmt.Errorf("agent: probe %s: %w", res.Name, err)
	}
	if err := checkParams(res.Params); err != nil {
		return false, "", fmt.Errorf("agent: probe %s: %w", res.Name, err)
	}
	timeout := r.timeoutFor(ctx, res.Agent, "monitor", res.Timeout)
	out := r.runOCF(ctx, ocfRun{path: path, spec: res.Agent, name: res.Name, params: res.Params, action: "monitor", timeout: timeout})
	if ctx.Err() != nil {
		return false, "", fmt.Errorf("agent: probe %s: %w", res.Name, ctx.Err())
	}
	_, d := judge("monitor", out, timeout)
	if out.Err == nil && !out.TimedOut && out.Signal == 0 {
		switch out.ExitCode {
		case ocfSuccess, ocfRunningPromoted, ocfDegraded, ocfDegradedPromoted:
			return true, "probe " + d, nil
		case ocfNotRunning, ocfErrInstalled:
			return false, "probe " + d, nil
		}
	}
	return true, clip("probe " + d + "; counted as running, so that it is stopped before it starts anywhere"), nil
}

// Validate checks that res can be created on this node: the agent exists
// and is safe to run, the parameters can be passed, and the agent's own
// validate-all accepts them (an agent that does not implement it, exit 3,
// accepts everything). Errors are *failover.Error values:
// ERROR_CLUSTER_RESOURCE_TYPE_NOT_FOUND for an agent that is not there or
// not valid, ERROR_INVALID_PARAMETER for a parameter that cannot be
// passed, ERROR_CLUSTER_RESOURCE_CONFIGURATION_ERROR for an unsafe agent
// file or a refusal by validate-all, with the agent's own words; or the
// context's error, or ErrClosed.
func (r *Runner) Validate(ctx context.Context, res Resource) error {
	if err := r.closedErr(); err != nil {
		return err
	}
	ctx, cancel := r.bind(ctx)
	defer cancel()
	switch res.Agent.Class {
	case failover.AgentExec:
		return r.execValidate(res)
	case failover.AgentOCF:
	default:
		return failover.Errorf(failover.CodeClusterResourceTypeNotFound, "no agent class %q", res.Agent.Class)
	}
	path, _, err := r.agentFile(res.Agent)
	switch {
	case errors.Is(err, ErrUnsafe):
		return failover.Errorf(failover.CodeClusterResourceConfiguration, "%v", err)
	case err != nil:
		return failover.Errorf(failover.CodeClusterResourceTypeNotFound, "%v", err)
	}
	if err := checkParams(res.Params); err != nil {
		return err
	}
	timeout := r.timeoutFor(ctx, res.Agent, "validate-all", res.Timeout)
	out := r.runOCF(ctx, ocfRun{path: path, spec: res.Agent, name: res.Name, params: res.Params, action: "validate-all", timeout: timeout})
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("agent: validate %s: %w", res.Name, err)
	}
	if out.Success() {
		return nil
	}
	if out.Err == nil && !out.TimedOut && out.Signal == 0 && out.ExitCode == ocfErrUnimplemented {
		r.log.Info("agent: no validate-all; accepting the parameters", "agent", res.Agent.String(), "resource", res.Name)
		return nil
	}
	_, d := judge("validate-all", out, timeout)
	return failover.Errorf(failover.CodeClusterResourceConfiguration, "resource %s (agent %s): %s", res.Name, res.Agent, d)
}

// Installed reports whether spec's agent is there and safe to run on this
// node, without running it: nil, or a *failover.Error with
// ERROR_CLUSTER_RESOURCE_TYPE_NOT_FOUND (not there, not an agent) or
// ERROR_CLUSTER_RESOURCE_CONFIGURATION_ERROR (an unsafe file). It is the
// cheap check a whole configuration gets; Validate also runs validate-all.
func (r *Runner) Installed(spec failover.AgentSpec) error {
	switch spec.Class {
	case failover.AgentExec:
		return nil
	case failover.AgentOCF:
	default:
		return failover.Errorf(failover.CodeClusterResourceTypeNotFound, "no agent class %q", spec.Class)
	}
	_, _, err := r.agentFile(spec)
	switch {
	case errors.Is(err, ErrUnsafe):
		return failover.Errorf(failover.CodeClusterResourceConfiguration, "%v", err)
	case err != nil:
		return failover.Errorf(failover.CodeClusterResourceTypeNotFound, "%v", err)
	}
	return nil
}

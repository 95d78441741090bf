package agent

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/openhags/hags/failover"
	"github.com/openhags/hags/failover/agent/actlog"
	"github.com/openhags/hags/failover/engine"
	"github.com/openhags/hags/internal/proc"
)

// Parameters of exec resources.
const (
	// ExecCommand is the command line, run by /bin/sh -c. Required.
	ExecCommand = "command"
	// ExecUser is the user the command runs as, by name or number, with
	// that user's primary group and supplementary groups. Empty: the
	// manager's own user (root).
	ExecUser = "user"
)

// execShell runs exec resources' commands.
const execShell = "/bin/sh"

// EnvResource names the variable that tells an exec command its
// resource's name; EnvNode, its node's name.
const (
	EnvResource = "HAGSRM_RESOURCE"
	EnvNode     = "HAGSRM_NODE"
)

// execChild is a running exec resource. stopping is guarded by Runner.mu.
type execChild struct {
	p        *proc.Process
	stopping bool          // a stop is under way: its exit is no failure
	started  chan struct{} // closed once the start's result is reported
	done     chan struct{} // closed once the watcher has cleaned up
}

// execRecord is kept in StateDir/exec while an exec resource runs, so that
// a manager that restarts finds what an earlier run left behind.
type execRecord struct {
	Resource string `json:"resource"`
	Pgid     int    `json:"pgid"`
	Pid      int    `json:"pid"`
	// Start is the start time of the group's leader, in clock ticks
	// since boot (/proc/PID/stat field 22): a process of the group that
	// started before it is not ours.
	Start uint64 `json:"start_ticks"`
	Boot  string `json:"boot_id"`
	// Owner is the manager process that wrote the record (pid:start).
	Owner string `json:"owner"`
}

// execAction starts or stops an exec resource.
func (r *Runner) execAction(ctx context.Context, rs *resource, a engine.Action) (engine.Outcome, string, func()) {
	if a.Op == engine.ActStop {
		o, d := r.execStop(ctx, rs, a)
		return o, d, nil
	}
	if err := checkExecParams(a.Params); err != nil {
		return engine.OutcomeFatal, clip("start: " + err.Error()), nil
	}
	cred, home, err := execUser(a.Params[ExecUser])
	if err != nil {
		return engine.OutcomeFatal, clip("start: " + err.Error()), nil
	}
	r.mu.Lock()
	ec := rs.exec
	r.mu.Unlock()
	if ec != nil {
		select {
		case <-ec.p.Done():
			<-ec.done // it has ended; its watcher is reporting that
		default:
			return engine.OutcomeOK, fmt.Sprintf("start: already running (pid %d)", ec.p.Pid()), nil
		}
	}
	if killed, err := r.killLeftovers(ctx, a.Resource); err != nil {
		return engine.OutcomeSoft, clip("start: " + err.Error()), nil
	} else if len(killed) > 0 {
		r.log.Warn("exec resource: killed processes left by an earlier run before starting", "resource", a.Resource, "pids", killed)
	}
	env := []string{"PATH=" + proc.SafePath, "HOME=" + home, EnvResource + "=" + a.Resource}
	if r.node != "" {
		env = append(env, EnvNode+"="+r.node)
	}
	p, err := proc.Start(r.ctx, proc.Spec{
		Path:          execShell,
		Args:          []string{"-c", a.Params[ExecCommand]},
		Env:           env,
		Cred:          cred,
		OnParentDeath: proc.KillGroupOnParentDeath,
		Name:          "exec resource",
		Log:           r.log.With("resource", a.Resource),
		TailLines:     tailLines,
	})
	if err != nil {
		o := engine.OutcomeSoft
		if errors.Is(err, syscall.ENOENT) || errors.Is(err, syscall.EACCES) {
			o = engine.OutcomeHard
		}
		return o, clip("start: " + err.Error()), nil
	}
	if err := r.writeRecord(a.Resource, p); err != nil {
		// Without its record a leftover could not be found after a crash:
		// do not run what could not be found again.
		_ = p.Kill()
		p.Wait()
		return engine.OutcomeSoft, clip("start: " + err.Error()), nil
	}
	ec = &execChild{p: p, started: make(chan struct{}), done: make(chan struct{})}
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		_ = p.Kill()
		p.Wait()
		r.removeRecord(a.Resource)
		return engine.OutcomeSoft, "start: the agent runner is closed", nil
	}
	rs.exec = ec
	r.group.Go(func() error { r.execWatch(rs, ec, a); return nil })
	r.mu.Unlock()
	return engine.OutcomeOK, fmt.Sprintf("start: running (pid %d, process group %d)", p.Pid(), p.Pgid()), func() { close(ec.started) }
}

// execWatch waits for an exec resource's process to end, removes its
// record, and reports the end as a failure unless a stop or Close caused
// it. The exit is seen when it happens (a pidfd in the poller), not by
// polling. The resource forgets its child only after the failure has been
// reported, so a stop that comes meanwhile waits for ec.done, and its
// result follows the failure.
func (r *Runner) execWatch(rs *resource, ec *execChild, a engine.Action) {
	defer close(ec.done)
	defer func() {
		r.mu.Lock()
		if rs.exec == ec {
			rs.exec = nil
		}
		r.mu.Unlock()
	}()
	res := ec.p.Wait()
	<-ec.started // the start's result goes out before any failure
	r.removeRecord(a.Resource)
	r.mu.Lock()
	stopping, closing := ec.stopping, r.closed
	r.mu.Unlock()
	rec := actlog.Record{Mono: actlog.Now(), Resource: a.Resource, Op: actlog.OpStop, OK: true, Agent: a.Agent.String()}
	switch {
	case stopping: // the stop reports and logs
	case closing:
		rec.Why = actlog.WhyClose
		r.logAction(rec)
	default:
		rec.Why = actlog.WhyExit
		r.logAction(rec)
		r.fail(engine.Failure{Resource: a.Resource, Outcome: engine.OutcomeSoft,
			Detail: clip("the command ended: " + res.How() + reasonSuffix(res.Tail))})
	}
}

// execStop stops an exec resource: SIGTERM to its group, SIGKILL after the
// stop timeout; SIGKILL at once for a Fast stop. A resource that is not
// our child has its leftovers killed.
func (r *Runner) execStop(ctx context.Context, rs *resource, a engine.Action) (engine.Outcome, string) {
	r.mu.Lock()
	ec := rs.exec
	if ec != nil {
		ec.stopping = true
	}
	r.mu.Unlock()
	if ec == nil {
		killed, err := r.killLeftovers(ctx, a.Resource)
		switch {
		case err != nil:
			return engine.OutcomeSoft, clip("stop: " + err.Error())
		case len(killed) > 0:
			return engine.OutcomeOK, fmt.Sprintf("stop: killed %d processes left by an earlier run", len(killed))
		}
		return engine.OutcomeOK, "stop: not running"
	}
	select {
	case <-ec.p.Done():
		<-ec.done
		return engine.OutcomeOK, "stop: had ended already (" + ec.p.Wait().How() + ")"
	default:
	}
	if a.Fast {
		_ = ec.p.Kill()
		<-ec.done
		return engine.OutcomeOK, "stop: killed at once (fast stop)"
	}
	timeout := a.Timeout
	if timeout <= 0 {
		timeout = DefaultActionTimeout
	}
	_ = ec.p.Signal(syscall.SIGTERM)
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-ec.done:
		return engine.OutcomeOK, "stop: " + ec.p.Wait().How() + " after SIGTERM"
	case <-t.C:
	}
	_ = ec.p.Kill()
	<-ec.done
	return engine.OutcomeOK, fmt.Sprintf("stop: still running %s after SIGTERM; killed", timeout)
}

// execProbe reports an exec resource running if it is our child, and
// kills what an earlier run of the manager left of it.
func (r *Runner) execProbe(ctx context.Context, res Resource) (bool, string, error) {
	r.mu.Lock()
	var ec *execChild
	if rs := r.resources[res.Name]; rs != nil {
		ec = rs.exec
	}
	r.mu.Unlock()
	if ec != nil {
		select {
		case <-ec.p.Done():
			return false, "probe: ended (" + ec.p.Wait().How() + ")", nil
		default:
			return true, fmt.Sprintf("probe: running (pid %d)", ec.p.Pid()), nil
		}
	}
	killed, err := r.killLeftovers(ctx, res.Name)
	if err != nil {
		return false, "", fmt.Errorf("agent: probe %s: %w", res.Name, err)
	}
	if len(killed) > 0 {
		return false, fmt.Sprintf("probe: killed %d processes left by an earlier run (pids %v): not our children, they could not be supervised",
			len(killed), killed), nil
	}
	return false, "probe: not running", nil
}

// checkExecParams returns a *failover.Error unless params hold a command
// and nothing but command and user.
func checkExecParams(params map[string]string) error {
	if err := checkParams(params); err != nil {
		return err
	}
	for _, k := range failover.SortedKeys(params) {
		if k != ExecCommand && k != ExecUser {
			return failover.Errorf(failover.CodeClusterResourceConfiguration,
				"exec takes the parameters %s and %s only, not %s", ExecCommand, ExecUser, k)
		}
	}
	if strings.TrimSpace(params[ExecCommand]) == "" {
		return failover.Errorf(failover.CodeClusterResourceConfiguration, "exec needs a %s parameter", ExecCommand)
	}
	return nil
}

// execValidate checks an exec resource's parameters and user.
func (r *Runner) execValidate(res Resource) error {
	if err := checkExecParams(res.Params); err != nil {
		return err
	}
	if _, _, err := execUser(res.Params[ExecUser]); err != nil {
		return failover.Errorf(failover.CodeClusterResourceConfiguration, "%v", err)
	}
	if fi, err := os.Stat(execShell); err != nil || fi.Mode().Perm()&0o111 == 0 {
		return failover.Errorf(failover.CodeClusterResourceTypeNotFound, "exec needs %s on this node", execShell)
	}
	return nil
}

// execUser returns the credentials and home directory of the user an exec
// command runs as: nil credentials (ours) and "/" for "". A manager that is
// not root can run commands only as its own user.
func execUser(name string) (*syscall.Credential, string, error) {
	if name == "" {
		return nil, "/", nil
	}
	var u *user.User
	var err error
	if _, nerr := strconv.ParseUint(name, 10, 32); nerr == nil {
		u, err = user.LookupId(name)
	} else {
		u, err = user.Lookup(name)
	}
	if err != nil {
		return nil, "", fmt.Errorf("exec user %q: %w", name, err)
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err1 != nil || err2 != nil {
		return nil, "", fmt.Errorf("exec user %q: uid %q gid %q are not numbers", name, u.Uid, u.Gid)
	}
	home := u.HomeDir
	if home == "" {
		home = "/"
	}
	if os.Geteuid() != 0 {
		if int(uid) == os.Geteuid() && int(gid) == os.Getegid() {
			return nil, home, nil
		}
		return nil, "", fmt.Errorf("exec user %q: the manager runs as uid %d, not root, and cannot switch users", name, os.Geteuid())
	}
	cred := &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}}
	if ids, err := u.GroupIds(); err == nil {
		for _, s := range ids {
			if g, err := strconv.ParseUint(s, 10, 32); err == nil && g != gid {
				cred.Groups = append(cred.Groups, uint32(g))
			}
		}
	}
	return cred, home, nil
}

// recordPath is where the record of resource name is kept: its name
// hashed, since a resource name may hold any character but NUL.
func (r *Runner) recordPath(name string) string {
	sum := sha256.Sum256([]byte(name))
	return filepath.Join(r.execDir, hex.EncodeToString(sum[:16])+".json")
}

// writeRecord records a started exec resource (atomically: written to a
// temporary file and renamed).
func (r *Runner) writeRecord(name string, p *proc.Process) error {
	st, err := readStat(p.Pgid())
	if err != nil {
		return fmt.Errorf("exec record of %s: %w", name, err)
	}
	rec := execRecord{Resource: name, Pgid: p.Pgid(), Pid: p.Pid(), Start: st.start, Boot: bootID(), Owner: selfID()}
	b, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("exec record of %s: %w", name, err)
	}
	path := r.recordPath(name)
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return fmt.Errorf("exec record of %s: %w", name, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("exec record of %s: %w", name, err)
	}
	return nil
}

func (r *Runner) removeRecord(name string) {
	if err := os.Remove(r.recordPath(name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		r.log.Warn("exec resource: cannot remove its record", "resource", name, "err", err)
	}
}

// killLeftovers kills the processes that an earlier run of the manager
// left of exec resource name, as its record names them, and removes the
// record. A record this process wrote is never a leftover: it belongs to
// a child this runner supervises. It returns the pids it killed.
func (r *Runner) killLeftovers(ctx context.Context, name string) ([]int, error) {
	path := r.recordPath(name)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("exec record of %s: %w", name, err)
	}
	var rec execRecord
	if err := json.Unmarshal(b, &rec); err != nil || rec.Resource != name || rec.Pgid <= 1 {
		r.log.Warn("exec resource: dropping a record that is not valid", "resource", name, "path", path)
		r.removeRecord(name)
		return nil, nil
	}
	if rec.Owner == selfID() {
		return nil, nil
	}
	if rec.Boot != bootID() {
		r.removeRecord(name) // from before a reboot: nothing of it runs
		return nil, nil
	}
	killed, err := killGroupMembers(ctx, rec.Pgid, rec.Start)
	if err != nil {
		return killed, fmt.Errorf("exec resource %s: killing leftovers of process group %d: %w", name, rec.Pgid, err)
	}
	r.removeRecord(name)
	if len(killed) > 0 {
		r.logAction(actlog.Record{Mono: actlog.Now(), Resource: name, Op: actlog.OpStop, OK: true,
			Why: actlog.WhyLeftover, Agent: string(failover.AgentExec)})
		r.log.Warn("exec resource: killed processes left by an earlier run", "resource", name, "pgid", rec.Pgid, "pids", killed)
	}
	return killed, nil
}

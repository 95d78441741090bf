package integration

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/openhags/hags/failover"
)

// ledger remembers what every acknowledged change (ERROR_SUCCESS or
// ERROR_IO_PENDING) of a test made of the configuration, the persistent
// states and the pause flags, so that the end of the test can check that
// none was lost: the last acknowledged value of each thing must be what
// the cluster reports. A change that may also change related things (an
// online brings providers online too) makes the ledger forget what it
// knew of those.
type ledger struct {
	mu   sync.Mutex
	want map[fact]string
	// group is the group of every resource ever created, for the
	// overlap checker.
	group map[string]string
}

// fact names one thing the ledger knows: kind, object and attribute.
type fact struct{ kind, obj, attr string }

// Kinds of facts.
const (
	factGroup     = "group"          // attr "": "yes" exists, "no" deleted
	factGroupPS   = "group-state"    // persistent state
	factGroupProp = "group-prop"     // attr: the property
	factRes       = "resource"       // attr "": its group, or "" deleted
	factResPS     = "resource-state" // persistent state
	factResProp   = "resource-prop"  // attr: the property
	factParams    = "params"         // JSON of the parameters
	factDepends   = "depends"        // the expression
	factPossible  = "possible-owner" // attr: the node; "yes" or "no"
	factLocked    = "locked"         // "true" or "false"
	factFence     = "fence"          // the node's fence command
	factPaused    = "paused"         // "true" or "false"
)

func newLedger() *ledger { return &ledger{want: map[fact]string{}, group: map[string]string{}} }

// groupOf maps every resource ever created to its group.
func (l *ledger) groupOf() map[string]string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return maps.Clone(l.group)
}

// forget drops the persistent states of the resources of group g (and of
// g itself): a change that may have changed them, as well as its own.
func (l *ledger) forget(g string) {
	delete(l.want, fact{factGroupPS, g, ""})
	for r, rg := range l.group {
		if rg == g {
			delete(l.want, fact{factResPS, r, ""})
		}
	}
}

// deleted notes that resource r is gone: it has no other facts.
func (l *ledger) deleted(r string) {
	for f := range l.want {
		if f.obj == r && f.kind != factGroup && f.kind != factGroupPS && f.kind != factGroupProp && f.kind != factFence && f.kind != factPaused {
			delete(l.want, f)
		}
	}
	l.want[fact{factRes, r, ""}] = ""
}

// cliArgs splits hagsrm arguments into positional ones and flags.
func cliArgs(args []string) (pos []string, flags map[string][]string) {
	valued := map[string]bool{"--group": true, "--agent": true, "--param": true, "--set": true, "--wait": true}
	flags = map[string][]string{}
	for k := 0; k < len(args); k++ {
		a := args[k]
		switch {
		case valued[a] && k+1 < len(args):
			flags[a] = append(flags[a], args[k+1])
			k++
		case strings.HasPrefix(a, "--"):
			flags[a] = append(flags[a], "")
		default:
			pos = append(pos, a)
		}
	}
	return pos, flags
}

// acked notes the effect of an acknowledged hagsrm operation (the Go API's
// operations are noted in the same words).
func (l *ledger) acked(t *testing.T, args []string) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	pos, flags := cliArgs(args)
	require.GreaterOrEqual(t, len(pos), 2, "ledger: %v names a command", args)
	what, name := pos[0]+" "+pos[1], ""
	if len(pos) > 2 {
		name = pos[2]
	}
	setProps := func(kind string, kvs []string) {
		for _, kv := range kvs {
			k, v, ok := strings.Cut(kv, "=")
			require.True(t, ok, "ledger: %q is PROP=VALUE", kv)
			l.want[fact{kind, name, k}] = v
		}
	}
	switch what {
	case "group create":
		l.want[fact{factGroup, name, ""}] = "yes"
		l.want[fact{factGroupPS, name, ""}] = "offline"
		setProps(factGroupProp, flags["--set"])
	case "group delete":
		for f := range l.want {
			if f.obj == name && (f.kind == factGroupPS || f.kind == factGroupProp) {
				delete(l.want, f)
			}
		}
		l.want[fact{factGroup, name, ""}] = "no"
		for r, g := range l.group {
			if g == name {
				l.deleted(r)
			}
		}
	case "group online", "group offline":
		l.forget(name)
		l.want[fact{factGroupPS, name, ""}] = pos[1]
	case "group owners":
		l.want[fact{factGroupProp, name, "preferred-owners"}] = pos[3]
	case "group set":
		setProps(factGroupProp, pos[3:])
	case "resource create":
		g := flags["--group"][0]
		l.group[name] = g
		l.want[fact{factRes, name, ""}] = g
		l.want[fact{factResPS, name, ""}] = "offline"
		params := map[string]string{}
		for _, kv := range flags["--param"] {
			k, v, _ := strings.Cut(kv, "=")
			params[k] = v
		}
		b, _ := json.Marshal(params)
		l.want[fact{factParams, name, ""}] = string(b)
		l.want[fact{factLocked, name, ""}] = "false"
		setProps(factResProp, flags["--set"])
	case "resource delete":
		l.deleted(name)
	case "resource online", "resource offline":
		l.forget(l.group[name])
		l.want[fact{factResPS, name, ""}] = pos[1]
	case "resource owners":
		if pos[3] == "add" {
			l.want[fact{factPossible, name, pos[4]}] = "yes"
		} else {
			l.want[fact{factPossible, name, pos[4]}] = "no"
		}
	case "resource depend":
		d, err := failover.ParseDependency(pos[3])
		require.NoError(t, err, "ledger: an acknowledged expression parses")
		l.want[fact{factDepends, name, ""}] = d.String()
	case "resource lock", "resource unlock":
		l.want[fact{factLocked, name, ""}] = fmt.Sprint(pos[1] == "lock")
	case "resource set":
		setProps(factResProp, pos[3:])
	case "resource params":
		params := map[string]string{}
		for _, kv := range pos[3:] {
			k, v, _ := strings.Cut(kv, "=")
			params[k] = v
		}
		b, _ := json.Marshal(params)
		l.want[fact{factParams, name, ""}] = string(b)
	case "node pause", "node resume":
		l.want[fact{factPaused, name, ""}] = fmt.Sprint(pos[1] == "pause")
	case "node fence":
		cmd := ""
		if len(pos) > 3 {
			cmd = pos[3]
		}
		l.want[fact{factFence, name, ""}] = cmd
	case "config apply":
		b, err := os.ReadFile(name)
		require.NoError(t, err)
		cfg, err := failover.ParseConfig(strings.NewReader(string(b)))
		require.NoError(t, err, "ledger: an applied document parses")
		l.applied(cfg)
	case "group move", "resource fail", "resource cleanup", "node confirm-fenced":
		// No configuration or persistent state changes.
	default:
		t.Fatalf("ledger: no rule for %v", args)
	}
}

// applied notes a whole configuration: it replaces everything known of
// groups and resources.
func (l *ledger) applied(cfg *failover.Config) {
	for f := range l.want {
		if f.kind != factFence && f.kind != factPaused {
			delete(l.want, f)
		}
	}
	for r := range l.group {
		l.want[fact{factRes, r, ""}] = ""
	}
	for _, n := range cfg.Nodes {
		l.want[fact{factFence, n.Name, ""}] = n.FenceCommand
	}
	for _, g := range cfg.Groups {
		l.want[fact{factGroup, g.Name, ""}] = "yes"
		l.want[fact{factGroupPS, g.Name, ""}] = g.PersistentState.String()
		l.want[fact{factGroupProp, g.Name, "preferred-owners"}] = strings.Join(g.PreferredOwners, ",")
		l.want[fact{factGroupProp, g.Name, "anti-affinity"}] = strings.Join(g.AntiAffinity, ",")
		l.want[fact{factGroupProp, g.Name, "failover-threshold"}] = fmt.Sprint(g.FailoverThreshold)
		l.want[fact{factGroupProp, g.Name, "failover-period"}] = g.FailoverPeriod.String()
		for _, r := range g.Resources {
			l.group[r.Name] = g.Name
			l.want[fact{factRes, r.Name, ""}] = g.Name
			l.want[fact{factResPS, r.Name, ""}] = r.PersistentState.String()
			b, _ := json.Marshal(r.Params)
			if r.Params == nil {
				b = []byte("{}")
			}
			l.want[fact{factParams, r.Name, ""}] = string(b)
			d, _ := failover.ParseDependency(r.Depends)
			l.want[fact{factDepends, r.Name, ""}] = d.String()
			l.want[fact{factLocked, r.Name, ""}] = fmt.Sprint(r.Locked)
			p := r.ResourceProperties
			for name, v := range map[string]string{
				"monitor-interval": p.MonitorInterval.String(), "pending-timeout": p.PendingTimeout.String(),
				"restart-action": p.RestartAction.String(), "restart-threshold": fmt.Sprint(p.RestartThreshold),
				"restart-period": p.RestartPeriod.String(), "retry-period-on-failure": p.RetryPeriodOnFailure.String(),
				"restart-delay": p.RestartDelay.String(),
			} {
				l.want[fact{factResProp, r.Name, name}] = v
			}
			// Timeouts left out take the agent's defaults when applied.
			for name, v := range map[string]failover.Duration{"monitor-timeout": p.MonitorTimeout,
				"start-timeout": p.StartTimeout, "stop-timeout": p.StopTimeout} {
				if v != 0 {
					l.want[fact{factResProp, r.Name, name}] = v.String()
				}
			}
			for _, n := range r.PossibleOwners {
				l.want[fact{factPossible, r.Name, n}] = "yes"
			}
		}
	}
}

// check compares every fact with the configuration and node list node i's
// manager prints (the views check makes sure every node prints the same).
// It logs how many facts it checked.
func (l *ledger) check(c *rmCluster, i int) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	r := c.hagsrm(i, "config", "show")
	if r.exit != 0 {
		return fmt.Errorf("%s", r)
	}
	var cfg failover.Config
	if err := json.Unmarshal(r.stdout, &cfg); err != nil {
		return fmt.Errorf("config show --json: %w", err)
	}
	r = c.hagsrm(i, "node", "list")
	var nodes struct{ Nodes []failover.NodeInfo }
	if err := json.Unmarshal(r.stdout, &nodes); r.exit != 0 || err != nil {
		return fmt.Errorf("%s: %v", r, err)
	}
	groups := map[string]*failover.GroupConfig{}
	resources := map[string]*failover.ResourceConfig{}
	groupOf := map[string]string{}
	for gi := range cfg.Groups {
		g := &cfg.Groups[gi]
		groups[g.Name] = g
		for ri := range g.Resources {
			resources[g.Resources[ri].Name] = &g.Resources[ri]
			groupOf[g.Resources[ri].Name] = g.Name
		}
	}
	var bad []string
	facts := slices.SortedFunc(maps.Keys(l.want), func(a, b fact) int {
		return strings.Compare(a.kind+"\x00"+a.obj+"\x00"+a.attr, b.kind+"\x00"+b.obj+"\x00"+b.attr)
	})
	for _, f := range facts {
		want := l.want[f]
		got, err := l.read(f, groups, resources, groupOf, cfg.Nodes, nodes.Nodes)
		switch {
		case err != nil:
			bad = append(bad, fmt.Sprintf("%s %q %s: %v", f.kind, f.obj, f.attr, err))
		case got != want:
			bad = append(bad, fmt.Sprintf("%s %q %s: acknowledged %q, the cluster says %q", f.kind, f.obj, f.attr, want, got))
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("%d changes lost:\n%s\nthe configuration:\n%s", len(bad), strings.Join(bad, "\n"), r.stdout)
	}
	c.t.Logf("ledger: the %d facts that acknowledged changes left are what %s reports", len(facts), rmNames[i])
	return nil
}

// read returns what the cluster says of fact f, in the ledger's words.
func (l *ledger) read(f fact, groups map[string]*failover.GroupConfig, resources map[string]*failover.ResourceConfig,
	groupOf map[string]string, nodeCfg []failover.NodeConfig, nodes []failover.NodeInfo) (string, error) {
	g, r := groups[f.obj], resources[f.obj]
	needG := func() error {
		if g == nil {
			return fmt.Errorf("no such group")
		}
		return nil
	}
	needR := func() error {
		if r == nil {
			return fmt.Errorf("no such resource")
		}
		return nil
	}
	switch f.kind {
	case factGroup:
		if g == nil {
			return "no", nil
		}
		return "yes", nil
	case factGroupPS:
		if err := needG(); err != nil {
			return "", err
		}
		return g.PersistentState.String(), nil
	case factGroupProp:
		if err := needG(); err != nil {
			return "", err
		}
		// Setting the acknowledged value again must change nothing.
		p := g.GroupProperties
		if err := p.Set(f.attr, l.want[f]); err != nil {
			return "", err
		}
		if fmt.Sprint(p) != fmt.Sprint(g.GroupProperties) {
			return fmt.Sprintf("%+v", g.GroupProperties), nil
		}
		return l.want[f], nil
	case factRes:
		return groupOf[f.obj], nil
	case factResPS:
		if err := needR(); err != nil {
			return "", err
		}
		return r.PersistentState.String(), nil
	case factResProp:
		if err := needR(); err != nil {
			return "", err
		}
		p := r.ResourceProperties
		if err := p.Set(f.attr, l.want[f]); err != nil {
			return "", err
		}
		if p != r.ResourceProperties {
			return fmt.Sprintf("%+v", r.ResourceProperties), nil
		}
		return l.want[f], nil
	case factParams:
		if err := needR(); err != nil {
			return "", err
		}
		params := r.Params
		if params == nil {
			params = map[string]string{}
		}
		b, _ := json.Marshal(params)
		return string(b), nil
	case factDepends:
		if err := needR(); err != nil {
			return "", err
		}
		d, err := failover.ParseDependency(r.Depends)
		if err != nil {
			return "", err
		}
		return d.String(), nil
	case factPossible:
		if err := needR(); err != nil {
			return "", err
		}
		if slices.Contains(r.PossibleOwners, f.attr) {
			return "yes", nil
		}
		return "no", nil
	case factLocked:
		if err := needR(); err != nil {
			return "", err
		}
		return fmt.Sprint(r.Locked), nil
	case factFence:
		for _, n := range nodeCfg {
			if n.Name == f.obj {
				return n.FenceCommand, nil
			}
		}
		return "", nil
	case factPaused:
		for _, n := range nodes {
			if n.Name == f.obj {
				if n.State != failover.NodeUp && n.State != failover.NodePaused {
					return l.want[f], nil // a node that is not up shows no pause
				}
				return fmt.Sprint(n.State == failover.NodePaused), nil
			}
		}
		return "", fmt.Errorf("no such node")
	}
	return "", fmt.Errorf("unknown fact")
}

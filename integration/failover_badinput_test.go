package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhags/hags/failover"
)

// TestFailoverBadInput sends the real hagsrm every kind of malformed
// request, name, expression and configuration file, and requests that the
// cluster's state forbids, each to one of the three managers: each gets
// its contract code (exit 1 with the code in the JSON) or, for a usage
// error, exit 2 and nothing on stdout. Nothing changes: the configuration
// and the lists of groups, resources and nodes are the same, byte for
// byte, before and after.
func TestFailoverBadInput(t *testing.T) {
	t.Parallel()
	c := startRMCluster(t, rmOptions{})
	const g = "Application Group"
	c.seedGroup(0, g)
	c.must(1, codeOK, "group", "create", "Other")
	c.must(1, codeOK, "resource", "create", "x1", "--group", "Other", "--agent", "exec", "--param", "command="+c.execCommand())
	require.NoError(t, c.checkViews([]int{0, 1, 2}))
	snapshot := func() string {
		var b strings.Builder
		b.Write(c.configShow(2))
		for _, what := range []string{"group", "resource", "node"} {
			r := c.hagsrm(0, what, "list")
			require.Equal(t, 0, r.exit, "%s", r)
			b.Write(r.stdout)
		}
		return b.String()
	}
	before := snapshot()

	long := strings.Repeat("n", failover.MaxNameLength+1)
	exec := []string{"--agent", "exec", "--param", "command=" + c.execCommand()}
	create := func(name, group string, more ...string) []string {
		return append([]string{"resource", "create", name, "--group", group}, more...)
	}
	cases := []struct {
		code failover.Code
		args []string
	}{
		// Names.
		{failover.CodeInvalidName, []string{"group", "create", ""}},
		{failover.CodeInvalidName, []string{"group", "create", "a[b"}},
		{failover.CodeInvalidName, []string{"group", "create", "a]b"}},
		{failover.CodeInvalidName, []string{"group", "create", "tab\there"}},
		{failover.CodeInvalidName, []string{"group", "create", "new\nline"}},
		{failover.CodeInvalidName, []string{"group", "create", "\xff\xfe"}},
		{failover.CodeInvalidName, []string{"group", "create", long}},
		{failover.CodeInvalidName, append(create("r]", g), exec...)},
		{failover.CodeInvalidName, append(create("\x7f", g), exec...)},
		{failover.CodeObjectAlreadyExists, []string{"group", "create", g}},
		{failover.CodeObjectAlreadyExists, append(create("db", "Other"), exec...)},
		// Objects that do not exist.
		{failover.CodeGroupNotFound, []string{"group", "state", "Nope"}},
		{failover.CodeGroupNotFound, []string{"group", "online", "Nope"}},
		{failover.CodeGroupNotFound, []string{"group", "move", "application group", "NodeB"}},
		{failover.CodeGroupNotFound, append(create("r1", "Nope"), exec...)},
		{failover.CodeResourceNotFound, []string{"resource", "online", "nope"}},
		{failover.CodeResourceNotFound, []string{"resource", "why", "DB"}},
		{failover.CodeClusterNodeNotFound, []string{"node", "pause", "NodeZ"}},
		{failover.CodeClusterNodeNotFound, []string{"group", "move", g, "nodeb"}},
		{failover.CodeClusterNodeNotFound, []string{"group", "owners", g, "NodeA,NodeZ"}},
		{failover.CodeClusterNodeNotFound, []string{"resource", "owners", "db", "remove", "NodeZ"}},
		// Dependency expressions.
		{failover.CodeInvalidParameter, []string{"resource", "depend", "web", "[db"}},
		{failover.CodeInvalidParameter, []string{"resource", "depend", "web", "[db] or"}},
		{failover.CodeInvalidParameter, []string{"resource", "depend", "web", "[db] and"}},
		{failover.CodeInvalidParameter, []string{"resource", "depend", "web", "([db]"}},
		{failover.CodeInvalidParameter, []string{"resource", "depend", "web", "db"}},
		{failover.CodeInvalidParameter, []string{"resource", "depend", "web", "[db] and [db]"}},
		{failover.CodeInvalidParameter, []string{"resource", "depend", "web", "([db] and [x1])"}},
		{failover.CodeInvalidName, []string{"resource", "depend", "web", "[]"}},
		{failover.CodeDependencyNotFound, []string{"resource", "depend", "web", "[nosuch]"}},
		{failover.CodeDependencyNotFound, []string{"resource", "depend", "web", "[x1]"}},
		{failover.CodeCircularDependency, []string{"resource", "depend", "db", "[web]"}},
		{failover.CodeCircularDependency, []string{"resource", "depend", "db", "[db]"}},
		// Agents, parameters, properties.
		{failover.CodeClusterResourceTypeNotFound, create("r1", g, "--agent", "ocf:heartbeat:NoSuchAgent")},
		{failover.CodeClusterResourceTypeNotFound, create("r1", g, "--agent", "ocf:nosuchprovider:Dummy")},
		{failover.CodeInvalidParameter, create("r1", g, "--agent", "bogus")},
		{failover.CodeInvalidParameter, create("r1", g, "--agent", "ocf:../heartbeat:Dummy")},
		{failover.CodeInvalidParameter, create("r1", g, "--agent", "ocf:heartbeat")},
		{failover.CodeClusterResourceConfiguration, create("r1", g, "--agent", "exec")},
		{failover.CodeClusterResourceConfiguration, create("r1", g, "--agent", "ocf:hagsit:Ctl", "--param", c.ctlParam(), "--param", "refuse=yes")},
		{failover.CodeInvalidParameter, append(create("r1", g, "--param", "1bad=v"), exec...)},
		{failover.CodeInvalidParameter, append(create("r1", g, "--param", "with-dash=v"), exec...)},
		{failover.CodeInvalidParameter, append(create("r1", g, "--set", "nosuch=1"), exec...)},
		{failover.CodeInvalidParameter, append(create("r1", g, "--set", "stop-timeout=-1s"), exec...)},
		{failover.CodeInvalidParameter, append(create("r1", g, "--set", "restart-action=sometimes"), exec...)},
		{failover.CodeInvalidParameter, append(create("r1", g, "--set", "restart-threshold=many"), exec...)},
		{failover.CodeInvalidParameter, []string{"resource", "set", "db", "monitor-interval=1ms"}},
		{failover.CodeInvalidParameter, []string{"resource", "set", "db", "pending-timeout=0s"}},
		{failover.CodeInvalidParameter, []string{"resource", "params", "web", "command=x", "bad name=y"}},
		{failover.CodeInvalidParameter, []string{"group", "set", g, "failover-threshold=-5"}},
		{failover.CodeInvalidParameter, []string{"group", "set", g, "failover-period=0s"}},
		{failover.CodeInvalidParameter, []string{"group", "set", g, "colour=blue"}},
		{failover.CodeInvalidParameter, []string{"group", "owners", g, "NodeA,NodeA"}},
		{failover.CodeInvalidParameter, []string{"node", "fence", "NodeB", strings.Repeat("x", 4097)}},
		// What the state forbids.
		{failover.CodeDependentResourceExists, []string{"resource", "delete", "db"}},
		{failover.CodeResourceOnline, []string{"resource", "delete", "web"}},
		{failover.CodeInvalidState, []string{"group", "delete", g}},
		{failover.CodeInvalidState, []string{"resource", "fail", "x1"}},
		{failover.CodeInvalidState, []string{"node", "confirm-fenced", "NodeB"}},
		{failover.CodeClusterNodeNotPaused, []string{"node", "resume", "NodeC"}},
		{failover.CodeObjectAlreadyExists, []string{"resource", "owners", "web", "add", "NodeB"}},
	}
	for k, tc := range cases {
		r := c.op(k%3, tc.args...)
		if assert.True(t, r.hasCode, "%s carries a code", r) {
			assert.Equal(t, tc.code.String(), r.code.String(), "%s", r)
		}
		assert.Equal(t, 1, r.exit, "%s exits 1", r)
		assert.NotEmpty(t, r.message, "%s says what was wrong", r)
	}

	// Usage errors: exit 2, nothing on stdout, a line on stderr.
	for k, args := range [][]string{
		{"nosuch"},
		{"group", "move"},
		{"group", "state", g, "extra"},
		{"group", "online", g, "--wait", "soon"},
		{"group", "online", g, "--nosuchflag"},
		{"resource", "owners", "db", "maybe", "NodeA"},
		{"resource", "create", "r1", "--group", g},
		{"node", "fence", "NodeB"},
		{"config", "apply"},
		{"watch", "--count", "-1"},
	} {
		r := c.hagsrm(k%3, args...)
		assert.Equal(t, 2, r.exit, "%s is a usage error", r)
		assert.Empty(t, strings.TrimSpace(string(r.stdout)), "%s prints nothing on stdout", r)
		assert.NotEmpty(t, r.stderr, "%s says what was wrong", r)
	}

	// Configuration files.
	chain := func(n int) string {
		var b strings.Builder
		b.WriteString("groups:\n  - name: Deep\n    resources:\n")
		for i := range n {
			fmt.Fprintf(&b, "      - name: d%d\n        agent: exec\n        params: {command: 'sleep 1'}\n", i)
			if i > 0 {
				fmt.Fprintf(&b, "        depends: \"[d%d]\"\n", i-1)
			}
		}
		return b.String()
	}
	valid := "groups:\n  - name: " + g + "\n    resources:\n      - name: db\n        agent: ocf:heartbeat:Dummy\n"
	files := []struct {
		code failover.Code
		name string
		doc  string
	}{
		{failover.CodeInvalidParameter, "not-yaml", "groups: [\n"},
		{failover.CodeInvalidParameter, "garbage", "\x00\x01\x02\xff\xfe binary"},
		{failover.CodeInvalidParameter, "not-a-mapping", "- just\n- a list\n"},
		{failover.CodeInvalidParameter, "unknown-field", valid + "        colour: blue\n"},
		{failover.CodeInvalidParameter, "unknown-top", "groups: []\nextra: 1\n"},
		{failover.CodeObjectAlreadyExists, "duplicate-group", "groups:\n  - name: A\n  - name: A\n"},
		{failover.CodeObjectAlreadyExists, "resource-twice", "groups:\n  - name: A\n    resources:\n      - {name: r, agent: exec, params: {command: x}}\n  - name: B\n    resources:\n      - {name: r, agent: exec, params: {command: x}}\n"},
		{failover.CodeInvalidName, "bad-name", "groups:\n  - name: \"a[b\"\n"},
		{failover.CodeInvalidParameter, "bad-agent", "groups:\n  - name: A\n    resources:\n      - {name: r, agent: bogus}\n"},
		{failover.CodeClusterResourceTypeNotFound, "missing-agent", "groups:\n  - name: A\n    resources:\n      - {name: r, agent: \"ocf:heartbeat:NoSuchAgent\"}\n"},
		{failover.CodeInvalidParameter, "bad-expression", "groups:\n  - name: A\n    resources:\n      - {name: r, agent: exec, params: {command: x}, depends: \"[r\"}\n"},
		{failover.CodeInvalidParameter, "bad-duration", valid + "        stop-timeout: soon\n"},
		{failover.CodeInvalidParameter, "bad-state", "groups:\n  - name: A\n    persistent-state: sideways\n"},
		{failover.CodeClusterNodeNotFound, "unknown-node", "nodes:\n  - name: NodeZ\n    fence-command: /bin/true\ngroups: []\n"},
		{failover.CodeDependencyNotFound, "missing-provider", "groups:\n  - name: A\n    resources:\n      - {name: r, agent: exec, params: {command: x}, depends: \"[nosuch]\"}\n"},
		{failover.CodeCircularDependency, "cycle", "groups:\n  - name: A\n    resources:\n      - {name: r, agent: exec, params: {command: x}, depends: \"[s]\"}\n      - {name: s, agent: exec, params: {command: x}, depends: \"[r]\"}\n"},
		{failover.CodeDependencyTreeTooComplex, "too-deep", chain(102)},
	}
	for k, f := range files {
		path := filepath.Join(c.dir, f.name+".yaml")
		require.NoError(t, os.WriteFile(path, []byte(f.doc), 0o644))
		r := c.op(k%3, "config", "apply", path)
		if assert.True(t, r.hasCode, "config apply %s: %s carries a code", f.name, r) {
			assert.Equal(t, f.code.String(), r.code.String(), "config apply %s: %s", f.name, r)
		}
		assert.Equal(t, 1, r.exit, "config apply %s: %s", f.name, r)
	}
	r := c.hagsrm(0, "config", "apply", filepath.Join(c.dir, "no-such-file.yaml"))
	assert.Equal(t, 1, r.exit, "a missing file: %s", r)
	assert.Contains(t, r.message, "no such file", "a missing file: %s", r)

	require.Equal(t, before, snapshot(), "the bad requests changed nothing")
}

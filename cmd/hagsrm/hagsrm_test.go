package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// bin holds the hagsrm and fakerm binaries the tests build: hagsrm as
// shipped, and fakerm, the management server with an in-memory cluster
// behind it (failover/internal/mgmt/mgmttest).
var bin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "hagsrm-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := func() int {
		defer os.RemoveAll(dir)
		if err := os.Chmod(dir, 0o755); err != nil { // another user runs hagsrm from here
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		for _, pkg := range []string{".", "../../failover/internal/mgmt/mgmttest/fakerm"} {
			cmd := exec.Command("go", "build", "-o", dir, pkg)
			cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
			if err := cmd.Run(); err != nil {
				fmt.Fprintln(os.Stderr, "build", pkg, err)
				return 1
			}
		}
		bin = dir
		return m.Run()
	}()
	os.Exit(code)
}

// fake starts a fakerm on a fresh socket, with extra flags, and returns
// the socket.
func fake(t *testing.T, flags ...string) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "rm") // short: socket paths are limited to 108 bytes
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	sock := filepath.Join(dir, "hagsrmd.sock")
	cmd := exec.Command(filepath.Join(bin, "fakerm"), append([]string{"--socket", sock}, flags...)...)
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	var logs bytes.Buffer
	cmd.Stderr = &logs
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
		if t.Failed() {
			t.Logf("fakerm's log:\n%s", logs.String())
		}
	})
	line, err := bufio.NewReader(out).ReadString('\n')
	require.NoError(t, err, "fakerm starts")
	require.Equal(t, "ready\n", line)
	return sock
}

// result is one run of hagsrm.
type result struct {
	code   int
	stdout string
	stderr string
}

// hagsrm runs hagsrm against sock with args.
func hagsrm(t *testing.T, sock string, args ...string) result {
	t.Helper()
	return runAs(t, nil, sock, args...)
}

func runAs(t *testing.T, cred *syscall.Credential, sock string, args ...string) result {
	t.Helper()
	cmd := exec.Command(filepath.Join(bin, "hagsrm"), args...)
	cmd.Env = []string{"HAGSRM_SOCKET=" + sock, "PATH=/usr/bin:/bin"}
	if cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := result{stdout: out.String(), stderr: errb.String()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errorsAs(err, &ee):
		r.code = ee.ExitCode()
	default:
		require.NoError(t, err, "hagsrm runs")
	}
	return r
}

func errorsAs(err error, ee **exec.ExitError) bool {
	e, ok := err.(*exec.ExitError)
	*ee = e
	return ok
}

// one decodes stdout as exactly one JSON object.
func one(t *testing.T, r result) map[string]any {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(r.stdout))
	var v map[string]any
	require.NoError(t, dec.Decode(&v), "stdout holds a JSON object: %q (stderr %q)", r.stdout, r.stderr)
	var extra any
	assert.ErrorIs(t, dec.Decode(&extra), io.EOF, "stdout holds exactly one JSON object: %q", r.stdout)
	return v
}

func keys(m any) []string {
	var out []string
	for k := range m.(map[string]any) {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// ok runs hagsrm and requires exit status 0.
func ok(t *testing.T, sock string, args ...string) result {
	t.Helper()
	r := hagsrm(t, sock, args...)
	require.Equal(t, 0, r.code, "hagsrm %v succeeds: stdout %q stderr %q", args, r.stdout, r.stderr)
	return r
}

// appGroup creates the "Application Group" of "Moving a Group" with a Dummy
// resource and an exec resource that depends on it.
func appGroup(t *testing.T, sock string) {
	t.Helper()
	ok(t, sock, "group", "create", "Application Group")
	ok(t, sock, "resource", "create", "db", "--group", "Application Group", "--agent", "ocf:heartbeat:Dummy",
		"--param", "state=/run/db.state")
	ok(t, sock, "resource", "create", "web", "--group", "Application Group", "--agent", "exec",
		"--param", "command=sleep 1000", "--set", "restart-delay=1s")
	ok(t, sock, "resource", "depend", "web", "[db]")
}

// TestMovingAGroupThroughHagsrm plays "Moving a Group" with hagsrm --json:
// the group's owner is NodeA; a move to NodeB returns ERROR_IO_PENDING
// (exit 0); polling group state sees it leave Pending and end Online on
// NodeB.
func TestMovingAGroupThroughHagsrm(t *testing.T) {
	sock := fake(t)
	appGroup(t, sock)
	r := ok(t, sock, "--json", "group", "online", "Application Group", "--wait", "10s")
	v := one(t, r)
	assert.Equal(t, "ClusterGroupOnline", v["group"].(map[string]any)["state"], "--wait prints the final group")

	st := one(t, ok(t, sock, "--json", "group", "state", "Application Group"))
	assert.Equal(t, "NodeA", st["owner"], "the creating node owns the group")

	r = ok(t, sock, "--json", "group", "move", "Application Group", "NodeB")
	v = one(t, r)
	res := v["result"].(map[string]any)
	assert.Equal(t, "ERROR_IO_PENDING", res["name"], "the move is pending")
	assert.Equal(t, float64(997), res["code"], "ERROR_IO_PENDING is 997")

	require.Eventually(t, func() bool {
		st = one(t, ok(t, sock, "--json", "group", "state", "Application Group"))
		return st["state"] != "ClusterGroupPending"
	}, 10*time.Second, 10*time.Millisecond, "polling group state sees the move end")
	assert.Equal(t, "ClusterGroupOnline", st["state"])
	assert.Equal(t, float64(0), st["state_value"])
	assert.Equal(t, "NodeB", st["owner"])

	v = one(t, ok(t, sock, "--json", "group", "move", "Application Group", "NodeB"))
	assert.Equal(t, "ERROR_SUCCESS", v["result"].(map[string]any)["name"], "moving to the owner succeeds at once")
}

// TestJSONShapes: the objects, lists, results and errors have the
// contract's fields and values.
func TestJSONShapes(t *testing.T) {
	sock := fake(t)
	appGroup(t, sock)
	ok(t, sock, "resource", "create", "extra", "--group", "Application Group", "--agent", "exec", "--param", "command=sleep 1000")
	ok(t, sock, "resource", "online", "extra", "--wait", "10s")
	ok(t, sock, "resource", "online", "db", "--wait", "10s")

	g := one(t, ok(t, sock, "--json", "group", "state", "Application Group"))
	assert.Subset(t, keys(g), []string{"group", "state", "state_value", "owner", "persistent_state", "sequence"})
	assert.Equal(t, "Application Group", g["group"])
	assert.Equal(t, "ClusterGroupPartialOnline", g["state"], "of the top-level resources web and extra, only extra is online")
	assert.Equal(t, float64(3), g["state_value"])
	assert.Equal(t, "offline", g["persistent_state"], "no group command asked for online")
	assert.Equal(t, "NodeA", g["owner"])
	assert.Greater(t, g["sequence"], float64(1), "the state changed, and so did its sequence number")

	r := one(t, ok(t, sock, "--json", "resource", "state", "db"))
	assert.Subset(t, keys(r), []string{"resource", "group", "state", "state_value", "owner", "persistent_state", "sequence"})
	assert.Equal(t, "db", r["resource"])
	assert.Equal(t, "Application Group", r["group"])
	assert.Equal(t, "ClusterResourceOnline", r["state"])
	assert.Equal(t, float64(2), r["state_value"])
	assert.Equal(t, "online", r["persistent_state"])

	n := one(t, ok(t, sock, "--json", "node", "state", "NodeB"))
	assert.Subset(t, keys(n), []string{"node", "id", "state", "state_value"})
	assert.Equal(t, "NodeB", n["node"])
	assert.Equal(t, float64(2), n["id"])
	assert.Equal(t, "ClusterNodeUp", n["state"])
	assert.Equal(t, float64(0), n["state_value"])

	for _, tc := range []struct{ cmd, key string }{{"group", "groups"}, {"resource", "resources"}, {"node", "nodes"}} {
		v := one(t, ok(t, sock, "--json", tc.cmd, "list"))
		assert.Equal(t, []string{tc.key}, keys(v), "%s list prints {%q: [...]}", tc.cmd, tc.key)
		assert.NotEmpty(t, v[tc.key], "%s list is not empty", tc.cmd)
	}

	e := hagsrm(t, sock, "--json", "group", "state", "nope")
	assert.Equal(t, 1, e.code, "a failure exits 1")
	v := one(t, e)
	assert.Equal(t, []string{"error"}, keys(v))
	assert.Equal(t, []string{"code", "message", "name"}, keys(v["error"]))
	assert.Equal(t, "ERROR_GROUP_NOT_FOUND", v["error"].(map[string]any)["name"])
	assert.Equal(t, float64(5013), v["error"].(map[string]any)["code"])
	assert.Contains(t, v["error"].(map[string]any)["message"], "nope")

	res := one(t, ok(t, sock, "--json", "resource", "lock", "web"))
	assert.Equal(t, []string{"result"}, keys(res))
	assert.Equal(t, map[string]any{"name": "ERROR_SUCCESS", "code": float64(0)}, res["result"])

	e = hagsrm(t, sock, "--json", "resource", "online", "web")
	assert.Equal(t, 1, e.code)
	assert.Equal(t, "ERROR_CLUSTER_RESOURCE_LOCKED_STATUS", one(t, e)["error"].(map[string]any)["name"])
	v = one(t, ok(t, sock, "--json", "resource", "online", "web", "--ignore-locked", "--wait", "10s"))
	assert.Equal(t, "ERROR_IO_PENDING", v["result"].(map[string]any)["name"], "--ignore-locked goes on")
	assert.Equal(t, "ClusterResourceOnline", v["resource"].(map[string]any)["state"], "--wait prints the final resource")
}

// TestExitStatus: 0 for success and ERROR_IO_PENDING, 1 for failures, 2
// for usage errors, which say what was wrong on their first line before
// any usage text and print nothing on stdout.
func TestExitStatus(t *testing.T) {
	sock := fake(t)
	appGroup(t, sock)
	cases := []struct {
		args []string
		code int
		// first is what the first line of stderr holds, for usage errors.
		first string
	}{
		{[]string{"group", "list"}, 0, ""},
		{[]string{"resource", "online", "db"}, 0, ""}, // ERROR_IO_PENDING
		{[]string{"group", "state", "nope"}, 1, ""},
		{[]string{"group", "create", "Application Group"}, 1, ""},
		{[]string{"node", "resume", "NodeA"}, 1, ""},
		{[]string{"group", "move", "Application Group", "NodeZ"}, 1, ""},
		{[]string{"resource", "depend", "web", "[db] and"}, 1, ""},
		{[]string{"--socket", "/nonexistent/hagsrmd.sock", "group", "list"}, 1, ""},
		{[]string{}, 2, "a command is needed"},
		{[]string{"bogus"}, 2, `unknown command "bogus"`},
		{[]string{"group"}, 2, "a command is needed"},
		{[]string{"group", "mvoe", "x"}, 2, `unknown command "mvoe" (did you mean move?)`},
		{[]string{"group", "move"}, 2, "needs 1 to 2 arguments"},
		{[]string{"group", "state", "a", "b"}, 2, "needs 1 argument(s)"},
		{[]string{"group", "state", "x", "--frobnicate"}, 2, "unknown flag: --frobnicate"},
		{[]string{"group", "online", "x", "--wait", "soon"}, 2, `invalid argument "soon"`},
		{[]string{"group", "online", "x", "--wait", "-1s"}, 2, "--wait -1s is negative"},
		{[]string{"resource", "create", "r"}, 2, "--group and --agent are required"},
		{[]string{"resource", "create", "r", "--group", "g", "--agent", "exec", "--param", "nokey"}, 2, `--param "nokey" is not NAME=VALUE`},
		{[]string{"resource", "owners", "db", "steal", "NodeB"}, 2, "add or remove"},
		{[]string{"node", "fence", "NodeA"}, 2, "either a COMMAND or --clear"},
		{[]string{"watch", "--count", "-1"}, 2, "--count -1 is negative"},
	}
	for _, tc := range cases {
		for _, json := range []bool{false, true} {
			args := tc.args
			if json {
				args = append([]string{"--json"}, args...)
			}
			r := hagsrm(t, sock, args...)
			assert.Equal(t, tc.code, r.code, "hagsrm %q exits %d (stderr %q)", args, tc.code, r.stderr)
			switch {
			case tc.code == 2:
				assert.Empty(t, r.stdout, "hagsrm %q: a usage error prints nothing on stdout", args)
				first, _, _ := strings.Cut(r.stderr, "\n")
				assert.Contains(t, first, tc.first, "hagsrm %q: the first line says what was wrong", args)
				assert.NotContains(t, first, "Usage", "hagsrm %q: the usage comes after", args)
				assert.Contains(t, r.stderr, "Usage:", "hagsrm %q: the usage follows", args)
			case json:
				v := one(t, r) // exactly one object, success or failure
				if tc.code == 1 {
					assert.Contains(t, v, "error", "hagsrm %q: a failure prints {\"error\": …}", args)
				}
			}
		}
	}
}

// TestWaitTimeout: --wait that ends before the object settles reports
// ERROR_TIMEOUT, exit 1, with the object as it was.
func TestWaitTimeout(t *testing.T) {
	sock := fake(t)
	ok(t, sock, "group", "create", "g")
	ok(t, sock, "resource", "create", "stuck", "--group", "g", "--agent", "exec",
		"--param", "command=sleep 1000", "--param", "hang=1") // the fake's agent never finishes starting
	r := hagsrm(t, sock, "--json", "resource", "online", "stuck", "--wait", "200ms")
	assert.Equal(t, 1, r.code, "a wait that times out fails")
	v := one(t, r)
	assert.Equal(t, "ERROR_TIMEOUT", v["error"].(map[string]any)["name"])
	assert.Equal(t, float64(1460), v["error"].(map[string]any)["code"])
	assert.Equal(t, "ClusterResourceOnlinePending", v["resource"].(map[string]any)["state"], "the state at that moment")

	r = hagsrm(t, sock, "resource", "state", "stuck")
	assert.Contains(t, r.stdout, "OnlinePending", "the operation goes on after the wait")
}

// TestWatchPrintsOneObjectPerLine: hagsrm --json watch prints each change
// as one JSON object on its own line.
func TestWatchPrintsOneObjectPerLine(t *testing.T) {
	sock := fake(t)
	cmd := exec.Command(filepath.Join(bin, "hagsrm"), "--json", "watch", "--count", "3")
	cmd.Env = []string{"HAGSRM_SOCKET=" + sock}
	var out bytes.Buffer
	cmd.Stdout = &out
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	line, err := bufio.NewReader(stderr).ReadString('\n')
	require.NoError(t, err)
	require.Contains(t, line, "watching", "the watch runs")
	ok(t, sock, "group", "create", "g1")
	ok(t, sock, "group", "create", "g2")
	ok(t, sock, "node", "pause", "NodeC")
	require.NoError(t, cmd.Wait(), "watch ends after --count changes with status 0")
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	require.Len(t, lines, 3, "three changes, three lines: %q", out.String())
	var kinds []string
	for _, l := range lines {
		var v map[string]any
		require.NoError(t, json.Unmarshal([]byte(l), &v), "each line is a JSON object: %q", l)
		kinds = append(kinds, v["kind"].(string))
	}
	assert.Equal(t, []string{"group", "group", "node"}, kinds)
}

// TestStatusSaysWhy: status shows nodes, groups with their resources,
// and why-lines for what is not where it should be.
func TestStatusSaysWhy(t *testing.T) {
	sock := fake(t)
	appGroup(t, sock)
	ok(t, sock, "resource", "create", "broken", "--group", "Application Group", "--agent", "exec",
		"--param", "command=false", "--param", "fail=1") // the fake fails its start
	ok(t, sock, "group", "online", "Application Group", "--wait", "10s")
	ok(t, sock, "node", "pause", "NodeC")
	out := ok(t, sock, "status").stdout
	for _, want := range []string{
		"Cluster of 3 nodes (2 up), 1 group, 3 resources",
		"NodeC  3   Paused",
		"Application Group  Failed",
		"  broken",
		"!! failed",
		"Not where they should be:",
		"broken (Application Group): broken failed on NodeA: the agent's start exited 1",
	} {
		assert.Contains(t, out, want, "status shows %q", want)
	}
	// The resource rows are aligned: every row's STATE column starts at
	// the same place as the header's.
	lines := strings.Split(out, "\n")
	var header string
	for _, l := range lines {
		if strings.HasPrefix(l, "GROUP / RESOURCE") {
			header = l
		}
	}
	require.NotEmpty(t, header)
	col := strings.Index(header, "STATE")
	var rows []string
	for i, l := range lines {
		if l == header {
			for _, r := range lines[i+1:] {
				if r == "" {
					break
				}
				rows = append(rows, r)
			}
		}
	}
	require.Len(t, rows, 4, "the group and its three resources")
	for _, name := range []string{"Application Group ", "  db ", "  web ", "  broken "} {
		for _, l := range rows {
			if strings.HasPrefix(l, name) {
				assert.NotEqual(t, ' ', rune(l[col]), "%q has its state in the STATE column", l)
				assert.Equal(t, ' ', rune(l[col-1]), "%q has its state in the STATE column", l)
			}
		}
	}
	v := one(t, ok(t, sock, "--json", "status"))
	assert.Equal(t, []string{"attention", "groups", "nodes", "resources"}, keys(v))
	at := v["attention"].([]any)
	require.Len(t, at, 1, "one resource needs attention")
	assert.Equal(t, "broken", at[0].(map[string]any)["resource"])
}

// TestConfigApplyAndShow: a configuration file applied shows again; a
// bad one is refused with its code and changes nothing.
func TestConfigApplyAndShow(t *testing.T) {
	sock := fake(t)
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	require.NoError(t, os.WriteFile(good, []byte(`
nodes:
  - name: NodeB
    fence-command: /usr/local/sbin/fence-nodeb
groups:
  - name: web
    preferred-owners: [NodeB, NodeA]
    resources:
      - name: ip
        agent: ocf:heartbeat:Dummy
      - name: server
        agent: exec
        params: {command: "sleep 1000"}
        depends: "[ip]"
        restart-delay: 2s
`), 0o644))
	ok(t, sock, "config", "apply", good)
	shown := ok(t, sock, "config", "show").stdout
	for _, want := range []string{"name: web", "- NodeB", "name: server", "depends: '[ip]'", "restart-delay: 2s",
		"fence-command: /usr/local/sbin/fence-nodeb"} {
		assert.Contains(t, shown, want)
	}
	v := one(t, ok(t, sock, "--json", "config", "show"))
	assert.Len(t, v["groups"], 1)

	bad := filepath.Join(dir, "bad.yaml")
	require.NoError(t, os.WriteFile(bad, []byte("groups:\n  - name: x\n    colour: red\n"), 0o644))
	r := hagsrm(t, sock, "--json", "config", "apply", bad)
	assert.Equal(t, 1, r.code)
	assert.Equal(t, "ERROR_INVALID_PARAMETER", one(t, r)["error"].(map[string]any)["name"], "an unknown field")
	assert.Equal(t, shown, ok(t, sock, "config", "show").stdout, "nothing changed")
}

// TestCompletion: cobra's completion scripts for bash and zsh, and the
// names they complete, which hagsrm asks hagsrmd for.
func TestCompletion(t *testing.T) {
	for _, shell := range []string{"bash", "zsh"} {
		r := hagsrm(t, "/nonexistent", "completion", shell)
		assert.Equal(t, 0, r.code, "%s completion", shell)
		assert.Contains(t, r.stdout, "hagsrm", "%s completion script names the command", shell)
	}
	sock := fake(t)
	appGroup(t, sock)
	ok(t, sock, "group", "create", "Other")
	candidates := func(args ...string) []string {
		r := ok(t, sock, append([]string{"__complete"}, args...)...)
		lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
		return lines[:len(lines)-1] // the last line is cobra's directive
	}
	assert.Equal(t, []string{"Application Group", "Other"}, candidates("group", "state", ""), "group names")
	assert.Equal(t, []string{"Application Group"}, candidates("group", "online", "App"), "group names by prefix")
	assert.Equal(t, []string{"NodeA", "NodeB", "NodeC"}, candidates("group", "move", "Other", ""), "a move's destination is a node")
	assert.Equal(t, []string{"db", "web"}, candidates("resource", "why", ""), "resource names")
	assert.Equal(t, []string{"add", "remove"}, candidates("resource", "owners", "db", ""), "owners add or remove")
	assert.Equal(t, []string{"Application Group", "Other"}, candidates("resource", "create", "x", "--group", ""), "--group completes groups")
	assert.Empty(t, candidates("group", "state", "Other", ""), "nothing after the last argument")
}

// TestReadAccessAsNobody: a real process of another user, admitted by
// SO_PEERCRED as a member of the user group, may read but not change
// (ERROR_ACCESS_DENIED, exit 1); outside both groups it is refused at
// once.
func TestReadAccessAsNobody(t *testing.T) {
	if os.Geteuid() != 0 {
		// CI runs as root; a developer running as a normal user cannot
		// run a process as another uid, so this check cannot be made there.
		t.Skip("needs root to run hagsrm as another user")
	}
	u, err := user.Lookup("nobody")
	require.NoError(t, err)
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	grp, err := user.LookupGroupId(u.Gid)
	require.NoError(t, err)
	nobody := &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}

	sock := fake(t, "--user-group", grp.Name, "--admin-group", "no-such-group-hags")
	ok(t, sock, "group", "create", "g")
	r := runAs(t, nobody, sock, "--json", "group", "list")
	assert.Equal(t, 0, r.code, "nobody may read: %s", r.stderr)
	assert.Len(t, one(t, r)["groups"], 1)
	for _, args := range [][]string{
		{"group", "create", "x"},
		{"group", "online", "g"},
		{"node", "pause", "NodeA"},
		{"config", "apply", "/dev/null"},
	} {
		r = runAs(t, nobody, sock, append([]string{"--json"}, args...)...)
		assert.Equal(t, 1, r.code, "nobody may not %v", args)
		assert.Equal(t, "ERROR_ACCESS_DENIED", one(t, r)["error"].(map[string]any)["name"], "nobody may not %v", args)
	}
	assert.Len(t, one(t, ok(t, sock, "--json", "group", "list"))["groups"], 1, "nothing was created")

	sock = fake(t, "--user-group", "no-such-group-hags", "--admin-group", "no-such-group-hags")
	r = runAs(t, nobody, sock, "--json", "group", "list")
	assert.Equal(t, 1, r.code, "outside both groups nobody is refused")
	assert.Equal(t, "ERROR_ACCESS_DENIED", one(t, r)["error"].(map[string]any)["name"])
}

// TestConsolePrintsTheURL: hagsrm console prints the URL hagsrmd gives,
// as a line or as {"console": …}; without a console the code says so,
// and a Read caller is refused the token.
func TestConsolePrintsTheURL(t *testing.T) {
	const url = "http://127.0.0.1:8123/?token=0123abcd"
	sock := fake(t, "--console", url)
	r := ok(t, sock, "console")
	assert.Equal(t, url+"\n", r.stdout, "the URL, alone on its line")
	c := one(t, ok(t, sock, "--json", "console"))["console"].(map[string]any)
	assert.Equal(t, url, c["url"])
	assert.Equal(t, "127.0.0.1:8123", c["address"])
	assert.Equal(t, "0123abcd", c["token"])

	r = hagsrm(t, fake(t), "--json", "console")
	assert.Equal(t, 1, r.code, "no console is a failure")
	assert.Equal(t, "ERROR_INVALID_STATE", one(t, r)["error"].(map[string]any)["name"])

	if os.Geteuid() != 0 {
		t.Skip("needs root to run hagsrm as another user")
	}
	u, err := user.Lookup("nobody")
	require.NoError(t, err)
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	grp, err := user.LookupGroupId(u.Gid)
	require.NoError(t, err)
	sock = fake(t, "--console", url, "--user-group", grp.Name, "--admin-group", "no-such-group-hags")
	r = runAs(t, &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, sock, "--json", "console")
	assert.Equal(t, 1, r.code, "a Read caller gets no token")
	assert.Equal(t, "ERROR_ACCESS_DENIED", one(t, r)["error"].(map[string]any)["name"])
	assert.NotContains(t, r.stdout+r.stderr, "0123abcd", "the token does not leak into the refusal")
}

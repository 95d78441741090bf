package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhags/hags/daemon"
	"github.com/openhags/hags/daemon/protocol"
	"github.com/openhags/hags/internal/wire"
)

// startDaemon runs an in-process daemon with one provider (instance 3 of
// group "svc", pid 4321, state "ready") and returns its socket.
func startDaemon(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "hagsctl")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	socket := filepath.Join(dir, "hagsd.sock")
	n, err := daemon.New(daemon.Config{Domain: "ctl", Socket: socket,
		Authorize: func(net.Conn) (protocol.Cred, error) { return protocol.Cred{Pid: 4321}, nil }})
	require.NoError(t, err)
	ln, err := n.Listen()
	require.NoError(t, err)
	go n.Serve(ln)
	t.Cleanup(func() { n.Close() })

	c, err := net.Dial("unix", socket)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(10 * time.Second))
	r := wire.NewReader(c)
	require.NoError(t, wire.WriteFrame(c, wire.MsgHello, &wire.Hello{Pid: 4321}))
	typ, _, err := r.Next()
	require.NoError(t, err)
	require.Equal(t, wire.MsgWelcome, typ, "the provider is welcomed")
	require.NoError(t, wire.WriteFrame(c, wire.MsgRequest, &wire.Request{Op: wire.OpJoin, Token: 1, Group: "svc", Instance: 3,
		LocalName: "web", Attributes: &wire.Attributes{GroupName: "svc", NumPhases: wire.OnePhase, DefaultVote: wire.VoteApprove}}))
	typ, _, err = r.Next()
	require.NoError(t, err)
	require.Equal(t, wire.MsgNotification, typ, "the join is approved")
	require.NoError(t, wire.WriteFrame(c, wire.MsgRequest, &wire.Request{Op: wire.OpChangeState, Token: 1, NumPhases: wire.OnePhase, State: []byte("ready")}))
	typ, _, err = r.Next()
	require.NoError(t, err)
	require.Equal(t, wire.MsgNotification, typ, "the state change is approved")
	return socket
}

func ctl(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestHagsctlText(t *testing.T) {
	socket := startDaemon(t)
	code, out, errs := ctl(t, "--socket", socket, "status")
	require.Equal(t, 0, code, "status succeeds: %s", errs)
	assert.Regexp(t, `(?m)^domain\s+ctl$`, out, "status shows the domain")
	assert.Regexp(t, `(?m)^clients\s+1$`, out, "status counts the client")
	assert.Regexp(t, `(?m)^1\s+node1\s+-\s+leader\s+alive$`, out, "status lists this node by the name --name defaults to")

	code, out, errs = ctl(t, "groups", "--socket", socket)
	require.Equal(t, 0, code, "groups succeeds with flags after the command: %s", errs)
	assert.Regexp(t, `(?m)^svc\s+1\s+0\s+-$`, out, "groups lists svc with one provider")

	code, out, errs = ctl(t, "--socket", socket, "group", "svc")
	require.Equal(t, 0, code, "group svc succeeds: %s", errs)
	assert.Regexp(t, `(?m)^state\s+"ready"$`, out, "a printable state is shown quoted")
	assert.Regexp(t, `(?m)^protocol\s+none$`, out, "no protocol runs")
	assert.Regexp(t, fmt.Sprintf(`(?m)^owner\s+uid %d$`, os.Getuid()), out, "the owner is the uid of the client whose join created the group")
	assert.Regexp(t, `(?m)^3@1\s+3\s+1\s+4321\s+web$`, out, "the provider is listed with node, pid and local name")

	code, _, errs = ctl(t, "--socket", socket, "group", "nope")
	assert.Equal(t, 1, code, "an unknown group fails")
	assert.Contains(t, errs, `unknown group "nope"`, "the error names the group")

	code, out, errs = ctl(t, "--socket", socket, "frobnicate")
	assert.Equal(t, 2, code, "an unknown command is a usage error")
	assert.Empty(t, out, "a usage error prints nothing on stdout")
	first, rest, _ := strings.Cut(errs, "\n")
	assert.Equal(t, `hagsctl: unknown command "frobnicate"; the commands are completion, domain, group, groups, nodes, status, watch`, first,
		"the first line says what was wrong")
	assert.Contains(t, rest, "Usage:", "then comes the usage")
	code, _, errs = ctl(t, "--socket", filepath.Join(t.TempDir(), "none.sock"), "status")
	assert.Equal(t, 1, code, "no daemon is an error")
	assert.Contains(t, errs, "connect", "the error says the connection failed")
}

func TestHagsctlJSON(t *testing.T) {
	socket := startDaemon(t)
	code, out, errs := ctl(t, "--socket", socket, "--json", "group", "svc")
	require.Equal(t, 0, code, "group --json succeeds: %s", errs)
	var d struct {
		Name      string `json:"name"`
		StateText string `json:"state_text"`
		Providers []struct {
			Instance  int32  `json:"instance"`
			Node      int32  `json:"node"`
			Pid       int32  `json:"pid"`
			LocalName string `json:"local_name"`
		} `json:"providers"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &d), "the output is JSON: %s", out)
	assert.Equal(t, "svc", d.Name, "JSON names the group")
	assert.Equal(t, `"ready"`, d.StateText, "JSON carries the printable state")
	require.Len(t, d.Providers, 1, "JSON lists the provider")
	assert.Equal(t, int32(4321), d.Providers[0].Pid, "JSON carries the provider's pid")
	assert.Equal(t, "web", d.Providers[0].LocalName)

	t.Setenv("HA_GS_SOCKET", socket)
	code, out, errs = ctl(t, "--json", "groups")
	require.Equal(t, 0, code, "groups via $HA_GS_SOCKET succeeds: %s", errs)
	var gs []map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &gs), "the output is a JSON list")
	assert.NotEmpty(t, gs, "groups are listed")
}

// snakeKey is a JSON key in the documented style: lower case words
// joined by underscores.
var snakeKey = regexp.MustCompile(`^[a-z][a-z0-9]*(_[a-z0-9]+)*$`)

// keysOf collects every object key in a decoded JSON value.
func keysOf(v any, into map[string]bool) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			into[k] = true
			keysOf(e, into)
		}
	case []any:
		for _, e := range x {
			keysOf(e, into)
		}
	}
}

// TestEveryJSONKeyIsSnakeCase: status, nodes, groups and group print
// their keys in snake_case (docs/cli.md), none of Go's field names.
func TestEveryJSONKeyIsSnakeCase(t *testing.T) {
	socket := startDaemon(t)
	want := map[string][]string{
		"status": {"domain", "node", "version", "pid", "incarnation", "started_unix", "clients", "groups", "nodes", "name", "address", "role", "health"},
		"nodes":  {"node", "name", "address", "role", "health"},
		"groups": {"name", "providers", "subscribers", "protocol"},
		"group": {"name", "owner_uid", "attributes", "group_name", "num_phases", "default_vote", "time_limit", "state",
			"state_text", "providers", "instance", "node", "pid", "local_name", "subscribers", "protocol", "queued"},
	}
	for what, keys := range want {
		args := []string{"--socket", socket, "--json", what}
		if what == "group" {
			args = append(args, "svc")
		}
		code, out, errs := ctl(t, args...)
		require.Equal(t, 0, code, "%s: %s", what, errs)
		var v any
		require.NoError(t, json.Unmarshal([]byte(out), &v), "%s prints JSON", what)
		got := map[string]bool{}
		keysOf(v, got)
		for k := range got {
			assert.Regexp(t, snakeKey, k, "%s: key %q is snake_case", what, k)
		}
		for _, k := range keys {
			assert.True(t, got[k], "%s: prints %q; it printed %s", what, k, out)
		}
	}
}

// TestCompletionScripts: cobra's completion for bash and zsh, and the
// commands and flags it completes.
func TestCompletionScripts(t *testing.T) {
	for _, shell := range []string{"bash", "zsh"} {
		code, out, errs := ctl(t, "completion", shell)
		require.Equal(t, 0, code, "%s completion: %s", shell, errs)
		assert.Contains(t, out, "hagsctl", "the %s script names the command", shell)
	}
	code, out, _ := ctl(t, "__complete", "gr")
	require.Equal(t, 0, code)
	assert.Contains(t, out, "group\tone group", "commands complete, with what they do")
	assert.Contains(t, out, "groups\tevery group")
	code, out, _ = ctl(t, "__complete", "domain", "rotate-gossip-key", "--p")
	require.Equal(t, 0, code)
	assert.Contains(t, out, "--promote", "a subcommand's flags complete")
}

// TestUsageErrorsSayWhatWasWrong: every usage error's first line names
// the command and what was wrong, before the usage.
func TestUsageErrorsSayWhatWasWrong(t *testing.T) {
	for args, first := range map[string]string{
		"":                                 "hagsctl: a command is needed: one of completion, domain, group, groups, nodes, status, watch",
		"bogus":                            `hagsctl: unknown command "bogus"; the commands are completion, domain, group, groups, nodes, status, watch`,
		"statsu":                           `hagsctl: unknown command "statsu" (did you mean status?); the commands are completion, domain, group, groups, nodes, status, watch`,
		"group":                            "hagsctl group: needs 1 argument(s) (NAME), got 0",
		"status extra":                     "hagsctl status: needs 0 argument(s) (none), got 1",
		"--bogus status":                   "hagsctl: unknown flag: --bogus",
		"--timeout x status":               `hagsctl status: invalid argument "x" for "--timeout" flag: time: invalid duration "x"`,
		"--interval 0 watch":               "hagsctl watch: --interval must be positive",
		"domain":                           "hagsctl domain: a command is needed: one of add-node, init, revoke, rotate-gossip-key",
		"domain init --node 1=a":           "hagsctl domain init: --dir is required",
		"domain revoke --dir /nonexistent": "hagsctl domain revoke: --node N is required: a positive node number",
	} {
		code, out, errs := ctl(t, strings.Fields(args)...)
		assert.Equal(t, 2, code, "%q is a usage error", args)
		assert.Empty(t, out, "%q prints nothing on stdout", args)
		line, rest, _ := strings.Cut(errs, "\n")
		assert.Equal(t, first, line, "%q: the first line says what was wrong", args)
		assert.Contains(t, rest, "Usage:", "%q: the usage follows", args)
	}
	code, _, errs := ctl(t, "--help")
	assert.Equal(t, 0, code, "help is no error")
	assert.Contains(t, errs, "hagsctl [command]", "help shows the usage")
}

func TestFormatState(t *testing.T) {
	assert.Equal(t, `"ok"`, formatState([]byte("ok")), "text is quoted")
	assert.Equal(t, `""`, formatState(nil), "an empty state is an empty string")
	assert.Equal(t, "0x00ff", formatState([]byte{0, 0xff}), "binary is hex")
}

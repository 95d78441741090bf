package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
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
	assert.Regexp(t, `(?m)^1\s+-\s+-\s+leader\s+alive$`, out, "status lists this node")

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

	code, _, _ = ctl(t, "--socket", socket, "frobnicate")
	assert.Equal(t, 2, code, "an unknown command is a usage error")
	code, _, errs = ctl(t, "--socket", filepath.Join(t.TempDir(), "none.sock"), "status")
	assert.Equal(t, 1, code, "no daemon is an error")
	assert.Contains(t, errs, "connect", "the error says the connection failed")
}

func TestHagsctlJSON(t *testing.T) {
	socket := startDaemon(t)
	code, out, errs := ctl(t, "--socket", socket, "--json", "group", "svc")
	require.Equal(t, 0, code, "group --json succeeds: %s", errs)
	var d struct {
		Name      string
		StateText string
		Providers []wire.ProviderDetail
	}
	require.NoError(t, json.Unmarshal([]byte(out), &d), "the output is JSON: %s", out)
	assert.Equal(t, "svc", d.Name, "JSON names the group")
	assert.Equal(t, `"ready"`, d.StateText, "JSON carries the printable state")
	require.Len(t, d.Providers, 1, "JSON lists the provider")
	assert.Equal(t, int32(4321), d.Providers[0].Pid, "JSON carries the provider's pid")

	t.Setenv("HA_GS_SOCKET", socket)
	code, out, errs = ctl(t, "--json", "groups")
	require.Equal(t, 0, code, "groups via $HA_GS_SOCKET succeeds: %s", errs)
	var gs []wire.GroupSummary
	require.NoError(t, json.Unmarshal([]byte(out), &gs), "the output is a JSON list")
	assert.NotEmpty(t, gs, "groups are listed")
}

func TestFormatState(t *testing.T) {
	assert.Equal(t, `"ok"`, formatState([]byte("ok")), "text is quoted")
	assert.Equal(t, `""`, formatState(nil), "an empty state is an empty string")
	assert.Equal(t, "0x00ff", formatState([]byte{0, 0xff}), "binary is hex")
}

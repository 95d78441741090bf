package daemon

import (
	"net"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhags/hags/daemon/protocol"
	"github.com/openhags/hags/daemon/scripts"
	"github.com/openhags/hags/internal/harness"
	"github.com/openhags/hags/internal/wire"
)

// TestScriptProbeLearnsNothing: a client registers, as its deactivate
// script, a file that does not exist, one in a directory it cannot search,
// and one it may not execute. The daemon refuses all three with the same
// code and the same words, so the refusals tell the files apart no better
// than the client could itself; the daemon log has each reason.
func TestScriptProbeLearnsNothing(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: the check runs as another user")
	}
	dir := harness.ScriptDir(t)
	private := filepath.Join(dir, "private")
	require.NoError(t, os.Mkdir(private, 0o700))
	hidden := filepath.Join(private, "hidden.sh")
	require.NoError(t, os.WriteFile(hidden, []byte("#!/bin/sh\n"), 0o755))
	plain := filepath.Join(dir, "plain.txt")
	require.NoError(t, os.WriteFile(plain, []byte("data\n"), 0o644))

	tn := startNode(t, Config{CheckScript: scripts.CheckScript, Authorize: func(net.Conn) (protocol.Cred, error) {
		return protocol.Cred{Pid: 1, Uid: 65534, Gid: 65534}, nil
	}}, nil)
	var reasons []string
	for _, path := range []string{filepath.Join(dir, "missing.sh"), hidden, plain} {
		c := dialRaw(t, tn.socket)
		c.send(wire.MsgHello, &wire.Hello{Pid: 1, Program: "probe", DeactivateScript: path})
		var ref wire.Refused
		c.read(wire.MsgRefused, &ref)
		assert.Equal(t, wire.BadParameter, ref.Code, "%s is refused with HA_GS_BAD_PARAMETER", path)
		assert.NotEmpty(t, ref.FFDC, "the refusal has an FFDC id")
		reasons = append(reasons, ref.Reason)
	}
	assert.Equal(t, reasons[0], reasons[1], "a missing file and an unreachable one get the same words")
	assert.Equal(t, reasons[0], reasons[2], "and so does a file the client may not execute")
	logs := tn.logs.String()
	for _, want := range []string{"no such file", "not executable"} {
		assert.Contains(t, logs, want, "the daemon log keeps the reason")
	}
}

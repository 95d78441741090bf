package integration

import (
	"encoding/binary"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhags/hags/internal/harness"
	"github.com/openhags/hags/internal/wire"
)

// runAs runs gsclient as uid/gid against socket, sends it quit, and returns
// its output.
func runAs(t *testing.T, socket string, uid, gid uint32) string {
	t.Helper()
	cmd := exec.Command(filepath.Join(bin, "gsclient"))
	cmd.Env = []string{"HA_GS_SOCKET=" + socket, "PATH=/usr/bin:/bin"}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uid, Gid: gid}}
	cmd.Stdin = strings.NewReader("quit\n")
	out, _ := cmd.CombinedOutput()
	return string(out)
}

func nobody(t *testing.T) (uint32, uint32) {
	t.Helper()
	if os.Geteuid() != 0 {
		// CI runs as root; a developer running as a normal user cannot drop
		// to another uid, so this check cannot be made there.
		t.Skip("needs root to run a client as another user")
	}
	u, err := user.Lookup("nobody")
	require.NoError(t, err, "the nobody user exists")
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return uint32(uid), uint32(gid)
}

// TestUnprivilegedPeerRefused: a process that is neither root nor in the
// client group is refused with HA_GS_PERMISSION_DENIED, and the daemon logs
// the refusal and keeps serving.
func TestUnprivilegedPeerRefused(t *testing.T) {
	uid, gid := nobody(t)
	c := startCluster(t)
	a := c.client("a")
	act(t, func() { require.NoError(t, a.Send("join g 1")) }, `^APPROVED .*proto=JOIN`, a)

	out := runAs(t, c.socket, uid, gid)
	assert.Contains(t, out, "error init HA_GS_PERMISSION_DENIED", "nobody is not admitted")
	_, _, err := c.daemon.Log.WaitFor(regexp.MustCompile(`(?i)refus|denied`), 0, wait)
	assert.NoError(t, err, "the daemon logs the refusal")

	act(t, func() { require.NoError(t, a.Send("state 1 still-serving")) },
		`^APPROVED .*state="still-serving"`, a)
}

// TestClientGroupAdmits: with --client-group naming nobody's group, the
// same process is admitted.
func TestClientGroupAdmits(t *testing.T) {
	uid, gid := nobody(t)
	g, err := user.LookupGroupId(strconv.Itoa(int(gid)))
	require.NoError(t, err)
	socket := filepath.Join(socketDir(t), "hagsd.sock")
	d, err := harness.StartDaemon(filepath.Join(bin, "hagsd"), socket, harness.TestLog(t, "hagsd"), "--client-group", g.Name)
	require.NoError(t, err)
	defer func() { require.NoError(t, d.Stop(wait)) }()
	out := runAs(t, socket, uid, gid)
	assert.Contains(t, out, "ready node=1", "a member of the client group is admitted")
}

// TestBadFramesCloseOnlyThatConnection: garbage, oversized, truncated and
// wrong-version frames each close only the offending connection, with a
// logged reason, while a provider on another connection keeps working.
func TestBadFramesCloseOnlyThatConnection(t *testing.T) {
	c := startCluster(t)
	a := c.client("a")
	act(t, func() { require.NoError(t, a.Send("join g 1")) }, `^APPROVED .*proto=JOIN`, a)

	hello, err := wire.AppendFrame(nil, wire.MsgHello, &wire.Hello{Pid: int32(os.Getpid()), Program: "raw"})
	require.NoError(t, err)
	oversized := binary.BigEndian.AppendUint32(nil, wire.MaxFrameSize+1)
	badVersion := []byte{0, 0, 0, 2, wire.Version + 7, byte(wire.MsgRequest)}
	unknownType := []byte{0, 0, 0, 2, wire.Version, 99}
	badBody := append([]byte{0, 0, 0, 3, wire.Version, byte(wire.MsgRequest)}, 0xc1)
	cases := []struct {
		name  string
		bytes []byte
		half  bool // close our write side to truncate the frame
	}{
		{"garbage before hello", []byte("GET / HTTP/1.1\r\n\r\n"), false},
		{"oversized frame", append(append([]byte{}, hello...), oversized...), false},
		{"wrong version", append(append([]byte{}, hello...), badVersion...), false},
		{"unknown type", append(append([]byte{}, hello...), unknownType...), false},
		{"undecodable body", append(append([]byte{}, hello...), badBody...), false},
		{"truncated frame", append(append([]byte{}, hello...), 0, 0, 0, 50, wire.Version), true},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			conn, err := net.Dial("unix", c.socket)
			require.NoError(t, err)
			defer conn.Close()
			_, err = conn.Write(tc.bytes)
			require.NoError(t, err)
			if tc.half {
				require.NoError(t, conn.(*net.UnixConn).CloseWrite())
			}
			require.NoError(t, conn.SetReadDeadline(time.Now().Add(wait)))
			// Whatever the daemon sends first (Welcome, Refused), it must then close.
			_, err = io.Copy(io.Discard, conn)
			var ne net.Error
			require.False(t, errors.As(err, &ne) && ne.Timeout(), "the daemon closes a connection that sent a bad frame")

			v := "after-" + strconv.Itoa(i)
			act(t, func() { require.NoError(t, a.Send("state 1 %s", v)) }, `^APPROVED .*state="`+v+`"`, a)
		})
	}
}

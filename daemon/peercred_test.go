package daemon

import (
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhags/hags/internal/wire"
)

const helperEnv = "HAGS_DAEMON_TEST_CLIENT_SOCKET"

// TestHelperClientProcess is not a test: TestPeerCredRefusesNobody runs the
// test binary as another user with helperEnv set, and this function then
// acts as that user's client and prints what the daemon answered.
func TestHelperClientProcess(t *testing.T) {
	socket := os.Getenv(helperEnv)
	if socket == "" {
		t.Skip("helper process for TestPeerCredRefusesNobody; runs only when re-executed")
	}
	c, err := net.Dial("unix", socket)
	if err != nil {
		fmt.Printf("dial-error %v\n", err)
		return
	}
	defer c.Close()
	_ = wire.WriteFrame(c, wire.MsgHello, &wire.Hello{Pid: int32(os.Getpid()), Program: "helper"})
	typ, body, err := wire.NewReader(c).Next()
	if err != nil {
		fmt.Printf("read-error %v\n", err)
		return
	}
	switch typ {
	case wire.MsgRefused:
		var r wire.Refused
		_ = wire.Decode(body, &r)
		fmt.Printf("refused %s uid=%d\n", r.Code, os.Getuid())
	case wire.MsgWelcome:
		fmt.Printf("welcome uid=%d\n", os.Getuid())
	default:
		fmt.Printf("unexpected %d\n", typ)
	}
}

// TestPeerCredRefusesNobody runs a client as uid/gid 65534 against the
// default SO_PEERCRED admission: it is neither root nor in the client
// group, so it must be refused with PermissionDenied. Root is admitted.
func TestPeerCredRefusesNobody(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root to run a client as uid 65534 (CI runs as root)")
	}
	dir := shortTempDir(t)
	require.NoError(t, os.Chmod(dir, 0o755), "the socket directory is reachable by others")
	tn := startNode(t, Config{
		Socket:      filepath.Join(dir, "hagsd.sock"),
		ClientGroup: "hags-test-no-such-group",
		Authorize:   nil, // the real SO_PEERCRED check
	}, nil)
	root := dialRaw(t, tn.socket)
	root.hello(false) // root is always admitted

	self, err := os.Executable()
	require.NoError(t, err)
	bin := filepath.Join(dir, "client.test")
	copyFile(t, self, bin)

	cmd := exec.Command(bin, "-test.run=^TestHelperClientProcess$")
	cmd.Env = append(os.Environ(), helperEnv+"="+tn.socket)
	cmd.Dir = dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "the helper runs as nobody: %s", out)
	assert.Contains(t, string(out), "refused HA_GS_PERMISSION_DENIED uid=65534",
		"a client that is neither root nor in the client group is refused with PermissionDenied")
	assert.True(t, strings.Contains(tn.logs.String(), "uid=65534"), "the refusal is logged with the peer's uid")
	root.roundTrip(1)
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	src, err := os.Open(from)
	require.NoError(t, err)
	defer src.Close()
	dst, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	require.NoError(t, err)
	_, err = io.Copy(dst, src)
	require.NoError(t, err)
	require.NoError(t, dst.Close())
}

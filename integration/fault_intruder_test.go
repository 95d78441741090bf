package integration

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhags/hags/internal/harness"
	"github.com/openhags/hags/internal/wire"
)

// flagValue returns the value after name in args.
func flagValue(args []string, name string) string {
	for i := 0; i+1 < len(args); i++ {
		if args[i] == name {
			return args[i+1]
		}
	}
	return ""
}

// TestIntruderDaemonsAreRefused: a domain of three daemons over mutual TLS
// and encrypted gossip (hagsctl domain init) is approached by a daemon that
// holds another CA's keys for the same domain name, and by one with no
// keys at all. Each tries for a while and is refused; neither is ever
// admitted or listed by the domain, which goes on agreeing.
func TestIntruderDaemonsAreRefused(t *testing.T) {
	keys := filepath.Join(t.TempDir(), "keys")
	out, err := exec.Command(filepath.Join(bin, "hagsctl"), "domain", "init", "--dir", keys, "--domain", "multi",
		"--node", "1=node1:127.0.0.1", "--node", "2=node2:127.0.0.1", "--node", "3=node3:127.0.0.1").CombinedOutput()
	require.NoError(t, err, "hagsctl domain init makes the keys: %s", out)
	foreign := filepath.Join(t.TempDir(), "foreign")
	out, err = exec.Command(filepath.Join(bin, "hagsctl"), "domain", "init", "--dir", foreign, "--domain", "multi",
		"--node", "4=node4:127.0.0.1", "--node", "5=node5:127.0.0.1").CombinedOutput()
	require.NoError(t, err, "another CA's keys for the same domain name: %s", out)

	m := startMulti(t, 3, "--pki-dir", keys)
	joinAll(t, m, "g", "p1", "p2", "p3")
	voters, join := flagValue(m.args[0], "--voters"), flagValue(m.args[0], "--join")
	ports := freePorts(t, 4)

	for k, intruder := range []struct {
		name string
		node int
		pki  []string
	}{
		{"foreign CA", 4, []string{"--pki-dir", foreign}},
		{"no keys", 5, []string{"--insecure"}},
	} {
		t.Run(intruder.name, func(t *testing.T) {
			args := []string{"--domain", "multi", "--node", fmt.Sprint(intruder.node), "--voters", voters,
				"--addr", fmt.Sprintf("127.0.0.1:%d", ports[2*k]), "--gossip", fmt.Sprintf("127.0.0.1:%d", ports[2*k+1]),
				"--join", join, "--data-dir", filepath.Join(m.dir, fmt.Sprintf("intruder%d", intruder.node))}
			args = append(args, intruder.pki...)
			socket := filepath.Join(m.dir, fmt.Sprintf("intruder%d.sock", intruder.node))
			mark := len(m.daemons[0].Log.All())
			d, err := harness.StartDaemon(filepath.Join(bin, "hagsd"), socket, harness.TestLog(t, "intruder"), args...)
			require.NoError(t, err, "the intruder's hagsd starts")
			defer d.Kill()
			// The intruder keeps trying to join: the domain cannot read
			// its gossip, which is under another key or none, and says
			// so each time.
			refusal := regexp.MustCompile(`(?i)no installed keys could decrypt|not encrypted|unknown authority`)
			for range 5 {
				_, at, err := m.daemons[0].Log.WaitFor(refusal, mark, wait)
				require.NoError(t, err, "the domain refuses the intruder's gossip and logs it")
				mark = at + 1
			}
			for i := range 3 {
				st := status(t, m.sockets[i])
				for _, ns := range st.Nodes {
					assert.NotEqual(t, int32(intruder.node), ns.Node, "node %d does not list the intruder", i+1)
				}
			}
			for _, l := range d.Log.All() {
				assert.NotRegexp(t, admittedRe, l, "the intruder is never admitted")
			}
			v := fmt.Sprintf("after-intruder-%d", intruder.node)
			act(t, func() { require.NoError(t, m.clients["p1"].Send("state 1 %s", v)) },
				`^APPROVED .*state="`+v+`"`, m.all("p1", "p2", "p3")...)
		})
	}
}

// TestForeignTokenIsRefused: a client that presents a token another
// client's session holds (a provider token, in a request of every kind)
// gets HA_GS_BAD_MEMBER_TOKEN through its delayed errors, and the group
// and the token's owner see nothing of it.
func TestForeignTokenIsRefused(t *testing.T) {
	c := startCluster(t)
	owner := c.client("owner")
	act(t, func() { require.NoError(t, owner.Send("join g 1")) }, `^APPROVED .*proto=JOIN`, owner)

	conn, err := net.Dial("unix", c.socket)
	require.NoError(t, err)
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(wait))
	r := wire.NewReader(conn)
	require.NoError(t, wire.WriteFrame(conn, wire.MsgHello, &wire.Hello{Pid: int32(os.Getpid()), Program: "thief"}))
	typ, _, err := r.Next()
	require.NoError(t, err)
	require.Equal(t, wire.MsgWelcome, typ, "the thief is a client like any other")

	mark := owner.Mark()
	reqs := []*wire.Request{
		{Op: wire.OpChangeState, Token: 1, NumPhases: wire.OnePhase, State: []byte("stolen")},
		{Op: wire.OpSendMessage, Token: 1, NumPhases: wire.OnePhase, Message: []byte("stolen")},
		{Op: wire.OpLeave, Token: 1, NumPhases: wire.OnePhase},
		{Op: wire.OpGoodbye, Token: 1},
		{Op: wire.OpExpel, Token: 1, NumPhases: wire.OnePhase, ExpelList: []wire.Provider{{Instance: 1, Node: 1}}},
		{Op: wire.OpVote, Token: 1, Vote: wire.VoteReject},
		{Op: wire.OpUnsubscribe, Token: 1},
		{Op: wire.OpChangeAttributes, Token: 1, NumPhases: wire.OnePhase,
			Attributes: &wire.Attributes{GroupName: "g", NumPhases: wire.OnePhase, DefaultVote: wire.VoteReject}},
	}
	for _, req := range reqs {
		require.NoError(t, wire.WriteFrame(conn, wire.MsgRequest, req))
		typ, body, err := r.Next()
		require.NoError(t, err, "the daemon answers the thief's %s", req.Op)
		require.Equal(t, wire.MsgNotification, typ)
		var n wire.Notification
		require.NoError(t, wire.Decode(body, &n))
		assert.Equal(t, wire.DelayedErrorNotification, n.Type, "the thief's %s is refused", req.Op)
		assert.Equal(t, wire.BadMemberToken, n.Code, "a token of another session is a bad member token (%s)", req.Op)
	}
	act(t, func() { require.NoError(t, owner.Send("state 1 mine")) }, `^APPROVED .*state="mine"`, owner)
	for _, l := range owner.Out.All()[mark:] {
		assert.NotContains(t, l, "stolen", "the owner hears nothing of the thief")
		assert.NotContains(t, l, "proto=LEAVE", "the owner hears nothing of the thief")
	}
}

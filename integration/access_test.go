package integration

import (
	"fmt"
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

// These tests run clients as users other than root: nobody, and uid 4242
// (a uid with no account, in nobody's group), which the daemon admits
// through --client-group naming nobody's group.

// otherUID is the second unprivileged user of the access tests.
const otherUID = 4242

// unprivileged returns the credentials of nobody and of otherUID, and the
// name of their group, to pass to --client-group.
func unprivileged(t *testing.T) (owner, other *syscall.Credential, group string) {
	t.Helper()
	uid, gid := nobody(t)
	g, err := user.LookupGroupId(strconv.Itoa(int(gid)))
	require.NoError(t, err, "nobody's group has a name")
	return &syscall.Credential{Uid: uid, Gid: gid}, &syscall.Credential{Uid: otherUID, Gid: gid}, g.Name
}

// clientAs starts gsclient as cred.
func (c *cluster) clientAs(name string, cred *syscall.Credential, args ...string) *harness.Client {
	c.t.Helper()
	cl, err := harness.StartClientAs(cred, filepath.Join(bin, "gsclient"), name, c.socket, harness.TestLog(c.t, name), args...)
	require.NoError(c.t, err, "%s starts as uid %d", name, cred.Uid)
	c.clients[name] = cl
	return cl
}

// rawPeer is a client that writes frames itself, through peerrelay running
// as another user: what a hostile program that skips the library sends.
type rawPeer struct {
	t   *testing.T
	in  *os.File // the relay's stdin
	out *os.File // the relay's stdout
	r   *wire.Reader
}

func dialAs(t *testing.T, socket string, cred *syscall.Credential) *rawPeer {
	t.Helper()
	cmd := exec.Command(filepath.Join(bin, "peerrelay"))
	cmd.Env = []string{"HA_GS_SOCKET=" + socket}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	cmd.Stderr = os.Stderr
	inR, inW, err := os.Pipe()
	require.NoError(t, err)
	outR, outW, err := os.Pipe()
	require.NoError(t, err)
	cmd.Stdin, cmd.Stdout = inR, outW
	require.NoError(t, cmd.Start(), "peerrelay starts as uid %d", cred.Uid)
	inR.Close()
	outW.Close()
	t.Cleanup(func() {
		inW.Close()
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		outR.Close()
	})
	return &rawPeer{t: t, in: inW, out: outR, r: wire.NewReader(outR)}
}

func (p *rawPeer) send(typ wire.MsgType, body any) {
	p.t.Helper()
	require.NoError(p.t, wire.WriteFrame(p.in, typ, body), "the relay takes a frame")
}

func (p *rawPeer) read(want wire.MsgType, v any) {
	p.t.Helper()
	require.NoError(p.t, p.out.SetReadDeadline(time.Now().Add(wait)))
	typ, body, err := p.r.Next()
	require.NoError(p.t, err, "a frame of type %d arrives", want)
	require.Equal(p.t, want, typ, "the daemon sends a frame of type %d", want)
	require.NoError(p.t, wire.Decode(body, v))
}

func (p *rawPeer) hello(h wire.Hello) {
	p.t.Helper()
	p.send(wire.MsgHello, &h)
	var w wire.Welcome
	p.read(wire.MsgWelcome, &w)
}

func (p *rawPeer) notification() wire.Notification {
	p.t.Helper()
	var n wire.Notification
	p.read(wire.MsgNotification, &n)
	return n
}

func joinRequest(token int32, group string, inst int32) *wire.Request {
	return &wire.Request{Op: wire.OpJoin, Token: token, Group: group, Instance: inst,
		Attributes: &wire.Attributes{GroupName: group, NumPhases: wire.OnePhase, DefaultVote: wire.VoteApprove}}
}

// TestOtherUsersGroupIsRefused: nobody creates a group. A process of
// another uid, speaking the protocol itself, tries what the issue's
// attacker did: join it, expel its provider with a flag of its choosing,
// change its state and its attributes. Each is refused with
// HA_GS_PERMISSION_DENIED; the owner hears of none of it and its group is
// unchanged. A root client may join.
func TestOtherUsersGroupIsRefused(t *testing.T) {
	owner, other, group := unprivileged(t)
	c := startCluster(t, "--client-group", group)
	o := c.clientAs("owner", owner)
	act(t, func() { require.NoError(t, o.Send("join app 1")) }, `^APPROVED .*proto=JOIN`, o)
	mark := o.Mark()

	a := dialAs(t, c.socket, other)
	a.hello(wire.Hello{Pid: 1, Program: "attacker"})
	a.send(wire.MsgRequest, joinRequest(1, "app", 9))
	n := a.notification()
	assert.Equal(t, wire.DelayedErrorNotification, n.Type, "the join is refused")
	assert.Equal(t, wire.PermissionDenied, n.Code, "with HA_GS_PERMISSION_DENIED")
	flag := "-rf /"
	attrs := wire.Attributes{GroupName: "app", NumPhases: wire.NPhase, DefaultVote: wire.VoteReject}
	for _, req := range []*wire.Request{
		{Op: wire.OpExpel, Token: 1, NumPhases: wire.OnePhase, ExpelList: []wire.Provider{{Instance: 1, Node: 1}},
			DeactivatePhase: 1, DeactivateFlag: &flag},
		{Op: wire.OpChangeState, Token: 1, NumPhases: wire.OnePhase, State: []byte("mine")},
		{Op: wire.OpChangeAttributes, Token: 1, NumPhases: wire.OnePhase, Attributes: &attrs},
	} {
		a.send(wire.MsgRequest, req)
		n := a.notification()
		assert.Equal(t, wire.DelayedErrorNotification, n.Type, "%s with the refused token is refused", req.Op)
		assert.Equal(t, wire.PermissionDenied, n.Code, "%s: HA_GS_PERMISSION_DENIED", req.Op)
	}

	// The owner's next notification is its own state change: it heard
	// nothing of the attempts, and its group still holds only itself.
	act(t, func() { require.NoError(t, o.Send("state 1 after")) }, `^APPROVED .*state="after"`, o)
	for _, l := range o.Out.All()[mark:] {
		assert.Regexp(t, `^APPROVED .*proto=STATE_VALUE_CHANGE .*members=1@1 `, l, "the owner hears only its own change")
	}

	// Root may join anyone's group.
	r := c.client("root")
	act(t, func() { require.NoError(t, r.Send("join app 2")) }, `^APPROVED .*proto=JOIN .*changing=2@1`, o, r)
	out, err := exec.Command(filepath.Join(bin, "hagsctl"), "--socket", c.socket, "group", "app").CombinedOutput()
	require.NoError(t, err, "hagsctl group: %s", out)
	assert.Regexp(t, fmt.Sprintf(`(?m)^owner\s+uid %d$`, owner.Uid), string(out), "hagsctl shows nobody as the owner")
}

// TestReservedGroupsAreRoots: a hags.* group is created and joined by root
// only. Through the library a non-root join fails at once; a raw client
// gets a delayed HA_GS_PERMISSION_DENIED; the open mode changes nothing;
// root joins.
func TestReservedGroupsAreRoots(t *testing.T) {
	owner, other, group := unprivileged(t)
	c := startCluster(t, "--client-group", group, "--group-access", "open")
	n := c.clientAs("nobody", owner)
	mark := n.Mark()
	require.NoError(t, n.Send("join hags.rm 1"))
	expect(t, n, `^error join HA_GS_PERMISSION_DENIED$`, mark)

	a := dialAs(t, c.socket, other)
	a.hello(wire.Hello{Pid: 1, Program: "raw"})
	a.send(wire.MsgRequest, joinRequest(1, "hags.rm", 1))
	note := a.notification()
	assert.Equal(t, wire.DelayedErrorNotification, note.Type, "the daemon refuses a raw client too")
	assert.Equal(t, wire.PermissionDenied, note.Code, "with HA_GS_PERMISSION_DENIED")

	r := c.client("root")
	act(t, func() { require.NoError(t, r.Send("join hags.rm 1")) }, `^APPROVED .*proto=JOIN`, r)
	a.send(wire.MsgRequest, joinRequest(2, "hags.rm", 2))
	note = a.notification()
	assert.Equal(t, wire.PermissionDenied, note.Code, "nor may it join root's reserved group, open mode or not")
	mark = n.Mark()
	require.NoError(t, n.Send("subscribe hags.rm"))
	expect(t, n, `^SUBSCRIPTION .*group=hags.rm .*members=1@1`, mark)
}

// TestOpenModeAndRulesGrant: --group-access=open lets any admitted client
// join another uid's group, as RSCT did; in the owner mode a rule file
// naming the uid does the same for the groups it names, and no more.
func TestOpenModeAndRulesGrant(t *testing.T) {
	owner, other, group := unprivileged(t)
	rules := filepath.Join(socketDir(t), "groups.rules")
	require.NoError(t, os.WriteFile(rules, []byte(fmt.Sprintf("# granted\nshared.* user:%d\n", otherUID)), 0o644))
	for _, mode := range []struct {
		name  string
		args  []string
		group string
	}{
		{"open", []string{"--group-access", "open"}, "app"},
		{"rules", []string{"--group-rules", rules}, "shared.db"},
	} {
		t.Run(mode.name, func(t *testing.T) {
			c := startCluster(t, append([]string{"--client-group", group}, mode.args...)...)
			o := c.clientAs("owner", owner)
			act(t, func() { require.NoError(t, o.Send("join %s 1", mode.group)) }, `^APPROVED .*proto=JOIN`, o)
			g := c.clientAs("granted", other)
			act(t, func() { require.NoError(t, g.Send("join %s 2", mode.group)) }, `^APPROVED .*proto=JOIN .*changing=2@1`, o, g)
			if mode.name != "rules" {
				return
			}
			// The rule names shared.*, not the owner's other groups.
			act(t, func() { require.NoError(t, o.Send("join private 3")) }, `^APPROVED .*group=private .*proto=JOIN`, o)
			mark := g.Mark()
			require.NoError(t, g.Send("join private 4"))
			expect(t, g, `^DELAYED_ERROR .*group=private .*code=HA_GS_PERMISSION_DENIED`, mark)
		})
	}
}

// TestBadGroupRulesStopHagsd: a rule file with a mistake keeps hagsd from
// starting, and the message names the file and the line.
func TestBadGroupRulesStopHagsd(t *testing.T) {
	dir := socketDir(t)
	rules := filepath.Join(dir, "groups.rules")
	require.NoError(t, os.WriteFile(rules, []byte("# fine\napp.* user:0\napp.db someone\n"), 0o644))
	cmd := exec.Command(filepath.Join(bin, "hagsd"), "--socket", filepath.Join(dir, "hagsd.sock"), "--group-rules", rules)
	done := make(chan struct{})
	var out []byte
	var err error
	go func() { out, err = cmd.CombinedOutput(); close(done) }()
	select {
	case <-done:
	case <-time.After(wait):
		_ = cmd.Process.Kill()
		<-done
		t.Fatalf("hagsd did not stop on a bad rule file:\n%s", out)
	}
	var ee *exec.ExitError
	require.ErrorAs(t, err, &ee, "hagsd exits with an error")
	assert.Equal(t, 2, ee.ExitCode(), "a configuration error exits 2")
	assert.Contains(t, string(out), rules+":3:", "the message names the file and line")
	_, statErr := os.Stat(filepath.Join(dir, "hagsd.sock"))
	assert.True(t, os.IsNotExist(statErr), "hagsd never served")
}

// TestScriptArgumentsStartWithDoubleDash: a group whose name looks like an
// option reaches the expelled provider's script after "--", which ends the
// options of any program that follows the getopt convention.
func TestScriptArgumentsStartWithDoubleDash(t *testing.T) {
	dir := harness.ScriptDir(t)
	record := filepath.Join(dir, "argv")
	script := filepath.Join(dir, "record.sh")
	require.NoError(t, os.WriteFile(script, []byte("#!/bin/sh\nfor a in \"$@\"; do printf '%s\\n' \"$a\"; done > "+record+"\n"), 0o755))
	c := startCluster(t)
	p1 := c.client("p1")
	p2 := c.client("p2", "--deactivate-script", script)
	const group = "-Sx"
	act(t, func() { require.NoError(t, p1.Send("join %s 1", group)) }, `^APPROVED .*proto=JOIN`, p1)
	act(t, func() { require.NoError(t, p2.Send("join %s 2", group)) }, `^APPROVED .*proto=JOIN .*changing=2@1`, p1, p2)
	act(t, func() { require.NoError(t, p1.Send("expel 1 2@1 dphase=1 limit=20 flag=-rf")) },
		`^APPROVED .*proto=EXPEL .*deactivate=OK`, p1)
	got, err := os.ReadFile(record)
	require.NoError(t, err, "the script ran")
	want := fmt.Sprintf("--\n%s\n2\n1\n%d\nexpel\n-rf\n", group, p2.Pid())
	assert.Equal(t, want, string(got), "the arguments are --, group, instance, node, pid, reason, flag")
}

// TestUnsafeRootScriptRefused: root registers a script in a directory its
// group may write; ha_gs_init fails with HA_GS_BAD_PARAMETER.
func TestUnsafeRootScriptRefused(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("the rule is about scripts registered by root")
	}
	dir := filepath.Join(harness.ScriptDir(t), "shared")
	require.NoError(t, os.Mkdir(dir, 0o775))
	require.NoError(t, os.Chmod(dir, 0o775))
	script := filepath.Join(dir, "deactivate.sh")
	require.NoError(t, os.WriteFile(script, []byte("#!/bin/sh\nexit 0\n"), 0o755))
	c := startCluster(t)
	cmd := exec.Command(filepath.Join(bin, "gsclient"), "--deactivate-script", script)
	cmd.Env = []string{"HA_GS_SOCKET=" + c.socket}
	cmd.Stdin = strings.NewReader("quit\n")
	out, _ := cmd.CombinedOutput()
	assert.Contains(t, string(out), "error init HA_GS_BAD_PARAMETER", "the script is refused")
	_, _, err := c.daemon.Log.WaitFor(regexp.MustCompile(regexp.QuoteMeta("may be changed by another user than root")), 0, wait)
	assert.NoError(t, err, "the daemon log says why")
}

// TestScriptProbeAnswersAlike: a raw client (so that the library's own
// check does not stop it first) registers a missing file, a file in a
// directory only root may search, and a file it may not execute. The
// daemon answers all three with the same code and words.
func TestScriptProbeAnswersAlike(t *testing.T) {
	owner, _, group := unprivileged(t)
	dir := harness.ScriptDir(t)
	private := filepath.Join(dir, "private")
	require.NoError(t, os.Mkdir(private, 0o700))
	require.NoError(t, os.WriteFile(filepath.Join(private, "s.sh"), []byte("#!/bin/sh\n"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "data"), []byte("x\n"), 0o644))
	c := startCluster(t, "--client-group", group)
	var reasons []string
	for _, path := range []string{filepath.Join(dir, "missing"), filepath.Join(private, "s.sh"), filepath.Join(dir, "data")} {
		p := dialAs(t, c.socket, owner)
		p.send(wire.MsgHello, &wire.Hello{Pid: 1, Program: "probe", DeactivateScript: path})
		var ref wire.Refused
		p.read(wire.MsgRefused, &ref)
		assert.Equal(t, wire.BadParameter, ref.Code, "%s is refused with HA_GS_BAD_PARAMETER", path)
		reasons = append(reasons, ref.Reason)
	}
	assert.Equal(t, reasons[0], reasons[1], "a missing file and one out of reach are refused alike")
	assert.Equal(t, reasons[0], reasons[2], "and so is one the client may not execute")
}

package failover_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhags/hags/failover"
	"github.com/openhags/hags/failover/engine"
	"github.com/openhags/hags/failover/internal/mgmt"
	"github.com/openhags/hags/failover/internal/mgmt/mgmttest"
	"github.com/openhags/hags/internal/peercred"
)

// server serves a Fake on a real Unix socket and returns it and a
// connected Client. access, when given, replaces the admission rule.
func server(t *testing.T, access ...failover.Access) (*mgmttest.Fake, *failover.Client, string) {
	t.Helper()
	dir, err := os.MkdirTemp("", "rm") // short: socket paths are limited to 108 bytes
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	sock := filepath.Join(dir, "hagsrmd.sock")
	ln, err := net.Listen("unix", sock)
	require.NoError(t, err)
	fake := mgmttest.New()
	cfg := mgmt.Config{Backend: fake, Logger: slog.New(slog.NewTextHandler(testWriter{t}, nil))}
	if len(access) > 0 {
		cfg.AccessOf = func(peercred.Peer) failover.Access { return access[0] }
	}
	srv, err := mgmt.New(cfg)
	require.NoError(t, err)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	t.Cleanup(func() {
		require.NoError(t, srv.Close(), "the server closes")
		require.ErrorIs(t, <-served, mgmt.ErrClosed, "Serve returns ErrClosed after Close")
		fake.Close()
	})
	if len(access) > 0 && access[0] == failover.AccessNone {
		return fake, nil, sock
	}
	c, err := failover.Dial(context.Background(), failover.WithSocket(sock))
	require.NoError(t, err, "the client connects")
	t.Cleanup(func() { c.Close() })
	return fake, c, sock
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// codeOf returns the code err carries, failing the test when it carries
// none.
func codeOf(t *testing.T, err error) failover.Code {
	t.Helper()
	c, ok := failover.CodeOf(err)
	require.True(t, ok, "the error carries a code: %v", err)
	return c
}

// TestMovingAGroup plays "Moving a Group": open the group, read its
// owner, open NodeB, move the group there, get ERROR_IO_PENDING, poll its
// state until it is no longer Pending, find it Online on NodeB.
func TestMovingAGroup(t *testing.T) {
	_, c, _ := server(t)
	ctx := ctxT(t)
	g, err := c.CreateGroup(ctx, "Application Group", nil)
	require.NoError(t, err)
	_, err = c.CreateResource(ctx, failover.ResourceSpec{Name: "db", Group: "Application Group", Agent: "ocf:heartbeat:Dummy"})
	require.NoError(t, err)
	require.ErrorIs(t, g.Online(ctx), failover.ErrIOPending, "bringing a group online goes on after the call")
	info, err := g.Wait(ctx)
	require.NoError(t, err)
	require.Equal(t, failover.GroupOnline, info.State, "the group came online")

	g, err = c.OpenGroup(ctx, "Application Group")
	require.NoError(t, err, "ApiOpenGroup")
	info, err = g.State(ctx)
	require.NoError(t, err, "ApiGetGroupState")
	assert.Equal(t, "NodeA", info.Owner, "a new group is owned by the node that created it")
	nodeB, err := c.OpenNode(ctx, "NodeB")
	require.NoError(t, err, "ApiOpenNode")
	err = g.MoveTo(ctx, nodeB)
	require.ErrorIs(t, err, failover.ErrIOPending, "ApiMoveGroupToNode returns ERROR_IO_PENDING")
	assert.Equal(t, failover.CodeIOPending, codeOf(t, err))
	require.Eventually(t, func() bool {
		info, err = g.State(ctx)
		return err == nil && info.State != failover.GroupPending
	}, 10*time.Second, 5*time.Millisecond, "polling ApiGetGroupState sees the group leave Pending")
	assert.Equal(t, failover.GroupOnline, info.State, "the move completed Online")
	assert.Equal(t, "NodeB", info.Owner, "NodeB owns the group")
	assert.Equal(t, int32(failover.GroupOnline), info.StateValue, "state_value is the state's number")

	require.NoError(t, g.MoveTo(ctx, nodeB), "moving to the owner is ERROR_SUCCESS at once")
}

// opCall is one mutating operation through the Client.
type opCall struct {
	op   engine.Op
	call func(ctx context.Context, c *failover.Client, h handles) error
}

type handles struct {
	g *failover.Group
	r *failover.Resource
	n *failover.Node
}

var mutatingCalls = []opCall{
	{engine.OpCreateGroup, func(ctx context.Context, c *failover.Client, _ handles) error {
		_, err := c.CreateGroup(ctx, "g2", nil)
		return err
	}},
	{engine.OpDeleteGroup, func(ctx context.Context, _ *failover.Client, h handles) error { return h.g.Delete(ctx) }},
	{engine.OpCreateResource, func(ctx context.Context, c *failover.Client, _ handles) error {
		_, err := c.CreateResource(ctx, failover.ResourceSpec{Name: "r2", Group: "g", Agent: "exec",
			Params: map[string]string{"command": "sleep 100"}})
		return err
	}},
	{engine.OpDeleteResource, func(ctx context.Context, _ *failover.Client, h handles) error { return h.r.Delete(ctx) }},
	{engine.OpOnlineResource, func(ctx context.Context, _ *failover.Client, h handles) error { return h.r.Online(ctx) }},
	{engine.OpOfflineResource, func(ctx context.Context, _ *failover.Client, h handles) error { return h.r.Offline(ctx) }},
	{engine.OpFailResource, func(ctx context.Context, _ *failover.Client, h handles) error { return h.r.Fail(ctx) }},
	{engine.OpOnlineGroup, func(ctx context.Context, _ *failover.Client, h handles) error { return h.g.Online(ctx) }},
	{engine.OpOfflineGroup, func(ctx context.Context, _ *failover.Client, h handles) error { return h.g.Offline(ctx) }},
	{engine.OpMoveGroup, func(ctx context.Context, _ *failover.Client, h handles) error { return h.g.MoveTo(ctx, h.n) }},
	{engine.OpPauseNode, func(ctx context.Context, _ *failover.Client, h handles) error { return h.n.Pause(ctx, true) }},
	{engine.OpResumeNode, func(ctx context.Context, _ *failover.Client, h handles) error { return h.n.Resume(ctx) }},
	{engine.OpSetGroupOwners, func(ctx context.Context, _ *failover.Client, h handles) error {
		return h.g.SetOwners(ctx, "NodeB", "NodeA")
	}},
	{engine.OpAddResourceOwner, func(ctx context.Context, _ *failover.Client, h handles) error { return h.r.AddOwner(ctx, h.n) }},
	{engine.OpRemoveResourceOwner, func(ctx context.Context, _ *failover.Client, h handles) error {
		return h.r.RemoveOwner(ctx, h.n)
	}},
	{engine.OpSetDependency, func(ctx context.Context, _ *failover.Client, h handles) error {
		return h.r.SetDependency(ctx, "([a] or [b]) and [c]")
	}},
	{engine.OpLockResource, func(ctx context.Context, _ *failover.Client, h handles) error { return h.r.Lock(ctx) }},
	{engine.OpUnlockResource, func(ctx context.Context, _ *failover.Client, h handles) error { return h.r.Unlock(ctx) }},
	{engine.OpCleanupResource, func(ctx context.Context, _ *failover.Client, h handles) error { return h.r.Cleanup(ctx) }},
	{engine.OpSetResourceProps, func(ctx context.Context, _ *failover.Client, h handles) error {
		return h.r.Set(ctx, map[string]string{"restart-delay": "1s"})
	}},
	{engine.OpSetGroupProps, func(ctx context.Context, _ *failover.Client, h handles) error {
		return h.g.Set(ctx, map[string]string{"failover-period": "1h"})
	}},
	{engine.OpSetResourceParams, func(ctx context.Context, _ *failover.Client, h handles) error {
		return h.r.SetParams(ctx, map[string]string{"state": "/tmp/x"})
	}},
	{engine.OpSetNodeFence, func(ctx context.Context, _ *failover.Client, h handles) error {
		return h.n.SetFenceCommand(ctx, "/usr/sbin/fence_dummy")
	}},
	{engine.OpApplyConfig, func(ctx context.Context, c *failover.Client, _ handles) error {
		return c.ApplyConfig(ctx, &failover.Config{Groups: []failover.GroupConfig{{Name: "g",
			GroupProperties: failover.DefaultGroupProperties()}}})
	}},
	{engine.OpConfirmFenced, func(ctx context.Context, _ *failover.Client, h handles) error { return h.n.ConfirmFenced(ctx) }},
}

func openAll(t *testing.T, ctx context.Context, c *failover.Client) handles {
	t.Helper()
	var h handles
	var err error
	h.g, err = c.CreateGroup(ctx, "g", nil)
	require.NoError(t, err)
	h.r, err = c.CreateResource(ctx, failover.ResourceSpec{Name: "r", Group: "g", Agent: "ocf:heartbeat:Dummy"})
	require.NoError(t, err)
	h.n, err = c.OpenNode(ctx, "NodeB")
	require.NoError(t, err)
	return h
}

// TestEveryCodeRoundTrips: whatever code the manager answers an operation
// with, the Client returns it (nil for ERROR_SUCCESS, an *Error that
// errors.Is matches with the code's sentinel otherwise) with its message,
// for every mutating operation of the API.
func TestEveryCodeRoundTrips(t *testing.T) {
	fake, c, _ := server(t)
	ctx := ctxT(t)
	h := openAll(t, ctx, c)
	covered := map[engine.Op]bool{}
	for _, oc := range mutatingCalls {
		covered[oc.op] = true
		for _, code := range failover.AllCodes() {
			msg := fmt.Sprintf("scripted %s for op %d", code, oc.op)
			create := oc.op == engine.OpCreateGroup || oc.op == engine.OpCreateResource
			if !(create && code == failover.CodeSuccess) {
				// A create's success is the model's: the server opens a
				// handle on what was created, so it must exist.
				fake.Script(oc.op, mgmttest.Reply{Code: code, Message: msg})
			}
			before := len(fake.Requests())
			err := oc.call(ctx, c, h)
			require.Len(t, fake.Requests(), before+1, "op %d reaches the manager once", oc.op)
			assert.Equal(t, oc.op, fake.Requests()[before].Op, "the client's call is engine op %d", oc.op)
			if code == failover.CodeSuccess {
				assert.NoError(t, err, "op %d: ERROR_SUCCESS is no error", oc.op)
				continue
			}
			var fe *failover.Error
			require.ErrorAs(t, err, &fe, "op %d: %s comes back as an *Error", oc.op, code)
			assert.Equal(t, code, fe.Code, "op %d: the code is the manager's", oc.op)
			assert.Equal(t, msg, fe.Message, "op %d: the message is the manager's", oc.op)
			assert.ErrorIs(t, err, &failover.Error{Code: code}, "op %d: errors.Is matches %s", oc.op, code)
		}
	}
	for op := engine.OpCreateGroup; op <= engine.OpConfirmFenced; op++ {
		assert.True(t, covered[op], "engine op %d is reachable through the Client", op)
	}
}

// TestHandleCarriesTheObjectsUID: a mutating request through a handle
// carries the UID of the object it was opened on, so that the engine can
// tell a group from a later one of the same name.
func TestHandleCarriesTheObjectsUID(t *testing.T) {
	fake, c, _ := server(t)
	ctx := ctxT(t)
	h := openAll(t, ctx, c)
	info, err := h.g.State(ctx)
	require.NoError(t, err)
	require.NoError(t, h.g.SetOwners(ctx, "NodeA"))
	reqs := fake.Requests()
	last := reqs[len(reqs)-1]
	assert.Equal(t, "g", last.Group, "the request names the group")
	assert.Equal(t, info.UID, last.Handle, "the request carries the group's UID")
	assert.NotZero(t, last.Handle, "a UID is never 0")
}

// TestStaleAndClosedHandles: a handle on a group or resource deleted
// since gives ERROR_GROUP_NOT_AVAILABLE / ERROR_RESOURCE_NOT_AVAILABLE,
// also once another object of the same name exists; a closed handle gives
// ERROR_INVALID_HANDLE.
func TestStaleAndClosedHandles(t *testing.T) {
	_, c, _ := server(t)
	ctx := ctxT(t)
	h := openAll(t, ctx, c)
	r2, err := c.OpenResource(ctx, "r")
	require.NoError(t, err)
	require.NoError(t, r2.Delete(ctx))
	_, err = h.r.State(ctx)
	assert.ErrorIs(t, err, failover.ErrResourceNotAvailable, "the deleted resource's handle")
	assert.ErrorIs(t, h.r.Online(ctx), failover.ErrResourceNotAvailable, "an operation through it")
	_, err = h.r.Why(ctx)
	assert.ErrorIs(t, err, failover.ErrResourceNotAvailable, "why through it")

	g2, err := c.OpenGroup(ctx, "g")
	require.NoError(t, err)
	require.NoError(t, g2.Delete(ctx))
	_, err = c.CreateGroup(ctx, "g", nil)
	require.NoError(t, err, "a new group of the same name")
	_, err = h.g.State(ctx)
	assert.ErrorIs(t, err, failover.ErrGroupNotAvailable, "the old handle does not reach the new group")
	assert.ErrorIs(t, h.g.Online(ctx), failover.ErrGroupNotAvailable, "nor does an operation through it")

	require.NoError(t, g2.Close(), "closing a handle")
	_, err = g2.State(ctx)
	assert.ErrorIs(t, err, failover.ErrInvalidHandle, "a closed handle")
	assert.ErrorIs(t, g2.Close(), failover.ErrInvalidHandle, "closing it again")
	require.NoError(t, h.n.Close())
	assert.ErrorIs(t, h.g.MoveTo(ctx, h.n), failover.ErrInvalidHandle, "a closed node handle as a destination")
	_, err = h.n.State(ctx)
	assert.ErrorIs(t, err, failover.ErrInvalidHandle, "a closed node handle")
}

// TestOpenUnknownNames: names that exist nowhere, and names that cannot.
func TestOpenUnknownNames(t *testing.T) {
	_, c, _ := server(t)
	ctx := ctxT(t)
	_, err := c.OpenGroup(ctx, "nope")
	assert.ErrorIs(t, err, failover.ErrGroupNotFound)
	_, err = c.OpenResource(ctx, "nope")
	assert.ErrorIs(t, err, failover.ErrResourceNotFound)
	_, err = c.OpenNode(ctx, "NodeZ")
	assert.ErrorIs(t, err, failover.ErrClusterNodeNotFound)
	_, err = c.OpenGroup(ctx, "bad[name]")
	assert.ErrorIs(t, err, failover.ErrInvalidName)
	_, err = c.OpenResource(ctx, "")
	assert.ErrorIs(t, err, failover.ErrInvalidName)
	_, err = c.OpenNode(ctx, "")
	assert.ErrorIs(t, err, failover.ErrClusterNodeNotFound)
}

// TestMalformedRequestsChangeNothing: every request the server can judge
// bad by itself gets its code and never reaches the manager.
func TestMalformedRequestsChangeNothing(t *testing.T) {
	fake, c, _ := server(t)
	ctx := ctxT(t)
	h := openAll(t, ctx, c)
	before := len(fake.Requests())
	long := strings.Repeat("x", 256)
	cases := []struct {
		name string
		call func() error
		want failover.Code
	}{
		{"group name with a bracket", func() error { _, err := c.CreateGroup(ctx, "a]b", nil); return err }, failover.CodeInvalidName},
		{"empty group name", func() error { _, err := c.CreateGroup(ctx, "", nil); return err }, failover.CodeInvalidName},
		{"group name of 256 bytes", func() error { _, err := c.CreateGroup(ctx, long, nil); return err }, failover.CodeInvalidName},
		{"group name with a control character", func() error { _, err := c.CreateGroup(ctx, "a\nb", nil); return err }, failover.CodeInvalidName},
		{"unknown group property", func() error {
			_, err := c.CreateGroup(ctx, "x", map[string]string{"colour": "red"})
			return err
		}, failover.CodeInvalidParameter},
		{"bad resource name", func() error {
			_, err := c.CreateResource(ctx, failover.ResourceSpec{Name: "[r]", Group: "g", Agent: "exec"})
			return err
		}, failover.CodeInvalidName},
		{"malformed agent", func() error {
			_, err := c.CreateResource(ctx, failover.ResourceSpec{Name: "x", Group: "g", Agent: "ocf:../../bin:sh"})
			return err
		}, failover.CodeInvalidParameter},
		{"bad parameter name", func() error {
			_, err := c.CreateResource(ctx, failover.ResourceSpec{Name: "x", Group: "g", Agent: "exec",
				Params: map[string]string{"a-b": "1"}})
			return err
		}, failover.CodeInvalidParameter},
		{"parameter with a NUL", func() error { return h.r.SetParams(ctx, map[string]string{"a": "x\x00y"}) }, failover.CodeInvalidParameter},
		{"bad resource property value", func() error {
			_, err := c.CreateResource(ctx, failover.ResourceSpec{Name: "x", Group: "g", Agent: "exec",
				Props: map[string]string{"restart-delay": "soon"}})
			return err
		}, failover.CodeInvalidParameter},
		{"no property to set", func() error { return h.r.Set(ctx, nil) }, failover.CodeInvalidParameter},
		{"negative threshold", func() error { return h.g.Set(ctx, map[string]string{"failover-threshold": "-5"}) }, failover.CodeInvalidParameter},
		{"malformed dependency", func() error { return h.r.SetDependency(ctx, "[a] and or [b]") }, failover.CodeInvalidParameter},
		{"unclosed bracket", func() error { return h.r.SetDependency(ctx, "[a") }, failover.CodeInvalidParameter},
		{"dependency on a bad name", func() error { return h.r.SetDependency(ctx, "[\x01]") }, failover.CodeInvalidName},
		{"fence command with a NUL", func() error { return h.n.SetFenceCommand(ctx, "a\x00b") }, failover.CodeInvalidParameter},
		{"configuration with a bad name", func() error {
			return c.ApplyConfig(ctx, &failover.Config{Groups: []failover.GroupConfig{{Name: "[x]",
				GroupProperties: failover.DefaultGroupProperties()}}})
		}, failover.CodeInvalidName},
		{"configuration naming a group twice", func() error {
			g := failover.GroupConfig{Name: "x", GroupProperties: failover.DefaultGroupProperties()}
			return c.ApplyConfig(ctx, &failover.Config{Groups: []failover.GroupConfig{g, g}})
		}, failover.CodeObjectAlreadyExists},
	}
	for _, tc := range cases {
		err := tc.call()
		assert.Equal(t, tc.want, codeOf(t, err), "%s: %v", tc.name, err)
	}
	assert.Len(t, fake.Requests(), before, "no malformed request reached the manager")
}

// TestReadAccessIsDeniedEveryChange: on a Read connection every mutating
// operation fails with ERROR_ACCESS_DENIED and reaches nothing, while
// reads work.
func TestReadAccessIsDeniedEveryChange(t *testing.T) {
	fake, admin, sock := server(t)
	ctx := ctxT(t)
	openAll(t, ctx, admin)
	before := len(fake.Requests())

	ro := dialRead(t, fake, sock) // the same cluster, served again with Read access
	assert.Equal(t, failover.AccessRead, ro.Access(), "the connection has access Read")
	h := handles{}
	var err error
	h.g, err = ro.OpenGroup(ctx, "g")
	require.NoError(t, err, "Read may open a group")
	h.r, err = ro.OpenResource(ctx, "r")
	require.NoError(t, err, "Read may open a resource")
	h.n, err = ro.OpenNode(ctx, "NodeB")
	require.NoError(t, err, "Read may open a node")
	_, err = h.g.State(ctx)
	assert.NoError(t, err, "Read may read a group's state")
	_, err = ro.Resources(ctx)
	assert.NoError(t, err, "Read may list resources")
	_, err = ro.Config(ctx)
	assert.NoError(t, err, "Read may read the configuration")
	w, err := ro.Watch(ctx)
	require.NoError(t, err, "Read may watch")
	w.Close()
	for _, oc := range mutatingCalls {
		err := oc.call(ctx, ro, h)
		assert.ErrorIs(t, err, failover.ErrAccessDenied, "op %d on a Read connection", oc.op)
	}
	assert.Len(t, fake.Requests(), before, "no denied request reached the manager")
}

// dialRead serves fake on a second socket whose every peer gets Read.
func dialRead(t *testing.T, fake *mgmttest.Fake, near string) *failover.Client {
	t.Helper()
	sock := near + ".ro"
	ln, err := net.Listen("unix", sock)
	require.NoError(t, err)
	srv, err := mgmt.New(mgmt.Config{Backend: fake, AccessOf: func(peercred.Peer) failover.Access { return failover.AccessRead }})
	require.NoError(t, err)
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	c, err := failover.Dial(context.Background(), failover.WithSocket(sock))
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c
}

// TestRefusedPeer: a peer with no access is told ERROR_ACCESS_DENIED at
// Dial.
func TestRefusedPeer(t *testing.T) {
	_, _, sock := server(t, failover.AccessNone)
	_, err := failover.Dial(ctxT(t), failover.WithSocket(sock))
	assert.ErrorIs(t, err, failover.ErrAccessDenied, "Dial reports the refusal's code")
}

// TestReadOnlyManager: a manager outside the majority answers every
// change with ERROR_SHARING_PAUSED and still serves reads.
func TestReadOnlyManager(t *testing.T) {
	fake, c, _ := server(t)
	ctx := ctxT(t)
	h := openAll(t, ctx, c)
	fake.SetReadOnly(true)
	assert.ErrorIs(t, h.r.Online(ctx), failover.ErrSharingPaused)
	_, err := h.r.State(ctx)
	assert.NoError(t, err, "reads are answered from the last agreed state")
}

// TestOutcomeUnknown: a manager that cannot tell how a request ended says
// so, and the Client returns ErrOutcomeUnknown with no code.
func TestOutcomeUnknown(t *testing.T) {
	fake, c, _ := server(t)
	ctx := ctxT(t)
	fake.Script(engine.OpCreateGroup, mgmttest.Reply{Err: errors.New("manager stopping")})
	_, err := c.CreateGroup(ctx, "g", nil)
	assert.ErrorIs(t, err, failover.ErrOutcomeUnknown)
	assert.ErrorContains(t, err, "manager stopping", "the manager's reason is kept")
	_, ok := failover.CodeOf(err)
	assert.False(t, ok, "an unknown outcome carries no code")
}

// TestWaitReportsTimeoutWithState: --wait's helper returns ERROR_TIMEOUT
// with the state at the deadline when the object is still pending (the
// resource's agent never finishes starting), and the final state when it
// settles.
func TestWaitReportsTimeoutWithState(t *testing.T) {
	_, c, _ := server(t)
	ctx := ctxT(t)
	_, err := c.CreateGroup(ctx, "g", nil)
	require.NoError(t, err)
	r, err := c.CreateResource(ctx, failover.ResourceSpec{Name: "stuck", Group: "g", Agent: "exec",
		Params: map[string]string{"command": "x", "hang": "1"}})
	require.NoError(t, err)
	require.ErrorIs(t, r.Online(ctx), failover.ErrIOPending)
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond) // the agent never finishes: this deadline always passes
	defer cancel()
	info, err := r.Wait(short)
	assert.ErrorIs(t, err, failover.ErrTimeout, "the wait times out")
	assert.Equal(t, failover.ResourceOnlinePending, info.State, "with the state at that moment")
	assert.Equal(t, "stuck", info.Name)

	r2, err := c.CreateResource(ctx, failover.ResourceSpec{Name: "ok", Group: "g", Agent: "exec",
		Params: map[string]string{"command": "x"}})
	require.NoError(t, err)
	require.ErrorIs(t, r2.Online(ctx), failover.ErrIOPending)
	info, err = r2.Wait(ctx)
	require.NoError(t, err)
	assert.Equal(t, failover.ResourceOnline, info.State, "the wait returns the settled state")

	cancelled, stop := context.WithCancel(ctx)
	stop()
	_, err = r.Wait(cancelled)
	assert.ErrorIs(t, err, context.Canceled, "a cancelled wait is not a timeout")
}

// TestWatchDeliversChanges: a watch sees every change after it started,
// in order, with increasing sequence numbers per object.
func TestWatchDeliversChanges(t *testing.T) {
	_, c, _ := server(t)
	ctx := ctxT(t)
	w, err := c.Watch(ctx)
	require.NoError(t, err)
	g, err := c.CreateGroup(ctx, "g", nil)
	require.NoError(t, err)
	_, err = c.CreateResource(ctx, failover.ResourceSpec{Name: "r", Group: "g", Agent: "exec", Params: map[string]string{"command": "x"}})
	require.NoError(t, err)
	require.ErrorIs(t, g.Online(ctx), failover.ErrIOPending)
	var seen []string
	last := map[string]uint64{}
	for ch := range w.Changes() {
		switch {
		case ch.Group != nil:
			seen = append(seen, "group "+ch.Group.State.String())
			assert.Greater(t, ch.Group.Sequence, last["g:"+ch.Group.Name], "group sequence numbers increase")
			last["g:"+ch.Group.Name] = ch.Group.Sequence
			if ch.Group.State == failover.GroupOnline {
				w.Close()
			}
		case ch.Resource != nil:
			seen = append(seen, "resource "+ch.Resource.State.String())
		}
	}
	assert.NoError(t, w.Err(), "a closed watch ends without error")
	assert.Equal(t, []string{"group ClusterGroupOffline", "resource ClusterResourceOffline",
		"resource ClusterResourceOnlinePending", "group ClusterGroupPending",
		"resource ClusterResourceOnline", "group ClusterGroupOnline"}, seen, "the changes, in order")
}

// TestLargeConfiguration: 200 groups of 10 resources travel both ways
// (more than a frame: the protocol sends it in parts).
func TestLargeConfiguration(t *testing.T) {
	fake, c, _ := server(t)
	ctx := ctxT(t)
	cfg := &failover.Config{}
	for g := range 200 {
		gc := failover.GroupConfig{Name: fmt.Sprintf("group-%03d", g), GroupProperties: failover.DefaultGroupProperties()}
		for r := range 10 {
			gc.Resources = append(gc.Resources, failover.ResourceConfig{
				Name: fmt.Sprintf("res-%03d-%02d", g, r), Agent: "exec",
				Params:             map[string]string{"command": strings.Repeat("/usr/bin/some-long-daemon --flag ", 20)},
				ResourceProperties: failover.DefaultResourceProperties(),
			})
		}
		cfg.Groups = append(cfg.Groups, gc)
	}
	require.NoError(t, c.ApplyConfig(ctx, cfg))
	got := fake.Requests()[len(fake.Requests())-1].Config
	require.NotNil(t, got)
	assert.Equal(t, cfg, got, "the manager received the whole configuration")
	shown, err := c.Config(ctx)
	require.NoError(t, err)
	assert.Equal(t, cfg.Groups, shown.Groups, "the configuration reads back whole")
	rs, err := c.Resources(ctx)
	require.NoError(t, err)
	assert.Len(t, rs, 2000, "every resource is listed")
}

// TestConsoleTokenNeedsAccessAll: the console's token goes only to a
// connection with access All; a Read connection is refused and told why,
// and a manager without a console says so.
func TestConsoleTokenNeedsAccessAll(t *testing.T) {
	fake, admin, sock := server(t)
	ctx := ctxT(t)
	_, err := admin.Console(ctx)
	assert.ErrorIs(t, err, failover.ErrInvalidState, "a manager without a console answers ERROR_INVALID_STATE")

	want := failover.ConsoleInfo{URL: "http://127.0.0.1:8123/?token=abc", Address: "127.0.0.1:8123", Token: "abc"}
	fake.SetConsole(&want)
	got, err := admin.Console(ctx)
	require.NoError(t, err, "access All gets the console")
	assert.Equal(t, want, got, "the URL, address and token travel as the manager gave them")

	ro := dialRead(t, fake, sock)
	got, err = ro.Console(ctx)
	assert.ErrorIs(t, err, failover.ErrAccessDenied, "access Read does not get the token")
	assert.Contains(t, err.Error(), "needs access All", "the refusal says what access it takes")
	assert.Empty(t, got.Token, "no token reaches a Read connection")
}

package gsapi_test

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhags/hags/gsapi"
	"github.com/openhags/hags/gsapi/gsapitest"
	"github.com/openhags/hags/internal/wire"
)

func TestAdaptersComeFromWelcome(t *testing.T) {
	f := newFake(t)
	f.welcome = &wire.Welcome{Node: 5, Domain: "d", Adapters: []wire.Adapter{
		{Node: 5, Interface: "eth0", Addr: []byte{10, 0, 0, 5}},
		{Node: 5, Interface: "lo", Addr: []byte{127, 0, 0, 1}},
	}}
	c, err := gsapi.Dial(context.Background(), f.option())
	require.NoError(t, err, "Dial to the fake daemon should succeed")
	defer c.Close()
	got := c.Adapters()
	assert.Equal(t, f.welcome.Adapters, got, "Adapters returns the Welcome's node table")
	got[0].Addr[0] = 99
	assert.Equal(t, byte(10), c.Adapters()[0].Addr[0], "the caller owns the returned slice")
}

func TestFFDCFollowsDelayedErrorsAndRefusals(t *testing.T) {
	c, f := dial(t, gsapi.WithDelayedErrorHandler(func(*gsapi.Notification) {}))
	assert.Empty(t, c.FFDC(), "no failure reported yet: no FFDC id")
	f.notify(wire.Notification{Type: wire.DelayedErrorNotification, Token: 1, Code: wire.UnknownGroup, FFDC: "hags-1-a-1"})
	waitPending(t, c, 1)
	assert.Equal(t, "hags-1-a-1", c.FFDC(), "the id of a delayed error is kept once it arrives")
	f.notify(wire.Notification{Type: wire.DelayedErrorNotification, Token: 1, Code: wire.UnknownGroup})
	waitPending(t, c, 2)
	assert.Equal(t, "hags-1-a-1", c.FFDC(), "an error without an id keeps the last one")

	require.NoError(t, wire.WriteFrame(f.conn, wire.MsgRefused, &wire.Refused{Code: wire.BadParameter, Reason: "bad frame", FFDC: "hags-1-a-2"}))
	// The descriptor is readable already (two notifications pending), so
	// wait for the loss itself: Dispatch delivers those two, then reports
	// it once the refusal has been read.
	require.Eventually(t, func() bool { return errors.Is(c.Dispatch(gsapi.NonBlocking), gsapi.ErrNotOK) }, wait, time.Millisecond,
		"the refusal ends the session")
	assert.Equal(t, "hags-1-a-2", c.FFDC(), "the id of the refusal that ended the session is kept")
}

func TestDialRefusalCarriesFFDC(t *testing.T) {
	f := newFake(t)
	f.refuse = &wire.Refused{Code: wire.PermissionDenied, Reason: "no", FFDC: "hags-1-b-7"}
	_, err := gsapi.Dial(context.Background(), f.option())
	var ge *gsapi.Error
	require.ErrorAs(t, err, &ge, "a refused Dial returns an *Error")
	assert.Equal(t, "hags-1-b-7", ge.FFDC, "the refusal's FFDC id is in the error")
}

func TestDialHandshakeFailureIsSockInitFailed(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "h.sock")
	ln, err := net.Listen("unix", sock)
	require.NoError(t, err)
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			_, _ = c.Write([]byte("this is not a hags daemon\n"))
			c.Close()
		}
	}()
	_, err = gsapi.Dial(context.Background(), gsapi.WithSocket(sock))
	assert.ErrorIs(t, err, gsapi.ErrSockInitFailed, "a peer that answers garbage fails the handshake with SockInitFailed")
}

func TestSocketCreateFailureIsSockCreateFailed(t *testing.T) {
	err := gsapi.DialError(&net.OpError{Op: "dial", Net: "unix", Err: os.NewSyscallError("socket", syscall.EMFILE)})
	assert.ErrorIs(t, err, gsapi.ErrSockCreateFailed, "socket(2) failing is SockCreateFailed")
	assert.True(t, errors.Is(err, syscall.EMFILE), "the cause is kept")
	err = gsapi.DialError(&net.OpError{Op: "dial", Net: "unix", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)})
	assert.ErrorIs(t, err, gsapi.ErrConnectFailed, "connect(2) failing is ConnectFailed")
}

func TestFirstTokenStartsTheCount(t *testing.T) {
	c, f := dial(t, gsapi.WithFirstToken(41))
	tok, err := c.Join(gsapi.JoinRequest{Attributes: attrs("g"), Instance: 1})
	require.NoError(t, err, "a valid join is sent")
	assert.Equal(t, gsapi.Token(41), tok, "the first token is the one WithFirstToken names")
	assert.Equal(t, int32(41), f.nextRequest(wire.OpJoin).Token, "the daemon sees the same token")
	tok, err = c.Subscribe(gsapi.SubscribeRequest{Group: "g", Control: gsapi.SubscribeStateValue})
	require.NoError(t, err, "a valid subscribe is sent")
	assert.Equal(t, gsapi.Token(42), tok, "later tokens count up from the first")
	assert.ErrorIs(t, c.Goodbye(40), gsapi.ErrBadMemberToken, "a token below the first was never issued")
}

func TestNodeNameAndDomainNodes(t *testing.T) {
	var zero gsapi.Client
	require.Equal(t, "", zero.NodeName(), "a client before Dial has no node name")
	require.Nil(t, zero.DomainNodes(), "a client before Dial knows no nodes")

	s := gsapitest.NewServer(t)
	c, err := gsapi.Dial(context.Background(), s.Option())
	require.NoError(t, err)
	defer c.Close()
	require.Equal(t, "node1", c.NodeName(), "a one-node domain's node is named node<N> by default")
	require.Equal(t, []gsapi.NodeInfo{{Node: 1, Name: "node1"}}, c.DomainNodes(),
		"the domain's only node is listed with its name")
}

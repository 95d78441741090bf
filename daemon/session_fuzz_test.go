package daemon

import (
	"encoding/binary"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/openhags/hags/daemon/protocol"
	"github.com/openhags/hags/internal/wire"
)

// fuzzScript turns fuzz bytes into what a peer sends: frames of every
// type, well-formed or not, in any order, cut into chunks at any points.
type fuzzScript struct {
	b []byte
}

func (s *fuzzScript) byte() byte {
	if len(s.b) == 0 {
		return 0
	}
	c := s.b[0]
	s.b = s.b[1:]
	return c
}

func (s *fuzzScript) bytes(n int) []byte {
	n = min(n, len(s.b))
	out := s.b[:n]
	s.b = s.b[n:]
	return out
}

func (s *fuzzScript) str() string { return string(s.bytes(int(s.byte() % 40))) }

// request builds a request with fields drawn from the script: any op
// (known or not), any token, any phase count, names and values of any
// length up to a little past the limits.
func (s *fuzzScript) request() *wire.Request {
	r := &wire.Request{Op: wire.Op(s.byte() % 14), Token: int32(s.byte()%6) - 1, Group: s.str()}
	if r.Group == "" && s.byte()%2 == 0 {
		r.Group = "g"
	}
	if s.byte()%3 != 0 {
		r.Attributes = &wire.Attributes{GroupName: r.Group, NumPhases: wire.NumPhases(s.byte() % 4),
			DefaultVote: wire.Vote(s.byte() % 5), BatchControl: wire.BatchControl(s.byte() % 5),
			TimeLimit: uint32(s.byte() % 3)}
	}
	r.Instance = int32(s.byte()) - 10
	r.NumPhases = wire.NumPhases(s.byte() % 4)
	r.TimeLimit = uint32(s.byte() % 3)
	r.Vote, r.DefaultVote = wire.Vote(s.byte()%5), wire.Vote(s.byte()%5)
	r.Control = wire.SubscriptionControl(s.byte() % 32)
	for range s.byte() % 3 {
		r.ExpelList = append(r.ExpelList, wire.Provider{Instance: int32(s.byte() % 4), Node: int32(s.byte() % 3)})
	}
	r.DeactivatePhase = uint32(s.byte() % 4)
	switch s.byte() % 4 {
	case 1:
		r.State = s.bytes(8)
	case 2:
		r.State = make([]byte, wire.MaxStateValueLength+int(s.byte()%2))
	}
	if s.byte()%2 == 0 {
		r.Message = s.bytes(8)
	}
	return r
}

// frame returns the next thing to send: a frame (valid or not) or raw
// bytes.
func (s *fuzzScript) frame() []byte {
	var body any
	t := wire.MsgType(s.byte() % 10)
	switch s.byte() % 8 {
	case 0: // raw bytes, anything
		return s.bytes(int(s.byte() % 32))
	case 1: // a header with any length, version and type
		h := binary.BigEndian.AppendUint32(nil, binary.BigEndian.Uint32(append(s.bytes(4), 0, 0, 0, 0)))
		return append(h, s.bytes(int(s.byte()%8))...)
	case 2:
		body = &wire.Hello{Pid: int32(s.byte()), Program: s.str(), Admin: s.byte()%4 == 0,
			Responsiveness: wire.Responsiveness{Type: wire.ResponsivenessType(s.byte() % 4), Interval: uint32(s.byte() % 2)}}
	case 3, 4, 5:
		body = s.request()
	case 6:
		body = &wire.Respond{Seq: uint64(s.byte()), RC: wire.CallbackRC(s.byte() % 3)}
	case 7:
		body = &wire.AdminQuery{What: []string{"status", "groups", "group", "?"}[s.byte()%4], Group: s.str()}
	}
	f, err := wire.AppendFrame(nil, t, body)
	if err != nil {
		return nil
	}
	if s.byte()%16 == 0 && len(f) > 5 {
		f[4] = s.byte() // another version
	}
	return f
}

// fuzzNode is one real daemon (one-node domain, the real engine) shared by
// every input of a fuzzing process, and a well-behaved client that proves
// after each input that the daemon still serves.
type fuzzNode struct {
	n      *Node
	socket string
	probe  net.Conn
	r      *wire.Reader
	token  int32
}

func startFuzzNode(f *testing.F) *fuzzNode {
	dir, err := os.MkdirTemp("", "hagsfz")
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { os.RemoveAll(dir) })
	socket := filepath.Join(dir, "hagsd.sock")
	n, err := New(Config{Socket: socket, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Authorize: func(net.Conn) (protocol.Cred, error) { return protocol.Cred{Pid: int32(os.Getpid())}, nil }})
	if err != nil {
		f.Fatal(err)
	}
	ln, err := n.Listen()
	if err != nil {
		f.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- n.Serve(ln) }()
	f.Cleanup(func() {
		if err := n.Close(); err != nil {
			f.Errorf("close: %v", err)
		}
		if err := <-served; err != nil {
			f.Errorf("serve: %v", err)
		}
	})
	fn := &fuzzNode{n: n, socket: socket}
	c, err := net.Dial("unix", socket)
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { c.Close() })
	fn.probe, fn.r = c, wire.NewReader(c)
	if err := wire.WriteFrame(c, wire.MsgHello, &wire.Hello{Pid: 1, Program: "probe"}); err != nil {
		f.Fatal(err)
	}
	if t, _, err := fn.r.Next(); err != nil || t != wire.MsgWelcome {
		f.Fatalf("the probe client is welcomed (type %d, %v)", t, err)
	}
	return fn
}

// alive subscribes the probe to HostMembership under a new token and waits
// for the initial subscription notification.
func (fn *fuzzNode) alive(t *testing.T) {
	fn.token++
	fn.probe.SetDeadline(time.Now().Add(waitBudget))
	defer fn.probe.SetDeadline(time.Time{})
	err := wire.WriteFrame(fn.probe, wire.MsgRequest, &wire.Request{Op: wire.OpSubscribe, Token: fn.token,
		Group: protocol.HostMembershipGroup, Control: wire.SubscribeAllMembership})
	if err != nil {
		t.Fatalf("the probe client can still send: %v", err)
	}
	for {
		typ, body, err := fn.r.Next()
		if err != nil {
			t.Fatalf("the daemon still serves the probe client after the input: %v", err)
		}
		var n wire.Notification
		if typ == wire.MsgNotification && wire.Decode(body, &n) == nil && n.Token == fn.token {
			return
		}
	}
}

// FuzzSession sends one connection's worth of fuzzed frames, in fuzzed
// chunks, to a real daemon, then half-closes it. The daemon must close the
// connection (it may first answer: Welcome, Refused, notifications), must
// never panic, and must go on serving another client.
func FuzzSession(f *testing.F) {
	hello, _ := wire.AppendFrame(nil, wire.MsgHello, &wire.Hello{Pid: 1, Program: "seed"})
	join, _ := wire.AppendFrame(nil, wire.MsgRequest, &wire.Request{Op: wire.OpJoin, Token: 1, Group: "g",
		Attributes: &wire.Attributes{GroupName: "g", NumPhases: wire.OnePhase, DefaultVote: wire.VoteApprove}})
	f.Add(append(append([]byte{2, 0, 2}, hello...), join...))
	f.Add([]byte{0, 2, 0, 3, 1, 3, 3, 1, 1, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 3, 4})
	f.Add([]byte{4, 2, 2, 0, 1, 5, 4, 8, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 6, 7, 7, 1})
	f.Add([]byte{1, 255, 255, 255, 255, 1})
	fn := startFuzzNode(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		s := &fuzzScript{b: data}
		var out []byte
		for range 1 + int(s.byte()%8) {
			out = append(out, s.frame()...)
		}
		c, err := net.Dial("unix", fn.socket)
		if err != nil {
			t.Fatalf("dial: %v", err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(waitBudget))
		read := make(chan error, 1)
		go func() {
			_, err := io.Copy(io.Discard, c)
			read <- err
		}()
		// Any chunking: cut points drawn from the script.
		for len(out) > 0 {
			n := min(len(out), 1+int(s.byte()))
			if _, err := c.Write(out[:n]); err != nil {
				break // the daemon may close first
			}
			out = out[n:]
		}
		c.(*net.UnixConn).CloseWrite()
		if err := <-read; err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				t.Fatalf("the daemon kept the connection open after its peer finished sending")
			}
		}
		fn.alive(t)
	})
}

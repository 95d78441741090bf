package wire

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

// FuzzDecodeFrame feeds arbitrary byte streams to the frame reader and the
// body decoder. Nothing may panic; every frame that decodes must re-encode
// into a frame that decodes to the same value.
func FuzzDecodeFrame(f *testing.F) {
	seed := func(t MsgType, v any) {
		b, err := AppendFrame(nil, t, v)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	seed(MsgHello, &Hello{Pid: 1, Program: "p", DeactivateScript: "/bin/true"})
	seed(MsgRequest, &Request{Op: OpJoin, Token: 1, Group: "g", Attributes: &Attributes{GroupName: "g", NumPhases: OnePhase, DefaultVote: VoteApprove}})
	seed(MsgNotification, &Notification{Type: ApprovedNotification, Token: 1, Proposal: &Proposal{Phase: 1}})
	f.Add([]byte{0, 0, 0, 2, Version, byte(MsgRequest)})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff})

	f.Fuzz(func(t *testing.T, data []byte) {
		r := NewReader(bytes.NewReader(data))
		for {
			typ, body, err := r.Next()
			if err != nil {
				if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) &&
					!errors.Is(err, ErrFrameTooLarge) && !errors.Is(err, ErrShortFrame) &&
					!errors.Is(err, ErrBadVersion) && !errors.Is(err, ErrUnknownType) {
					t.Fatalf("unexpected reader error: %v", err)
				}
				return
			}
			switch typ {
			case MsgRequest:
				var req Request
				if Decode(body, &req) == nil {
					req.Normalize()
					_ = req.Check()
					roundTrip(t, typ, &req, &Request{})
				}
			case MsgNotification:
				var n Notification
				if Decode(body, &n) == nil {
					roundTrip(t, typ, &n, &Notification{})
				}
			case MsgHello:
				var h Hello
				if Decode(body, &h) == nil {
					roundTrip(t, typ, &h, &Hello{})
				}
			}
		}
	})
}

func roundTrip[T any](t *testing.T, typ MsgType, v *T, out *T) {
	b, err := AppendFrame(nil, typ, v)
	if err != nil {
		if errors.Is(err, ErrFrameTooLarge) {
			return
		}
		t.Fatalf("re-encode %T: %v", v, err)
	}
	_, body, err := NewReader(bytes.NewReader(b)).Next()
	if err != nil {
		t.Fatalf("re-read %T: %v", v, err)
	}
	if err := Decode(body, out); err != nil {
		t.Fatalf("re-decode %T: %v", v, err)
	}
}

package mgmtwire

import (
	"bytes"
	"testing"

	"github.com/openhags/hags/internal/wire"
)

// FuzzDecode feeds arbitrary bytes to a server-side Conn as a stream and
// decodes each message it yields as the type it claims. Nothing may
// panic, hang or allocate past the bounds (wire.CheckShape runs before
// every decode; parts are bounded by the connection's limit).
func FuzzDecode(f *testing.F) {
	seed := func(typ wire.MsgType, v any) []byte {
		b, err := wire.AppendFrame(nil, typ, v)
		if err != nil {
			f.Fatal(err)
		}
		return b
	}
	body, _ := EncodeBody(map[string]int{"x": 1})
	f.Add(seed(MsgRequest, &Request{ID: 1, Op: OpOpenGroup, Name: "Application Group"}))
	f.Add(seed(MsgRequest, &Request{ID: 2, Op: OpCreateResource, Name: "db", Group: "g", Agent: "ocf:heartbeat:Dummy",
		Params: map[string]string{"state": "/tmp/x"}, Props: map[string]string{"restart-delay": "1s"}}))
	f.Add(seed(MsgRequest, &Request{ID: 3, Op: OpApplyConfig, Config: body}))
	f.Add(seed(MsgResponse, &Response{ID: 3, Code: 997, Body: body}))
	f.Add(seed(MsgEvent, &Event{Watch: 1, Change: body}))
	f.Add(seed(MsgWelcome, &Welcome{Access: AccessRead}))
	f.Add(append(seed(MsgPart, &Part{Type: MsgRequest, Data: []byte{0x81, 0xa2}}),
		seed(MsgPart, &Part{Type: MsgRequest, Last: true, Data: []byte{"id"[0], "id"[1], 0x01}})...))
	f.Fuzz(func(t *testing.T, data []byte) {
		c := NewConn(&bufConn{Buffer: bytes.NewBuffer(data)}, 1<<20)
		for range 8 {
			typ, body, err := c.Recv()
			if err != nil {
				return
			}
			var v any
			switch typ {
			case MsgWelcome:
				v = &Welcome{}
			case MsgRequest:
				v = &Request{}
			case MsgResponse:
				v = &Response{}
			case MsgEvent:
				v = &Event{}
			default:
				t.Fatalf("Recv returned type %d, which is not a whole message", typ)
			}
			if Decode(body, v) != nil {
				continue
			}
			if r, ok := v.(*Request); ok && len(r.Config) > 0 {
				var m map[string]any
				_ = DecodeBody(r.Config, &m)
			}
		}
	})
}

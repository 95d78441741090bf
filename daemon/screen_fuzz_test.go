package daemon

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/openhags/hags/daemon/protocol"
	"github.com/openhags/hags/internal/wire"
)

// FuzzScreenAgreesWithEngine checks the session's judgement before ordering
// against the engine itself: one client's requests, drawn from the fuzz
// input (any op, token, sizes around the limits, groups that exist or not,
// protocols running or not), go through session.screen and, decoded from
// the same frame, to a real protocol.Engine. Whenever the session refuses
// a request, the engine must refuse it too, with exactly the delayed error
// the session sends instead (type, token, group, protocol, code, the
// request echoed). A session therefore never refuses what the engine would
// accept, nor answers differently. (The token bound, NoMemory, is left out:
// the engine has none; TestTokensPerClientAreCapped covers it.)
func FuzzScreenAgreesWithEngine(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{1, 1, 0, 1, 2, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 2, 0, 0, 2, 1})
	f.Add([]byte{6, 3, 0, 1, 0, 0, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 2, 1, 1})
	f.Add([]byte{9, 2, 1, 'g', 0, 0, 0, 0, 0, 0, 0, 7, 7, 3, 0, 0, 1, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		sc := &fuzzScript{b: data}
		eng := protocol.New()
		me := protocol.ClientID{Node: 1, Conn: 1}
		other := protocol.ClientID{Node: 1, Conn: 2}
		now := int64(1)
		step := func(ev protocol.Event) []protocol.Effect {
			now++
			ev.Time = now
			return eng.Step(ev)
		}
		step(protocol.Event{Kind: protocol.EventNodeUp, Node: 1})
		step(protocol.Event{Kind: protocol.EventConnect, Client: me, Hello: &wire.Hello{}})
		step(protocol.Event{Kind: protocol.EventConnect, Client: other, Hello: &wire.Hello{}})
		// Another client holds group g, where an n-phase protocol runs,
		// so that votes and proposals meet a running protocol.
		attrs := wire.Attributes{GroupName: "g", NumPhases: wire.NPhase, DefaultVote: wire.VoteApprove}
		step(protocol.Event{Kind: protocol.EventRequest, Client: other, Request: &wire.Request{Op: wire.OpJoin, Token: 1,
			Group: "g", Attributes: &attrs, Instance: 100}})
		step(protocol.Event{Kind: protocol.EventRequest, Client: other, Request: &wire.Request{Op: wire.OpChangeState, Token: 1,
			NumPhases: wire.NPhase, State: []byte("s")}})
		running := func(group string) (wire.RequestType, bool) {
			if d, ok := eng.Group(group); ok && d.Protocol != nil {
				return d.Protocol.Type, true
			}
			return 0, false
		}

		s := &session{tokens: make(map[int32]string)}
		for range 48 {
			if len(sc.b) == 0 {
				return
			}
			frame, err := wire.AppendFrame(nil, wire.MsgRequest, sc.request())
			if err != nil {
				continue
			}
			var req, engReq wire.Request
			require.NoError(t, wire.Decode(frame[6:], &req), "a request frame decodes")
			require.NoError(t, wire.Decode(frame[6:], &engReq), "a request frame decodes")
			if req.Op == wire.OpQuit {
				continue // quit ends the client: no more to compare
			}
			code := s.screen(&req)
			var want *wire.Notification
			if code != wire.OK {
				want = s.refusal(&req, code, running)
			}
			effects := step(protocol.Event{Kind: protocol.EventRequest, Client: me, Request: &engReq})
			if code == wire.OK {
				continue
			}
			require.Len(t, effects, 1, "the engine answers a request the session refuses (%s) with one effect, not %+v", code, effects)
			e := effects[0]
			require.Equal(t, protocol.EffectNotify, e.Kind, "the engine's answer is a notification")
			require.Equal(t, []protocol.Recipient{{Client: me, Token: req.Token}}, e.To, "the engine answers the requester's token")
			require.Equal(t, want, e.Note, "the session refuses %s with the engine's delayed error", req.Op)
		}
	})
}

package protocol

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/openhags/hags/internal/wire"
)

// rawEvents turns fuzz bytes into events as a daemon would order them,
// with whatever a client may put in them: any Hello, any request (decoded
// from arbitrary msgpack, or built field by field with values outside
// every enumeration and limit), answers to checks never sent, requests
// from clients never connected, scripts and nodes that do not exist.
type rawEvents struct {
	b   []byte
	now int64
}

func (r *rawEvents) byte() byte {
	if len(r.b) == 0 {
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *rawEvents) take(n int) []byte {
	n = min(n, len(r.b))
	out := r.b[:n]
	r.b = r.b[n:]
	return out
}

var fuzzGroups = []string{"a", "b", "t", HostMembershipGroup, "", "x\x00y"}

func (r *rawEvents) group() string {
	if k := r.byte(); k < 200 {
		return fuzzGroups[int(k)%len(fuzzGroups)]
	}
	return string(r.take(int(r.byte()) % 140))
}

func (r *rawEvents) attrs() *wire.Attributes {
	if r.byte()%4 == 0 {
		return nil
	}
	a := &wire.Attributes{GroupName: r.group(), NumPhases: wire.NumPhases(r.byte() % 4),
		DefaultVote: wire.Vote(r.byte() % 5), BatchControl: wire.BatchControl(int8(r.byte()) % 5),
		MergeControl: wire.MergeControl(r.byte() % 4), TimeLimit: uint32(r.byte() % 4)}
	if r.byte()%3 == 0 {
		a.SourceGroupName = r.group()
		a.SourceReflectionNumPhases = wire.NumPhases(r.byte() % 4)
		a.SourceReflectionTimeLimit = uint32(r.byte() % 3)
	}
	return a
}

func (r *rawEvents) request() *wire.Request {
	if r.byte()%5 == 0 {
		var req wire.Request
		if wire.Decode(r.take(int(r.byte())%64), &req) == nil {
			return &req
		}
	}
	req := &wire.Request{Op: wire.Op(r.byte() % 13), Token: int32(int8(r.byte())) % 6, Group: r.group(),
		Attributes: r.attrs(), Instance: int32(int8(r.byte())), NumPhases: wire.NumPhases(r.byte() % 4),
		TimeLimit: uint32(r.byte() % 4), LeaveCode: uint32(r.byte()), DeactivatePhase: uint32(r.byte() % 4),
		Vote: wire.Vote(r.byte() % 5), DefaultVote: wire.Vote(r.byte() % 5),
		Control: wire.SubscriptionControl(r.byte() % 32)}
	for range r.byte() % 4 {
		req.ExpelList = append(req.ExpelList, wire.Provider{Instance: int32(r.byte() % 4), Node: int32(r.byte() % 3)})
	}
	switch r.byte() % 5 {
	case 1:
		req.State = r.take(6)
	case 2:
		req.State = make([]byte, wire.MaxStateValueLength+int(r.byte()%2))
	}
	switch r.byte() % 4 {
	case 1:
		req.Message = r.take(6)
	case 2:
		req.Message = make([]byte, wire.MaxProviderMessageLength+int(r.byte()%2))
	}
	if r.byte()%3 == 0 {
		f := string(r.take(int(r.byte())))
		req.DeactivateFlag = &f
	}
	return req
}

func (r *rawEvents) next() Event {
	r.now += int64(r.byte()%8) * 5e8
	ev := Event{Time: r.now, Client: ClientID{Node: int32(r.byte() % 3), Conn: uint64(r.byte() % 4)}}
	switch k := r.byte() % 10; k {
	case 0, 1:
		ev.Kind = EventConnect
		ev.Cred = Cred{Pid: int32(r.byte()), Uid: uint32(r.byte() % 2)}
		ev.Hello = &wire.Hello{Pid: int32(r.byte()), Program: string(r.take(4)),
			Responsiveness: wire.Responsiveness{Type: wire.ResponsivenessType(r.byte() % 4), Interval: uint32(r.byte() % 3),
				ResponseTimeLimit: uint32(r.byte() % 3), CounterLength: uint32(r.byte() % 9)}}
		if r.byte()%2 == 0 {
			ev.Hello.DeactivateScript = "/bin/true"
		}
	case 2:
		ev.Kind = EventDisconnect
	case 3, 4, 5:
		ev.Kind = EventRequest
		ev.Request = r.request()
	case 6:
		ev.Kind = EventRespond
		ev.Respond = &wire.Respond{Seq: uint64(r.byte()), RC: wire.CallbackRC(r.byte() % 3), Counter: uint64(r.byte())}
	case 7:
		ev.Kind = []EventKind{EventNodeUp, EventNodeDown}[r.byte()%2]
		ev.Node = int32(r.byte() % 4)
	case 8:
		ev.Kind = EventScriptDone
		ev.Script = &ScriptResult{ID: uint64(r.byte() % 8), Result: wire.DeactivateResult(r.byte() % 5)}
	case 9:
		ev.Kind = []EventKind{EventTick, EventResponsiveness}[r.byte()%2]
		ev.Responsive = r.byte()%2 == 0
	}
	return ev
}

// encodeEffects renders effects as bytes, to compare two engines' outputs.
func encodeEffects(effs []Effect) []byte {
	b, err := msgpack.Marshal(effs)
	if err != nil {
		panic(fmt.Sprintf("effects do not encode: %v", err))
	}
	return b
}

// FuzzEngineEvents feeds two engines the same fuzzed events. Neither may
// panic; both must produce identical effects (every daemon of a domain
// must reach the same decisions); the engine's invariants must hold after
// every step; and every notification must encode into a frame the daemon
// can send.
func FuzzEngineEvents(f *testing.F) {
	f.Add([]byte{0, 0, 1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 1, 0, 1, 3, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1})
	f.Add(bytes.Repeat([]byte{1, 1, 1, 0, 3, 7, 9, 200, 5, 5, 1, 2, 3}, 30))
	f.Add(bytes.Repeat([]byte{0, 1, 0, 4, 2, 1, 0, 1, 1, 0, 1, 0, 1, 4, 0, 0, 0, 0, 0, 0, 0, 0, 8, 8}, 20))
	f.Fuzz(func(t *testing.T, data []byte) {
		r := &rawEvents{b: data, now: 1_700_000_000e9}
		a, b := New(), New()
		for i := 0; len(r.b) > 0 && i < 1000; i++ {
			ev := r.next()
			ea, eb := a.Step(ev), b.Step(ev)
			if !bytes.Equal(encodeEffects(ea), encodeEffects(eb)) {
				t.Fatalf("step %d (%s): two engines fed the same events disagree", i, describe(ev))
			}
			for _, eff := range ea {
				if eff.Kind == EffectNotify {
					if len(eff.To) == 0 {
						t.Fatalf("step %d (%s): a notification with no recipient", i, describe(ev))
					}
					if _, err := wire.AppendFrame(nil, wire.MsgNotification, eff.Note); err != nil {
						t.Fatalf("step %d (%s): a notification that cannot be sent: %v", i, describe(ev), err)
					}
				}
			}
			if err := a.checkInvariants(); err != nil {
				t.Fatalf("step %d (%s): %v", i, describe(ev), err)
			}
		}
	})
}

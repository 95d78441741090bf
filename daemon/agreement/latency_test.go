package agreement

import (
	"testing"
	"time"

	"github.com/openhags/hags/daemon/protocol"
	"github.com/openhags/hags/internal/wire"
)

// BenchmarkOneNodeRoundTrip measures one event's way through a one-node
// domain: Submit to the Deliver of its effect, one event at a time (the
// agreement's share of a client's round trip through hagsd).
//
//	go test ./daemon/agreement -run '^$' -bench OneNodeRoundTrip -trace trace.out
func BenchmarkOneNodeRoundTrip(b *testing.B) {
	delivered := make(chan Applied, 16)
	a, err := New(Config{Node: 1, Engine: requestEngine{}, Deliver: func(apps []Applied) {
		for _, app := range apps {
			delivered <- app
		}
	}})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { a.Close() })
	select {
	case <-delivered: // the admission
	case <-time.After(10 * time.Second):
		b.Fatal("not admitted")
	}
	ev := protocol.Event{Kind: protocol.EventRequest, Client: protocol.ClientID{Node: 1, Conn: 1},
		Request: &wire.Request{Op: wire.OpVote, Token: 1}}
	for b.Loop() {
		a.Submit(ev)
		<-delivered
	}
}

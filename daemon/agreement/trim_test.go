package agreement

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhags/hags/daemon/protocol"
	"github.com/openhags/hags/internal/wire"
)

// TestEncodedEntryHasNoSpareRoom: a one-node domain keeps its log in
// memory, so an entry's bytes must not drag a buffer of up to twice their
// size along.
func TestEncodedEntryHasNoSpareRoom(t *testing.T) {
	for _, n := range []int{0, 1, 7, 100, 256} {
		e := &Entry{Kind: EntryEvents, Node: 1, Inc: 1, Epoch: 1, Seq: 1}
		for i := range n {
			e.Events = append(e.Events, protocol.Event{Kind: protocol.EventRequest, Client: protocol.ClientID{Node: 1, Conn: 1},
				Request: &wire.Request{Op: wire.OpJoin, Token: int32(i + 1), Group: strings.Repeat("g", i%50+1)}})
		}
		b, err := encodeEntry(e)
		require.NoError(t, err, "an entry of %d events encodes", n)
		assert.LessOrEqual(t, cap(b)-len(b), len(b)/8, "an entry of %d events keeps at most an eighth of its size spare", n)
		back, err := decodeEntry(b)
		require.NoError(t, err, "the entry decodes")
		assert.Len(t, back.Events, n, "every event survives")
	}
}

// requestEngine answers every request with a notification to its sender,
// so that each submitted event is seen delivered.
type requestEngine struct{}

func (requestEngine) Step(ev protocol.Event) []protocol.Effect {
	if ev.Kind != protocol.EventRequest {
		return nil
	}
	return []protocol.Effect{{Kind: protocol.EffectNotify, To: []protocol.Recipient{{Client: ev.Client}},
		Note: &wire.Notification{Type: wire.ApprovedNotification}}}
}

func (requestEngine) NextDeadline() (int64, bool)     { return 0, false }
func (requestEngine) ScriptNode(uint64) (int32, bool) { return 0, false }

// TestOneNodeLogIsTrimmed: a one-node domain snapshots (emptily) and trims
// its in-memory log soon after a hundred entries, instead of keeping
// thousands.
func TestOneNodeLogIsTrimmed(t *testing.T) {
	delivered := make(chan Applied, 16)
	a, err := New(Config{Node: 1, Engine: requestEngine{}, Deliver: func(apps []Applied) {
		for _, app := range apps {
			delivered <- app
		}
	}})
	require.NoError(t, err, "a one-node agreement starts")
	t.Cleanup(func() { a.Close() })
	wait := func(what string) {
		t.Helper()
		select {
		case <-delivered:
		case <-time.After(10 * time.Second):
			t.Fatalf("%s was not delivered", what)
		}
	}
	wait("the admission")
	// One entry per event: each is submitted once the last is applied.
	for i := range 100 {
		a.Submit(protocol.Event{Kind: protocol.EventRequest, Client: protocol.ClientID{Node: 1, Conn: 1},
			Request: &wire.Request{Op: wire.OpVote, Token: int32(i + 1)}})
		wait("a request")
	}
	require.Eventually(t, func() bool {
		return a.raft.Stats()["last_snapshot_index"] != "0"
	}, 15*time.Second, 50*time.Millisecond, "the log should be snapshotted and trimmed within a few seconds")
}

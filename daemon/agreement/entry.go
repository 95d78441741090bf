package agreement

import (
	"bytes"
	"fmt"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/openhags/hags/daemon/protocol"
	"github.com/openhags/hags/internal/wire"
)

// EntryKind says what a log entry carries.
type EntryKind uint8

const (
	// EntryAdmit: node Node, in its incarnation Inc, asks to be admitted
	// to the domain. Applying it fails whatever the node's previous
	// incarnation (or previous admission) left in the groups, puts the
	// node up, and starts a new epoch for it: the entry's log index.
	EntryAdmit EntryKind = 1
	// EntryEvents: events from the sessions of node Node, incarnation Inc,
	// admitted at Epoch; Seq orders a node's entries and makes a retried
	// entry harmless.
	EntryEvents EntryKind = 2
	// EntryNodeDown: the leader saw node Node (incarnation Inc, admitted
	// at Epoch) die; its clients' providers fail.
	EntryNodeDown EntryKind = 3
	// EntryTick: the leader's clock passed a deadline of the engine.
	EntryTick EntryKind = 4
)

// String names the kind for logs.
func (k EntryKind) String() string {
	switch k {
	case EntryAdmit:
		return "admit"
	case EntryEvents:
		return "events"
	case EntryNodeDown:
		return "node-down"
	case EntryTick:
		return "tick"
	}
	return fmt.Sprintf("entry-kind-%d", uint8(k))
}

// Entry is one entry of the replicated log: plain data in msgpack, the same
// bytes on every daemon. Fields a Kind does not use are zero.
type Entry struct {
	Kind EntryKind `msgpack:"k"`
	// Time is stamped by the leader when it appends the entry, in Unix
	// nanoseconds. Every event of the entry is stepped at this time (or at
	// the time of the previous entry, if the leader's clock is behind).
	Time int64 `msgpack:"t"`

	Node  int32  `msgpack:"n"`
	Inc   uint64 `msgpack:"i,omitempty"`
	Epoch uint64 `msgpack:"e,omitempty"`
	Seq   uint64 `msgpack:"s,omitempty"`

	// Events are EntryEvents' events, in the order the node's run loop
	// submitted them. Only client events (connect, disconnect, request,
	// responsiveness) of the node's own clients and script results are
	// taken; anything else is dropped by the FSM.
	Events []protocol.Event `msgpack:"ev,omitempty"`
}

// entryVersion is the first byte of every encoded entry, so that a future
// format can be told apart.
const entryVersion = 1

// encodeEntry returns e's log bytes.
func encodeEntry(e *Entry) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteByte(entryVersion)
	enc := msgpack.GetEncoder()
	defer msgpack.PutEncoder(enc)
	enc.Reset(&buf)
	if err := enc.Encode(e); err != nil {
		return nil, fmt.Errorf("agreement: encode %s entry: %w", e.Kind, err)
	}
	b := buf.Bytes()
	if cap(b)-len(b) > len(b)/8 {
		// The log keeps these bytes (a one-node domain in memory): not
		// the buffer's spare room, up to as much again.
		b = append(make([]byte, 0, len(b)), b...)
	}
	return b, nil
}

// decodeEntry parses log bytes made by encodeEntry.
func decodeEntry(b []byte) (*Entry, error) {
	if len(b) == 0 || b[0] != entryVersion {
		return nil, fmt.Errorf("agreement: log entry of unknown version (%d bytes)", len(b))
	}
	e := new(Entry)
	if err := wire.CheckShape(b[1:]); err != nil { // before the decoder allocates what it declares
		return nil, fmt.Errorf("agreement: decode log entry: %w", err)
	}
	if err := msgpack.Unmarshal(b[1:], e); err != nil {
		return nil, fmt.Errorf("agreement: decode log entry: %w", err)
	}
	return e, nil
}

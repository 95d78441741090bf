package manager

import (
	"bytes"
	"fmt"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/openhags/hags/failover/engine"
	"github.com/openhags/hags/internal/wire"
)

// msgKind says what a message on the managers' log group carries.
type msgKind uint8

const (
	// msgBatch: a chunk of a batch of engine inputs (n-phase: every
	// synced member makes it durable before it votes approve).
	msgBatch msgKind = 1
	// msgState: a chunk of a state transfer: the engine and the log's
	// bookkeeping as of one position, for members that are not synced.
	msgState msgKind = 2
	// msgAnnounce: a member that is not synced says which durable state it
	// holds, so that a cluster forming anew can pick the newest.
	msgAnnounce msgKind = 3
)

func (k msgKind) String() string {
	switch k {
	case msgBatch:
		return "batch"
	case msgState:
		return "state"
	case msgAnnounce:
		return "announce"
	}
	return fmt.Sprintf("msg-%d", uint8(k))
}

// batchID names one batch: its proposer's node, the proposer's run
// (incarnation) and the batch's number within it. A batch sent again after
// a rejection keeps its ID, so it is applied at most once.
type batchID struct {
	Node engine.NodeID `msgpack:"n"`
	Inc  uint64        `msgpack:"i"`
	Seq  uint64        `msgpack:"s"`
}

// message is one provider message on the log group. Chunk counts from 0;
// the receiver reassembles Chunks chunks of the same ID in order.
type message struct {
	Kind   msgKind `msgpack:"k"`
	ID     batchID `msgpack:"id"`
	Chunk  uint32  `msgpack:"c"`
	Chunks uint32  `msgpack:"cs"`
	Data   []byte  `msgpack:"d,omitempty"`

	// State: the members the transfer is for, in every chunk, and whether
	// it forms the cluster anew (from the newest member's disk). ForRun
	// names the run of each member's core (memberInfo.Run) that the
	// transfer is for: a later run of the same node (the manager joined
	// again meanwhile) must not take it.
	For    []engine.NodeID `msgpack:"for,omitempty"`
	ForRun []uint64        `msgpack:"forrun,omitempty"`
	Form   bool            `msgpack:"form,omitempty"`

	// Announce: the sender's durable position and the nodes its state
	// knows (the quorum of a forming cluster is a majority of them), and
	// the membership of the group it answers (sorted): a round of
	// announcements counts only those made for its own membership.
	At      position        `msgpack:"at,omitempty"`
	Known   []engine.NodeID `msgpack:"known,omitempty"`
	Members []engine.NodeID `msgpack:"members,omitempty"`
}

// position orders durable states: a higher epoch is a later formation of
// the cluster; within an epoch, Pos counts the ordered events.
type position struct {
	Epoch uint64 `msgpack:"e"`
	Pos   uint64 `msgpack:"p"`
}

// less reports whether p comes before q.
func (p position) less(q position) bool {
	return p.Epoch < q.Epoch || p.Epoch == q.Epoch && p.Pos < q.Pos
}

func (p position) String() string { return fmt.Sprintf("%d.%d", p.Epoch, p.Pos) }

// messageVersion is the first byte of every encoded message and record.
const messageVersion = 1

// maxChunk bounds the data of one chunk so that a message stays within
// Group Services' provider message limit with its header.
const maxChunk = wire.MaxProviderMessageLength - 512

func encode(v any) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteByte(messageVersion)
	enc := msgpack.NewEncoder(&buf)
	enc.UseCompactInts(true)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// decode reads bytes made by encode. They come from other managers or
// from disk: the version is checked and the shape walked before the
// decoder allocates anything the bytes declare.
func decode(b []byte, v any) error {
	if len(b) == 0 || b[0] != messageVersion {
		return fmt.Errorf("manager: data of unknown version (%d bytes)", len(b))
	}
	if err := wire.CheckShape(b[1:]); err != nil {
		return fmt.Errorf("manager: decode %T: %w", v, err)
	}
	dec := msgpack.NewDecoder(bytes.NewReader(b[1:]))
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("manager: decode %T: %w", v, err)
	}
	return nil
}

// chunks splits data into messages of kind k with id.
func chunks(k msgKind, id batchID, data []byte) []*message {
	n := (len(data) + maxChunk - 1) / maxChunk
	if n == 0 {
		n = 1
	}
	out := make([]*message, 0, n)
	for i := 0; i < n; i++ {
		lo, hi := i*maxChunk, min((i+1)*maxChunk, len(data))
		out = append(out, &message{Kind: k, ID: id, Chunk: uint32(i), Chunks: uint32(n), Data: data[lo:hi]})
	}
	return out
}

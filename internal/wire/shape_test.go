package wire

import (
	"bytes"
	"encoding/binary"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/vmihailenco/msgpack/v5"
)

// hugeExpel is a request body whose expel list declares 4M providers and
// holds none.
func hugeExpel(t *testing.T) []byte {
	t.Helper()
	var b bytes.Buffer
	enc := msgpack.NewEncoder(&b)
	require.NoError(t, enc.EncodeMapLen(3))
	require.NoError(t, enc.EncodeString("op"))
	require.NoError(t, enc.EncodeUint(uint64(OpExpel)))
	require.NoError(t, enc.EncodeString("tok"))
	require.NoError(t, enc.EncodeInt(1))
	require.NoError(t, enc.EncodeString("expel"))
	b.WriteByte(0xdd) // array32
	_ = binary.Write(&b, binary.BigEndian, uint32(4<<20))
	return b.Bytes()
}

// TestDecodeRefusesHugeDeclaredLengths: a few bytes that declare an array
// of millions of elements are refused before anything is allocated for
// them (the msgpack library would allocate the whole slice first: a client
// could exhaust the daemon's memory with one small frame).
func TestDecodeRefusesHugeDeclaredLengths(t *testing.T) {
	body := hugeExpel(t)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	var r Request
	err := Decode(body, &r)
	runtime.ReadMemStats(&after)
	assert.ErrorIs(t, err, ErrShape, "a declared length beyond the data is refused as malformed")
	assert.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(1<<20), "nothing is allocated for the declared elements")
}

func TestCheckShape(t *testing.T) {
	u32 := func(c byte, n uint32) []byte { return binary.BigEndian.AppendUint32([]byte{c}, n) }
	deep := append(bytes.Repeat([]byte{0x91}, 100000), 0x01)
	bad := map[string][]byte{
		"empty":                   {},
		"array32 beyond the data": u32(0xdd, 1000),
		"map32 beyond the data":   u32(0xdf, 1000),
		"str32 beyond the data":   u32(0xdb, 1<<30),
		"bin32 beyond the data":   u32(0xc6, 1<<30),
		"ext32 beyond the data":   u32(0xc9, 1<<30),
		"fixstr cut short":        {0xa5, 'a', 'b'},
		"length field cut short":  {0xdc, 0x01},
		"fixext16 cut short":      {0xd8, 1, 2, 3},
		"never-used byte":         {0xc1},
		"array missing elements":  {0x93, 0x01},
		"nested too deep":         deep,
	}
	for name, b := range bad {
		assert.ErrorIs(t, CheckShape(b), ErrShape, "%s is refused", name)
	}
	flag := "f"
	for _, v := range []any{
		&Hello{Pid: 1, Program: "p", Responsiveness: Responsiveness{Type: PingResponsiveness, Interval: 1}},
		&Request{Op: OpExpel, Token: 1, ExpelList: []Provider{{1, 1}, {2, 2}}, DeactivateFlag: &flag, State: []byte{}, Message: make([]byte, 300)},
		&Notification{Type: ApprovedNotification, Token: 1, Proposal: &Proposal{Current: []Provider{{1, 1}},
			LeaveInfo: []LeaveInfo{{Reason: ProviderLeft}}, ExpelInfo: &ExpelInfo{Results: []DeactivateResult{DeactivateOK}}},
			State: make([]byte, MaxStateValueLength)},
		&AdminReply{Status: &Status{Nodes: []NodeStatus{{Node: 1}}}},
		map[string]any{"f32": float32(1), "f64": 2.5, "neg": -70000, "big": uint64(1) << 40, "t": true, "n": nil},
	} {
		b, err := msgpack.Marshal(v)
		require.NoError(t, err)
		assert.NoError(t, CheckShape(b), "%T as the encoder writes it is well shaped", v)
	}
}

package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// ErrShape is returned by CheckShape (and so by Decode) for msgpack data
// that declares more than it holds, nests too deep, or is not msgpack.
var ErrShape = errors.New("wire: malformed msgpack")

// MaxDepth bounds how deep msgpack arrays and maps may nest in anything
// this module decodes; no message of ours nests more than a few levels.
const MaxDepth = 32

// CheckShape walks one msgpack value in b without allocating and reports
// ErrShape unless every string, binary and extension fits in the bytes that
// follow its header, every array and map declares no more elements than
// bytes remain (each takes at least one), and nesting stays within
// MaxDepth. Bytes after the value are allowed.
//
// The msgpack library preallocates a slice of the declared length before
// reading its elements, so a few bytes declaring an array of a billion
// elements would otherwise exhaust memory; every decoder of untrusted
// bytes calls CheckShape first.
func CheckShape(b []byte) error {
	pending := make([]int, 1, 8) // values still to read at each open level
	pending[0] = 1
	i := 0
	need := func(n int) (int, error) {
		if n > len(b)-i {
			return 0, fmt.Errorf("%w: %d bytes declared at offset %d, %d remain", ErrShape, n, i, len(b)-i)
		}
		return n, nil
	}
	length := func(size int) (int, error) {
		if _, err := need(size); err != nil {
			return 0, err
		}
		var n uint64
		switch size {
		case 1:
			n = uint64(b[i])
		case 2:
			n = uint64(binary.BigEndian.Uint16(b[i:]))
		case 4:
			n = uint64(binary.BigEndian.Uint32(b[i:]))
		}
		i += size
		if n > uint64(len(b)) {
			return 0, fmt.Errorf("%w: length %d at offset %d exceeds the data", ErrShape, n, i-size)
		}
		return int(n), nil
	}
	for len(pending) > 0 {
		top := len(pending) - 1
		if pending[top] == 0 {
			pending = pending[:top]
			continue
		}
		pending[top]--
		if i >= len(b) {
			return fmt.Errorf("%w: data ends inside a value", ErrShape)
		}
		c := b[i]
		i++
		skip, items := 0, 0
		var err error
		switch {
		case c <= 0x7f || c >= 0xe0, c == 0xc0, c == 0xc2, c == 0xc3: // fixint, nil, false, true
		case c <= 0x8f: // fixmap
			items = 2 * int(c&0x0f)
		case c <= 0x9f: // fixarray
			items = int(c & 0x0f)
		case c <= 0xbf: // fixstr
			skip = int(c & 0x1f)
		case c == 0xc4, c == 0xd9: // bin8, str8
			skip, err = length(1)
		case c == 0xc5, c == 0xda: // bin16, str16
			skip, err = length(2)
		case c == 0xc6, c == 0xdb: // bin32, str32
			skip, err = length(4)
		case c == 0xc7: // ext8: length, type, data
			skip, err = length(1)
			skip++
		case c == 0xc8:
			skip, err = length(2)
			skip++
		case c == 0xc9:
			skip, err = length(4)
			skip++
		case c == 0xca: // float32
			skip = 4
		case c == 0xcb: // float64
			skip = 8
		case c == 0xcc, c == 0xd0:
			skip = 1
		case c == 0xcd, c == 0xd1:
			skip = 2
		case c == 0xce, c == 0xd2:
			skip = 4
		case c == 0xcf, c == 0xd3:
			skip = 8
		case c >= 0xd4 && c <= 0xd8: // fixext 1, 2, 4, 8, 16, after its type byte
			skip = 1 + 1<<(c-0xd4)
		case c == 0xdc: // array16
			items, err = length(2)
		case c == 0xdd: // array32
			items, err = length(4)
		case c == 0xde: // map16
			items, err = length(2)
			items *= 2
		case c == 0xdf: // map32
			items, err = length(4)
			items *= 2
		default: // 0xc1, never used
			return fmt.Errorf("%w: byte 0x%02x at offset %d", ErrShape, c, i-1)
		}
		if err != nil {
			return err
		}
		if _, err := need(skip); err != nil {
			return err
		}
		i += skip
		if items > 0 {
			if _, err := need(items); err != nil {
				return err
			}
			if len(pending) >= MaxDepth {
				return fmt.Errorf("%w: nested deeper than %d", ErrShape, MaxDepth)
			}
			pending = append(pending, items)
		}
	}
	return nil
}

package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// NotificationFrames encodes one notification once for many recipients
// that differ only in Token: the daemon sends the same approved
// notification to every provider of a group, each under its own token.
// Encoding is most of the daemon's work per recipient, so it is done
// once, and each frame is the encoded body with the token spliced in.
// A NotificationFrames is not safe for concurrent use.
type NotificationFrames struct {
	head, tail []byte // the body before and after the token's value
}

// errTokenNotFound means the two trial encodings did not differ in exactly
// one byte, so the token's place is unknown.
var errTokenNotFound = errors.New("wire: token not found in the encoded notification")

// NewNotificationFrames encodes n (whose Token is ignored). The frames it
// appends are byte for byte those of AppendFrame(dst, MsgNotification, n)
// with n.Token set to the recipient's token.
func NewNotificationFrames(n *Notification) (*NotificationFrames, error) {
	c := *n
	c.Token = 0
	zero, err := AppendFrame(nil, MsgNotification, &c)
	if err != nil {
		return nil, err
	}
	if len(zero)-lengthSize+4 > MaxFrameSize { // a larger token takes up to 4 more bytes
		return nil, fmt.Errorf("%w: %d bytes", ErrFrameTooLarge, len(zero)-lengthSize)
	}
	c.Token = 1
	one, err := AppendFrame(nil, MsgNotification, &c)
	if err != nil {
		return nil, err
	}
	// Both tokens encode as a single positive fixint, so the encodings
	// differ in exactly the byte that holds the token.
	at := -1
	if len(zero) == len(one) {
		for i := lengthSize + headerSize; i < len(zero); i++ {
			if zero[i] != one[i] {
				if at >= 0 {
					at = -1
					break
				}
				at = i
			}
		}
	}
	if at < 0 || zero[at] != 0 || one[at] != 1 {
		return nil, fmt.Errorf("%w (type %d)", errTokenNotFound, n.Type)
	}
	return &NotificationFrames{head: zero[lengthSize+headerSize : at], tail: zero[at+1:]}, nil
}

// Append appends the frame for the recipient whose token is tok.
func (f *NotificationFrames) Append(dst []byte, tok int32) []byte {
	var ib [5]byte
	tokBytes := appendCompactInt(ib[:0], tok)
	n := headerSize + len(f.head) + len(tokBytes) + len(f.tail)
	dst = binary.BigEndian.AppendUint32(dst, uint32(n))
	dst = append(dst, Version, byte(MsgNotification))
	dst = append(dst, f.head...)
	dst = append(dst, tokBytes...)
	return append(dst, f.tail...)
}

// appendCompactInt appends v in the smallest msgpack integer format, as
// the encoder does with compact integers: positive values in the fixint or
// unsigned formats, negative ones in the negative fixint or signed formats.
func appendCompactInt(dst []byte, v int32) []byte {
	switch {
	case v >= 0 && v <= 0x7f:
		return append(dst, byte(v))
	case v >= 0 && v <= 0xff:
		return append(dst, 0xcc, byte(v))
	case v >= 0 && v <= 0xffff:
		return append(dst, 0xcd, byte(v>>8), byte(v))
	case v >= 0:
		return binary.BigEndian.AppendUint32(append(dst, 0xce), uint32(v))
	case v >= -32:
		return append(dst, byte(int8(v)))
	case v >= -128:
		return append(dst, 0xd0, byte(int8(v)))
	case v >= -32768:
		return binary.BigEndian.AppendUint16(append(dst, 0xd1), uint16(int16(v)))
	}
	return binary.BigEndian.AppendUint32(append(dst, 0xd2), uint32(v))
}

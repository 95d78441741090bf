package wire

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
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

// errTokenNotFound means the token's place in the encoding was not found.
var errTokenNotFound = errors.New("wire: token not found in the encoded notification")

// NewNotificationFrames encodes n (whose Token is ignored). The frames it
// appends are byte for byte those of AppendFrame(dst, MsgNotification, n)
// with n.Token set to the recipient's token.
func NewNotificationFrames(n *Notification) (*NotificationFrames, error) {
	c := *n
	c.Token = tokenMark
	b, err := AppendFrame(nil, MsgNotification, &c)
	if err != nil {
		return nil, err
	}
	if len(b)-lengthSize > MaxFrameSize { // a token takes at most as many bytes as the mark
		return nil, fmt.Errorf("%w: %d bytes", ErrFrameTooLarge, len(b)-lengthSize)
	}
	// The encoder writes a struct's fields in order, and only the map's
	// header and the small "type" field come before "tok": the first
	// "tok" key followed by the mark is the token's place.
	body := b[lengthSize+headerSize:]
	at := bytes.Index(body, tokenKeyAndMark)
	if at < 0 {
		return nil, fmt.Errorf("%w (type %d)", errTokenNotFound, n.Type)
	}
	at += len(tokenKey)
	return &NotificationFrames{head: body[:at], tail: body[at+len(tokenKeyAndMark)-len(tokenKey):]}, nil
}

// tokenMark is the token encoded in NewNotificationFrames's one encoding:
// the largest int32, which the compact encoder writes in five bytes.
const tokenMark = math.MaxInt32

var (
	tokenKey        = []byte{0xa3, 't', 'o', 'k'} // "tok" as a msgpack fixstr
	tokenKeyAndMark = append(append([]byte(nil), tokenKey...), appendCompactInt(nil, tokenMark)...)
)

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

// Package wire defines the messages exchanged between hags clients (gsapi,
// and libha_gs through it) and the hagsd daemon, and their framing.
//
// Every frame is a 4-byte big-endian length, then one byte of protocol
// Version, one byte of MsgType, and a msgpack body. The daemon and the client
// libraries share the types and the validation in this package, so a request
// is judged by the same rules on both sides of the socket. The numeric values
// of codes and enumerations are the same as in include/ha_gs.h.
//
// docs/design/wire.md describes the conversation: Hello and Welcome (or
// Refused), then Requests from the client and Notifications from the daemon.
package wire

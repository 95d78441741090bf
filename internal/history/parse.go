package history

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/openhags/hags/internal/wire"
)

// ErrNotApproved is returned by ParseApproved for a line that is not an
// APPROVED notification.
var ErrNotApproved = errors.New("history: not an APPROVED line")

// ParseApproved reads one APPROVED line as the example clients print it
// (examples/go/gsclient and capi/testdata/cgsclient.c: "APPROVED tok=T
// group=G proto=P sum=S phase=N what=W members=... changing=... state=\"...\"
// [pstate=...] [msg=...] [leave=...] [dphase=K deactivate=...]") and
// returns the group, the token and the record. Any other line gives
// ErrNotApproved; a malformed APPROVED line another error.
func ParseApproved(line string) (group string, token int32, r Record, err error) {
	rest, ok := strings.CutPrefix(line, "APPROVED ")
	if !ok {
		return "", 0, Record{}, ErrNotApproved
	}
	fields, err := splitFields(rest)
	if err != nil {
		return "", 0, Record{}, fmt.Errorf("history: %q: %w", line, err)
	}
	bad := func(key string, e error) (string, int32, Record, error) {
		return "", 0, Record{}, fmt.Errorf("history: %q: field %s: %w", line, key, e)
	}
	for _, f := range fields {
		var e error
		switch f.key {
		case "tok":
			var n int64
			n, e = strconv.ParseInt(f.val, 10, 32)
			token = int32(n)
		case "group":
			group = f.val
		case "proto":
			var k int64
			k, e = lookup(f.val, func(i int64) string { return wire.RequestType(i).String() }, 32)
			r.Kind = wire.RequestType(k)
		case "sum":
			var s uint32
			s, e = flags(f.val, func(i uint32) string { return wire.SummaryCode(i).String() })
			r.Summary = wire.SummaryCode(s)
		case "phase":
			var n uint64
			n, e = strconv.ParseUint(f.val, 10, 32)
			r.Phases = uint32(n)
		case "members":
			r.Members, e = parseProviders(f.val)
		case "changing":
			r.Changing, e = parseProviders(f.val)
		case "state":
			r.State = []byte(f.val)
		case "msg":
			r.Message = []byte(f.val)
		case "leave":
			for _, part := range strings.Split(f.val, ",") {
				name, code, _ := strings.Cut(part, ":")
				var li wire.LeaveInfo
				var k int64
				if k, e = lookup(name, func(i int64) string { return wire.LeaveReason(i).String() }, 8); e != nil {
					break
				}
				li.Reason = wire.LeaveReason(k)
				if code != "" {
					var c uint64
					if c, e = strconv.ParseUint(code, 10, 32); e != nil {
						break
					}
					li.Code = uint32(c)
				}
				r.Leave = append(r.Leave, li)
			}
		case "dphase":
			var n uint64
			n, e = strconv.ParseUint(f.val, 10, 32)
			if r.Expel == nil {
				r.Expel = &wire.ExpelInfo{}
			}
			r.Expel.Phase = uint32(n)
		case "deactivate":
			if r.Expel == nil {
				r.Expel = &wire.ExpelInfo{}
			}
			for _, part := range strings.Split(f.val, ",") {
				var k int64
				if k, e = lookup(part, func(i int64) string { return wire.DeactivateResult(i).String() }, 8); e != nil {
					break
				}
				r.Expel.Results = append(r.Expel.Results, wire.DeactivateResult(k))
			}
		}
		if e != nil {
			return bad(f.key, e)
		}
	}
	if group == "" || r.Kind == 0 {
		return "", 0, Record{}, fmt.Errorf("history: %q: no group or protocol", line)
	}
	if r.State == nil {
		r.State = []byte{}
	}
	return group, token, r, nil
}

type field struct{ key, val string }

// splitFields splits "k=v k2=\"quoted value\" ..." into fields, unquoting
// Go-quoted values.
func splitFields(s string) ([]field, error) {
	var out []field
	for s = strings.TrimLeft(s, " "); s != ""; s = strings.TrimLeft(s, " ") {
		key, rest, ok := strings.Cut(s, "=")
		if !ok || strings.Contains(key, " ") {
			return nil, fmt.Errorf("no key=value at %q", s)
		}
		if strings.HasPrefix(rest, `"`) {
			q, err := strconv.QuotedPrefix(rest)
			if err != nil {
				return nil, fmt.Errorf("value of %s: %w", key, err)
			}
			v, err := strconv.Unquote(q)
			if err != nil {
				return nil, fmt.Errorf("value of %s: %w", key, err)
			}
			out = append(out, field{key, v})
			s = rest[len(q):]
			continue
		}
		v, tail, _ := strings.Cut(rest, " ")
		out = append(out, field{key, v})
		s = tail
	}
	return out, nil
}

// lookup finds the value whose name is name among 0..2^bits-1, or reads a
// number.
func lookup(name string, nameOf func(int64) string, bits int) (int64, error) {
	for i := int64(0); i < 1<<bits && i < 256; i++ {
		if nameOf(i) == name {
			return i, nil
		}
	}
	return strconv.ParseInt(name, 10, bits)
}

// flags reads "A|B" flag names (or "0") back into a flag set.
func flags(s string, nameOf func(uint32) string) (uint32, error) {
	if s == "0" {
		return 0, nil
	}
	var v uint32
	for _, part := range strings.Split(s, "|") {
		found := false
		for bit := 0; bit < 32; bit++ {
			if nameOf(1<<bit) == part {
				v |= 1 << bit
				found = true
				break
			}
		}
		if !found {
			return 0, fmt.Errorf("unknown flag %q", part)
		}
	}
	return v, nil
}

func parseProviders(s string) ([]wire.Provider, error) {
	if s == "-" {
		return nil, nil
	}
	var out []wire.Provider
	for _, part := range strings.Split(s, ",") {
		a, b, ok := strings.Cut(part, "@")
		inst, err1 := strconv.ParseInt(a, 10, 32)
		node, err2 := strconv.ParseInt(b, 10, 32)
		if !ok || err1 != nil || err2 != nil {
			return nil, fmt.Errorf("bad provider %q", part)
		}
		out = append(out, wire.Provider{Instance: int32(inst), Node: int32(node)})
	}
	return out, nil
}

// ParseHistory returns the records of group that token's provider received,
// from a client's output lines, skipping every other line.
func ParseHistory(lines []string, group string, token int32) ([]Record, error) {
	var out []Record
	for _, l := range lines {
		g, tok, r, err := ParseApproved(l)
		if errors.Is(err, ErrNotApproved) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if g == group && tok == token {
			out = append(out, r)
		}
	}
	return out, nil
}

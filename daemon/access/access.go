// Package access is a daemon's group access policy: its mode and the rules
// of its rule file, which decide whether one of the daemon's own clients
// may join a group that another uid owns.
//
// The engine (daemon/protocol) owns the rules every node shares: root may
// join any group, only root may join a group named with the reserved prefix
// "hags.", and the group's creator owns it. What this package decides is the
// node-local part, the grant the node attaches to each join its clients
// make (protocol.Event.Grant). docs/access-control.md is the operator's
// reference.
//
// A Policy is read once, when the daemon starts, and is not changed after:
// it is safe for concurrent use.
package access

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/user"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/openhags/hags/internal/wire"
)

// Errors of this package; every error wraps one of them.
var (
	// ErrMode: --group-access names no mode.
	ErrMode = errors.New("access: unknown group access mode")
	// ErrRules: the rule file cannot be read or breaks the format; the
	// error names the file and line.
	ErrRules = errors.New("access: bad rule file")
)

// Limits of a rule file.
const (
	// MaxRuleFileBytes bounds the size of a rule file.
	MaxRuleFileBytes = 1 << 20
	// MaxLineBytes bounds one line of a rule file.
	MaxLineBytes = 4096
)

// Mode is how a daemon answers for its clients' joins of groups they do
// not own.
type Mode uint8

const (
	// ModeOwner (the default): only what the rule file grants; without a
	// rule, a group is joined only by its owner's uid and root.
	ModeOwner Mode = iota
	// ModeOpen: every admitted client may join every group that is not
	// reserved, as in RSCT.
	ModeOpen
)

// ParseMode reads a mode name: "owner" or "open".
func ParseMode(s string) (Mode, error) {
	switch s {
	case "owner":
		return ModeOwner, nil
	case "open":
		return ModeOpen, nil
	}
	return 0, fmt.Errorf("%w %q: want owner or open", ErrMode, s)
}

// String names the mode as ParseMode reads it.
func (m Mode) String() string {
	switch m {
	case ModeOwner:
		return "owner"
	case ModeOpen:
		return "open"
	}
	return "mode(" + strconv.Itoa(int(m)) + ")"
}

// Policy is a daemon's access mode and rules. The zero Policy is ModeOwner
// with no rules.
type Policy struct {
	Mode  Mode
	Rules *Rules // nil: none
}

// Grants reports whether the policy lets a client join group although
// another uid owns it. uid and gid are the client's (SO_PEERCRED), groups
// its supplementary groups (SO_PEERGROUPS; nil when unknown). Grants says
// nothing about reserved groups: the engine refuses them to every uid but
// 0 whatever the answer.
func (p *Policy) Grants(group string, uid, gid uint32, groups []uint32) bool {
	if p == nil {
		return false
	}
	if p.Mode == ModeOpen {
		return true
	}
	return p.Rules.grants(group, uid, gid, groups)
}

// Rules are the grants of a rule file, in file order.
type Rules struct {
	list []rule
}

// rule grants the groups its pattern matches to its uids and gids.
type rule struct {
	line   int
	name   string // an exact group name, or the prefix of a pattern
	prefix bool   // the pattern ended in '*'
	uids   []uint32
	gids   []uint32
}

func (r *rule) matches(group string) bool {
	if r.prefix {
		return strings.HasPrefix(group, r.name)
	}
	return group == r.name
}

// Len is the number of rules.
func (rs *Rules) Len() int {
	if rs == nil {
		return 0
	}
	return len(rs.list)
}

func (rs *Rules) grants(group string, uid, gid uint32, groups []uint32) bool {
	if rs == nil {
		return false
	}
	for i := range rs.list {
		r := &rs.list[i]
		if !r.matches(group) {
			continue
		}
		if slices.Contains(r.uids, uid) || slices.Contains(r.gids, gid) {
			return true
		}
		for _, g := range groups {
			if slices.Contains(r.gids, g) {
				return true
			}
		}
	}
	return false
}

// LoadRules reads the rule file at path (see ParseRules).
func LoadRules(path string) (*Rules, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrRules, err)
	}
	defer f.Close()
	return ParseRules(f, path)
}

// ParseRules reads a rule file; name is used in errors. The format, one
// rule a line:
//
//	# comment
//	GROUP WHO [WHO...]  [# comment]
//
// GROUP is a group name, or a prefix followed by '*' (which matches every
// group whose name starts with the prefix; "*" alone matches every group).
// A name holding spaces, quotes or '#', or starting with '*', is written as
// a double-quoted string with Go escapes; a quoted pattern is always exact.
// WHO is user:NAME, user:UID, group:NAME or group:GID; names are looked up
// now, once. Anything else — an unknown word, a name that does not resolve,
// a pattern that could only name reserved groups — is an error naming the
// line; nothing of a bad file is used.
func ParseRules(r io.Reader, name string) (*Rules, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxRuleFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrRules, name, err)
	}
	if len(data) > MaxRuleFileBytes {
		return nil, fmt.Errorf("%w: %s: larger than %d bytes", ErrRules, name, MaxRuleFileBytes)
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 256), MaxLineBytes)
	rs := &Rules{}
	n := 1
	for ; sc.Scan(); n++ {
		ru, err := parseLine(sc.Text())
		if err != nil {
			return nil, fmt.Errorf("%w: %s:%d: %w", ErrRules, name, n, err)
		}
		if ru != nil {
			ru.line = n
			rs.list = append(rs.list, *ru)
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, fmt.Errorf("%w: %s:%d: longer than %d bytes", ErrRules, name, n, MaxLineBytes)
		}
		return nil, fmt.Errorf("%w: %s: %w", ErrRules, name, err)
	}
	return rs, nil
}

// parseLine parses one line: nil for a blank line or a comment.
func parseLine(line string) (*rule, error) {
	words, quoted, err := split(line)
	if err != nil || len(words) == 0 {
		return nil, err
	}
	ru := &rule{name: words[0]}
	if !quoted && strings.HasSuffix(ru.name, "*") {
		ru.name, ru.prefix = strings.TrimSuffix(ru.name, "*"), true
	}
	if err := checkPattern(ru, words[0], quoted); err != nil {
		return nil, err
	}
	if len(words) == 1 {
		return nil, fmt.Errorf("group %q: no user or group is granted it (want user:NAME|UID or group:NAME|GID)", words[0])
	}
	for _, w := range words[1:] {
		kind, v, ok := strings.Cut(w, ":")
		if !ok || v == "" {
			return nil, fmt.Errorf("%q: want user:NAME|UID or group:NAME|GID", w)
		}
		switch kind {
		case "user":
			uid, err := lookupID(v, lookupUser)
			if err != nil {
				return nil, fmt.Errorf("%q: %w", w, err)
			}
			ru.uids = append(ru.uids, uid)
		case "group":
			gid, err := lookupID(v, lookupGroup)
			if err != nil {
				return nil, fmt.Errorf("%q: %w", w, err)
			}
			ru.gids = append(ru.gids, gid)
		default:
			return nil, fmt.Errorf("%q: unknown kind %q (want user or group)", w, kind)
		}
	}
	return ru, nil
}

// checkPattern refuses patterns that could never name a group a rule may
// grant.
func checkPattern(ru *rule, word string, quoted bool) error {
	switch {
	case !quoted && strings.Contains(ru.name, "*"):
		return fmt.Errorf("pattern %q: '*' may only end a pattern (quote a name that holds one)", word)
	case !ru.prefix && ru.name == "":
		return errors.New("an empty group name")
	case len(ru.name) > wire.MaxGroupNameLength:
		return fmt.Errorf("group %q: longer than %d bytes", word, wire.MaxGroupNameLength)
	case strings.IndexByte(ru.name, 0) >= 0:
		return fmt.Errorf("group %q: holds a NUL byte", word)
	case wire.ReservedGroup(ru.name):
		return fmt.Errorf("group %q: names starting with %q are reserved for root; no rule can grant them",
			word, wire.ReservedGroupPrefix)
	}
	return nil
}

// split cuts a line into words at white space, reading a word that starts
// with '"' as a quoted string and stopping at a word that starts with '#'.
// quoted says whether the first word was quoted.
func split(line string) (words []string, quoted bool, err error) {
	for rest := line; ; {
		rest = strings.TrimLeftFunc(rest, unicode.IsSpace)
		switch {
		case rest == "", rest[0] == '#':
			return words, quoted, nil
		case rest[0] == '"':
			q, err := strconv.QuotedPrefix(rest)
			if err != nil {
				return nil, false, fmt.Errorf("a quoted name is not closed or has a bad escape: %s", rest)
			}
			w, _ := strconv.Unquote(q)
			rest = rest[len(q):]
			if rest != "" && !unicode.IsSpace(rune(rest[0])) {
				return nil, false, fmt.Errorf("text right after the quoted name %s", q)
			}
			quoted = quoted || len(words) == 0
			words = append(words, w)
		default:
			end := strings.IndexFunc(rest, unicode.IsSpace)
			if end < 0 {
				end = len(rest)
			}
			words = append(words, rest[:end])
			rest = rest[end:]
		}
	}
}

// lookupID reads a decimal id, or looks a name up with lookup.
func lookupID(v string, lookup func(string) (string, error)) (uint32, error) {
	if v[0] >= '0' && v[0] <= '9' {
		return parseID(v)
	}
	id, err := lookup(v)
	if err != nil {
		return 0, err
	}
	return parseID(id)
}

// parseID reads a uid or gid; (uint32)-1 is not one.
func parseID(s string) (uint32, error) {
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil || n == math.MaxUint32 {
		return 0, fmt.Errorf("%q is not a valid id", s)
	}
	return uint32(n), nil
}

func lookupUser(name string) (string, error) {
	u, err := user.Lookup(name)
	if err != nil {
		return "", fmt.Errorf("no such user: %w", err)
	}
	return u.Uid, nil
}

func lookupGroup(name string) (string, error) {
	g, err := user.LookupGroup(name)
	if err != nil {
		return "", fmt.Errorf("no such group: %w", err)
	}
	return g.Gid, nil
}

// Describe summarises the policy for the daemon's start-up log line.
func (p *Policy) Describe() string {
	switch {
	case p == nil:
		return "owner, no rules"
	case p.Rules.Len() == 0:
		return p.Mode.String() + ", no rules"
	}
	return fmt.Sprintf("%s, %d rules", p.Mode, p.Rules.Len())
}

package failover

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Dependency is a resource's dependency expression: an AND of sets, each
// set an OR of providers, all resources of the same group. A set with one
// provider is a simple dependency (that provider must be online); a set of
// several is a complex one (at least one of them must be online). The zero
// value depends on nothing.
type Dependency struct {
	Sets [][]string
}

// Empty reports whether d depends on nothing.
func (d Dependency) Empty() bool { return len(d.Sets) == 0 }

// Providers returns every resource d names, in the order written.
func (d Dependency) Providers() []string {
	var out []string
	for _, s := range d.Sets {
		out = append(out, s...)
	}
	return out
}

// String writes d in the expression syntax, the form ParseDependency reads:
// "[a] and ([b] or [c])". The empty dependency is "".
func (d Dependency) String() string {
	var b strings.Builder
	for i, set := range d.Sets {
		if i > 0 {
			b.WriteString(" and ")
		}
		if len(set) > 1 {
			b.WriteByte('(')
		}
		for j, p := range set {
			if j > 0 {
				b.WriteString(" or ")
			}
			b.WriteByte('[')
			b.WriteString(p)
			b.WriteByte(']')
		}
		if len(set) > 1 {
			b.WriteByte(')')
		}
	}
	return b.String()
}

// MaxDependencyExpression bounds an expression's length in bytes.
const MaxDependencyExpression = 64 << 10

// ParseDependency reads a dependency expression:
//
//	expression = "" | term { "and" term }
//	term       = operand | "(" operand { "or" operand } ")"
//	operand    = "[" resource-name "]"
//
// Keywords are case-insensitive and surrounded by any white space; names
// follow the naming rule (CheckName). A resource may be named once only in
// one expression. A malformed expression returns an *Error with
// ERROR_INVALID_PARAMETER (or ERROR_INVALID_NAME for a bad name) saying
// where it went wrong. Whether the names exist, are in the same group and
// form no cycle is for the cluster to judge.
func ParseDependency(expr string) (Dependency, error) {
	if len(expr) > MaxDependencyExpression {
		return Dependency{}, Errorf(CodeInvalidParameter, "dependency expression of %d bytes is longer than %d", len(expr), MaxDependencyExpression)
	}
	p := depParser{s: expr}
	var d Dependency
	seen := map[string]bool{}
	p.space()
	if p.done() {
		return d, nil
	}
	for {
		set, err := p.term()
		if err != nil {
			return Dependency{}, err
		}
		for _, name := range set {
			if seen[name] {
				return Dependency{}, Errorf(CodeInvalidParameter, "dependency expression names [%s] twice", name)
			}
			seen[name] = true
		}
		d.Sets = append(d.Sets, set)
		p.space()
		if p.done() {
			return d, nil
		}
		if !p.keyword("and") {
			return Dependency{}, p.fail("expected \"and\" or the end")
		}
	}
}

type depParser struct {
	s   string
	pos int
}

func (p *depParser) done() bool { return p.pos >= len(p.s) }

func (p *depParser) space() {
	for p.pos < len(p.s) {
		r, n := utf8.DecodeRuneInString(p.s[p.pos:])
		if !unicode.IsSpace(r) {
			return
		}
		p.pos += n
	}
}

func (p *depParser) fail(what string) *Error {
	return Errorf(CodeInvalidParameter, "dependency expression: %s at byte %d", what, p.pos)
}

// keyword consumes kw (case-insensitive) followed by white space or a
// bracket, after optional white space.
func (p *depParser) keyword(kw string) bool {
	p.space()
	end := p.pos + len(kw)
	if end > len(p.s) || !strings.EqualFold(p.s[p.pos:end], kw) {
		return false
	}
	if end < len(p.s) {
		r, _ := utf8.DecodeRuneInString(p.s[end:])
		if !unicode.IsSpace(r) && r != '[' && r != '(' {
			return false
		}
	}
	p.pos = end
	return true
}

func (p *depParser) term() ([]string, error) {
	p.space()
	if p.done() {
		return nil, p.fail("expected \"[\" or \"(\"")
	}
	if p.s[p.pos] != '(' {
		name, err := p.operand()
		if err != nil {
			return nil, err
		}
		return []string{name}, nil
	}
	p.pos++
	var set []string
	for {
		name, err := p.operand()
		if err != nil {
			return nil, err
		}
		set = append(set, name)
		p.space()
		if p.done() {
			return nil, p.fail("expected \"or\" or \")\"")
		}
		if p.s[p.pos] == ')' {
			p.pos++
			return set, nil
		}
		if !p.keyword("or") {
			return nil, p.fail("expected \"or\" or \")\"")
		}
	}
}

func (p *depParser) operand() (string, error) {
	p.space()
	if p.done() || p.s[p.pos] != '[' {
		return "", p.fail("expected \"[\"")
	}
	end := strings.IndexByte(p.s[p.pos+1:], ']')
	if end < 0 {
		return "", p.fail("\"[\" without \"]\"")
	}
	name := p.s[p.pos+1 : p.pos+1+end]
	if err := CheckName(name); err != nil {
		return "", err
	}
	p.pos += end + 2
	return name, nil
}

// MaxNameLength bounds group and resource names, in bytes.
const MaxNameLength = 255

// CheckName returns nil if name may name a group or a resource: 1 to 255
// bytes of UTF-8 without control characters, "[" or "]". Names compare
// exactly. A bad name is an *Error with ERROR_INVALID_NAME.
func CheckName(name string) error {
	switch {
	case name == "":
		return Errorf(CodeInvalidName, "a name may not be empty")
	case len(name) > MaxNameLength:
		return Errorf(CodeInvalidName, "name of %d bytes is longer than %d", len(name), MaxNameLength)
	case !utf8.ValidString(name):
		return Errorf(CodeInvalidName, "name %q is not valid UTF-8", name)
	}
	for _, r := range name {
		if unicode.IsControl(r) || r == '[' || r == ']' {
			return Errorf(CodeInvalidName, "name %q holds %q, which names may not", name, r)
		}
	}
	return nil
}

// CheckNodeName judges a node name as a name that may exist: 1 to
// MaxNameLength bytes without a control character. A name that cannot
// exist names no node: ERROR_CLUSTER_NODE_NOT_FOUND.
func CheckNodeName(name string) error {
	if name == "" || len(name) > MaxNameLength || strings.ContainsFunc(name, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return Errorf(CodeClusterNodeNotFound, "there is no node %q", name)
	}
	return nil
}

var _ fmt.Stringer = Dependency{}

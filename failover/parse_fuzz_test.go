package failover

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
)

// FuzzParseDependency: any text either parses, and then writes back to an
// expression that parses to the same dependency, or is refused with
// ERROR_INVALID_PARAMETER or ERROR_INVALID_NAME; never a panic.
func FuzzParseDependency(f *testing.F) {
	for _, s := range []string{
		"", "[a]", "[a] and [b]", "([a] or [b]) and [c]", "  [a]\tAND\n([b] OR [c] or [d])  ",
		"[a] and", "([a]", "[a] or [b]", "[a]and[b]", "[]", "[a] and [a]", "[ä ö] and ([x y] or [z])",
		"(([a]))", "[a\x00]", strings.Repeat("[a] and ", 3) + "[b]",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, expr string) {
		d, err := ParseDependency(expr)
		if err != nil {
			c, ok := CodeOf(err)
			if !ok || c != CodeInvalidParameter && c != CodeInvalidName {
				t.Fatalf("ParseDependency(%q) failed without the codes it may give: %v", expr, err)
			}
			return
		}
		again, err := ParseDependency(d.String())
		if err != nil {
			t.Fatalf("ParseDependency(%q) = %q, which does not parse: %v", expr, d.String(), err)
		}
		if !reflect.DeepEqual(d, again) {
			t.Fatalf("ParseDependency(%q) = %#v, written %q, read back %#v", expr, d, d.String(), again)
		}
	})
}

// FuzzParseConfig: any document either parses, and then writes back (as
// hagsrm config show does) to one that parses and writes back the same,
// or is refused with a code; never a panic.
func FuzzParseConfig(f *testing.F) {
	for _, s := range []string{
		"",
		"groups: []\n",
		"groups:\n  - name: web\n",
		"nodes:\n  - name: NodeB\n    fence-command: /bin/true\ngroups:\n  - name: web\n    preferred-owners: [NodeB, NodeA]\n" +
			"    resources:\n      - name: ip\n        agent: ocf:heartbeat:Dummy\n" +
			"      - name: server\n        agent: exec\n        params: {command: \"sleep 1\"}\n        depends: \"[ip]\"\n        restart-delay: 2s\n",
		"groups:\n  - name: x\n    colour: red\n",
		"groups:\n  - name: a\n  - name: a\n",
		"groups:\n  - name: a\n    resources:\n      - {name: r, agent: 'ocf:../x:y'}\n",
		`{"groups": [{"name": "j", "failover-threshold": 2, "resources": [{"name": "r", "agent": "exec", "persistent-state": "online"}]}]}`,
		"groups:\n  - name: a\n    resources:\n      - {name: r, agent: exec, depends: '[q]'}\n",
		"groups: &a [*a]\n",
		"- just\n- a list\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		cfg, err := ParseConfig(bytes.NewReader(doc))
		if err != nil {
			if _, ok := CodeOf(err); !ok {
				t.Fatalf("ParseConfig failed without a code: %v", err)
			}
			return
		}
		out, err := cfg.Marshal()
		if err != nil {
			t.Fatalf("a parsed configuration does not write back: %v", err)
		}
		again, err := ParseConfig(bytes.NewReader(out))
		if err != nil {
			t.Fatalf("the written configuration does not parse: %v\n%s", err, out)
		}
		out2, err := again.Marshal()
		if err != nil || !bytes.Equal(out, out2) {
			t.Fatalf("the configuration changed on its way through show (%v):\n%s\n---\n%s", err, out, out2)
		}
	})
}

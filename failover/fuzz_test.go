package failover

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
)

// FuzzParseDependency: any text either parses, and then writes back as an
// expression that parses to the same dependency, or is refused with
// ERROR_INVALID_PARAMETER or ERROR_INVALID_NAME. Never a panic.
func FuzzParseDependency(f *testing.F) {
	for _, s := range []string{"", "[a]", "[a] and [b]", "([a] or [b]) and [c]", "( [x y] OR [z] ) AND [w]",
		"[a] and", "([a]", "[a] or [b]", "[]", "[a]and[b]", "[a] and [a]", "[é] and ([\u00a0] or [(])",
		"  [a]\tAND\n([b] OR [c] or [d])  ", "(([a]))", "[a\x00]", strings.Repeat("[a] and ", 3) + "[b]"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDependency(s)
		if err != nil {
			c, ok := CodeOf(err)
			if !ok || c != CodeInvalidParameter && c != CodeInvalidName {
				t.Fatalf("ParseDependency(%q) failed with %v, not an *Error with ERROR_INVALID_PARAMETER or ERROR_INVALID_NAME", s, err)
			}
			return
		}
		again, err := ParseDependency(d.String())
		if err != nil {
			t.Fatalf("%q parsed to %q, which does not parse: %v", s, d.String(), err)
		}
		if !reflect.DeepEqual(d, again) {
			t.Fatalf("%q parsed to %#v, written %q, read back %#v", s, d, d.String(), again)
		}
		for _, p := range d.Providers() {
			if err := CheckName(p); err != nil {
				t.Fatalf("%q gave the operand %q, which is no name: %v", s, p, err)
			}
		}
	})
}

// FuzzParseConfig: any document either parses into a configuration that
// passes Check and whose Marshal parses back to one that marshals the
// same, or is refused with an *Error. Never a panic.
func FuzzParseConfig(f *testing.F) {
	for _, s := range []string{
		"",
		"groups: []\n",
		"groups:\n  - name: web\n",
		"groups:\n  - name: a\n    resources:\n      - {name: r, agent: 'ocf:../x:y'}\n",
		"groups: &a [*a]\n",
		"nodes:\n  - name: A\n    fence-command: /bin/true\ngroups:\n  - name: g\n    persistent-state: online\n    resources:\n      - name: r\n        agent: exec\n        params: {command: sleep 9}\n        depends: \"\"\n",
		"groups:\n  - name: g\n    preferred-owners: [A, B]\n    anti-affinity: [x]\n    failover-threshold: 2\n    failover-period: 1h\n    resources:\n      - {name: a, agent: \"ocf:heartbeat:Dummy\", restart-delay: 1s}\n      - {name: b, agent: exec, depends: \"[a]\"}\n",
		"{\"groups\": [{\"name\": \"j\", \"resources\": [{\"name\": \"r\", \"agent\": \"exec\"}]}]}",
		"groups:\n  - name: g\n    colour: red\n",
		"groups:\n  - name: g\n  - name: g\n",
		"groups:\n  - name: g\n    resources:\n      - {name: a, agent: exec, depends: \"[b]\"}\n",
		"groups: [{name: g, resources: [{name: a, agent: exec, restart-action: sometimes}]}]",
		"groups: [{name: \"a]b\"}]",
		"- just a list",
		"groups: {",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseConfig(strings.NewReader(s))
		if err != nil {
			if _, ok := CodeOf(err); !ok {
				t.Fatalf("ParseConfig failed with %v, which carries no code", err)
			}
			return
		}
		if err := c.Check(); err != nil {
			t.Fatalf("a parsed configuration fails Check: %v", err)
		}
		out, err := c.Marshal()
		if err != nil {
			t.Fatalf("Marshal of a parsed configuration: %v", err)
		}
		again, err := ParseConfig(bytes.NewReader(out))
		if err != nil {
			t.Fatalf("the marshalled configuration does not parse: %v\n%s", err, out)
		}
		out2, err := again.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out, out2) {
			t.Fatalf("marshal, parse and marshal again differ:\n%s\n---\n%s", out, out2)
		}
	})
}

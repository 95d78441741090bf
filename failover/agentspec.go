package failover

import (
	"fmt"
	"strings"
)

// AgentClass says how a resource's agent is run.
type AgentClass string

// Agent classes.
const (
	// AgentOCF is an Open Cluster Framework resource agent:
	// $OCF_ROOT/resource.d/PROVIDER/TYPE, run once per action.
	AgentOCF AgentClass = "ocf"
	// AgentExec is a command that hagsrmd runs as its child and keeps
	// running; its exit is the resource's failure.
	AgentExec AgentClass = "exec"
)

// AgentSpec names a resource's agent: "ocf:PROVIDER:TYPE" or "exec".
type AgentSpec struct {
	Class    AgentClass
	Provider string // OCF only
	Type     string // OCF only
}

// String writes the spec as ParseAgent reads it.
func (a AgentSpec) String() string {
	if a.Class == AgentOCF {
		return "ocf:" + a.Provider + ":" + a.Type
	}
	return string(a.Class)
}

// ParseAgent reads "ocf:PROVIDER:TYPE" or "exec". Provider and type are
// path components under the OCF root, so they may hold only letters,
// digits, ".", "_" and "-", and may not be "." or "..".
func ParseAgent(s string) (AgentSpec, error) {
	if s == string(AgentExec) {
		return AgentSpec{Class: AgentExec}, nil
	}
	parts := strings.Split(s, ":")
	if len(parts) != 3 || parts[0] != string(AgentOCF) {
		return AgentSpec{}, fmt.Errorf("agent %q is neither \"exec\" nor \"ocf:PROVIDER:TYPE\"", s)
	}
	for _, p := range parts[1:] {
		if !pathComponent(p) {
			return AgentSpec{}, fmt.Errorf("agent %q: %q is not a plain name", s, p)
		}
	}
	return AgentSpec{Class: AgentOCF, Provider: parts[1], Type: parts[2]}, nil
}

func pathComponent(s string) bool {
	if s == "" || s == "." || s == ".." || len(s) > 255 {
		return false
	}
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '_', r == '-':
		default:
			return false
		}
	}
	return true
}

// CheckParamName returns nil if name may name an agent parameter: it
// becomes the environment variable OCF_RESKEY_<name>, so it holds only
// letters, digits and "_" and does not start with a digit.
func CheckParamName(name string) error {
	if name == "" || len(name) > 128 {
		return Errorf(CodeInvalidParameter, "parameter name %q must be 1 to 128 characters", name)
	}
	for i, r := range name {
		ok := r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || i > 0 && r >= '0' && r <= '9'
		if !ok {
			return Errorf(CodeInvalidParameter, "parameter name %q may hold only letters, digits and _ (not first)", name)
		}
	}
	return nil
}

// MaxParamValue bounds one agent parameter's value, in bytes.
const MaxParamValue = 64 << 10

// CheckParam returns nil if name=value may be an agent parameter: a good
// name (CheckParamName) and a value of at most MaxParamValue bytes without
// a NUL byte (it becomes an environment variable).
func CheckParam(name, value string) error {
	if err := CheckParamName(name); err != nil {
		return err
	}
	if len(value) > MaxParamValue {
		return Errorf(CodeInvalidParameter, "parameter %s: value of %d bytes is longer than %d", name, len(value), MaxParamValue)
	}
	if strings.IndexByte(value, 0) >= 0 {
		return Errorf(CodeInvalidParameter, "parameter %s: value holds a NUL byte", name)
	}
	return nil
}

package failover

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Duration is a time.Duration written as Go writes durations ("500ms",
// "15m", "6h") in JSON, YAML and on the command line.
type Duration time.Duration

// String formats d as time.Duration does.
func (d Duration) String() string { return time.Duration(d).String() }

// MarshalText writes d as "500ms".
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText reads a duration such as "500ms" or "1h30m"; negative
// durations are refused.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("failover: bad duration %q: %w", b, err)
	}
	if v < 0 {
		return fmt.Errorf("failover: negative duration %q", b)
	}
	*d = Duration(v)
	return nil
}

// RestartAction says what the cluster does when a resource fails.
type RestartAction uint8

// Restart actions (MS-CMRP's RestartAction values, with our names).
const (
	// DontRestart leaves a failed resource Failed.
	DontRestart RestartAction = 0
	// RestartNoNotify restarts it in place, up to the restart threshold,
	// and never fails the group over.
	RestartNoNotify RestartAction = 1
	// RestartNotify restarts it in place up to the threshold, then fails
	// the group over to the next eligible node.
	RestartNotify RestartAction = 2
)

var restartActionNames = [...]string{"dont-restart", "restart-no-notify", "restart-notify"}

// String returns the action's name: "dont-restart", "restart-no-notify" or
// "restart-notify".
func (a RestartAction) String() string {
	if int(a) < len(restartActionNames) {
		return restartActionNames[a]
	}
	return fmt.Sprintf("restart-action-%d", uint8(a))
}

// MarshalText writes the action's name.
func (a RestartAction) MarshalText() ([]byte, error) { return []byte(a.String()), nil }

// UnmarshalText reads an action's name.
func (a *RestartAction) UnmarshalText(b []byte) error {
	for i, n := range restartActionNames {
		if n == string(b) {
			*a = RestartAction(i)
			return nil
		}
	}
	return fmt.Errorf("failover: restart-action %q is not one of %s", b, strings.Join(restartActionNames[:], ", "))
}

// ResourceProperties are a resource's recovery and timing settings. The
// zero value of a timeout means "the agent's own default" (its meta-data,
// for OCF agents); every other field has the default DefaultResourceProperties
// gives.
type ResourceProperties struct {
	MonitorInterval      Duration      `json:"monitor-interval" yaml:"monitor-interval"`
	MonitorTimeout       Duration      `json:"monitor-timeout" yaml:"monitor-timeout"`
	StartTimeout         Duration      `json:"start-timeout" yaml:"start-timeout"`
	StopTimeout          Duration      `json:"stop-timeout" yaml:"stop-timeout"`
	PendingTimeout       Duration      `json:"pending-timeout" yaml:"pending-timeout"`
	RestartAction        RestartAction `json:"restart-action" yaml:"restart-action"`
	RestartThreshold     int           `json:"restart-threshold" yaml:"restart-threshold"`
	RestartPeriod        Duration      `json:"restart-period" yaml:"restart-period"`
	RetryPeriodOnFailure Duration      `json:"retry-period-on-failure" yaml:"retry-period-on-failure"`
	RestartDelay         Duration      `json:"restart-delay" yaml:"restart-delay"`
}

// DefaultResourceProperties returns the defaults of docs/failover.md:
// monitor every 10 s with a 20 s timeout, pending timeout 180 s, restart in
// place after 500 ms up to 3 times in 15 minutes and then fail the group
// over, retry a Failed resource after an hour.
func DefaultResourceProperties() ResourceProperties {
	return ResourceProperties{
		MonitorInterval:      Duration(10 * time.Second),
		MonitorTimeout:       Duration(20 * time.Second),
		PendingTimeout:       Duration(180 * time.Second),
		RestartAction:        RestartNotify,
		RestartThreshold:     3,
		RestartPeriod:        Duration(15 * time.Minute),
		RetryPeriodOnFailure: Duration(time.Hour),
		RestartDelay:         Duration(500 * time.Millisecond),
	}
}

// GroupProperties are a group's placement and failover settings.
type GroupProperties struct {
	// PreferredOwners orders the nodes the cluster prefers for the group.
	PreferredOwners []string `json:"preferred-owners,omitempty" yaml:"preferred-owners,omitempty"`
	// AntiAffinity names classes: two groups that share one avoid sharing
	// a node (softly: failover ignores it when it must).
	AntiAffinity []string `json:"anti-affinity,omitempty" yaml:"anti-affinity,omitempty"`
	// FailoverThreshold is how many failovers FailoverPeriod allows; -1
	// means the number of nodes minus one.
	FailoverThreshold int      `json:"failover-threshold" yaml:"failover-threshold"`
	FailoverPeriod    Duration `json:"failover-period" yaml:"failover-period"`
}

// DefaultGroupProperties returns the defaults: no preferred owners or
// classes, at most nodes−1 failovers in 6 hours.
func DefaultGroupProperties() GroupProperties {
	return GroupProperties{FailoverThreshold: -1, FailoverPeriod: Duration(6 * time.Hour)}
}

// ResourcePropertyNames lists the names SetResourceProperty accepts.
func ResourcePropertyNames() []string {
	return []string{"monitor-interval", "monitor-timeout", "start-timeout", "stop-timeout", "pending-timeout",
		"restart-action", "restart-threshold", "restart-period", "retry-period-on-failure", "restart-delay"}
}

// GroupPropertyNames lists the names SetGroupProperty accepts.
func GroupPropertyNames() []string {
	return []string{"preferred-owners", "anti-affinity", "failover-threshold", "failover-period"}
}

// Set sets the property called name from its text form (as hagsrm's
// --set NAME=VALUE gives it). An unknown name or a bad value is an *Error
// with ERROR_INVALID_PARAMETER.
func (p *ResourceProperties) Set(name, value string) error {
	var err error
	switch name {
	case "monitor-interval":
		err = p.MonitorInterval.UnmarshalText([]byte(value))
	case "monitor-timeout":
		err = p.MonitorTimeout.UnmarshalText([]byte(value))
	case "start-timeout":
		err = p.StartTimeout.UnmarshalText([]byte(value))
	case "stop-timeout":
		err = p.StopTimeout.UnmarshalText([]byte(value))
	case "pending-timeout":
		err = p.PendingTimeout.UnmarshalText([]byte(value))
	case "restart-action":
		err = p.RestartAction.UnmarshalText([]byte(value))
	case "restart-threshold":
		p.RestartThreshold, err = nonNegative(value)
	case "restart-period":
		err = p.RestartPeriod.UnmarshalText([]byte(value))
	case "retry-period-on-failure":
		err = p.RetryPeriodOnFailure.UnmarshalText([]byte(value))
	case "restart-delay":
		err = p.RestartDelay.UnmarshalText([]byte(value))
	default:
		return Errorf(CodeInvalidParameter, "no resource property %q (there are: %s)", name, strings.Join(ResourcePropertyNames(), ", "))
	}
	if err != nil {
		return Errorf(CodeInvalidParameter, "resource property %s: %v", name, err)
	}
	return p.Check()
}

// Check returns an *Error with ERROR_INVALID_PARAMETER when the settings
// cannot work together.
func (p ResourceProperties) Check() error {
	switch {
	case p.PendingTimeout <= 0:
		return Errorf(CodeInvalidParameter, "pending-timeout must be positive")
	case p.RestartPeriod <= 0:
		return Errorf(CodeInvalidParameter, "restart-period must be positive")
	case p.RestartThreshold < 0:
		return Errorf(CodeInvalidParameter, "restart-threshold must not be negative")
	case p.RestartAction > RestartNotify:
		return Errorf(CodeInvalidParameter, "unknown restart-action %d", p.RestartAction)
	case p.MonitorInterval != 0 && p.MonitorInterval < Duration(100*time.Millisecond):
		return Errorf(CodeInvalidParameter, "monitor-interval %s is below 100ms (0 turns monitoring off)", p.MonitorInterval)
	}
	return nil
}

// Set sets the group property called name from its text form. Node lists
// are comma-separated.
func (p *GroupProperties) Set(name, value string) error {
	var err error
	switch name {
	case "preferred-owners":
		p.PreferredOwners = splitList(value)
	case "anti-affinity":
		p.AntiAffinity = splitList(value)
	case "failover-threshold":
		if value == "auto" || value == "-1" {
			p.FailoverThreshold = -1
		} else {
			p.FailoverThreshold, err = nonNegative(value)
		}
	case "failover-period":
		err = p.FailoverPeriod.UnmarshalText([]byte(value))
	default:
		return Errorf(CodeInvalidParameter, "no group property %q (there are: %s)", name, strings.Join(GroupPropertyNames(), ", "))
	}
	if err != nil {
		return Errorf(CodeInvalidParameter, "group property %s: %v", name, err)
	}
	return p.Check()
}

// Check returns an *Error with ERROR_INVALID_PARAMETER when the settings
// cannot work.
func (p GroupProperties) Check() error {
	if p.FailoverThreshold < -1 {
		return Errorf(CodeInvalidParameter, "failover-threshold must be -1 (auto) or more")
	}
	if p.FailoverPeriod <= 0 {
		return Errorf(CodeInvalidParameter, "failover-period must be positive")
	}
	seen := map[string]bool{}
	for _, n := range p.PreferredOwners {
		if seen[n] {
			return Errorf(CodeInvalidParameter, "preferred-owners names %s twice", n)
		}
		seen[n] = true
	}
	return nil
}

func nonNegative(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%q is not a whole number of 0 or more", s)
	}
	return n, nil
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// SortedKeys returns m's keys in order; agent parameters are shown and
// passed in this order.
func SortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

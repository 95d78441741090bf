package wire

import "strings"

// ReservedGroupPrefix starts the names of groups that only root (uid 0) may
// create or join as a provider, whatever a daemon's access mode and rules
// say: the groups hags's own components use. docs/access-control.md
// explains the rule.
const ReservedGroupPrefix = "hags."

// ReservedGroup reports whether a group name starts with
// ReservedGroupPrefix.
func ReservedGroup(name string) bool { return strings.HasPrefix(name, ReservedGroupPrefix) }

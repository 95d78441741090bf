package failover

import "fmt"

// The state values below are those of Microsoft's failover cluster
// management protocol (MS-CMRP), name for name and value for value, so that
// a program written against its enumerations reads ours the same way. They
// never change.

// GroupState is a group's current state, computed from its resources'
// states (docs/failover.md, "States").
type GroupState int32

// Group states.
const (
	GroupStateUnknown  GroupState = -1
	GroupOnline        GroupState = 0
	GroupOffline       GroupState = 1
	GroupFailed        GroupState = 2
	GroupPartialOnline GroupState = 3
	GroupPending       GroupState = 4
)

// ResourceState is a resource's current state.
type ResourceState int32

// Resource states.
const (
	ResourceStateUnknown   ResourceState = -1
	ResourceInitializing   ResourceState = 1
	ResourceOnline         ResourceState = 2
	ResourceOffline        ResourceState = 3
	ResourceFailed         ResourceState = 4
	ResourceOnlinePending  ResourceState = 129
	ResourceOfflinePending ResourceState = 130
)

// NodeState is a node's state as the failover manager sees it: Up when its
// manager takes part in the cluster, Joining while that manager catches up
// and probes its resources, Paused when an operator paused it, Down
// otherwise.
type NodeState int32

// Node states.
const (
	NodeStateUnknown NodeState = -1
	NodeUp           NodeState = 0
	NodeDown         NodeState = 1
	NodePaused       NodeState = 2
	NodeJoining      NodeState = 3
)

var groupStateNames = map[GroupState]string{
	GroupStateUnknown:  "ClusterGroupStateUnknown",
	GroupOnline:        "ClusterGroupOnline",
	GroupOffline:       "ClusterGroupOffline",
	GroupFailed:        "ClusterGroupFailed",
	GroupPartialOnline: "ClusterGroupPartialOnline",
	GroupPending:       "ClusterGroupPending",
}

var resourceStateNames = map[ResourceState]string{
	ResourceStateUnknown:   "ClusterResourceStateUnknown",
	ResourceInitializing:   "ClusterResourceInitializing",
	ResourceOnline:         "ClusterResourceOnline",
	ResourceOffline:        "ClusterResourceOffline",
	ResourceFailed:         "ClusterResourceFailed",
	ResourceOnlinePending:  "ClusterResourceOnlinePending",
	ResourceOfflinePending: "ClusterResourceOfflinePending",
}

var nodeStateNames = map[NodeState]string{
	NodeStateUnknown: "ClusterNodeStateUnknown",
	NodeUp:           "ClusterNodeUp",
	NodeDown:         "ClusterNodeDown",
	NodePaused:       "ClusterNodePaused",
	NodeJoining:      "ClusterNodeJoining",
}

// String returns the state's MS-CMRP name, e.g. "ClusterGroupOnline".
func (s GroupState) String() string { return enumName(groupStateNames, s, "ClusterGroupState") }

// String returns the state's MS-CMRP name, e.g. "ClusterResourceOnline".
func (s ResourceState) String() string {
	return enumName(resourceStateNames, s, "ClusterResourceState")
}

// String returns the state's MS-CMRP name, e.g. "ClusterNodeUp".
func (s NodeState) String() string { return enumName(nodeStateNames, s, "ClusterNodeState") }

// Valid reports whether s is one of the named group states.
func (s GroupState) Valid() bool { _, ok := groupStateNames[s]; return ok }

// Valid reports whether s is one of the named resource states.
func (s ResourceState) Valid() bool { _, ok := resourceStateNames[s]; return ok }

// Valid reports whether s is one of the named node states.
func (s NodeState) Valid() bool { _, ok := nodeStateNames[s]; return ok }

// Pending reports whether s is OnlinePending or OfflinePending.
func (s ResourceState) Pending() bool {
	return s == ResourceOnlinePending || s == ResourceOfflinePending
}

// ParseGroupState returns the group state named name (its MS-CMRP name).
func ParseGroupState(name string) (GroupState, error) { return parseEnum(groupStateNames, name) }

// ParseResourceState returns the resource state named name.
func ParseResourceState(name string) (ResourceState, error) {
	return parseEnum(resourceStateNames, name)
}

// ParseNodeState returns the node state named name.
func ParseNodeState(name string) (NodeState, error) { return parseEnum(nodeStateNames, name) }

// MarshalText encodes the state as its name (JSON, YAML).
func (s GroupState) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText decodes a state name.
func (s *GroupState) UnmarshalText(b []byte) error {
	v, err := ParseGroupState(string(b))
	*s = v
	return err
}

// MarshalText encodes the state as its name (JSON, YAML).
func (s ResourceState) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText decodes a state name.
func (s *ResourceState) UnmarshalText(b []byte) error {
	v, err := ParseResourceState(string(b))
	*s = v
	return err
}

// MarshalText encodes the state as its name (JSON, YAML).
func (s NodeState) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText decodes a state name.
func (s *NodeState) UnmarshalText(b []byte) error {
	v, err := ParseNodeState(string(b))
	*s = v
	return err
}

func enumName[K ~int32](names map[K]string, v K, prefix string) string {
	if n, ok := names[v]; ok {
		return n
	}
	return fmt.Sprintf("%s(%d)", prefix, int32(v))
}

func parseEnum[K ~int32](names map[K]string, name string) (K, error) {
	for v, n := range names {
		if n == name {
			return v, nil
		}
	}
	return -1, fmt.Errorf("failover: unknown state name %q", name)
}

// PersistentState is what the last client command asked of a group or a
// resource: the cluster keeps driving it there, on whichever node owns it.
type PersistentState uint8

// Persistent states. The zero value is offline: a new group or resource
// stays offline until an operator brings it online.
const (
	PersistentOffline PersistentState = 0
	PersistentOnline  PersistentState = 1
)

// String returns "online" or "offline".
func (p PersistentState) String() string {
	if p == PersistentOnline {
		return "online"
	}
	return "offline"
}

// MarshalText encodes "online" or "offline".
func (p PersistentState) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

// UnmarshalText decodes "online" or "offline".
func (p *PersistentState) UnmarshalText(b []byte) error {
	switch string(b) {
	case "online":
		*p = PersistentOnline
	case "offline":
		*p = PersistentOffline
	default:
		return fmt.Errorf("failover: persistent state %q is neither online nor offline", b)
	}
	return nil
}

package failover

// The objects below are what operations return and what hagsrm prints with
// --json (docs/failover.md, "Output"). Their JSON field names are fixed;
// fields may be added.

// GroupInfo is a group as the cluster reports it.
type GroupInfo struct {
	Name            string          `json:"group"`
	State           GroupState      `json:"state"`
	StateValue      int32           `json:"state_value"`
	Owner           string          `json:"owner"`
	PersistentState PersistentState `json:"persistent_state"`
	Sequence        uint64          `json:"sequence"`
	// UID tells this group from an earlier one of the same name: a handle
	// opened on a group that was deleted since does not reach a new one.
	UID uint64 `json:"uid"`

	// MovingTo names the node a move or failover takes the group to, while
	// one runs.
	MovingTo   string            `json:"moving_to,omitempty"`
	Resources  []string          `json:"resources"`
	Properties GroupProperties   `json:"properties"`
	Failovers  int               `json:"failovers"` // within failover-period
	Status     map[string]string `json:"status,omitempty"`
}

// ResourceInfo is a resource as the cluster reports it.
type ResourceInfo struct {
	Name            string          `json:"resource"`
	Group           string          `json:"group"`
	State           ResourceState   `json:"state"`
	StateValue      int32           `json:"state_value"`
	Owner           string          `json:"owner"`
	PersistentState PersistentState `json:"persistent_state"`
	Sequence        uint64          `json:"sequence"`
	UID             uint64          `json:"uid"`

	Agent          string             `json:"agent"`
	Params         map[string]string  `json:"params,omitempty"`
	Dependency     string             `json:"dependency,omitempty"`
	PossibleOwners []string           `json:"possible_owners,omitempty"`
	Locked         bool               `json:"locked,omitempty"`
	Restarts       int                `json:"restarts"` // within restart-period on the owner
	LastFailure    string             `json:"last_failure,omitempty"`
	Properties     ResourceProperties `json:"properties"`
}

// NodeInfo is a node as the cluster reports it.
type NodeInfo struct {
	Name       string    `json:"node"`
	ID         int32     `json:"id"`
	State      NodeState `json:"state"`
	StateValue int32     `json:"state_value"`

	FenceCommand string   `json:"fence_command,omitempty"`
	Groups       []string `json:"groups,omitempty"` // groups it owns
}

// WithValue fills StateValue from State.
func (g GroupInfo) WithValue() GroupInfo { g.StateValue = int32(g.State); return g }

// WithValue fills StateValue from State.
func (r ResourceInfo) WithValue() ResourceInfo { r.StateValue = int32(r.State); return r }

// WithValue fills StateValue from State.
func (n NodeInfo) WithValue() NodeInfo { n.StateValue = int32(n.State); return n }

// ChangeKind says what kind of object a Change concerns.
type ChangeKind string

// Change kinds.
const (
	ChangeNode     ChangeKind = "node"
	ChangeGroup    ChangeKind = "group"
	ChangeResource ChangeKind = "resource"
)

// Change is one agreed change of a node's, group's or resource's state, as
// Watch delivers it: exactly one of Node, Group and Resource is set, with
// the object as it is after the change. Every node reports the same changes
// in the same order.
type Change struct {
	Kind     ChangeKind    `json:"kind"`
	Node     *NodeInfo     `json:"node,omitempty"`
	Group    *GroupInfo    `json:"group,omitempty"`
	Resource *ResourceInfo `json:"resource,omitempty"`
	// Deleted is set when the object was deleted; the object is as it was.
	Deleted bool `json:"deleted,omitempty"`
}

// ConsoleInfo says where hagsrmd's web console listens and how to open it
// with the right to act (docs/console.md): URL is the page's address with
// the token in its query, as `hagsrm console` prints it.
type ConsoleInfo struct {
	URL     string `json:"url"`
	Address string `json:"address"`
	Token   string `json:"token"`
}

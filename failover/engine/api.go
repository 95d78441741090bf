package engine

import (
	"time"

	"github.com/openhags/hags/failover"
)

// NodeID is a hags node number (hagsd --node).
type NodeID = int32

// InputKind says what an Input reports.
type InputKind uint8

// Input kinds. The membership kinds (NodeJoining, NodeDown) are derived by
// every manager from the same Group Services notifications; every other
// kind is proposed by one manager (From) in a batch that the group agrees
// on. Either way every engine steps the same inputs in the same order.
const (
	// InNodeJoining: node From's manager joined the managers' group; it
	// now catches up and probes its resources (node state Joining).
	InNodeJoining InputKind = 1
	// InNodeUp: node From's manager caught up and probed: Up carries its
	// name and what it found running.
	InNodeUp InputKind = 2
	// InNodeDown: node Down.Node's manager left the group (Down.Why).
	InNodeDown InputKind = 3
	// InRequest: an operator's request, from the manager that received it.
	InRequest InputKind = 4
	// InResult: an agent action the engine asked of From ended.
	InResult InputKind = 5
	// InFailure: a resource running on From failed on its own (a monitor
	// failed, an exec process exited, the manager fenced itself).
	InFailure InputKind = 6
	// InTimer: a timer the engine set on From fired.
	InTimer InputKind = 7
	// InFence: a fence command the engine asked From to run ended.
	InFence InputKind = 8
	// InDomain: the names and numbers of the domain's nodes, as From's
	// hagsd knows them.
	InDomain InputKind = 9
	// InReset: the group formed anew from durable state (every manager
	// had stopped): every node is Down until its manager says otherwise,
	// and nothing is known to run anywhere until probed.
	InReset InputKind = 10
)

// Input is one agreed input. It is plain data that encodes with msgpack
// (the managers ship inputs to each other in Group Services messages and
// keep them in their write-ahead logs). Fields a Kind does not use are
// zero.
type Input struct {
	Kind InputKind `msgpack:"k"`
	// Time is the proposer's wall clock in Unix nanoseconds. The engine
	// never reads a clock; it never lets its time go back (a proposer
	// whose clock is behind is taken as the previous time).
	Time int64  `msgpack:"t"`
	From NodeID `msgpack:"f"`

	Up      *NodeUp       `msgpack:"up,omitempty"`
	Down    *NodeDown     `msgpack:"down,omitempty"`
	Request *Request      `msgpack:"req,omitempty"`
	Result  *ActionResult `msgpack:"res,omitempty"`
	Failure *Failure      `msgpack:"fail,omitempty"`
	Timer   *TimerFired   `msgpack:"timer,omitempty"`
	Fence   *FenceResult  `msgpack:"fence,omitempty"`
	Domain  []DomainNode  `msgpack:"domain,omitempty"`
}

// NodeUp reports a manager ready to host groups.
type NodeUp struct {
	Name string `msgpack:"name"`
	// Running lists the resources found running on the node by probing
	// (OCF monitor, exec leftovers); every other resource is not running
	// there.
	Running []string `msgpack:"running,omitempty"`
}

// Departure says how a manager left the group.
type Departure uint8

// Departures.
const (
	// DepartGoodbye: the manager left on purpose after stopping what it
	// ran (hagsrmd shutting down): its resources are known stopped.
	DepartGoodbye Departure = 1
	// DepartProcess: the manager's process died but its node's hagsd
	// lives: what it ran may still run (OCF resources outlive it), and
	// nobody there enforces the self-fencing window.
	DepartProcess Departure = 2
	// DepartNode: the node's hagsd died or was cut off from the domain:
	// its manager, if alive, stops everything within the self-fencing
	// window.
	DepartNode Departure = 3
)

// NodeDown reports a manager gone.
type NodeDown struct {
	Node NodeID    `msgpack:"n"`
	Why  Departure `msgpack:"why"`
}

// DomainNode is one node of the hags domain.
type DomainNode struct {
	ID   NodeID `msgpack:"id"`
	Name string `msgpack:"name"`
}

// Op is an operator's request.
type Op uint8

// Operations (docs/failover.md, "Operations"). Each names the fields of
// Request it reads.
const (
	OpCreateGroup         Op = 1  // Group, GroupProps (nil: defaults)
	OpDeleteGroup         Op = 2  // Group, Handle
	OpCreateResource      Op = 3  // Resource, Group, Agent, Params, ResourceProps (nil: defaults)
	OpDeleteResource      Op = 4  // Resource, Handle
	OpOnlineResource      Op = 5  // Resource, Handle, IgnoreLocked
	OpOfflineResource     Op = 6  // Resource, Handle, IgnoreLocked
	OpFailResource        Op = 7  // Resource, Handle
	OpOnlineGroup         Op = 8  // Group, Handle, IgnoreLocked
	OpOfflineGroup        Op = 9  // Group, Handle, IgnoreLocked
	OpMoveGroup           Op = 10 // Group, Handle, Node ("": the cluster picks), IgnoreLocked
	OpPauseNode           Op = 11 // Node, Drain
	OpResumeNode          Op = 12 // Node
	OpSetGroupOwners      Op = 13 // Group, Handle, Nodes
	OpAddResourceOwner    Op = 14 // Resource, Handle, Node
	OpRemoveResourceOwner Op = 15 // Resource, Handle, Node
	OpSetDependency       Op = 16 // Resource, Handle, Expr
	OpLockResource        Op = 17 // Resource, Handle
	OpUnlockResource      Op = 18 // Resource, Handle
	OpCleanupResource     Op = 19 // Resource, Handle
	OpSetResourceProps    Op = 20 // Resource, Handle, Props (name → text value)
	OpSetGroupProps       Op = 21 // Group, Handle, Props
	OpSetResourceParams   Op = 22 // Resource, Handle, Params (replaces them)
	OpSetNodeFence        Op = 23 // Node, Expr (the command; "" removes it)
	OpApplyConfig         Op = 24 // Config
	OpConfirmFenced       Op = 25 // Node: an operator vouches the node runs nothing
)

// Request is an operator's request as the manager that received it
// proposes it. The receiving manager has already checked what only it can
// check (the caller's access, that the agent exists on its node and
// validates); the engine checks everything else, the same way on every
// node, and answers with a Reply to From.
type Request struct {
	// ID is unique among From's requests (its manager's incarnation and a
	// counter), so that the reply finds its caller.
	ID uint64 `msgpack:"id"`
	Op Op     `msgpack:"op"`

	Group    string `msgpack:"g,omitempty"`
	Resource string `msgpack:"r,omitempty"`
	Node     string `msgpack:"n,omitempty"`
	// Handle is the UID of the group or resource the caller opened by
	// name; 0 when it addressed it by name alone. A UID that is not the
	// current object's of that name gives ERROR_GROUP_NOT_AVAILABLE or
	// ERROR_RESOURCE_NOT_AVAILABLE.
	Handle       uint64            `msgpack:"h,omitempty"`
	IgnoreLocked bool              `msgpack:"il,omitempty"`
	Drain        bool              `msgpack:"dr,omitempty"`
	Nodes        []string          `msgpack:"ns,omitempty"`
	Expr         string            `msgpack:"x,omitempty"`
	Agent        string            `msgpack:"a,omitempty"`
	Params       map[string]string `msgpack:"p,omitempty"`
	Props        map[string]string `msgpack:"pr,omitempty"`
	Config       *failover.Config  `msgpack:"cfg,omitempty"`
}

// ActionOp is what an agent is asked to do.
type ActionOp uint8

// Agent actions.
const (
	// ActStart brings the resource online and, when it succeeds, starts
	// monitoring it (exec: the process is then watched for its exit).
	ActStart ActionOp = 1
	// ActStop stops monitoring and takes the resource offline.
	ActStop ActionOp = 2
)

// Outcome classifies how an action or a monitor ended, after OCF's rules
// (docs/failover.md, "Agents").
type Outcome uint8

// Outcomes.
const (
	// OutcomeOK: the action did what it was asked.
	OutcomeOK Outcome = 0
	// OutcomeSoft: a failure worth another try here (OCF 1, a timeout,
	// an exec process that exited, a start that found it not running).
	OutcomeSoft Outcome = 1
	// OutcomeHard: never again on this node (OCF 2, 3, 4, 5).
	OutcomeHard Outcome = 2
	// OutcomeFatal: the configuration is wrong; nowhere (OCF 6).
	OutcomeFatal Outcome = 3
)

// Action asks the owner of a resource's group to run an agent action.
type Action struct {
	// ID is unique in the engine; the result carries it back, and a
	// result for an action the engine no longer waits for is ignored.
	ID       uint64             `msgpack:"id"`
	Op       ActionOp           `msgpack:"op"`
	Resource string             `msgpack:"r"`
	Agent    failover.AgentSpec `msgpack:"a"`
	Params   map[string]string  `msgpack:"p,omitempty"`
	// Timeout bounds the action (0: the agent's own default, bounded by
	// the pending timeout); MonitorInterval and MonitorTimeout govern the
	// monitoring a successful start begins (interval 0: none).
	Timeout         time.Duration `msgpack:"to"`
	MonitorInterval time.Duration `msgpack:"mi"`
	MonitorTimeout  time.Duration `msgpack:"mt"`
	// Fast asks for a stop without grace (self-fencing, --ignore-locked):
	// exec processes get SIGKILL at once.
	Fast bool `msgpack:"fast,omitempty"`
	// Adopt marks a start of a resource its owner's probe found running
	// (the manager came back): OCF start is idempotent, so the start only
	// confirms it and begins monitoring. The resource shows Online
	// meanwhile.
	Adopt bool `msgpack:"adopt,omitempty"`
}

// ActionResult reports how an Action ended.
type ActionResult struct {
	ID       uint64   `msgpack:"id"`
	Resource string   `msgpack:"r"`
	Op       ActionOp `msgpack:"op"`
	Outcome  Outcome  `msgpack:"o"`
	Detail   string   `msgpack:"d,omitempty"` // what the agent said, for "why"
}

// Failure reports a resource that failed while it ran on From.
type Failure struct {
	Resource string  `msgpack:"r"`
	Outcome  Outcome `msgpack:"o"`
	Detail   string  `msgpack:"d,omitempty"`
}

// TimerKind says what a timer is for.
type TimerKind uint8

// Timers.
const (
	// TimerRestart: a failed resource's restart delay passed (Key: the
	// resource).
	TimerRestart TimerKind = 1
	// TimerRetry: a Failed resource's retry period passed (Key: the
	// resource).
	TimerRetry TimerKind = 2
	// TimerWindow: the self-fencing window of a group whose owner's
	// node departed passed (Key: the group). The manager that carries it
	// counts the window from the last time it heard the departed node's
	// manager renew its lease (Departed), not from when it was asked.
	TimerWindow TimerKind = 3
	// TimerFenceRetry: a failed fence command may be run again (Key: the
	// node's name).
	TimerFenceRetry TimerKind = 4
)

// Timer asks a manager to report InTimer with Kind, Key and Token once
// After has passed. A timer whose token the engine no longer expects is
// ignored when it fires, so a manager never needs to cancel one.
type Timer struct {
	Kind     TimerKind     `msgpack:"k"`
	Key      string        `msgpack:"key"`
	Token    uint64        `msgpack:"tok"`
	After    time.Duration `msgpack:"after"`
	Departed NodeID        `msgpack:"dep,omitempty"` // TimerWindow only
}

// TimerFired reports a Timer that fired.
type TimerFired struct {
	Kind  TimerKind `msgpack:"k"`
	Key   string    `msgpack:"key"`
	Token uint64    `msgpack:"tok"`
}

// Fence asks a manager to run a node's fence command.
type Fence struct {
	Target  NodeID `msgpack:"n"`
	Name    string `msgpack:"name"`
	Command string `msgpack:"cmd"`
	Token   uint64 `msgpack:"tok"`
}

// FenceResult reports how a fence command ended (OK: it exited 0).
type FenceResult struct {
	Target NodeID `msgpack:"n"`
	Token  uint64 `msgpack:"tok"`
	OK     bool   `msgpack:"ok"`
	Detail string `msgpack:"d,omitempty"`
}

// Reply answers a Request.
type Reply struct {
	ID      uint64        `msgpack:"id"`
	Code    failover.Code `msgpack:"code"`
	Message string        `msgpack:"msg,omitempty"`
}

// OutputKind says what an Output asks for.
type OutputKind uint8

// Outputs.
const (
	OutReply  OutputKind = 1 // Reply, to Node (the request's origin)
	OutAction OutputKind = 2 // Action, run by Node (the group's owner)
	OutTimer  OutputKind = 3 // Timer, set by Node
	OutFence  OutputKind = 4 // Fence, run by Node (the coordinator)
	OutChange OutputKind = 5 // Change, for every node's watchers
)

// Output is one thing the engine asks of the managers. Each manager
// carries out only the outputs whose Node is its own; changes are for
// every manager's watchers.
type Output struct {
	Kind   OutputKind
	Node   NodeID
	Reply  *Reply
	Action *Action
	Timer  *Timer
	Fence  *Fence
	Change *failover.Change
}

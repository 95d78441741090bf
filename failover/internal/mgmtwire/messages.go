// Package mgmtwire is the management protocol between failover.Client
// (and so hagsrm) and hagsrmd: its messages, their framing and their
// bounds. docs/failover.md ("The management socket") describes the
// conversation.
//
// It uses hagsd's frame format (package internal/wire: a 4-byte length, a
// version byte, a type byte and a msgpack body, at most wire.MaxFrameSize,
// checked by wire.CheckShape before decoding) with message types of its
// own. A message too large for one frame is sent as a run of Part frames.
//
// The package does not import package failover, so that failover's Client
// can use it while the server (package mgmt) uses both: the objects a
// response carries (failover.GroupInfo and the rest) travel as embedded
// msgpack (Body), encoded and decoded with EncodeBody and DecodeBody.
package mgmtwire

import (
	"fmt"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/openhags/hags/internal/wire"
)

// Message types. The server speaks first (Welcome); then the client sends
// Requests and the server answers each with one Response carrying the
// request's ID, and pushes Events for the watches the client started.
const (
	MsgWelcome  wire.MsgType = 1 // server → client: Welcome, the first frame
	MsgRequest  wire.MsgType = 2 // client → server: Request
	MsgResponse wire.MsgType = 3 // server → client: Response
	MsgEvent    wire.MsgType = 4 // server → client: Event
	MsgPart     wire.MsgType = 5 // either way: Part of a message larger than a frame
)

// Valid reports whether t is a message type of this protocol.
func Valid(t wire.MsgType) bool { return t >= MsgWelcome && t <= MsgPart }

// Bounds.
const (
	// MaxMessageAll bounds a message the server reads from a connection
	// with access All (a whole configuration may be applied).
	MaxMessageAll = 32 << 20
	// MaxMessageRead bounds a message the server reads from a connection
	// with access Read: one frame. Nothing such a caller may send needs
	// more.
	MaxMessageRead = wire.MaxFrameSize
	// MaxMessageClient bounds a message the client reads (a configuration
	// or a list of every resource of a large cluster).
	MaxMessageClient = 64 << 20
	// MaxHandles bounds the handles open on one connection.
	MaxHandles = 4096
	// MaxWatches bounds the watches running on one connection.
	MaxWatches = 16
	// MaxInFlight bounds the requests of one connection the server works
	// on at once; past it, the server reads no more from the connection
	// until one is answered.
	MaxInFlight = 16
)

// Access is what a connection may do, decided once when it connects.
type Access uint8

// Access levels (the values of failover.Access).
const (
	AccessNone Access = 0 // refused
	AccessRead Access = 1 // reads, opens, watches
	AccessAll  Access = 2 // everything
)

// Welcome is the server's first frame. Code is 0 for an admitted peer,
// with its Access; anything else (ERROR_ACCESS_DENIED) refuses the
// connection, which the server then closes, and Message says why.
type Welcome struct {
	Code    uint32 `msgpack:"code"`
	Message string `msgpack:"msg,omitempty"`
	Access  Access `msgpack:"access"`
}

// Kind is the kind of object a handle stands for.
type Kind uint8

// Handle kinds.
const (
	KindGroup    Kind = 1
	KindResource Kind = 2
	KindNode     Kind = 3
)

// String returns "group", "resource" or "node".
func (k Kind) String() string {
	switch k {
	case KindGroup:
		return "group"
	case KindResource:
		return "resource"
	case KindNode:
		return "node"
	}
	return fmt.Sprintf("kind-%d", uint8(k))
}

// Op is a request's operation. Each names the Request fields it reads and
// what the Response's Body holds. Reads (below 32) need access Read, but
// for OpConsole, which hands out the web console's token; mutating
// operations (32 and up) need access All.
type Op uint8

// Operations.
const (
	OpOpenGroup     Op = 1  // Name → Handle, Body GroupInfo
	OpOpenResource  Op = 2  // Name → Handle, Body ResourceInfo
	OpOpenNode      Op = 3  // Name → Handle, Body NodeInfo
	OpCloseHandle   Op = 4  // Handle (any kind)
	OpGroupState    Op = 5  // Handle → Body GroupInfo
	OpResourceState Op = 6  // Handle → Body ResourceInfo
	OpNodeState     Op = 7  // Handle → Body NodeInfo
	OpListGroups    Op = 8  // → Body []GroupInfo
	OpListResources Op = 9  // → Body []ResourceInfo
	OpListNodes     Op = 10 // → Body []NodeInfo
	OpGetConfig     Op = 11 // → Body Config
	OpWhy           Op = 12 // Handle (resource) → Body []string
	OpWatch         Op = 13 // → then Events with Watch = this request's ID
	OpUnwatch       Op = 14 // Watch: the ID of the watch to end
	OpConsole       Op = 15 // → Body ConsoleInfo (needs access All: it holds the console's token)

	OpCreateGroup         Op = 32 // Name, Props → Handle, Body GroupInfo
	OpDeleteGroup         Op = 33 // Handle
	OpCreateResource      Op = 34 // Name, Group, Agent, Params, Props → Handle, Body ResourceInfo
	OpDeleteResource      Op = 35 // Handle
	OpOnlineResource      Op = 36 // Handle, IgnoreLocked
	OpOfflineResource     Op = 37 // Handle, IgnoreLocked
	OpFailResource        Op = 38 // Handle
	OpOnlineGroup         Op = 39 // Handle, IgnoreLocked
	OpOfflineGroup        Op = 40 // Handle, IgnoreLocked
	OpMoveGroup           Op = 41 // Handle, NodeHandle (0: the cluster picks), IgnoreLocked
	OpPauseNode           Op = 42 // Handle (node), Drain
	OpResumeNode          Op = 43 // Handle (node)
	OpSetGroupOwners      Op = 44 // Handle, Nodes
	OpAddResourceOwner    Op = 45 // Handle, NodeHandle
	OpRemoveResourceOwner Op = 46 // Handle, NodeHandle
	OpSetDependency       Op = 47 // Handle, Expr
	OpLockResource        Op = 48 // Handle
	OpUnlockResource      Op = 49 // Handle
	OpCleanupResource     Op = 50 // Handle
	OpSetResourceProps    Op = 51 // Handle, Props
	OpSetGroupProps       Op = 52 // Handle, Props
	OpSetResourceParams   Op = 53 // Handle, Params (replaces them all)
	OpSetNodeFence        Op = 54 // Handle (node), Expr (the command; "" removes it)
	OpApplyConfig         Op = 55 // Config
	OpConfirmFenced       Op = 56 // Handle (node)
)

var opNames = map[Op]string{
	OpOpenGroup: "open-group", OpOpenResource: "open-resource", OpOpenNode: "open-node",
	OpCloseHandle: "close-handle", OpGroupState: "group-state", OpResourceState: "resource-state",
	OpNodeState: "node-state", OpListGroups: "list-groups", OpListResources: "list-resources",
	OpListNodes: "list-nodes", OpGetConfig: "get-config", OpWhy: "why", OpWatch: "watch",
	OpUnwatch: "unwatch", OpConsole: "console",
	OpCreateGroup: "create-group", OpDeleteGroup: "delete-group", OpCreateResource: "create-resource",
	OpDeleteResource: "delete-resource", OpOnlineResource: "online-resource",
	OpOfflineResource: "offline-resource", OpFailResource: "fail-resource",
	OpOnlineGroup: "online-group", OpOfflineGroup: "offline-group", OpMoveGroup: "move-group",
	OpPauseNode: "pause-node", OpResumeNode: "resume-node", OpSetGroupOwners: "set-group-owners",
	OpAddResourceOwner: "add-resource-owner", OpRemoveResourceOwner: "remove-resource-owner",
	OpSetDependency: "set-dependency", OpLockResource: "lock-resource",
	OpUnlockResource: "unlock-resource", OpCleanupResource: "cleanup-resource",
	OpSetResourceProps: "set-resource-props", OpSetGroupProps: "set-group-props",
	OpSetResourceParams: "set-resource-params", OpSetNodeFence: "set-node-fence",
	OpApplyConfig: "apply-config", OpConfirmFenced: "confirm-fenced",
}

// Known reports whether o is an operation of this protocol.
func (o Op) Known() bool { _, ok := opNames[o]; return ok }

// Mutating reports whether o changes the cluster (and so needs access All).
func (o Op) Mutating() bool { return o >= 32 }

// NeedsAll reports whether o needs access All: every mutating operation,
// and OpConsole, whose answer lets its holder act through the web
// console.
func (o Op) NeedsAll() bool { return o.Mutating() || o == OpConsole }

// String returns the operation's name, e.g. "move-group".
func (o Op) String() string {
	if n, ok := opNames[o]; ok {
		return n
	}
	return fmt.Sprintf("op-%d", uint8(o))
}

// Ops lists every operation, in value order.
func Ops() []Op {
	var out []Op
	for o := Op(1); o != 0; o++ {
		if o.Known() {
			out = append(out, o)
		}
	}
	return out
}

// Request is one operation a client asks for. Fields the Op does not read
// are ignored.
type Request struct {
	// ID is the client's number for the request, echoed in its Response;
	// a client numbers its requests so that no two in flight share one.
	ID uint64 `msgpack:"id"`
	Op Op     `msgpack:"op"`
	// Handle is the open object the operation addresses.
	Handle uint32 `msgpack:"h,omitempty"`
	// Name names the object to open or create.
	Name string `msgpack:"name,omitempty"`
	// Group is the group a resource is created in.
	Group string `msgpack:"g,omitempty"`
	// NodeHandle is a node the operation names besides its object: a
	// move's destination, a possible owner to add or remove.
	NodeHandle   uint32            `msgpack:"nh,omitempty"`
	IgnoreLocked bool              `msgpack:"il,omitempty"`
	Drain        bool              `msgpack:"dr,omitempty"`
	Nodes        []string          `msgpack:"ns,omitempty"`
	Expr         string            `msgpack:"x,omitempty"`
	Agent        string            `msgpack:"a,omitempty"`
	Params       map[string]string `msgpack:"p,omitempty"`
	Props        map[string]string `msgpack:"pr,omitempty"`
	// Config is a failover.Config (OpApplyConfig).
	Config msgpack.RawMessage `msgpack:"cfg,omitempty"`
	// Watch is the ID of the watch OpUnwatch ends.
	Watch uint64 `msgpack:"w,omitempty"`
}

// Response answers the Request with the same ID.
type Response struct {
	ID uint64 `msgpack:"id"`
	// Code is the operation's return code (a failover.Code), and Message
	// says in words what happened when it is not ERROR_SUCCESS.
	Code    uint32 `msgpack:"code"`
	Message string `msgpack:"msg,omitempty"`
	// Fault, when set, says that the server could not carry the request
	// through and cannot tell how it ended (the manager stopped while the
	// request was being agreed, say). Code is then meaningless.
	Fault string `msgpack:"fault,omitempty"`
	// Handle is the handle an open or create gave.
	Handle uint32 `msgpack:"h,omitempty"`
	// Body holds the objects the operation returns (see Op), as msgpack.
	Body msgpack.RawMessage `msgpack:"body,omitempty"`
}

// Event is one thing a watch reports: a change, or the end of the
// stream.
type Event struct {
	// Watch is the ID of the OpWatch request that started the stream.
	Watch uint64 `msgpack:"w"`
	// Change is a failover.Change, as msgpack.
	Change msgpack.RawMessage `msgpack:"c,omitempty"`
	// End, when set, is the stream's last event and says why it ended
	// (the watcher fell behind the changes, the manager stopped). Changes
	// may have been missed: a watcher that goes on reads the state again
	// and starts a new watch.
	End string `msgpack:"end,omitempty"`
}

// Part is one piece of a message too large for a frame. A sender sends
// the message's msgpack body in pieces, in order, each in a Part frame,
// and nothing else on the connection in between; the last piece has Last
// set and Type names the message's type. The receiver joins the pieces and
// reads the result as one frame of that type.
type Part struct {
	Type wire.MsgType `msgpack:"t"`
	Last bool         `msgpack:"l,omitempty"`
	Data []byte       `msgpack:"d"`
}

// EncodeBody encodes v as msgpack for a Response's Body, a Request's
// Config or an Event's Change.
func EncodeBody(v any) (msgpack.RawMessage, error) {
	b, err := msgpack.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("mgmtwire: encode %T: %w", v, err)
	}
	return b, nil
}

// DecodeBody decodes embedded msgpack into v with the checks every
// decoder of untrusted bytes makes (wire.Decode: shape first, no trailing
// bytes). An empty body is an error.
func DecodeBody(b msgpack.RawMessage, v any) error {
	if len(b) == 0 {
		return fmt.Errorf("mgmtwire: decode %T: empty body", v)
	}
	return wire.Decode(b, v)
}

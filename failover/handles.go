package failover

import (
	"context"

	"github.com/openhags/hags/failover/internal/mgmtwire"
)

// Group is an open handle on a group: it names the group it was opened on,
// not whichever group has that name later. Once that group is deleted,
// every operation on the handle fails with ERROR_GROUP_NOT_AVAILABLE;
// after Close, or once the Client is closed, with ERROR_INVALID_HANDLE
// (or the Client's error). Methods are safe for concurrent use.
type Group struct {
	c    *Client
	h    uint32
	name string
}

// Resource is an open handle on a resource (as Group is on a group;
// ERROR_RESOURCE_NOT_AVAILABLE once the resource is deleted).
type Resource struct {
	c    *Client
	h    uint32
	name string
}

// Node is an open handle on a node.
type Node struct {
	c    *Client
	h    uint32
	name string
}

// ResourceSpec describes a resource to create.
type ResourceSpec struct {
	Name  string
	Group string
	// Agent is "ocf:PROVIDER:TYPE" or "exec".
	Agent string
	// Params are the agent's parameters (exec: "command").
	Params map[string]string
	// Props set resource properties by name (ResourcePropertyNames);
	// the others keep their defaults.
	Props map[string]string
}

func (c *Client) open(ctx context.Context, op mgmtwire.Op, name string) (uint32, error) {
	r, err := c.call(ctx, &mgmtwire.Request{Op: op, Name: name})
	return r.Handle, err
}

// OpenGroup opens a handle on the group called name
// (ERROR_GROUP_NOT_FOUND if there is none).
func (c *Client) OpenGroup(ctx context.Context, name string) (*Group, error) {
	h, err := c.open(ctx, mgmtwire.OpOpenGroup, name)
	if err != nil {
		return nil, err
	}
	return &Group{c: c, h: h, name: name}, nil
}

// OpenResource opens a handle on the resource called name
// (ERROR_RESOURCE_NOT_FOUND if there is none).
func (c *Client) OpenResource(ctx context.Context, name string) (*Resource, error) {
	h, err := c.open(ctx, mgmtwire.OpOpenResource, name)
	if err != nil {
		return nil, err
	}
	return &Resource{c: c, h: h, name: name}, nil
}

// OpenNode opens a handle on the node called name
// (ERROR_CLUSTER_NODE_NOT_FOUND if there is none).
func (c *Client) OpenNode(ctx context.Context, name string) (*Node, error) {
	h, err := c.open(ctx, mgmtwire.OpOpenNode, name)
	if err != nil {
		return nil, err
	}
	return &Node{c: c, h: h, name: name}, nil
}

// CreateGroup creates an empty group, owned by this node, offline, and
// returns a handle on it. props set group properties by name
// (GroupPropertyNames); nil keeps the defaults. A name in use gives
// ERROR_OBJECT_ALREADY_EXISTS, a bad one ERROR_INVALID_NAME.
func (c *Client) CreateGroup(ctx context.Context, name string, props map[string]string) (*Group, error) {
	r, err := c.call(ctx, &mgmtwire.Request{Op: mgmtwire.OpCreateGroup, Name: name, Props: props})
	if err != nil {
		return nil, err
	}
	return &Group{c: c, h: r.Handle, name: name}, nil
}

// CreateResource creates a resource, offline, in an existing group and
// returns a handle on it. An agent that is not installed gives
// ERROR_CLUSTER_RESOURCE_TYPE_NOT_FOUND; one whose validate-all refuses
// the parameters ERROR_CLUSTER_RESOURCE_CONFIGURATION_ERROR.
func (c *Client) CreateResource(ctx context.Context, spec ResourceSpec) (*Resource, error) {
	r, err := c.call(ctx, &mgmtwire.Request{Op: mgmtwire.OpCreateResource, Name: spec.Name, Group: spec.Group,
		Agent: spec.Agent, Params: spec.Params, Props: spec.Props})
	if err != nil {
		return nil, err
	}
	return &Resource{c: c, h: r.Handle, name: spec.Name}, nil
}

func (c *Client) closeHandle(h uint32) error {
	_, err := c.call(context.Background(), &mgmtwire.Request{Op: mgmtwire.OpCloseHandle, Handle: h})
	return err
}

func (c *Client) do(ctx context.Context, req *mgmtwire.Request) error {
	_, err := c.call(ctx, req)
	return err
}

// Name returns the name the group had when the handle was opened.
func (g *Group) Name() string { return g.name }

// Close closes the handle. Closing it twice gives ERROR_INVALID_HANDLE.
func (g *Group) Close() error { return g.c.closeHandle(g.h) }

// State returns the group's state, owner and sequence number
// (ApiGetGroupState).
func (g *Group) State(ctx context.Context) (GroupInfo, error) {
	var out GroupInfo
	return out, g.c.get(ctx, &mgmtwire.Request{Op: mgmtwire.OpGroupState, Handle: g.h}, &out)
}

// Online brings every resource of the group online on its owner, in
// dependency order (ApiOnlineGroup). ERROR_IO_PENDING (errors.Is(err,
// ErrIOPending)) means it goes on: Wait, or poll State.
func (g *Group) Online(ctx context.Context, opts ...OpOption) error {
	o := applyOps(opts)
	return g.c.do(ctx, &mgmtwire.Request{Op: mgmtwire.OpOnlineGroup, Handle: g.h, IgnoreLocked: o.ignoreLocked})
}

// Offline takes every resource of the group offline, dependents first
// (ApiOfflineGroup).
func (g *Group) Offline(ctx context.Context, opts ...OpOption) error {
	o := applyOps(opts)
	return g.c.do(ctx, &mgmtwire.Request{Op: mgmtwire.OpOfflineGroup, Handle: g.h, IgnoreLocked: o.ignoreLocked})
}

// Move moves the group to the node the cluster picks (ApiMoveGroup).
func (g *Group) Move(ctx context.Context, opts ...OpOption) error {
	o := applyOps(opts)
	return g.c.do(ctx, &mgmtwire.Request{Op: mgmtwire.OpMoveGroup, Handle: g.h, IgnoreLocked: o.ignoreLocked})
}

// MoveTo moves the group to node n (ApiMoveGroupToNode): ERROR_SUCCESS at
// once if n owns it, ERROR_IO_PENDING while it moves.
func (g *Group) MoveTo(ctx context.Context, n *Node, opts ...OpOption) error {
	o := applyOps(opts)
	return g.c.do(ctx, &mgmtwire.Request{Op: mgmtwire.OpMoveGroup, Handle: g.h, NodeHandle: n.h,
		IgnoreLocked: o.ignoreLocked})
}

// SetOwners sets the group's preferred owners, in order
// (ApiSetGroupNodeList).
func (g *Group) SetOwners(ctx context.Context, nodes ...string) error {
	return g.c.do(ctx, &mgmtwire.Request{Op: mgmtwire.OpSetGroupOwners, Handle: g.h, Nodes: nodes})
}

// Set sets group properties by name (GroupPropertyNames).
func (g *Group) Set(ctx context.Context, props map[string]string) error {
	return g.c.do(ctx, &mgmtwire.Request{Op: mgmtwire.OpSetGroupProps, Handle: g.h, Props: props})
}

// Delete deletes the group, which must be empty or offline
// (ApiDeleteGroup).
func (g *Group) Delete(ctx context.Context) error {
	return g.c.do(ctx, &mgmtwire.Request{Op: mgmtwire.OpDeleteGroup, Handle: g.h})
}

// Name returns the name the resource had when the handle was opened.
func (r *Resource) Name() string { return r.name }

// Close closes the handle.
func (r *Resource) Close() error { return r.c.closeHandle(r.h) }

// State returns the resource's state, owner, group, persistent state and
// sequence number (ApiGetResourceState).
func (r *Resource) State(ctx context.Context) (ResourceInfo, error) {
	var out ResourceInfo
	return out, r.c.get(ctx, &mgmtwire.Request{Op: mgmtwire.OpResourceState, Handle: r.h}, &out)
}

// Online brings the resource online, providers first (ApiOnlineResource).
func (r *Resource) Online(ctx context.Context, opts ...OpOption) error {
	o := applyOps(opts)
	return r.c.do(ctx, &mgmtwire.Request{Op: mgmtwire.OpOnlineResource, Handle: r.h, IgnoreLocked: o.ignoreLocked})
}

// Offline takes the resource offline, dependents first
// (ApiOfflineResource).
func (r *Resource) Offline(ctx context.Context, opts ...OpOption) error {
	o := applyOps(opts)
	return r.c.do(ctx, &mgmtwire.Request{Op: mgmtwire.OpOfflineResource, Handle: r.h, IgnoreLocked: o.ignoreLocked})
}

// Fail treats the resource as failed, with recovery as configured
// (ApiFailResource).
func (r *Resource) Fail(ctx context.Context) error {
	return r.c.do(ctx, &mgmtwire.Request{Op: mgmtwire.OpFailResource, Handle: r.h})
}

// AddOwner adds n to the resource's possible owners (ApiAddResourceNode).
func (r *Resource) AddOwner(ctx context.Context, n *Node) error {
	return r.c.do(ctx, &mgmtwire.Request{Op: mgmtwire.OpAddResourceOwner, Handle: r.h, NodeHandle: n.h})
}

// RemoveOwner removes n from the resource's possible owners
// (ApiRemoveResourceNode).
func (r *Resource) RemoveOwner(ctx context.Context, n *Node) error {
	return r.c.do(ctx, &mgmtwire.Request{Op: mgmtwire.OpRemoveResourceOwner, Handle: r.h, NodeHandle: n.h})
}

// SetDependency sets the resource's dependency expression (ParseDependency
// gives its syntax; "" removes every dependency).
func (r *Resource) SetDependency(ctx context.Context, expr string) error {
	return r.c.do(ctx, &mgmtwire.Request{Op: mgmtwire.OpSetDependency, Handle: r.h, Expr: expr})
}

// Lock puts the resource in locked mode: it keeps its state, and
// operations that would change it fail with
// ERROR_CLUSTER_RESOURCE_LOCKED_STATUS.
func (r *Resource) Lock(ctx context.Context) error {
	return r.c.do(ctx, &mgmtwire.Request{Op: mgmtwire.OpLockResource, Handle: r.h})
}

// Unlock ends locked mode.
func (r *Resource) Unlock(ctx context.Context) error {
	return r.c.do(ctx, &mgmtwire.Request{Op: mgmtwire.OpUnlockResource, Handle: r.h})
}

// Cleanup forgets the resource's failure counters; a Failed resource whose
// persistent state is online is tried again.
func (r *Resource) Cleanup(ctx context.Context) error {
	return r.c.do(ctx, &mgmtwire.Request{Op: mgmtwire.OpCleanupResource, Handle: r.h})
}

// Set sets resource properties by name (ResourcePropertyNames).
func (r *Resource) Set(ctx context.Context, props map[string]string) error {
	return r.c.do(ctx, &mgmtwire.Request{Op: mgmtwire.OpSetResourceProps, Handle: r.h, Props: props})
}

// SetParams replaces the resource's agent parameters.
func (r *Resource) SetParams(ctx context.Context, params map[string]string) error {
	return r.c.do(ctx, &mgmtwire.Request{Op: mgmtwire.OpSetResourceParams, Handle: r.h, Params: params})
}

// Delete deletes the resource: ERROR_RESOURCE_ONLINE while it is online,
// ERROR_DEPENDENT_RESOURCE_EXISTS while another depends on it.
func (r *Resource) Delete(ctx context.Context) error {
	return r.c.do(ctx, &mgmtwire.Request{Op: mgmtwire.OpDeleteResource, Handle: r.h})
}

// Why says in words why the resource is not where it should be, or what
// it is doing: one sentence a line.
func (r *Resource) Why(ctx context.Context) ([]string, error) {
	var out []string
	return out, r.c.get(ctx, &mgmtwire.Request{Op: mgmtwire.OpWhy, Handle: r.h}, &out)
}

// Name returns the node's name.
func (n *Node) Name() string { return n.name }

// Close closes the handle.
func (n *Node) Close() error { return n.c.closeHandle(n.h) }

// State returns the node's state (ApiGetNodeState).
func (n *Node) State(ctx context.Context) (NodeInfo, error) {
	var out NodeInfo
	return out, n.c.get(ctx, &mgmtwire.Request{Op: mgmtwire.OpNodeState, Handle: n.h}, &out)
}

// Pause pauses the node (ApiPauseNode): no group moves or comes online
// there on request. With drain, its groups move away (ERROR_IO_PENDING).
func (n *Node) Pause(ctx context.Context, drain bool) error {
	return n.c.do(ctx, &mgmtwire.Request{Op: mgmtwire.OpPauseNode, Handle: n.h, Drain: drain})
}

// Resume ends the node's pause (ApiResumeNode).
func (n *Node) Resume(ctx context.Context) error {
	return n.c.do(ctx, &mgmtwire.Request{Op: mgmtwire.OpResumeNode, Handle: n.h})
}

// SetFenceCommand sets the program run, with the node's name as its only
// argument, to fence the node before its groups are taken over; "" removes
// it (the self-fencing window applies then).
func (n *Node) SetFenceCommand(ctx context.Context, command string) error {
	return n.c.do(ctx, &mgmtwire.Request{Op: mgmtwire.OpSetNodeFence, Handle: n.h, Expr: command})
}

// ConfirmFenced vouches that the node, which is Down, runs nothing: its
// groups are taken over at once.
func (n *Node) ConfirmFenced(ctx context.Context) error {
	return n.c.do(ctx, &mgmtwire.Request{Op: mgmtwire.OpConfirmFenced, Handle: n.h})
}

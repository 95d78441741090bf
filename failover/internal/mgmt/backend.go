// Package mgmt is hagsrmd's management server: it serves the management
// protocol (package mgmtwire) on a Unix socket to hagsrm and other
// failover.Client programs, admits each peer by its kernel credentials,
// keeps each connection's handles, checks every request as far as it can
// be judged without the cluster's state, and hands what is left to a
// Backend: the manager.
package mgmt

import (
	"context"

	"github.com/openhags/hags/failover"
	"github.com/openhags/hags/failover/engine"
)

// Caller is who sent a request: the peer's credentials as the kernel gave
// them when it connected, and the access they earned.
type Caller struct {
	Pid    int32
	Uid    uint32
	Gid    uint32
	Access failover.Access
}

// Backend is what the server serves: the failover manager. The server
// calls it from one goroutine per request, several at once; it must be
// safe for concurrent use. Every method takes the request's context,
// which ends when the caller disconnects or the server closes.
//
// Errors: a method that fails with a return code returns a
// *failover.Error carrying it (a name that does not exist:
// ERROR_GROUP_NOT_FOUND, ERROR_RESOURCE_NOT_FOUND,
// ERROR_CLUSTER_NODE_NOT_FOUND); the server passes code and message to the
// client as they are. Any other error means the request could not be
// carried out and its outcome is unknown; the client is told so, with
// the error's text, and no code.
type Backend interface {
	// Submit carries out a mutating request and returns the engine's
	// reply to it: its code and message. The manager checks what only it
	// can (that it is read/write, else ERROR_SHARING_PAUSED; that a
	// resource's agent exists on its node and passes validate-all, else
	// ERROR_CLUSTER_RESOURCE_TYPE_NOT_FOUND or
	// ERROR_CLUSTER_RESOURCE_CONFIGURATION_ERROR), sets req.ID, proposes
	// the request through agreement and returns when the engine has
	// answered it, having applied it locally: a read that follows sees
	// its effect. The server has already checked the caller's access,
	// resolved handles (req.Handle is the UID of the group or resource the
	// caller opened) and the request's syntax (names, expressions,
	// properties, parameters, configuration documents).
	//
	// A non-nil error means the outcome is unknown (the manager stopped
	// while the request was in agreement): it may or may not have been
	// applied.
	Submit(ctx context.Context, caller Caller, req engine.Request) (failover.Code, string, error)

	// Group, Resource and Node return one object as the last agreed
	// state has it, or ERROR_GROUP_NOT_FOUND, ERROR_RESOURCE_NOT_FOUND or
	// ERROR_CLUSTER_NODE_NOT_FOUND.
	Group(ctx context.Context, name string) (failover.GroupInfo, error)
	Resource(ctx context.Context, name string) (failover.ResourceInfo, error)
	Node(ctx context.Context, name string) (failover.NodeInfo, error)

	// Groups, Resources and Nodes return every object of the kind, in
	// name order (nodes: by number).
	Groups(ctx context.Context) ([]failover.GroupInfo, error)
	Resources(ctx context.Context) ([]failover.ResourceInfo, error)
	Nodes(ctx context.Context) ([]failover.NodeInfo, error)

	// Config returns the whole configuration as one document, the form
	// OpApplyConfig takes.
	Config(ctx context.Context) (*failover.Config, error)

	// Why says in words, one sentence a line, why the resource is not in
	// its persistent state where it should be (what failed, what it
	// waits for, what is locked or paused), or what it is doing when it
	// is where it should be.
	Why(ctx context.Context, resource string) ([]string, error)

	// Watch returns every agreed change from now on, in the order agreed,
	// until ctx ends. The manager never blocks on a watcher: one that
	// falls behind by more than the channel's buffer has its channel
	// closed, which ends the stream (the client is told the stream ended
	// and may have missed changes). The channel is also closed when ctx
	// ends or the manager stops.
	Watch(ctx context.Context) (<-chan failover.Change, error)

	// Console returns where the manager's web console listens and the
	// token that lets its holder act through it, or ERROR_INVALID_STATE
	// when the manager serves no console. The server hands it only to
	// callers with access All.
	Console(ctx context.Context) (failover.ConsoleInfo, error)
}

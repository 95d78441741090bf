package engine

import (
	"slices"

	"github.com/openhags/hags/failover"
)

// The engine's state: nodes, groups, resources and the stray copies of
// resources found running where they should not. Every field below is
// agreed state: it is in the snapshot, and every manager holds the same
// values after the same inputs. Nothing here is shared with callers; views
// (views.go) copy what they return.

// nodeStatus is whether a node's manager takes part in the cluster.
type nodeStatus uint8

const (
	statusDown    nodeStatus = 0 // not a member (or never was)
	statusJoining nodeStatus = 1 // a member that catches up and probes
	statusUp      nodeStatus = 2 // a member that may own and run groups
)

// node is one node of the domain: known (its manager has been a member at
// some time, so it counts for quorum) or only named by the domain.
type node struct {
	id     NodeID
	name   string // "" until the domain or the node's manager names it
	known  bool
	status nodeStatus
	// paused is the operator's pause flag; it survives departures and
	// resets.
	paused bool
	// fence is the node's fence command ("": none).
	fence string
	// departed is how the node's manager last left while groups it owned
	// may still have run there; 0 when nothing waits on it. A reset counts
	// as DepartProcess (nothing is known).
	departed Departure
	// The fence command run for this node: fenceToken names the running
	// command (or, with fenceRetry, the timer before the next attempt),
	// carried by node fenceAt. fenceNote is the last failure's detail.
	fenceToken uint64
	fenceAt    NodeID
	fenceRetry bool
	fenceNote  string
	// shown is the state last reported in a Change.
	shown failover.NodeState
}

// moveKind says why a group moves.
type moveKind uint8

const (
	moveRequest  moveKind = 1 // OpMoveGroup
	moveDrain    moveKind = 2 // OpPauseNode with Drain
	moveFailover moveKind = 3 // a resource failed past its restarts
)

// move is a group's move under way: its resources are stopped on the owner,
// ownership passes, and the new owner drives them to their persistent
// states. target 0 means "choose when ownership passes" (failover).
type move struct {
	kind   moveKind
	target NodeID
	// fast asks for stops without grace (IgnoreLocked).
	fast bool
	// passed: ownership has passed; the move ends when nothing of the
	// group is pending any more.
	passed bool
}

// group is a resource group.
type group struct {
	name       string
	uid        uint64
	owner      NodeID
	persistent failover.PersistentState
	// props holds every group property but the preferred owners, which
	// are node IDs in preferred.
	props     failover.GroupProperties
	preferred []NodeID
	// resources are the names of the group's resources, sorted.
	resources []string
	// order caches the resources in dependency order (providers first,
	// then by name); nil when it must be computed again.
	order []string
	seq   uint64
	// shown and shownOwner are what the last Change reported.
	shown      failover.GroupState
	shownOwner NodeID
	move       *move
	// failovers are the times of the failovers its resources caused,
	// within failover-period (older ones are dropped when counted).
	failovers []int64
	// waiting: the owner departed while resources of the group may have
	// run there; the group waits to be taken over (takeover.go).
	waiting bool
	// window is the self-fencing-window timer of a waiting group whose
	// owner's node departed, carried by windowAt.
	windowToken uint64
	windowAt    NodeID
	// note says why the last drain or failover left the group where it
	// is, for Why; cleared when the group moves.
	note string
}

// actionPurpose says why the engine asked for an action.
type actionPurpose uint8

const (
	purposeStart   actionPurpose = 1 // bring it online
	purposeStop    actionPurpose = 2 // take it offline
	purposeAdopt   actionPurpose = 3 // found running by its owner's probe: start is idempotent
	purposeCleanup actionPurpose = 4 // it failed: stop what may be left before recovering
)

// action is an agent action the engine waits for.
type action struct {
	id      uint64
	op      ActionOp
	node    NodeID
	purpose actionPurpose
	since   int64
}

// waitKind says what a Failed resource waits for before it is started
// again.
type waitKind uint8

const (
	waitNone     waitKind = 0 // nothing: it may be started as soon as it is wanted
	waitRestart  waitKind = 1 // its restart delay (timer)
	waitRetry    waitKind = 2 // its retry period on failure (timer, or none when the period is 0)
	waitLocked   waitKind = 3 // it failed while locked: recovery runs when it is unlocked
	waitFailover waitKind = 4 // its group fails over
	waitFatal    waitKind = 5 // its configuration is wrong: only cleanup tries again
)

// timer is a timer the engine set for a resource.
type timer struct {
	kind  TimerKind
	token uint64
	node  NodeID
	due   int64
}

// failure is the last failure of a resource, for recovery and Why.
type failure struct {
	outcome Outcome
	detail  string
	node    NodeID
	at      int64
	start   bool // a start failed (rather than a running resource)
	stop    bool // a stop failed
	// gaveUp says why recovery stopped trying ("" while it tries).
	gaveUp string
}

// resource is a resource.
type resource struct {
	name       string
	group      string
	uid        uint64
	agent      failover.AgentSpec
	params     map[string]string
	props      failover.ResourceProperties
	persistent failover.PersistentState
	// possible are the possible owners, sorted; empty means every node.
	possible []NodeID
	dep      failover.Dependency
	locked   bool
	// override lets an IgnoreLocked request act on a locked resource until
	// the action it caused ends.
	override bool

	state failover.ResourceState
	seq   uint64
	since int64 // when state last changed
	// shown and shownOwner are what the last Change reported.
	shown      failover.ResourceState
	shownOwner NodeID

	act *action
	// unconfirmed: it may run on its owner, whose manager is gone or has
	// not probed since a reset; nothing is known until it is.
	unconfirmed bool
	// stopFailed: a stop failed; it may still run on its owner, and the
	// group may not move until it is fenced or cleaned up.
	stopFailed bool
	// restop: cleanup asked for a stop-failed resource to be stopped
	// again; reconciliation stops it once no running dependent needs it.
	restop bool
	// failNext: a fail request came while an action ran; the action's end
	// counts as a failure.
	failNext bool
	wait     waitKind
	timer    *timer
	// restarts are the times of its restarts on the owner within
	// restart-period.
	restarts []int64
	// hard are the nodes it failed hard on: it never runs there again
	// until cleaned up. Sorted.
	hard []NodeID
	last *failure
}

// stray is a copy of a resource found running on a node that does not own
// its group; the engine stops it. act is the stop under way (0 when none:
// the stop failed, or the node departed).
type stray struct {
	resource string
	node     NodeID
	act      uint64
	failed   string // the failed stop's detail
}

// running reports whether the engine believes r runs (or may run) on its
// owner: online, being started or stopped, stop-failed, or not known.
func (r *resource) running() bool {
	switch {
	case r.unconfirmed, r.stopFailed, r.act != nil:
		return true
	case r.state == failover.ResourceOnline, r.state == failover.ResourceOfflinePending:
		return true
	}
	return false
}

// pending reports whether r shows a pending state or has an action under
// way: the states in which requests that change it are refused.
func (r *resource) pending() bool { return r.state.Pending() || r.act != nil }

// lockHeld reports whether r's lock keeps the engine from changing it.
func (r *resource) lockHeld() bool { return r.locked && !r.override }

// hardOn reports whether r failed hard on node n.
func (r *resource) hardOn(n NodeID) bool {
	_, ok := slices.BinarySearch(r.hard, n)
	return ok
}

// possibleOn reports whether n is a possible owner of r.
func (r *resource) possibleOn(n NodeID) bool {
	if len(r.possible) == 0 {
		return true
	}
	_, ok := slices.BinarySearch(r.possible, n)
	return ok
}

// runnableOn reports whether r may run on n at all: a possible owner, not
// failed hard there, and not fatally misconfigured.
func (r *resource) runnableOn(n NodeID) bool {
	return r.possibleOn(n) && !r.hardOn(n) && r.wait != waitFatal
}

// addSorted inserts v into the sorted slice s unless it is there.
func addSorted[T int32 | uint64](s []T, v T) []T {
	i, ok := slices.BinarySearch(s, v)
	if ok {
		return s
	}
	return slices.Insert(s, i, v)
}

// sortedKeys returns m's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// Package engine is the failover manager's engine: a pure, deterministic
// state machine that holds the cluster's configuration and states and
// decides everything the managers do — placement, dependencies, recovery,
// moves, takeovers, and every operation's checks and return codes.
//
// Every manager steps its Engine with the same agreed Inputs in the same
// order and gets the same Outputs; each carries out only the outputs
// addressed to its own node (a reply to the request's origin, an action to
// the group's owner, a fence command or a window timer to the
// coordinator) and reports what came of them as later inputs. The engine
// does no I/O, reads no clock (time arrives in Input.Time and never goes
// back), starts no goroutine and uses no randomness. An Engine is not safe
// for concurrent use: its owner, the manager's run loop, serialises Step
// and the views. Views return copies the caller owns.
//
// # One mechanism
//
// Requests and events only change what is asked — a persistent state, a
// move, a failed resource's wait — and reconciliation (reconcile.go),
// run after every input, drives each affected group toward it in a fixed
// order: stops dependents first, starts providers first, passes ownership
// when a moving group has stopped. Answers follow from the state the step
// leaves: ERROR_IO_PENDING exactly when what was asked is pending.
//
// # Decisions where the contract is silent
//
// docs/design/failover.md ("Engine rules") states these for users; the
// code that applies each says so too.
//
//   - Requests: the origin's manager must be up and the managers of a
//     majority of the known nodes members, else ERROR_SHARING_PAUSED. An
//     error answer changes nothing, except ApiOnlineResource's
//     ERROR_CLUSTER_RESOURCE_PROVIDER_FAILED and ERROR_RESOURCE_FAILED and
//     ApiOfflineResource's ERROR_RESOURCE_FAILED, which set the persistent
//     state as MS-CMRP asks. A resource create's Handle is its group's.
//   - States: a new resource is Offline. A resource shows OnlinePending
//     from the moment it is being brought online, its providers' starts
//     included, and OfflinePending while its dependents are taken offline
//     before it. Changes are reported once per step per object whose
//     state or owner changed; the sequence number counts those reports.
//   - Online brings the providers up and sets their persistent states: each
//     simple provider and, per complex set, the member online or coming,
//     else one whose persistent state is online, else the first that can.
//     A provider that cannot (not a possible owner, failed hard or fatally,
//     stop-failed, not known stopped, recovery given up, being stopped,
//     locked) is ERROR_CLUSTER_RESOURCE_PROVIDER_FAILED. Onlining a Failed
//     resource retries it at once. Offline takes down (and sets offline)
//     the dependents that cannot stay online without it.
//   - A failure (monitor, exec exit, failed start, fail request) makes the
//     resource Failed and stops what may be left of it; recovery decides
//     only after that stop. A stop that fails leaves it stop-failed: it may
//     still run, its group may not move, cleanup stops it again once no
//     running dependent needs it. A fatal failure keeps it Failed wherever
//     the group goes. A retry period of 0 means never. An outcome the
//     engine does not know is soft.
//   - Locked resources are neither started nor stopped by the engine
//     except to keep dependencies (a provider that stops takes them down)
//     and by a move that ignores locks; failures are recorded and recovered
//     once unlocked; a group with a locked running resource does not fail
//     over. IgnoreLocked lets a request act until the action it causes
//     ends.
//   - Placement: the preferred owners after the owner (wrapping), then the
//     other nodes by number; failovers and takeovers fall back to paused
//     nodes, where nothing goes online. A move whose target leaves, is
//     paused or becomes ineligible before ownership passes is abandoned. A
//     drain moves pending groups too. A group whose owner is down and of
//     which nothing runs goes to the first node that can take it.
//   - Possible owners are a set (empty: every node): adding a member is
//     ERROR_OBJECT_ALREADY_EXISTS, removing a non-member
//     ERROR_CLUSTER_NODE_NOT_FOUND, removing the last
//     ERROR_INVALID_PARAMETER; removing the owner's node stops the resource
//     there and the group stays.
//   - Takeover (takeover.go): after a goodbye, or when nothing may run,
//     at once; otherwise after a fence command succeeded, the self-fencing
//     window passed (DepartNode, no fence command), an operator confirmed
//     the node fenced, or the owner came back and adopted what runs. A
//     takeover neither counts toward nor is limited by the failover
//     threshold. After a reset every group with resources waits so.
//   - A stray (a resource found running where its group is not owned) is
//     stopped; its resource is not started until that stop succeeded.
//   - Deleting a group deletes its resources; it needs nothing running.
//   - ApplyConfig: nodes it lists get its fence command; persistent states
//     and locks apply as written without lock checks; a resource may not
//     change group, nor agent while it runs.
package engine

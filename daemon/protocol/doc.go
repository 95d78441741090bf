// Package protocol is the hags protocol engine: a pure, deterministic state
// machine that decides everything about groups, providers, subscribers and
// the protocols that change them (docs/protocol.md).
//
// Every daemon of a domain feeds its Engine the same ordered Events and gets
// the same Effects back. The engine starts no goroutines, does no I/O and
// never reads a clock: time arrives as Event.Time. An Engine is not safe for
// concurrent use; its owner (the daemon's run loop) serialises every call.
//
// Decisions this package makes where IBM's manual and docs/c-contract.md leave
// room (docs/ repeats them for users):
//
//   - Tokens are chosen by the client and scoped to its session. A token the
//     engine never accepted for that client gets BadMemberToken; a token whose
//     membership or subscription has ended (or that is a subscription token
//     used as a provider, or a join still waiting for approval) gets
//     NotAMember; reusing a live token for a new join or subscription gets
//     BadParameter. A join refused by an asynchronous error leaves no trace, so
//     its token stays unknown, except a join refused for permission (see
//     group access below). A token whose membership ended may be reused.
//   - OpQuit carries no parameters and is never refused: it is not put
//     through Request.Check.
//   - Joining would exceed MaxProvidersPerGroup, or creating a group would
//     exceed MaxGroupsPerDomain: NoMemory, the GSAPI's code for "no room".
//   - The system group HostMembership (members: the nodes that are up,
//     instance 0) always exists, may be subscribed to and may be the source
//     of target groups, but is never joined: a join, or an attribute change
//     naming it, gets InvalidGroup ("the group exists but is not one a
//     client may join"). It has no protocols, state value or providers with
//     tokens.
//   - A new subscriber gets an initial subscription notification at once,
//     describing what it asked for: the current state value (SubType
//     SubscriptionStateValue) and/or the current membership as a join delta
//     (SubscriptionDeltaJoin, Changing = every current member, Full = the same
//     unless SubscribeDeltasOnly).
//   - A provider without a deactivate script is expelled with result
//     DeactivateNotRun: registering a script is optional. When a script's
//     node dies before the script reports, its result is DeactivateFailed.
//   - Deactivate-on-failure: when a provider's process dies
//     (EventDisconnect, leave reason ProviderProcessDied) and its client
//     registered a deactivate script, the engine emits one EffectRunScript
//     with Reason ScriptFailure per group the process provided in, with no
//     flag and the group's TimeLimit as the script's limit. Goodbye and quit
//     are deliberate and NodeDied leaves no node to run on: no script. A
//     joiner whose process dies while its join runs gets its script only
//     if the join is approved after all (the group then saw a provider
//     fail), when its failure leave starts; a join rejected or not yet
//     started made no provider: no script. The failure leave does not wait for the script (a failure is a
//     fact, and its notification should not be delayed); the EventScriptDone
//     that reports it is ignored, and the daemon's log records the outcome.
//     Each failure runs the script exactly once: a provider fails only once.
//   - A protocol with nobody left to vote (the group's creator, or a group
//     whose every voter is being expelled or joining) is approved at once as
//     a one-phase protocol, without summary flags.
//   - A failure is a fact: a rejected n-phase failure-leave protocol sends the
//     rejected notification and then removes the failed providers in a
//     one-phase failure-leave protocol.
//   - Source-target groups. A group whose attributes name SourceGroupName
//     is a target of that source. The source is fixed when the target is
//     created: it must exist and be HostMembership or a group with a
//     provider that has not failed (else NoSourceGroupProvider); it may be
//     neither the group itself nor a group whose attributes name a source
//     (no chains) (else InvalidSourceGroup). Joining an existing target
//     means presenting its attributes, source included; an attribute change
//     may not change SourceGroupName (InvalidSourceGroup).
//   - When a protocol that changes a source's membership or state value is
//     approved, and when HostMembership changes on NodeUp or NodeDown, every
//     target (in order of creation) queues a SourceStateReflection protocol
//     behind its joins and failure leaves. It runs one-phase or n-phase per
//     the target's SourceReflectionNumPhases with SourceReflectionTimeLimit
//     per phase; every provider of the target votes. Its proposal: Current
//     is the target's membership, Changing the source's joiners or leavers
//     (empty for a state change), LeaveInfo the source's leave info when
//     they left (nil when they joined; NodeDied for a node going down),
//     ProposedState the source's state value after the change, and
//     WhatsChanged 0 — unless a vote proposes a state value for the target:
//     then WhatsChanged has ChangeStateValue, ProposedState is that value,
//     and approval applies it as in any protocol. Messages and attribute
//     changes of the source are not reflected. A rejected reflection
//     changes nothing in the target (the source's change stands).
//     Subscribers of a target hear of a reflection only when it changed the
//     target's state value.
//   - When a source dissolves, each target gets, after the reflection of
//     the last departure, one last reflection with empty Changing, the
//     source's last state value and the summary flag GroupDissolved on all
//     its notifications, and loses its link: it reflects nothing more, even
//     if a group of the source's name is created later. Its attributes keep
//     naming the source, so joins with them still match and it still cannot
//     be a source. A target that dissolves leaves its source's list.
//   - Vote messages are delivered in the next notification of the protocol
//     only; a provider-message protocol's own message is in every
//     notification unless a vote message replaces it for one notification.
//   - Deactivate summary flags are set on the notifications of the phase in
//     which the scripts ran (the approval, for a one-phase expel); the results
//     stay in ExpelInfo for the rest of the protocol.
//   - Responsiveness announcements go to the live providers of every group
//     in which the client provides; the client is never removed for failing.
//   - Group access (docs/access-control.md). A group is owned by the uid
//     of the client whose join created it (Cred.Uid at EventConnect); the
//     owner never changes while the group exists. A join is allowed for
//     uid 0; refused, whatever else holds, for any other uid when the name
//     starts with wire.ReservedGroupPrefix; allowed when it creates the
//     group or comes from the owner's uid; otherwise allowed only with
//     Event.Grant, which the client's own node sets from its access mode
//     and rules. A refused join gets PermissionDenied after the token and
//     HostMembership checks and before anything is compared with the
//     group (attributes, instance numbers, limits), so the answer reveals
//     nothing about it; no protocol runs and the group hears nothing. The
//     token is remembered as denied: every later request with it gets
//     PermissionDenied, until a join or subscription reuses it. Everything
//     else a provider does (votes, proposals, expels) is allowed because
//     its join was: the decision is made once, at the join. Subscribing
//     is open to every client.
package protocol

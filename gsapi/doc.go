// Package gsapi is the Go client of hags Group Services: the GSAPI
// (ha_gs_*) for Go programs, without cgo. The C library libha_gs is a thin
// layer over it, one ha_gs_* function per method.
//
// # Lifecycle
//
//  1. Dial opens a session with the daemon of this node (ha_gs_init). It
//     finds the daemon's Unix socket through WithSocket, $HA_GS_SOCKET, or
//     the domain ($HA_DOMAIN_NAME, default "hags"), registers the optional
//     deactivate script and responsiveness check, and learns the node
//     number (Node).
//  2. Join makes the process a provider of a group and Subscribe makes it a
//     subscriber. Both return a Token at once: the client chooses tokens
//     itself. Whether a join succeeded arrives later, as an approved or a
//     rejected notification.
//  3. Dispatch (or Run) delivers notifications to the callbacks given at
//     Join, Subscribe and Dial. Nothing is delivered outside it.
//  4. Inside an NPhase callback (or later, from any goroutine) the provider
//     answers with Vote: approve, continue or reject, optionally proposing a
//     state value or a message for the next phase.
//  5. A provider proposes changes with ChangeStateValue, SendMessage,
//     ChangeAttributes, Expel and Leave; every provider votes on n-phase
//     proposals, and all see the outcome in the same order.
//  6. Leave (a protocol) or Goodbye (at once) ends a membership;
//     Unsubscribe ends a subscription.
//  7. Close ends the session (ha_gs_quit); groups see the remaining
//     providers leave with ProviderSaidGoodbye. After Close every call
//     returns ErrNoInit.
//
// # Requests and errors
//
// Requests are fire-and-forget, as in the GSAPI: a nil error means the
// request passed every check the library can make and was sent, not that it
// succeeded. The library checks at once what it can know: parameters and
// limits (the same rules the daemon applies again), tokens never issued
// (ErrBadMemberToken, also for a subscription token used as a provider or
// the reverse), memberships that ended (ErrNotAMember), a token whose join
// was refused for lack of permission (ErrPermissionDenied, for every later
// request with it; the daemon answers the same for a request that went out
// before the refusal arrived), a join of a reserved group (hags.*) by a
// process that was not root when it connected (ErrPermissionDenied), a
// provider with an
// outstanding proposal or whose group is running a protocol (ErrCollide), a
// vote nothing waits for (ErrVoteNotExpected), a closed client (ErrNoInit)
// and a lost connection (ErrNotOK). It never refuses a request the daemon
// would accept: its view comes from the notifications as they arrive,
// before they are dispatched. Errors that only the daemon can find come
// back later as delayed-error notifications (WithDelayedErrorHandler).
//
// Every error is an *Error carrying the GSAPI return code; errors.Is matches
// it against the sentinel of that code (ErrCollide, ...) and CodeOf
// extracts the code.
//
// # Dispatch model
//
// A reader goroutine decodes each frame once, updates the library's view of
// its tokens and appends the notification to one FIFO queue; frames that
// arrive together are read with one read and queued together. Fd returns an
// eventfd that is readable exactly while that queue is non-empty (and, once
// the connection is lost, until Close, so that a poller learns of the loss
// from Dispatch). Two styles of program follow:
//
//   - poll/select on Fd, then Dispatch(NonBlocking), which delivers every
//     pending notification and returns;
//   - a goroutine in Run(ctx) or Dispatch(Blocking), which delivers
//     notifications as they arrive and returns only when the context ends,
//     the connection is lost (ErrNotOK) or the client is closed (ErrNoInit).
//
// Callbacks run on the dispatching goroutine, one at a time, in arrival
// order, with no library lock held; concurrent dispatchers take turns. A
// callback may call Vote and the other requests, and Close, but not Dispatch
// or Run. A nil callback drops that notification. Responsiveness checks are
// answered from inside Dispatch with the responsiveness callback's result,
// so a program whose dispatch loop is stuck fails the check. The request
// methods are safe for concurrent use from any number of goroutines: a
// request made alone is written before its method returns, and requests
// made while another write is under way share the next write.
// docs/design/client.md gives the details.
package gsapi

// Package failover is the management API of the hags failover manager: the
// Go face of what hagsrmd does and what hagsrm is built on.
//
// The failover manager keeps resource groups highly available on a hags
// domain. Every node runs hagsrmd, a Group Services client of its node's
// hagsd; the managers agree on the cluster's configuration and states
// through Group Services protocols, run resource agents (OCF agents and
// plain commands) on the node that owns each group, and fail groups over
// when resources or nodes fail. docs/design/failover.md describes the
// design; docs/failover.md is the contract this package implements: the
// names and values of the states (the same as Microsoft's failover cluster
// management protocol), the return codes, the operations and what each
// returns.
//
// A Client talks to the hagsrmd of its node over a Unix socket. Every
// operation takes a context first and returns an error that is nil or an
// *Error carrying the operation's Code; errors.Is matches the sentinels
// (ErrIOPending, ErrGroupNotFound, ...). ERROR_IO_PENDING is not a
// failure: the operation was accepted and goes on; Watch, or polling the
// object's state, tells when it ends.
package failover

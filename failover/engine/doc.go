// Package engine is the failover manager's engine: a pure, deterministic
// state machine that holds the cluster's configuration and states and
// decides everything the managers do — placement, dependencies, recovery,
// moves, takeovers, and every operation's checks and return codes.
//
// Every manager steps its Engine with the same agreed Inputs in the same
// order and gets the same Outputs; each carries out only the outputs
// addressed to its own node. The engine does no I/O, reads no clock
// (time arrives in Input.Time), starts no goroutine and uses no
// randomness. An Engine is not safe for concurrent use: its owner, the
// manager's run loop, serialises Step and the views.
package engine

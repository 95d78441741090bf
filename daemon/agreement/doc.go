// Package agreement puts the events of every daemon of a domain into one
// order with hashicorp/raft, and applies them, in that order, to the
// protocol engine on every daemon (docs/design/domain.md).
//
// The replicated log holds Entry values: a node's admission, batches of
// events from one node's client sessions, a node's death, and deadline
// ticks. The leader stamps every entry with its clock and owns the
// engine's deadlines. Each daemon submits its own events (Agreement.Submit);
// a forwarder sends them to the leader in order, one entry at a time, and
// sends an entry again until the leader answers, across leader changes.
// Entries carry the node's incarnation, admission epoch and a sequence
// number, so that the FSM applies each exactly once and drops what a node
// sent before it was declared down or restarted.
//
// Over a TLS stream layer a connection from another daemon speaks only for
// the node its certificate names: the leader refuses a forwarded entry for
// another node, and raft's inbound requests are served here
// (raftTransport) so that one claiming another server id is refused before
// raft sees it. Without TLS nothing names the sender and every claim is
// taken as made.
//
// The FSM steps the engine on raft's FSM goroutine and hands each daemon the
// effects aimed at it (Applied, through Config.Deliver): notifications for
// its clients, deactivate scripts for its providers.
//
// In a domain of several nodes raft snapshots the FSM (the engine's state
// and the node table) every SnapshotPolicy.Threshold entries and trims its
// log; a daemon too far behind receives the leader's snapshot, restores it
// in place, and learns from it whether it is still admitted.
//
// A one-node domain runs the same path: a single voter on an in-memory
// transport and store, which elects itself at once.
//
// Who belongs to the domain is not decided here: daemon/domain's Keeper
// decides admissions (Config.AdmitCheck), node deaths (AppendNodeDown) and
// raft's configuration (AddFollower, AddVoter, RemoveServer); the
// Agreement writes them to the log.
//
// Locks: the FSM's lock (the engine and the node table), the forwarder's
// queue lock, the raft transport's heartbeat-handler lock, and the
// Agreement's stamp lock are each held only for a few statements; none is
// taken while another is held, and none is held while raft, the engine's
// owner or a callback (Deliver, AdmitCheck, raft's heartbeat handler) is
// called.
//
// docs/design/domain.md explains the design, the timings and what is kept
// on disk.
package agreement

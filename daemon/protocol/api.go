package protocol

import "github.com/openhags/hags/internal/wire"

// ClientID names one client session (one ha_gs_init) in the domain. The
// daemon that accepted the connection chooses Conn so that it is never
// reused on that node, across restarts included (it folds in the daemon's
// incarnation). The engine treats it as opaque.
type ClientID struct {
	Node int32  `msgpack:"n"`
	Conn uint64 `msgpack:"c"`
}

// EventKind says what an Event reports.
type EventKind uint8

const (
	// EventConnect: a client session began (Client, Cred, Hello).
	EventConnect EventKind = 1
	// EventDisconnect: a client's connection dropped without OpQuit; its
	// providers fail with ProviderProcessDied (Client).
	EventDisconnect EventKind = 2
	// EventRequest: a client request (Client, Request).
	EventRequest EventKind = 3
	// EventRespond: a client's answer to a responsiveness check (Client, Respond).
	EventRespond EventKind = 4
	// EventNodeUp: a node joined the domain (Node).
	EventNodeUp EventKind = 5
	// EventNodeDown: a node left the domain; its clients' providers fail
	// with ProviderNodeDied (Node).
	EventNodeDown EventKind = 6
	// EventTick: time passed; deadlines at or before Time expire.
	EventTick EventKind = 7
	// EventScriptDone: a deactivate script finished (Script).
	EventScriptDone EventKind = 8
	// EventResponsiveness: a client passed or failed a responsiveness
	// check (Client, Responsive).
	EventResponsiveness EventKind = 9
)

// Cred is what the daemon learned of a client from SO_PEERCRED.
type Cred struct {
	Pid int32  `msgpack:"pid"`
	Uid uint32 `msgpack:"uid"`
	Gid uint32 `msgpack:"gid"`
}

// Event is one input to the engine. Every daemon of a domain applies the same
// events in the same order (through the raft log), so Event is plain data
// that encodes with msgpack. Fields that a Kind does not use are zero.
type Event struct {
	Kind EventKind `msgpack:"k"`
	// Time is when the event was ordered, in Unix nanoseconds, stamped by
	// whoever orders events (the raft leader). The engine never reads a clock.
	Time int64 `msgpack:"t"`

	Client     ClientID      `msgpack:"c,omitempty"`
	Cred       Cred          `msgpack:"cred,omitempty"`
	Hello      *wire.Hello   `msgpack:"hello,omitempty"`
	Request    *wire.Request `msgpack:"req,omitempty"`
	Respond    *wire.Respond `msgpack:"resp,omitempty"`
	Node       int32         `msgpack:"node,omitempty"`
	Script     *ScriptResult `msgpack:"script,omitempty"`
	Responsive bool          `msgpack:"ok,omitempty"`

	// Grant is the answer of the client's own node, from its access mode
	// and rule file, to "may this client provide in the group its join
	// names, although another uid owns it?" (EventRequest with OpJoin
	// only; false elsewhere). The engine adds the rules every node shares:
	// the owner's uid and root may always join, and only root may create
	// or join a group whose name starts with wire.ReservedGroupPrefix.
	Grant bool `msgpack:"grant,omitempty"`
}

// EffectKind says what an Effect asks the daemon to do.
type EffectKind uint8

const (
	// EffectNotify: deliver Note to every recipient in To, each with its own
	// token. Note is shared and must not be modified; the daemon encodes it
	// once per recipient with Recipient.Token in place of Note.Token.
	EffectNotify EffectKind = 1
	// EffectRunScript: run a deactivate script on Script.Node and report
	// the outcome with an EventScriptDone carrying Script.ID.
	EffectRunScript EffectKind = 2
)

// Recipient is one client token a notification goes to.
type Recipient struct {
	Client ClientID
	Token  int32
}

// Effect is one output of the engine. Each daemon carries out only the
// effects aimed at its own node: notifications to its own clients, scripts
// for its own providers.
type Effect struct {
	Kind   EffectKind
	To     []Recipient
	Note   *wire.Notification
	Script *ScriptRun
}

// ScriptReason says why a deactivate script runs.
type ScriptReason uint8

const (
	ScriptExpel   ScriptReason = 1
	ScriptFailure ScriptReason = 2
)

// ScriptRun asks the daemon on Node to run a provider's deactivate script.
type ScriptRun struct {
	ID        uint64   // unique per engine; echoed in ScriptResult
	Node      int32    // where the provider (and its client) lives
	Owner     ClientID // the client that registered the script
	Path      string   // from Hello.DeactivateScript
	Uid, Gid  uint32   // the owner's credentials
	Group     string   // the group the provider is expelled from
	Provider  wire.Provider
	Pid       int32 // the provider process
	Reason    ScriptReason
	Flag      *string // gs_deactivate_flag; nil: none
	TimeLimit uint32  // seconds; 0: none
}

// ScriptResult reports how a ScriptRun ended.
type ScriptResult struct {
	ID     uint64                `msgpack:"id"`
	Result wire.DeactivateResult `msgpack:"r"`
}

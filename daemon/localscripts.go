package daemon

import "github.com/openhags/hags/daemon/protocol"

// scriptRefusal is all a client is told when its deactivate script is
// refused at Hello, whatever the reason (the daemon's log has it, under the
// refusal's FFDC id).
const scriptRefusal = "deactivate script refused: it must be an absolute path to a regular file this client's user may execute " +
	"(and, for root, one that only root can change); the daemon log has the reason"

// RememberedEndedSessions is how many ended sessions' deactivate script
// registrations a daemon keeps. The engine may ask for a session's script
// after the session ended (its process died: the failure leave; an expel
// that was already running), so a registration outlives its session; the
// oldest are forgotten beyond this many, and a script asked for after that
// is reported failed, with a log line.
const RememberedEndedSessions = 4096

// localScript is a deactivate script as a local session registered it at
// Hello, with the credentials SO_PEERCRED gave for the session: what this
// daemon runs, whatever a log entry says.
type localScript struct {
	path     string
	uid, gid uint32
	pid      int32
}

// scriptBook holds the deactivate scripts this daemon's own sessions
// registered, by ClientID.Conn: while the session lives, and among the
// last RememberedEndedSessions ended ones after. Run loop only.
type scriptBook struct {
	live  map[uint64]localScript
	ended map[uint64]localScript
	order []uint64 // ended sessions, oldest first
	limit int
}

func newScriptBook(limit int) *scriptBook {
	return &scriptBook{live: map[uint64]localScript{}, ended: map[uint64]localScript{}, limit: limit}
}

// register records the script of a new session, if it named one.
func (b *scriptBook) register(s *session) {
	if s.hello.DeactivateScript == "" {
		return
	}
	b.live[s.id.Conn] = localScript{path: s.hello.DeactivateScript, uid: s.cred.Uid, gid: s.cred.Gid, pid: s.cred.Pid}
}

// end moves an ended session's registration among the ended ones,
// forgetting the oldest beyond the limit.
func (b *scriptBook) end(conn uint64) {
	ls, ok := b.live[conn]
	if !ok {
		return
	}
	delete(b.live, conn)
	b.ended[conn] = ls
	b.order = append(b.order, conn)
	for len(b.order) > b.limit {
		delete(b.ended, b.order[0])
		b.order = b.order[1:]
	}
}

// lookup finds what session conn registered.
func (b *scriptBook) lookup(conn uint64) (localScript, bool) {
	if ls, ok := b.live[conn]; ok {
		return ls, true
	}
	ls, ok := b.ended[conn]
	return ls, ok
}

// localRun returns the run this daemon carries out for a ScriptRun from the
// log: the log chooses which run (its ID, group, provider, reason, flag and
// limit), never what runs nor as whom. Path, uid, gid and pid are the ones
// the owner's session gave this daemon. false: no session of this daemon
// registered a script for that owner.
func (n *Node) localRun(run *protocol.ScriptRun) (*protocol.ScriptRun, bool) {
	if run.Owner.Node != n.cfg.Node {
		return nil, false
	}
	ls, ok := n.scripts.lookup(run.Owner.Conn)
	if !ok {
		return nil, false
	}
	local := *run
	local.Path, local.Uid, local.Gid, local.Pid = ls.path, ls.uid, ls.gid, ls.pid
	return &local, true
}

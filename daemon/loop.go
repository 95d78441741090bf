package daemon

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime/debug"
	"slices"
	"time"

	"github.com/openhags/hags/daemon/agreement"
	"github.com/openhags/hags/daemon/ipc"
	"github.com/openhags/hags/daemon/protocol"
	"github.com/openhags/hags/internal/wire"
)

// loopKind says what a loopMsg carries to the run loop.
type loopKind uint8

const (
	loopConnect    loopKind = iota + 1 // a client session began: register sess, feed EventConnect
	loopDisconnect                     // sess ended: forget it, feed EventDisconnect unless it quit
	loopEvent                          // order ev (a responsiveness verdict on sess)
	loopQuery                          // answer query on sess
	loopCutOff                         // this daemon is cut off from the domain's majority
)

// loopMsg is one input of the run loop.
type loopMsg struct {
	kind  loopKind
	sess  *session
	ev    protocol.Event
	query wire.AdminQuery
}

// send hands m to the run loop; false when the Node is closing.
func (n *Node) send(m loopMsg) bool {
	select {
	case n.in <- m:
		return true
	case <-n.ctx.Done():
		return false
	}
}

// run is the run loop: the only goroutine that touches the sessions map. It
// submits what sessions report to the agreement (order), and carries out
// what the log, once applied, asks of this daemon (applied).
func (n *Node) run() error {
	// After a burst of work the heap holds the burst's garbage until the
	// next collection, which an idle daemon may not run for minutes: once
	// the loop has been idle for IdleMemoryReturn, the memory goes back to
	// the system (the resident set then shows what the daemon keeps).
	idle := time.NewTimer(n.idleAfter)
	defer idle.Stop()
	busy := false
	for {
		select {
		case <-n.ctx.Done():
			return nil
		case <-idle.C:
			if busy {
				busy = false
				n.onIdle()
			}
			continue
		case m := <-n.in:
			n.handle(m)
		case <-n.appWake:
			n.appMu.Lock()
			apps := n.appQueue
			n.appQueue = nil
			n.appMu.Unlock()
			for i := range apps {
				n.applied(&apps[i])
			}
		case <-n.scriptWake:
			n.scriptMu.Lock()
			done := n.scriptDone
			n.scriptDone = nil
			n.scriptMu.Unlock()
			for i := range done {
				n.order(protocol.Event{Kind: protocol.EventScriptDone, Script: &done[i]})
			}
		}
		if !busy {
			busy = true
		}
		idle.Reset(n.idleAfter)
	}
}

// IdleMemoryReturn is how long the run loop must have been idle, after
// doing something, before the daemon returns its free memory to the system.
const IdleMemoryReturn = 5 * time.Second

// What a new Node does when idle, and after how long (tests change them).
var (
	idleMemoryReturn = IdleMemoryReturn
	returnMemory     = debug.FreeOSMemory
)

func (n *Node) handle(m loopMsg) {
	switch m.kind {
	case loopConnect:
		s := m.sess
		defer close(s.connected) // the session's reader may queue its requests now
		if n.state.Load() == stateDown {
			n.endSession(s, wire.NotOK, errOutOfDomain.Error())
			return
		}
		n.sessions[s.id.Conn] = s
		n.scripts.register(s)
		n.order(protocol.Event{Kind: protocol.EventConnect, Client: s.id, Cred: s.cred, Hello: &s.hello})
	case loopDisconnect:
		s := m.sess
		delete(n.sessions, s.id.Conn)
		n.scripts.end(s.id.Conn)
		if !s.quit.Load() && !s.ended.Load() {
			n.order(protocol.Event{Kind: protocol.EventDisconnect, Client: s.id})
		}
	case loopEvent:
		n.order(m.ev)
	case loopQuery:
		n.answer(m.sess, &m.query)
	case loopCutOff:
		n.outOfDomain("cut off from the majority of the domain")
	}
}

// order hands ev to the agreement, which puts it in the domain's log after
// every event this daemon queued before; the leader stamps its time. The
// run loop orders the daemon's own events here (a session's start and end,
// a script's outcome, a responsiveness verdict), without waiting on a full
// forward queue; a session's reader queues its client's requests itself,
// waiting while the queue is full (Node.request). Both come back, on every
// daemon, through applied.
func (n *Node) order(ev protocol.Event) {
	n.agr.Submit(ev)
}

// applied carries out what one applied log entry asks of this daemon.
func (n *Node) applied(app *agreement.Applied) {
	n.apply(app.Effects)
	if app.Admitted != 0 {
		first := n.state.Load() == stateJoining
		n.epoch = app.Admitted
		n.state.Store(stateUp)
		if first {
			n.log.Info("admitted to the domain", "epoch", app.Admitted)
		} else {
			n.log.Warn("admitted to the domain again; clients may reconnect", "epoch", app.Admitted)
		}
	}
	if app.Down {
		n.outOfDomain("the domain declared this node down")
	}
}

// outOfDomain takes this daemon out of service: every client session is
// ended with NotOK (the domain has failed, or will fail, their providers)
// and new ones are refused, until the agreement admits the daemon again,
// which it asks for at once.
func (n *Node) outOfDomain(why string) {
	if n.state.Swap(stateDown) == stateDown {
		return
	}
	n.epoch = 0
	n.log.Warn("out of the domain: closing client sessions until admitted again", "reason", why, "sessions", len(n.sessions))
	for _, s := range n.sessions {
		n.endSession(s, wire.NotOK, errOutOfDomain.Error()+": "+why)
	}
	n.agr.Rejoin()
}

// apply carries out the effects aimed at this node.
func (n *Node) apply(effects []protocol.Effect) {
	for i := range effects {
		e := &effects[i]
		switch e.Kind {
		case protocol.EffectNotify:
			n.deliver(e)
		case protocol.EffectRunScript:
			if e.Script != nil && e.Script.Node == n.cfg.Node {
				n.runScript(e.Script)
			}
		default:
			n.log.Error("engine returned an unknown effect", "kind", e.Kind)
		}
	}
}

// deliver encodes the notification once per local recipient, with that
// recipient's token, and queues it on the recipient's session. A session
// whose queue is full is closed: its client has stopped reading.
func (n *Node) deliver(e *protocol.Effect) {
	if e.Note == nil {
		return
	}
	note := *e.Note // shallow copy: the engine's Note is shared and read-only
	if note.Type == wire.DelayedErrorNotification {
		n.noteDelayedError(&note)
	}
	// A notification for several recipients (every provider of a group)
	// is encoded once, and each frame gets the recipient's token spliced
	// in: encoding is most of the cost of a delivery.
	var frames *wire.NotificationFrames
	if local := n.localRecipients(e.To); local > 1 {
		var err error
		if frames, err = wire.NewNotificationFrames(&note); err != nil {
			n.log.Error("cannot encode notification once; encoding it for each recipient", "group", note.Group, "type", note.Type, "err", err)
		}
	}
	for _, r := range e.To {
		if r.Client.Node != n.cfg.Node {
			continue
		}
		s := n.sessions[r.Client.Conn]
		if s == nil {
			continue // the session ended; its disconnect is already ordered
		}
		var frame []byte
		if frames != nil {
			frame = frames.Append(nil, r.Token)
		} else {
			note.Token = r.Token
			var err error
			if frame, err = wire.AppendFrame(nil, wire.MsgNotification, &note); err != nil {
				s.log.Error("cannot encode notification; dropped", "group", note.Group, "type", note.Type, "err", err)
				continue
			}
		}
		if err := s.out.Put(frame); err != nil {
			if errors.Is(err, ipc.ErrOutboxFull) {
				s.close(fmt.Errorf("%w: %d frames queued", err, s.out.Len()))
			}
		}
	}
}

// noteDelayedError gives a delayed error a fresh FFDC id, which travels
// with it (ha_gs_get_ffdc_id), and logs it under that id, at the bounded
// rate of refusals (a flood of them is summarised instead).
func (n *Node) noteDelayedError(note *wire.Notification) {
	note.FFDC = n.newFFDC()
	n.refusals.write(n.log, slog.LevelInfo, "delayed error reported to client", "ffdc_id", note.FFDC, "code", note.Code.String(),
		"group", note.Group, "token", note.Token)
}

// localRecipients counts the recipients on this node.
func (n *Node) localRecipients(to []protocol.Recipient) int {
	c := 0
	for _, r := range to {
		if r.Client.Node == n.cfg.Node {
			c++
		}
	}
	return c
}

// runScript hands a deactivate script to the ScriptRunner. What runs, and
// as whom, is what the owner's session registered with this daemon
// (localRun), never the copy in the log: an entry that names another path
// or uid, or a client this daemon never served, cannot choose a program to
// run. Its outcome comes back to the run loop, which orders it as an
// EventScriptDone.
func (n *Node) runScript(logged *protocol.ScriptRun) {
	log := n.log.With("group", logged.Group, "instance", logged.Provider.Instance, "provider_node", logged.Provider.Node,
		"script_id", logged.ID, "owner", logged.Owner.Conn)
	failed := func() {
		n.order(protocol.Event{Kind: protocol.EventScriptDone,
			Script: &protocol.ScriptResult{ID: logged.ID, Result: wire.DeactivateFailed}})
	}
	run, ok := n.localRun(logged)
	if !ok {
		log.Error("deactivate script not run: no session of this daemon registered a script for its owner; reported as failed",
			"log_script", logged.Path, "log_uid", logged.Uid, "log_owner_node", logged.Owner.Node)
		failed()
		return
	}
	log = log.With("pid", run.Pid, "script", run.Path, "uid", run.Uid)
	if run.Path != logged.Path || run.Uid != logged.Uid || run.Gid != logged.Gid || run.Pid != logged.Pid {
		log.Warn("the log's copy of the script registration differs from the session's; running the session's",
			"log_script", logged.Path, "log_uid", logged.Uid, "log_gid", logged.Gid, "log_pid", logged.Pid)
	}
	if n.cfg.Scripts == nil {
		log.Warn("no script runner: deactivate script reported as failed")
		failed()
		return
	}
	log.Info("running deactivate script")
	n.cfg.Scripts.Run(run, n.scriptFinished)
}

// scriptFinished is the ScriptRunner's done callback. It never blocks, so a
// runner may call it from anywhere, even after Close.
func (n *Node) scriptFinished(res protocol.ScriptResult) {
	n.scriptMu.Lock()
	n.scriptDone = append(n.scriptDone, res)
	n.scriptMu.Unlock()
	select {
	case n.scriptWake <- struct{}{}:
	default:
	}
}

// answer replies to an admin query from the engine's current state.
func (n *Node) answer(s *session, q *wire.AdminQuery) {
	var rep wire.AdminReply
	switch q.What {
	case "status":
		rep.Status = n.status()
	case "groups":
		n.agr.View(func() { rep.Groups = n.eng.Groups() })
	case "group":
		var d *wire.GroupDetail
		var ok bool
		n.agr.View(func() { d, ok = n.eng.Group(q.Group) })
		if ok {
			rep.Group = d
		} else {
			rep.Error = fmt.Sprintf("unknown group %q", q.Group)
		}
	default:
		rep.Error = fmt.Sprintf("unknown query %q (want status, groups or group)", q.What)
	}
	frame, err := wire.AppendFrame(nil, wire.MsgAdminReply, &rep)
	if err != nil {
		s.log.Error("cannot encode admin reply", "query", q.What, "err", err)
		frame, _ = wire.AppendFrame(nil, wire.MsgAdminReply, &wire.AdminReply{Error: "reply too large"})
	}
	if err := s.out.Put(frame); errors.Is(err, ipc.ErrOutboxFull) {
		s.close(err)
	}
}

// Admitted reports whether this daemon is in the domain now: admitted, and
// not cut off or declared down since. It is safe to call from any
// goroutine.
func (n *Node) Admitted() bool { return n.state.Load() == stateUp }

// Status describes this daemon and the domain's nodes as it sees them
// (what hagsctl status shows). It is safe to call from any goroutine.
func (n *Node) Status() *wire.Status { return n.status() }

func (n *Node) status() *wire.Status {
	st := &wire.Status{
		Domain:      n.cfg.Domain,
		Node:        n.cfg.Node,
		Version:     Version,
		Pid:         int32(os.Getpid()),
		Incarnation: uint64(n.cfg.Incarnation),
		StartedUnix: n.started.Unix(),
		Nodes:       n.nodes(),
	}
	n.agr.View(func() {
		st.Clients = n.eng.Clients()
		st.Groups = len(n.eng.Groups())
	})
	return st
}

// nodes lists the domain's nodes as this daemon sees them: raft's
// configuration gives the roles, the log says which nodes are up.
func (n *Node) nodes() []wire.NodeStatus {
	byNode := map[int32]*wire.NodeStatus{}
	get := func(node int32) *wire.NodeStatus {
		if ns := byNode[node]; ns != nil {
			return ns
		}
		ns := &wire.NodeStatus{Node: node, Role: "none", Health: "unknown"}
		byNode[node] = ns
		return ns
	}
	leader, hasLeader := n.agr.Leader()
	members, err := n.agr.Members()
	if err != nil {
		n.log.Debug("no raft configuration for status", "err", err)
	}
	for _, m := range members {
		ns := get(m.Node)
		if n.cfg.Cluster != nil { // a one-node domain's address is an in-memory name
			ns.Address = m.Addr
		}
		ns.Role = "follower"
		if m.Voter {
			ns.Role = "voter"
		}
		if hasLeader && m.Node == leader {
			ns.Role = "leader"
		}
	}
	for _, st := range n.agr.Nodes() {
		ns := get(st.Node)
		ns.Health = "dead"
		if st.Up {
			ns.Health = "alive"
		}
	}
	if m := n.mem.Load(); m != nil {
		// The failure detector's word on health wins over the log's,
		// which lags behind it.
		for _, mem := range m.Members() {
			ns := get(mem.Node)
			ns.Name = mem.Name
			ns.Health = mem.Health.String()
			if ns.Address == "" {
				ns.Address = mem.RaftAddr
			}
		}
	}
	if ns := byNode[n.cfg.Node]; ns != nil && ns.Name == "" {
		// A one-node domain has no failure detector to name it: it is
		// still called what Name says (hagsd --name, default node<N>).
		ns.Name = n.Name()
	}
	out := make([]wire.NodeStatus, 0, len(byNode))
	for _, ns := range byNode {
		out = append(out, *ns)
	}
	slices.SortFunc(out, func(a, b wire.NodeStatus) int { return cmp.Compare(a.Node, b.Node) })
	return out
}

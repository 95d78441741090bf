package daemon

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/openhags/hags/daemon/ipc"
	"github.com/openhags/hags/daemon/protocol"
	"github.com/openhags/hags/internal/wire"
)

// loopKind says what a loopMsg carries to the run loop.
type loopKind uint8

const (
	loopConnect    loopKind = iota + 1 // a client session began: register sess, feed EventConnect
	loopDisconnect                     // sess ended: forget it, feed EventDisconnect unless it quit
	loopEvent                          // feed ev (a request or a respond from sess)
	loopQuery                          // answer query on sess
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

// run is the run loop: the only goroutine that touches the engine and the
// sessions map. It takes one input at a time, orders it (order), and
// carries out the resulting effects.
func (n *Node) run() error {
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	// This daemon is the whole domain for now: its own node is up.
	n.order(protocol.Event{Kind: protocol.EventNodeUp, Node: n.cfg.Node})
	for {
		if at, ok := n.eng.NextDeadline(); ok {
			timer.Reset(max(time.Unix(0, at).Sub(n.now()), 0))
		} else {
			timer.Stop()
		}
		select {
		case <-n.ctx.Done():
			timer.Stop()
			return nil
		case m := <-n.in:
			n.handle(m)
		case <-timer.C:
			n.order(protocol.Event{Kind: protocol.EventTick})
		case <-n.scriptWake:
			n.scriptMu.Lock()
			done := n.scriptDone
			n.scriptDone = nil
			n.scriptMu.Unlock()
			for i := range done {
				n.order(protocol.Event{Kind: protocol.EventScriptDone, Script: &done[i]})
			}
		}
	}
}

func (n *Node) handle(m loopMsg) {
	switch m.kind {
	case loopConnect:
		s := m.sess
		n.sessions[s.id.Conn] = s
		n.order(protocol.Event{Kind: protocol.EventConnect, Client: s.id, Cred: s.cred, Hello: &s.hello})
	case loopDisconnect:
		s := m.sess
		delete(n.sessions, s.id.Conn)
		if !s.quit.Load() {
			n.order(protocol.Event{Kind: protocol.EventDisconnect, Client: s.id})
		}
	case loopEvent:
		n.order(m.ev)
	case loopQuery:
		n.answer(m.sess, &m.query)
	}
}

// order stamps ev with the time it is ordered at, steps the engine and
// carries out the effects, then does the same for any event the effects fed
// back. This is the one place where events are ordered: when the domain
// grows to several nodes, the raft log goes in here.
func (n *Node) order(ev protocol.Event) {
	n.local = append(n.local, ev)
	for len(n.local) > 0 {
		ev := n.local[0]
		n.local = n.local[1:]
		ev.Time = n.now().UnixNano()
		n.apply(n.eng.Step(ev))
	}
	n.local = n.local[:0:0]
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
		// Every error reported to a client is logged under an FFDC id
		// that travels with it (ha_gs_get_ffdc_id).
		note.FFDC = n.newFFDC()
		n.log.Info("delayed error reported to client", "ffdc_id", note.FFDC, "code", note.Code.String(),
			"group", note.Group, "token", note.Token)
	}
	for _, r := range e.To {
		if r.Client.Node != n.cfg.Node {
			continue
		}
		s := n.sessions[r.Client.Conn]
		if s == nil {
			continue // the session ended; its disconnect is already ordered
		}
		note.Token = r.Token
		frame, err := wire.AppendFrame(nil, wire.MsgNotification, &note)
		if err != nil {
			s.log.Error("cannot encode notification; dropped", "group", note.Group, "type", note.Type, "err", err)
			continue
		}
		if err := s.out.Put(frame); err != nil {
			if errors.Is(err, ipc.ErrOutboxFull) {
				s.close(fmt.Errorf("%w: %d frames queued", err, s.out.Len()))
			}
		}
	}
}

// runScript hands a deactivate script to the ScriptRunner. Its outcome comes
// back to the run loop as an EventScriptDone.
func (n *Node) runScript(run *protocol.ScriptRun) {
	log := n.log.With("group", run.Group, "instance", run.Provider.Instance, "provider_node", run.Provider.Node,
		"pid", run.Pid, "script", run.Path, "script_id", run.ID)
	if n.cfg.Scripts == nil {
		log.Warn("no script runner: deactivate script reported as failed")
		n.local = append(n.local, protocol.Event{Kind: protocol.EventScriptDone,
			Script: &protocol.ScriptResult{ID: run.ID, Result: wire.DeactivateFailed}})
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
		rep.Groups = n.eng.Groups()
	case "group":
		if d, ok := n.eng.Group(q.Group); ok {
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

func (n *Node) status() *wire.Status {
	return &wire.Status{
		Domain:      n.cfg.Domain,
		Node:        n.cfg.Node,
		Version:     Version,
		Pid:         int32(os.Getpid()),
		Incarnation: uint64(n.cfg.Incarnation),
		StartedUnix: n.started.Unix(),
		Clients:     n.eng.Clients(),
		Groups:      len(n.eng.Groups()),
		Nodes:       []wire.NodeStatus{{Node: n.cfg.Node, Role: "leader", Health: "alive"}},
	}
}

package daemon

import (
	"errors"
	"fmt"
	"log/slog"

	"github.com/openhags/hags/daemon/agreement"
	"github.com/openhags/hags/daemon/ipc"
	"github.com/openhags/hags/daemon/protocol"
	"github.com/openhags/hags/internal/wire"
)

// What the log asks of this daemon: notifications for its clients and
// deactivate scripts for its providers. Notifications are queued on their
// sessions' outboxes straight from the apply path (delivered, on raft's FSM
// goroutine); the rest goes to the run loop (apply). Neither ever blocks:
// a notification is queued on its session's outbox, a script is handed to
// the ScriptRunner.

// delivered is the agreement's Deliver, called on raft's FSM goroutine
// with what one batch of applied entries means for this daemon. The
// notifications go straight to their recipients' outboxes, and each
// recipient's writer is woken once for the whole batch; what else the
// batch asks (deactivate scripts, an admission, leaving the domain) goes to
// the run loop in one hand-off, in log order.
func (n *Node) delivered(apps []agreement.Applied) {
	n.activity.Add(1)
	n.flushRound++
	var touched []*session
	var rest []agreement.Applied
	n.sessMu.RLock()
	for i := range apps {
		app := apps[i]
		n.met.applied(app.Effects)
		var other []protocol.Effect
		for j := range app.Effects {
			if e := &app.Effects[j]; e.Kind == protocol.EffectNotify {
				touched = n.deliver(e, touched)
			} else {
				other = append(other, *e)
			}
		}
		if len(other) > 0 || app.Admitted != 0 || app.Down {
			app.Effects = other
			rest = append(rest, app)
		}
	}
	n.sessMu.RUnlock()
	for _, s := range touched {
		s.out.Flush()
	}
	if len(rest) > 0 {
		n.appliedQ.put(rest...)
	}
}

// apply carries out, on the run loop, the effects aimed at this node that
// are not notifications.
func (n *Node) apply(effects []protocol.Effect) {
	for i := range effects {
		e := &effects[i]
		switch e.Kind {
		case protocol.EffectRunScript:
			if e.Script != nil && e.Script.Node == n.cfg.Node {
				n.runScript(e.Script)
			}
		default:
			n.log.Error("engine returned an unknown effect", "kind", e.Kind)
		}
	}
}

// deliver encodes the notification once per local recipient with a live
// session, with that recipient's token, and queues it on the recipient's
// session without waking its writer; it returns touched with every
// session it queued on added (once per round). A session whose queue is
// full is closed: its client has stopped reading. A notification with no
// live recipient here (a session that ended, a client of an earlier
// incarnation in a replayed log) costs nothing more than the look-up. The
// FSM goroutine only, under n.sessMu.
func (n *Node) deliver(e *protocol.Effect, touched []*session) []*session {
	if e.Note == nil {
		return touched
	}
	type recipient struct {
		s     *session
		token int32
	}
	var to []recipient
	for _, r := range e.To {
		if r.Client.Node != n.cfg.Node {
			continue
		}
		if s := n.sessions[r.Client.Conn]; s != nil {
			to = append(to, recipient{s, r.Token})
		} // else the session ended; its disconnect is already ordered
	}
	if len(to) == 0 {
		return touched
	}
	note := *e.Note // shallow copy: the engine's Note is shared and read-only
	if note.Type == wire.DelayedErrorNotification {
		n.noteDelayedError(&note)
	}
	// A notification for several recipients (every provider of a group)
	// is encoded once, and each frame gets the recipient's token spliced
	// in: encoding is most of the cost of a delivery.
	var frames *wire.NotificationFrames
	if len(to) > 1 {
		var err error
		if frames, err = wire.NewNotificationFrames(&note); err != nil {
			n.log.Error("cannot encode notification once; encoding it for each recipient", "group", note.Group, "type", note.Type, "err", err)
		}
	}
	for _, r := range to {
		s := r.s
		var frame []byte
		if frames != nil {
			frame = frames.Append(nil, r.token)
		} else {
			note.Token = r.token
			var err error
			if frame, err = wire.AppendFrame(nil, wire.MsgNotification, &note); err != nil {
				s.log.Error("cannot encode notification; dropped", "group", note.Group, "type", note.Type, "err", err)
				continue
			}
		}
		if err := s.out.Append(frame); err != nil {
			if errors.Is(err, ipc.ErrOutboxFull) {
				s.close(fmt.Errorf("%w: %d frames queued", err, s.out.Len()))
			}
			continue
		}
		if s.flushRound != n.flushRound {
			s.flushRound = n.flushRound
			touched = append(touched, s)
		}
		n.met.delivered(s.id.Conn, r.token, &note)
	}
	return touched
}

// noteDelayedError gives a delayed error a fresh FFDC id, which travels
// with it (ha_gs_get_ffdc_id), and logs it under that id, at the bounded
// rate of refusals (a flood of them is summarised instead).
func (n *Node) noteDelayedError(note *wire.Notification) {
	note.FFDC = n.newFFDC()
	n.refusals.write(n.log, slog.LevelInfo, "delayed error reported to client", "ffdc_id", note.FFDC, "code", note.Code.String(),
		"group", note.Group, "token", note.Token)
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
	n.met.script(res.Result)
	n.scriptsQ.put(res)
}

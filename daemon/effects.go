package daemon

import (
	"errors"
	"fmt"
	"log/slog"

	"github.com/openhags/hags/daemon/ipc"
	"github.com/openhags/hags/daemon/protocol"
	"github.com/openhags/hags/internal/wire"
)

// What the log asks of this daemon: notifications for its clients and
// deactivate scripts for its providers. The run loop calls these, and
// they never block it: a notification is queued on its session's
// outbox, a script is handed to the ScriptRunner.

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
			continue
		}
		n.met.delivered(s.id.Conn, r.Token, &note)
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
	n.met.script(res.Result)
	n.scriptsQ.put(res)
}

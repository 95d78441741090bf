package daemon

import (
	"runtime/debug"
	"sync"
	"time"

	"github.com/openhags/hags/daemon/agreement"
	"github.com/openhags/hags/daemon/protocol"
	"github.com/openhags/hags/internal/wire"
)

// loopKind says what a loopMsg carries to the run loop.
type loopKind uint8

const (
	loopConnect    loopKind = iota + 1 // a client session began: register sess, feed EventConnect
	loopDisconnect                     // sess ended: forget it, feed EventDisconnect unless it quit or the daemon ended it
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

// handoff passes items to the run loop from goroutines that must never
// block on it (raft's FSM, a script runner): put appends and wakes the
// loop, which takes everything queued at once, in order. Safe for
// concurrent use.
type handoff[T any] struct {
	mu    sync.Mutex
	items []T
	wake  chan struct{} // holds at most one wake-up
}

func newHandoff[T any]() *handoff[T] { return &handoff[T]{wake: make(chan struct{}, 1)} }

// put queues vs and wakes the run loop once; it never blocks.
func (h *handoff[T]) put(vs ...T) {
	h.mu.Lock()
	h.items = append(h.items, vs...)
	h.mu.Unlock()
	select {
	case h.wake <- struct{}{}:
	default:
	}
}

// take returns everything queued since the last take.
func (h *handoff[T]) take() []T {
	h.mu.Lock()
	defer h.mu.Unlock()
	items := h.items
	h.items = nil
	return items
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
	// the daemon has done nothing for a whole IdleMemoryReturn after some
	// work, the memory goes back to the system (the resident set then
	// shows what the daemon keeps). Work is what this loop handles and
	// what the apply path delivers (n.activity).
	idle := time.NewTicker(n.idleAfter)
	defer idle.Stop()
	var seen uint64
	beat, stopBeat := n.heartbeat()
	defer stopBeat()
	busy := false
	for {
		select {
		case <-n.ctx.Done():
			return nil
		case <-beat:
			n.cfg.Heartbeat() // from the loop itself: a stuck loop beats no more
			continue
		case <-idle.C:
			if a := n.activity.Load(); a != seen {
				seen, busy = a, true
			} else if busy {
				busy = false
				n.onIdle()
			}
			continue
		case m := <-n.in:
			n.handle(m)
		case <-n.appliedQ.wake:
			apps := n.appliedQ.take()
			for i := range apps {
				n.applied(&apps[i])
			}
		case <-n.scriptsQ.wake:
			done := n.scriptsQ.take()
			for i := range done {
				n.order(protocol.Event{Kind: protocol.EventScriptDone, Script: &done[i]})
			}
		}
		n.activity.Add(1)
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
		n.sessMu.Lock()
		n.sessions[s.id.Conn] = s
		n.sessMu.Unlock()
		n.scripts.register(s)
		n.order(protocol.Event{Kind: protocol.EventConnect, Client: s.id, Cred: s.cred, Hello: &s.hello})
	case loopDisconnect:
		s := m.sess
		n.sessMu.Lock()
		delete(n.sessions, s.id.Conn)
		n.sessMu.Unlock()
		n.scripts.end(s.id.Conn)
		// A session that quit, that the daemon ended (out of the
		// domain), or that Close ended is not failed in the engine: the
		// domain fails the node's providers when it leaves.
		if !s.quit.Load() && !s.ended.Load() && !n.isClosed() {
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
		n.admission(true, app.Admitted)
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
	n.admission(false, 0)
	n.log.Warn("out of the domain: closing client sessions until admitted again", "reason", why, "sessions", len(n.sessions))
	for _, s := range n.sessions {
		n.endSession(s, wire.NotOK, errOutOfDomain.Error()+": "+why)
	}
	n.agr.Rejoin()
}

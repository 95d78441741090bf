package manager

import (
	"errors"
	"time"

	"github.com/openhags/hags/failover"
	"github.com/openhags/hags/failover/engine"
	"github.com/openhags/hags/gsapi"
)

// proposer sends this manager's messages on the log group, one protocol
// at a time: the core's (announcements, state transfers) first, then
// batches of the inputs this node has to report. Group Services refuses a
// proposal while another protocol runs in the group (COLLIDE); the
// proposer then sends it again once that protocol has ended.
type proposer struct {
	out      []outMsg       // queued messages, the head in flight when busy
	busy     bool           // the head was sent and has not ended
	retry    bool           // the head collided: send it when the group is idle
	inputs   []engine.Input // to batch
	requests []uint64       // request IDs in inputs (replies wanted)
}

type outMsg struct {
	m      *message
	nphase bool
}

// propose queues a core message (effects).
func (m *Manager) propose(msg *message, nphase bool) {
	m.prop.out = append(m.prop.out, outMsg{msg, nphase})
	m.pump()
}

// report queues an input of this node for the next batch.
func (m *Manager) report(in engine.Input) {
	if in.Time == 0 {
		in.Time = time.Now().UnixNano()
	}
	in.From = m.node
	m.prop.inputs = append(m.prop.inputs, in)
	m.pump()
}

// pump sends the next message when none is in flight.
func (m *Manager) pump() {
	if m.prop.busy || m.gs == nil || !m.c.member {
		return
	}
	if len(m.prop.out) == 0 && len(m.prop.inputs) > 0 && m.c.synced {
		m.batch()
	}
	if len(m.prop.out) == 0 {
		return
	}
	head := m.prop.out[0]
	req := gsapi.MessageRequest{NumPhases: gsapi.OnePhase, Message: mustEncode(head.m)}
	if head.nphase {
		req.NumPhases, req.TimeLimit = gsapi.NPhase, voteLimit
	}
	err := m.gs.SendMessage(m.logTok, req)
	switch {
	case err == nil:
		m.prop.busy, m.prop.retry = true, false
	case errors.Is(err, gsapi.ErrCollide):
		m.prop.retry = true // sent again when the running protocol ends
	default:
		m.log.Warn("cannot send on the log group", "err", err)
		m.prop.retry = true
	}
}

// batch turns the queued inputs into the chunks of one batch.
func (m *Manager) batch() {
	n, size := 0, 0
	for n < len(m.prop.inputs) && n < maxBatchInputs {
		size += inputSize(&m.prop.inputs[n])
		if n > 0 && size > maxBatchBytes {
			break
		}
		n++
	}
	data, err := encode(m.prop.inputs[:n])
	if err != nil {
		m.log.Error("cannot encode a batch; dropped", "err", err)
		m.prop.inputs = m.prop.inputs[n:]
		return
	}
	m.prop.inputs = m.prop.inputs[n:]
	m.seq++
	for _, c := range chunks(msgBatch, batchID{Node: m.node, Inc: m.inc, Seq: m.seq}, data) {
		m.prop.out = append(m.prop.out, outMsg{c, true})
	}
}

func inputSize(in *engine.Input) int {
	n := 64
	if r := in.Request; r != nil {
		n += len(r.Group) + len(r.Resource) + len(r.Node) + len(r.Expr) + len(r.Agent)
		for k, v := range r.Params {
			n += len(k) + len(v)
		}
		if r.Config != nil {
			b, _ := encode(r.Config)
			n += len(b)
		}
	}
	if r := in.Result; r != nil {
		n += len(r.Detail)
	}
	if f := in.Failure; f != nil {
		n += len(f.Detail)
	}
	return n
}

// ended is called for every approved or rejected protocol of the log
// group: ours ends (or goes again), and a collided proposal may go now.
func (m *Manager) ended(msg *message, approved bool) {
	if len(m.prop.out) > 0 && m.prop.busy && msg != nil && sameMessage(m.prop.out[0].m, msg) {
		m.prop.busy = false
		if approved {
			m.prop.out = m.prop.out[1:]
		} else {
			// Rejected (a member could not make it durable, or was
			// tardy): send it again shortly.
			m.prop.retry = true
			time.AfterFunc(jitter(50*time.Millisecond), func() { m.do(m.pump) })
			return
		}
	}
	if m.prop.retry {
		time.AfterFunc(jitter(time.Millisecond), func() { m.do(m.pump) })
		return
	}
	m.pump()
}

// delayedError handles an asynchronous refusal: a proposal that collided
// with a protocol the library did not know of.
func (m *Manager) delayedError(n *gsapi.Notification) {
	if n.Failing == nil || n.Failing.Group != LogGroup && n.Token != m.logTok {
		if n.Token == m.leaseTok {
			m.leaseRefused()
		}
		m.log.Debug("delayed error", "code", n.Code, "token", n.Token)
		return
	}
	if n.Token == m.leaseTok {
		m.leaseRefused()
		return
	}
	if m.prop.busy {
		m.prop.busy, m.prop.retry = false, true
		// A collision is retried when the running protocol ends; the
		// timer covers one that ended before the refusal arrived.
		delay := jitter(5 * time.Millisecond)
		if n.Code != gsapi.Collide {
			m.log.Warn("log group refused a proposal; sending it again", "code", n.Code)
			delay = jitter(50 * time.Millisecond)
		}
		time.AfterFunc(delay, func() { m.do(m.pump) })
	}
}

func sameMessage(a, b *message) bool {
	return a.Kind == b.Kind && a.ID == b.ID && a.Chunk == b.Chunk
}

func mustEncode(v any) []byte {
	b, err := encode(v)
	if err != nil {
		panic(err) // our own types always encode
	}
	return b
}

var _ = failover.CodeSuccess

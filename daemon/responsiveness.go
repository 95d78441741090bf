package daemon

import (
	"time"

	"github.com/openhags/hags/daemon/protocol"
	"github.com/openhags/hags/internal/wire"
)

// checkResponsiveness runs the responsiveness checks a client asked for in
// its Hello, until done is closed. Every interval it queues a
// ResponsivenessNotification with a new Seq; the client must answer with
// Respond{Seq} within the response time limit: with CallbackOK (ping method),
// or with a counter value different from the previous answer's (counter
// method). The daemon judges the answers here and orders only the verdict,
// and only when it changes, as an EventResponsiveness: the engine then
// announces the client's providers as unresponsive (or responsive again).
// A client that fails stays connected.
func (n *Node) checkResponsiveness(s *session, done <-chan struct{}) {
	cfg := s.hello.Responsiveness
	interval := time.Duration(max(cfg.Interval, 1)) * n.respUnit
	limit := interval
	if cfg.ResponseTimeLimit > 0 {
		limit = time.Duration(cfg.ResponseTimeLimit) * n.respUnit
	}
	var (
		seq        uint64
		responsive = true // as the engine assumes of a new client
		counter    uint64
		counted    bool
	)
	tick := time.NewTimer(interval)
	defer tick.Stop()
	for {
		select {
		case <-tick.C:
		case <-done:
			return
		}
		seq++
		sentAt := time.Now()
		note := wire.Notification{Type: wire.ResponsivenessNotification, Seq: seq, Responsiveness: &cfg}
		if frame, err := wire.AppendFrame(nil, wire.MsgNotification, &note); err == nil {
			_ = s.out.Put(frame) // a full queue is the run loop's to act on
		}
		ok := false
		expire := time.NewTimer(limit)
	wait:
		for {
			select {
			case r := <-s.responds:
				if r.Seq != seq {
					continue // a late answer to an earlier check
				}
				switch cfg.Type {
				case wire.CounterResponsiveness:
					ok = !counted || r.Counter != counter
					counter, counted = r.Counter, true
				default:
					ok = r.RC == wire.CallbackOK
				}
				break wait
			case <-expire.C:
				break wait
			case <-done:
				expire.Stop()
				return
			}
		}
		expire.Stop()
		if ok != responsive {
			responsive = ok
			s.log.Info("responsiveness changed", "responsive", ok, "seq", seq)
			if !n.send(loopMsg{kind: loopEvent, ev: protocol.Event{Kind: protocol.EventResponsiveness, Client: s.id, Responsive: ok}}) {
				return
			}
		}
		tick.Reset(max(interval-time.Since(sentAt), 0))
	}
}

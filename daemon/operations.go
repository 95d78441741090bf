package daemon

import (
	"errors"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Operations are what a Node offers the machinery that runs it as a
// service (hagsd under systemd, docs/operations.md). The zero value offers
// nothing.
type Operations struct {
	// Metrics is where the Node registers its Prometheus metrics
	// (docs/metrics.md); nil: none.
	Metrics prometheus.Registerer

	// Heartbeat, when set, is called by the run loop itself every
	// HeartbeatEvery while the loop turns, so a loop stuck in a handler
	// calls it no more: hagsd feeds systemd's watchdog with it. It must
	// return at once.
	Heartbeat      func()
	HeartbeatEvery time.Duration

	// OnAdmission is called by the run loop when the domain admits this
	// daemon (admitted true, with its epoch) and when the daemon goes out
	// of the domain (false). It must return at once and must not call the
	// Node; hagsd tells systemd it is ready at the first admission.
	OnAdmission func(admitted bool, epoch uint64)
}

// errHeartbeat refuses a Heartbeat without a period.
var errHeartbeat = errors.New("daemon: Heartbeat needs a positive HeartbeatEvery")

// startOperations checks the Operations and registers the metrics; it
// runs once, in newNode, before the agreement and the run loop start.
func (n *Node) startOperations() error {
	if n.cfg.Heartbeat != nil && n.cfg.HeartbeatEvery <= 0 {
		return errHeartbeat
	}
	if n.cfg.Metrics != nil {
		met, err := newNodeMetrics(n, n.cfg.Metrics)
		if err != nil {
			return fmt.Errorf("daemon: metrics: %w", err)
		}
		n.met = met
	}
	return nil
}

// heartbeat returns the run loop's heartbeat ticks (nil: no heartbeat)
// and what stops them.
func (n *Node) heartbeat() (<-chan time.Time, func()) {
	if n.cfg.Heartbeat == nil {
		return nil, func() {}
	}
	t := time.NewTicker(n.cfg.HeartbeatEvery)
	return t.C, t.Stop
}

// admission tells OnAdmission (run loop).
func (n *Node) admission(admitted bool, epoch uint64) {
	if n.cfg.OnAdmission != nil {
		n.cfg.OnAdmission(admitted, epoch)
	}
}

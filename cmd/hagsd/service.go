package main

import (
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	sd "github.com/coreos/go-systemd/v22/daemon"

	"github.com/openhags/hags/daemon"
)

// service tells a service manager (systemd, through sd_notify) how hagsd
// stands: READY=1 once the domain has admitted it and its socket is
// served, STATUS= as its standing changes, WATCHDOG=1 from the run loop
// when systemd asks for a watchdog, STOPPING=1 on the way out
// (docs/operations.md). Outside systemd every notification is a no-op.
//
// admitted is called by the Node's run loop, listening and stopping by
// main; mu orders them.
type service struct {
	log    *slog.Logger
	domain string
	node   int

	mu        sync.Mutex
	admitted  bool
	epoch     uint64
	listening bool
	ready     bool // READY=1 was sent
}

// operations returns the Node's side of the service: word of admission,
// and the heartbeat that feeds systemd's watchdog when it asked for one
// (WATCHDOG_USEC), twice per period as sd_watchdog_enabled(3) advises.
func (s *service) operations() (daemon.Operations, error) {
	ops := daemon.Operations{OnAdmission: s.admission}
	period, err := sd.SdWatchdogEnabled(false)
	if err != nil {
		return ops, fmt.Errorf("systemd watchdog: %w", err)
	}
	if period > 0 {
		ops.Heartbeat = func() { s.notify(sd.SdNotifyWatchdog) }
		ops.HeartbeatEvery = max(period/2, time.Millisecond)
		s.log.Info("feeding systemd's watchdog from the run loop", "period", period, "every", ops.HeartbeatEvery)
	}
	return ops, nil
}

// admission is the Node's OnAdmission (run loop).
func (s *service) admission(admitted bool, epoch uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.admitted, s.epoch = admitted, epoch
	s.update()
}

// serving says the socket is served.
func (s *service) serving() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.listening = true
	s.update()
}

// update sends READY=1 the first time hagsd is both admitted and serving,
// and the status every time (mu held).
func (s *service) update() {
	var status string
	switch {
	case s.admitted && s.listening:
		status = fmt.Sprintf("STATUS=admitted to domain %s as node %d (epoch %d); serving", s.domain, s.node, s.epoch)
	case s.admitted:
		status = fmt.Sprintf("STATUS=admitted to domain %s as node %d; opening the socket", s.domain, s.node)
	case s.ready:
		status = fmt.Sprintf("STATUS=out of domain %s: waiting to be admitted again; clients are refused", s.domain)
	default:
		status = fmt.Sprintf("STATUS=waiting for domain %s to admit node %d (a majority of the voters must be up)", s.domain, s.node)
	}
	if s.admitted && s.listening && !s.ready {
		s.ready = true
		s.notify(sd.SdNotifyReady, status)
		return
	}
	s.notify(status)
}

// stopping says hagsd is shutting down.
func (s *service) stopping() { s.notify(sd.SdNotifyStopping, "STATUS=stopping") }

// notify sends the states in one datagram.
func (s *service) notify(states ...string) {
	if _, err := sd.SdNotify(false, strings.Join(states, "\n")); err != nil {
		s.log.Warn("cannot notify systemd", "err", err)
	}
}

// Package domain decides who belongs to a domain of several nodes. Its
// Keeper owns the evidence — the failure detector (daemon/membership) and
// raft's reports of the peers its heartbeats fail to reach — and every
// decision taken on it: admissions, node deaths, raft's configuration, and
// this daemon's own standing.
//
// What the leader does about membership, all of it here:
//
//   - admits a node only while raft's heartbeats reach it (Admissible, which
//     the agreement asks before it appends a forwarded admission);
//   - declares down a node the log has up, only with raft's own evidence
//     that it cannot reach it (declareDead, isDown);
//   - keeps raft's configuration in step with the domain: every live daemon
//     a follower, a voter gone for ReplaceAfter replaced by a healthy
//     follower (arrangeVoters).
//
// The leader's other duties are the log's, in daemon/agreement: it stamps
// and appends every entry, and appends a tick when the engine's next
// deadline passes.
//
// What every daemon does: it finds itself cut off from the majority
// (cutOff) and tells its node, which ends its clients' sessions and asks
// to be admitted again.
//
// The Keeper asks two things of its node, through Config: whether it
// serves its clients now (Serving), and to take itself out of service
// (CutOff). The agreement (daemon/agreement) is the log the decisions are
// written to. docs/design/domain.md gives the rules and their reasons.
package domain

import (
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/raft"
	"golang.org/x/sync/errgroup"

	"github.com/openhags/hags/daemon/agreement"
	"github.com/openhags/hags/daemon/membership"
)

// Bounds of the Keeper; docs/design/domain.md explains them.
const (
	// DefaultReplaceAfter is how long a voter must have been gone before
	// the leader puts a healthy follower in its place.
	DefaultReplaceAfter = 10 * time.Second
	// checkEvery is how often the Keeper looks at the failure detector
	// and raft when nothing woke it.
	checkEvery = 100 * time.Millisecond
	// unknownGrace is how long a new leader waits before it declares down
	// a node that the log has up but the failure detector has never
	// heard of (it died while this daemon was not listening).
	unknownGrace = 3 * time.Second
	// leaveTimeout bounds telling the others, when this daemon stops,
	// that it is leaving; handoffTimeout bounds handing leadership over
	// first.
	leaveTimeout   = 500 * time.Millisecond
	handoffTimeout = time.Second
	// cutoffAloneFactor: a daemon that has heard from no leader for this
	// many raft heartbeat timeouts is cut off even if the failure
	// detector still sees a quorum of voters (asymmetric failures); and
	// the leader declares down a node raft has failed to reach for as
	// long, whatever the detector says.
	cutoffAloneFactor = 6
)

// Config configures a Keeper.
type Config struct {
	// Detector configures the failure detector (its Node is this
	// daemon's node number); Start fills in Inc (the agreement's
	// incarnation) and OnChange.
	Detector membership.Config
	// ReplaceAfter is how long a voter must have been gone (dead or left,
	// and down in the log) before the leader promotes a healthy follower
	// in its place; zero: DefaultReplaceAfter.
	ReplaceAfter time.Duration
	// Logger; nil: discard.
	Logger *slog.Logger
	// Serving reports whether the node serves its clients now (admitted,
	// and not cut off or declared down since): only then can it be cut
	// off. Called from the Keeper's goroutine.
	Serving func() bool
	// CutOff tells the node it is cut off from the domain's majority: it
	// ends its sessions and asks to be admitted again. Called from the
	// Keeper's goroutine, repeatedly while the node stays cut off and
	// serving; it may wait until the node takes it.
	CutOff func()
}

// Keeper is this daemon's say in who belongs to its domain (package doc).
// New makes it; Start, once the agreement runs, starts the failure
// detector and the Keeper's two goroutines — one keeps raft's reports of
// unreachable peers (watchPeers), the other acts (watch); Close stops them.
// Its methods are safe for concurrent use.
type Keeper struct {
	cfg Config
	log *slog.Logger

	// Set by Start before ready; read-only after.
	agr   *agreement.Agreement
	mem   *membership.Membership
	obs   *raft.Observer
	ready atomic.Bool

	wake     chan struct{} // the detector or raft has news
	observed chan raft.Observation
	peers    peerBook

	done      chan struct{} // closed by Close
	g         errgroup.Group
	closeOnce sync.Once
}

// New returns a Keeper that is not started: until Start it admits only
// this daemon itself.
func New(cfg Config) *Keeper {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.ReplaceAfter <= 0 {
		cfg.ReplaceAfter = DefaultReplaceAfter
	}
	return &Keeper{
		cfg:      cfg,
		log:      cfg.Logger,
		wake:     make(chan struct{}, 1),
		observed: make(chan raft.Observation, 64),
		peers:    peerBook{unreachable: make(map[int32]failure), started: make(map[int32]time.Time)},
		done:     make(chan struct{}),
	}
}

// Start watches raft's reports of agr's peers, starts the failure
// detector, and then the Keeper's decisions. It is called once.
func (k *Keeper) Start(agr *agreement.Agreement) error {
	k.agr = agr
	k.peers.stale, k.peers.slack = staleAfter(agr.Timing()), agr.Timing().Heartbeat
	k.obs = raft.NewObserver(k.observed, false, func(o *raft.Observation) bool {
		switch o.Data.(type) {
		case raft.FailedHeartbeatObservation, raft.ResumedHeartbeatObservation, raft.LeaderObservation,
			raft.PeerObservation, raft.RaftState:
			return true
		}
		return false
	})
	agr.Raft().RegisterObserver(k.obs)
	k.g.Go(k.watchPeers)
	dc := k.cfg.Detector
	dc.Inc = agr.Incarnation()
	dc.OnChange = func(membership.Member) { k.poke() }
	m, err := membership.New(dc)
	if err != nil {
		k.Close()
		return err
	}
	k.mem = m
	k.ready.Store(true)
	k.g.Go(k.watch)
	return nil
}

// poke wakes the watch: the detector or raft has news.
func (k *Keeper) poke() {
	select {
	case k.wake <- struct{}{}:
	default:
	}
}

// Members returns the failure detector's record of every node it has
// heard of (none before Start).
func (k *Keeper) Members() []membership.Member {
	if !k.ready.Load() {
		return nil
	}
	return k.mem.Members()
}

// Leave, when this daemon stops, hands leadership to another voter (so
// that the domain need not wait for an election) and tells the others this
// daemon is leaving, so that they fail its providers at once.
func (k *Keeper) Leave() {
	if !k.ready.Load() {
		return
	}
	if k.agr.IsLeader() {
		if err := k.agr.Handoff(handoffTimeout); err != nil {
			k.log.Info("leadership not handed over before stopping", "err", err)
		}
	}
	if err := k.mem.Leave(leaveTimeout); err != nil {
		k.log.Info("could not announce leaving", "err", err)
	}
}

// Close stops the Keeper's goroutines and the failure detector, and
// returns once they have exited. The agreement stays up: its owner closes
// it after. Close is idempotent.
func (k *Keeper) Close() error {
	var err error
	k.closeOnce.Do(func() {
		close(k.done)
		err = k.g.Wait()
		if k.obs != nil {
			k.agr.Raft().DeregisterObserver(k.obs)
		}
		if k.mem != nil {
			if cerr := k.mem.Close(); cerr != nil && err == nil {
				err = cerr
			}
		}
	})
	return err
}

// watch acts on the failure detector and raft, when either has news and
// every checkEvery: on every daemon it judges whether this one is cut off;
// on the leader it declares dead nodes down and arranges the voters.
func (k *Keeper) watch() error {
	t := time.NewTicker(checkEvery)
	defer t.Stop()
	var leaderSince, fewSince time.Time
	lastContact := time.Now()
	quiet := k.agr.Timing().Heartbeat
	for {
		select {
		case <-k.done:
			return nil
		case <-t.C:
		case <-k.wake:
		}
		now := time.Now()
		if k.agr.InContact(quiet) {
			lastContact, fewSince = now, time.Time{}
		} else if k.cfg.Serving() {
			var few time.Duration
			if !k.fewVoters() {
				fewSince = time.Time{}
			} else if fewSince.IsZero() {
				fewSince = now
			} else {
				few = now.Sub(fewSince)
			}
			if cutOff(now.Sub(lastContact), few, quiet) {
				k.cfg.CutOff()
			}
		}
		if !k.agr.IsLeader() {
			leaderSince = time.Time{}
			continue
		}
		if leaderSince.IsZero() {
			leaderSince = now
		}
		k.declareDead(now.Sub(leaderSince) > unknownGrace)
		k.arrangeVoters()
	}
}

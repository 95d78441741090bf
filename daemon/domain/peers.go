package domain

import (
	"sync"
	"time"

	"github.com/hashicorp/raft"

	"github.com/openhags/hags/daemon/agreement"
)

// peerBook is raft's evidence, on the leader, of the peers it cannot
// reach: those whose heartbeats fail, and since when. Safe for concurrent
// use.
//
// A failure counts only while raft keeps reporting it: a heartbeat that
// fails is tried again, and reported again, within a bounded time (stale),
// so a failure not heard of for longer is forgotten. That covers the
// reports that never get their "resumed": one from the heartbeat of a
// replication that raft has already replaced (it can arrive after the
// new replication started, and the new one reports only failures of its
// own), and a "resumed" dropped on a full observation channel.
//
// A report can also be told stale by its last contact: a replication
// starts with a fresh one, so a failure whose last contact is older than
// the start of the node's current replication (less slack, for the report
// to reach the book) is the old replication's, and does not count. The
// old replication's heartbeat stops within stale of its replacement, so
// the rule holds only that long: were the book's goroutine starved past
// the slack when a replication started, that replication's failures
// would be ignored for at most stale, not for good.
type peerBook struct {
	mu          sync.Mutex
	unreachable map[int32]failure
	started     map[int32]time.Time // when the node's current replication started
	stale       time.Duration
	slack       time.Duration
}

// failure is one peer's run of failed heartbeats: the first and the last
// report of it.
type failure struct{ since, last time.Time }

// failing reports whether raft's heartbeats to node fail now, and since
// when.
func (b *peerBook) failing(node int32, now time.Time) (time.Time, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	f, ok := b.unreachable[node]
	if !ok || now.Sub(f.last) > b.stale {
		return time.Time{}, false
	}
	return f.since, true
}

// note updates the book from one of raft's observations.
func (b *peerBook) note(o raft.Observation, now time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch d := o.Data.(type) {
	case raft.FailedHeartbeatObservation:
		if node, ok := agreement.NodeOf(d.PeerID); ok {
			if start, ok := b.started[node]; ok && now.Sub(start) <= b.stale && d.LastContact.Before(start.Add(-b.slack)) {
				return // the replication raft replaced reports its last failure
			}
			f, known := b.unreachable[node]
			if !known || now.Sub(f.last) > b.stale {
				f.since = now // a new run of failures
			}
			f.last = now
			b.unreachable[node] = f
		}
	case raft.ResumedHeartbeatObservation:
		if node, ok := agreement.NodeOf(d.PeerID); ok {
			delete(b.unreachable, node)
		}
	case raft.LeaderObservation:
		clear(b.unreachable)
	case raft.PeerObservation:
		// Replication to the peer starts or stops afresh; a failure of
		// the old replication says nothing of the new one, which reports
		// only failures of its own.
		if node, ok := agreement.NodeOf(d.Peer.ID); ok {
			delete(b.unreachable, node)
			if d.Removed {
				delete(b.started, node)
			} else {
				b.started[node] = now
			}
		}
	}
}

// staleAfter is how long a heartbeat failure counts without being reported
// again. Raft reports a failing heartbeat once per attempt: a dial and an
// exchange, each bounded by io, then a pause of at most half the heartbeat
// timeout. Twice that, so that one late report is not taken for the end
// of the run.
func staleAfter(t agreement.Timing) time.Duration { return 2 * (2*t.IO + t.Heartbeat) }

// watchPeers keeps the book from raft's observations, and wakes the watch
// after each: a peer found unreachable or reachable again, a change of
// leader or of this daemon's raft state.
func (k *Keeper) watchPeers() error {
	for {
		select {
		case <-k.done:
			return nil
		case o := <-k.observed:
			k.peers.note(o, time.Now())
			k.poke()
		}
	}
}

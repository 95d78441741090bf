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
type peerBook struct {
	mu          sync.Mutex
	unreachable map[int32]time.Time
}

// failing reports whether raft's heartbeats to node fail, and since when.
func (b *peerBook) failing(node int32) (time.Time, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	since, ok := b.unreachable[node]
	return since, ok
}

// note updates the book from one of raft's observations.
func (b *peerBook) note(o raft.Observation, now time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch d := o.Data.(type) {
	case raft.FailedHeartbeatObservation:
		if node, ok := agreement.NodeOf(d.PeerID); ok {
			if _, known := b.unreachable[node]; !known {
				b.unreachable[node] = now
			}
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
		}
	}
}

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

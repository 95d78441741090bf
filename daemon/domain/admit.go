package domain

import (
	"slices"
	"time"

	"github.com/openhags/hags/daemon/agreement"
)

// Admissible is the agreement's AdmitCheck: the leader admits a node only
// while raft's heartbeats reach it, so that a node just declared down (it
// could not be reached) is not admitted again before it is heard from,
// and is not declared down again a moment later while raft's heartbeats
// still back off after a partition. For a node raft replicates to, that
// is the whole check: raft's connections are authenticated per node, while
// anybody holding the gossip key can make the failure detector say a node
// is dead or runs another incarnation, which must not keep the real node
// out. A node raft does not replicate to yet (a new follower) has no
// heartbeats to judge by; it is admitted while the failure detector sees
// that incarnation alive. Before Start only this daemon is admissible.
func (k *Keeper) Admissible(node int32, inc uint64) bool {
	if node == k.cfg.Detector.Node {
		return true
	}
	if !k.ready.Load() {
		return false
	}
	_, failing := k.peers.failing(node, time.Now())
	inConfig := false
	if members, err := k.agr.Members(); err == nil {
		inConfig = slices.ContainsFunc(members, func(m agreement.Member) bool { return m.Node == node })
	}
	return admissible(failing, inConfig, k.mem.Alive(node, inc))
}

// admissible is Admissible's rule: raft's heartbeats to the node do not
// fail, and it is in raft's configuration or the failure detector sees the
// incarnation asking alive.
func admissible(failing, inConfig, detectorAlive bool) bool {
	return !failing && (inConfig || detectorAlive)
}

package domain

import (
	"time"

	"github.com/openhags/hags/daemon/agreement"
	"github.com/openhags/hags/daemon/membership"
)

// declareDead, on the leader, appends the death of every node that the log
// has up but that is gone. Every rule needs raft's own evidence that this
// leader cannot reach the node (its heartbeats fail, or it is not in
// raft's configuration): the failure detector's word alone never
// suffices, because anybody holding the gossip key can forge it, and a
// node back from a partition spreads old news of others' deaths, which
// they refute a moment later. A node the detector saw die or leave, in
// the incarnation the log admitted or a later one, is down as soon as raft
// cannot reach it either; a node the leader has not reached for a long time
// is down whatever the detector says; a node the detector never heard of
// is down (with unknownDead) once the leader cannot reach it. A newer
// incarnation that the detector sees alive counts for nothing until raft
// admits it: its admission fails the older one's providers.
func (k *Keeper) declareDead(unknownDead bool) {
	byNode := map[int32]membership.Member{}
	for _, mem := range k.mem.Members() {
		byNode[mem.Node] = mem
	}
	inConfig := map[int32]bool{}
	if members, err := k.agr.Members(); err == nil {
		for _, mem := range members {
			inConfig[mem.Node] = true
		}
	}
	long := cutoffAloneFactor * k.agr.Timing().Heartbeat
	now := time.Now()
	for _, st := range k.agr.Nodes() {
		if !st.Up || st.Node == k.cfg.Detector.Node {
			continue
		}
		mem, known := byNode[st.Node]
		since, failing := k.peers.failing(st.Node, now)
		v := reach{failing: failing, failingFor: now.Sub(since), inConfig: inConfig[st.Node]}
		if isDown(st, mem, known, v, long, unknownDead) {
			k.appendDown(st.Node, st.Inc)
		}
	}
}

// appendDown appends that node, in incarnation inc, is down (an
// EntryNodeDown, which fails its providers in every group with NODE_DIED)
// if the log still has that incarnation up, and waits until it is applied.
func (k *Keeper) appendDown(node int32, inc uint64) {
	st, ok := k.agr.NodeState(node)
	if !ok || !st.Up || st.Inc != inc {
		return
	}
	res, err := k.agr.AppendNodeDown(st)
	if err != nil {
		k.log.Warn("node death not appended", "dead_node", node, "err", err)
		return
	}
	k.log.Info("node declared down", "dead_node", node, "inc", st.Inc, "result", res.Status)
}

// reach is what raft says of one node, on the leader.
type reach struct {
	failing    bool          // its heartbeats fail
	failingFor time.Duration // since when (if failing)
	inConfig   bool          // raft replicates to it
}

// isDown is declareDead's rule for one node the log has up: st is what the
// log says of it, mem the failure detector's record (if known), r raft's
// view; long is how long raft may fail to reach a node before it is down
// whatever the detector says.
func isDown(st agreement.NodeState, mem membership.Member, known bool, r reach, long time.Duration, unknownDead bool) bool {
	unreachable := r.failing || !r.inConfig
	switch {
	case r.failing && r.failingFor >= long:
		return true
	case !unreachable:
		return false
	case known:
		return mem.Inc >= st.Inc && mem.Health.Gone()
	default:
		return unknownDead
	}
}

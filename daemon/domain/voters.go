package domain

import (
	"time"

	"github.com/openhags/hags/daemon/agreement"
	"github.com/openhags/hags/daemon/membership"
)

// arrangeVoters, on the leader, keeps raft's configuration in step with the
// domain: every daemon the failure detector sees alive replicates the log
// (a follower is added as a non-voter); a voter that has been gone for
// Config.ReplaceAfter is replaced by a healthy follower that the log has
// admitted, so that the domain keeps its number of voters; and a follower
// that has been gone as long is removed. One change at a time, each
// waited for.
func (k *Keeper) arrangeVoters() {
	members, err := k.agr.Members()
	if err != nil {
		return
	}
	byNode := map[int32]membership.Member{}
	for _, mem := range k.mem.Members() {
		byNode[mem.Node] = mem
	}
	inConfig := map[int32]agreement.Member{}
	for _, c := range members {
		inConfig[c.Node] = c
	}
	// Every live daemon replicates the log.
	for _, mem := range byNode {
		if _, ok := inConfig[mem.Node]; !ok && mem.Health == membership.HealthAlive && mem.RaftAddr != "" {
			k.configChange("follower added", mem.Node, k.agr.AddFollower(mem.Node, mem.RaftAddr))
			return
		}
	}
	gone := func(node int32) bool {
		if node == k.cfg.Detector.Node {
			return false
		}
		mem, ok := byNode[node]
		st, admitted := k.agr.NodeState(node)
		// A voter never heard of (not started yet) is waited for.
		return ok && mem.Health.Gone() && time.Since(mem.Since) >= k.cfg.ReplaceAfter && (!admitted || !st.Up)
	}
	for _, c := range members {
		if !gone(c.Node) {
			continue
		}
		if !c.Voter {
			k.configChange("gone follower removed", c.Node, k.agr.RemoveServer(c.Node))
			return
		}
		// The healthiest replacement: a follower alive and admitted.
		for _, f := range members {
			mem := byNode[f.Node]
			st, _ := k.agr.NodeState(f.Node)
			if f.Voter || mem.Health != membership.HealthAlive || !st.Up {
				continue
			}
			if err := k.agr.AddVoter(f.Node, f.Addr); err != nil {
				k.configChange("follower promoted", f.Node, err)
				return
			}
			k.log.Info("follower promoted to voter in place of a gone voter", "promoted", f.Node, "gone", c.Node)
			k.configChange("gone voter removed", c.Node, k.agr.RemoveServer(c.Node))
			return
		}
	}
}

// configChange logs the outcome of a change to raft's configuration.
func (k *Keeper) configChange(what string, node int32, err error) {
	if err != nil {
		k.log.Warn("raft configuration not changed", "change", what, "member", node, "err", err)
		return
	}
	k.log.Info("raft configuration changed", "change", what, "member", node)
}

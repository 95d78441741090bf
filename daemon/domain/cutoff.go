package domain

import "time"

// cutOff decides whether a daemon that has heard from no leader for
// silent is cut off from the majority: the failure detector has seen fewer
// than a quorum of the voters alive for few, at least quiet (a leader's
// death alone leaves the quorum, and an election follows), or the silence
// has lasted far longer than any election. The detector's view must hold
// for a while: a node back from a partition spreads old news of others'
// deaths, which they refute a moment later, and a daemon of the majority
// that took that news at its word during an election ended its clients'
// sessions for nothing.
func cutOff(silent, few, quiet time.Duration) bool {
	if silent < quiet {
		return false
	}
	return silent >= cutoffAloneFactor*quiet || few >= quiet
}

// fewVoters reports whether the failure detector sees fewer than a quorum
// of raft's voters alive (this daemon counts as alive).
func (k *Keeper) fewVoters() bool {
	members, err := k.agr.Members()
	if err != nil {
		return false
	}
	var voters []int32
	for _, m := range members {
		if m.Voter {
			voters = append(voters, m.Node)
		}
	}
	return len(voters) > 0 && k.mem.CountAlive(voters) < len(voters)/2+1
}

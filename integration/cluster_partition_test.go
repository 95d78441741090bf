package integration

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// tryClient runs a gsclient on node i that only initialises and quits, and
// returns what it printed.
func (m *multi) tryClient(i int) string {
	cmd := exec.Command(filepath.Join(bin, "gsclient"))
	cmd.Env = append(cmd.Environ(), "HA_GS_SOCKET="+m.sockets[i])
	cmd.Stdin = strings.NewReader("quit\n")
	out, _ := cmd.CombinedOutput()
	return string(out)
}

// TestClusterPartitionMinorityStopsServing cuts one node off the network
// (its link goes down), first a follower, then the leader. Each time the
// node cut off ends its clients' sessions (HA_GS_NOT_OK) and refuses new
// ones, the majority fails its provider (NODE_DIED) and goes on agreeing;
// when the link comes back the node is admitted again and a new client on
// it joins. The providers that stayed see one history throughout.
func TestClusterPartitionMinorityStopsServing(t *testing.T) {
	m, nn := startNetnsMulti(t, 3)
	joinAll(t, m, "g", "p1", "p2", "p3")
	current := map[int]string{0: "p1", 1: "p2", 2: "p3"}

	leader := m.leader()
	follower := (leader + 1) % 3
	for round, victim := range []int{follower, leader} {
		var majority []string
		for i := range 3 {
			if i != victim {
				majority = append(majority, current[i])
			}
		}
		cutOff := m.clients[current[victim]]
		logMark := len(m.daemons[victim].Log.All())
		lines := act(t, func() { nn.cut(victim) },
			fmt.Sprintf(`^APPROVED .*proto=FAILURE_LEAVE .*changing=1@%d .*leave=NODE_DIED`, victim+1), m.all(majority...)...)
		for _, l := range lines {
			assert.NotContains(t, l, fmt.Sprintf("1@%d,", victim+1), "the group no longer lists the node cut off")
		}
		expect(t, cutOff, `^lost HA_GS_NOT_OK`, 0)
		assert.Contains(t, m.tryClient(victim), "error init HA_GS_NOT_OK", "a node cut off refuses new clients")

		v := fmt.Sprintf("during-%d", round)
		act(t, func() { require.NoError(t, m.clients[majority[0]].Send("state 1 %s", v)) },
			fmt.Sprintf(`^APPROVED .*proto=STATE_VALUE_CHANGE .*state="%s"`, v), m.all(majority...)...)

		nn.heal(victim)
		m.waitAdmitted(victim, logMark)
		back := fmt.Sprintf("back%d", round)
		cl := m.client(back, victim)
		current[victim] = back
		act(t, func() { require.NoError(t, cl.Send("join g 1")) },
			fmt.Sprintf(`^APPROVED .*proto=JOIN .*changing=1@%d`, victim+1), m.all(append(majority, back)...)...)
	}

	// The provider on the remaining node never left: its history is the
	// reference; the others' match it from their own joins on.
	stayed := current[3-leader-follower]
	ref := approved(m.clients[stayed])
	var others []string
	for _, n := range current {
		if n != stayed {
			others = append(others, n)
		}
	}
	requireSameHistory(t, ref, m.all(others...)...)
}

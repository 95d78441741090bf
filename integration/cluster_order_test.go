package integration

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestClusterProvidersSeeIdenticalSequence: three daemons, a provider on
// each, one group. State changes and messages are proposed from every node
// in turn; every provider sees the identical sequence of approved changes,
// and a provider killed on one node is a failure leave on the others.
func TestClusterProvidersSeeIdenticalSequence(t *testing.T) {
	m := startMulti(t, 3)
	names := []string{"p1", "p2", "p3"}
	var joined []string
	for i, n := range names {
		cl := m.client(n, i)
		joined = append(joined, n)
		act(t, func() { require.NoError(t, cl.Send("join g 1")) },
			fmt.Sprintf(`^APPROVED .*proto=JOIN .*changing=1@%d`, i+1), m.all(joined...)...)
	}
	all := m.all(names...)
	for round := range 3 {
		for _, n := range names {
			v := fmt.Sprintf("v%d-%s", round, n)
			act(t, func() { require.NoError(t, m.clients[n].Send("state 1 %s", v)) },
				fmt.Sprintf(`^APPROVED .*proto=STATE_VALUE_CHANGE .*state="%s"`, v), all...)
			msg := fmt.Sprintf("m%d-%s", round, n)
			act(t, func() { require.NoError(t, m.clients[n].Send("msg 1 %s", msg)) },
				fmt.Sprintf(`^APPROVED .*proto=PROVIDER_MESSAGE .*msg="%s"`, msg), all...)
		}
	}
	act(t, func() { m.clients["p2"].Kill() },
		`^APPROVED .*proto=FAILURE_LEAVE .*changing=1@2 .*leave=PROCESS_DIED`, m.all("p1", "p3")...)
	act(t, func() { require.NoError(t, m.clients["p3"].Send("state 1 after-kill")) },
		`^APPROVED .*proto=STATE_VALUE_CHANGE .*state="after-kill"`, m.all("p1", "p3")...)

	ref := approved(m.clients["p1"])
	require.Len(t, ref, 3+18+2, "p1 saw 3 joins, 18 changes, a failure leave and a state change")
	requireSameHistory(t, ref, m.all("p2", "p3")...)
}

// TestClusterConcurrentProposalsOneOrder: providers on three nodes propose
// at the same moment, without waiting for each other; every provider sees
// all the approvals, in the same order.
func TestClusterConcurrentProposalsOneOrder(t *testing.T) {
	m := startMulti(t, 3)
	names := []string{"a", "b", "c"}
	var joined []string
	for i, n := range names {
		cl := m.client(n, i)
		joined = append(joined, n)
		act(t, func() { require.NoError(t, cl.Send("join h 1")) },
			fmt.Sprintf(`^APPROVED .*proto=JOIN .*changing=1@%d`, i+1), m.all(joined...)...)
	}
	all := m.all(names...)
	for round := range 5 {
		marks := make([]int, len(all))
		for i, cl := range all {
			marks[i] = cl.Mark()
		}
		for _, n := range names {
			require.NoError(t, m.clients[n].Send("msg 1 r%d-%s", round, n))
		}
		for i, cl := range all {
			for _, n := range names {
				expect(t, cl, fmt.Sprintf(`^APPROVED .*proto=PROVIDER_MESSAGE .*msg="r%d-%s"`, round, n), marks[i])
			}
		}
	}
	ref := approved(m.clients["a"])
	require.Len(t, ref, 3+15, "a saw 3 joins and 15 messages")
	requireSameHistory(t, ref, m.all("b", "c")...)
}

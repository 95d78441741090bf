package integration

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhags/hags/internal/harness"
)

// TestProvidersSeeIdenticalSequence: four provider processes join one group,
// change its state, send messages, and one is SIGKILLed. Every provider's
// history of approved changes must be a contiguous run of the first
// provider's history: the same changes in the same order from the moment it
// joined.
func TestProvidersSeeIdenticalSequence(t *testing.T) {
	c := startCluster(t)
	names := []string{"p1", "p2", "p3", "p4"}
	var joined []string
	for i, n := range names {
		cl := c.client(n)
		others := []string{}
		others = append(others, joined...)
		joined = append(joined, n)
		act(t, func() { require.NoError(t, cl.Send("join g %d", i+1)) },
			fmt.Sprintf(`^APPROVED .*proto=JOIN .*changing=%d@1`, i+1), c.all(append(others, n)...)...)
	}
	all := c.all(names...)
	for round := 0; round < 3; round++ {
		for i, n := range names {
			v := fmt.Sprintf("v%d-%d", round, i)
			act(t, func() { require.NoError(t, c.clients[n].Send("state 1 %s", v)) },
				fmt.Sprintf(`^APPROVED .*proto=STATE_VALUE_CHANGE .*state="%s"`, v), all...)
			m := fmt.Sprintf("m%d-%d", round, i)
			act(t, func() { require.NoError(t, c.clients[n].Send("msg 1 %s", m)) },
				fmt.Sprintf(`^APPROVED .*proto=PROVIDER_MESSAGE .*msg="%s"`, m), all...)
		}
	}
	act(t, func() { c.clients["p3"].Kill() },
		`^APPROVED .*proto=FAILURE_LEAVE .*changing=3@1 .*leave=PROCESS_DIED`, c.all("p1", "p2", "p4")...)
	act(t, func() { require.NoError(t, c.clients["p2"].Send("state 1 after-kill")) },
		`^APPROVED .*proto=STATE_VALUE_CHANGE .*state="after-kill"`, c.all("p1", "p2", "p4")...)

	ref := approved(c.clients["p1"])
	require.Len(t, ref, 4+24+2, "p1 saw 4 joins, 24 changes, a failure leave and a state change")
	for _, n := range names[1:] {
		h := approved(c.clients[n])
		require.NotEmpty(t, h, "%s saw approvals", n)
		start := indexOf(ref, h[0])
		require.GreaterOrEqual(t, start, 0, "%s's first approval %q appears in p1's history", n, h[0])
		assert.Equal(t, ref[start:start+len(h)], h, "%s saw exactly p1's sequence from its own join on", n)
	}
	// p3 died after the 24 changes: its history ends with the last message.
	assert.Contains(t, approved(c.clients["p3"])[len(approved(c.clients["p3"]))-1], `msg="m2-3"`)
}

func indexOf(list []string, s string) int {
	for i, l := range list {
		if l == s {
			return i
		}
	}
	return -1
}

func (c *cluster) all(names ...string) []*harness.Client {
	out := make([]*harness.Client, len(names))
	for i, n := range names {
		out[i] = c.clients[n]
	}
	return out
}

// TestSIGKILLBecomesFailureLeave: a provider process killed with SIGKILL is
// removed from its group at once; the survivors see a failure leave naming
// it, with reason PROCESS_DIED, and hagsctl no longer lists it.
func TestSIGKILLBecomesFailureLeave(t *testing.T) {
	c := startCluster(t)
	a, b, v := c.client("a"), c.client("b"), c.client("victim")
	act(t, func() { require.NoError(t, a.Send("join svc 1")) }, `^APPROVED .*proto=JOIN`, a)
	act(t, func() { require.NoError(t, b.Send("join svc 2")) }, `^APPROVED .*proto=JOIN .*changing=2@1`, a, b)
	act(t, func() { require.NoError(t, v.Send("join svc 3")) }, `^APPROVED .*proto=JOIN .*changing=3@1`, a, b, v)

	pid := v.Pid()
	lines := act(t, v.Kill, `^APPROVED .*proto=FAILURE_LEAVE`, a, b)
	for _, l := range lines {
		assert.Contains(t, l, "members=1@1,2@1 ", "after the failure the group holds a and b")
		assert.Contains(t, l, "changing=3@1 ", "the failure leave names the killed provider")
		assert.Contains(t, l, "leave=PROCESS_DIED", "a killed process is reported as PROCESS_DIED")
	}
	out, err := exec.Command(filepath.Join(bin, "hagsctl"), "--socket", c.socket, "group", "svc").CombinedOutput()
	require.NoError(t, err, "hagsctl group svc: %s", out)
	assert.NotContains(t, string(out), fmt.Sprint(pid), "hagsctl no longer lists the killed process")
	assert.Contains(t, string(out), fmt.Sprint(a.Pid()), "hagsctl lists the surviving provider's pid")
}

// TestSyncErrorsKeepDaemonServing: bad names, unknown tokens and bad
// arguments get their exact codes, and the daemon keeps serving.
func TestSyncErrorsKeepDaemonServing(t *testing.T) {
	c := startCluster(t)
	a, b := c.client("a"), c.client("b")
	long := strings.Repeat("n", 128)
	cases := []struct{ cmd, want string }{
		{"join " + long + " 1", `^error join HA_GS_NAME_TOO_LONG`},
		{"leave 42", `^error leave HA_GS_BAD_MEMBER_TOKEN`},
		{"state 42 x", `^error state HA_GS_BAD_MEMBER_TOKEN`},
		{"subscribe " + long, `^error subscribe HA_GS_NAME_TOO_LONG`},
		{"join g -1", `^error join HA_GS_BAD_PARAMETER`},
	}
	for _, tc := range cases {
		mark := a.Mark()
		require.NoError(t, a.Send("%s", tc.cmd))
		expect(t, a, tc.want, mark)
	}
	// The daemon-side (delayed) errors: unknown group, mismatched attributes,
	// duplicate instance number.
	mark := a.Mark()
	require.NoError(t, a.Send("subscribe nosuchgroup"))
	expect(t, a, `^DELAYED_ERROR .*proto=SUBSCRIPTION code=HA_GS_UNKNOWN_GROUP`, mark)

	act(t, func() { require.NoError(t, a.Send("join g 1")) }, `^APPROVED .*proto=JOIN`, a)
	mark = b.Mark()
	require.NoError(t, b.Send("join g 1"))
	expect(t, b, `^DELAYED_ERROR .*proto=JOIN code=HA_GS_DUPLICATE_INSTANCE_NUMBER`, mark)
	mark = b.Mark()
	require.NoError(t, b.Send("join g 2 default=reject"))
	expect(t, b, `^DELAYED_ERROR .*proto=JOIN code=HA_GS_BAD_GROUP_ATTRIBUTES`, mark)

	// Still serving: b joins properly and both see it.
	act(t, func() { require.NoError(t, b.Send("join g 2")) }, `^APPROVED .*proto=JOIN .*changing=2@1`, a, b)
}

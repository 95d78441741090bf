package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhags/hags/internal/harness"
)

// group3 starts three providers of group "g" (instances 1, 2, 3), each with
// the given extra gsclient arguments, and waits until all saw all joins.
func group3(t *testing.T, c *cluster, args map[string][]string) (p1, p2, p3 *harness.Client) {
	t.Helper()
	names := []string{"p1", "p2", "p3"}
	for i, n := range names {
		cl := c.client(n, args[n]...)
		act(t, func() { require.NoError(t, cl.Send("join g %d", i+1)) },
			fmt.Sprintf(`^APPROVED .*proto=JOIN .*changing=%d@1`, i+1), c.all(names[:i+1]...)...)
	}
	return c.clients["p1"], c.clients["p2"], c.clients["p3"]
}

func autovote(t *testing.T, policy string, cls ...*harness.Client) {
	t.Helper()
	for _, cl := range cls {
		mark := cl.Mark()
		require.NoError(t, cl.Send("autovote %s", policy))
		expect(t, cl, `^autovote `+policy, mark)
	}
}

// TestThreePhaseProtocolWithContinueVotes: every provider votes continue in
// phases 1 and 2 and approve in phase 3; each sees three n-phase
// notifications and one approval that says three phases ran.
func TestThreePhaseProtocolWithContinueVotes(t *testing.T) {
	c := startCluster(t)
	p1, p2, p3 := group3(t, c, nil)
	autovote(t, "continue:3", p1, p2, p3)
	marks := []int{p1.Mark(), p2.Mark(), p3.Mark()}
	require.NoError(t, p1.Send("state 1 three-phases phases=n limit=30"))
	for i, cl := range []*harness.Client{p1, p2, p3} {
		for phase := 1; phase <= 3; phase++ {
			line := expect(t, cl, fmt.Sprintf(`^NPHASE .*proto=STATE_VALUE_CHANGE .*phase=%d `, phase), marks[i])
			assert.Contains(t, line, `pstate="three-phases"`, "each phase shows the proposed value")
			assert.Contains(t, line, `state=""`, "the current value is unchanged while voting")
			assert.Contains(t, line, "limit=30", "the phase time limit is the proposal's")
		}
		line := expect(t, cl, `^APPROVED .*proto=STATE_VALUE_CHANGE`, marks[i])
		assert.Contains(t, line, "phase=3 ", "the approval says three phases ran")
		assert.Contains(t, line, "sum=EXPLICIT_APPROVE", "every vote was explicit")
		assert.Contains(t, line, `state="three-phases"`, "the approved value is now current")
	}
}

// TestRejectedStateChange: one reject vote rejects the protocol; the state
// value stays as it was.
func TestRejectedStateChange(t *testing.T) {
	c := startCluster(t)
	p1, p2, p3 := group3(t, c, nil)
	act(t, func() { require.NoError(t, p1.Send("state 1 first")) }, `^APPROVED .*state="first"`, p1, p2, p3)
	autovote(t, "approve", p1, p3)
	autovote(t, "reject", p2)
	lines := act(t, func() { require.NoError(t, p1.Send("state 1 second phases=n limit=30")) },
		`^REJECTED .*proto=STATE_VALUE_CHANGE`, p1, p2, p3)
	for _, l := range lines {
		assert.Contains(t, l, "sum=EXPLICIT_REJECT", "a provider voted reject")
		assert.Contains(t, l, `state="first"`, "a rejected change leaves the value as it was")
	}
	// The group is free again: a one-phase change goes through.
	act(t, func() { require.NoError(t, p3.Send("state 1 third")) }, `^APPROVED .*state="third"`, p1, p2, p3)
}

// TestExpelRunsDeactivateScript: an n-phase expel with deactivate phase 1
// runs the expelled provider's script once, on its node, with the group,
// provider, pid, reason and flag; the voters see the result.
func TestExpelRunsDeactivateScript(t *testing.T) {
	dir := harness.ScriptDir(t)
	marker := filepath.Join(dir, "marker")
	script := filepath.Join(dir, "deactivate.sh")
	require.NoError(t, os.WriteFile(script, []byte(fmt.Sprintf(`#!/bin/sh
echo "args: $*" >> %s
echo "user: $(id -u)" >> %s
echo "deactivating $3@$4"
exit 0
`, marker, marker)), 0o755))

	c := startCluster(t)
	p1, p2, p3 := group3(t, c, map[string][]string{"p3": {"--deactivate-script", script}})
	autovote(t, "approve", p1, p2, p3)
	m3 := p3.Mark()
	lines := act(t, func() { require.NoError(t, p1.Send("expel 1 3@1 phases=n limit=20 dphase=1 flag=stop-now")) },
		`^APPROVED .*proto=EXPEL`, p1, p2)
	for _, l := range lines {
		assert.Contains(t, l, "changing=3@1 ", "the expelled provider is named")
		assert.Contains(t, l, "members=1@1,2@1 ", "after the expel the group holds p1 and p2")
		assert.Contains(t, l, "leave=EXPELLED", "the leave reason is EXPELLED")
		assert.Contains(t, l, "deactivate=OK", "the script exited 0")
	}
	// The expelled provider hears the approval, and never voted on its expulsion.
	expect(t, p3, `^APPROVED .*proto=EXPEL .*changing=3@1`, m3)
	for _, l := range p3.Out.All()[m3:] {
		assert.False(t, strings.HasPrefix(l, "NPHASE ") && strings.Contains(l, "proto=EXPEL"),
			"the expelled provider does not vote on its expulsion: %s", l)
	}
	got, err := os.ReadFile(marker)
	require.NoError(t, err, "the script ran and wrote its marker")
	want := fmt.Sprintf("args: -- g 3 1 %d expel stop-now\nuser: %d\n", p3.Pid(), os.Getuid())
	assert.Equal(t, want, string(got), "the script ran exactly once, with --, group, instance, node, pid, reason and flag")
	// Its token is refused afterwards.
	mark := p3.Mark()
	require.NoError(t, p3.Send("state 1 x"))
	expect(t, p3, `^error state HA_GS_NOT_A_MEMBER`, mark)
}

// TestTardyVoterRejectsAndIsAnnounced: a provider that does not vote within
// the phase time limit makes the protocol fail with TIME_LIMIT_EXCEEDED, and
// an announcement names it.
func TestTardyVoterRejectsAndIsAnnounced(t *testing.T) {
	c := startCluster(t)
	p1, p2, p3 := group3(t, c, nil)
	autovote(t, "approve", p1, p2) // p3 stays silent
	marks := []int{p1.Mark(), p2.Mark()}
	require.NoError(t, p1.Send("state 1 late phases=n limit=1"))
	for i, cl := range []*harness.Client{p1, p2} {
		line := expect(t, cl, `^REJECTED .*proto=STATE_VALUE_CHANGE`, marks[i])
		assert.Contains(t, line, "TIME_LIMIT_EXCEEDED", "rejected because a vote was late")
		ann := expect(t, cl, `^ANNOUNCEMENT `, marks[i])
		assert.Contains(t, ann, "TIME_LIMIT_EXCEEDED")
		assert.Contains(t, ann, "providers=3@1", "the announcement names the tardy provider")
	}
	_ = p3
}

// TestProviderKilledMidProtocol: a provider SIGKILLed while a protocol waits
// for its vote counts with the default vote (approve); the protocol is
// approved with DEFAULT_APPROVE and a failure leave follows.
func TestProviderKilledMidProtocol(t *testing.T) {
	c := startCluster(t)
	p1, p2, p3 := group3(t, c, nil)
	autovote(t, "approve", p1, p2) // p3 will not vote: it is killed first
	m3 := p3.Mark()
	marks := []int{p1.Mark(), p2.Mark()}
	require.NoError(t, p1.Send("state 1 survivors phases=n limit=0"))
	expect(t, p3, `^NPHASE .*proto=STATE_VALUE_CHANGE`, m3)
	p3.Kill()
	for i, cl := range []*harness.Client{p1, p2} {
		line, at, err := cl.Expect(`^APPROVED .*proto=STATE_VALUE_CHANGE`, marks[i], wait)
		require.NoError(t, err)
		assert.Contains(t, line, "DEFAULT_APPROVE", "the dead provider's vote was the group's default")
		fl := expect(t, cl, `^APPROVED .*proto=FAILURE_LEAVE`, at+1)
		assert.Contains(t, fl, "changing=3@1 ")
		assert.Contains(t, fl, "leave=PROCESS_DIED")
	}
}

// TestWedgedDispatchFailsResponsiveness: a client that asked for ping checks
// and stops dispatching is announced to its group as unresponsive.
func TestWedgedDispatchFailsResponsiveness(t *testing.T) {
	c := startCluster(t)
	p1, p2, p3 := group3(t, c, map[string][]string{"p3": {"--ping", "1"}})
	marks := []int{p1.Mark(), p2.Mark()}
	require.NoError(t, p3.Send("wedge"))
	for i, cl := range []*harness.Client{p1, p2} {
		line := expect(t, cl, `^ANNOUNCEMENT .*RESPONSIVENESS_NO_RESPONSE`, marks[i])
		assert.Contains(t, line, "providers=3@1", "the announcement names the wedged provider")
	}
	// It is announced, not removed: no failure leave.
	for _, l := range p1.Out.All()[marks[0]:] {
		assert.NotContains(t, l, "proto=FAILURE_LEAVE", "an unresponsive provider stays in the group")
	}
}

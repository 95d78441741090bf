package integration

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSourceTargetReflection: a target group names a source group; approved
// membership and state changes of the source reach the target's providers as
// source-state reflection protocols (here n-phase, so they vote), and a
// target naming a source that does not exist is refused.
func TestSourceTargetReflection(t *testing.T) {
	c := startCluster(t)
	s1, tgt, s2 := c.client("s1"), c.client("tgt"), c.client("s2")

	mark := tgt.Mark()
	require.NoError(t, tgt.Send("join target 1 source=nosuch"))
	expect(t, tgt, `^DELAYED_ERROR .*proto=JOIN code=HA_GS_NO_SOURCE_GROUP_PROVIDER`, mark)

	act(t, func() { require.NoError(t, s1.Send("join source 1")) }, `^APPROVED .*proto=JOIN`, s1)
	act(t, func() { require.NoError(t, tgt.Send("join target 1 source=source srcphases=n srclimit=10")) },
		`^APPROVED .*group=target proto=JOIN`, tgt)
	autovote(t, "approve", tgt)

	// A join in the source is reflected into the target as an n-phase protocol.
	lines := act(t, func() { require.NoError(t, s2.Send("join source 2")) },
		`^APPROVED .*group=target proto=SOURCE_STATE_REFLECTION`, tgt)
	assert.Contains(t, lines[0], "changing=2@1 ", "the reflection names the source's changing provider")
	_, _, err := tgt.Expect(`^NPHASE .*group=target proto=SOURCE_STATE_REFLECTION`, mark, wait)
	require.NoError(t, err, "the target's providers voted on the reflection")

	// A state change in the source is reflected with the source's new value.
	lines = act(t, func() { require.NoError(t, s1.Send("state 1 src-v1")) },
		`^APPROVED .*group=target proto=SOURCE_STATE_REFLECTION .*pstate="src-v1"`, tgt)
	assert.Contains(t, lines[0], `state=""`, "the target's own state value is unchanged")
}

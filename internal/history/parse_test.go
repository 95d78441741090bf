package history

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhags/hags/internal/wire"
)

func TestParseApproved(t *testing.T) {
	line := `APPROVED tok=3 group=g proto=EXPEL sum=EXPLICIT_APPROVE|DEACTIVATE_SUCCESSFUL phase=2 what=MEMBERSHIP ` +
		`members=1@1,2@2 changing=3@1 state="a b=\"c\"" msg="hi there" leave=EXPELLED:7 dphase=1 deactivate=OK`
	g, tok, r, err := ParseApproved(line)
	require.NoError(t, err, "a gsclient APPROVED line parses")
	assert.Equal(t, "g", g)
	assert.Equal(t, int32(3), tok)
	want := Record{Kind: wire.ExpelProtocol, Summary: wire.ExplicitApprove | wire.DeactivateSuccessful, Phases: 2,
		Members: []wire.Provider{{Instance: 1, Node: 1}, {Instance: 2, Node: 2}}, Changing: []wire.Provider{{Instance: 3, Node: 1}},
		State: []byte(`a b="c"`), Message: []byte("hi there"), Leave: []wire.LeaveInfo{{Reason: wire.ProviderExpelled, Code: 7}},
		Expel: &wire.ExpelInfo{Phase: 1, Results: []wire.DeactivateResult{wire.DeactivateOK}}}
	assert.Equal(t, want, r, "every field is read back")
	assert.Equal(t, want.Key(), r.Key())

	_, _, r, err = ParseApproved(`APPROVED tok=1 group=g proto=JOIN sum=0 phase=1 what=MEMBERSHIP members=1@1 changing=1@1 state=""`)
	require.NoError(t, err)
	assert.Equal(t, []byte{}, r.State, "an empty state value is present and empty")
	assert.Nil(t, r.Message, "no msg field: no message")

	_, _, _, err = ParseApproved(`NPHASE tok=1 group=g proto=JOIN`)
	assert.ErrorIs(t, err, ErrNotApproved, "other lines are not approvals")
	for _, bad := range []string{
		`APPROVED tok=x group=g proto=JOIN`,
		`APPROVED tok=1 group=g proto=NOPE`,
		`APPROVED tok=1 group=g proto=JOIN members=1@`,
		`APPROVED tok=1 group=g proto=JOIN state="unterminated`,
		`APPROVED tok=1 proto=JOIN`,
		`APPROVED tok=1 group=g proto=JOIN sum=WHAT`,
	} {
		_, _, _, err := ParseApproved(bad)
		assert.Error(t, err, "%q is malformed", bad)
		assert.NotErrorIs(t, err, ErrNotApproved, "%q is an approval, but malformed", bad)
	}

	recs, err := ParseHistory([]string{"ready node=1", line,
		`APPROVED tok=4 group=g proto=JOIN sum=0 phase=1 members=1@1 changing=1@1 state=""`,
		`APPROVED tok=3 group=h proto=JOIN sum=0 phase=1 members=1@1 changing=1@1 state=""`}, "g", 3)
	require.NoError(t, err)
	assert.Len(t, recs, 1, "ParseHistory keeps one token's approvals of one group")
}

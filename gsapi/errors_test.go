package gsapi_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhags/hags/gsapi"
	"github.com/openhags/hags/internal/wire"
)

// allSentinels lists the exported sentinels by name, so that a code whose
// sentinel is missing from the var block fails the test.
var allSentinels = []error{
	gsapi.ErrNotOK, gsapi.ErrExists, gsapi.ErrNoInit, gsapi.ErrNameTooLong, gsapi.ErrNoMemory,
	gsapi.ErrNotAMember, gsapi.ErrBadClientToken, gsapi.ErrBadMemberToken, gsapi.ErrBadParameter,
	gsapi.ErrUnknownGroup, gsapi.ErrInvalidGroup, gsapi.ErrNoSourceGroupProvider,
	gsapi.ErrBadGroupAttributes, gsapi.ErrWrongOldState, gsapi.ErrDuplicateInstanceNumber,
	gsapi.ErrCollide, gsapi.ErrSockCreateFailed, gsapi.ErrSockInitFailed, gsapi.ErrConnectFailed,
	gsapi.ErrVoteNotExpected, gsapi.ErrNotSupported, gsapi.ErrInvalidSourceGroup,
	gsapi.ErrUnknownProvider, gsapi.ErrProviderAppearsTwice, gsapi.ErrInvalidDeactivatePhase,
	gsapi.ErrBacklevelProviders, gsapi.ErrStateValueTooLong, gsapi.ErrMessageTooLong,
	gsapi.ErrPermissionDenied, gsapi.ErrNoAdapterInfo, gsapi.ErrForkedChild,
}

func TestEveryCodeHasOneSentinel(t *testing.T) {
	byCode := map[wire.Code]error{}
	for _, s := range allSentinels {
		c := gsapi.CodeOf(s)
		_, dup := byCode[c]
		require.False(t, dup, "code %s should have exactly one sentinel", c)
		byCode[c] = s
	}
	for _, c := range wire.AllCodes() {
		if c == wire.OK {
			assert.NoError(t, gsapi.ErrorFor(c), "OK is success: it has no sentinel")
			continue
		}
		s, ok := byCode[c]
		require.True(t, ok, "code %s should have a sentinel in the var block", c)
		assert.Same(t, s, gsapi.ErrorFor(c), "ErrorFor(%s) should return the sentinel", c)
		assert.Contains(t, s.Error(), c.String(), "the sentinel's text should name %s", c)
	}
	assert.Len(t, byCode, len(wire.AllCodes())-1, "every code but OK should have a sentinel")
}

func TestErrorIsMatchesSentinelOfSameCode(t *testing.T) {
	err := &gsapi.Error{Code: wire.Collide, Op: "leave", Token: 4, Msg: "busy"}
	assert.ErrorIs(t, err, gsapi.ErrCollide, "an *Error should match the sentinel of its code")
	assert.NotErrorIs(t, err, gsapi.ErrNotAMember, "an *Error should not match another code's sentinel")
	wrapped := fmt.Errorf("context: %w", err)
	assert.ErrorIs(t, wrapped, gsapi.ErrCollide, "a wrapped *Error should still match its sentinel")
	assert.Equal(t, wire.Collide, gsapi.CodeOf(wrapped), "CodeOf should find the code through wrapping")
	assert.Equal(t, "gsapi: leave token 4: HA_GS_COLLIDE: busy", err.Error(), "the message should name op, token, code and text")

	cause := errors.New("boom")
	withCause := &gsapi.Error{Code: wire.ConnectFailed, Op: "dial", Err: cause}
	assert.ErrorIs(t, withCause, cause, "an *Error should unwrap to its cause")
}

func TestCodeOf(t *testing.T) {
	assert.Equal(t, wire.OK, gsapi.CodeOf(nil), "nil is OK")
	assert.Equal(t, wire.NotOK, gsapi.CodeOf(errors.New("other")), "a foreign error is NotOK")
	assert.Equal(t, wire.NotOK, gsapi.CodeOf(&gsapi.Error{Code: wire.OK}), "an *Error carrying OK is still a failure")
	assert.Equal(t, wire.NotOK, gsapi.ErrorFor(wire.Code(999)).(*gsapi.Error).Code, "an unknown code maps to ErrNotOK")
}

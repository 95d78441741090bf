package engine

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/openhags/hags/failover"
)

// TestOnlinePlanSharedProviders: a resource at the top of 40 levels of
// complex sets whose members share providers, with nothing at the bottom
// able to run. Judging it must look at each resource once: the first
// version explored every path (2^40 of them) and never answered.
func TestOnlinePlanSharedProviders(t *testing.T) {
	const levels = 40
	var b strings.Builder
	b.WriteString("domain 1=A 2=B\njoin 1\nup 1\n@1 create-group g\n@1 create-resource z g=g agent=exec\n@1 remove-owner z A\n")
	for i := 0; i <= levels; i++ {
		fmt.Fprintf(&b, "@1 create-resource x%d g=g agent=exec\n@1 create-resource y%d g=g agent=exec\n", i, i)
	}
	b.WriteString("@1 depend x0 [z]\n@1 depend y0 [z]\n")
	for i := 1; i <= levels; i++ {
		fmt.Fprintf(&b, "@1 depend x%d \"([x%d] or [y%d])\"\n@1 depend y%d \"([x%d] or [y%d])\"\n", i, i-1, i-1, i, i-1, i-1)
	}
	tr := newTranscript()
	tr.check = nil
	_, err := tr.run(b.String())
	require.NoError(t, err)
	out := tr.e.Step(Input{Kind: InRequest, From: 1, Request: &Request{ID: 1, Op: OpOnlineResource, Resource: fmt.Sprintf("x%d", levels)}})
	require.NotEmpty(t, out)
	rep := out[len(out)-1].Reply
	require.NotNil(t, rep, "the request must be answered")
	require.Equal(t, failover.CodeClusterResourceProviderFailed, rep.Code, "no provider chain can come online: %s", rep.Message)
}

package agent

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhags/hags/failover/engine"
)

// TestMaxAgentsBoundsStartsButNotStops: with MaxAgents 2, four starts of
// an agent that holds its start run two at a time, and a stop runs while
// both slots are taken. Without the bound the four starts ran together
// (the agent saw up to 4 at once) and a config apply of 2,000 OCF
// resources starved the manager's lease renewals.
func TestMaxAgentsBoundsStartsButNotStops(t *testing.T) {
	t.Parallel()
	h := newHarnessWith(t, "NodeA", t.TempDir(), testRoot, func(o *Options) { o.MaxAgents = 2 })
	dir := t.TempDir()
	spec := ocf("hagstest", "Gate")
	params := map[string]string{"dir": dir}
	var starts []engine.Action
	for i := range 4 {
		a := start("gate"+strconv.Itoa(i), spec, params)
		starts = append(starts, a)
		h.r.Execute(a)
	}
	require.Eventually(t, func() bool { return countLines(dir) >= 2 }, waitBudget, 10*time.Millisecond,
		"two starts should be running")

	got := h.do(t, stop("other", spec, params))
	assert.Equal(t, engine.OutcomeOK, got.Outcome, "a stop runs while every slot is taken: %s", got.Detail)

	require.NoError(t, os.WriteFile(filepath.Join(dir, "release"), nil, 0o644))
	for range starts {
		select {
		case res := <-h.results:
			assert.Equal(t, engine.OutcomeOK, res.Outcome, "every start ends well once released: %s", res.Detail)
		case <-time.After(waitBudget):
			t.Fatal("every start should have ended once released")
		}
	}
	b, err := os.ReadFile(filepath.Join(dir, "counts"))
	require.NoError(t, err)
	counts := strings.Fields(string(b))
	require.Len(t, counts, 4, "each start counted the starts running with it")
	for _, c := range counts {
		n, err := strconv.Atoi(c)
		require.NoError(t, err)
		assert.LessOrEqual(t, n, 2, "no more starts run at once than MaxAgents allows: %v", counts)
	}
}

func TestDefaultMaxAgents(t *testing.T) {
	assert.GreaterOrEqual(t, DefaultMaxAgents(), 8, "at least 8 agents may run at once")
}

// countLines returns how many counts dir/counts holds.
func countLines(dir string) int {
	b, err := os.ReadFile(filepath.Join(dir, "counts"))
	if err != nil {
		return 0
	}
	return len(strings.Fields(string(b)))
}

package integration

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhags/hags/internal/harness"
)

// TestDemoCluster runs what `make demo-cluster` runs and checks that it
// succeeds and shows what it promises.
func TestDemoCluster(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	require.NoError(t, harness.Build(ctx, dir, "./examples/go/democluster"), "the cluster demo builds")
	out, err := exec.Command(filepath.Join(dir, "democluster"), "--bin", bin).CombinedOutput()
	require.NoError(t, err, "the cluster demo exits 0; it printed:\n%s", out)
	text := string(out)
	for _, want := range []string{
		"admitted to the domain",
		"ROLE    HEALTH",
		"leader",
		"proto=FAILURE_LEAVE sum=0 phase=1 what=MEMBERSHIP members=1@1,1@2 changing=1@3",
		"leave=NODE_DIED",
		"p3 lost its daemon (HA_GS_NOT_OK)",
		`state="after-the-death"`,
		"demo-cluster finished in",
	} {
		assert.True(t, strings.Contains(text, want), "the cluster demo output shows %q", want)
	}
	assert.Regexp(t, `(?m)^3\s+node3\s+\S+\s+voter\s+dead$`, text, "the last hagsctl nodes shows node 3 dead")
}

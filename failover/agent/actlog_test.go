package agent

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhags/hags/failover/agent/actlog"
	"github.com/openhags/hags/failover/engine"
)

// TestActLogDummyLogsLikeTheRunner runs the wrapper agent that a Pacemaker
// comparison would use (examples/failover/ActLogDummy, writing through
// cmd/hagsrm-actlog) under the runner, which logs too, and checks that the
// two logs agree: the wrapper's start began no earlier than the runner's,
// its stop ended no later.
func TestActLogDummyLogsLikeTheRunner(t *testing.T) {
	needResourceAgents(t)
	t.Parallel()
	dir := t.TempDir()
	bin := filepath.Join(dir, "hagsrm-actlog")
	out, err := exec.Command("go", "build", "-o", bin, "../../cmd/hagsrm-actlog").CombinedOutput()
	require.NoError(t, err, "building hagsrm-actlog: %s", out)
	root := filepath.Join(dir, "ocf")
	wrapper, err := filepath.Abs("../../examples/failover/ActLogDummy")
	require.NoError(t, err)
	out, err = exec.Command("/bin/sh", "-c", `set -e
mkdir -p "$1/resource.d/hagsexample"
chmod 755 "$1" "$1/resource.d" "$1/resource.d/hagsexample"
cp "$2" "$1/resource.d/hagsexample/ActLogDummy"
chmod 755 "$1/resource.d/hagsexample/ActLogDummy"
ln -s /usr/lib/ocf/resource.d/heartbeat "$1/resource.d/heartbeat"
ln -s /usr/lib/ocf/lib "$1/lib"`, "setup", root, wrapper).CombinedOutput()
	require.NoError(t, err, "%s", out)

	h := newHarnessIn(t, "NodeA", filepath.Join(dir, "state"), root)
	wrapperLog := filepath.Join(dir, "wrapper.log")
	spec := ocf("hagsexample", "ActLogDummy")
	params := map[string]string{"actlog": wrapperLog, "actlog_bin": bin, "actlog_node": "NodeA"}
	got := h.do(t, start("web", spec, params))
	require.Equal(t, engine.OutcomeOK, got.Outcome, got.Detail)
	got = h.do(t, stop("web", spec, params))
	require.Equal(t, engine.OutcomeOK, got.Outcome, got.Detail)

	ours, err := actlog.ReadFile(h.actLog)
	require.NoError(t, err)
	theirs, err := actlog.ReadFile(wrapperLog)
	require.NoError(t, err)
	require.Len(t, ours, 2)
	require.Len(t, theirs, 2, "the wrapper logged its start and stop")
	for i := range ours {
		assert.Equal(t, ours[i].Op, theirs[i].Op)
		assert.Equal(t, ours[i].Node, theirs[i].Node)
		assert.Equal(t, ours[i].Resource, theirs[i].Resource)
		assert.Equal(t, ours[i].Agent, theirs[i].Agent)
		assert.True(t, theirs[i].OK)
	}
	assert.GreaterOrEqual(t, theirs[0].Mono, ours[0].Mono, "the wrapper's start began after the runner began it")
	assert.LessOrEqual(t, theirs[1].Mono, ours[1].Mono, "the wrapper's stop ended before the runner saw it end")
	assert.Less(t, theirs[0].Mono, theirs[1].Mono)
	assert.GreaterOrEqual(t, theirs[0].Done, theirs[0].Mono, "the wrapper records when Dummy's start ended")
	assert.LessOrEqual(t, theirs[0].Done, ours[0].Done, "the wrapper's start ended before the runner saw it end")
	_, err = os.Stat(filepath.Join(dir, "state", "rsctmp", "Dummy-web.state"))
	assert.True(t, os.IsNotExist(err), "Dummy ran under the wrapper and removed its state at stop")
}

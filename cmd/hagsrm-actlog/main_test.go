package main

import (
	"bytes"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhags/hags/failover/agent/actlog"
)

func TestNowAndAppend(t *testing.T) {
	var out, errOut bytes.Buffer
	require.Equal(t, 0, run([]string{"now"}, &out, &errOut), errOut.String())
	mono, err := strconv.ParseInt(strings.TrimSpace(out.String()), 10, 64)
	require.NoError(t, err, "now prints a number")
	assert.LessOrEqual(t, mono, actlog.Now(), "now prints CLOCK_MONOTONIC")

	path := filepath.Join(t.TempDir(), "log")
	code := run([]string{"append", "-file", path, "-node", "n1", "-resource", "db one", "-op", "start", "-ok=true",
		"-mono", strconv.FormatInt(mono, 10), "-agent", "ocf:x:y"}, &out, &errOut)
	require.Equal(t, 0, code, errOut.String())
	require.Equal(t, 0, run([]string{"append", "-file", path, "-node", "n1", "-resource", "db one", "-op", "stop", "-ok=false"}, &out, &errOut))
	recs, err := actlog.ReadFile(path)
	require.NoError(t, err)
	require.Len(t, recs, 2)
	assert.Equal(t, actlog.Record{Mono: mono, Node: "n1", Resource: "db one", Op: actlog.OpStart, OK: true, Agent: "ocf:x:y", Pid: recs[0].Pid}, recs[0])
	assert.False(t, recs[1].OK)
	assert.GreaterOrEqual(t, recs[1].Mono, mono, "without -mono the record is stamped now")
}

func TestAppendDone(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log")
	var out, errOut bytes.Buffer
	require.Equal(t, 0, run([]string{"append", "-file", path, "-node", "n1", "-resource", "r", "-op", "start", "-ok=true",
		"-mono", "100", "-done", "250"}, &out, &errOut), errOut.String())
	require.Equal(t, 0, run([]string{"append", "-file", path, "-node", "n1", "-resource", "r", "-op", "start", "-ok=true",
		"-mono", "300"}, &out, &errOut), errOut.String())
	recs, err := actlog.ReadFile(path)
	require.NoError(t, err)
	require.Len(t, recs, 2)
	assert.Equal(t, int64(250), recs[0].Done, "-done is the start's end")
	assert.Equal(t, int64(250), recs[0].Started(), "Started is the recorded end")
	assert.Equal(t, int64(300), recs[1].Started(), "without -done, Started falls back to when the start began")
}

func TestUsageErrors(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log")
	for _, args := range [][]string{
		nil,
		{"later"},
		{"now", "x"},
		{"append", "-file", path, "-resource", "r", "-op", "start"},
		{"append", "-file", path, "-node", "n", "-op", "start"},
		{"append", "-file", path, "-node", "n", "-resource", "r", "-op", "restart"},
		{"append", "-file", path, "-node", "n", "-resource", "r", "-op", "start", "extra"},
		{"append", "-file", path, "-node", "n", "-resource", "r", "-op", "start", "-mono", "soon"},
		{"append", "-file", "", "-node", "n", "-resource", "r", "-op", "start"},
		{"append", "-file", path, "-node", "n", "-resource", "r", "-op", "stop", "-done", "5"},
		{"append", "-file", path, "-node", "n", "-resource", "r", "-op", "start", "-done", "-5"},
	} {
		var out, errOut bytes.Buffer
		assert.Equal(t, 2, run(args, &out, &errOut), "%q is a usage error", args)
	}
	var out, errOut bytes.Buffer
	assert.Equal(t, 1, run([]string{"append", "-file", "/nonexistent/dir/log", "-node", "n", "-resource", "r", "-op", "start"}, &out, &errOut),
		"a log that cannot be written is exit 1")
}

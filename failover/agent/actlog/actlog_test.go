package actlog

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAppendAndRead(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "actions.log")
	before := Now()
	require.NoError(t, Append(path, Record{Mono: Now(), Node: "NodeA", Resource: "a name with spaces", Op: OpStart, OK: true}))
	require.NoError(t, Append(path, Record{Mono: Now(), Node: "NodeA", Resource: "a name with spaces", Op: OpStop, OK: true, Why: WhyStop}))
	recs, err := ReadFile(path)
	require.NoError(t, err)
	require.Len(t, recs, 2)
	assert.Equal(t, OpStart, recs[0].Op)
	assert.Equal(t, "a name with spaces", recs[0].Resource)
	assert.Equal(t, os.Getpid(), recs[0].Pid, "the writer's pid is filled in")
	assert.GreaterOrEqual(t, recs[0].Mono, before, "CLOCK_MONOTONIC does not go back")
	assert.LessOrEqual(t, recs[0].Mono, recs[1].Mono, "CLOCK_MONOTONIC does not go back")
}

func TestConcurrentAppendsStayWhole(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "actions.log")
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				assert.NoError(t, Append(path, Record{Mono: Now(), Node: fmt.Sprint("n", w), Resource: strings.Repeat("r", 200), Op: OpStart, OK: i%2 == 0}))
			}
		}()
	}
	wg.Wait()
	recs, err := ReadFile(path)
	require.NoError(t, err, "every line is a whole record")
	assert.Len(t, recs, 400, "no record is lost")
}

func TestReadRefusesWhatIsNotARecord(t *testing.T) {
	t.Parallel()
	for _, bad := range []string{"not json\n", `{"op":"restart"}` + "\n", `{"op":"start"}` + "\n" + "{\n"} {
		_, err := Read(strings.NewReader(bad))
		assert.Error(t, err, "%q is refused", bad)
	}
	_, err := Read(strings.NewReader(strings.Repeat("x", MaxRecord+1)))
	assert.Error(t, err, "a line longer than MaxRecord is refused")
	err = Append(filepath.Join(t.TempDir(), "log"), Record{Op: OpStart, Resource: strings.Repeat("x", MaxRecord)})
	assert.ErrorIs(t, err, ErrTooLong)
}

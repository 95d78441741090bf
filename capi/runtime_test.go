package main

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// procsProbe, set in the environment, makes this test binary print its
// runtime's GOMAXPROCS, as the library's init left it, and exit.
const procsProbe = "HAGS_CAPI_PROCS_PROBE"

func reportProcs() int {
	fmt.Println(runtime.GOMAXPROCS(0))
	return 0
}

// TestRuntimeKeepsAPForTheReader: the library's runtime has at least two
// Ps even when the environment asks for one (GOMAXPROCS=1, as hagsbench
// gives its clients, or a machine of one CPU), so that gsapi's reader does
// not wait for sysmon to take back the P parked on the program's thread
// (runtime.go), and never fewer than the environment asks for.
func TestRuntimeKeepsAPForTheReader(t *testing.T) {
	for env, want := range map[string]string{"GOMAXPROCS=1": "2", "GOMAXPROCS=3": "3"} {
		cmd := exec.Command(os.Args[0])
		cmd.Env = append(os.Environ(), procsProbe+"=1", env)
		out, err := cmd.Output()
		require.NoError(t, err, "the probe runs")
		assert.Equal(t, want, strings.TrimSpace(string(out)), "with %s the library's runtime has %s Ps", env, want)
	}
}

package integration

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDemo runs what `make demo` runs and checks that it succeeds and shows
// each thing it promises.
func TestDemo(t *testing.T) {
	scripts, err := filepath.Abs("../examples/scripts")
	require.NoError(t, err)
	out, err := exec.Command(filepath.Join(bin, "demo"), "--bin", bin, "--scripts", scripts).CombinedOutput()
	require.NoError(t, err, "the demo exits 0; it printed:\n%s", out)
	text := string(out)
	for _, want := range []string{
		"proto=STATE_VALUE_CHANGE sum=EXPLICIT_APPROVE phase=2", // the n-phase protocol
		`msg="deactivate script finished"`,                      // the script ran
		"proto=EXPEL",                                           // the expel
		"leave=PROCESS_DIED",                                    // the SIGKILLed provider
		"type=DISSOLVED",                                        // the watcher saw the end
		"alice and bob saw the changes they shared in the same order.",
		"demo finished in",
	} {
		assert.True(t, strings.Contains(text, want), "the demo output shows %q", want)
	}
}

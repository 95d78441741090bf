package engine

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/openhags/hags/failover"
)

// notEngineCodes are the codes only the manager or the client produce:
// the engine never answers with them.
var notEngineCodes = map[failover.Code]string{
	failover.CodeAccessDenied:                 "the manager checks the caller's access before proposing",
	failover.CodeInvalidHandle:                "the client refuses a closed or forged handle",
	failover.CodeTimeout:                      "hagsrm --wait gives up waiting",
	failover.CodeClusterResourceTypeNotFound:  "the receiving manager looks the agent up on its node",
	failover.CodeClusterResourceConfiguration: "the receiving manager runs the agent's validate-all",
}

// TestEveryCodeInTranscripts runs every transcript and checks that each
// return code of the contract that the engine produces is answered in at
// least one, and that the engine never answers with the manager's.
// ERROR_SHARING_PAUSED appears (a paused owner, a read-only origin) even
// though the manager also answers it for a server that is not read/write.
func TestEveryCodeInTranscripts(t *testing.T) {
	files, err := filepath.Glob("testdata/*.txt")
	require.NoError(t, err)
	seen := map[failover.Code]bool{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		require.NoError(t, err)
		tr := newTranscript()
		_, err = tr.run(string(data))
		require.NoError(t, err, "transcript %s must run", f)
		for c := range tr.codes {
			seen[c] = true
		}
	}
	for _, c := range failover.AllCodes() {
		if why, ok := notEngineCodes[c]; ok {
			require.False(t, seen[c], "the engine must never answer %s (%s)", c, why)
			continue
		}
		require.True(t, seen[c], "some transcript must show the engine answering %s", c)
	}
}

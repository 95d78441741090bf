package engine

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// script runs transcript commands (their output is dropped) and returns
// the transcript for more.
func script(t *testing.T, lines string) *transcript {
	t.Helper()
	tr := newTranscript()
	_, err := tr.run(lines)
	require.NoError(t, err)
	return tr
}

// requireWhy checks that Why(resource) has a sentence containing want.
func requireWhy(t *testing.T, tr *transcript, resource, want string) {
	t.Helper()
	got := tr.e.Why(resource)
	for _, s := range got {
		if strings.Contains(s, want) {
			return
		}
	}
	require.Failf(t, "Why lacks a sentence", "Why(%s) should say %q; it says:\n%s", resource, want, strings.Join(got, "\n"))
}

const whyCluster = `domain 1=NodeA 2=NodeB 3=NodeC
join 1
up 1
join 2
up 2
join 3
up 3
@1 create-group app
@1 create-resource ip g=app agent=exec p.command=ip
@1 create-resource db g=app agent=ocf:heartbeat:Dummy restart-threshold=1
@1 depend db [ip]
`

// TestWhySentences checks the answers operators need most, one situation
// at a time.
func TestWhySentences(t *testing.T) {
	t.Run("online", func(t *testing.T) {
		tr := script(t, whyCluster+"@1 online db\nok ip\nok db\n@1 move app NodeB\nok db\nok ip\nok ip\nok db\n")
		requireWhy(t, tr, "db", "Online on NodeB since 2026-01-01T00:00:00.000Z")
	})
	t.Run("persistent offline", func(t *testing.T) {
		tr := script(t, whyCluster)
		requireWhy(t, tr, "db", "Offline because its persistent state is offline (hagsrm resource online db)")
	})
	t.Run("provider failed", func(t *testing.T) {
		tr := script(t, whyCluster+"@1 online db\nfail ip soft \"exit 1: address in use\"\n")
		requireWhy(t, tr, "db", "waiting for provider [ip] ([ip] Failed: start failed on NodeA at 2026-01-01T00:00:00.000Z: exit 1: address in use)")
	})
	t.Run("restart threshold, failing over", func(t *testing.T) {
		tr := script(t, whyCluster+"@1 online db\nok ip\nok db\n"+
			"failure @1 db soft \"monitor returned 7 (not running)\"\nok db\nfire restart:db\nok db\n"+
			"failure @1 db soft \"monitor returned 7 (not running)\"\nok db\n")
		requireWhy(t, tr, "db", "Failed: failed on NodeA at 2026-01-01T00:00:00.000Z: monitor returned 7 (not running); restart 1 of 1 within 15m0s, failing the group over")
	})
	t.Run("failover threshold", func(t *testing.T) {
		tr := script(t, whyCluster+"@1 set-group app failover-threshold=0\n@1 online db\nok ip\nok db\n"+
			"@1 set-res db restart-threshold=0\nfailure @1 db soft \"exit 1\"\nok db\n")
		requireWhy(t, tr, "db", "failover threshold reached (0 in 6h0m0s)")
	})
	t.Run("not a possible owner", func(t *testing.T) {
		tr := script(t, whyCluster+"@1 online db\nok ip\nok db\n@1 remove-owner db NodeA\nok db\n@1 remove-owner db NodeC\n")
		requireWhy(t, tr, "db", "cannot run on NodeA: NodeA is not a possible owner (possible owners: NodeB)")
	})
	t.Run("waits to be fenced", func(t *testing.T) {
		tr := script(t, whyCluster+"@1 move app NodeB\n@2 online db\nok ip\nok db\ndown 2 process\n")
		requireWhy(t, tr, "db", "group waits for NodeB to be fenced: no fence-command, NodeB's manager died (process); run `hagsrm node confirm-fenced NodeB` once it is known stopped")
	})
	t.Run("locked", func(t *testing.T) {
		tr := script(t, whyCluster+"@1 lock db\n")
		requireWhy(t, tr, "db", "locked")
	})
	t.Run("paused", func(t *testing.T) {
		tr := script(t, whyCluster+"@1 pause NodeA\n")
		requireWhy(t, tr, "db", "node NodeA is paused")
	})
	t.Run("stop failed", func(t *testing.T) {
		tr := script(t, whyCluster+"@1 online ip\nok ip\n@1 offline ip\nfail ip soft \"stop timed out\"\n")
		requireWhy(t, tr, "ip", "it may still run there, and its group cannot move until NodeA is fenced or the resource is cleaned up")
	})
	t.Run("fatal", func(t *testing.T) {
		tr := script(t, whyCluster+"@1 online ip\nfail ip fatal \"exit 6\"\nok ip\n")
		requireWhy(t, tr, "ip", "its configuration is wrong, so it is not restarted anywhere")
	})
}

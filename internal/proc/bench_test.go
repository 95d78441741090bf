package proc

import (
	"context"
	"testing"
)

// benchRun runs /bin/true under policy, to show what dying with the
// parent costs per process.
func benchRun(b *testing.B, policy ParentDeath) {
	for b.Loop() {
		if res := Run(context.Background(), Spec{Path: "/bin/true", OnParentDeath: policy}); !res.Success() {
			b.Fatal(res.How())
		}
	}
}

func BenchmarkRunLive(b *testing.B)      { benchRun(b, LiveOnParentDeath) }
func BenchmarkRunKillChild(b *testing.B) { benchRun(b, KillOnParentDeath) }
func BenchmarkRunKillGroup(b *testing.B) { benchRun(b, KillGroupOnParentDeath) }

package main

import (
	"os"
	"runtime"
	"runtime/pprof"
	"testing"
	"time"
)

// The benchmarks below run scenarios against a daemon inside the test
// process, with real client processes, so that a CPU profile or an
// execution trace of the test binary shows the daemon alone:
//
//	go test ./cmd/hagsbench -run '^$' -bench Throughput -benchtime 1x -cpuprofile cpu.out
//	go tool pprof -top cmd/hagsbench/hagsbench.test cpu.out

func BenchmarkThroughput8Groups(b *testing.B) {
	sys := testSystem{socket: startDaemon(b)}
	r := &runner{ctx: b.Context(), cfg: &config{}, h: newHub(), timeout: 20 * time.Second, logf: b.Logf}
	for b.Loop() {
		rate, err := r.throughput(sys, 8, 3*time.Second)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(rate, "protocols/s")
	}
}

func BenchmarkJoinSeenBy8(b *testing.B) {
	sys := testSystem{socket: startDaemon(b)}
	r := &runner{ctx: b.Context(), cfg: &config{}, h: newHub(), timeout: 20 * time.Second, logf: b.Logf}
	for b.Loop() {
		_, all, err := r.joinSeen(sys, 8, 300)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(summarize(all).P50, "p50-µs")
	}
}

func BenchmarkNPhase8(b *testing.B) {
	sys := testSystem{socket: startDaemon(b)}
	r := &runner{ctx: b.Context(), cfg: &config{}, h: newHub(), timeout: 20 * time.Second, logf: b.Logf}
	for b.Loop() {
		v, err := r.nphase(sys, 8, []int{1}, 300)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(summarize(v[1]).P50, "p50-µs")
	}
}

func BenchmarkThroughput64Groups(b *testing.B) {
	sys := testSystem{socket: startDaemon(b)}
	r := &runner{ctx: b.Context(), cfg: &config{}, h: newHub(), timeout: 20 * time.Second, logf: b.Logf}
	for b.Loop() {
		rate, err := r.throughput(sys, 64, 3*time.Second)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(rate, "protocols/s")
	}
}

// BenchmarkMemory runs scenario (g) against the in-process daemon and
// writes a heap profile of what stays live ($HAGSBENCH_HEAP=path).
func BenchmarkMemory(b *testing.B) {
	sys := testSystem{socket: startDaemon(b)}
	r := &runner{ctx: b.Context(), cfg: &config{}, h: newHub(), timeout: 60 * time.Second, logf: b.Logf}
	for b.Loop() {
		m, err := r.memoryUse(sys, 1000, 10)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(m.PerGroup, "B/group")
		b.ReportMetric(m.PerProvider, "B/provider")
		if path := os.Getenv("HAGSBENCH_HEAP"); path != "" {
			runtime.GC()
			f, err := os.Create(path)
			if err != nil {
				b.Fatal(err)
			}
			_ = pprof.WriteHeapProfile(f)
			f.Close()
		}
	}
}

package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"runtime/pprof"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhags/hags/daemon"
)

// testClientSocket, when set in the environment, makes the test binary a
// client process (the role hagsbench plays when re-executed), so that the
// scenario tests run real client processes without building anything.
const testClientSocket = "HAGSBENCH_TEST_CLIENT_SOCKET"

func TestMain(m *testing.M) {
	if len(os.Args) > 2 && os.Args[1] == "echo" { // the echo role of TestEchoFloor
		os.Exit(echoMain(os.Args[2:]))
	}
	if socket := os.Getenv(testClientSocket); socket != "" {
		if dir := os.Getenv("HAGSBENCH_TEST_CLIENT_PROFILE"); dir != "" {
			f, err := os.Create(filepath.Join(dir, fmt.Sprintf("client-%d.pprof", os.Getpid())))
			if err == nil && pprof.StartCPUProfile(f) == nil {
				defer pprof.StopCPUProfile()
			}
		}
		if err := runClient(context.Background(), socket, os.Stdin, os.Stdout); err != nil {
			os.Exit(1)
		}
		return
	}
	os.Exit(m.Run())
}

// startDaemon runs a one-node hags daemon in the test process.
func startDaemon(t testing.TB) string {
	t.Helper()
	socket := filepath.Join(t.TempDir(), "hagsd.sock")
	node, err := daemon.New(daemon.Config{Domain: "benchtest", Socket: socket})
	require.NoError(t, err, "the daemon starts")
	ln, err := node.Listen()
	require.NoError(t, err, "the daemon listens on its socket")
	served := make(chan error, 1)
	go func() { served <- node.Serve(ln) }()
	t.Cleanup(func() {
		require.NoError(t, node.Close(), "the daemon closes")
		<-served
	})
	return socket
}

// testSystem is hags with the test binary as its client processes.
type testSystem struct{ socket string }

func (s testSystem) name() string   { return "hags" }
func (s testSystem) daemonPid() int { return os.Getpid() }
func (s testSystem) close()         {}
func (s testSystem) counters() (counters, error) {
	return hagsCounters([]int{os.Getpid()}, []string{s.socket})
}
func (s testSystem) spawn(h *hub, name string) (*proc, error) {
	return startProc(h, name, []string{testClientSocket + "=" + s.socket}, os.Args[0])
}

func newTestRunner(t *testing.T) *runner {
	return &runner{ctx: context.Background(), cfg: &config{}, h: newHub(), timeout: 20 * time.Second,
		logf: func(string, ...any) {}}
}

func TestParseEvent(t *testing.T) {
	ev, err := parseEvent("mem 3 grp failed 7 123456")
	require.NoError(t, err, "a membership line parses")
	assert.Equal(t, event{kind: "mem", slot: 3, group: "grp", sub: "failed", count: 7, t: 123456, text: "mem 3 grp failed 7 123456"}, ev,
		"every field of the membership line is read")

	ev, err = parseEvent("count 1000 2000000000")
	require.NoError(t, err, "a count line parses")
	assert.Equal(t, int64(1000), ev.count, "count: protocols")
	assert.Equal(t, int64(2000000000), ev.t, "count: elapsed nanoseconds")

	ev, err = parseEvent("err join: HA_GS_COLLIDE")
	require.NoError(t, err, "an error line parses")
	assert.Equal(t, "join: HA_GS_COLLIDE", ev.text, "the error text is kept")

	for _, bad := range []string{"", "mem 1 g self", "call x g 1", "state 1 g 2 notanumber", "hello 1"} {
		_, err := parseEvent(bad)
		assert.Error(t, err, "the line %q is refused", bad)
	}
}

func TestSummarize(t *testing.T) {
	var ns []int64
	for i := 100; i >= 1; i-- {
		ns = append(ns, int64(i)*1000) // 1..100 µs, unsorted
	}
	s := summarize(ns)
	assert.Equal(t, summary{N: 100, P50: 50, P99: 99, Min: 1, Max: 100, Mean: 50.5}, s,
		"nearest-rank percentiles of 1..100 µs")
	assert.Equal(t, summary{}, summarize(nil), "no samples, no summary")
	assert.Equal(t, 7.0, summarize([]int64{7000}).P99, "one sample is every percentile")
	assert.Equal(t, 2.0, median([]float64{3, 1, 2}), "the median of three values")
}

func TestSplit(t *testing.T) {
	total := 0
	for r := range 3 {
		total += split(10, 3, r)
	}
	assert.Equal(t, 10, total, "the rounds' shares add up to the total")
	assert.Equal(t, 4, split(10, 3, 0), "the first rounds take the remainder")
	assert.Equal(t, 3, split(10, 3, 2), "the last round takes the base share")
}

func TestParseRSS(t *testing.T) {
	v, err := parseRSS([]byte("Name:\thagsd\nVmPeak:\t  9000 kB\nVmRSS:\t  1234 kB\nThreads: 5\n"))
	require.NoError(t, err, "a status with VmRSS parses")
	assert.Equal(t, int64(1234*1024), v, "VmRSS is in KiB")
	_, err = parseRSS([]byte("Name:\thagsd\n"))
	assert.Error(t, err, "a status without VmRSS is an error")

	own, err := rssBytes(os.Getpid())
	require.NoError(t, err, "this process's RSS is readable")
	assert.Positive(t, own, "this process uses memory")
}

func TestRenderCorosyncConf(t *testing.T) {
	conf, err := renderCorosyncConf("../../bench/corosync/corosync.conf.tmpl", "/tmp/state-x",
		[]corosyncNode{{ID: 1, Addr: "198.18.7.1"}, {ID: 2, Addr: "198.18.7.2"}})
	require.NoError(t, err, "the shipped template renders")
	s := string(conf)
	assert.Contains(t, s, "token: 1000", "the token timeout is stated")
	assert.Contains(t, s, "state_dir: /tmp/state-x", "the state directory is the run's")
	assert.Equal(t, 2, strings.Count(s, "node {"), "one node block per node")
	assert.Contains(t, s, "ring0_addr: 198.18.7.2\n\t\tnodeid: 2", "each node has its address and id")
	assert.Equal(t, strings.Count(s, "{"), strings.Count(s, "}"), "braces balance")
}

func TestHubCollect(t *testing.T) {
	h := newHub()
	p := &proc{name: "p"}
	h.ch <- event{proc: p, kind: "mem", sub: "join"}
	h.ch <- event{proc: p, kind: "mem", sub: "self"}
	got, err := h.collect(time.Second, 1, isMem("self"))
	require.NoError(t, err, "the matching event is found")
	assert.Equal(t, "self", got[0].sub, "only the matching event is returned")

	h.ch <- event{proc: p, kind: "err", text: "join: HA_GS_COLLIDE"}
	_, err = h.collect(time.Second, 1, isMem("self"))
	require.Error(t, err, "an err event fails the wait")
	assert.Contains(t, err.Error(), "HA_GS_COLLIDE", "the client's error is reported")

	_, err = h.collect(10*time.Millisecond, 1, isMem("self"))
	assert.ErrorIs(t, err, errWaitTimeout, "no event within the time is a timeout")
}

// TestClientRole drives the client role directly, as the coordinator
// does, against a real daemon.
func TestClientRole(t *testing.T) {
	socket := startDaemon(t)
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- runClient(context.Background(), socket, inR, outW)
		outW.Close()
	}()
	events := make(chan event, 100)
	go func() {
		defer close(events)
		buf := make([]byte, 0, 4096)
		tmp := make([]byte, 4096)
		for {
			n, err := outR.Read(tmp)
			buf = append(buf, tmp[:n]...)
			for {
				i := strings.IndexByte(string(buf), '\n')
				if i < 0 {
					break
				}
				ev, perr := parseEvent(string(buf[:i]))
				if perr != nil {
					ev = event{kind: "bad", text: perr.Error()}
				}
				events <- ev
				buf = buf[i+1:]
			}
			if err != nil {
				return
			}
		}
	}()
	next := func(what string, match func(event) bool) event {
		t.Helper()
		timer := time.NewTimer(10 * time.Second)
		defer timer.Stop()
		for {
			select {
			case ev, ok := <-events:
				require.True(t, ok, "the client goes on reporting until %s", what)
				require.NotEqual(t, "err", ev.kind, "no error before %s: %s", what, ev.text)
				require.NotEqual(t, "bad", ev.kind, "every line parses: %s", ev.text)
				if match(ev) {
					return ev
				}
			case <-timer.C:
				require.FailNow(t, "timed out waiting for "+what)
			}
		}
	}
	send := func(line string) {
		_, err := io.WriteString(inW, line+"\n")
		require.NoError(t, err, "the command %q is written", line)
	}

	ready := next("ready", func(ev event) bool { return ev.kind == "ready" })
	assert.Equal(t, int64(os.Getpid()), ready.count, "ready names the process")

	send("join 0 g 1")
	call := next("the join call", func(ev event) bool { return ev.kind == "call" })
	self := next("slot 0's approval", isMem("self"))
	assert.Equal(t, int64(1), self.count, "the first provider is alone")
	assert.Greater(t, self.t, call.t, "the approval comes after the call, on the same clock")

	send("join 1 g 2")
	// Slot 0 hearing of the join and slot 1 hearing of its own approval
	// come in either order.
	var joined, self1 int
	for joined == 0 || self1 == 0 {
		ev := next("slot 1's join seen by both slots", func(ev event) bool { return ev.kind == "mem" })
		switch {
		case ev.sub == "join" && ev.slot == 0:
			joined++
			assert.Equal(t, int64(2), ev.count, "two providers after the second join")
		case ev.sub == "self" && ev.slot == 1:
			self1++
			assert.Equal(t, int64(2), ev.count, "the joiner sees both providers")
		default:
			assert.Fail(t, "unexpected membership event", ev.text)
		}
	}

	send("propose 0 g 2")
	for range 2 {
		st := next("the two-phase state change approved", func(ev event) bool { return ev.kind == "state" })
		assert.Equal(t, int64(2), st.count, "both providers see the approval")
	}

	send("loop 100 0 g")
	cnt := next("the loop's count", func(ev event) bool { return ev.kind == "count" })
	assert.Positive(t, cnt.count, "the loop completed protocols")
	assert.GreaterOrEqual(t, cnt.t, int64(100*time.Millisecond), "the loop ran for its time")

	send("goodbye 1 g")
	left := next("slot 0 seeing slot 1 leave", isMem("left"))
	assert.Equal(t, int64(1), left.count, "one provider after the goodbye")

	send("propose 0 nosuchgroup 0")
	ev := <-events
	assert.Equal(t, "err", ev.kind, "a command on a group the slot is not in is an error")

	send("quit")
	require.NoError(t, <-done, "quit ends the client cleanly")
	inW.Close()
}

// TestScenarios runs each loopback scenario briefly with real client
// processes against a daemon.
func TestScenarios(t *testing.T) {
	sys := testSystem{socket: startDaemon(t)}
	r := newTestRunner(t)

	self, all, err := r.joinSeen(sys, 2, 3)
	require.NoError(t, err, "(b) runs")
	require.Len(t, self, 3, "(a) one sample per join")
	require.Len(t, all, 3, "(b) one sample per join")
	for i := range self {
		assert.Positive(t, self[i], "a join takes time")
		assert.Positive(t, all[i], "a join seen by all takes time")
	}

	kills, exits, afters, err := r.killSeen(sys, 2, 2)
	require.NoError(t, err, "(e) runs")
	require.Len(t, kills, 2, "(e) one sample per kill")
	// The victim's exit is timed when this process saw its output close
	// before the last notification, as it usually does.
	require.Len(t, afters, len(exits), "(e) every timed exit has its sequel")
	require.LessOrEqual(t, len(exits), len(kills), "(e) at most one exit per kill")
	for i := range exits {
		assert.Positive(t, exits[i], "(e) the victim takes time to exit")
		assert.Positive(t, afters[i], "(e) the notification takes time after the exit")
	}

	rate, err := r.throughput(sys, 2, 300*time.Millisecond)
	require.NoError(t, err, "(d) runs")
	assert.Positive(t, rate, "(d) completes protocols")

	np, err := r.nphase(sys, 3, []int{0, 2}, 2)
	require.NoError(t, err, "(c) runs")
	assert.Len(t, np[0], 2, "(c) one-phase samples")
	assert.Len(t, np[2], 2, "(c) two-phase samples")
}

func TestReport(t *testing.T) {
	rep := newReport(&config{compare: true})
	rep.add("b.join_seen_by_all", 8, 0, "hags", []int64{1000e3, 2000e3, 3000e3})
	rep.add("b.join_seen_by_all", 8, 0, "corosync", []int64{4000e3, 4000e3, 4000e3})
	rep.add("e.sigkill_seen_by_all", 8, 0, "hags", []int64{2000e3})
	rep.add("e.sigkill_seen_by_all", 8, 0, "corosync", []int64{4000e3})
	rep.add("c.nphase", 8, 1, "hags", []int64{250e3})
	rep.add("h.join_self", 1, 0, "hags", []int64{100e3})
	rep.add("h.join_self", 1, 0, "libha_gs", []int64{150e3})
	rep.addRate("d.protocols_per_s", 8, "hags", 1000)
	rep.addRate("d.protocols_per_s", 8, "corosync", 500)
	rep.addMemory(memory{Groups: 1000, Providers: 10000, PerGroup: 5000, PerProvider: 900, PerGroupBusy: 6000, PerProviderBusy: 1000})
	rep.finish()

	find := func(name string) *row {
		for _, x := range rep.Scenarios {
			if x.Name == name {
				return x
			}
		}
		require.FailNow(t, "no row "+name)
		return nil
	}
	b := find("b.join_seen_by_all")
	require.NotNil(t, b.RatioP50, "(b) has a ratio")
	assert.Equal(t, 0.5, *b.RatioP50, "hags p50 2 ms over Corosync 4 ms")
	require.NotNil(t, b.Met, "(b) N=8 has a target")
	assert.True(t, *b.Met, "0.5 <= 0.7")
	e := find("e.sigkill_seen_by_all")
	assert.False(t, *e.Met, "0.5 > 0.3 misses the (e) target")
	assert.True(t, *find("c.nphase").Met, "250 µs meets the 300 µs target")
	d := find("d.protocols_per_s")
	assert.Equal(t, 2.0, *d.RatioOps, "throughput ratio hags / Corosync")
	assert.True(t, *d.Met, "twice Corosync's rate meets the target")
	h := find("h.join_self")
	assert.Equal(t, 150.0, *h.HagsP50, "(h) reports libha_gs as hags")
	assert.Equal(t, 100.0, *h.GsapiP50, "(h) reports gsapi beside it")
	assert.Equal(t, 1.5, *h.RatioP50, "(h) ratio is libha_gs / gsapi")
	assert.False(t, *find("g.rss_per_group").Met, "5000 bytes per group misses 4 KiB")
	assert.True(t, *find("g.rss_per_provider").Met, "900 bytes per provider meets 1 KiB")

	dir := t.TempDir()
	require.NoError(t, rep.write(dir), "the results are written")
	raw, err := os.ReadFile(filepath.Join(dir, "latest.json"))
	require.NoError(t, err, "latest.json exists")
	var back struct {
		Machine   map[string]any   `json:"machine"`
		Scenarios []map[string]any `json:"scenarios"`
	}
	require.NoError(t, json.Unmarshal(raw, &back), "latest.json is JSON")
	assert.NotEmpty(t, back.Machine["cpu"], "the machine is described")
	var sawB bool
	for _, s := range back.Scenarios {
		if s["name"] == "b.join_seen_by_all" {
			sawB = true
			for _, k := range []string{"n", "hags_p50_us", "hags_p99_us", "corosync_p50_us", "ratio_p50"} {
				assert.Contains(t, s, k, "the (b) row has %s", k)
			}
		}
	}
	assert.True(t, sawB, "latest.json holds the (b) row")
	for _, f := range []string{"latest.txt", "b_join_seen_by_all.png", "e_sigkill_seen_by_all.png", "c_nphase.png", "d_protocols_per_s.png"} {
		st, err := os.Stat(filepath.Join(dir, f))
		if assert.NoError(t, err, "%s is written", f) {
			assert.Positive(t, st.Size(), "%s is not empty", f)
		}
	}
	txt, _ := os.ReadFile(filepath.Join(dir, "latest.txt"))
	assert.Contains(t, string(txt), "b.join_seen_by_all", "the table names the scenarios")
}

func TestCheckCorosyncSaysWhatIsMissing(t *testing.T) {
	cfg := &config{cpgbench: filepath.Join(t.TempDir(), "no-cpgbench")}
	err := checkCorosync(cfg)
	require.Error(t, err, "without the libcpg client Corosync cannot be measured")
	assert.True(t, errors.Is(err, errNoCorosync), "the error says Corosync is not available")
}

func TestServiceLog(t *testing.T) {
	s, err := startService("sh", regexp.MustCompile(`^ready$`), 10*time.Second,
		"sh", "-c", "echo one; echo ready; echo leadership changed; echo two; echo leadership changed; echo end; exec sleep 60")
	require.NoError(t, err, "the service starts and logs its ready line")
	defer s.kill()
	_, err = s.waitFor(regexp.MustCompile(`^end$`), 0, 10*time.Second)
	require.NoError(t, err, "the last line is waited for")
	assert.Equal(t, 2, s.count(soakLeadership, 0), "both matching lines are counted")
	assert.Equal(t, 1, s.count(soakLeadership, 3), "only lines from the mark on are counted")
	assert.Positive(t, s.pid(), "the service has a pid")
	s.kill()
	_, err = s.waitFor(regexp.MustCompile(`never`), s.mark(), 10*time.Second)
	assert.Error(t, err, "waiting on a killed service fails at once")
}

func TestReportCounts(t *testing.T) {
	rep := newReport(&config{})
	rep.addCount("s.leadership_changes", 3, "in 10m0s", 0, "0")
	rep.addCount("s.failure_notifications", 3, "in 10m0s", 2, "0")
	rep.finish()
	for _, x := range rep.Scenarios {
		require.NotNil(t, x.Met, "%s is judged", x.Name)
		assert.Equal(t, *x.HagsCount == 0, *x.Met, "%s: a count is met only at zero", x.Name)
	}
	assert.Contains(t, rep.table(), "s.failure_notifications", "the soak has its section in the table")
}

// TestEchoFloor: the floor measurement runs a real echo process and gets
// one positive round trip per sample, each a 64-byte frame echoed whole.
func TestEchoFloor(t *testing.T) {
	self, err := os.Executable()
	require.NoError(t, err)
	r := &runner{ctx: t.Context(), cfg: &config{self: self}, timeout: 20 * time.Second, logf: t.Logf}
	hot, idle, err := r.echoFloor(t.TempDir(), 50)
	require.NoError(t, err, "the echo round trips complete")
	require.Len(t, hot, 50, "one sample per round trip back to back")
	require.Len(t, idle, 50, "and one per round trip after a pause")
	for _, ns := range append(hot, idle...) {
		assert.Positive(t, ns, "every round trip takes some time")
	}
}

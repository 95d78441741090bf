package main

// The C library is tested from outside, as C programs use it: the tests
// build libha_gs.so exactly as the Makefile does, compile C programs
// (capi/testdata, examples/c) against include/ha_gs.h and the library, and
// run them as subprocesses against a real hagsd. The library is never
// loaded into this test binary: a process holds one Go runtime.

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhags/hags/gsapi"
	"github.com/openhags/hags/internal/harness"
	"github.com/openhags/hags/internal/wire"
)

// wait bounds every wait on a real process; it is generous because it is
// reached only when something is broken.
const wait = 20 * time.Second

var (
	root string // the repository
	dir  string // hagsd, gsclient, the library and the compiled C programs
)

func TestMain(m *testing.M) {
	if os.Getenv(procsProbe) != "" {
		os.Exit(reportProcs())
	}
	code, err := setup(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, "capi tests:", err)
		code = 1
	}
	if dir != "" {
		os.RemoveAll(dir)
	}
	os.Exit(code)
}

func setup(m *testing.M) (int, error) {
	wd, err := os.Getwd()
	if err != nil {
		return 1, err
	}
	root = filepath.Dir(wd)
	if dir, err = os.MkdirTemp("", "hags-capi-"); err != nil {
		return 1, err
	}
	// Programs in one case drop to nobody; they must still reach the
	// daemon's socket (the library is loaded by then).
	if err := os.Chmod(dir, 0o755); err != nil {
		return 1, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := harness.Build(ctx, dir, "./cmd/hagsd", "./examples/go/gsclient"); err != nil {
		return 1, err
	}
	if err := buildLibrary(ctx); err != nil {
		return 1, err
	}
	for _, p := range []struct{ src, out string }{
		{"capi/testdata/cases.c", "cases"},
		{"capi/testdata/cgsclient.c", "cgsclient"},
	} {
		if out, err := compile(ctx, "gcc", []string{"-std=c99"}, p.src, p.out); err != nil {
			return 1, fmt.Errorf("%w\n%s", err, out)
		}
	}
	return m.Run(), nil
}

// buildLibrary builds libha_gs.so.1.0.0 and its links into dir, with the
// Makefile's flags.
func buildLibrary(ctx context.Context) error {
	so := filepath.Join(dir, "libha_gs.so.1.0.0")
	ld := "-extldflags '-Wl,--version-script=" + filepath.Join(root, "capi", "libha_gs.map") + " -Wl,-soname,libha_gs.so.1'"
	cmd := exec.CommandContext(ctx, "go", "build", "-buildmode=c-shared", "-trimpath", "-buildvcs=false",
		"-ldflags", ld, "-o", so, "./capi")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("building libha_gs.so: %w\n%s", err, out)
	}
	for link, target := range map[string]string{
		"libha_gs.so.1": "libha_gs.so.1.0.0", "libha_gs.so": "libha_gs.so.1", "libha_gs_r.so": "libha_gs.so.1",
	} {
		if err := os.Symlink(target, filepath.Join(dir, link)); err != nil {
			return err
		}
	}
	return nil
}

// compile builds one C (or C++) program against include/ and the library,
// with warnings as errors and the library's directory as its run path.
func compile(ctx context.Context, cc string, flags []string, src, out string, libs ...string) ([]byte, error) {
	if len(libs) == 0 {
		libs = []string{"-lha_gs"}
	}
	args := append([]string{}, flags...)
	args = append(args, "-Wall", "-Wextra", "-Werror", "-I", filepath.Join(root, "include"),
		"-o", filepath.Join(dir, out), filepath.Join(root, src), "-L", dir)
	args = append(args, libs...)
	args = append(args, "-lpthread", "-Wl,-rpath,"+dir)
	cmd := exec.CommandContext(ctx, cc, args...)
	return cmd.CombinedOutput()
}

// daemon starts a hagsd on a socket every user can reach and stops it at
// cleanup, requiring a clean exit.
func daemon(t *testing.T, args ...string) *harness.Daemon {
	t.Helper()
	sdir, err := os.MkdirTemp("", "hags-capi-sock-")
	require.NoError(t, err)
	require.NoError(t, os.Chmod(sdir, 0o755))
	t.Cleanup(func() { os.RemoveAll(sdir) })
	d, err := harness.StartDaemon(filepath.Join(dir, "hagsd"), filepath.Join(sdir, "hagsd.sock"), nil, args...)
	require.NoError(t, err, "hagsd starts")
	t.Cleanup(func() { assert.NoError(t, d.Stop(wait), "hagsd exits 0 on SIGTERM") })
	return d
}

func TestRCTableIsTotal(t *testing.T) {
	for _, code := range wire.AllCodes() {
		v, ok := rcTable[code]
		require.True(t, ok, "the rc table maps %s", code)
		assert.Equal(t, int(code), int(v), "%s has the same value in ha_gs.h and internal/wire", code)
		assert.Equal(t, int(code), int(rcOf(gsapi.ErrorFor(code))), "gsapi's %s error maps to its code", code)
	}
	assert.Len(t, rcTable, len(wire.AllCodes()), "the table has no code that wire lacks")
	assert.Equal(t, int(wire.NotOK), int(rcOf(fmt.Errorf("foreign"))), "an error that is not gsapi's is HA_GS_NOT_OK")
}

// headerFunctions returns the functions include/ha_gs.h declares.
func headerFunctions(t *testing.T) []string {
	src, err := os.ReadFile(filepath.Join(root, "include", "ha_gs.h"))
	require.NoError(t, err)
	var out []string
	for _, m := range regexp.MustCompile(`(?m)^(?:ha_gs_rc_t|void)\s+(ha_gs_\w+)\(`).FindAllStringSubmatch(string(src), -1) {
		out = append(out, m[1])
	}
	sort.Strings(out)
	return out
}

func TestExportedSymbolsAreTheHeaderAndTheVersionScript(t *testing.T) {
	out, err := exec.Command("nm", "-D", "--defined-only", filepath.Join(dir, "libha_gs.so.1.0.0")).CombinedOutput()
	require.NoError(t, err, "nm runs: %s", out)
	var exported []string
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		require.Len(t, f, 3, "nm line %q has address, type and name", line)
		name := f[2]
		if f[1] == "A" && name == "HA_GS_1.0" {
			continue // the version node itself
		}
		exported = append(exported, strings.TrimSuffix(name, "@@HA_GS_1.0"))
	}
	sort.Strings(exported)

	script, err := os.ReadFile(filepath.Join(root, "capi", "libha_gs.map"))
	require.NoError(t, err)
	var global []string
	for _, m := range regexp.MustCompile(`(?m)^\s+(ha_gs_\w+);`).FindAllStringSubmatch(string(script), -1) {
		global = append(global, m[1])
	}
	sort.Strings(global)

	header := headerFunctions(t)
	require.Len(t, header, 16, "the header declares the sixteen GSAPI functions")
	assert.Equal(t, header, global, "the version script exports exactly the header's functions")
	assert.Equal(t, header, exported, "the library exports exactly the header's functions, nothing of Go or cgo")
}

func TestSonameAndLinks(t *testing.T) {
	out, err := exec.Command("readelf", "-d", filepath.Join(dir, "libha_gs.so.1.0.0")).CombinedOutput()
	require.NoError(t, err, "readelf runs: %s", out)
	assert.Contains(t, string(out), "Library soname: [libha_gs.so.1]", "the soname is libha_gs.so.1")

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// A program linked with -lha_gs_r (the thread-safe name) needs the same
	// library, by its soname.
	cout, err := compile(ctx, "gcc", []string{"-std=c99"}, "capi/testdata/cgsclient.c", "cgsclient_r", "-lha_gs_r")
	require.NoError(t, err, "a program links with -lha_gs_r: %s", cout)
	for _, prog := range []string{"cgsclient", "cgsclient_r"} {
		out, err := exec.Command("readelf", "-d", filepath.Join(dir, prog)).CombinedOutput()
		require.NoError(t, err)
		assert.Contains(t, string(out), "Shared library: [libha_gs.so.1]", "%s needs libha_gs.so.1", prog)
	}
}

// headerErrors reads, from each function's comment in include/ha_gs.h, the
// codes after "Returns:" and after "Async errors:", as case names
// "FUNC/CODE" and "FUNC/async/CODE".
func headerErrors(t *testing.T) []string {
	src, err := os.ReadFile(filepath.Join(root, "include", "ha_gs.h"))
	require.NoError(t, err)
	block := regexp.MustCompile(`(?s)/\*\n \* (ha_gs_\w+) - (.*?)\*/\n`)
	code := regexp.MustCompile(`^(?:Async errors:\s*)?(HA_GS_[A-Z_]+)\s+-`)
	var out []string
	for _, m := range block.FindAllStringSubmatch(string(src), -1) {
		fn, mode := m[1], ""
		for _, line := range strings.Split(m[2], "\n") {
			l := strings.Trim(line, " *")
			switch {
			case strings.HasPrefix(l, "Returns:"):
				mode = ""
				continue
			case strings.HasPrefix(l, "Async errors:"):
				mode = "async/"
			}
			if c := code.FindStringSubmatch(l); c != nil {
				out = append(out, fn+"/"+mode+c[1])
			}
		}
	}
	require.Greater(t, len(out), 100, "the header lists the errors of every function")
	return out
}

// untestable lists the codes in the header that no test can provoke, and
// why; every other code has its C case.
var untestable = map[string]string{
	"ha_gs_join/HA_GS_NO_MEMORY":      "the library allocates nothing that can fail for a join (cgo's malloc aborts rather than fail)",
	"ha_gs_subscribe/HA_GS_NO_MEMORY": "as for ha_gs_join",
	"ha_gs_vote/async/HA_GS_NOT_A_MEMBER": "a membership ends only with a protocol whose outcome reaches the library " +
		"before any vote that could follow it, so the library always answers first (synchronously)",
	"ha_gs_leave/async/HA_GS_PERMISSION_DENIED":              deniedRace,
	"ha_gs_expel/async/HA_GS_PERMISSION_DENIED":              deniedRace,
	"ha_gs_change_state_value/async/HA_GS_PERMISSION_DENIED": deniedRace,
	"ha_gs_send_message/async/HA_GS_PERMISSION_DENIED":       deniedRace,
	"ha_gs_change_attributes/async/HA_GS_PERMISSION_DENIED":  deniedRace,
	"ha_gs_vote/async/HA_GS_PERMISSION_DENIED":               deniedRace,
}

// deniedRace is why the delayed PERMISSION_DENIED of a request made with a
// refused join's token has no case: the daemon refuses a join at once, so
// the request must leave before that refusal reaches the library, a race no
// case can arrange. The daemon's answer to such a request is checked by the
// engine's transcript (daemon/protocol/testdata/access.txt) and, from a
// real process, by integration TestOtherUsersGroupIsRefused.
const deniedRace = "a request must leave before its join's refusal arrives; see deniedRace"

func caseNames(t *testing.T) []string {
	out, err := exec.Command(filepath.Join(dir, "cases"), "--list").Output()
	require.NoError(t, err, "cases --list runs")
	return strings.Fields(string(out))
}

func TestEveryHeaderErrorHasACase(t *testing.T) {
	have := map[string]bool{}
	for _, c := range caseNames(t) {
		have[c] = true
	}
	for _, e := range headerErrors(t) {
		if why, ok := untestable[e]; ok {
			assert.False(t, have[e], "%s has a case; take it off the untestable list (%s)", e, why)
			continue
		}
		assert.True(t, have[e], "include/ha_gs.h lists %s; capi/testdata/cases.c needs a case for it", e)
	}
}

// runCase runs one C case against socket and returns its output.
func runCase(t *testing.T, name, socket string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(dir, "cases"), name)
	cmd.Env = append(os.Environ(), "HA_GS_SOCKET="+socket)
	cmd.Env = append(cmd.Env, "HA_DOMAIN_NAME=")
	cmd.WaitDelay = time.Second
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "case %s passes; it said:\n%s", name, out)
	require.Contains(t, string(out), "PASS", "case %s reports PASS", name)
	return string(out)
}

func TestCases(t *testing.T) {
	// The access-control cases run as uid 4242 in gid 0, which the
	// daemon admits through its client group, and try to join a group
	// that root owns (OWNED_GROUP in cases.c).
	root, err := user.LookupGroupId("0")
	require.NoError(t, err, "gid 0 has a name")
	d := daemon(t, "--client-group", root.Name)
	owner, err := harness.StartClient(filepath.Join(dir, "gsclient"), "owner", d.Socket, nil)
	require.NoError(t, err)
	t.Cleanup(owner.Kill)
	require.NoError(t, owner.Send("join cases-owned-by-root 1"))
	_, _, err = owner.Expect(`^APPROVED .*proto=JOIN`, 0, wait)
	require.NoError(t, err, "the test's client creates the group the access cases try to join")
	ffdc := regexp.MustCompile(`(?m)^ffdc=(\S+)$`)
	for _, name := range caseNames(t) {
		if name == "ha_gs_init/HA_GS_NO_MEMORY" {
			continue // TestInitWhenTheDaemonIsFull
		}
		t.Run(name, func(t *testing.T) {
			out := runCase(t, name, d.Socket)
			if m := ffdc.FindStringSubmatch(out); m != nil {
				_, _, err := d.Log.WaitFor(regexp.MustCompile(`ffdc_id=`+regexp.QuoteMeta(m[1])+`\b`), 0, wait)
				assert.NoError(t, err, "the daemon logged the failure under the FFDC id %s the client got", m[1])
			}
			if strings.HasPrefix(name, "behaviour/sigpipe-handler") {
				assert.Regexp(t, `sigpipes=[1-9]`, out, "the host's SIGPIPE handler saw the broken pipe")
			}
		})
	}
}

func TestInitWhenTheDaemonIsFull(t *testing.T) {
	d := daemon(t)
	clients := make([]*gsapi.Client, 0, wire.MaxClientsPerDaemon)
	t.Cleanup(func() {
		for _, c := range clients {
			c.Close()
		}
	})
	for range wire.MaxClientsPerDaemon {
		c, err := gsapi.Dial(context.Background(), gsapi.WithSocket(d.Socket))
		require.NoError(t, err, "the daemon admits up to %d clients", wire.MaxClientsPerDaemon)
		clients = append(clients, c)
	}
	runCase(t, "ha_gs_init/HA_GS_NO_MEMORY", d.Socket)
}

func TestNoLeakOfTheLibrarysMemory(t *testing.T) {
	vg, err := exec.LookPath("valgrind")
	require.NoError(t, err, "valgrind is installed (apt-get install valgrind)")
	d := daemon(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, vg, "--leak-check=full", "--show-leak-kinds=all", "--error-exitcode=0",
		filepath.Join(dir, "cases"), "behaviour/every-notification")
	// The Go runtime inside the library reads the cycle counter with
	// RDTSCP when CPUID says the processor has it. Valgrind answers CPUID
	// itself, and on some hosts (AMD EPYC under KVM, valgrind 3.19) it
	// reports RDTSCP but cannot translate the instruction, so the program
	// dies with SIGILL in runtime.cputicks before the scenario starts.
	// cpu.rdtscp=off makes the runtime use the fenced RDTSC path, which
	// every valgrind executes; it changes nothing about the library's
	// allocations, which is all this test measures.
	cmd.Env = append(os.Environ(), "HA_GS_SOCKET="+d.Socket, "GODEBUG=cpu.rdtscp=off")
	out, err := cmd.CombinedOutput()
	require.NotContains(t, string(out), "unhandled instruction bytes",
		"valgrind can execute every instruction the program uses on this host's CPU:\n%s", out)
	require.NoError(t, err, "the scenario runs under valgrind:\n%s", out)
	report := string(out)
	require.Contains(t, report, "PASS", "the scenario passes under valgrind:\n%s", report)

	num := func(re string) int {
		m := regexp.MustCompile(re).FindStringSubmatch(report)
		require.NotNil(t, m, "valgrind's report has %q:\n%s", re, report)
		var n int
		fmt.Sscan(strings.ReplaceAll(m[1], ",", ""), &n)
		return n
	}
	allocs := num(`total heap usage: ([\d,]+) allocs`)
	frees := num(`total heap usage: [\d,]+ allocs, ([\d,]+) frees`)
	assert.Greater(t, allocs, 20, "the scenario allocated notification blocks in C memory")
	assert.Contains(t, report, "definitely lost: 0 bytes in 0 blocks", "nothing is definitely lost")
	assert.Contains(t, report, "indirectly lost: 0 bytes in 0 blocks", "nothing is indirectly lost")
	// What is left at exit must be the threads' TLS blocks that glibc's
	// pthread_create allocates for the Go runtime, nothing of ours.
	for _, rec := range strings.Split(report, "in loss record")[1:] {
		assert.Contains(t, rec, "pthread_create", "every block left at exit comes from pthread_create, this one not:\n%s", rec)
	}
	leftBlocks := num(`in use at exit: [\d,]+ bytes in ([\d,]+) blocks`)
	threadBlocks := 0
	for _, m := range regexp.MustCompile(`([\d,]+) bytes in ([\d,]+) blocks are (?:possibly lost|still reachable|definitely lost|indirectly lost) in loss record`).FindAllStringSubmatch(report, -1) {
		var n int
		fmt.Sscan(strings.ReplaceAll(m[2], ",", ""), &n)
		threadBlocks += n
	}
	assert.Equal(t, leftBlocks, threadBlocks, "every block in use at exit is in a loss record")
	assert.Equal(t, allocs-frees, leftBlocks, "every allocation but the threads' was freed")
}

// notes returns the notification lines a client printed since mark,
// without the tokens, which are all that differs between clients.
func notes(cl *harness.Client, mark int) []string {
	kinds := regexp.MustCompile(`^(NPHASE|APPROVED|REJECTED|ANNOUNCEMENT|SUBSCRIPTION|DELAYED_ERROR) `)
	tok := regexp.MustCompile(` tok=\d+`)
	var out []string
	for _, l := range cl.Out.All()[mark:] {
		if kinds.MatchString(l) {
			out = append(out, tok.ReplaceAllString(l, ""))
		}
	}
	return out
}

func TestCClientSeesWhatTheGoClientSees(t *testing.T) {
	d := daemon(t, "--domain", "capi")
	script := filepath.Join(harness.ScriptDir(t), "deactivate.sh")
	require.NoError(t, os.WriteFile(script, []byte("#!/bin/sh\nexit 0\n"), 0o755))

	start := func(bin, name string, args ...string) *harness.Client {
		cl, err := harness.StartClient(filepath.Join(dir, bin), name, d.Socket, harness.TestLog(t, name), args...)
		require.NoError(t, err, "%s starts", name)
		t.Cleanup(cl.Kill)
		return cl
	}
	goc := start("gsclient", "go")
	cc := start("cgsclient", "c")
	send := func(cl *harness.Client, cmd string) {
		t.Helper()
		require.NoError(t, cl.Send("%s", cmd), "%s takes %q", cl.Name, cmd)
	}
	// do sends cmd to cl and waits until every client in want printed a
	// line matching pattern after this point.
	do := func(cl *harness.Client, cmd, pattern string, want ...*harness.Client) {
		t.Helper()
		marks := make([]int, len(want))
		for i, w := range want {
			marks[i] = w.Mark()
		}
		send(cl, cmd)
		for i, w := range want {
			_, _, err := w.Expect(pattern, marks[i], wait)
			require.NoError(t, err, "after %q", cmd)
		}
	}
	both := []*harness.Client{goc, cc}

	do(goc, "autovote approve", `^autovote`, goc)
	do(cc, "autovote approve", `^autovote`, cc)
	do(goc, "join same 1 phases=n limit=5", `^APPROVED .*proto=JOIN`, goc)
	do(cc, "join same 2 phases=n limit=5", `^APPROVED .*proto=JOIN .*members=1@1,2@1`, both...)
	goTok := tokenOf(t, goc, "same")
	cTok := tokenOf(t, cc, "same")

	gm, cm := goc.Mark(), cc.Mark()
	do(goc, "subscribe same", `^SUBSCRIPTION`, goc)
	do(cc, "subscribe same", `^SUBSCRIPTION`, cc)
	do(goc, fmt.Sprintf("state %s v1 phases=n", goTok), `^SUBSCRIPTION .*state="v1"`, both...)
	do(cc, fmt.Sprintf("msg %s hello phases=n", cTok), `^APPROVED .*proto=PROVIDER_MESSAGE`, both...)
	do(goc, fmt.Sprintf("state %s one", goTok), `^SUBSCRIPTION .*state="one"`, both...)

	// Votes that carry a state value and a message into a second phase.
	do(goc, "autovote none", `^autovote`, goc)
	do(cc, "autovote none", `^autovote`, cc)
	do(goc, fmt.Sprintf("state %s v2 phases=n", goTok), `^NPHASE .*phase=1`, both...)
	send(cc, fmt.Sprintf("vote %s continue state=v3 msg=m3", cTok))
	do(goc, fmt.Sprintf("vote %s approve", goTok), `^NPHASE .*phase=2 .*pstate="v3" msg="m3"`, both...)
	send(cc, fmt.Sprintf("vote %s approve", cTok))
	do(goc, fmt.Sprintf("vote %s approve default=reject", goTok), `^APPROVED .*proto=STATE_VALUE_CHANGE .*phase=2`, both...)

	// A rejection, then a tardy phase.
	do(cc, fmt.Sprintf("state %s bad phases=n", cTok), `^NPHASE`, both...)
	send(goc, fmt.Sprintf("vote %s reject", goTok))
	do(cc, fmt.Sprintf("vote %s approve", cTok), `^REJECTED .*EXPLICIT_REJECT`, both...)
	do(goc, fmt.Sprintf("msg %s slow phases=n limit=1", goTok), `^REJECTED .*TIME_LIMIT_EXCEEDED`, both...)

	// A third provider with a deactivate script, expelled with it.
	do(goc, "autovote approve", `^autovote`, goc)
	do(cc, "autovote approve", `^autovote`, cc)
	third := start("gsclient", "third", "-deactivate-script", script)
	do(third, "join same 3 phases=n limit=5", `^APPROVED .*proto=JOIN .*members=1@1,2@1,3@1`, goc, cc, third)
	do(cc, fmt.Sprintf("expel %s 3@1 phases=n limit=5 dphase=1 flag=bye", cTok),
		`^APPROVED .*proto=EXPEL .*deactivate=OK`, both...)

	do(goc, "subscribe nosuch", `^DELAYED_ERROR`, goc)
	do(cc, "subscribe nosuch", `^DELAYED_ERROR`, cc)
	do(goc, fmt.Sprintf("leave %s code=7", goTok), `^APPROVED .*proto=LEAVE .*leave=LEFT:7`, both...)
	do(goc, "subscribe "+gsapi.HostMembershipGroup+" joins", `^SUBSCRIPTION .*group=HostMembership`, goc)
	do(cc, "subscribe "+gsapi.HostMembershipGroup+" joins", `^SUBSCRIPTION .*group=HostMembership`, cc)

	goNotes, cNotes := notes(goc, gm), notes(cc, cm)
	require.Greater(t, len(goNotes), 20, "the Go client saw the scenario")
	assert.Equal(t, goNotes, cNotes, "the C client reports every notification field as the Go client does")

	// The C client's view of the session.
	do(cc, "node", `^node 1$`, cc)
	do(cc, "adapter 127.0.0.1", `^adapter node=1 if=lo$`, cc)
	do(cc, "ffdc", `^ffdc hags-`, cc)
	line, _, err := cc.Expect(`^ffdc `, 0, wait)
	require.NoError(t, err)
	id := strings.TrimPrefix(line, "ffdc ")
	_, _, err = d.Log.WaitFor(regexp.MustCompile(`ffdc_id=`+regexp.QuoteMeta(id)+`\b`), 0, wait)
	assert.NoError(t, err, "the FFDC id names the daemon's log line of the last delayed error")
}

// TestForkedChildDoesNotHoldTheSession: issue 12, hole 9. A C provider
// forks a child that sleeps, and is killed; the child lives on, and still
// the group sees the provider's failure leave at once: the library's
// pthread_atfork child handler closed the session's socket in the child.
// Before it, the child held the connection open and the dead provider was
// never failed.
func TestForkedChildDoesNotHoldTheSession(t *testing.T) {
	d := daemon(t, "--domain", "capi")
	start := func(bin, name string) *harness.Client {
		cl, err := harness.StartClient(filepath.Join(dir, bin), name, d.Socket, harness.TestLog(t, name))
		require.NoError(t, err, "%s starts", name)
		t.Cleanup(cl.Kill)
		return cl
	}
	parent, watcher := start("cgsclient", "parent"), start("gsclient", "watcher")
	expect := func(cl *harness.Client, cmd, pattern string) string {
		t.Helper()
		mark := cl.Mark()
		if cmd != "" {
			require.NoError(t, cl.Send("%s", cmd), "%s takes %q", cl.Name, cmd)
		}
		line, _, err := cl.Expect(pattern, mark, wait)
		require.NoError(t, err, "%s prints %s after %q", cl.Name, pattern, cmd)
		return line
	}
	expect(parent, "join forked 1", `^APPROVED .*proto=JOIN`)
	expect(watcher, "join forked 2", `^APPROVED .*proto=JOIN .*members=1@1,2@1`)

	line := expect(parent, "fork 300", `^forked pid=\d+$`)
	child, err := strconv.Atoi(strings.TrimPrefix(line, "forked pid="))
	require.NoError(t, err)
	t.Cleanup(func() { _ = syscall.Kill(child, syscall.SIGKILL) })

	mark := watcher.Mark()
	parent.Kill()
	_, _, err = watcher.Expect(`^APPROVED .*proto=FAILURE_LEAVE .*changing=1@1 .*leave=PROCESS_DIED`, mark, wait)
	require.NoError(t, err, "the group sees the killed provider fail while its forked child lives")
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", child))
	require.NoError(t, err, "the forked child still exists")
	fields := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
	assert.Equal(t, "S", fields[0], "the forked child is alive and sleeping, not a zombie")
}

// tokenOf returns the token cl printed for group.
func tokenOf(t *testing.T, cl *harness.Client, group string) string {
	t.Helper()
	line, _, err := cl.Expect(`^token \d+ `+regexp.QuoteMeta(group)+`$`, 0, wait)
	require.NoError(t, err)
	return strings.Fields(line)[1]
}

// examples are the C programs of examples/c; each is compiled as C99 and as
// C++ with every warning an error.
var examples = []string{"nphase_provider", "expel", "subscriber", "threaded"}

func TestExamplesCompileAsCAndCxx(t *testing.T) { compileExamples(t) }

func compileExamples(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for _, ex := range examples {
		src := filepath.Join("examples", "c", ex+".c")
		out, err := compile(ctx, "gcc", []string{"-std=c99", "-pedantic"}, src, ex)
		require.NoError(t, err, "%s compiles as C99 with -Wall -Wextra -Werror:\n%s", src, out)
		out, err = compile(ctx, "g++", []string{"-std=c++11", "-x", "c++"}, src, ex+"_cxx")
		require.NoError(t, err, "%s compiles as C++11 with -Wall -Wextra -Werror:\n%s", src, out)
	}
}

// runExample runs a compiled example to its end and returns its output.
func runExample(t *testing.T, socket, prog string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(dir, prog), args...)
	cmd.Env = append(os.Environ(), "HA_GS_SOCKET="+socket)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s %v exits 0; it said:\n%s", prog, args, out)
	return string(out)
}

func TestExamplesRun(t *testing.T) {
	compileExamples(t)
	d := daemon(t)

	t.Run("nphase_provider", func(t *testing.T) {
		out := runExample(t, d.Socket, "nphase_provider", "np", "1")
		assert.Contains(t, out, `n-phase: protocol=5 phase=1 members=1@1 proposed="initial-state"`, "phase 1 proposes the first value")
		assert.Contains(t, out, `n-phase: protocol=5 phase=2 members=1@1 proposed="refined-state"`, "the CONTINUE vote's value reaches phase 2")
		assert.Contains(t, out, `approved: protocol=5 phases=2 members=1@1 state="refined-state"`, "two phases ran and the refined value won")
		assert.Contains(t, out, "done", "the provider left and quit")
	})

	t.Run("threaded (C++ build)", func(t *testing.T) {
		out := runExample(t, d.Socket, "threaded_cxx", "th", "5")
		for i := 1; i <= 5; i++ {
			assert.Contains(t, out, fmt.Sprintf(`approved state "value-%d"`, i), "change %d is approved", i)
		}
		assert.Contains(t, out, "done", "the blocking dispatcher returned HA_GS_NO_INIT after ha_gs_quit, callbacks on its thread")
	})

	t.Run("expel", func(t *testing.T) {
		sdir := harness.ScriptDir(t)
		record := filepath.Join(sdir, "ran")
		script := filepath.Join(sdir, "deactivate.sh")
		require.NoError(t, os.WriteFile(script, []byte("#!/bin/sh\necho \"$@\" > "+record+"\nexit 0\n"), 0o755))
		victim := exec.Command(filepath.Join(dir, "expel"), "victim", "ex", "2", script)
		victim.Env = append(os.Environ(), "HA_GS_SOCKET="+d.Socket)
		var vout strings.Builder
		victim.Stdout, victim.Stderr = &vout, &vout
		require.NoError(t, victim.Start())
		t.Cleanup(func() { _ = victim.Process.Kill() })
		out := runExample(t, d.Socket, "expel", "expeller", "ex", "1", "bye-now")
		assert.Contains(t, out, "phase: provider 2@1 deactivate script ok", "the voters see the script's result in phase 1")
		assert.Contains(t, out, "approved: provider 2@1 deactivate script ok", "and in the approval")
		done := make(chan error, 1)
		go func() { done <- victim.Wait() }()
		select {
		case err := <-done:
			require.NoError(t, err, "the victim exits 0 once expelled:\n%s", vout.String())
		case <-time.After(wait):
			t.Fatalf("the victim did not end after its expulsion:\n%s", vout.String())
		}
		assert.Contains(t, vout.String(), "expelled", "the victim received the approved expel")
		ran, err := os.ReadFile(record)
		require.NoError(t, err, "the deactivate script ran")
		assert.Regexp(t, `^-- ex 2 1 \d+ expel bye-now$`, strings.TrimSpace(string(ran)),
			"the script got --, group, instance, node, pid, reason and the flag")
	})

	t.Run("subscriber (select loop)", func(t *testing.T) {
		owner, err := harness.StartClient(filepath.Join(dir, "gsclient"), "owner", d.Socket, harness.TestLog(t, "owner"))
		require.NoError(t, err)
		t.Cleanup(owner.Kill)
		require.NoError(t, owner.Send("join watched 1"))
		_, _, err = owner.Expect(`^APPROVED .*proto=JOIN`, 0, wait)
		require.NoError(t, err, "the owner creates the group")

		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		sub := exec.CommandContext(ctx, filepath.Join(dir, "subscriber_cxx"), "watched")
		sub.Env = append(os.Environ(), "HA_GS_SOCKET="+d.Socket)
		stdin, err := sub.StdinPipe() // kept open: end of input would stop it
		require.NoError(t, err)
		defer stdin.Close()
		stdout, err := sub.StdoutPipe()
		require.NoError(t, err)
		require.NoError(t, sub.Start())
		lines := make(chan string, 64)
		go func() {
			sc := bufio.NewScanner(stdout)
			for sc.Scan() {
				lines <- sc.Text()
			}
			close(lines)
		}()
		next := func(what string) string {
			t.Helper()
			select {
			case l, ok := <-lines:
				require.True(t, ok, "the subscriber printed %s", what)
				return l
			case <-time.After(wait):
				t.Fatalf("the subscriber did not print %s", what)
				return ""
			}
		}
		assert.Equal(t, "subscribed to watched", next("its subscription"))
		assert.Equal(t, `subscription: state="" joined=1@1 members=1@1`, next("the group as it is"))
		mark := owner.Mark()
		require.NoError(t, owner.Send("state 1 hello"))
		assert.Equal(t, `subscription: state="hello" members=1@1`, next("the new state value"))
		// The subscriber may hear of the change before the owner's library has
		// its own approval; until then a new proposal would collide.
		_, _, err = owner.Expect(`^APPROVED .*proto=STATE_VALUE_CHANGE`, mark, wait)
		require.NoError(t, err, "the owner's state change is approved")
		require.NoError(t, owner.Send("leave 1"))
		assert.Equal(t, `subscription: left=1@1 members=-`, next("the last provider's leave"))
		assert.Contains(t, next("the dissolution"), "dissolved", "the last leave dissolves the group")
		require.NoError(t, sub.Wait(), "the subscriber exits 0 when the group dissolves")
	})
}

func TestMakeInstall(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		t.Fatalf("make is needed: %v", err)
	}
	dest := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "make", "-s", "-C", root, "install", "DESTDIR="+dest, "PREFIX=/usr")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "make install runs:\n%s", out)

	usr := filepath.Join(dest, "usr")
	for _, f := range []string{"sbin/hagsd", "sbin/hagsrmd", "bin/hagsctl", "bin/hagsrm", "include/ha_gs.h", "lib/libha_gs.so.1.0.0",
		"lib/libha_gs.a", "lib/pkgconfig/libha_gs.pc", "share/man/man3/ha_gs_join.3", "lib/systemd/system/hagsd.service"} {
		assert.FileExists(t, filepath.Join(usr, f), "make install writes %s", f)
	}
	for link, target := range map[string]string{"libha_gs.so.1": "libha_gs.so.1.0.0", "libha_gs.so": "libha_gs.so.1", "libha_gs_r.so": "libha_gs.so.1"} {
		got, err := os.Readlink(filepath.Join(usr, "lib", link))
		require.NoError(t, err, "%s is a link", link)
		assert.Equal(t, target, got, "%s points at %s", link, target)
	}
	pc, err := os.ReadFile(filepath.Join(usr, "lib", "pkgconfig", "libha_gs.pc"))
	require.NoError(t, err)
	assert.Contains(t, string(pc), "prefix=/usr\n", "the pkg-config file names the install prefix")

	// A program built from the installed files with pkg-config, against the
	// shared library and, statically, against libha_gs.a.
	pkg := exec.CommandContext(ctx, "pkg-config", "--cflags", "--libs", "libha_gs")
	pkg.Env = append(os.Environ(), "PKG_CONFIG_PATH="+filepath.Join(usr, "lib", "pkgconfig"), "PKG_CONFIG_SYSROOT_DIR="+dest)
	flags, err := pkg.Output()
	require.NoError(t, err, "pkg-config finds libha_gs")
	assert.Contains(t, string(flags), "-lha_gs", "pkg-config gives the library")
	src := filepath.Join(root, "capi", "testdata", "cgsclient.c")
	shared := filepath.Join(t.TempDir(), "shared")
	args := append([]string{"-std=c99", "-Wall", "-Wextra", "-Werror", "-o", shared, src}, strings.Fields(string(flags))...)
	args = append(args, "-Wl,-rpath,"+filepath.Join(usr, "lib"))
	out, err = exec.CommandContext(ctx, "gcc", args...).CombinedOutput()
	require.NoError(t, err, "a program builds with pkg-config's flags:\n%s", out)
	static := filepath.Join(t.TempDir(), "static")
	out, err = exec.CommandContext(ctx, "gcc", "-std=c99", "-Wall", "-Wextra", "-Werror", "-I", filepath.Join(usr, "include"),
		"-o", static, src, filepath.Join(usr, "lib", "libha_gs.a"), "-lpthread").CombinedOutput()
	require.NoError(t, err, "a program links libha_gs.a statically:\n%s", out)
	ldd, err := exec.Command("readelf", "-d", static).CombinedOutput()
	require.NoError(t, err)
	assert.NotContains(t, string(ldd), "libha_gs.so", "the static program needs no libha_gs.so")

	d := daemon(t)
	for _, prog := range []string{shared, static} {
		c := exec.CommandContext(ctx, prog)
		c.Env = append(os.Environ(), "HA_GS_SOCKET="+d.Socket)
		c.Stdin = strings.NewReader("node\nquit\n")
		out, err := c.CombinedOutput()
		require.NoError(t, err, "%s runs:\n%s", prog, out)
		assert.Equal(t, "ready node=1\nnode 1\nbye\n", string(out), "%s talks to the daemon", prog)
	}
}

// TestEveryExportRecovers checks, in the source, that each //export
// function's first statement defers a recover, so that no Go panic can
// unwind into the host program.
func TestEveryExportRecovers(t *testing.T) {
	fset := token.NewFileSet()
	pkgs, err := parser.ParseDir(fset, ".", func(fi fs.FileInfo) bool { return !strings.HasSuffix(fi.Name(), "_test.go") }, parser.ParseComments)
	require.NoError(t, err)
	exports := 0
	for _, p := range pkgs {
		for _, f := range p.Files {
			for _, d := range f.Decls {
				fn, ok := d.(*ast.FuncDecl)
				if !ok || fn.Doc == nil || !hasExport(fn.Doc) {
					continue
				}
				exports++
				require.NotEmpty(t, fn.Body.List, "%s has a body", fn.Name.Name)
				def, ok := fn.Body.List[0].(*ast.DeferStmt)
				require.True(t, ok, "%s starts with a deferred recover", fn.Name.Name)
				if lit, isLit := def.Call.Fun.(*ast.FuncLit); isLit {
					recovers := false
					ast.Inspect(lit, func(n ast.Node) bool {
						if c, ok := n.(*ast.CallExpr); ok {
							if id, ok := c.Fun.(*ast.Ident); ok && id.Name == "recover" {
								recovers = true
							}
						}
						return true
					})
					assert.True(t, recovers, "%s's deferred func calls recover", fn.Name.Name)
					continue
				}
				assert.Equal(t, "recoverRC", fmt.Sprint(def.Call.Fun), "%s defers recoverRC first", fn.Name.Name)
			}
		}
	}
	assert.Equal(t, 16, exports, "every public function has its export")
}

func hasExport(g *ast.CommentGroup) bool {
	for _, c := range g.List {
		if strings.HasPrefix(c.Text, "//export ") {
			return true
		}
	}
	return false
}

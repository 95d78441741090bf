// Command demo shows what hags does: it starts a one-node hagsd in a
// temporary directory and real client processes (gsclient) that join a
// group, change its state value, send a message, vote in an n-phase
// protocol, expel a provider (whose deactivate script hagsd runs), subscribe
// and leave; one of them is killed with SIGKILL to show a failure leave. It prints what every
// process saw and exits 0, or 1 if anything did not happen as expected.
//
// Run it with `make demo`.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/openhags/hags/internal/harness"
)

// tee labels a process's output lines.
func tee(name string) func(string) { return harness.Tee(name, 7) }

const wait = 10 * time.Second

type demo struct {
	bin     string
	scripts string
	socket  string
	procs   map[string]*harness.Client
}

func main() {
	bin := flag.String("bin", "build/bin", "directory holding hagsd, hagsctl and gsclient")
	scripts := flag.String("scripts", "examples/scripts", "directory holding the sample deactivate scripts")
	flag.Parse()
	start := time.Now()
	if err := run(*bin, *scripts); err != nil {
		harness.Say("\ndemo FAILED: %v", err)
		os.Exit(1)
	}
	harness.Say("\ndemo finished in %v", time.Since(start).Round(time.Millisecond))
}

func run(bin, scripts string) error {
	dir, err := os.MkdirTemp("", "hags-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if scripts, err = filepath.Abs(scripts); err != nil {
		return err
	}
	if os.Geteuid() == 0 {
		// hagsd runs a root client's script only if root alone can change
		// it and every directory above it; a source tree need not be so.
		safe, remove, err := harness.RootScriptDir()
		if err != nil {
			return err
		}
		defer remove()
		sample, err := os.ReadFile(filepath.Join(scripts, "deactivate.sh"))
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(safe, "deactivate.sh"), sample, 0o755); err != nil {
			return err
		}
		scripts = safe
	}
	d := &demo{bin: bin, scripts: scripts, socket: filepath.Join(dir, "hagsd.sock"), procs: map[string]*harness.Client{}}

	harness.Say("== starting hagsd (one-node domain) on %s", d.socket)
	// Show the daemon's log lines about deactivate scripts; the rest is noise here.
	showScripts := func(line string) {
		if strings.Contains(line, "deactivate script") {
			harness.Say("    %-7s| %s", "hagsd", line)
		}
	}
	daemon, err := harness.StartDaemon(filepath.Join(bin, "hagsd"), d.socket, showScripts, "--domain", "demo")
	if err != nil {
		return err
	}
	defer daemon.Kill()
	defer func() {
		for _, c := range d.procs {
			c.Kill()
		}
	}()

	steps := []struct {
		title string
		do    func() error
	}{
		{"alice joins group \"web\" and creates it", func() error {
			return d.startAndJoin("alice", 1)
		}},
		{"watcher subscribes to web's state value and membership", func() error {
			w, err := d.start("watcher")
			if err != nil {
				return err
			}
			mark := w.Mark()
			_ = w.Send("subscribe web state joins leaves")
			_, _, err = w.Expect(`^SUBSCRIPTION .*members=1@1`, mark, wait)
			return err
		}},
		{"bob and carol join: every provider is told, in the same order", func() error {
			if err := d.startAndJoin("bob", 2); err != nil {
				return err
			}
			return d.startAndJoin("carol", 3)
		}},
		{"bob proposes a new state value (one-phase: approved at once)", func() error {
			return d.expectAll(func() { _ = d.procs["bob"].Send("state 1 primary=bob") },
				`^APPROVED .*proto=STATE_VALUE_CHANGE .*state="primary=bob"`, "alice", "bob", "carol")
		}},
		{"alice broadcasts a provider message", func() error {
			return d.expectAll(func() { _ = d.procs["alice"].Send("msg 1 hello-from-alice") },
				`^APPROVED .*proto=PROVIDER_MESSAGE .*msg="hello-from-alice"`, "alice", "bob", "carol")
		}},
		{"an n-phase protocol: bob proposes a state value; everyone votes continue, then approve", func() error {
			for _, n := range []string{"alice", "bob", "carol"} {
				if err := d.procs[n].Send("autovote continue:2"); err != nil {
					return err
				}
				if _, _, err := d.procs[n].Expect(`^autovote `, 0, wait); err != nil {
					return err
				}
			}
			return d.expectAll(func() { _ = d.procs["bob"].Send("state 1 primary=bob,gen=2 phases=n limit=10") },
				`^APPROVED .*proto=STATE_VALUE_CHANGE .*sum=EXPLICIT_APPROVE .*phase=2 `, "alice", "bob", "carol")
		}},
		{"dave joins with a deactivate script; alice expels him and hagsd runs the script", func() error {
			if _, err := d.start("dave", "--deactivate-script", filepath.Join(d.scripts, "deactivate.sh")); err != nil {
				return err
			}
			if err := d.expectAll(func() { _ = d.procs["dave"].Send("join web 4") },
				`^APPROVED .*proto=JOIN .*changing=4@`, "alice", "bob", "carol", "dave"); err != nil {
				return err
			}
			return d.expectAll(func() { _ = d.procs["alice"].Send("expel 1 4@1 phases=n limit=10 dphase=1 flag=force") },
				`^APPROVED .*proto=EXPEL .*changing=4@1 .*deactivate=OK`, "alice", "bob", "carol", "dave")
		}},
		{"hagsctl shows the group", func() error {
			out, err := exec.Command(filepath.Join(bin, "hagsctl"), "--socket", d.socket, "group", "web").CombinedOutput()
			for _, l := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
				harness.Say("    hagsctl| %s", l)
			}
			return err
		}},
		{"carol is killed with SIGKILL: the others see a failure leave", func() error {
			return d.expectAll(func() { d.procs["carol"].Kill() },
				`^APPROVED .*proto=FAILURE_LEAVE .*changing=3@1 .*leave=PROCESS_DIED`, "alice", "bob")
		}},
		{"bob leaves the group", func() error {
			return d.expectAll(func() { _ = d.procs["bob"].Send("leave 1 code=7") },
				`^APPROVED .*proto=LEAVE .*changing=2@1 .*leave=LEFT:7`, "alice", "bob")
		}},
		{"alice leaves: the group dissolves and the watcher is told", func() error {
			w := d.procs["watcher"]
			mark := w.Mark()
			_ = d.procs["alice"].Send("leave 1")
			_, _, err := w.Expect(`^SUBSCRIPTION .*type=DISSOLVED`, mark, wait)
			return err
		}},
	}
	for i, s := range steps {
		harness.Say("\n== %d. %s", i+1, s.title)
		if err := s.do(); err != nil {
			return fmt.Errorf("step %d (%s): %w", i+1, s.title, err)
		}
	}

	harness.Say("\n== what each process saw (approved changes, in order)")
	var ref []string
	for _, name := range []string{"alice", "bob", "carol", "dave", "watcher"} {
		c := d.procs[name]
		var seen []string
		for _, l := range c.Out.All() {
			if strings.HasPrefix(l, "APPROVED ") || strings.HasPrefix(l, "SUBSCRIPTION ") {
				seen = append(seen, l)
			}
		}
		harness.Say("  %s (pid %d): %d notifications", name, c.Pid(), len(seen))
		for _, l := range seen {
			harness.Say("    %s", l)
		}
		if name == "alice" {
			ref = canonical(seen)
		}
		if name == "bob" && !isSubsequence(canonical(seen), ref) {
			return fmt.Errorf("bob's approved changes are not in alice's order")
		}
	}
	harness.Say("\nalice and bob saw the changes they shared in the same order.")

	for _, name := range []string{"alice", "bob", "dave", "watcher"} {
		_ = d.procs[name].Quit(wait)
	}
	harness.Say("\n== stopping hagsd (SIGTERM)")
	return daemon.Stop(wait)
}

var tokRe = regexp.MustCompile(` tok=\d+`)

func canonical(lines []string) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = tokRe.ReplaceAllString(l, "")
	}
	return out
}

// isSubsequence reports whether every line of sub appears in full, in order.
func isSubsequence(sub, full []string) bool {
	i := 0
	for _, l := range full {
		if i < len(sub) && sub[i] == l {
			i++
		}
	}
	return i == len(sub)
}

func (d *demo) start(name string, args ...string) (*harness.Client, error) {
	c, err := harness.StartClient(filepath.Join(d.bin, "gsclient"), name, d.socket, tee(name), args...)
	if err != nil {
		return nil, err
	}
	d.procs[name] = c
	return c, nil
}

func (d *demo) startAndJoin(name string, instance int) error {
	c, err := d.start(name)
	if err != nil {
		return err
	}
	var others []string
	for n := range d.procs {
		if n != name && n != "watcher" {
			others = append(others, n)
		}
	}
	return d.expectAll(func() { _ = c.Send("join web %d", instance) },
		fmt.Sprintf(`^APPROVED .*proto=JOIN .*changing=%d@`, instance), append(others, name)...)
}

// expectAll runs act and waits until every named process printed a line
// matching pattern after that moment.
func (d *demo) expectAll(act func(), pattern string, names ...string) error {
	marks := map[string]int{}
	for _, n := range names {
		marks[n] = d.procs[n].Mark()
	}
	act()
	for _, n := range names {
		if _, _, err := d.procs[n].Expect(pattern, marks[n], wait); err != nil {
			return err
		}
	}
	return nil
}

// Command democluster shows a domain of several nodes on one machine: it
// starts three hagsd daemons on loopback (all three are voters), a provider
// process (gsclient) on each, has them join one group and change its state
// from every node, shows hagsctl nodes, then kills one daemon with SIGKILL
// and shows the failure leave (NODE_DIED) that the providers on the other
// two nodes see, and how long it took. It exits 0, or 1 if anything did not
// happen as expected.
//
// Run it with `make demo-cluster`.
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
func tee(name string) func(string) { return harness.Tee(name, 4) }

const wait = 15 * time.Second

func main() {
	bin := flag.String("bin", "build/bin", "directory holding hagsd, hagsctl and gsclient")
	flag.Parse()
	start := time.Now()
	if err := run(*bin); err != nil {
		harness.Say("\ndemo-cluster FAILED: %v", err)
		os.Exit(1)
	}
	harness.Say("\ndemo-cluster finished in %v", time.Since(start).Round(time.Millisecond))
}

func run(bin string) error {
	dir, err := os.MkdirTemp("", "hags-demo-cluster-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	ports, err := harness.FreePorts(6)
	if err != nil {
		return err
	}
	var voters, gossip []string
	for i := range 3 {
		voters = append(voters, fmt.Sprintf("%d=127.0.0.1:%d", i+1, ports[2*i]))
		gossip = append(gossip, fmt.Sprintf("127.0.0.1:%d", ports[2*i+1]))
	}

	harness.Say("== starting three hagsd on loopback, voters %s", strings.Join(voters, " "))
	daemons := make([]*harness.Daemon, 3)
	sockets := make([]string, 3)
	defer func() {
		for _, d := range daemons {
			if d != nil {
				d.Kill()
			}
		}
	}()
	for i := range 3 {
		sockets[i] = filepath.Join(dir, fmt.Sprintf("n%d.sock", i+1))
		show := func(line string) { // the domain's news, not every log line
			for _, w := range []string{"admitted", "node declared down", "leadership changed", "node health"} {
				if strings.Contains(line, w) {
					harness.Say("    hagsd%d| %s", i+1, line)
					return
				}
			}
		}
		d, err := harness.StartDaemon(filepath.Join(bin, "hagsd"), sockets[i], show,
			"--domain", "demo", "--node", fmt.Sprint(i+1), "--voters", strings.Join(voters, ","),
			"--gossip", gossip[i], "--join", strings.Join(gossip, ","),
			"--data-dir", filepath.Join(dir, fmt.Sprintf("data%d", i+1)),
			"--insecure") // a demo on loopback; a real domain gives --pki-dir
		if err != nil {
			return err
		}
		daemons[i] = d
	}
	for i, d := range daemons {
		if _, _, err := d.Log.WaitFor(regexp.MustCompile(`admitted to the domain`), 0, wait); err != nil {
			return fmt.Errorf("hagsd%d: %w", i+1, err)
		}
	}

	names := []string{"p1", "p2", "p3"}
	procs := map[string]*harness.Client{}
	defer func() {
		for _, c := range procs {
			c.Kill()
		}
	}()
	expectAll := func(do func(), pattern string, who ...string) ([]string, error) {
		marks := map[string]int{}
		for _, n := range who {
			marks[n] = procs[n].Mark()
		}
		do()
		var lines []string
		for _, n := range who {
			l, _, err := procs[n].Expect(pattern, marks[n], wait)
			if err != nil {
				return nil, err
			}
			lines = append(lines, l)
		}
		return lines, nil
	}

	harness.Say("\n== a provider on each node joins group \"svc\"")
	for i, n := range names {
		c, err := harness.StartClient(filepath.Join(bin, "gsclient"), n, sockets[i], tee(n))
		if err != nil {
			return err
		}
		procs[n] = c
		if _, err := expectAll(func() { _ = c.Send("join svc 1") },
			fmt.Sprintf(`^APPROVED .*proto=JOIN .*changing=1@%d`, i+1), names[:i+1]...); err != nil {
			return err
		}
	}

	harness.Say("\n== each node proposes a state value; every provider sees the same order")
	for _, n := range names {
		v := "primary=" + n
		if _, err := expectAll(func() { _ = procs[n].Send("state 1 %s", v) },
			fmt.Sprintf(`^APPROVED .*proto=STATE_VALUE_CHANGE .*state="%s"`, v), names...); err != nil {
			return err
		}
	}

	harness.Say("\n== hagsctl nodes (on node 1)")
	out, err := exec.Command(filepath.Join(bin, "hagsctl"), "--socket", sockets[0], "nodes").CombinedOutput()
	if err != nil {
		return fmt.Errorf("hagsctl nodes: %w: %s", err, out)
	}
	harness.Say("%s", strings.TrimRight(string(out), "\n"))

	harness.Say("\n== SIGKILL hagsd3: p1 and p2 see p3's provider leave with NODE_DIED")
	killed := time.Now()
	lines, err := expectAll(func() {
		daemons[2].Kill()
		daemons[2] = nil
	}, `^APPROVED .*proto=FAILURE_LEAVE .*changing=1@3 .*leave=NODE_DIED`, "p1", "p2")
	if err != nil {
		return err
	}
	harness.Say("   the failure leave reached the survivors %v after the kill", time.Since(killed).Round(time.Millisecond))
	for _, l := range lines {
		if !strings.Contains(l, "members=1@1,1@2 ") {
			return fmt.Errorf("after the failure the group should hold 1@1 and 1@2: %s", l)
		}
	}
	if _, _, err := procs["p3"].Expect(`^lost HA_GS_NOT_OK`, 0, wait); err != nil {
		return err
	}
	harness.Say("   p3 lost its daemon (HA_GS_NOT_OK)")

	harness.Say("\n== the two survivors go on agreeing")
	if _, err := expectAll(func() { _ = procs["p2"].Send("state 1 after-the-death") },
		`^APPROVED .*proto=STATE_VALUE_CHANGE .*state="after-the-death"`, "p1", "p2"); err != nil {
		return err
	}
	out, err = exec.Command(filepath.Join(bin, "hagsctl"), "--socket", sockets[0], "nodes").CombinedOutput()
	if err != nil {
		return fmt.Errorf("hagsctl nodes: %w: %s", err, out)
	}
	harness.Say("%s", strings.TrimRight(string(out), "\n"))
	return nil
}

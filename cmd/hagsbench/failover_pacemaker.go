package main

import (
	"bytes"
	"errors"
	"fmt"
	"html"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"text/template"
	"time"

	"github.com/openhags/hags/failover/agent/actlog"
)

// pcmkCluster is three Pacemaker nodes (corosync and pacemakerd with its
// daemons), each in its own network, mount, UTS and PID namespaces
// (bench/pacemaker/node.sh), started and stopped by the benchmark. Its
// only resource agent is ActLogDummy, installed for the nodes alone by an
// overlay of the machine's OCF agents. Commands (crm_resource, cibadmin,
// crm_mon) run inside a live node's namespaces through nsenter.
//
// Settings: stonith-enabled=false, resource-stickiness=100 (a group stays
// where it is once a move's constraint is cleared), corosync's token as
// given (Debian's default is 3000 ms), everything else Pacemaker's
// defaults (dc-deadtime 20 s, no-quorum-policy stop).
type pcmkCluster struct {
	cfg   *config
	nn    *netns
	dir   string
	token int
	extra string // the OCF overlay's upper directories
	acts  *actTail

	mu    sync.Mutex
	nodes [rmNodes]*service
	init  [rmNodes]int // the node's first process (node.sh), in the machine's PID namespace
}

// checkPacemaker says whether Pacemaker can run here.
func checkPacemaker(cfg *config) error {
	for _, p := range []string{"pacemakerd", "corosync", "crm_resource", "cibadmin", "crm_mon", "crm_attribute", "nsenter", "unshare"} {
		if _, err := exec.LookPath(p); err != nil {
			return fmt.Errorf("%w (make bench-compare installs Debian's pacemaker)", err)
		}
	}
	if _, err := os.Stat("/usr/lib/ocf/resource.d/heartbeat/Dummy"); err != nil {
		return fmt.Errorf("ocf:heartbeat:Dummy: %w (Debian's resource-agents)", err)
	}
	if _, err := os.Stat(cfg.actlogBin); err != nil {
		return fmt.Errorf("hagsrm-actlog: %w (make bench-tools builds it)", err)
	}
	return nil
}

// pacemakerVersion is the first line of pacemakerd --version.
func pacemakerVersion() string {
	out, err := exec.Command("pacemakerd", "--version").Output()
	if err != nil {
		return ""
	}
	line, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	return line
}

func newPcmkCluster(cfg *config, nn *netns, dir string, token int) (*pcmkCluster, error) {
	if err := checkPacemaker(cfg); err != nil {
		return nil, err
	}
	p := &pcmkCluster{cfg: cfg, nn: nn, dir: dir, token: token, extra: filepath.Join(dir, "ocf-extra")}
	if err := os.MkdirAll(filepath.Join(p.extra, "hagsbench"), 0o755); err != nil {
		return nil, err
	}
	if err := installActLogDummy(cfg, filepath.Join(p.extra, "hagsbench")); err != nil {
		return nil, err
	}
	p.acts = newActTail(cfg.ctx, filepath.Join(dir, "actions.log"))
	return p, p.writeConfs()
}

// pcmkNode is one node of corosync.conf's node list.
type pcmkNode struct {
	ID         int
	Addr, Name string
}

// writeConfs writes every node's corosync.conf for the current token.
func (p *pcmkCluster) writeConfs() error {
	t, err := template.ParseFiles(filepath.Join(p.cfg.root, "bench", "pacemaker", "corosync.conf.tmpl"))
	if err != nil {
		return fmt.Errorf("corosync template: %w", err)
	}
	var nodes []pcmkNode
	for i := range rmNodes {
		nodes = append(nodes, pcmkNode{ID: i + 1, Addr: p.nn.addr(i), Name: rmNodeNames[i]})
	}
	var b bytes.Buffer
	if err := t.Execute(&b, struct {
		Nodes []pcmkNode
		Token int
	}{nodes, p.token}); err != nil {
		return fmt.Errorf("corosync template: %w", err)
	}
	for i := range rmNodes {
		d := p.nodeDir(i)
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(d, "corosync.conf"), b.Bytes(), 0o644); err != nil {
			return err
		}
	}
	return nil
}

func (p *pcmkCluster) name() string         { return "pacemaker" }
func (p *pcmkCluster) log() *actTail        { return p.acts }
func (p *pcmkCluster) nodeDir(i int) string { return filepath.Join(p.dir, rmNodeNames[i]) }

var pcmkNodeStarted = regexp.MustCompile(`^node\.sh: .*: corosync`)

func (p *pcmkCluster) startNode(i int) error {
	argv := inNs(p.nn.nodes[i], "unshare", "--mount", "--propagation", "private", "--uts", "--pid", "--fork", "--kill-child", "--mount-proc",
		"sh", filepath.Join(p.cfg.root, "bench", "pacemaker", "node.sh"), rmNodeNames[i], p.nodeDir(i), p.extra)
	s, err := startService("pacemaker-"+rmNodeNames[i], pcmkNodeStarted, 30*time.Second, argv...)
	if err != nil {
		return err
	}
	// s is unshare (ip netns exec execs it); its child is node.sh, the
	// first process of the node's PID namespace.
	var init int
	if err := retryUntil(5*time.Second, 5*time.Millisecond, func() error {
		if c := childPids(s.pid()); len(c) > 0 {
			init = c[0]
			return nil
		}
		return errors.New("unshare has no child")
	}); err != nil {
		s.kill()
		return err
	}
	p.mu.Lock()
	p.nodes[i], p.init[i] = s, init
	p.mu.Unlock()
	return nil
}

func (p *pcmkCluster) startAll() error {
	errs := make([]error, rmNodes)
	var wg sync.WaitGroup
	for i := range rmNodes {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = p.startNode(i) }()
	}
	wg.Wait()
	return errors.Join(errs...)
}

func (p *pcmkCluster) alive(i int) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.nodes[i] != nil
}

// cmd runs argv inside a live node's namespaces.
func (p *pcmkCluster) cmd(argv ...string) (int64, []byte, error) {
	p.mu.Lock()
	pid := 0
	for i := range rmNodes {
		if p.nodes[i] != nil {
			pid = p.init[i]
			break
		}
	}
	p.mu.Unlock()
	if pid == 0 {
		return 0, nil, errors.New("no Pacemaker node runs")
	}
	return runTimed(nil, append([]string{"nsenter", "-t", fmt.Sprint(pid), "-m", "-n", "-u", "-p"}, argv...)...)
}

var pcmkOnline = regexp.MustCompile(`(?m)^\s*\* Online: \[ (.*) \]`)

// ready waits until a DC with quorum lists every live node online.
func (p *pcmkCluster) ready(timeout time.Duration) error {
	return retryUntil(timeout, 200*time.Millisecond, func() error {
		_, out, err := p.cmd("crm_mon", "-1")
		if err != nil {
			return err
		}
		if !bytes.Contains(out, []byte("partition with quorum")) {
			return fmt.Errorf("no quorate DC yet: %s", out)
		}
		m := pcmkOnline.FindSubmatch(out)
		if m == nil {
			return fmt.Errorf("no node online yet")
		}
		online := strings.Fields(string(m[1]))
		for i := range rmNodes {
			if p.alive(i) && !slicesContains(online, rmNodeNames[i]) {
				return fmt.Errorf("%s is not online yet", rmNodeNames[i])
			}
		}
		return nil
	})
}

func slicesContains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// configure sets the cluster options of the comparison.
func (p *pcmkCluster) configure() error {
	for _, argv := range [][]string{
		{"crm_attribute", "--type", "crm_config", "--name", "stonith-enabled", "--update", "false"},
		{"crm_attribute", "--type", "rsc_defaults", "--name", "resource-stickiness", "--update", "100"},
	} {
		if _, _, err := p.cmd(argv...); err != nil {
			return err
		}
	}
	return nil
}

// killNode kills node i's namespace: SIGKILL of its first process ends
// every process in it; its /run and /dev/shm go with it.
func (p *pcmkCluster) killNode(i int) error {
	p.mu.Lock()
	s, init := p.nodes[i], p.init[i]
	p.nodes[i], p.init[i] = nil, 0
	p.mu.Unlock()
	if s == nil {
		return nil
	}
	_ = syscall.Kill(init, syscall.SIGKILL)
	at := actlog.Now()
	<-s.done
	return p.acts.powerOffRecords(i, at)
}

func (p *pcmkCluster) powerOff() {
	for i := range rmNodes {
		_ = p.killNode(i)
	}
}

func (p *pcmkCluster) cut(i int) error  { return p.nn.setLink(i, false) }
func (p *pcmkCluster) heal(i int) error { return p.nn.setLink(i, true) }

// groupXML is a Pacemaker group of ActLogDummy primitives.
func (p *pcmkCluster) groupXML(g rmGroup) string {
	var b strings.Builder
	esc := html.EscapeString
	fmt.Fprintf(&b, "<group id=\"%s\">", esc(g.name))
	if !g.online {
		fmt.Fprintf(&b, "<meta_attributes id=\"%s-meta\"><nvpair id=\"%s-tr\" name=\"target-role\" value=\"Stopped\"/></meta_attributes>",
			esc(g.name), esc(g.name))
	}
	for _, r := range g.resources {
		n := esc(r.name)
		fmt.Fprintf(&b, "<primitive id=\"%s\" class=\"ocf\" provider=\"hagsbench\" type=\"ActLogDummy\">", n)
		fmt.Fprintf(&b, "<instance_attributes id=\"%s-ia\"><nvpair id=\"%s-log\" name=\"actlog\" value=\"%s\"/>"+
			"<nvpair id=\"%s-bin\" name=\"actlog_bin\" value=\"%s\"/></instance_attributes>",
			n, n, esc(p.acts.path), n, esc(p.cfg.actlogBin))
		if r.monitor > 0 {
			fmt.Fprintf(&b, "<operations><op id=\"%s-monitor\" name=\"monitor\" interval=\"%dms\" timeout=\"20s\"/></operations>",
				n, r.monitor.Milliseconds())
		}
		b.WriteString("</primitive>")
	}
	b.WriteString("</group>")
	return b.String()
}

func (p *pcmkCluster) createGroup(g rmGroup) error {
	for _, r := range g.resources {
		if r.exec {
			return errors.New("Pacemaker has no exec resources here")
		}
	}
	from := p.acts.mark()
	file := filepath.Join(p.dir, g.name+".xml")
	if err := os.WriteFile(file, []byte(p.groupXML(g)), 0o644); err != nil {
		return err
	}
	if _, _, err := p.cmd("cibadmin", "--create", "-o", "resources", "--xml-file", file); err != nil {
		return err
	}
	if !g.online {
		return nil
	}
	_, err := p.acts.waitCount(from, len(g.resources), 120*time.Second, func(r actlog.Record) bool {
		return r.Op == actlog.OpStart && r.OK && strings.HasPrefix(r.Resource, g.name)
	})
	return err
}

func (p *pcmkCluster) move(group string, to int) (int64, error) {
	t0, _, err := p.cmd("crm_resource", "--move", "-r", group, "-N", rmNodeNames[to])
	return t0, err
}

func (p *pcmkCluster) settle(group string, res []string) error {
	if _, _, err := p.cmd("crm_resource", "--clear", "-r", group); err != nil {
		return err
	}
	for _, r := range res {
		if _, _, err := p.cmd("crm_resource", "--cleanup", "-r", r); err != nil {
			return err
		}
	}
	return nil
}

func (p *pcmkCluster) online(res string) (int64, error) {
	t0, _, err := p.cmd("crm_resource", "-r", res, "--meta", "-p", "target-role", "-v", "Started")
	return t0, err
}

func (p *pcmkCluster) offline(res string) (int64, error) {
	t0, _, err := p.cmd("crm_resource", "-r", res, "--meta", "-p", "target-role", "-v", "Stopped")
	return t0, err
}

// dummyState is under the node's own /run, reached through its first
// process's root.
func (p *pcmkCluster) dummyState(i int, res string) string {
	p.mu.Lock()
	init := p.init[i]
	p.mu.Unlock()
	return fmt.Sprintf("/proc/%d/root/run/resource-agents/Dummy-%s.state", init, res)
}

func (p *pcmkCluster) applyScale(groups []rmGroup) (int64, int64, error) {
	_, cur, err := p.cmd("cibadmin", "--query", "-o", "resources")
	if err != nil {
		return 0, 0, err
	}
	var add strings.Builder
	for _, g := range groups {
		add.WriteString(p.groupXML(g))
	}
	doc := string(cur)
	end := strings.LastIndex(doc, "</resources>")
	if end < 0 {
		if !strings.Contains(doc, "<resources/>") {
			return 0, 0, fmt.Errorf("unexpected resources section: %.200s", doc)
		}
		doc = strings.Replace(doc, "<resources/>", "<resources>"+add.String()+"</resources>", 1)
	} else {
		doc = doc[:end] + add.String() + doc[end:]
	}
	file := filepath.Join(p.dir, "scale.xml")
	if err := os.WriteFile(file, []byte(doc), 0o644); err != nil {
		return 0, 0, err
	}
	t0, _, err := p.cmd("cibadmin", "--replace", "-o", "resources", "--xml-file", file)
	return t0, actlog.Now(), err
}

// rss sums corosync's and Pacemaker's daemons on node i (not node.sh, nor
// agents that happen to run).
func (p *pcmkCluster) rss(i int) (map[string]int64, error) {
	p.mu.Lock()
	init := p.init[i]
	p.mu.Unlock()
	if init == 0 {
		return nil, fmt.Errorf("node %s is down", rmNodeNames[i])
	}
	all, err := procTreeRSS(init)
	if err != nil {
		return nil, err
	}
	out := map[string]int64{}
	for name, v := range all {
		if name == "corosync" || strings.HasPrefix(name, "pacemaker") {
			out[name] = v
		}
	}
	return out, nil
}

func (p *pcmkCluster) close() {
	p.powerOff()
}

package daemon

import (
	"cmp"
	"errors"
	"fmt"
	"os"
	"runtime/metrics"
	"slices"

	"golang.org/x/sys/unix"

	"github.com/openhags/hags/daemon/agreement"
	"github.com/openhags/hags/daemon/ipc"
	"github.com/openhags/hags/internal/wire"
)

// Admin queries (hagsctl status, groups, group) and the domain's nodes as
// this daemon sees them, which Welcome also carries.

// answer replies to an admin query from the engine's current state.
func (n *Node) answer(s *session, q *wire.AdminQuery) {
	var rep wire.AdminReply
	switch q.What {
	case "status":
		rep.Status = n.status()
	case "groups":
		n.agr.View(func() { rep.Groups = n.eng.Groups() })
	case "group":
		var d *wire.GroupDetail
		var ok bool
		n.agr.View(func() { d, ok = n.eng.Group(q.Group) })
		if ok {
			rep.Group = d
		} else {
			rep.Error = fmt.Sprintf("unknown group %q", q.Group)
		}
	default:
		rep.Error = fmt.Sprintf("unknown query %q (want status, groups or group)", q.What)
	}
	frame, err := wire.AppendFrame(nil, wire.MsgAdminReply, &rep)
	if err != nil {
		s.log.Error("cannot encode admin reply", "query", q.What, "err", err)
		frame, _ = wire.AppendFrame(nil, wire.MsgAdminReply, &wire.AdminReply{Error: "reply too large"})
	}
	if err := s.out.Put(frame); errors.Is(err, ipc.ErrOutboxFull) {
		s.close(err)
	}
}

// AgreementCounters returns what the agreement counted of its way to the
// log (agreement.Counters). It is safe to call from any goroutine.
func (n *Node) AgreementCounters() agreement.Counters { return n.agr.Counters() }

// Admitted reports whether this daemon is in the domain now: admitted, and
// not cut off or declared down since. It is safe to call from any
// goroutine.
func (n *Node) Admitted() bool { return n.state.Load() == stateUp }

// Status describes this daemon and the domain's nodes as it sees them
// (what hagsctl status shows). It is safe to call from any goroutine.
func (n *Node) Status() *wire.Status { return n.status() }

func (n *Node) status() *wire.Status {
	st := &wire.Status{
		Domain:      n.cfg.Domain,
		Node:        n.cfg.Node,
		Version:     Version,
		Pid:         int32(os.Getpid()),
		Incarnation: uint64(n.cfg.Incarnation),
		StartedUnix: n.started.Unix(),
		Nodes:       n.nodes(),
		Runtime:     runtimeCounters(),
	}
	ac := n.agr.Counters()
	st.Runtime.Resent, st.Runtime.LogDuplicates, st.Runtime.LogOutOfOrder = ac.Resent, ac.Duplicates, ac.OutOfOrder
	n.agr.View(func() {
		st.Clients = n.eng.Clients()
		st.Groups = len(n.eng.Groups())
	})
	return st
}

// nodes lists the domain's nodes as this daemon sees them: raft's
// configuration gives the roles, the log says which nodes are up.
func (n *Node) nodes() []wire.NodeStatus {
	byNode := map[int32]*wire.NodeStatus{}
	get := func(node int32) *wire.NodeStatus {
		if ns := byNode[node]; ns != nil {
			return ns
		}
		ns := &wire.NodeStatus{Node: node, Role: "none", Health: "unknown"}
		byNode[node] = ns
		return ns
	}
	leader, hasLeader := n.agr.Leader()
	members, err := n.agr.Members()
	if err != nil {
		n.log.Debug("no raft configuration for status", "err", err)
	}
	for _, m := range members {
		ns := get(m.Node)
		if n.cfg.Cluster != nil { // a one-node domain's address is an in-memory name
			ns.Address = m.Addr
		}
		ns.Role = "follower"
		if m.Voter {
			ns.Role = "voter"
		}
		if hasLeader && m.Node == leader {
			ns.Role = "leader"
		}
	}
	for _, st := range n.agr.Nodes() {
		ns := get(st.Node)
		ns.Health = "dead"
		if st.Up {
			ns.Health = "alive"
		}
	}
	if n.dom != nil {
		// The failure detector's word on health wins over the log's,
		// which lags behind it.
		for _, mem := range n.dom.Members() {
			ns := get(mem.Node)
			ns.Name = mem.Name
			ns.Health = mem.Health.String()
			if ns.Address == "" {
				ns.Address = mem.RaftAddr
			}
		}
	}
	if ns := byNode[n.cfg.Node]; ns != nil && ns.Name == "" {
		// A one-node domain has no failure detector to name it: it is
		// still called what Name says (hagsd --name, default node<N>).
		ns.Name = n.Name()
	}
	out := make([]wire.NodeStatus, 0, len(byNode))
	for _, ns := range byNode {
		out = append(out, *ns)
	}
	slices.SortFunc(out, func(a, b wire.NodeStatus) int { return cmp.Compare(a.Node, b.Node) })
	return out
}

// domainNodes lists the domain's nodes by number and name, this one
// named even in a one-node domain, for clients' Welcome.
func (n *Node) domainNodes() []wire.NodeName {
	var out []wire.NodeName
	for _, ns := range n.nodes() {
		name := ns.Name
		if ns.Node == n.cfg.Node {
			name = n.Name()
		}
		out = append(out, wire.NodeName{Node: ns.Node, Name: name})
	}
	if len(out) == 0 {
		out = append(out, wire.NodeName{Node: n.cfg.Node, Name: n.Name()})
	}
	return out
}

// runtimeCounters reads the process's allocation and scheduling counters.
func runtimeCounters() *wire.RuntimeCounters {
	s := []metrics.Sample{{Name: "/gc/heap/allocs:objects"}, {Name: "/gc/heap/allocs:bytes"}}
	metrics.Read(s)
	rc := &wire.RuntimeCounters{}
	if s[0].Value.Kind() == metrics.KindUint64 {
		rc.Allocs = s[0].Value.Uint64()
	}
	if s[1].Value.Kind() == metrics.KindUint64 {
		rc.AllocBytes = s[1].Value.Uint64()
	}
	var ru unix.Rusage
	if unix.Getrusage(unix.RUSAGE_SELF, &ru) == nil {
		rc.VoluntarySwitches, rc.InvoluntarySwitches = uint64(ru.Nvcsw), uint64(ru.Nivcsw)
	}
	return rc
}

package main

import (
	"encoding/json"
	"io"

	"github.com/openhags/hags/internal/wire"
)

// What hagsctl --json prints: every key in snake_case, the style of the
// failover manager's output (docs/cli.md). These types are the contract;
// the wire types behind them may change.

type statusJSON struct {
	Domain      string     `json:"domain"`
	Node        int32      `json:"node"`
	Version     string     `json:"version"`
	Pid         int32      `json:"pid"`
	Incarnation uint64     `json:"incarnation"`
	StartedUnix int64      `json:"started_unix"`
	Clients     int        `json:"clients"`
	Groups      int        `json:"groups"`
	Nodes       []nodeJSON `json:"nodes"`
}

type nodeJSON struct {
	Node    int32  `json:"node"`
	Name    string `json:"name"`
	Address string `json:"address"`
	Role    string `json:"role"`
	Health  string `json:"health"`
}

type groupSummaryJSON struct {
	Name        string `json:"name"`
	Providers   int    `json:"providers"`
	Subscribers int    `json:"subscribers"`
	Protocol    string `json:"protocol"`
}

type attributesJSON struct {
	GroupName                 string `json:"group_name"`
	SourceGroupName           string `json:"source_group_name"`
	BatchControl              int32  `json:"batch_control"`
	NumPhases                 int32  `json:"num_phases"`
	SourceReflectionNumPhases int32  `json:"source_reflection_num_phases"`
	DefaultVote               int32  `json:"default_vote"`
	MergeControl              int32  `json:"merge_control"`
	TimeLimit                 uint32 `json:"time_limit"`
	SourceReflectionTimeLimit uint32 `json:"source_reflection_time_limit"`
}

type providerJSON struct {
	Instance  int32  `json:"instance"`
	Node      int32  `json:"node"`
	Pid       int32  `json:"pid"`
	LocalName string `json:"local_name"`
}

type subscriberJSON struct {
	Node    int32  `json:"node"`
	Pid     int32  `json:"pid"`
	Control uint32 `json:"control"`
}

type protocolJSON struct {
	Type     int32             `json:"type"`
	TypeName string            `json:"type_name"`
	Phase    uint32            `json:"phase"`
	Proposer providerRefJSON   `json:"proposer"`
	Waiting  []providerRefJSON `json:"waiting"`
}

type providerRefJSON struct {
	Instance int32 `json:"instance"`
	Node     int32 `json:"node"`
}

type groupJSON struct {
	Name       string         `json:"name"`
	OwnerUID   uint32         `json:"owner_uid"`
	Attributes attributesJSON `json:"attributes"`
	// State is the state value's bytes (base64, as JSON carries bytes);
	// StateText shows it as hagsctl's text does: a quoted string when it
	// is printable, else hex.
	State       []byte           `json:"state"`
	StateText   string           `json:"state_text"`
	Providers   []providerJSON   `json:"providers"`
	Subscribers []subscriberJSON `json:"subscribers"`
	Protocol    *protocolJSON    `json:"protocol"`
	Queued      int              `json:"queued"`
}

func nodesJSON(ns []wire.NodeStatus) []nodeJSON {
	out := []nodeJSON{}
	for _, n := range ns {
		out = append(out, nodeJSON{Node: n.Node, Name: n.Name, Address: n.Address, Role: n.Role, Health: n.Health})
	}
	return out
}

func ref(p wire.Provider) providerRefJSON { return providerRefJSON{Instance: p.Instance, Node: p.Node} }

func groupDetailJSON(d *wire.GroupDetail) *groupJSON {
	if d == nil {
		return nil
	}
	a := d.Attributes
	g := &groupJSON{Name: d.Name, OwnerUID: d.Owner, State: d.State, StateText: formatState(d.State), Queued: d.Queued,
		Attributes: attributesJSON{GroupName: a.GroupName, SourceGroupName: a.SourceGroupName,
			BatchControl: int32(a.BatchControl), NumPhases: int32(a.NumPhases),
			SourceReflectionNumPhases: int32(a.SourceReflectionNumPhases), DefaultVote: int32(a.DefaultVote),
			MergeControl: int32(a.MergeControl), TimeLimit: a.TimeLimit, SourceReflectionTimeLimit: a.SourceReflectionTimeLimit},
		Providers: []providerJSON{}, Subscribers: []subscriberJSON{}}
	if g.State == nil {
		g.State = []byte{}
	}
	for _, p := range d.Providers {
		g.Providers = append(g.Providers, providerJSON{Instance: p.Provider.Instance, Node: p.Provider.Node, Pid: p.Pid, LocalName: p.LocalName})
	}
	for _, s := range d.Subscribers {
		g.Subscribers = append(g.Subscribers, subscriberJSON{Node: s.Node, Pid: s.Pid, Control: uint32(s.Control)})
	}
	if p := d.Protocol; p != nil {
		g.Protocol = &protocolJSON{Type: int32(p.Type), TypeName: p.Type.String(), Phase: p.Phase, Proposer: ref(p.Proposer),
			Waiting: []providerRefJSON{}}
		for _, w := range p.Waiting {
			g.Protocol.Waiting = append(g.Protocol.Waiting, ref(w))
		}
	}
	return g
}

func printJSON(w io.Writer, q wire.AdminQuery, rep *wire.AdminReply) error {
	var v any
	switch q.What {
	case "status":
		if s := rep.Status; s != nil {
			v = statusJSON{Domain: s.Domain, Node: s.Node, Version: s.Version, Pid: s.Pid, Incarnation: s.Incarnation,
				StartedUnix: s.StartedUnix, Clients: s.Clients, Groups: s.Groups, Nodes: nodesJSON(s.Nodes)}
		}
	case "nodes":
		var ns []wire.NodeStatus
		if rep.Status != nil {
			ns = rep.Status.Nodes
		}
		v = nodesJSON(ns)
	case "groups":
		out := []groupSummaryJSON{}
		for _, g := range rep.Groups {
			out = append(out, groupSummaryJSON{Name: g.Name, Providers: g.Providers, Subscribers: g.Subscribers, Protocol: g.Protocol})
		}
		v = out
	case "group":
		v = groupDetailJSON(rep.Group)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

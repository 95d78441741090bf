package console

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"sort"
	"time"

	"github.com/openhags/hags/failover"
)

// errStopping is returned by join once the hub has stopped.
var errStopping = errors.New("console: stopping")

// resubscribeEvery paces attempts to subscribe again after the Backend
// refused or ended a subscription.
const resubscribeEvery = time.Second

// Views: what the page is shown of each object. Agent parameters, fence
// commands and properties are left out: they may hold secrets, and the
// page has no use for them.

// NodeView is a node as the page shows it.
type NodeView struct {
	Name       string `json:"node"`
	ID         int32  `json:"id"`
	State      string `json:"state"`
	StateValue int32  `json:"state_value"`
}

// GroupView is a group as the page shows it.
type GroupView struct {
	Name            string   `json:"group"`
	State           string   `json:"state"`
	StateValue      int32    `json:"state_value"`
	Owner           string   `json:"owner"`
	MovingTo        string   `json:"moving_to,omitempty"`
	PersistentState string   `json:"persistent_state"`
	Sequence        uint64   `json:"sequence"`
	Resources       []string `json:"resources"`
}

// ResourceView is a resource as the page shows it.
type ResourceView struct {
	Name            string `json:"resource"`
	Group           string `json:"group"`
	State           string `json:"state"`
	StateValue      int32  `json:"state_value"`
	Owner           string `json:"owner"`
	PersistentState string `json:"persistent_state"`
	Sequence        uint64 `json:"sequence"`
	Agent           string `json:"agent"`
	Locked          bool   `json:"locked,omitempty"`
}

func nodeView(n failover.NodeInfo) NodeView {
	return NodeView{Name: n.Name, ID: n.ID, State: n.State.String(), StateValue: int32(n.State)}
}

func groupView(g failover.GroupInfo) GroupView {
	res := g.Resources
	if res == nil {
		res = []string{}
	}
	return GroupView{Name: g.Name, State: g.State.String(), StateValue: int32(g.State), Owner: g.Owner,
		MovingTo: g.MovingTo, PersistentState: g.PersistentState.String(), Sequence: g.Sequence, Resources: res}
}

func resourceView(r failover.ResourceInfo) ResourceView {
	return ResourceView{Name: r.Name, Group: r.Group, State: r.State.String(), StateValue: int32(r.State),
		Owner: r.Owner, PersistentState: r.PersistentState.String(), Sequence: r.Sequence, Agent: r.Agent, Locked: r.Locked}
}

// Entry is one change in the timeline.
type Entry struct {
	// Time is when the console saw the change, in milliseconds since
	// the Unix epoch.
	Time  int64  `json:"time"`
	Kind  string `json:"kind"` // "node", "group" or "resource"
	Name  string `json:"name"`
	State string `json:"state"`
	// Was is the state before, "" when the object is new to the console.
	Was   string `json:"was,omitempty"`
	Owner string `json:"owner,omitempty"`
	// WasOwner is the owner before, when it changed.
	WasOwner string `json:"was_owner,omitempty"`
	MovingTo string `json:"moving_to,omitempty"`
	Deleted  bool   `json:"deleted,omitempty"`
}

// stateEvent is the data of a "state" event.
type stateEvent struct {
	Nodes     []NodeView     `json:"nodes"`
	Groups    []GroupView    `json:"groups"`
	Resources []ResourceView `json:"resources"`
	Timeline  []Entry        `json:"timeline"`
}

// changeEvent is the data of a "change" event: the object after the
// change (one of Node, Group, Resource) and its timeline entry.
type changeEvent struct {
	Node     *NodeView     `json:"node,omitempty"`
	Group    *GroupView    `json:"group,omitempty"`
	Resource *ResourceView `json:"resource,omitempty"`
	Deleted  bool          `json:"deleted,omitempty"`
	Entry    Entry         `json:"entry"`
}

// page is one open event stream.
type page struct {
	ch chan []byte
}

// hub keeps the state the page shows and the timeline, fed by one
// subscription to the Backend, and sends each change to every page.
// Everything it holds is owned by its run loop; join and leave talk to
// the loop through channels.
type hub struct {
	backend    Backend
	history    time.Duration
	maxEntries int
	now        func() time.Time
	log        *slog.Logger

	joins  chan joinReq
	leaves chan *page
	done   chan struct{}

	// Owned by the run loop.
	nodes     map[int32]NodeView // by number: a node's name may come later than the node
	groups    map[string]GroupView
	resources map[string]ResourceView
	timeline  []Entry // oldest first
	pages     map[*page]struct{}
	live      bool // subscribed: the state is current
}

type joinReq struct {
	reply chan *page
}

func newHub(b Backend, history time.Duration, maxEntries int, now func() time.Time, log *slog.Logger) *hub {
	return &hub{backend: b, history: history, maxEntries: maxEntries, now: now, log: log,
		joins: make(chan joinReq), leaves: make(chan *page), done: make(chan struct{}),
		pages: map[*page]struct{}{}}
}

// join opens a page's stream; its first event is the whole state (as
// soon as the hub holds it).
func (h *hub) join(ctx context.Context) (*page, error) {
	req := joinReq{reply: make(chan *page, 1)}
	select {
	case h.joins <- req:
		return <-req.reply, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-h.done:
		return nil, errStopping
	}
}

// leave closes a page's stream.
func (h *hub) leave(p *page) {
	select {
	case h.leaves <- p:
	case <-h.done:
	}
}

// run is the hub's loop: subscribe, apply changes, serve joins and
// leaves; subscribe again whenever the stream ends.
func (h *hub) run(ctx context.Context) error {
	defer close(h.done)
	defer func() {
		for p := range h.pages {
			close(p.ch)
		}
	}()
	for {
		sctx, cancel := context.WithCancel(ctx)
		st, ch, err := h.backend.Subscribe(sctx)
		if err != nil {
			cancel()
			h.log.Warn("console cannot follow the cluster; trying again", "err", err, "in", resubscribeEvery)
			if !h.idle(ctx, time.After(resubscribeEvery)) {
				return nil
			}
			continue
		}
		h.reset(st)
		more := h.follow(ctx, ch)
		cancel()
		if !more {
			return nil
		}
		h.log.Info("the console's change stream ended; following the cluster again")
		h.live = false
	}
}

// idle serves joins and leaves until wake fires (true) or ctx ends
// (false).
func (h *hub) idle(ctx context.Context, wake <-chan time.Time) bool {
	for {
		select {
		case <-ctx.Done():
			return false
		case <-wake:
			return true
		case req := <-h.joins:
			req.reply <- h.add()
		case p := <-h.leaves:
			h.remove(p)
		}
	}
}

// follow applies changes until the stream ends (true) or ctx ends
// (false).
func (h *hub) follow(ctx context.Context, ch <-chan failover.Change) bool {
	for {
		select {
		case <-ctx.Done():
			return false
		case c, ok := <-ch:
			if !ok {
				return true
			}
			h.apply(c)
		case req := <-h.joins:
			req.reply <- h.add()
		case p := <-h.leaves:
			h.remove(p)
		}
	}
}

// add registers a page and queues the state for it when the hub holds
// one (else the state follows once it does).
func (h *hub) add() *page {
	p := &page{ch: make(chan []byte, streamBuffer)}
	h.pages[p] = struct{}{}
	if h.live {
		p.ch <- h.stateEvent()
	}
	return p
}

func (h *hub) remove(p *page) {
	if _, ok := h.pages[p]; ok {
		delete(h.pages, p)
		close(p.ch)
	}
}

// broadcast sends ev to every page; a page whose buffer is full is
// dropped (its browser reconnects and gets the whole state).
func (h *hub) broadcast(ev []byte) {
	for p := range h.pages {
		select {
		case p.ch <- ev:
		default:
			h.remove(p)
		}
	}
}

// reset takes a new state from a subscription and sends it to every
// page. The timeline goes on: changes missed while the console was not
// subscribed are not in it.
func (h *hub) reset(st State) {
	h.nodes = map[int32]NodeView{}
	h.groups = map[string]GroupView{}
	h.resources = map[string]ResourceView{}
	for _, n := range st.Nodes {
		h.nodes[n.ID] = nodeView(n)
	}
	for _, g := range st.Groups {
		h.groups[g.Name] = groupView(g)
	}
	for _, r := range st.Resources {
		h.resources[r.Name] = resourceView(r)
	}
	h.live = true
	h.broadcast(h.stateEvent())
}

// apply takes one change: the state, a timeline entry, and an event for
// every page.
func (h *hub) apply(c failover.Change) {
	e := Entry{Time: h.now().UnixMilli(), Kind: string(c.Kind), Deleted: c.Deleted}
	ev := changeEvent{Deleted: c.Deleted}
	switch {
	case c.Node != nil:
		v := nodeView(*c.Node)
		old, had := h.nodes[v.ID]
		if had && old == v && !c.Deleted {
			return // already in the state (the subscription's overlap)
		}
		e.Name, e.State = v.Name, v.State
		if had {
			e.Was = old.State
		}
		if c.Deleted {
			delete(h.nodes, v.ID)
		} else {
			h.nodes[v.ID] = v
		}
		ev.Node = &v
	case c.Group != nil:
		v := groupView(*c.Group)
		old, had := h.groups[v.Name]
		if had && old.Sequence >= v.Sequence && !c.Deleted {
			return // already in the state
		}
		e.Name, e.State, e.Owner, e.MovingTo = v.Name, v.State, v.Owner, v.MovingTo
		if had {
			e.Was = old.State
			if old.Owner != v.Owner {
				e.WasOwner = old.Owner
			}
		}
		if c.Deleted {
			delete(h.groups, v.Name)
		} else {
			h.groups[v.Name] = v
		}
		ev.Group = &v
	case c.Resource != nil:
		v := resourceView(*c.Resource)
		old, had := h.resources[v.Name]
		if had && old.Sequence >= v.Sequence && !c.Deleted {
			return
		}
		e.Name, e.State, e.Owner = v.Name, v.State, v.Owner
		if had {
			e.Was = old.State
			if old.Owner != v.Owner {
				e.WasOwner = old.Owner
			}
		}
		if c.Deleted {
			delete(h.resources, v.Name)
		} else {
			h.resources[v.Name] = v
		}
		ev.Resource = &v
	default:
		h.log.Warn("console ignores a change that names no object", "kind", c.Kind)
		return
	}
	h.timeline = append(h.timeline, e)
	h.prune()
	ev.Entry = e
	h.broadcast(encodeEvent("change", ev))
}

// prune drops entries older than the history and beyond the bound.
func (h *hub) prune() {
	cut := h.now().Add(-h.history).UnixMilli()
	i := sort.Search(len(h.timeline), func(i int) bool { return h.timeline[i].Time >= cut })
	if over := len(h.timeline) - h.maxEntries; over > i {
		i = over
	}
	if i > 0 {
		h.timeline = append([]Entry(nil), h.timeline[i:]...)
	}
}

// stateEvent encodes the whole state and the timeline.
func (h *hub) stateEvent() []byte {
	h.prune()
	st := stateEvent{Nodes: []NodeView{}, Groups: []GroupView{}, Resources: []ResourceView{},
		Timeline: append([]Entry{}, h.timeline...)}
	for _, n := range h.nodes {
		st.Nodes = append(st.Nodes, n)
	}
	sort.Slice(st.Nodes, func(i, j int) bool { return st.Nodes[i].ID < st.Nodes[j].ID })
	for _, g := range h.groups {
		st.Groups = append(st.Groups, g)
	}
	sort.Slice(st.Groups, func(i, j int) bool { return st.Groups[i].Name < st.Groups[j].Name })
	for _, r := range h.resources {
		st.Resources = append(st.Resources, r)
	}
	sort.Slice(st.Resources, func(i, j int) bool { return st.Resources[i].Name < st.Resources[j].Name })
	return encodeEvent("state", st)
}

// encodeEvent formats one server-sent event. JSON holds no raw newline,
// so the data is one line.
func encodeEvent(name string, v any) []byte {
	b, err := json.Marshal(v)
	if err != nil { // plain data: would be a bug
		b = []byte(`{}`)
	}
	out := make([]byte, 0, len(b)+len(name)+16)
	out = append(out, "event: "...)
	out = append(out, name...)
	out = append(out, "\ndata: "...)
	out = append(out, b...)
	return append(out, "\n\n"...)
}

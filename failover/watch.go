package failover

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/openhags/hags/failover/internal/mgmtwire"
)

// watchBuffer is how many changes a Watcher holds for its reader; one
// that falls further behind ends with ErrWatchEnded (the Client's reader
// never waits for a watcher).
const watchBuffer = 1024

// Watcher is a stream of every agreed change of node, group and resource
// state, from the moment Watch returned, in the order the cluster agreed
// on them (ApiCreateNotify's push alternative to polling).
type Watcher struct {
	c  *Client
	id uint64
	ch chan Change

	mu   sync.Mutex
	err  error
	done bool
}

// Watch starts a Watcher. Close it when done; closing the Client ends it
// too.
func (c *Client) Watch(ctx context.Context) (*Watcher, error) {
	w := &Watcher{c: c, ch: make(chan Change, watchBuffer)}
	// The watcher is registered under the request's ID before the request
	// is sent, so that no event can arrive before it is known.
	c.mu.Lock()
	if c.err != nil {
		err := c.err
		c.mu.Unlock()
		return nil, err
	}
	c.next++
	w.id = c.next
	c.watches[w.id] = w
	ch := make(chan mgmtwire.Response, 1)
	c.calls[w.id] = ch
	c.mu.Unlock()
	if err := c.watchCall(ctx, w.id, ch); err != nil {
		c.mu.Lock()
		delete(c.watches, w.id)
		delete(c.calls, w.id)
		c.mu.Unlock()
		return nil, err
	}
	return w, nil
}

// watchCall sends the OpWatch request with the ID already registered.
func (c *Client) watchCall(ctx context.Context, id uint64, ch chan mgmtwire.Response) error {
	if err := c.wc.Send(mgmtwire.MsgRequest, &mgmtwire.Request{ID: id, Op: mgmtwire.OpWatch}); err != nil {
		c.fail(fmt.Errorf("%w: %v", ErrConnectionLost, err))
		return c.reason()
	}
	select {
	case r := <-ch:
		if r.Fault != "" {
			return fmt.Errorf("%w: %s", ErrOutcomeUnknown, r.Fault)
		}
		if r.Code != uint32(CodeSuccess) {
			return &Error{Code: Code(r.Code), Message: r.Message}
		}
		return nil
	case <-ctx.Done():
		// The watch may start anyway; end it so the server frees it.
		c.stopWatch(id)
		return ctx.Err()
	case <-c.done:
		return c.reason()
	}
}

// Changes returns the stream. It is closed when the watch ends; Err then
// says why.
func (w *Watcher) Changes() <-chan Change { return w.ch }

// Err returns nil while the watch runs or after Close, and why it ended
// otherwise (ErrWatchEnded, or the Client's error).
func (w *Watcher) Err() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// Close ends the watch.
func (w *Watcher) Close() error {
	w.end(nil)
	w.c.stopWatch(w.id)
	return nil
}

// end closes the stream once, recording why.
func (w *Watcher) end(err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done {
		return
	}
	w.done = true
	w.err = err
	close(w.ch)
}

// stopWatch forgets a watch and asks hagsrmd to end it, in the
// background: the Client's reader may be the caller, and must not write.
func (c *Client) stopWatch(id uint64) {
	c.mu.Lock()
	delete(c.watches, id)
	live := c.err == nil
	if live {
		c.bg.Add(1)
	}
	c.mu.Unlock()
	if !live {
		return
	}
	go func() {
		defer c.bg.Done()
		_ = c.do(context.Background(), &mgmtwire.Request{Op: mgmtwire.OpUnwatch, Watch: id})
	}()
}

// deliver hands an event to its watcher without waiting.
func (c *Client) deliver(w *Watcher, ev *mgmtwire.Event) {
	if ev.End != "" {
		w.end(fmt.Errorf("%w: %s", ErrWatchEnded, ev.End))
		c.mu.Lock()
		delete(c.watches, w.id)
		c.mu.Unlock()
		return
	}
	var ch Change
	if err := mgmtwire.DecodeBody(ev.Change, &ch); err != nil {
		w.end(fmt.Errorf("%w: undecodable change: %v", ErrWatchEnded, err))
		c.stopWatch(w.id)
		return
	}
	w.mu.Lock()
	if w.done {
		w.mu.Unlock()
		return
	}
	select {
	case w.ch <- ch:
		w.mu.Unlock()
	default:
		w.mu.Unlock()
		w.end(fmt.Errorf("%w: the watcher fell %d changes behind", ErrWatchEnded, watchBuffer))
		c.stopWatch(w.id)
	}
}

// Wait waits until the group is neither Pending nor moving and returns
// its state then. When ctx's deadline passes first, it returns the state
// at that moment with an *Error of ERROR_TIMEOUT (the operation goes on);
// when ctx is cancelled, ctx's error.
func (g *Group) Wait(ctx context.Context) (GroupInfo, error) {
	read := func(ctx context.Context) (map[string]GroupInfo, error) {
		info, err := g.State(ctx)
		if err != nil {
			return nil, err
		}
		return map[string]GroupInfo{info.Name: info}, nil
	}
	got, err := waitFor(ctx, g.c, read, groupOf, groupSettled)
	return got[g.name], err
}

// Wait waits until the resource is neither OnlinePending nor
// OfflinePending, as Group.Wait does.
func (r *Resource) Wait(ctx context.Context) (ResourceInfo, error) {
	read := func(ctx context.Context) (map[string]ResourceInfo, error) {
		info, err := r.State(ctx)
		if err != nil {
			return nil, err
		}
		return map[string]ResourceInfo{info.Name: info}, nil
	}
	got, err := waitFor(ctx, r.c, read, resourceOf, resourceSettled)
	return got[r.name], err
}

// WaitGroups waits until none of the named groups is Pending or moving,
// and returns their states then (a group deleted meanwhile is left out).
// Its deadline works as Group.Wait's. hagsrm node pause --drain --wait
// waits with it for the groups the node owned.
func (c *Client) WaitGroups(ctx context.Context, names ...string) ([]GroupInfo, error) {
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	read := func(ctx context.Context) (map[string]GroupInfo, error) {
		all, err := c.Groups(ctx)
		if err != nil {
			return nil, err
		}
		out := map[string]GroupInfo{}
		for _, g := range all {
			if want[g.Name] {
				out[g.Name] = g
			}
		}
		return out, nil
	}
	got, err := waitFor(ctx, c, read, groupOf, groupSettled)
	var out []GroupInfo
	for _, n := range names {
		if g, ok := got[n]; ok {
			out = append(out, g)
		}
	}
	return out, err
}

func groupOf(ch Change) (GroupInfo, bool) {
	if ch.Group == nil {
		return GroupInfo{}, false
	}
	return *ch.Group, true
}

func groupSettled(g GroupInfo) bool { return g.State != GroupPending && g.MovingTo == "" }

func resourceOf(ch Change) (ResourceInfo, bool) {
	if ch.Resource == nil {
		return ResourceInfo{}, false
	}
	return *ch.Resource, true
}

func resourceSettled(r ResourceInfo) bool { return !r.State.Pending() }

// waitable is what waitFor waits on: a group or a resource.
type waitable interface {
	GroupInfo | ResourceInfo
}

func nameSeq[T waitable](v T) (string, uint64) {
	switch x := any(v).(type) {
	case GroupInfo:
		return x.Name, x.Sequence
	case ResourceInfo:
		return x.Name, x.Sequence
	}
	return "", 0
}

// waitFor watches changes until every object read returned is settled.
// The watch starts before the read, so no change is missed; a change is
// taken only when its sequence number is newer than what is known (a
// deletion always).
func waitFor[T waitable](ctx context.Context, c *Client, read func(context.Context) (map[string]T, error),
	of func(Change) (T, bool), settled func(T) bool) (map[string]T, error) {
	ctxErr := func(cur map[string]T, err error) (map[string]T, error) {
		if !errors.Is(err, context.DeadlineExceeded) {
			return cur, err
		}
		var pending []string
		for name, v := range cur {
			if !settled(v) {
				pending = append(pending, name)
			}
		}
		sort.Strings(pending)
		return cur, Errorf(CodeTimeout, "the wait ended with %s still pending (the operation goes on)", strings.Join(pending, ", "))
	}
	w, err := c.Watch(ctx)
	if err != nil {
		return ctxErr(nil, err)
	}
	defer w.Close()
	cur, err := read(ctx)
	if err != nil {
		return ctxErr(cur, err)
	}
	for {
		done := true
		for _, v := range cur {
			done = done && settled(v)
		}
		if done {
			return cur, nil
		}
		select {
		case ch, open := <-w.Changes():
			if !open {
				if err := w.Err(); err != nil {
					return cur, err
				}
				return cur, ErrWatchEnded
			}
			v, ok := of(ch)
			if !ok {
				continue
			}
			name, seq := nameSeq(v)
			known, tracked := cur[name]
			if !tracked {
				continue
			}
			if ch.Deleted {
				delete(cur, name)
				continue
			}
			if _, old := nameSeq(known); seq > old {
				cur[name] = v
			}
		case <-ctx.Done():
			return ctxErr(cur, ctx.Err())
		}
	}
}

package manager

import "sync"

// inbox is the run loop's unbounded queue: producers (Group Services
// callbacks, agent results, timers, the management socket) never block on
// it, so none of them can stall another or the loop.
type inbox struct {
	mu    sync.Mutex
	items []func()
	wake  chan struct{}
}

func newInbox() *inbox { return &inbox{wake: make(chan struct{}, 1)} }

// put queues fn to run on the loop.
func (q *inbox) put(fn func()) {
	q.mu.Lock()
	q.items = append(q.items, fn)
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// take returns everything queued, in order.
func (q *inbox) take() []func() {
	q.mu.Lock()
	defer q.mu.Unlock()
	out := q.items
	q.items = nil
	return out
}

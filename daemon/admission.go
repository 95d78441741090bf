package daemon

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Connection bounds; docs/limits.md explains the numbers.
const (
	// MaxWaitingConns bounds the connections accepted and not yet
	// sessions: waiting for their Hello, or being refused. A connection
	// beyond it is closed at once with Refused{NoMemory}, so that a flood
	// of silent connections holds neither descriptors nor goroutines for
	// HelloTimeout each.
	MaxWaitingConns = 256
	// MaxWaitingConnsPerUid bounds the waiting connections of one uid
	// other than root, so that one user's flood leaves room for everyone
	// else's Hello.
	MaxWaitingConnsPerUid = 32
	// MaxSessionsPerUid bounds the client sessions of one uid other than
	// root (admin sessions are bounded apart, by MaxAdminSessions). Root
	// is bounded by wire.MaxClientsPerDaemon only: the HA software that
	// runs as root must not be locked out by the count of its own
	// processes.
	MaxSessionsPerUid = 256
	// RequestBytesPerSecond and RequestBurst are each client session's
	// token bucket: every frame the daemon reads after Hello costs its
	// size plus RequestOverhead bytes, and the reader waits (reads
	// nothing more) until the bucket holds that much. A client that sends
	// faster is slowed by its own socket buffer filling up, never
	// disconnected for it.
	RequestBytesPerSecond = 8 << 20
	RequestBurst          = 8 << 20
	// RequestOverhead is what every frame costs beyond its size, so that
	// a flood of tiny requests is bounded too (about 60,000 a second).
	RequestOverhead = 128
	// AdminQueryCost is what one admin query costs: answering it walks the
	// engine's groups, so queries are paced at 128 a second.
	AdminQueryCost = 64 << 10
)

// admission counts, per Node, the connections that are not yet sessions
// and the client sessions of each uid. Its methods are safe for concurrent
// use; each holds the lock for a few statements only.
type admission struct {
	// The bounds, fields so that tests can lower them.
	maxWaiting, maxWaitingPerUid, maxSessionsPerUid int

	mu         sync.Mutex
	waiting    int
	waitingBy  map[uint32]int
	sessionsBy map[uint32]int
}

func newAdmission() *admission {
	return &admission{
		maxWaiting: MaxWaitingConns, maxWaitingPerUid: MaxWaitingConnsPerUid, maxSessionsPerUid: MaxSessionsPerUid,
		waitingBy: make(map[uint32]int), sessionsBy: make(map[uint32]int),
	}
}

// wait counts one more waiting connection of uid; false, counting nothing,
// when a bound is reached. Each true is undone by one doneWaiting.
func (a *admission) wait(uid uint32) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.waiting >= a.maxWaiting || (uid != 0 && a.waitingBy[uid] >= a.maxWaitingPerUid) {
		return false
	}
	a.waiting++
	if uid != 0 {
		a.waitingBy[uid]++
	}
	return true
}

// doneWaiting undoes one wait of uid.
func (a *admission) doneWaiting(uid uint32) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.waiting--
	if uid != 0 {
		if a.waitingBy[uid]--; a.waitingBy[uid] <= 0 {
			delete(a.waitingBy, uid)
		}
	}
}

// addSession counts one more client session of uid; false, counting
// nothing, when uid (not root) has MaxSessionsPerUid. Each true is undone
// by one endSession.
func (a *admission) addSession(uid uint32) bool {
	if uid == 0 {
		return true
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.sessionsBy[uid] >= a.maxSessionsPerUid {
		return false
	}
	a.sessionsBy[uid]++
	return true
}

// endSession undoes one addSession of uid.
func (a *admission) endSession(uid uint32) {
	if uid == 0 {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.sessionsBy[uid]--; a.sessionsBy[uid] <= 0 {
		delete(a.sessionsBy, uid)
	}
}

// Refusal log bounds; docs/limits.md explains them.
const (
	// RefusalLogRate and RefusalLogBurst bound the log lines of refusals
	// (a connection refused, a request refused with a delayed error): at
	// most RefusalLogRate a second, in bursts of RefusalLogBurst.
	RefusalLogRate  = 10
	RefusalLogBurst = 50
	// RefusalLogEvery is how often the refusals that were not logged one
	// by one are summarised, while there are any.
	RefusalLogEvery = 10 * time.Second
)

// refusalLog writes the log lines of refusals at a bounded rate, so that
// a flood of refused connections or requests cannot flood the log. A line
// over the rate is counted by its message instead, and a summary of what
// was counted is written every RefusalLogEvery while there is any, and
// when the Node closes. Its methods are safe for concurrent use.
type refusalLog struct {
	log   *slog.Logger // the summaries' logger
	every time.Duration
	lim   *rate.Limiter

	mu       sync.Mutex
	closed   bool
	counted  map[string]int // lines not written, by message
	total    int
	lastFFDC string // the FFDC id of the last line not written
	timer    *time.Timer
}

func newRefusalLog(log *slog.Logger, every time.Duration) *refusalLog {
	return &refusalLog{log: log, every: every, lim: rate.NewLimiter(RefusalLogRate, RefusalLogBurst),
		counted: make(map[string]int)}
}

// write logs msg with args on lg at level, or counts it when refusal lines
// come faster than the bound.
func (l *refusalLog) write(lg *slog.Logger, level slog.Level, msg string, args ...any) {
	if l.lim.Allow() {
		lg.Log(context.Background(), level, msg, args...)
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.counted[msg]++
	l.total++
	for i := 0; i+1 < len(args); i += 2 {
		if k, ok := args[i].(string); ok && k == "ffdc_id" {
			if id, ok := args[i+1].(string); ok {
				l.lastFFDC = id
			}
		}
	}
	if l.timer == nil && !l.closed {
		l.timer = time.AfterFunc(l.every, l.summarize)
	}
}

// summarize writes one line for the refusals counted since the last one.
func (l *refusalLog) summarize() {
	l.mu.Lock()
	counted, total, last := l.counted, l.total, l.lastFFDC
	l.counted, l.total, l.lastFFDC, l.timer = make(map[string]int), 0, "", nil
	l.mu.Unlock()
	if total == 0 {
		return
	}
	msgs := make([]string, 0, len(counted))
	for m := range counted {
		msgs = append(msgs, m)
	}
	slices.Sort(msgs)
	var by strings.Builder
	for i, m := range msgs {
		if i > 0 {
			by.WriteString("; ")
		}
		fmt.Fprintf(&by, "%s: %d", m, counted[m])
	}
	l.log.Warn("refusals not logged one by one", "suppressed", total, "by_reason", by.String(), "last_ffdc_id", last)
}

// close writes the last summary; later lines are still counted, and
// summarised by the next close only.
func (l *refusalLog) close() {
	l.mu.Lock()
	l.closed = true
	if l.timer != nil {
		l.timer.Stop()
		l.timer = nil
	}
	l.mu.Unlock()
	l.summarize()
}

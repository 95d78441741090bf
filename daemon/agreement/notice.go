package agreement

import (
	"context"
	"sync"
	"time"

	"github.com/hashicorp/raft"
)

// Commit notices: telling the followers at once what the leader committed.
//
// hashicorp/raft tells a follower the leader's commit index only in its
// next AppendEntries that carries entries, or, when no entry follows, after
// CommitTimeout and a random share of it again (5 – 10 ms on a LAN). A
// request whose effects a follower must deliver to its own clients waited
// that long on every node but the leader, whatever the network.
//
// So, once the leader's FSM has applied a batch, the leader sends every
// other voter an AppendEntries whose commit index is the batch's last entry.
// It carries the entries committed since the last notice that voter took,
// after the entry it is known to hold (so that a follower the notice
// overtakes, ahead of raft's own replication, stores them and applies); when
// those are not at hand (the first notice, entries not given to the FSM in
// between), it carries none and names the batch's last entry as the
// previous one. It is an ordinary raft request from the leader in its term,
// checked as raft checks any: the follower takes it only if its entry at the
// previous index has the previous term, which by raft's log matching means
// its log equals the leader's up to there; entries it holds already are
// skipped, never rewritten (same index and term: the same entry). A stale
// leader's notice carries a stale term and is refused.
//
// A follower that refuses a notice (it lags more than the notice carries) is
// not sent another for a while, from noticeBackoffMin doubling up to
// noticeBackoffMax: raft's own replication brings it up to date, and the
// pause keeps its log free of a warning per commit while it catches up.

// How long a follower that refused a notice is left alone: the first time,
// then twice as long each time again, up to the most.
const (
	noticeBackoffMin = 5 * time.Millisecond
	noticeBackoffMax = time.Second
)

// maxNoticeEntries bounds the entries one notice carries.
const maxNoticeEntries = 64

// noticePeersEvery bounds how old the list of followers to notify may get.
const noticePeersEvery = time.Second

// commitNotice sends the notices of one agreement: one goroutine per
// follower, each sending the newest commit it has been given. Its methods
// are safe for concurrent use.
type commitNotice struct {
	a *Agreement

	mu     sync.Mutex
	index  uint64      // the newest commit to announce
	term   uint64      // the term of the entry at index
	tail   []*raft.Log // the last committed entries, contiguous, ending at index
	wake   chan struct{}
	peers  map[raft.ServerID]*noticePeer
	listed time.Time // when peers was last read from raft's configuration
}

// noticePeer is one follower's sender.
type noticePeer struct {
	id   raft.ServerID
	addr raft.ServerAddress
	wake chan struct{}
	stop chan struct{}
}

func newCommitNotice(a *Agreement) *commitNotice {
	return &commitNotice{a: a, wake: make(chan struct{}, 1), peers: make(map[raft.ServerID]*noticePeer)}
}

// committed records a batch of entries applied here (raft gives the FSM
// commands and configurations, not its own no-ops and barriers). It is
// called on raft's FSM goroutine and never blocks.
func (c *commitNotice) committed(logs []*raft.Log) {
	c.mu.Lock()
	for _, l := range logs {
		if l.Index <= c.index {
			continue
		}
		if n := len(c.tail); n > 0 && c.tail[n-1].Index+1 != l.Index {
			c.tail = nil // a gap: what follows is carried from a new start
		}
		c.tail = append(c.tail, l)
		c.index, c.term = l.Index, l.Term
	}
	if n := len(c.tail); n > maxNoticeEntries {
		c.tail = append([]*raft.Log(nil), c.tail[n-maxNoticeEntries:]...)
	}
	c.mu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// run wakes the followers' senders while this daemon leads, and keeps the
// list of followers current. It returns when ctx ends, having stopped them.
func (c *commitNotice) run(ctx context.Context) error {
	var wg sync.WaitGroup
	defer func() {
		c.mu.Lock()
		for id, p := range c.peers {
			close(p.stop)
			delete(c.peers, id)
		}
		c.mu.Unlock()
		wg.Wait()
	}()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-c.wake:
		}
		if c.a.raft.State() != raft.Leader {
			continue
		}
		if time.Since(c.listed) > noticePeersEvery {
			c.list(ctx, &wg)
		}
		c.mu.Lock()
		for _, p := range c.peers {
			select {
			case p.wake <- struct{}{}:
			default:
			}
		}
		c.mu.Unlock()
	}
}

// list reads the voters from raft's configuration and starts or stops
// senders to match.
func (c *commitNotice) list(ctx context.Context, wg *sync.WaitGroup) {
	f := c.a.raft.GetConfiguration()
	if f.Error() != nil {
		return
	}
	now := make(map[raft.ServerID]raft.ServerAddress)
	for _, s := range f.Configuration().Servers {
		if s.ID != c.a.serverID && s.Suffrage == raft.Voter {
			now[s.ID] = s.Address
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.listed = time.Now()
	for id, p := range c.peers {
		if addr, ok := now[id]; !ok || addr != p.addr {
			close(p.stop)
			delete(c.peers, id)
		}
	}
	for id, addr := range now {
		if c.peers[id] != nil {
			continue
		}
		p := &noticePeer{id: id, addr: addr, wake: make(chan struct{}, 1), stop: make(chan struct{})}
		c.peers[id] = p
		wg.Add(1)
		go func() { // ends when p.stop closes; run waits for it
			defer wg.Done()
			c.send(ctx, p)
		}()
	}
}

// send is one follower's sender: on each wake it sends the newest commit
// not sent to it yet.
func (c *commitNotice) send(ctx context.Context, p *noticePeer) {
	var sent, sentTerm uint64 // the last entry this follower took from a notice
	var quietUntil time.Time
	backoff := noticeBackoffMin
	for {
		select {
		case <-ctx.Done():
			return
		case <-p.stop:
			return
		case <-p.wake:
		}
		if time.Now().Before(quietUntil) {
			continue
		}
		c.mu.Lock()
		index, term := c.index, c.term
		carry := c.after(sent)
		c.mu.Unlock()
		if index <= sent {
			continue
		}
		me := c.a.trans.EncodePeer(c.a.serverID, c.a.trans.LocalAddr())
		req := raft.AppendEntriesRequest{
			RPCHeader:         raft.RPCHeader{ProtocolVersion: raft.ProtocolVersionMax, ID: []byte(c.a.serverID), Addr: me},
			Term:              c.a.raft.CurrentTerm(),
			Leader:            me,
			PrevLogEntry:      index,
			PrevLogTerm:       term,
			LeaderCommitIndex: index,
		}
		if sent > 0 && len(carry) > 0 {
			req.PrevLogEntry, req.PrevLogTerm, req.Entries = sent, sentTerm, carry
		}
		var resp raft.AppendEntriesResponse
		if err := c.a.trans.AppendEntries(p.id, p.addr, &req, &resp); err != nil || !resp.Success {
			// Not an error of the domain: raft's own replication
			// reaches this follower, and tells it the commit later.
			c.a.log.Debug("commit notice refused", "to", p.id, "index", index, "entries", len(req.Entries), "err", err)
			quietUntil = time.Now().Add(backoff)
			backoff = min(2*backoff, noticeBackoffMax)
			continue
		}
		sent, sentTerm, backoff = index, term, noticeBackoffMin
	}
}

// after returns the committed entries that follow index, if the tail holds
// every one of them: index+1 onwards, up to the newest. Called with c.mu
// held; the entries are never changed, so the caller may use them after.
func (c *commitNotice) after(index uint64) []*raft.Log {
	if len(c.tail) == 0 || c.tail[0].Index > index+1 || index >= c.index {
		return nil
	}
	return append([]*raft.Log(nil), c.tail[index+1-c.tail[0].Index:]...)
}

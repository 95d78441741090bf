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
// other voter an AppendEntries without entries whose previous entry is the
// last one of that batch, with that entry's term, and whose commit index is
// that entry's index. It is an ordinary raft request: the follower checks
// that the entry at that index has that term, which by raft's log matching
// means its log equals the leader's up to there, and only then applies up
// to it. A follower whose log does not reach that index yet, or differs
// there, refuses it and changes nothing; a stale leader's notice carries a
// stale term and is refused. Nothing is written to any log.
//
// A follower that refuses a notice is not sent another for noticeBackoff
// (raft's own replication brings it up to date; the pause keeps its log
// free of one warning per commit while it catches up).

// noticeBackoff is how long a follower that refused a notice is left alone.
const noticeBackoff = time.Second

// noticePeersEvery bounds how old the list of followers to notify may get.
const noticePeersEvery = time.Second

// commitNotice sends the notices of one agreement: one goroutine per
// follower, each sending the newest commit it has been given. Its methods
// are safe for concurrent use.
type commitNotice struct {
	a *Agreement

	mu     sync.Mutex
	index  uint64 // the newest commit to announce
	term   uint64 // the term of the entry at index
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

// committed records that the entry at index (of term) is applied here. It
// is called on raft's FSM goroutine and never blocks.
func (c *commitNotice) committed(index, term uint64) {
	c.mu.Lock()
	if index > c.index {
		c.index, c.term = index, term
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
	var sent uint64
	var quietUntil time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-p.stop:
			return
		case <-p.wake:
		}
		c.mu.Lock()
		index, term := c.index, c.term
		c.mu.Unlock()
		if index <= sent || time.Now().Before(quietUntil) {
			continue
		}
		req := raft.AppendEntriesRequest{
			RPCHeader: raft.RPCHeader{
				ProtocolVersion: raft.ProtocolVersionMax,
				ID:              []byte(c.a.serverID),
				Addr:            c.a.trans.EncodePeer(c.a.serverID, c.a.trans.LocalAddr()),
			},
			Term:              c.a.raft.CurrentTerm(),
			Leader:            c.a.trans.EncodePeer(c.a.serverID, c.a.trans.LocalAddr()),
			PrevLogEntry:      index,
			PrevLogTerm:       term,
			LeaderCommitIndex: index,
		}
		var resp raft.AppendEntriesResponse
		if err := c.a.trans.AppendEntries(p.id, p.addr, &req, &resp); err != nil || !resp.Success {
			// Not an error of the domain: raft's own replication
			// reaches this follower, and tells it the commit later.
			c.a.log.Debug("commit notice refused", "to", p.id, "index", index, "err", err)
			quietUntil = time.Now().Add(noticeBackoff)
			continue
		}
		sent = index
	}
}

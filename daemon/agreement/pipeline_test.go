package agreement

import (
	"context"
	"crypto/tls"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhags/hags/internal/pki"
)

// forwardPipelined writes every entry on one forwarding connection to addr
// (made with id's certificate) before reading any answer, as a follower's
// forwarder with entries in flight does, then reads the answers; it stops
// at the first it cannot read.
func forwardPipelined(t *testing.T, id *pki.Identity, addr string, entries ...*Entry) ([]forwardReply, error) {
	t.Helper()
	d := &tls.Dialer{NetDialer: &net.Dialer{Timeout: 5 * time.Second}, Config: id.TLSConfig()}
	c, err := d.DialContext(context.Background(), "tcp", addr)
	require.NoError(t, err, "%s connects to %s", id.Node.Name, addr)
	defer c.Close()
	c.SetDeadline(time.Now().Add(waitBudget))
	_, err = c.Write([]byte{streamForward})
	require.NoError(t, err)
	for _, e := range entries {
		if err := writeFrame(c, msgEntry, e); err != nil {
			return nil, err
		}
	}
	rd := newForwardReader(c, msgReply)
	var out []forwardReply
	for range entries {
		var rep forwardReply
		if err := readFrame(rd, &rep); err != nil {
			return out, err
		}
		out = append(out, rep)
	}
	return out, nil
}

// TestForwardingKeepsSeveralEntriesInFlightExactlyOnce: a follower's
// entries reach the leader several at a time over one connection, each
// answered in the order sent. The log takes a node's entries only in
// sequence, so whatever a leader change does to entries in flight, a
// resend is harmless: an entry that skips one is dropped as out of order
// (its node sends again from the gap), the same entries sent again after
// are applied once, in order, and a repeat is a duplicate. Every node's
// log ends with the node's sequence where the sender left it.
func TestForwardingKeepsSeveralEntriesInFlightExactlyOnce(t *testing.T) {
	dir := testKeys(t, 3)
	nodes := startTLSDomain(t, dir, 3)
	n2 := loadID(t, dir, "n2")
	own, ok := leaderOf(t, nodes).a.NodeState(2)
	require.True(t, ok, "node 2 is in the log")
	entry := func(seq uint64) *Entry {
		return &Entry{Kind: EntryEvents, Node: 2, Inc: own.Inc, Epoch: own.Epoch, Seq: own.Seq + seq}
	}
	// send forwards entries to whichever node leads, again while the
	// answer is that the receiver does not lead (the machine's load may
	// cause an election; resending is what the test shows to be safe).
	send := func(what string, entries ...*Entry) []forwardReply {
		t.Helper()
		for deadline := time.Now().Add(waitBudget); ; {
			reps, err := forwardPipelined(t, n2, leaderOf(t, nodes).addr, entries...)
			lost := len(reps) < len(entries)
			for _, r := range reps {
				lost = lost || strings.Contains(r.Err, errNotLeader.Error())
			}
			if !lost {
				require.NoError(t, err, "%s: every answer is read", what)
				return reps
			}
			require.False(t, time.Now().After(deadline), "%s: a leader answers (last error %v, answers %+v)", what, err, reps)
		}
	}
	statuses := func(reps []forwardReply) []ApplyStatus {
		var out []ApplyStatus
		for _, r := range reps {
			assert.Empty(t, r.Err, "no entry is refused")
			out = append(out, r.Status)
		}
		return out
	}

	reps := send("the entry after a lost one", entry(2))
	assert.Equal(t, []ApplyStatus{StatusOutOfOrder}, statuses(reps), "entry 2 without entry 1 is dropped as out of order")

	reps = send("the lost one and what follows, in flight together", entry(1), entry(2), entry(3))
	assert.Equal(t, []ApplyStatus{StatusApplied, StatusApplied, StatusApplied}, statuses(reps),
		"sent again from the gap, three entries in flight are each applied, answered in order")

	reps = send("a resend of entries already applied", entry(2), entry(3))
	assert.Equal(t, []ApplyStatus{StatusDuplicate, StatusDuplicate}, statuses(reps), "a resend of applied entries is a duplicate")

	require.Eventually(t, func() bool {
		for _, tn := range nodes {
			if st, ok := tn.a.NodeState(2); !ok || st.Seq != own.Seq+3 {
				return false
			}
		}
		return true
	}, waitBudget, 10*time.Millisecond, "every node's log took node 2's entries up to the third, once each")
	// Every node applies the whole log: each drops the entry out of order
	// and the two repeats.
	for _, tn := range nodes {
		assert.Eventually(t, func() bool {
			dup, ooo := tn.a.fsm.Dropped()
			return dup >= 2 && ooo >= 1
		}, waitBudget, 10*time.Millisecond, "node %d dropped the entry out of order and the two repeats", tn.node)
	}
}

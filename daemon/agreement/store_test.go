package agreement

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/hashicorp/raft"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestStoreKeepsLogTermAndVoteAcrossReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "raft", "raft.db")
	s, err := OpenStore(path)
	require.NoError(t, err, "a new store opens")
	first, _ := s.FirstIndex()
	last, _ := s.LastIndex()
	assert.Equal(t, [2]uint64{0, 0}, [2]uint64{first, last}, "an empty log has no indexes")
	_, err = s.GetUint64([]byte("CurrentTerm"))
	assert.EqualError(t, err, "not found", "raft reads a missing key as the error text \"not found\"")

	at := time.Unix(100, 5)
	var logs []*raft.Log
	for i := uint64(1); i <= 5; i++ {
		logs = append(logs, &raft.Log{Index: i, Term: 2, Type: raft.LogCommand, Data: []byte{byte(i)}, AppendedAt: at})
	}
	require.NoError(t, s.StoreLogs(logs), "entries are stored")
	require.NoError(t, s.SetUint64([]byte("CurrentTerm"), 7), "the term is stored")
	require.NoError(t, s.Set([]byte("LastVoteCand"), []byte("3")), "the vote is stored")
	require.NoError(t, s.DeleteRange(1, 2), "a range is deleted")
	require.NoError(t, s.Close())

	s, err = OpenStore(path)
	require.NoError(t, err, "the store opens again")
	defer s.Close()
	first, _ = s.FirstIndex()
	last, _ = s.LastIndex()
	assert.Equal(t, [2]uint64{3, 5}, [2]uint64{first, last}, "the log survives, without the deleted range")
	var l raft.Log
	require.NoError(t, s.GetLog(4, &l), "entry 4 is there")
	assert.Equal(t, raft.Log{Index: 4, Term: 2, Type: raft.LogCommand, Data: []byte{4}, AppendedAt: at}, l, "entry 4 reads back whole")
	assert.ErrorIs(t, s.GetLog(1, &l), raft.ErrLogNotFound, "a deleted entry is not found")
	term, err := s.GetUint64([]byte("CurrentTerm"))
	require.NoError(t, err)
	assert.Equal(t, uint64(7), term, "the term survives a restart")
	vote, err := s.Get([]byte("LastVoteCand"))
	require.NoError(t, err)
	assert.Equal(t, []byte("3"), vote, "the vote survives a restart")

	now := time.Unix(1000, 0)
	a, err := s.NextIncarnation(now)
	require.NoError(t, err)
	b, err := s.NextIncarnation(now)
	require.NoError(t, err)
	assert.Equal(t, uint64(1000), a, "the first incarnation is the time in seconds")
	assert.Equal(t, uint64(1001), b, "a restart within the same second still gets a larger incarnation")
	c, err := s.NextIncarnation(time.Unix(900, 0))
	require.NoError(t, err)
	assert.Equal(t, uint64(1002), c, "a clock set back never makes the incarnation go back")
}

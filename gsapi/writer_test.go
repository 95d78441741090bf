package gsapi

import (
	"encoding/binary"
	"io"
	"net"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestWriterKeepsEachSendersOrder: frames sent by many goroutines at once
// all arrive, whole, each goroutine's in the order it sent them, in fewer
// writes than frames once senders overlap.
func TestWriterKeepsEachSendersOrder(t *testing.T) {
	const senders, each = 16, 200
	cli, srv := net.Pipe()
	defer cli.Close()
	var writes countWrites
	writes.w = cli
	wr := newWriter(&writes)

	got := make(chan [][2]uint32, 1)
	go func() {
		var frames [][2]uint32
		var f [12]byte // length 8, then sender and sequence number
		for range senders * each {
			if _, err := io.ReadFull(srv, f[:]); err != nil {
				break
			}
			frames = append(frames, [2]uint32{binary.BigEndian.Uint32(f[4:]), binary.BigEndian.Uint32(f[8:])})
		}
		got <- frames
	}()

	var wg sync.WaitGroup
	for s := range senders {
		wg.Go(func() {
			for i := range each {
				var f [12]byte
				binary.BigEndian.PutUint32(f[0:], 8)
				binary.BigEndian.PutUint32(f[4:], uint32(s))
				binary.BigEndian.PutUint32(f[8:], uint32(i))
				if err := wr.send(f[:]); err != nil {
					t.Errorf("send: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	frames := <-got
	require.Len(t, frames, senders*each, "every frame arrives whole")
	next := make([]uint32, senders)
	for _, f := range frames {
		require.Equal(t, next[f[0]], f[1], "sender %d's frames arrive in the order it sent them", f[0])
		next[f[0]]++
	}
	assert.LessOrEqual(t, writes.n, senders*each, "never more writes than frames")
	t.Logf("%d frames in %d writes", senders*each, writes.n)
}

// countWrites counts Write calls; the writer serializes them.
type countWrites struct {
	w io.Writer
	n int
}

func (c *countWrites) Write(p []byte) (int, error) {
	c.n++
	return c.w.Write(p)
}

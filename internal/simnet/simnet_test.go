package simnet

import (
	"errors"
	"io"
	"os"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// connect dials l from host from and returns both ends.
func connect(t *testing.T, n *Network, l *Listener, from string) (client, server io.ReadWriteCloser) {
	t.Helper()
	got := make(chan io.ReadWriteCloser, 1)
	go func() {
		c, err := l.Accept()
		if err == nil {
			got <- c
		}
		close(got)
	}()
	c, err := n.dial(from, l.addr, time.Second)
	require.NoError(t, err)
	s, ok := <-got
	require.True(t, ok, "the listener accepts")
	return c, s
}

// TestCutLosesWritesSilently: across a Cut a stream stays open, a write
// succeeds and nothing arrives (the reader's deadline passes), a dial
// waits for its timeout and fails; Heal (or a Cut elsewhere) breaks the
// stream that lost data and lets a new one through. Partition, by
// contrast, breaks streams at once.
func TestCutLosesWritesSilently(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := New(1)
		l, err := n.Listen("b:1")
		require.NoError(t, err)
		defer l.Close()
		c, s := connect(t, n, l, "a")

		n.Cut([]string{"a"})
		w, err := c.Write([]byte("lost"))
		assert.NoError(t, err, "a write across a cut gets no error")
		assert.Equal(t, 4, w)
		require.NoError(t, s.(*conn).SetReadDeadline(time.Now().Add(time.Second)))
		_, err = s.Read(make([]byte, 4))
		assert.ErrorIs(t, err, os.ErrDeadlineExceeded, "nothing arrives; only the reader's deadline ends the wait")

		start := time.Now()
		_, err = n.dial("a", "b:1", 3*time.Second)
		assert.ErrorIs(t, err, ErrUnreachable)
		assert.Equal(t, 3*time.Second, time.Since(start), "a dial across a cut fails when its timeout passes (fake time)")

		n.Heal()
		_, err = c.Write([]byte("x"))
		assert.ErrorIs(t, err, io.ErrClosedPipe, "the stream that lost data is broken by the heal")
		c2, s2 := connect(t, n, l, "a")
		go func() { _, _ = c2.Write([]byte("ok")) }()
		buf := make([]byte, 2)
		_, err = io.ReadFull(s2, buf)
		require.NoError(t, err)
		assert.Equal(t, "ok", string(buf), "after the heal a new stream carries data")

		// A new cut elsewhere (a and b together again) breaks a stream
		// that lost data, as Heal does.
		n.Cut([]string{"a"})
		_, err = c2.Write([]byte("lost"))
		require.NoError(t, err)
		n.Cut([]string{"c"})
		_, err = c2.Write([]byte("x"))
		assert.ErrorIs(t, err, io.ErrClosedPipe, "the stream with a hole breaks when its hosts can talk again")
		n.Heal()
		c2, s2 = connect(t, n, l, "a")

		n.Partition([]string{"a"})
		_, err = c2.Write([]byte("x"))
		assert.True(t, errors.Is(err, ErrClosed) || errors.Is(err, io.ErrClosedPipe), "a partition breaks the stream: %v", err)
		n.Heal()
		c2.Close()
		s2.Close()
	})
}

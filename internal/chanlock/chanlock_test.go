package chanlock

import (
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestExcludes(t *testing.T) {
	m := New()
	require.True(t, m.TryLock(), "a new lock is free")
	assert.False(t, m.TryLock(), "a held lock cannot be taken")
	m.Unlock()
	assert.True(t, m.TryLock(), "an unlocked lock can be taken again")
	m.Unlock()

	var wg sync.WaitGroup
	n := 0
	for range 8 {
		wg.Go(func() {
			for range 1000 {
				m.Lock()
				n++
				m.Unlock()
			}
		})
	}
	wg.Wait()
	assert.Equal(t, 8000, n, "no increment lost under the lock")
}

func TestUnlockOfUnlockedPanics(t *testing.T) {
	assert.PanicsWithValue(t, "chanlock: unlock of unlocked mutex", func() { New().Unlock() })
}

// TestWaiterLetsSimulatedTimeRun is why the package exists: the holder
// sleeps in simulated time while another goroutine waits for the lock.
// With a sync.Mutex in its place the bubble's clock would never move and
// this test would hang.
func TestWaiterLetsSimulatedTimeRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := New()
		start := time.Now()
		m.Lock()
		got := make(chan time.Duration)
		go func() {
			m.Lock() // waits while the holder sleeps
			got <- time.Since(start)
			m.Unlock()
		}()
		// The holder's slow write is a wait for the bubble's clock; a sleep
		// is that wait itself (simulated time, no real delay), and whether
		// the clock moves while another goroutine waits for the lock is
		// exactly what this test checks.
		time.Sleep(30 * time.Millisecond)
		m.Unlock()
		assert.Equal(t, 30*time.Millisecond, <-got, "the waiter took the lock once the holder's simulated sleep ended")
	})
}

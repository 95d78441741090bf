// Package chanlock provides a mutual-exclusion lock whose waiters wait on
// a channel.
//
// A goroutine waiting for a sync.Mutex is not blocked in the sense of
// testing/synctest: the simulated clock of a bubble moves on only while
// every goroutine in it waits on a channel, a timer or a sync.Cond. A lock
// held across a wait for that clock (a write to a simulated link, whose
// latency is a sleep) therefore stops the simulation for good as soon as a
// second goroutine asks for it with sync.Mutex. With this lock the second
// goroutine waits on a channel, the clock moves on, the write ends and the
// lock passes on. Outside simulation it behaves as sync.Mutex does, minus
// sync.Mutex's fairness rules.
//
// Use it for a lock that may be held across network I/O or another long
// wait; sync.Mutex stays right for the short critical sections that never
// wait.
package chanlock

// Mutex is a lock; the zero value is not usable: make one with New.
type Mutex struct {
	slot chan struct{}
}

// New returns an unlocked Mutex.
func New() *Mutex { return &Mutex{slot: make(chan struct{}, 1)} }

// Lock waits until the lock is free and takes it.
func (m *Mutex) Lock() { m.slot <- struct{}{} }

// TryLock takes the lock if it is free and reports whether it did.
func (m *Mutex) TryLock() bool {
	select {
	case m.slot <- struct{}{}:
		return true
	default:
		return false
	}
}

// Unlock frees the lock. Unlocking a lock that is not held panics, as it
// does for sync.Mutex.
func (m *Mutex) Unlock() {
	select {
	case <-m.slot:
	default:
		panic("chanlock: unlock of unlocked mutex")
	}
}

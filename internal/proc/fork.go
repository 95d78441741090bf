package proc

import (
	"runtime"
	"sync"
)

// forker is the goroutine that starts every child that must die with this
// process. It locks itself to its OS thread and never returns, so that
// thread lives as long as the process: PR_SET_PDEATHSIG fires when the
// thread that forked the child ends, and with this thread that is when the
// process ends.
var forker struct {
	once sync.Once
	reqs chan forkRequest
}

type forkRequest struct {
	start func() error
	done  chan error
}

// onForkThread runs start (an exec.Cmd's Start) on the forker's thread
// and returns its error. Starts are serialised; each takes as long as a
// fork and exec.
func onForkThread(start func() error) error {
	forker.once.Do(func() {
		forker.reqs = make(chan forkRequest)
		go forkLoop(forker.reqs)
	})
	req := forkRequest{start: start, done: make(chan error, 1)}
	forker.reqs <- req
	return <-req.done
}

func forkLoop(reqs <-chan forkRequest) {
	// Never unlocked: a goroutine that exits while locked takes its thread
	// with it, and this one never exits either.
	runtime.LockOSThread()
	for req := range reqs {
		req.done <- req.start()
	}
}

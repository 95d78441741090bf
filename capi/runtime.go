package main

import "runtime"

// minProcs is the fewest Ps (runtime.GOMAXPROCS) the library's runtime
// runs with.
//
// A thread of the program that calls into the library keeps the P it
// entered with when it returns to C: the runtime parks that P in its
// syscall state on the program's thread, so that the next call takes it
// back without waiting. With one P, gsapi's reader goroutine therefore
// cannot run when a notification arrives until sysmon takes the P back
// from the program's thread, 20 µs to 10 ms later depending on how long
// the runtime was idle, and the next ha_gs_dispatch then waits in turn
// for the reader to give the P up. A second P lets the reader run at once
// and ha_gs_dispatch find its own P free. A P is not a thread; the price
// is that sysmon keeps polling for about 10 ms after a call, while the
// parked P is not idle, before it sleeps. docs/design/client.md has the
// trace and the counts.
const minProcs = 2

// init raises GOMAXPROCS to minProcs when the machine has one CPU or the
// environment asks for one P; it never lowers a larger setting. It runs
// when the library is loaded, before any ha_gs_* call.
func init() {
	if runtime.GOMAXPROCS(0) < minProcs {
		runtime.GOMAXPROCS(minProcs)
	}
}

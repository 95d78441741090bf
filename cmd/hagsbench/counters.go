package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/openhags/hags/daemon/ipc"
	"github.com/openhags/hags/internal/wire"
)

// The profile guard: counters of the daemons, read before and after the
// measured part of (a) and (d) and divided by the requests the clients
// made, so that a change that wakes more threads or allocates more per
// request shows in the results whatever the machine's load (timings move
// with it; these counts barely do).

// counters are a system's daemons' cumulative counts.
type counters struct {
	// wakeups: the times a thread of a daemon went to sleep to wait for
	// something (voluntary context switches, summed over its threads from
	// /proc): each is one wake-up later.
	wakeups int64
	// allocs: heap objects the daemons allocated (hagsd's own count; -1
	// for a system that does not report it).
	allocs int64
}

// sub is c - d.
func (c counters) sub(d counters) counters {
	out := counters{wakeups: c.wakeups - d.wakeups, allocs: -1}
	if c.allocs >= 0 && d.allocs >= 0 {
		out.allocs = c.allocs - d.allocs
	}
	return out
}

// threadSwitches sums the voluntary context switches of every thread of
// process pid.
func threadSwitches(pid int) (int64, error) {
	tasks, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/status", pid))
	if err != nil || len(tasks) == 0 {
		return 0, fmt.Errorf("threads of process %d: %v", pid, err)
	}
	var sum int64
	for _, path := range tasks {
		b, err := os.ReadFile(path)
		if err != nil {
			continue // a thread that ended meanwhile
		}
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "voluntary_ctxt_switches:"); ok {
				n, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
				sum += n
			}
		}
	}
	return sum, nil
}

// hagsdAllocs asks the hagsd serving socket for its allocation count.
func hagsdAllocs(socket string) (int64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := ipc.DialAdmin(ctx, socket, "hagsbench")
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	rep, err := conn.Query(ctx, wire.AdminQuery{What: "status"})
	if err != nil {
		return 0, err
	}
	if rep.Status == nil || rep.Status.Runtime == nil {
		return 0, fmt.Errorf("hagsd at %s does not report its counters", socket)
	}
	return int64(rep.Status.Runtime.Allocs), nil
}

// hagsCounters reads the counters of the hagsd processes pids serving
// sockets (the admin session's own work is counted once before and once
// after, and so cancels out of a difference but for a few allocations).
func hagsCounters(pids []int, sockets []string) (counters, error) {
	var c counters
	for i, pid := range pids {
		w, err := threadSwitches(pid)
		if err != nil {
			return c, err
		}
		a, err := hagsdAllocs(sockets[i])
		if err != nil {
			return c, err
		}
		c.wakeups += w
		c.allocs += a
	}
	return c, nil
}

// processCounters reads the wake-ups of processes that report no
// allocations (Corosync).
func processCounters(pids []int) (counters, error) {
	c := counters{allocs: -1}
	for _, pid := range pids {
		w, err := threadSwitches(pid)
		if err != nil {
			return c, err
		}
		c.wakeups += w
	}
	return c, nil
}

// guard is what the profile guard measured of one system at one point:
// the counters' growth and the requests the clients made meanwhile.
type guard struct {
	counters
	requests int64
}

// measured runs f, which returns how many requests it made, between two
// readings of sys's counters; a system that cannot be read gives no
// counts (ok false) but f still runs.
func measured(sys system, f func() (int64, error)) (g guard, ok bool, err error) {
	before, cerr := sys.counters()
	n, err := f()
	if cerr != nil || err != nil {
		return g, false, err
	}
	after, cerr := sys.counters()
	if cerr != nil {
		return g, false, nil
	}
	return guard{counters: after.sub(before), requests: n}, true, nil
}

// Package actlog writes and reads the action log: one line per start and
// stop of a resource on a node, stamped with CLOCK_MONOTONIC, which every
// process of a machine shares. The failover tests' checker reads it to
// find when each resource ran on each node and fails on any overlap of one
// group's running intervals on two nodes; the benchmarks read it to time
// moves and failovers.
//
// hags's agent runner (failover/agent, Options.ActionLog) appends the
// records itself, for every agent class alike. A run of another cluster
// manager on the same machine (Pacemaker, for comparison) writes the same
// records through cmd/hagsrm-actlog from a wrapper OCF agent
// (examples/failover/ActLogDummy), so one checker reads both.
//
// The times are conservative for overlap checking: a start record carries
// the time its start began (the resource may run from then on), a stop
// record the time its stop ended (it may run until then). A record is
// written for every attempt, failed ones included; OK says whether the
// action did what it was asked. After a failed stop the resource may still
// run. A resource whose process group was found gone or killed outside a
// stop (an exec resource that exited, leftovers killed) gets a stop record
// with OK set and Why saying so.
//
// The file is written with O_APPEND, one write(2) per record, so several
// processes may append to one file; each record is one line of JSON.
package actlog

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// EnvVar names the environment variable that hagsrmd and the wrapper
// agent read the action log's path from.
const EnvVar = "HAGSRM_ACTION_LOG"

// Op is what a record reports.
type Op string

// Record operations.
const (
	OpStart Op = "start"
	OpStop  Op = "stop"
)

// Why values of stop records written by the agent runner.
const (
	WhyStop     = "stop"     // a stop action
	WhyExit     = "exit"     // an exec resource's process exited on its own
	WhyLeftover = "leftover" // leftovers of an earlier run were killed
	WhyClose    = "close"    // the runner closed and killed the resource
)

// Record is one line of the action log.
type Record struct {
	// Mono is CLOCK_MONOTONIC in nanoseconds: when the start began, or
	// when the stop ended.
	Mono     int64  `json:"mono_ns"`
	Node     string `json:"node"`
	Resource string `json:"resource"`
	Op       Op     `json:"op"`
	OK       bool   `json:"ok"`
	Why      string `json:"why,omitempty"`
	Agent    string `json:"agent,omitempty"`
	// Pid is the writer's process ID.
	Pid int `json:"pid"`
	// Done, on a start record, is CLOCK_MONOTONIC when the start ended
	// (0 when the writer did not say). Mono stays the conservative bound
	// for overlap checking; Done is when the resource was up, which the
	// benchmarks time ("call → started").
	Done int64 `json:"done_ns,omitempty"`
}

// Started returns when a start record's start ended: Done, or Mono when
// the writer did not record the end.
func (r Record) Started() int64 {
	if r.Done != 0 {
		return r.Done
	}
	return r.Mono
}

// MaxRecord bounds one encoded record, in bytes; Append refuses a longer
// one, and Read a longer line.
const MaxRecord = 16 << 10

// ErrTooLong: a record does not fit in MaxRecord bytes.
var ErrTooLong = errors.New("actlog: record longer than MaxRecord")

// Now returns CLOCK_MONOTONIC in nanoseconds.
func Now() int64 {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err != nil {
		// CLOCK_MONOTONIC exists on every Linux; a failure here means a
		// broken system, and 0 will stand out in any check.
		return 0
	}
	return ts.Nano()
}

// Append writes rec as one line at the end of the file at path, creating
// it (mode 0644) if needed. Pid is filled in when 0.
func Append(path string, rec Record) error {
	if rec.Pid == 0 {
		rec.Pid = os.Getpid()
	}
	b, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("actlog: %w", err)
	}
	b = append(b, '\n')
	if len(b) > MaxRecord {
		return ErrTooLong
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("actlog: %w", err)
	}
	_, werr := f.Write(b)
	cerr := f.Close()
	if werr != nil {
		return fmt.Errorf("actlog: %w", werr)
	}
	if cerr != nil {
		return fmt.Errorf("actlog: %w", cerr)
	}
	return nil
}

// Read returns every record of r, in file order. A line that is not a
// record is an error naming its line number.
func Read(r io.Reader) ([]Record, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), MaxRecord)
	var out []Record
	for n := 1; sc.Scan(); n++ {
		var rec Record
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			return out, fmt.Errorf("actlog: line %d: %w", n, err)
		}
		if rec.Op != OpStart && rec.Op != OpStop {
			return out, fmt.Errorf("actlog: line %d: unknown op %q", n, rec.Op)
		}
		out = append(out, rec)
	}
	if err := sc.Err(); err != nil {
		return out, fmt.Errorf("actlog: %w", err)
	}
	return out, nil
}

// ReadFile reads the action log at path.
func ReadFile(path string) ([]Record, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("actlog: %w", err)
	}
	defer f.Close()
	return Read(f)
}

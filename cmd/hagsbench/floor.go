package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// echoMain is the echo role of the floor measurement: it connects to the
// Unix socket named by its argument and writes back whatever it reads,
// until the connection ends.
func echoMain(args []string) int {
	if len(args) != 1 {
		fmt.Fprintln(os.Stderr, "usage: hagsbench echo SOCKET")
		return 2
	}
	c, err := net.Dial("unix", args[0])
	if err != nil {
		fmt.Fprintln(os.Stderr, "hagsbench echo:", err)
		return 1
	}
	if _, err := io.Copy(c, c); err != nil && !errors.Is(err, net.ErrClosed) {
		fmt.Fprintln(os.Stderr, "hagsbench echo:", err)
		return 1
	}
	return 0
}

// echoFloor measures what this machine charges for any round trip between
// two Go processes, before a daemon does any work: a 64-byte write to an
// echo process over a Unix socket and the read of its answer. hot: back to
// back, every thread awake; idle: after a pause of a millisecond, which
// lets both processes' threads go to sleep, as the daemon's and the
// clients' do between the samples of the other scenarios (the coordinator
// reads every event before it asks for the next sample). A request through
// hagsd is at least one such round trip, and one phase of an n-phase
// protocol at least two (the notification and the vote, then the approval).
func (r *runner) echoFloor(dir string, samples int) (hot, idle []int64, err error) {
	// We listen and the echo process connects, so nobody waits for the
	// other to be ready.
	sock := filepath.Join(dir, "echo.sock")
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: sock, Net: "unix"})
	if err != nil {
		return nil, nil, err
	}
	defer l.Close()
	cmd := exec.CommandContext(r.ctx, r.cfg.self, "echo", sock)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, nil, err
	}
	defer cmd.Wait()
	defer cmd.Process.Kill()
	l.SetDeadline(time.Now().Add(r.timeout))
	c, err := l.Accept()
	if err != nil {
		return nil, nil, fmt.Errorf("echo process did not connect: %w", err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(r.timeout))
	buf := make([]byte, 64)
	roundTrip := func() (int64, error) {
		t := time.Now()
		if _, err := c.Write(buf); err != nil {
			return 0, err
		}
		if _, err := io.ReadFull(c, buf); err != nil {
			return 0, err
		}
		return int64(time.Since(t)), nil
	}
	for range samples {
		d, err := roundTrip()
		if err != nil {
			return hot, idle, err
		}
		hot = append(hot, d)
	}
	for range samples {
		time.Sleep(time.Millisecond) // the pause that lets the threads sleep
		d, err := roundTrip()
		if err != nil {
			return hot, idle, err
		}
		idle = append(idle, d)
	}
	return hot, idle, nil
}

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

// echoMain is the echo role of the floor measurement: it accepts one
// connection on the Unix socket named by its argument and writes back
// whatever it reads, until the connection ends.
func echoMain(args []string) int {
	if len(args) != 1 {
		fmt.Fprintln(os.Stderr, "usage: hagsbench echo SOCKET")
		return 2
	}
	l, err := net.Listen("unix", args[0])
	if err != nil {
		fmt.Fprintln(os.Stderr, "hagsbench echo:", err)
		return 1
	}
	c, err := l.Accept()
	l.Close()
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
// echo process over a Unix socket and the read of its answer, back to back.
// A request through hagsd is at least one such round trip, and one phase of
// an n-phase protocol at least two (the notification and the vote, then the
// approval).
func (r *runner) echoFloor(dir string, samples int) ([]int64, error) {
	sock := filepath.Join(dir, "echo.sock")
	cmd := exec.CommandContext(r.ctx, r.cfg.self, "echo", sock)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	defer cmd.Wait()
	defer cmd.Process.Kill()
	var c net.Conn
	var err error
	for deadline := time.Now().Add(r.timeout); ; {
		if c, err = net.Dial("unix", sock); err == nil {
			break
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("echo process: %w", err)
		}
		time.Sleep(5 * time.Millisecond) // waiting for the echo process to listen
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(r.timeout))
	buf := make([]byte, 64)
	out := make([]int64, 0, samples)
	for range samples {
		t := time.Now()
		if _, err := c.Write(buf); err != nil {
			return out, err
		}
		if _, err := io.ReadFull(c, buf); err != nil {
			return out, err
		}
		out = append(out, int64(time.Since(t)))
	}
	return out, nil
}

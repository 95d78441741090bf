package proc

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// waitExited blocks until process pid, a child of ours, has exited, and
// leaves it unreaped. It waits on a pidfd through the runtime's poller, so
// a waiting process holds no OS thread; where pidfds cannot be polled it
// falls back to a blocking waitid.
func waitExited(pid int) error {
	if err := waitExitedPidfd(pid); !errors.Is(err, errNoPidfd) {
		return err
	}
	for {
		var info unix.Siginfo
		err := unix.Waitid(unix.P_PID, pid, &info, unix.WEXITED|unix.WNOWAIT, nil)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return fmt.Errorf("waitid %d: %w", pid, err)
		}
		return nil
	}
}

var errNoPidfd = errors.New("pidfd not usable")

func waitExitedPidfd(pid int) error {
	fd, err := unix.PidfdOpen(pid, unix.PIDFD_NONBLOCK)
	if err != nil {
		return errNoPidfd
	}
	f := os.NewFile(uintptr(fd), "pidfd")
	defer f.Close()
	rc, err := f.SyscallConn()
	if err != nil {
		return errNoPidfd
	}
	var werr error
	rerr := rc.Read(func(fd uintptr) bool {
		for {
			var info unix.Siginfo // Signo stays 0 while the child runs
			werr = unix.Waitid(unix.P_PIDFD, int(fd), &info, unix.WEXITED|unix.WNOWAIT|unix.WNOHANG, nil)
			if werr == unix.EINTR {
				continue
			}
			return werr != nil || info.Signo != 0
		}
	})
	if rerr != nil {
		return errNoPidfd // not pollable here: wait the blocking way
	}
	if werr != nil {
		return fmt.Errorf("waitid pidfd of %d: %w", pid, werr)
	}
	return nil
}

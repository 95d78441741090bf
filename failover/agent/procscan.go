package agent

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// procStat is what the runner reads of /proc/PID/stat.
type procStat struct {
	pgrp  int
	state byte
	start uint64 // clock ticks since boot
}

// readStat reads /proc/pid/stat. The command name, in parentheses, may
// hold anything, so the fields are counted from the last ')'.
func readStat(pid int) (procStat, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return procStat{}, err
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return procStat{}, fmt.Errorf("/proc/%d/stat: no command name", pid)
	}
	f := strings.Fields(s[i+1:])
	// f[0] is field 3 (state); pgrp is field 5, starttime field 22.
	if len(f) < 20 || len(f[0]) != 1 {
		return procStat{}, fmt.Errorf("/proc/%d/stat: too few fields", pid)
	}
	pgrp, err1 := strconv.Atoi(f[2])
	start, err2 := strconv.ParseUint(f[19], 10, 64)
	if err1 != nil || err2 != nil {
		return procStat{}, fmt.Errorf("/proc/%d/stat: fields are not numbers", pid)
	}
	return procStat{pgrp: pgrp, state: f[0][0], start: start}, nil
}

// groupMembers returns the live processes of process group pgid that
// started no earlier than since.
func groupMembers(pgid int, since uint64) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var out []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid <= 1 {
			continue
		}
		st, err := readStat(pid)
		if err != nil || st.pgrp != pgid || st.start < since || st.state == 'Z' || st.state == 'X' {
			continue
		}
		out = append(out, pid)
	}
	return out
}

// killGroupMembers kills the processes of group pgid that started no
// earlier than since, and waits until they are gone (or ctx is done). Each
// is killed through a pidfd opened before its identity is checked again,
// so a pid reused in between is never hit. Processes that the killed ones
// started meanwhile are found by looking again.
func killGroupMembers(ctx context.Context, pgid int, since uint64) ([]int, error) {
	var killed []int
	for round := 0; ; round++ {
		members := groupMembers(pgid, since)
		if len(members) == 0 {
			return killed, nil
		}
		if round >= 10 {
			return killed, fmt.Errorf("processes %v still alive after %d rounds of SIGKILL", members, round)
		}
		var fds []int
		for _, pid := range members {
			fd, err := unix.PidfdOpen(pid, 0)
			if err != nil {
				continue // gone already
			}
			st, err := readStat(pid)
			if err != nil || st.pgrp != pgid || st.start < since {
				_ = unix.Close(fd)
				continue
			}
			if err := unix.PidfdSendSignal(fd, unix.SIGKILL, nil, 0); err == nil {
				killed = append(killed, pid)
			}
			fds = append(fds, fd)
		}
		err := waitPidfds(ctx, fds)
		for _, fd := range fds {
			_ = unix.Close(fd)
		}
		if err != nil {
			return killed, err
		}
	}
}

// waitPidfds waits until every pidfd in fds is readable (its process has
// exited), or ctx is done.
func waitPidfds(ctx context.Context, fds []int) error {
	for _, fd := range fds {
		for {
			if err := ctx.Err(); err != nil {
				return err
			}
			// Wake up now and then to look at ctx; the exit itself wakes
			// the poll at once.
			pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
			n, err := unix.Poll(pfd, 100)
			if errors.Is(err, unix.EINTR) {
				continue
			}
			if err != nil {
				return fmt.Errorf("poll pidfd: %w", err)
			}
			if n > 0 {
				break
			}
		}
	}
	return nil
}

var (
	bootOnce sync.Once
	bootVal  string
	selfOnce sync.Once
	selfVal  string
)

// bootID returns this boot's ID (/proc/sys/kernel/random/boot_id).
func bootID() string {
	bootOnce.Do(func() {
		b, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
		if err == nil {
			bootVal = strings.TrimSpace(string(b))
		}
	})
	return bootVal
}

// selfID names this process across pid reuse: "pid:start ticks".
func selfID() string {
	selfOnce.Do(func() {
		pid := os.Getpid()
		st, _ := readStat(pid)
		selfVal = fmt.Sprintf("%d:%d", pid, st.start)
	})
	return selfVal
}

// bootMarker is the file in HA_RSCTMP that holds the boot ID it was last
// used in.
const bootMarker = ".hags-boot-id"

// clearRsctmpAfterBoot empties HA_RSCTMP when the machine has booted since
// the marker in it was written: agents keep there what is true only until
// a reboot (Dummy's state file, ha_pseudo_resource's), which is why
// Pacemaker keeps it in /run. A directory without a marker is left as it
// is (its files say a resource may run, which is the safe side).
func (r *Runner) clearRsctmpAfterBoot() error {
	marker := filepath.Join(r.rsctmp, bootMarker)
	now := bootID()
	b, err := os.ReadFile(marker)
	switch {
	case err == nil && strings.TrimSpace(string(b)) == now:
		return nil
	case err == nil:
		entries, err := os.ReadDir(r.rsctmp)
		if err != nil {
			return fmt.Errorf("agent: %w", err)
		}
		for _, e := range entries {
			if e.Name() == bootMarker {
				continue
			}
			if err := os.RemoveAll(filepath.Join(r.rsctmp, e.Name())); err != nil {
				return fmt.Errorf("agent: emptying HA_RSCTMP after a reboot: %w", err)
			}
		}
		r.log.Info("agent: the machine rebooted since HA_RSCTMP was used; emptied it", "dir", r.rsctmp)
	case !errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("agent: %w", err)
	}
	if err := os.WriteFile(marker, []byte(now+"\n"), 0o644); err != nil {
		return fmt.Errorf("agent: %w", err)
	}
	return nil
}

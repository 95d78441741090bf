package scripts

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// Reasons a script path is refused or a script cannot run. Errors from
// CheckScript and from a Runner wrap one of these.
var (
	// ErrNotAbsolute: the script path is not absolute.
	ErrNotAbsolute = errors.New("path is not absolute")
	// ErrNotFound: the script, or a directory on its path, does not exist.
	ErrNotFound = errors.New("no such file")
	// ErrNotRegular: the script is a directory, device, socket or FIFO.
	ErrNotRegular = errors.New("not a regular file")
	// ErrNotExecutable: the user may not execute the script, or may not
	// search a directory on its path.
	ErrNotExecutable = errors.New("not executable by the registering user")
	// ErrCannotSwitchUser: hagsd is not root and the script belongs to a
	// client with another uid or gid.
	ErrCannotSwitchUser = errors.New("cannot run as the registering user")
	// ErrUnsafe: a script that runs as root, or a directory on the way to
	// it, belongs to another user than root or may be written by its
	// group or by others.
	ErrUnsafe = errors.New("may be changed by another user than root")
)

// maxLinks bounds the symbolic links followed on the way to a script, as
// the kernel bounds them (ELOOP).
const maxLinks = 40

// CheckScript validates a deactivate script path given at ha_gs_init, and
// again just before each run: it must be absolute, exist (symbolic links
// are followed), be a regular file, and be executable by uid/gid.
//
// The check is made as that user: on an OS thread of its own whose
// filesystem uid and gid are uid and gid and which has no supplementary
// groups — the credentials a Runner starts the script with — so the kernel
// judges every directory on the way and the file itself as it will when
// the script starts, access control lists included, and the check reveals
// nothing the user could not learn by itself. The daemon's other threads
// keep their credentials. A hagsd that is not root cannot switch: it checks
// as itself a script of its own uid and gid and refuses any other
// (ErrCannotSwitchUser), which it could not run.
//
// A script registered by uid 0 must moreover belong to root and be
// writable by root alone, and so must every directory on the way to it,
// through every symbolic link (ErrUnsafe): otherwise another user could
// choose what runs as root.
//
// The error names the path and wraps one of ErrNotAbsolute, ErrNotFound,
// ErrNotRegular, ErrNotExecutable, ErrCannotSwitchUser or ErrUnsafe. It is
// meant for the daemon's log; a client is told only that its script was
// refused.
func CheckScript(path string, uid, gid uint32) error {
	if path == "" || !filepath.IsAbs(path) {
		return fmt.Errorf("deactivate script %q: %w", path, ErrNotAbsolute)
	}
	err := asUser(uid, gid, func() error { return checkFile(path, uid, gid) })
	if err != nil {
		return fmt.Errorf("deactivate script %q: %w", path, err)
	}
	if uid == 0 {
		if err := rootOnly(path); err != nil {
			return fmt.Errorf("deactivate script %q: %w", path, err)
		}
	}
	return nil
}

// checkFile checks, with the calling thread's credentials, that path is a
// regular file they may execute.
func checkFile(path string, uid, gid uint32) error {
	st, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, syscall.ENOTDIR):
		return fmt.Errorf("%w: %w", ErrNotFound, err)
	case err != nil: // EACCES on the way, ELOOP, ...
		return fmt.Errorf("%w: %w", ErrNotExecutable, err)
	case !st.Mode().IsRegular():
		return fmt.Errorf("%w (mode %v)", ErrNotRegular, st.Mode())
	}
	err = unix.Faccessat2(unix.AT_FDCWD, path, unix.X_OK, unix.AT_EACCESS)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, unix.ENOSYS), errors.Is(err, unix.EPERM):
		// A kernel before 5.8 (no faccessat2; EPERM from some seccomp
		// filters): the stat above was judged as the user, directories
		// included; judge the file's execute bits from its mode.
		if allowed(st, uid, gid) {
			return nil
		}
		return fmt.Errorf("%w: mode %v for uid %d gid %d", ErrNotExecutable, st.Mode().Perm(), uid, gid)
	}
	return fmt.Errorf("%w: %w", ErrNotExecutable, err)
}

// asUser runs f with filesystem credentials uid and gid and no
// supplementary groups. Linux keeps credentials per thread, and Go moves
// goroutines between threads, so f runs on a goroutine locked to its OS
// thread, which switches only its own credentials and is never unlocked:
// the runtime ends that thread when the goroutine returns instead of
// handing it, with a stranger's credentials, to other goroutines. Root
// (uid 0) needs no switch: its capabilities override the groups.
func asUser(uid, gid uint32, f func() error) error {
	euid, egid := os.Geteuid(), os.Getegid()
	switch {
	case euid != 0 && uint32(euid) == uid && uint32(egid) == gid:
		return f()
	case euid != 0:
		return fmt.Errorf("%w: hagsd runs as uid %d gid %d, not root, and cannot check or run as uid %d gid %d",
			ErrCannotSwitchUser, euid, egid, uid, gid)
	case uid == 0:
		return f()
	}
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		// No UnlockOSThread: see above.
		errc <- func() error {
			if err := unix.Setgroups(nil); err != nil {
				return fmt.Errorf("%w: setgroups: %w", ErrCannotSwitchUser, err)
			}
			unix.Setfsgid(int(gid))
			unix.Setfsuid(int(uid))
			// setfsuid and setfsgid return the previous value whatever
			// happens; an invalid id (-1) changes nothing and reads the
			// current one back.
			if cur, _ := unix.SetfsgidRetGid(-1); cur != int(gid) {
				return fmt.Errorf("%w: filesystem gid is %d, not %d", ErrCannotSwitchUser, cur, gid)
			}
			if cur, _ := unix.SetfsuidRetUid(-1); cur != int(uid) {
				return fmt.Errorf("%w: filesystem uid is %d, not %d", ErrCannotSwitchUser, cur, uid)
			}
			return f()
		}()
	}()
	return <-errc
}

// rootOnly walks path from "/" as the kernel resolves it, following every
// symbolic link, and checks that each directory it passes through and the
// file it ends at belong to root and are writable by root alone: then only
// root can change what the path names. A symbolic link's own mode means
// nothing; the directory holding it is checked.
func rootOnly(path string) error {
	if err := rootOwned("/"); err != nil {
		return err
	}
	cur := "/"
	rest := splitPath(path)
	for links := 0; len(rest) > 0; {
		name := rest[0]
		rest = rest[1:]
		switch name {
		case ".":
			continue
		case "..":
			cur = filepath.Dir(cur) // cur holds no links: its parent is lexical
			continue
		}
		next := filepath.Join(cur, name)
		fi, err := os.Lstat(next)
		if err != nil {
			return fmt.Errorf("%w: %w", ErrNotFound, err)
		}
		if fi.Mode()&fs.ModeSymlink != 0 {
			if links++; links > maxLinks {
				return fmt.Errorf("%w: more than %d symbolic links on the way", ErrNotFound, maxLinks)
			}
			target, err := os.Readlink(next)
			if err != nil {
				return fmt.Errorf("%w: %w", ErrNotFound, err)
			}
			if filepath.IsAbs(target) {
				cur = "/"
			}
			rest = append(splitPath(target), rest...)
			continue
		}
		if err := ownedByRoot(next, fi); err != nil {
			return err
		}
		cur = next
	}
	return nil
}

func splitPath(p string) []string {
	var out []string
	for _, part := range strings.Split(p, "/") {
		if part != "" {
			out = append(out, part)
		}
	}
	return out
}

func rootOwned(path string) error {
	fi, err := os.Lstat(path)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrNotFound, err)
	}
	return ownedByRoot(path, fi)
}

// ownedByRoot checks that fi (of path) belongs to uid 0 and has no group
// or other write bit.
func ownedByRoot(path string, fi fs.FileInfo) error {
	sys, ok := fi.Sys().(*syscall.Stat_t)
	switch {
	case !ok:
		return fmt.Errorf("%w: %s: owner unknown", ErrUnsafe, path)
	case sys.Uid != 0:
		return fmt.Errorf("%w: %s belongs to uid %d", ErrUnsafe, path, sys.Uid)
	case fi.Mode().Perm()&0o022 != 0:
		return fmt.Errorf("%w: %s has mode %v (writable by its group or others)", ErrUnsafe, path, fi.Mode().Perm())
	}
	return nil
}

// allowed reports whether uid/gid (no supplementary groups) has execute
// (search, for a directory) permission on fi by its mode bits: the
// fallback of checkFile on kernels without faccessat2.
func allowed(fi fs.FileInfo, uid, gid uint32) bool {
	perm := fi.Mode().Perm()
	if uid == 0 {
		return fi.IsDir() || perm&0o111 != 0
	}
	sys, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return perm&0o001 != 0
	}
	switch {
	case sys.Uid == uid:
		return perm&0o100 != 0
	case sys.Gid == gid:
		return perm&0o010 != 0
	default:
		return perm&0o001 != 0
	}
}

package scripts

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
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
)

// CheckScript validates a deactivate script path given at ha_gs_init: it
// must be absolute, exist (symbolic links are followed), be a regular file,
// and be executable by uid/gid, every directory on the way searchable by
// them. Permission is judged from the mode bits alone, as the kernel would
// for a process with that uid, that gid and no supplementary groups (which
// is how a Runner starts it); access control lists are not consulted, and
// uid 0 needs only one execute bit. The error names the path and wraps one
// of ErrNotAbsolute, ErrNotFound, ErrNotRegular, ErrNotExecutable.
func CheckScript(path string, uid, gid uint32) error {
	if path == "" || !filepath.IsAbs(path) {
		return fmt.Errorf("deactivate script %q: %w", path, ErrNotAbsolute)
	}
	st, err := os.Stat(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("deactivate script %q: %w: %w", path, ErrNotFound, err)
		}
		return fmt.Errorf("deactivate script %q: %w: %w", path, ErrNotExecutable, err)
	}
	if !st.Mode().IsRegular() {
		return fmt.Errorf("deactivate script %q: %w (mode %v)", path, ErrNotRegular, st.Mode())
	}
	if !allowed(st, uid, gid) {
		return fmt.Errorf("deactivate script %q: %w: mode %v for uid %d gid %d",
			path, ErrNotExecutable, st.Mode().Perm(), uid, gid)
	}
	// Every directory the kernel walks to reach the script must be
	// searchable too. Resolve links so that we check the real directories.
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		return fmt.Errorf("deactivate script %q: %w: %w", path, ErrNotFound, err)
	}
	for dir := filepath.Dir(real); ; dir = filepath.Dir(dir) {
		dst, err := os.Stat(dir)
		if err != nil {
			return fmt.Errorf("deactivate script %q: directory %q: %w: %w", path, dir, ErrNotFound, err)
		}
		if !allowed(dst, uid, gid) {
			return fmt.Errorf("deactivate script %q: %w: directory %q (mode %v) is not searchable by uid %d gid %d",
				path, ErrNotExecutable, dir, dst.Mode().Perm(), uid, gid)
		}
		if dir == "/" || dir == filepath.Dir(dir) {
			return nil
		}
	}
}

// allowed reports whether uid/gid (no supplementary groups) has execute
// (search, for a directory) permission on fi by its mode bits.
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

package harness

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// scriptBases are where RootScriptDir makes directories, in order of
// preference: root's own directories, which no other user may write
// (unlike the temporary directory, /tmp).
var scriptBases = []string{"/run", "/var/lib"}

// RootScriptDir makes a new, empty directory that everyone may search, for
// deactivate scripts that hagsd accepts from root: hagsd refuses a script
// registered by root unless root alone can change it and every directory
// on the way to it, and the temporary directory (/tmp) is writable by all.
// The directory is made in hags-test/ under the first of scriptBases that
// belongs to root and that only root can write, all the way up. The
// caller removes it with remove. Only root can make one.
func RootScriptDir() (dir string, remove func(), err error) {
	var tried []string
	for _, base := range scriptBases {
		dir, err := rootDir(filepath.Join(base, "hags-test"))
		if err == nil {
			return dir, func() {
				_ = os.RemoveAll(dir)
				_ = os.Remove(filepath.Dir(dir)) // hags-test/, if nothing else is in it
			}, nil
		}
		tried = append(tried, err.Error())
	}
	return "", nil, fmt.Errorf("harness: no directory for root's scripts that only root can write: %v", tried)
}

// ScriptDir returns a new, empty directory for deactivate scripts, which
// everyone may search, removed when the test ends: a RootScriptDir when the
// test runs as root, else a t.TempDir opened for searching.
func ScriptDir(tb testing.TB) string {
	tb.Helper()
	if os.Geteuid() != 0 {
		dir := tb.TempDir()
		if err := os.Chmod(dir, 0o755); err != nil {
			tb.Fatalf("harness: %v", err)
		}
		return dir
	}
	dir, remove, err := RootScriptDir()
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(remove)
	return dir
}

// rootDir makes a new directory under parent (created 0755 if missing)
// after checking that parent and every directory above it belong to root
// and are writable by root alone. Another test's cleanup may remove parent
// between the two steps (it removes parent once empty): then it tries
// again.
func rootDir(parent string) (string, error) {
	for attempt := 0; ; attempt++ {
		dir, err := rootDirOnce(parent)
		if err == nil || !errors.Is(err, fs.ErrNotExist) || attempt == 5 {
			return dir, err
		}
	}
}

func rootDirOnce(parent string) (string, error) {
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return "", err
	}
	for d := parent; ; d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		if err != nil {
			return "", err
		}
		st, ok := fi.Sys().(*syscall.Stat_t)
		if !ok || st.Uid != 0 || fi.Mode().Perm()&0o022 != 0 {
			return "", fmt.Errorf("%s: owner or mode %v lets others write it", d, fi.Mode().Perm())
		}
		if d == "/" {
			break
		}
	}
	dir, err := os.MkdirTemp(parent, "scripts-")
	if err != nil {
		return "", err
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		os.Remove(dir)
		return "", err
	}
	return dir, nil
}

package scripts

import (
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCheckScript(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	uid, gid := uint32(os.Geteuid()), uint32(os.Getegid())
	good := writeScript(t, dir, "good.sh", "exit 0\n")
	noExec := filepath.Join(dir, "noexec.sh")
	require.NoError(t, os.WriteFile(noExec, []byte("#!/bin/sh\n"), 0o644))
	link := filepath.Join(dir, "link.sh")
	require.NoError(t, os.Symlink(good, link))
	fifo := filepath.Join(dir, "fifo")
	require.NoError(t, syscall.Mkfifo(fifo, 0o755))

	cases := []struct {
		name string
		path string
		want error // nil: accepted
	}{
		{"absolute executable file", good, nil},
		{"symbolic link to an executable file", link, nil},
		{"relative path", "good.sh", ErrNotAbsolute},
		{"dot-relative path", "./good.sh", ErrNotAbsolute},
		{"empty path", "", ErrNotAbsolute},
		{"missing file", filepath.Join(dir, "missing.sh"), ErrNotFound},
		{"missing directory", filepath.Join(dir, "nodir", "x.sh"), ErrNotFound},
		{"directory", dir, ErrNotRegular},
		{"fifo", fifo, ErrNotRegular},
		{"no execute bits", noExec, ErrNotExecutable},
	}
	for _, c := range cases {
		err := CheckScript(c.path, uid, gid)
		if c.want == nil {
			assert.NoError(t, err, "%s: CheckScript accepts %q", c.name, c.path)
			continue
		}
		require.ErrorIs(t, err, c.want, "%s: CheckScript refuses %q", c.name, c.path)
		assert.Contains(t, err.Error(), c.path, "%s: the error names the path", c.name)
	}
	assert.ErrorIs(t, CheckScript(filepath.Join(dir, "missing.sh"), uid, gid), fs.ErrNotExist,
		"a missing script's error also wraps fs.ErrNotExist")
}

func TestCheckScriptDirectoryNotSearchable(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to check a directory against another uid than the test's own")
	}
	t.Parallel()
	dir, err := os.MkdirTemp("", "hags-scripts-check-")
	require.NoError(t, err)
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	require.NoError(t, os.Chmod(dir, 0o755))
	private := filepath.Join(dir, "private")
	require.NoError(t, os.Mkdir(private, 0o700))
	p := writeScript(t, private, "s.sh", "exit 0\n")

	err = CheckScript(p, 65534, 65534)
	require.ErrorIs(t, err, ErrNotExecutable, "a script in a directory nobody cannot search is refused for nobody")
	assert.Contains(t, err.Error(), private, "the error names the directory that blocks the way")
	assert.NoError(t, CheckScript(p, 0, 0), "root may reach it")
}

// fakeInfo is an fs.FileInfo with a chosen mode and owner.
type fakeInfo struct {
	mode     fs.FileMode
	uid, gid uint32
}

func (f fakeInfo) Name() string       { return "f" }
func (f fakeInfo) Size() int64        { return 0 }
func (f fakeInfo) Mode() fs.FileMode  { return f.mode }
func (f fakeInfo) ModTime() time.Time { return time.Time{} }
func (f fakeInfo) IsDir() bool        { return f.mode.IsDir() }
func (f fakeInfo) Sys() any           { return &syscall.Stat_t{Uid: f.uid, Gid: f.gid} }

func TestAllowedByModeBits(t *testing.T) {
	t.Parallel()
	const owner, group = 1000, 2000
	cases := []struct {
		name     string
		mode     fs.FileMode
		uid, gid uint32
		want     bool
	}{
		{"owner with owner x", 0o700, owner, 1, true},
		{"owner without owner x, though others have x", 0o617, owner, group, false},
		{"group member with group x", 0o070, 1, group, true},
		{"group member without group x, though others have x", 0o705, 1, group, false},
		{"other with other x", 0o001, 1, 1, true},
		{"other without other x", 0o770, 1, 1, false},
		{"root with any x bit", 0o010, 0, 0, true},
		{"root with no x bit", 0o666, 0, 0, false},
		{"root searching a directory with no x bit", fs.ModeDir | 0o000, 0, 0, true},
	}
	for _, c := range cases {
		got := allowed(fakeInfo{mode: c.mode, uid: owner, gid: group}, c.uid, c.gid)
		assert.Equal(t, c.want, got, "%s: mode %v, uid %d gid %d", c.name, c.mode, c.uid, c.gid)
	}
}

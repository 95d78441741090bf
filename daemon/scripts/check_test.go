package scripts

import (
	"encoding/binary"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/openhags/hags/internal/harness"
)

func TestCheckScript(t *testing.T) {
	t.Parallel()
	dir := harness.ScriptDir(t)
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

// needRoot skips a test that must switch users or make files of other
// owners; CI runs the tests as root.
func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to act as another user")
	}
}

// TestCheckScriptRunsAsTheUser: the check sees the file system as the
// registering user does. A script in a directory only root may search is
// refused for nobody and accepted for root; a script nobody may execute
// only through a supplementary group of the daemon's is refused, since
// scripts run with no supplementary groups.
func TestCheckScriptRunsAsTheUser(t *testing.T) {
	needRoot(t)
	t.Parallel()
	dir := harness.ScriptDir(t)
	private := filepath.Join(dir, "private")
	require.NoError(t, os.Mkdir(private, 0o700))
	hidden := writeScript(t, private, "s.sh", "exit 0\n")
	err := CheckScript(hidden, 65534, 65534)
	require.ErrorIs(t, err, ErrNotExecutable, "nobody cannot reach a script in a directory only root may search")
	assert.NoError(t, CheckScript(hidden, 0, 0), "root may reach it")

	// Group 4242 may execute it, and the daemon (root) may be in that
	// group; nobody is not, and neither is the script when it runs.
	byGroup := writeScript(t, dir, "group.sh", "exit 0\n")
	require.NoError(t, os.Chown(byGroup, 0, 4242))
	require.NoError(t, os.Chmod(byGroup, 0o750))
	assert.ErrorIs(t, CheckScript(byGroup, 65534, 65534), ErrNotExecutable, "another group's execute bit is not nobody's")
	assert.NoError(t, CheckScript(byGroup, 65534, 4242), "the group named by the client's gid may execute it")
}

// TestCheckScriptLeavesTheDaemonsCredentials: checks as another user run
// on threads of their own, which are thrown away; the daemon's goroutines,
// on whatever thread they run, keep root's view of the file system.
func TestCheckScriptLeavesTheDaemonsCredentials(t *testing.T) {
	needRoot(t)
	t.Parallel()
	dir := harness.ScriptDir(t)
	private := filepath.Join(dir, "private")
	require.NoError(t, os.Mkdir(private, 0o700))
	secret := filepath.Join(private, "secret")
	require.NoError(t, os.WriteFile(secret, []byte("x"), 0o600))
	script := writeScript(t, dir, "s.sh", "exit 0\n")

	var wg sync.WaitGroup
	errs := make(chan error, 400)
	for range 200 {
		wg.Add(2)
		go func() {
			defer wg.Done()
			if err := CheckScript(script, 65534, 65534); err != nil {
				errs <- err
			}
		}()
		go func() {
			defer wg.Done()
			if _, err := os.ReadFile(secret); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("every check passes and root still reads its files: %v", err)
	}
}

// TestCheckScriptRootOnly: a script that runs as root, and every
// directory on the way to it through every link, must belong to root and
// be writable by root alone. Other users' scripts are not held to it.
func TestCheckScriptRootOnly(t *testing.T) {
	needRoot(t)
	t.Parallel()
	safe := harness.ScriptDir(t)
	good := writeScript(t, safe, "good.sh", "exit 0\n")

	groupWritable := writeScript(t, safe, "gw.sh", "exit 0\n")
	require.NoError(t, os.Chmod(groupWritable, 0o775))
	otherOwned := writeScript(t, safe, "other.sh", "exit 0\n")
	require.NoError(t, os.Chown(otherOwned, 65534, 0))

	gwDir := filepath.Join(safe, "gwdir")
	require.NoError(t, os.Mkdir(gwDir, 0o775))
	require.NoError(t, os.Chmod(gwDir, 0o775)) // past the umask
	inGwDir := writeScript(t, gwDir, "s.sh", "exit 0\n")

	nobodysDir := filepath.Join(safe, "nobodys")
	require.NoError(t, os.Mkdir(nobodysDir, 0o755))
	require.NoError(t, os.Chown(nobodysDir, 65534, 65534))
	inNobodysDir := writeScript(t, nobodysDir, "s.sh", "exit 0\n")

	// Links: to an unsafe place, from an unsafe place, and a safe
	// relative one that climbs with "..".
	linkOut := filepath.Join(safe, "link-out")
	require.NoError(t, os.Symlink(inGwDir, linkOut))
	linkIn := filepath.Join(gwDir, "link-in")
	require.NoError(t, os.Symlink(good, linkIn))
	sub := filepath.Join(safe, "sub")
	require.NoError(t, os.Mkdir(sub, 0o755))
	linkUp := filepath.Join(sub, "link-up")
	require.NoError(t, os.Symlink("../good.sh", linkUp))
	tmpScript := writeScript(t, t.TempDir(), "tmp.sh", "exit 0\n") // under /tmp, which everyone may write

	cases := []struct {
		name string
		path string
		ok   bool
	}{
		{"root's script in root's directories", good, true},
		{"a relative link within root's directories", linkUp, true},
		{"a group-writable script", groupWritable, false},
		{"a script owned by nobody", otherOwned, false},
		{"a script in a group-writable directory", inGwDir, false},
		{"a script in nobody's directory", inNobodysDir, false},
		{"a link to a script in a group-writable directory", linkOut, false},
		{"a link in a group-writable directory to a good script", linkIn, false},
		{"a script under /tmp", tmpScript, false},
	}
	for _, c := range cases {
		err := CheckScript(c.path, 0, 0)
		if c.ok {
			assert.NoError(t, err, "%s: accepted for root", c.name)
			continue
		}
		assert.ErrorIs(t, err, ErrUnsafe, "%s: refused for root", c.name)
	}
	require.NoError(t, os.Chmod(groupWritable, 0o777))
	assert.NoError(t, CheckScript(groupWritable, 65534, 65534), "nobody's script is not held to root's rule")
}

// denyACL sets on path a POSIX access ACL that gives uid nothing while its
// mode bits stay 0755, or skips the test where the file system keeps no
// ACLs. The xattr value is the kernel's format: a version, then one
// (tag, permissions, id) entry per line of the ACL, in tag order.
func denyACL(t *testing.T, path string, uid uint32) {
	t.Helper()
	const (
		userObj, user, groupObj, mask, other = 0x01, 0x02, 0x04, 0x10, 0x20
		undefined                            = 0xffffffff
	)
	entry := func(tag, perm uint16, id uint32) []byte {
		return binary.LittleEndian.AppendUint32(binary.LittleEndian.AppendUint16(binary.LittleEndian.AppendUint16(nil, tag), perm), id)
	}
	v := binary.LittleEndian.AppendUint32(nil, 2)
	v = append(v, entry(userObj, 7, undefined)...)
	v = append(v, entry(user, 0, uid)...)
	v = append(v, entry(groupObj, 5, undefined)...)
	v = append(v, entry(mask, 5, undefined)...)
	v = append(v, entry(other, 5, undefined)...)
	if err := unix.Setxattr(path, "system.posix_acl_access", v, 0); err != nil {
		if errors.Is(err, unix.EOPNOTSUPP) {
			t.Skipf("the file system of %s keeps no ACLs: %v", path, err)
		}
		require.NoError(t, err, "setting an ACL on %s", path)
	}
}

// TestCheckScriptHonoursACLs: a directory whose mode lets everyone search
// it but whose ACL shuts nobody out hides the script from nobody. Judging
// the mode bits as root did would accept it, and so tell a client about a
// file it cannot reach; the kernel, asked as nobody, refuses.
func TestCheckScriptHonoursACLs(t *testing.T) {
	needRoot(t)
	t.Parallel()
	dir := filepath.Join(harness.ScriptDir(t), "acl")
	require.NoError(t, os.Mkdir(dir, 0o755))
	script := writeScript(t, dir, "s.sh", "exit 0\n")
	require.NoError(t, CheckScript(script, 65534, 65534), "before the ACL nobody may run it")
	denyACL(t, dir, 65534)
	fi, err := os.Stat(dir)
	require.NoError(t, err)
	require.Equal(t, fs.FileMode(0o755), fi.Mode().Perm(), "the mode bits still say everyone may search")
	assert.ErrorIs(t, CheckScript(script, 65534, 65534), ErrNotExecutable, "the ACL shuts nobody out, and the check sees it")
	assert.NoError(t, CheckScript(script, 1000, 1000), "another user is not named by the ACL")
}

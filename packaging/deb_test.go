package packaging

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhags/hags/internal/harness"
)

// debEnv gates TestDebianPackages: building the packages takes minutes, so
// it runs from `make test-deb`, not `make test`.
const debEnv = "HAGS_TEST_DEB"

// run runs a command in the repository's root and returns its output.
func run(t *testing.T, timeout time.Duration, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = root
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	require.NoError(t, cmd.Run(), "%s %v:\n%s%s", name, args, out.String(), stderr.String())
	return out.String()
}

// ensure installs Debian packages that provide the commands, if missing.
func ensure(t *testing.T, pkgs map[string]string) {
	t.Helper()
	var missing []string
	for cmd, pkg := range pkgs {
		if _, err := exec.LookPath(cmd); err != nil {
			missing = append(missing, pkg)
		}
	}
	if len(missing) == 0 {
		return
	}
	if os.Geteuid() != 0 {
		t.Fatalf("%v are needed: apt-get install %s", missing, strings.Join(missing, " "))
	}
	run(t, 10*time.Minute, "apt-get", "update", "-qq")
	run(t, 10*time.Minute, "env", append([]string{"DEBIAN_FRONTEND=noninteractive", "apt-get", "install", "-y", "-qq"}, missing...)...)
}

// contents lists a package's files: path (without the leading ".") → the
// link target for a symbolic link, "" otherwise.
func contents(t *testing.T, deb string) map[string]string {
	t.Helper()
	out := run(t, time.Minute, "dpkg-deb", "--contents", deb)
	files := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		f := strings.Fields(line)
		require.GreaterOrEqual(t, len(f), 6, "dpkg-deb --contents line %q", line)
		path := strings.TrimPrefix(f[5], ".")
		assert.NotContains(t, path, "${", "%s: every variable of the nfpm configuration was expanded", filepath.Base(deb))
		target := ""
		if len(f) == 8 && f[6] == "->" {
			target = f[7]
		}
		files[path] = target
	}
	return files
}

// TestDebianPackages builds the packages with `make deb` and checks them:
// lintian reports no error and no warning (justified overrides are
// shipped with the packages); each package holds what it should, the
// library with its soname link, the development links, the header, the
// pkg-config file, the units, the configuration as conffiles and every
// man page; the control fields name the right dependencies and the
// library's shlibs; the maintainer scripts create the groups and enable
// nothing. As root, on a machine where hags is not installed, it also
// installs them, builds and runs a C program against the installed
// library and the installed hagsd, and purges them.
func TestDebianPackages(t *testing.T) {
	if os.Getenv(debEnv) == "" {
		t.Skipf("building the packages takes minutes: run `make test-deb` (or set %s=1)", debEnv)
	}
	ensure(t, map[string]string{"lintian": "lintian", "dpkg-shlibdeps": "dpkg-dev", "man": "man-db", "pkg-config": "pkg-config"})
	run(t, 30*time.Minute, "make", "deb")
	version := strings.TrimSpace(run(t, time.Minute, "make", "-s", "--no-print-directory", "print-deb-version"))
	arch := strings.TrimSpace(run(t, time.Minute, "dpkg", "--print-architecture"))
	triplet := strings.TrimSpace(run(t, time.Minute, "dpkg-architecture", "-qDEB_HOST_MULTIARCH"))
	top, err := filepath.Abs(root)
	require.NoError(t, err)
	deb := func(pkg string) string {
		return filepath.Join(top, "build", "deb", pkg+"_"+version+"_"+arch+".deb")
	}
	for _, pkg := range []string{"hags", "libha-gs1", "libha-gs-dev"} {
		require.FileExists(t, deb(pkg), "make deb builds %s", pkg)
	}

	t.Run("lintian", func(t *testing.T) {
		cmd := exec.Command("lintian", "--display-level", ">=warning", "--info", deb("hags"), deb("libha-gs1"), deb("libha-gs-dev"))
		out, err := cmd.CombinedOutput()
		t.Logf("lintian:\n%s", out)
		assert.NoError(t, err, "lintian exits 0")
		for _, line := range strings.Split(string(out), "\n") {
			assert.False(t, strings.HasPrefix(line, "E:") || strings.HasPrefix(line, "W:"), "lintian reports no error or warning: %s", line)
		}
	})

	lib := "/usr/lib/" + triplet
	t.Run("hags", func(t *testing.T) {
		files := contents(t, deb("hags"))
		for _, f := range []string{"/usr/sbin/hagsd", "/usr/sbin/hagsrmd", "/usr/bin/hagsctl", "/usr/bin/hagsrm",
			"/lib/systemd/system/hagsd.service", "/lib/systemd/system/hagsrmd.service",
			"/etc/hags/hagsd.conf", "/etc/hags/hagsrmd.conf", "/var/lib/hags/",
			"/usr/share/doc/hags/copyright", "/usr/share/doc/hags/changelog.Debian.gz",
			"/usr/share/bash-completion/completions/hagsctl", "/usr/share/bash-completion/completions/hagsrm",
			"/usr/share/zsh/vendor-completions/_hagsctl", "/usr/share/zsh/vendor-completions/_hagsrm"} {
			assert.Contains(t, files, f, "hags holds %s", f)
		}
		fields := run(t, time.Minute, "dpkg-deb", "--field", deb("hags"))
		assert.Regexp(t, `(?m)^Depends: .*libc6 \(>= [0-9.]+\)`, fields, "hags depends on the libc it was linked with")
		assert.Regexp(t, `(?m)^Depends: .*adduser`, fields, "hags depends on adduser, which its postinst uses")
		ctrl := t.TempDir()
		run(t, time.Minute, "dpkg-deb", "--control", deb("hags"), ctrl)
		conffiles, err := os.ReadFile(filepath.Join(ctrl, "conffiles"))
		require.NoError(t, err, "hags has conffiles")
		assert.ElementsMatch(t, []string{"/etc/hags/hagsd.conf", "/etc/hags/hagsrmd.conf"}, strings.Fields(string(conffiles)),
			"the configuration files are conffiles: an operator's changes survive upgrades")
		postinst, err := os.ReadFile(filepath.Join(ctrl, "postinst"))
		require.NoError(t, err)
		for _, g := range []string{"hagsuser", "hagsadmin"} {
			assert.Contains(t, string(postinst), g, "postinst creates the group %s", g)
		}
		assert.Contains(t, string(postinst), "addgroup --system")
		var code []string // postinst without its comments
		for _, l := range strings.Split(string(postinst), "\n") {
			if !strings.HasPrefix(strings.TrimSpace(l), "#") {
				code = append(code, l)
			}
		}
		assert.NotRegexp(t, `systemctl|deb-systemd|invoke-rc.d|update-rc.d`, strings.Join(code, "\n"), "postinst enables and starts nothing")
	})

	t.Run("libha-gs1", func(t *testing.T) {
		files := contents(t, deb("libha-gs1"))
		assert.Contains(t, files, lib+"/libha_gs.so.1.0.0")
		assert.Equal(t, "libha_gs.so.1.0.0", files[lib+"/libha_gs.so.1"], "the soname link points at the library")
		assert.NotContains(t, files, lib+"/libha_gs.so", "the development link is in libha-gs-dev")
		ctrl := t.TempDir()
		run(t, time.Minute, "dpkg-deb", "--control", deb("libha-gs1"), ctrl)
		shlibs, err := os.ReadFile(filepath.Join(ctrl, "shlibs"))
		require.NoError(t, err, "libha-gs1 has a shlibs file")
		assert.Regexp(t, `^libha_gs 1 libha-gs1 \(>= [^)]+\)\n$`, string(shlibs))
		triggers, err := os.ReadFile(filepath.Join(ctrl, "triggers"))
		require.NoError(t, err)
		assert.Contains(t, string(triggers), "activate-noawait ldconfig")
		tree := t.TempDir()
		run(t, time.Minute, "dpkg-deb", "--extract", deb("libha-gs1"), tree)
		so := run(t, time.Minute, "readelf", "-d", filepath.Join(tree, lib, "libha_gs.so.1.0.0"))
		assert.Contains(t, so, "Library soname: [libha_gs.so.1]")
	})

	t.Run("libha-gs-dev", func(t *testing.T) {
		files := contents(t, deb("libha-gs-dev"))
		for _, f := range []string{"/usr/include/ha_gs.h", lib + "/libha_gs.a", lib + "/pkgconfig/libha_gs.pc"} {
			assert.Contains(t, files, f)
		}
		assert.Equal(t, "libha_gs.so.1", files[lib+"/libha_gs.so"], "-lha_gs resolves to the soname")
		assert.Equal(t, "libha_gs.so.1", files[lib+"/libha_gs_r.so"], "-lha_gs_r too")
		fields := run(t, time.Minute, "dpkg-deb", "--field", deb("libha-gs-dev"))
		assert.Contains(t, fields, "Depends: libha-gs1 (= "+version+")")
	})

	t.Run("man pages", func(t *testing.T) {
		all := map[string]string{}
		for _, pkg := range []string{"hags", "libha-gs1", "libha-gs-dev"} {
			for f := range contents(t, deb(pkg)) {
				all[f] = pkg
			}
		}
		pages, err := filepath.Glob(filepath.Join(root, "docs", "man", "*.[0-9].md"))
		require.NoError(t, err)
		require.Len(t, pages, 23)
		for _, p := range pages {
			name := strings.TrimSuffix(filepath.Base(p), ".md")
			section := name[len(name)-1:]
			want := "hags"
			if section == "3" {
				want = "libha-gs-dev"
			}
			path := "/usr/share/man/man" + section + "/" + name + ".gz"
			assert.Equal(t, want, all[path], "%s is shipped, compressed, in %s", name, want)
		}
	})

	t.Run("install", func(t *testing.T) { installAndUse(t, deb, lib) })
}

// installAndUse installs the three packages on this machine, checks what
// installing did, builds a C client against the installed library with
// pkg-config, runs it against the installed hagsd, and purges them.
func installAndUse(t *testing.T, deb func(string) string, lib string) {
	if os.Geteuid() != 0 {
		t.Skip("installing the packages needs root")
	}
	if exec.Command("dpkg-query", "-W", "hags").Run() == nil {
		t.Skip("hags is already installed on this machine: not replacing it")
	}
	groupsBefore := map[string]bool{}
	for _, g := range []string{"hagsuser", "hagsadmin"} {
		groupsBefore[g] = exec.Command("getent", "group", g).Run() == nil
	}
	t.Cleanup(func() {
		exec.Command("dpkg", "--purge", "hags", "libha-gs-dev", "libha-gs1").Run()
		for g, existed := range groupsBefore {
			if !existed {
				exec.Command("groupdel", g).Run()
			}
		}
	})
	run(t, 5*time.Minute, "env", "DEBIAN_FRONTEND=noninteractive", "dpkg", "-i", deb("libha-gs1"), deb("libha-gs-dev"), deb("hags"))

	for _, g := range []string{"hagsuser", "hagsadmin"} {
		assert.NoError(t, exec.Command("getent", "group", g).Run(), "installing created the group %s", g)
	}
	for _, u := range []string{"hagsd.service", "hagsrmd.service"} {
		out, _ := exec.Command("systemctl", "is-enabled", u).CombinedOutput()
		assert.Equal(t, "disabled", strings.TrimSpace(string(out)), "%s is installed, not enabled", u)
	}
	where, err := exec.Command("man", "-w", "ha_gs_join").Output()
	require.NoError(t, err, "man finds ha_gs_join(3)")
	assert.Equal(t, "/usr/share/man/man3/ha_gs_join.3.gz", strings.TrimSpace(string(where)))
	ldconfig, err := exec.Command("ldconfig", "-p").Output()
	require.NoError(t, err)
	// With /lib a link to /usr/lib, ldconfig may name either.
	assert.Regexp(t, `libha_gs\.so\.1 \(libc6,x86-64\) => (/usr)?`+strings.TrimPrefix(lib, "/usr")+`/libha_gs\.so\.1`, string(ldconfig),
		"the loader knows the library")

	flags := strings.Fields(run(t, time.Minute, "pkg-config", "--cflags", "--libs", "libha_gs"))
	assert.Contains(t, flags, "-lha_gs")
	prog := filepath.Join(t.TempDir(), "cgsclient")
	run(t, 2*time.Minute, "gcc", append([]string{"-std=c99", "-Wall", "-Wextra", "-Werror", "-o", prog, "capi/testdata/cgsclient.c"}, flags...)...)
	ldd := run(t, time.Minute, "ldd", prog)
	assert.Regexp(t, `libha_gs\.so\.1 => (/usr)?`+strings.TrimPrefix(lib, "/usr")+`/libha_gs\.so\.1`, ldd,
		"the program links the installed shared library (-lha_gs finds libha_gs.so)")

	sdir, err := os.MkdirTemp("", "hags-deb-")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(sdir) })
	d, err := harness.StartDaemon("/usr/sbin/hagsd", filepath.Join(sdir, "hagsd.sock"), nil, "--domain", "debtest")
	require.NoError(t, err, "the installed hagsd starts")
	defer d.Stop(time.Minute)
	c := exec.Command(prog)
	c.Env = append(os.Environ(), "HA_GS_SOCKET="+d.Socket)
	c.Stdin = strings.NewReader("node\nquit\n")
	out, err := c.CombinedOutput()
	require.NoError(t, err, "the C client runs:\n%s", out)
	assert.Equal(t, "ready node=1\nnode 1\nbye\n", string(out), "the C client built against the package talks to the packaged hagsd")
}

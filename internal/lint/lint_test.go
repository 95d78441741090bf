// Package lint holds tests that enforce the rules of docs/style.md that a
// program can check: the package boundaries, the forbidden calls, and that
// no file of the repository points at a document outside it.
package lint

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const module = "github.com/openhags/hags"

type file struct {
	pkgDir  string // relative to the repository root
	path    string
	test    bool
	imports []string
	src     string
}

func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs("../..")
	require.NoError(t, err)
	_, err = os.Stat(filepath.Join(dir, "go.mod"))
	require.NoError(t, err, "the repository root holds go.mod")
	return dir
}

func goFiles(t *testing.T) []file {
	root := repoRoot(t)
	var out []file
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			name := d.Name()
			if p != root && (strings.HasPrefix(name, ".") || name == "build" || name == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(p, ".go") {
			return nil
		}
		src, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		f, err := parser.ParseFile(fset, p, src, parser.ImportsOnly)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, filepath.Dir(p))
		fl := file{pkgDir: filepath.ToSlash(rel), path: p, test: strings.HasSuffix(p, "_test.go"), src: string(src)}
		for _, imp := range f.Imports {
			fl.imports = append(fl.imports, strings.Trim(imp.Path.Value, `"`))
		}
		out = append(out, fl)
		return nil
	})
	require.NoError(t, err)
	require.NotEmpty(t, out)
	return out
}

func under(dir, prefix string) bool { return dir == prefix || strings.HasPrefix(dir, prefix+"/") }

// TestImportBoundaries keeps the data path a straight line: wire depends on
// nothing of ours, the engine on wire only, gsapi never on the daemon, and
// the daemon never on the client.
func TestImportBoundaries(t *testing.T) {
	type rule struct {
		pkg     string
		forbid  []string
		only    []string // if set, imports of this module must be in this list
		allowIn bool     // rule applies to test files too
	}
	rules := []rule{
		{pkg: "internal/wire", only: []string{}},
		{pkg: "daemon/protocol", only: []string{"internal/wire"},
			forbid: []string{"net", "os/exec", "github.com/hashicorp/raft", "github.com/hashicorp/memberlist", "os/signal"}},
		{pkg: "gsapi", forbid: []string{module + "/daemon", module + "/capi", "os/signal", "C"}},
		{pkg: "daemon", forbid: []string{module + "/gsapi", module + "/capi"}},
		{pkg: "capi", forbid: []string{module + "/daemon", "os/signal", "os/exec"}},
	}
	for _, f := range goFiles(t) {
		for _, r := range rules {
			if !under(f.pkgDir, r.pkg) || f.test {
				continue
			}
			if r.pkg == "gsapi" && under(f.pkgDir, "gsapi/gsapitest") {
				continue // the in-memory daemon for users' tests runs the real daemon
			}
			for _, imp := range f.imports {
				for _, bad := range r.forbid {
					assert.False(t, imp == bad || strings.HasPrefix(imp, bad+"/"),
						"%s imports %s, which %s must not depend on", f.path, imp, r.pkg)
				}
				if r.only != nil && strings.HasPrefix(imp, module+"/") {
					ok := false
					for _, allowed := range r.only {
						ok = ok || imp == module+"/"+allowed
					}
					assert.True(t, ok, "%s imports %s; %s may import only %v of this module", f.path, imp, r.pkg, r.only)
				}
			}
		}
	}
}

// TestForbiddenCalls: only cmd/ may exit the process or take signals, and the
// engine never reads the clock.
func TestForbiddenCalls(t *testing.T) {
	for _, f := range goFiles(t) {
		if f.test {
			continue
		}
		if !under(f.pkgDir, "cmd") && !under(f.pkgDir, "examples") {
			for _, call := range []string{"os.Exit(", "log.Fatal", "signal.Notify("} {
				assert.NotContains(t, f.src, call, "%s: only cmd/ and examples/ may call %s", f.path, call)
			}
		}
		if under(f.pkgDir, "capi") {
			// The program's environment changes after the library loads
			// (setenv before ha_gs_init); only C getenv sees it.
			assert.NotContains(t, f.src, "os.Getenv(", "%s: capi reads the environment with C getenv, never os.Getenv", f.path)
		}
		if under(f.pkgDir, "daemon/protocol") {
			for _, call := range []string{"time.Now(", "time.After(", "time.Sleep(", "time.NewTimer(", "go func"} {
				assert.NotContains(t, f.src, call, "%s: the engine is pure; %s is an effect", f.path, call)
			}
		}
	}
}

package lint

import (
	"bufio"
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// outsideRef matches a pointer to a document that is not in the
// repository: the specification, header contract, failover contract, style
// guide and reference notes that were kept beside the clone while hags was
// written, and the folder that held them. Every rule those documents gave
// is restated in docs/, which is what code and docs cite instead.
//
// The pattern is assembled from pieces so that this file, which the check
// reads like any other, does not name the documents itself.
var outsideRef = regexp.MustCompile(strings.Join([]string{
	`\bSPEC` + `(\.md)?\s*§`, // a section of the specification
	`\bSPEC` + `\.md`,
	`\bthe SPEC` + `\b`,
	`HEADER` + `-CONTRACT`,
	`FAILOVER` + `-CONTRACT`,
	`\bSTYLE` + `\.md`,
	`\.\./` + `shared\b`,
	`/work/` + `shared\b`,
	`aesthetics` + `\.md`,
	`gsapi-reference` + `\.md`,
	`cmrp-and-failover` + `\.md`,
	`(?i:\bseeds?[ _/]?0` + `\d\d)`, // the numbered seed documents
}, "|"))

// outsideReference is one line that points outside the repository.
type outsideReference struct {
	path string // relative to the tree's root
	line int
	text string
}

func (r outsideReference) String() string { return fmt.Sprintf("%s:%d: %s", r.path, r.line, r.text) }

// outsideReferences reads every file under root — code, docs, scripts,
// test data, hidden folders such as .ci — except git's own folder and the
// build output, and returns each line that points outside the repository.
// Binary files (a NUL byte in their first 8 KiB) are passed over.
func outsideReferences(root string) ([]outsideReference, error) {
	var out []outsideReference
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != root && (d.Name() == ".git" || d.Name() == "build") {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() {
			return nil
		}
		src, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if bytes.IndexByte(src[:min(len(src), 8<<10)], 0) >= 0 {
			return nil
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		sc := bufio.NewScanner(bytes.NewReader(src))
		sc.Buffer(nil, len(src)+1)
		for n := 1; sc.Scan(); n++ {
			if outsideRef.Match(sc.Bytes()) {
				out = append(out, outsideReference{path: filepath.ToSlash(rel), line: n, text: strings.TrimSpace(sc.Text())})
			}
		}
		return sc.Err()
	})
	return out, err
}

// TestNoReferenceOutsideTheRepository: a fresh clone, read with nothing
// beside it, explains every rule it follows, so no file may send its reader
// to a document the clone does not hold.
func TestNoReferenceOutsideTheRepository(t *testing.T) {
	found, err := outsideReferences(repoRoot(t))
	require.NoError(t, err, "the whole tree must be readable")
	var lines []string
	for _, r := range found {
		lines = append(lines, r.String())
	}
	assert.Empty(t, lines, "these lines point at documents outside the repository; cite the docs/ page that states the rule instead")
}

// TestOutsideReferenceCheckFindsPlantedOnes plants one reference of each
// kind in a scratch tree, in the kinds of file the repository holds (Go,
// C, Markdown, a shell script in a hidden folder, transcript test data),
// and requires the check to report every one at its line, and nothing in
// the files that only come close.
func TestOutsideReferenceCheckFindsPlantedOnes(t *testing.T) {
	root := t.TempDir()
	planted := map[string]string{
		"daemon/protocol/doc.go":         "// machine that decides everything (" + "SPEC" + " §3).",
		"gsapi/types.go":                 "// " + "HEADER" + "-CONTRACT.md fixes what its fields mean.",
		"docs/failover.md":               "Names are fixed in `" + "FAILOVER" + "-CONTRACT.md`.",
		"internal/lint/lint_test.go":     "// and forbidden calls (" + "STYLE" + ".md).",
		".ci/run":                        "# runs in a fresh clone with ../" + "shared beside it.",
		"capi/testdata/cases.c":          " * see reference/" + "gsapi-reference" + ".md §1.10",
		"docs/design/daemon.md":          "as reference/" + "aesthetics" + ".md §2.2 says",
		"failover/doc.go":                "// facts in " + "cmrp-and-failover" + ".md",
		"failover/engine/testdata/a.txt": "# Seed " + "000, Moving a Group",
		"docs/protocol.md":               "Where the " + "SPEC" + ".md is silent",
		"docs/limits.md":                 "where the " + "SPEC" + " leaves room",
		"cmd/hagsd/main.go":              "// read /work/" + "shared/notes",
	}
	near := map[string]string{
		"cmd/hagsrm-actlog/main.go": "//   [-why WORD] [-agent SPEC]",         // a flag's placeholder
		"docs/reliability.md":       "The seed fixes every choice; seeds 1…N", // random seeds
		"docs/style.md":             "House style is in docs/style.md.",
	}
	for name, text := range planted {
		write(t, root, name, "first line\n"+text+"\nlast line\n")
	}
	for name, text := range near {
		write(t, root, name, text+"\n")
	}
	write(t, root, ".git/config", "HEADER"+"-CONTRACT in git's own folder is not read\n")
	write(t, root, "build/bin/x.txt", "HEADER"+"-CONTRACT in build output is not read\n")

	found, err := outsideReferences(root)
	require.NoError(t, err)
	got := map[string]int{}
	for _, r := range found {
		got[r.path] = r.line
	}
	want := map[string]int{}
	for name := range planted {
		want[name] = 2
	}
	assert.Equal(t, want, got, "the check must report each planted reference at its line, and nothing else")
}

func write(t *testing.T, root, name, text string) {
	t.Helper()
	p := filepath.Join(root, filepath.FromSlash(name))
	require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
	require.NoError(t, os.WriteFile(p, []byte(text), 0o644))
}

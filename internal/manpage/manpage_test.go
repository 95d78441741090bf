package manpage

import (
	"bytes"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	manDir = "../../docs/man"
	header = "../../include/ha_gs.h"
)

// pages reads every docs/man page: file name → markdown.
func pages(t *testing.T) map[string]string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(manDir, "*.md"))
	require.NoError(t, err)
	out := map[string]string{}
	for _, f := range files {
		if filepath.Base(f) == "README.md" {
			continue
		}
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		out[filepath.Base(f)] = string(b)
	}
	require.NotEmpty(t, out, "docs/man holds the pages")
	return out
}

// TestEveryPageRendersWithoutWarnings renders each page as `make man`
// does and formats it with man-db the way lintian does (man --warnings,
// UTF-8, 80 columns): no warning at all, no identifier split by
// hyphenation or lost to markdown emphasis, no markdown left over.
func TestEveryPageRendersWithoutWarnings(t *testing.T) {
	man, err := exec.LookPath("man")
	if err != nil {
		t.Skip("man is not installed (apt-get install man-db): the pages cannot be formatted here")
	}
	dir := t.TempDir()
	ident := regexp.MustCompile(`[A-Za-z0-9]*_[A-Za-z0-9_]*[A-Za-z0-9]`)
	for file, md := range pages(t) {
		name, section, roff, err := Page(file, []byte(md))
		require.NoError(t, err, "%s renders", file)
		path := filepath.Join(dir, name+"."+section)
		require.NoError(t, os.WriteFile(path, roff, 0o644))

		cmd := exec.Command(man, "--warnings", "-E", "UTF-8", "-l", path)
		cmd.Env = append(os.Environ(), "LC_ALL=C.UTF-8", "MANWIDTH=80", "MAN_KEEP_FORMATTING=0", "PAGER=cat")
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		require.NoError(t, cmd.Run(), "man formats %s: %s", file, stderr.String())
		assert.Empty(t, stderr.String(), "man --warnings says nothing about %s", file)
		text := stdout.String()
		assert.NotContains(t, text, "\u2010", "%s: no word is hyphenated", file)
		assert.NotContains(t, text, "**", "%s: no markdown emphasis is left", file)
		assert.Contains(t, text, name+"("+section+")", "%s: the title names the page", file)
		flat := strings.Join(strings.Fields(stripBackspaces(text)), " ")
		for _, id := range slices.Compact(slices.Sorted(slices.Values(ident.FindAllString(md, -1)))) {
			assert.Truef(t, strings.Contains(flat, id), "%s: %s is shown whole", file, id)
		}
		if groff, err := exec.LookPath("groff"); err == nil {
			out, err := exec.Command(groff, "-man", "-t", "-ww", "-z", "-Tutf8", path).CombinedOutput()
			assert.NoError(t, err)
			assert.Empty(t, string(out), "groff -ww finds nothing to say about %s", file)
		}
	}
}

// stripBackspaces removes the overstrikes grotty uses for bold and
// underline when formatting is kept.
func stripBackspaces(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if i+1 < len(s) && s[i+1] == '\b' {
			i++
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// TestPageRefusesBadNames: a page's file and title line must agree.
func TestPageRefusesBadNames(t *testing.T) {
	_, _, _, err := Page("ha_gs_join.md", []byte("ha_gs_join 3 \"x\" hags \"m\"\n===\n"))
	assert.ErrorIs(t, err, ErrFileName, "a file name without a section")
	_, _, _, err = Page("ha_gs_join.3.md", []byte("ha_gs_leave 3 \"x\" hags \"m\"\n===\n"))
	assert.ErrorIs(t, err, ErrTitle, "a title naming another page")
	_, _, _, err = Page("ha_gs_join.3.md", []byte("ha_gs_join 8 \"x\" hags \"m\"\n===\n"))
	assert.ErrorIs(t, err, ErrTitle, "a title naming another section")
	_, _, roff, err := Page("x.7.md", []byte("x 7 \"d\" hags \"m\"\n===\n\n# NAME\nx - y\n\n| a | b |\n|---|---|\n| 1 | 2 |\n"))
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(string(roff), "'\\\" t\n.nr HY 0\n.ad l\n"),
		"the table preprocessor line stays first, the prelude follows: %q", string(roff[:min(40, len(roff))]))
}

// headerFunc is one function as include/ha_gs.h declares and documents it.
type headerFunc struct {
	name    string
	params  []string
	returns []string // the codes under "Returns:"
	async   []string // the codes under "Async errors:"
}

var (
	funcComment = regexp.MustCompile(`(?s)/\*\n \* (ha_gs_[a-z_]+) - (.*?)\*/\n(ha_gs_rc_t|void) (ha_gs_[a-z_]+)\((.*?)\);`)
	codeLine    = regexp.MustCompile(`^ \*\s+(HA_GS_[A-Z_]+)\s+- `)
	paramName   = regexp.MustCompile(`([a-z_]+)\s*$`)
	structBlock = regexp.MustCompile(`(?s)(?:typedef (?:struct|union) (?:[a-z_]+ )?\{\n(.*?)\n\} ([a-z_]+);|\nstruct ([a-z_]+) \{\n(.*?)\n\};)`)
	fieldDecl   = regexp.MustCompile(`([A-Za-z_][A-Za-z0-9_]*)\s*(?:\[[^]]*\])?;`)
)

func parseHeader(t *testing.T) ([]headerFunc, map[string][]string) {
	t.Helper()
	b, err := os.ReadFile(header)
	require.NoError(t, err)
	src := string(b)
	var funcs []headerFunc
	for _, m := range funcComment.FindAllStringSubmatch(src, -1) {
		require.Equal(t, m[1], m[4], "the comment above %s names it", m[4])
		f := headerFunc{name: m[4]}
		for _, p := range strings.Split(m[5], ",") {
			p = strings.TrimSpace(strings.ReplaceAll(p, "\n", " "))
			if p != "void" && p != "" {
				f.params = append(f.params, paramName.FindString(p))
			}
		}
		var in *[]string
		for _, line := range strings.Split(m[2], "\n") {
			switch {
			case strings.HasPrefix(line, " * Returns:"):
				in = &f.returns
			case strings.HasPrefix(line, " * Async errors:"):
				in = &f.async
			case strings.HasPrefix(line, " * IBM"):
				in = nil
			}
			if c := codeLine.FindStringSubmatch(line); c != nil && in != nil {
				*in = append(*in, c[1])
			}
		}
		funcs = append(funcs, f)
	}
	structs := map[string][]string{}
	for _, m := range structBlock.FindAllStringSubmatch(src, -1) {
		body, name := m[1], m[2]
		if name == "" { // struct tag { ... };
			body, name = m[4], m[3]
		}
		for _, line := range strings.Split(body, "\n") {
			line, _, _ = strings.Cut(line, "/*")
			if d := fieldDecl.FindStringSubmatch(line); d != nil {
				structs[name] = append(structs[name], d[1])
			}
		}
	}
	return funcs, structs
}

// section returns the text of "# TITLE" up to the next top-level heading.
func section(md, title string) (string, bool) {
	_, rest, ok := strings.Cut(md, "\n# "+title+"\n")
	if !ok {
		return "", false
	}
	body, _, _ := strings.Cut(rest, "\n# ")
	return body, true
}

// TestPagesCoverTheHeader holds the pages to include/ha_gs.h: every
// function has a page naming every parameter, every field of its request
// block, every code the header lists under "Returns:" in RETURN VALUE and
// every code under "Async errors:" in ASYNCHRONOUS ERRORS; every field of
// every structure of the header is described on some page; every page
// another page refers to exists.
func TestPagesCoverTheHeader(t *testing.T) {
	all := pages(t)
	funcs, structs := parseHeader(t)
	require.Len(t, funcs, 16, "the header documents sixteen functions")
	request := map[string]string{
		"ha_gs_init":               "ha_gs_responsiveness_t",
		"ha_gs_join":               "ha_gs_join_request_t",
		"ha_gs_leave":              "ha_gs_leave_request_t",
		"ha_gs_expel":              "ha_gs_expel_request_t",
		"ha_gs_change_state_value": "ha_gs_state_change_request_t",
		"ha_gs_send_message":       "ha_gs_message_request_t",
		"ha_gs_change_attributes":  "ha_gs_change_attributes_t",
		"ha_gs_subscribe":          "ha_gs_subscribe_request_t",
		"ha_gs_get_adapter_info":   "ha_gs_adapter_info",
	}
	overview := all["ha_gs.3.md"]
	require.NotEmpty(t, overview, "ha_gs(3) exists")
	for _, f := range funcs {
		md, ok := all[f.name+".3.md"]
		if !assert.True(t, ok, "%s has a page", f.name) {
			continue
		}
		assert.Truef(t, strings.Contains(overview, "**"+f.name+"**(3)"), "ha_gs(3) refers to %s", f.name)
		for _, p := range f.params {
			assert.Truef(t, strings.Contains(md, "*"+p+"*"), "%s(3) names its parameter %s", f.name, p)
		}
		for _, field := range structs[request[f.name]] {
			assert.Truef(t, strings.Contains(md, "**"+field+"**"), "%s(3) describes %s.%s", f.name, request[f.name], field)
		}
		ret, ok := section(md, "RETURN VALUE")
		require.True(t, ok, "%s(3) has RETURN VALUE", f.name)
		for _, c := range f.returns {
			assert.Truef(t, strings.Contains(ret, "**"+c+"**"), "%s(3) lists %s among its return values, as the header does", f.name, c)
		}
		async, ok := section(md, "ASYNCHRONOUS ERRORS")
		require.True(t, ok, "%s(3) has ASYNCHRONOUS ERRORS", f.name)
		if len(f.async) == 0 {
			assert.True(t, strings.HasPrefix(async, "None."), "%s(3) says it has no asynchronous errors: %q", f.name, async)
		}
		for _, c := range f.async {
			assert.Truef(t, strings.Contains(async, "**"+c+"**"), "%s(3) lists %s among its asynchronous errors, as the header does", f.name, c)
		}
	}
	everything := strings.Join(slices.Collect(func(yield func(string) bool) {
		for _, md := range all {
			if !yield(md) {
				return
			}
		}
	}), "\n")
	require.Len(t, structs, 30, "the header's structures and unions are parsed, %v", slices.Sorted(maps.Keys(structs)))
	for name, fields := range structs {
		for _, field := range fields {
			assert.Truef(t, strings.Contains(everything, "**"+field+"**"), "a page describes %s.%s", name, field)
		}
	}
	ref := regexp.MustCompile(`\*\*((?:ha_gs|hags)[a-z_-]*)\*\*\(([1-8])\)`)
	for file, md := range all {
		for _, m := range ref.FindAllStringSubmatch(md, -1) {
			_, ok := all[m[1]+"."+m[2]+".md"]
			assert.True(t, ok, "%s refers to %s(%s), which exists", file, m[1], m[2])
		}
	}
}

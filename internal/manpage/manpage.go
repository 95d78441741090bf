// Package manpage renders hags's manual pages: markdown (docs/man/*.md)
// to roff, with go-md2man, plus two requests go-md2man does not write: no
// hyphenation and left-aligned text, so that identifiers such as
// HA_GS_NOT_A_MEMBER are never split and no line needs stretching
// (docs/man/README.md). cmd/mangen (make man) and the packaging
// tests use it.
package manpage

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/cpuguy83/go-md2man/v2/md2man"
)

// Errors of Page.
var (
	ErrFileName = errors.New("a page's file is named NAME.SECTION.md")
	ErrTitle    = errors.New("a page starts with the title line NAME SECTION \"DATE\" SOURCE \"MANUAL\"")
)

// fileName is NAME.SECTION.md.
var fileName = regexp.MustCompile(`^([a-z][a-z0-9_-]*)\.([1-8])\.md$`)

// Page renders one markdown page to roff and returns it with the page's
// name and section, which it takes from the file name and checks against
// the title line.
func Page(path string, md []byte) (name, section string, roff []byte, err error) {
	m := fileName.FindStringSubmatch(filepath.Base(path))
	if m == nil {
		return "", "", nil, fmt.Errorf("%s: %w", path, ErrFileName)
	}
	name, section = m[1], m[2]
	title, _, _ := bytes.Cut(md, []byte("\n"))
	if f := strings.Fields(string(title)); len(f) < 2 || f[0] != name || f[1] != section {
		return "", "", nil, fmt.Errorf("%s: %w, with %s %s", path, ErrTitle, name, section)
	}
	return name, section, prelude(md2man.Render(md)), nil
}

// prelude turns hyphenation off (the man macros read register HY when
// the title is set) and aligns text on the left only. A first line that
// names preprocessors ('\" t, for tables) stays first.
func prelude(roff []byte) []byte {
	const req = ".nr HY 0\n.ad l\n"
	if bytes.HasPrefix(roff, []byte(`'\"`)) {
		first, rest, _ := bytes.Cut(roff, []byte("\n"))
		return append(append(append(first, '\n'), req...), rest...)
	}
	return append([]byte(req), roff...)
}

// Build renders the page in file src into out/manSECTION/NAME.SECTION
// and returns that path.
func Build(src, out string) (string, error) {
	md, err := os.ReadFile(src)
	if err != nil {
		return "", err
	}
	name, section, roff, err := Page(src, md)
	if err != nil {
		return "", err
	}
	dir := filepath.Join(out, "man"+section)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	dst := filepath.Join(dir, name+"."+section)
	return dst, os.WriteFile(dst, roff, 0o644)
}

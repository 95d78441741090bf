package headertest

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"unicode"

	"github.com/stretchr/testify/require"
)

// repoRoot is the module's root directory, two levels above this package.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	require.NoError(t, err, "the repository root must resolve")
	_, err = os.Stat(filepath.Join(root, "go.mod"))
	require.NoError(t, err, "the repository root must hold go.mod")
	return root
}

// includeDir is the directory that holds ha_gs.h.
func includeDir(t *testing.T) string {
	return filepath.Join(repoRoot(t), "include")
}

// readHeader returns the text of include/ha_gs.h.
func readHeader(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(includeDir(t), "ha_gs.h"))
	require.NoError(t, err, "include/ha_gs.h must be readable")
	return string(b)
}

// mode is one language mode the header must compile in.
type mode struct {
	name   string   // for subtest names
	driver string   // cc or c++
	flags  []string // language and warning flags
}

var warnFlags = []string{"-Wall", "-Wextra", "-Werror", "-pedantic"}

// strictFlags are extra warnings for the header alone: a header is included
// into programs built with any warnings, so it is held to more than the
// programs that test it.
var strictFlags = map[string][]string{
	"cc":  {"-Wstrict-prototypes", "-Wmissing-prototypes", "-Wshadow", "-Wundef", "-Wcast-qual", "-Wconversion"},
	"c++": {"-Wshadow", "-Wundef", "-Wcast-qual", "-Wold-style-cast", "-Wconversion", "-Wzero-as-null-pointer-constant"},
}

// modes lists C99, C11, C++11 and C++17 (and C++20, whose enum rules are
// stricter), each with warnings as errors. flags start with -x LANG -std=STD.
var modes = []mode{
	{"c99", "cc", append([]string{"-x", "c", "-std=c99"}, warnFlags...)},
	{"c11", "cc", append([]string{"-x", "c", "-std=c11"}, warnFlags...)},
	{"c++11", "c++", append([]string{"-x", "c++", "-std=c++11"}, warnFlags...)},
	{"c++17", "c++", append([]string{"-x", "c++", "-std=c++17"}, warnFlags...)},
	{"c++20", "c++", append([]string{"-x", "c++", "-std=c++20"}, warnFlags...)},
}

// requireDriver fails the test when a compiler driver is missing: these
// tests are the header's only check, so they must not pass vacuously.
func requireDriver(t *testing.T, driver string) {
	t.Helper()
	_, err := exec.LookPath(driver)
	require.NoError(t, err, "the C toolchain (%s) must be installed to check include/ha_gs.h", driver)
}

// compile runs driver with args and returns its combined output and error.
func compile(t *testing.T, driver string, args ...string) (string, error) {
	t.Helper()
	requireDriver(t, driver)
	cmd := exec.Command(driver, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// ---- a small tokenizer for the header --------------------------------------

type tokenKind int

const (
	tokIdent tokenKind = iota
	tokNumber
	tokString
	tokPunct
)

type token struct {
	kind tokenKind
	text string
	line int
}

// stripComments replaces comments with spaces, keeping newlines so that line
// numbers stay right. String and character literals are left alone.
func stripComments(src string) string {
	var b strings.Builder
	for i := 0; i < len(src); i++ {
		c := src[i]
		switch {
		case c == '/' && i+1 < len(src) && src[i+1] == '*':
			end := strings.Index(src[i+2:], "*/")
			if end < 0 {
				end = len(src) - i - 2
			}
			for _, r := range src[i : i+2+end] {
				if r == '\n' {
					b.WriteByte('\n')
				}
			}
			b.WriteByte(' ')
			i += 2 + end + 1
		case c == '/' && i+1 < len(src) && src[i+1] == '/':
			for i < len(src) && src[i] != '\n' {
				i++
			}
			if i < len(src) {
				b.WriteByte('\n')
			}
		case c == '"' || c == '\'':
			j := i + 1
			for j < len(src) && src[j] != c {
				if src[j] == '\\' {
					j++
				}
				j++
			}
			b.WriteString(src[i:min(j+1, len(src))])
			i = j
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// tokenize splits C source (comments already stripped) into tokens.
// Preprocessor lines, with their continuations, are dropped: macros are
// checked with cc -dM instead.
func tokenize(src string) []token {
	var toks []token
	lines := strings.Split(src, "\n")
	inDirective := false
	for n, line := range lines {
		trimmed := strings.TrimSpace(line)
		if inDirective || strings.HasPrefix(trimmed, "#") {
			inDirective = strings.HasSuffix(trimmed, "\\")
			continue
		}
		for i := 0; i < len(line); {
			c := rune(line[i])
			switch {
			case unicode.IsSpace(c):
				i++
			case c == '_' || unicode.IsLetter(c):
				j := i
				for j < len(line) && (line[j] == '_' || unicode.IsLetter(rune(line[j])) || unicode.IsDigit(rune(line[j]))) {
					j++
				}
				toks = append(toks, token{tokIdent, line[i:j], n + 1})
				i = j
			case unicode.IsDigit(c):
				j := i
				for j < len(line) && (unicode.IsLetter(rune(line[j])) || unicode.IsDigit(rune(line[j]))) {
					j++
				}
				toks = append(toks, token{tokNumber, line[i:j], n + 1})
				i = j
			case c == '"' || c == '\'':
				j := i + 1
				for j < len(line) && rune(line[j]) != c {
					if line[j] == '\\' {
						j++
					}
					j++
				}
				toks = append(toks, token{tokString, line[i:min(j+1, len(line))], n + 1})
				i = j + 1
			default:
				toks = append(toks, token{tokPunct, string(c), n + 1})
				i++
			}
		}
	}
	return toks
}

// cKeywords are the keywords a header like ours may use.
var cKeywords = map[string]bool{
	"typedef": true, "struct": true, "union": true, "enum": true, "extern": true,
	"const": true, "volatile": true, "void": true, "char": true, "short": true, "int": true,
	"long": true, "unsigned": true, "signed": true, "float": true, "double": true,
	"static": true, "inline": true, "restrict": true,
}

// fileScopeName is an identifier that the header uses at file scope: a
// declared name (typedef, tag, enumerator, function) or a type it refers to.
type fileScopeName struct {
	name string
	line int
}

// enumeration is one enum body of the header.
type enumeration struct {
	typedefName string   // the name after the closing brace, "" if none
	members     []string // enumerators in order
	line        int      // line of the opening brace
}

// headerScan is what scanHeader finds.
type headerScan struct {
	fileScope    []fileScopeName
	enumerations []enumeration
}

// scanHeader walks the tokens of a header and collects the identifiers at
// file scope (outside structure bodies and parameter lists; the body of
// extern "C" counts as file scope) and the enumerations.
func scanHeader(src string) (headerScan, error) {
	toks := tokenize(stripComments(src))
	type ctx int
	const (
		ctxFile ctx = iota
		ctxRecord
		ctxEnum
		ctxParen
	)
	var (
		scan     headerScan
		stack    = []ctx{ctxFile}
		enums    []*enumeration
		pending  = ctxFile // what the next '{' opens
		afterEnd *enumeration
		expectEn bool // the next identifier in an enum body is an enumerator
	)
	for i, tk := range toks {
		top := stack[len(stack)-1]
		switch tk.kind {
		case tokIdent:
			if afterEnd != nil {
				if tk.text != "typedef" {
					afterEnd.typedefName = tk.text
				}
				afterEnd = nil
			}
			switch tk.text {
			case "struct", "union":
				pending = ctxRecord
			case "enum":
				pending = ctxEnum
			}
			if cKeywords[tk.text] {
				continue
			}
			if top == ctxFile || top == ctxEnum {
				scan.fileScope = append(scan.fileScope, fileScopeName{tk.text, tk.line})
			}
			if top == ctxEnum && expectEn {
				e := enums[len(enums)-1]
				e.members = append(e.members, tk.text)
				expectEn = false
			}
		case tokString:
			if i > 0 && toks[i-1].text == "extern" {
				pending = ctxFile
			}
		case tokPunct:
			afterEnd = nil
			switch tk.text {
			case "{":
				stack = append(stack, pending)
				if pending == ctxEnum {
					enums = append(enums, &enumeration{line: tk.line})
					expectEn = true
				}
				pending = ctxFile
			case "}":
				if len(stack) == 1 {
					return scan, fmt.Errorf("line %d: unbalanced '}'", tk.line)
				}
				if top == ctxEnum {
					afterEnd = enums[len(enums)-1]
				}
				stack = stack[:len(stack)-1]
			case "(":
				stack = append(stack, ctxParen)
			case ")":
				if top != ctxParen {
					return scan, fmt.Errorf("line %d: unbalanced ')'", tk.line)
				}
				stack = stack[:len(stack)-1]
			case ",":
				if top == ctxEnum {
					expectEn = true
				}
			case ";":
				pending = ctxFile
			}
		}
	}
	if len(stack) != 1 {
		return scan, fmt.Errorf("unbalanced braces or parentheses at the end of the header")
	}
	for _, e := range enums {
		scan.enumerations = append(scan.enumerations, *e)
	}
	return scan, nil
}

// standardNames are the names from standard headers that ha_gs.h may use at
// file scope.
var standardNames = map[string]bool{"in_addr": true, "in6_addr": true, "uint32_t": true}

// foreignNames lists the file-scope identifiers outside the project's
// prefixes, standard names excepted, with their lines.
func foreignNames(scan headerScan) []string {
	var bad []string
	for _, n := range scan.fileScope {
		switch {
		case strings.HasPrefix(n.name, "ha_gs_"), strings.HasPrefix(n.name, "HA_GS_"),
			n.name == "fc_eid_t", standardNames[n.name]:
		default:
			bad = append(bad, fmt.Sprintf("%s (line %d)", n.name, n.line))
		}
	}
	return bad
}

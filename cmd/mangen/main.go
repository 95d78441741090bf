// Command mangen builds hags's manual pages: each docs/man/NAME.SECTION.md
// becomes OUT/manSECTION/NAME.SECTION, rendered by internal/manpage.
//
//	go run ./cmd/mangen -out build/man docs/man/*.md
package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/openhags/hags/internal/manpage"
)

func main() { os.Exit(run(os.Args[1:], os.Stderr)) }

func run(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("mangen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "build/man", "the directory under which manSECTION/ directories are written")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(stderr, "mangen: no pages given")
		return 2
	}
	for _, src := range fs.Args() {
		dst, err := manpage.Build(src, *out)
		if err != nil {
			fmt.Fprintln(stderr, "mangen:", err)
			return 1
		}
		fmt.Fprintln(stderr, "mangen:", src, "->", dst)
	}
	return 0
}

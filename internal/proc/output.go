package proc

import (
	"bufio"
	"errors"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"unicode/utf8"
)

// collector reads a process's stdout and stderr: it logs lines, keeps
// captured stdout and the last lines. Its fields after mu are guarded by
// mu; the two pumps run concurrently.
type collector struct {
	log       *slog.Logger // nil: discard
	name      string
	logLimit  int
	capture   int
	tailLines int

	mu        sync.Mutex
	logged    int // bytes logged so far
	unlogged  int // bytes left out past logLimit
	stdout    []byte
	truncated bool
	tail      []string // ring of the last tailLines lines
	tailNext  int
	cut       bool
}

func newCollector(spec Spec) *collector {
	name := spec.Name
	if name == "" {
		name = "process"
	}
	return &collector{log: spec.Log, name: name, logLimit: spec.LogLimit,
		capture: spec.CaptureStdout, tailLines: spec.TailLines}
}

// pump reads f until end of file or its read deadline.
func (c *collector) pump(f *os.File, stream string) {
	br := bufio.NewReaderSize(f, MaxLineBytes)
	captured := stream == "stdout" && c.capture > 0
	for {
		piece, err := br.ReadSlice('\n')
		if len(piece) > 0 {
			if captured {
				c.keep(piece)
			} else {
				c.line(stream, piece)
			}
		}
		switch {
		case err == nil, errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF):
		case errors.Is(err, os.ErrDeadlineExceeded):
			c.mu.Lock()
			c.cut = true
			c.mu.Unlock()
			if c.log != nil {
				c.log.Warn(c.name+": a process outside its process group still holds its output open; no longer reading it",
					"stream", stream)
			}
		default:
			if c.log != nil {
				c.log.Warn(c.name+": reading output", "stream", stream, "err", err)
			}
		}
		return
	}
}

// keep appends a piece of stdout to the capture, up to its limit.
func (c *collector) keep(piece []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	room := c.capture - len(c.stdout)
	if len(piece) > room {
		c.truncated = true
		piece = piece[:max(room, 0)]
	}
	c.stdout = append(c.stdout, piece...)
}

// line logs one line (or piece of a long one) and keeps it in the tail.
func (c *collector) line(stream string, piece []byte) {
	text := strings.TrimSuffix(strings.TrimSuffix(string(piece), "\n"), "\r")
	c.mu.Lock()
	log := c.log != nil && (c.logLimit <= 0 || c.logged+len(piece) <= c.logLimit)
	if log {
		c.logged += len(piece)
	} else if c.log != nil {
		c.unlogged += len(piece)
	}
	if c.tailLines > 0 {
		if len(c.tail) < c.tailLines {
			c.tail = append(c.tail, printable(text))
		} else {
			c.tail[c.tailNext] = printable(text)
			c.tailNext = (c.tailNext + 1) % c.tailLines
		}
	}
	c.mu.Unlock()
	if log {
		c.log.Info(c.name+" output", "stream", stream, "line", text)
	}
}

// finish copies what was collected into res. The pumps have ended.
func (c *collector) finish(res *Result) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.unlogged > 0 {
		c.log.Warn(c.name+": output past the log limit was not logged",
			"limit_bytes", c.logLimit, "unlogged_bytes", c.unlogged)
	}
	res.Stdout = c.stdout
	res.StdoutTruncated = c.truncated
	res.OutputCut = c.cut
	if len(c.tail) > 0 {
		res.Tail = append(c.tail[c.tailNext:len(c.tail):len(c.tail)], c.tail[:c.tailNext]...)
	}
}

// printable returns s as valid UTF-8 with control characters (but tab)
// shown as "?", cut to MaxTailLine bytes.
func printable(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if r == '\t' || r >= 0x20 && r != 0x7f && !(r >= 0x80 && r < 0xa0) {
			return r
		}
		return '?'
	}, s)
	if len(s) > MaxTailLine {
		cut := MaxTailLine
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}

package agreement

import (
	"bytes"
	"context"
	"log"
	"log/slog"
	"strings"
	"sync"

	"github.com/hashicorp/go-hclog"
)

// LogWriter turns the text lines that hashicorp/raft (through hclog) and
// hashicorp/memberlist (through the standard log package) write into slog
// records: the "[LEVEL]" prefix picks the level, the rest is the message,
// and component names the library. Writes may come from any goroutine.
type LogWriter struct {
	log       *slog.Logger
	component string
	mu        sync.Mutex
	partial   []byte
}

// NewLogWriter returns a LogWriter logging to log.
func NewLogWriter(log *slog.Logger, component string) *LogWriter {
	return &LogWriter{log: log, component: component}
}

// Write logs every complete line of p.
func (w *LogWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.partial = append(w.partial, p...)
	for {
		i := bytes.IndexByte(w.partial, '\n')
		if i < 0 {
			break
		}
		w.line(string(w.partial[:i]))
		w.partial = w.partial[i+1:]
	}
	if len(w.partial) == 0 {
		w.partial = nil
	}
	return len(p), nil
}

func (w *LogWriter) line(s string) {
	level := slog.LevelInfo
	if i := strings.IndexByte(s, '['); i >= 0 {
		if j := strings.IndexByte(s[i:], ']'); j > 0 {
			switch strings.TrimSpace(s[i+1 : i+j]) {
			case "TRACE", "DEBUG":
				level = slog.LevelDebug
			case "WARN", "WARNING":
				level = slog.LevelWarn
			case "ERROR", "ERR":
				level = slog.LevelError
			}
			s = s[i+j+1:]
		}
	}
	s = strings.TrimSpace(s)
	if s == "" {
		return
	}
	w.log.Log(context.Background(), level, s, "component", w.component)
}

// StdLogger returns a standard-library logger writing through a LogWriter
// (memberlist's Config.Logger).
func StdLogger(l *slog.Logger, component string) *log.Logger {
	return log.New(NewLogWriter(l, component), "", 0)
}

// newHCLogger returns an hclog.Logger for raft that writes through a
// LogWriter, at debug level when l is enabled for it, else info.
func newHCLogger(component string, l *slog.Logger) hclog.Logger {
	level := hclog.Info
	if l.Enabled(context.Background(), slog.LevelDebug) {
		level = hclog.Debug
	}
	return hclog.New(&hclog.LoggerOptions{
		Name:        component,
		Level:       level,
		Output:      NewLogWriter(l, component),
		DisableTime: true,
		Color:       hclog.ColorOff,
	})
}

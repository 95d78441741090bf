// Package cli holds what hags's command lines (hagsctl, hagsrm) share on
// top of cobra: usage errors that say in one line what was wrong before
// the usage, argument counts, and commands that only hold others.
// docs/cli.md describes the conventions.
package cli

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
)

// Exit statuses shared by the command lines.
const (
	ExitOK    = 0
	ExitFail  = 1
	ExitUsage = 2
)

// UsageError is a command line that cannot be carried out as written.
type UsageError struct {
	Cmd *cobra.Command // the command whose usage to print; nil: the one that ran
	Msg string
}

func (e *UsageError) Error() string { return e.Msg }

// Usagef returns a UsageError for cmd.
func Usagef(cmd *cobra.Command, format string, args ...any) error {
	return &UsageError{Cmd: cmd, Msg: fmt.Sprintf(format, args...)}
}

// FlagError makes cobra's flag errors (an unknown flag, a bad value)
// usage errors; give it to SetFlagErrorFunc.
func FlagError(cmd *cobra.Command, err error) error { return Usagef(cmd, "%v", err) }

// NeedSubcommand is the RunE of commands that only hold others: with no
// argument, or an unknown one, the command line is wrong. Such commands
// take cobra.ArbitraryArgs, so that an unknown name reaches it.
func NeedSubcommand(cmd *cobra.Command, args []string) error {
	var names []string
	for _, c := range cmd.Commands() {
		if c.IsAvailableCommand() {
			names = append(names, c.Name())
		}
	}
	if len(args) == 0 {
		return Usagef(cmd, "a command is needed: one of %s", strings.Join(names, ", "))
	}
	msg := fmt.Sprintf("unknown command %q", args[0])
	if cmd.SuggestionsMinimumDistance <= 0 {
		cmd.SuggestionsMinimumDistance = 2 // cobra's own default, which it sets only on its own path
	}
	if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
		msg += fmt.Sprintf(" (did you mean %s?)", strings.Join(s, " or "))
	}
	return Usagef(cmd, "%s; the commands are %s", msg, strings.Join(names, ", "))
}

// NArgs accepts between min and max arguments (max < 0: any number),
// naming them in the error.
func NArgs(min, max int, names string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) < min || max >= 0 && len(args) > max {
			switch {
			case min == max:
				return Usagef(cmd, "needs %d argument(s) (%s), got %d", min, names, len(args))
			case max < 0:
				return Usagef(cmd, "needs at least %d argument(s) (%s), got %d", min, names, len(args))
			}
			return Usagef(cmd, "needs %d to %d arguments (%s), got %d", min, max, names, len(args))
		}
		return nil
	}
}

// ReportUsage prints err, if it is a UsageError, as one line naming the
// command and saying what was wrong, then the command's usage, on w; it
// reports whether it did. ran is the command cobra ran (or tried to).
func ReportUsage(w io.Writer, ran *cobra.Command, err error) bool {
	var ue *UsageError
	if !errors.As(err, &ue) {
		return false
	}
	cmd := ran
	if ue.Cmd != nil {
		cmd = ue.Cmd
	}
	fmt.Fprintf(w, "%s: %s\n", cmd.CommandPath(), ue.Msg)
	fmt.Fprintf(w, "\n%s", cmd.UsageString())
	return true
}

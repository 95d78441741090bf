package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/openhags/hags/failover"
	"github.com/openhags/hags/internal/cli"
)

func (a *app) configCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "The whole configuration as one document: show, apply",
		Args:  cobra.ArbitraryArgs,
		RunE:  cli.NeedSubcommand,
	}
	show := &cobra.Command{
		Use:   "show",
		Short: "Print the configuration (YAML; with --json, as JSON)",
		Args:  cli.NArgs(0, 0, "none"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := fetch(a, cmd, (*failover.Client).Config)
			if err != nil {
				return err
			}
			if a.json {
				a.emitJSON(cfg)
				return nil
			}
			b, err := cfg.Marshal()
			if err != nil {
				return err
			}
			_, err = a.stdout.Write(b)
			return err
		},
	}
	apply := &cobra.Command{
		Use:   "apply FILE",
		Short: "Make the cluster's configuration FILE's (YAML or JSON; - reads stdin), as one agreed change",
		Args:  cli.NArgs(1, 1, "FILE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			var r io.Reader = os.Stdin
			if args[0] != "-" {
				f, err := os.Open(args[0])
				if err != nil {
					return err
				}
				defer f.Close()
				r = f
			}
			cfg, err := failover.ParseConfig(r)
			if err != nil {
				return err
			}
			c, err := a.connect(cmd.Context())
			if err != nil {
				return err
			}
			return a.operation(cmd.Context(), c.ApplyConfig(cmd.Context(), cfg), 0, "", nil)
		},
	}
	cmd.AddCommand(show, apply)
	return cmd
}

func (a *app) watchCommand() *cobra.Command {
	var count int
	cmd := &cobra.Command{
		Use:   "watch",
		Short: "Print every agreed change of node, group and resource state as it happens, until interrupted",
		Args:  cli.NArgs(0, 0, "none"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if count < 0 {
				return cli.Usagef(cmd, "--count %d is negative", count)
			}
			ctx := cmd.Context()
			c, err := a.connect(ctx)
			if err != nil {
				return err
			}
			w, err := c.Watch(ctx)
			if err != nil {
				return err
			}
			defer w.Close()
			fmt.Fprintln(a.stderr, "watching; interrupt to stop") // stderr: stdout holds only changes
			for n := 0; count == 0 || n < count; n++ {
				select {
				case ch, ok := <-w.Changes():
					if !ok {
						if err := w.Err(); err != nil {
							return err
						}
						return errors.New("the change stream ended")
					}
					a.change(ch)
				case <-ctx.Done():
					return nil // interrupted: the normal end
				}
			}
			return nil
		},
	}
	cmd.Flags().IntVar(&count, "count", 0, "stop after `N` changes (0: never)")
	return cmd
}

// change prints one change: a JSON line, or an aligned line of text.
func (a *app) change(ch failover.Change) {
	if a.json {
		a.emitJSON(ch)
		return
	}
	var name, state, owner string
	var seq uint64
	switch {
	case ch.Group != nil:
		name, state, owner, seq = ch.Group.Name, ch.Group.State.String(), ch.Group.Owner, ch.Group.Sequence
		if ch.Group.MovingTo != "" {
			owner += " -> " + ch.Group.MovingTo
		}
	case ch.Resource != nil:
		name, state, owner, seq = ch.Resource.Name, ch.Resource.State.String(), ch.Resource.Owner, ch.Resource.Sequence
	case ch.Node != nil:
		name, state = ch.Node.Name, ch.Node.State.String()
	}
	line := fmt.Sprintf("%s  %-8s  %-24s  %-14s  %-12s", time.Now().Format("15:04:05.000"), ch.Kind, name,
		short(state), dash(owner))
	if ch.Kind != failover.ChangeNode {
		line += fmt.Sprintf("  seq %d", seq)
	}
	if ch.Deleted {
		line += "  (deleted)"
	}
	fmt.Fprintln(a.stdout, strings.TrimRight(line, " "))
}

package main

import (
	"context"
	"time"

	"github.com/spf13/cobra"

	"github.com/openhags/hags/failover"
	"github.com/openhags/hags/internal/cli"
)

// withNode connects, opens the node named name and runs fn with it.
func (a *app) withNode(cmd *cobra.Command, name string, fn func(context.Context, *failover.Client, *failover.Node) error) error {
	return with(a, cmd, name, (*failover.Client).OpenNode, fn)
}

func (a *app) nodeCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "node",
		Short: "Nodes: state, pause, resume, list, fence, confirm-fenced",
		Args:  cobra.ArbitraryArgs,
		RunE:  cli.NeedSubcommand,
	}
	state := stateCommand(a, "NODE", "A node's state: Up, Down, Paused or Joining (ApiGetNodeState)", (*failover.Client).OpenNode, (*failover.Node).State)
	var (
		drain bool
		wait  time.Duration
	)
	pause := &cobra.Command{
		Use:   "pause NODE [--drain]",
		Short: "Pause a node: no group moves or comes online there on request (ApiPauseNode); --drain moves its groups away",
		Args:  cli.NArgs(1, 1, "NODE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkWait(cmd, wait); err != nil {
				return err
			}
			return a.withNode(cmd, args[0], func(ctx context.Context, c *failover.Client, n *failover.Node) error {
				before, err := n.State(ctx)
				if err != nil {
					return err
				}
				settle := func(ctx context.Context) (any, error) {
					gs, err := c.WaitGroups(ctx, before.Groups...)
					if gs == nil {
						gs = []failover.GroupInfo{}
					}
					return gs, err
				}
				return a.operation(ctx, n.Pause(ctx, drain), wait, "groups", settle)
			})
		},
	}
	pause.Flags().BoolVar(&drain, "drain", false, "move the node's groups to other nodes")
	pause.Flags().DurationVar(&wait, "wait", 0, "with --drain, wait up to `D` for the node's groups to settle, then print them")
	resume := &cobra.Command{
		Use:   "resume NODE",
		Short: "End a node's pause (ApiResumeNode)",
		Args:  cli.NArgs(1, 1, "NODE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withNode(cmd, args[0], func(ctx context.Context, _ *failover.Client, n *failover.Node) error {
				return a.operation(ctx, n.Resume(ctx), 0, "", nil)
			})
		},
	}
	list := listCommand(a, "Every node", "nodes", (*failover.Client).Nodes)
	var clear bool
	fence := &cobra.Command{
		Use:   "fence NODE COMMAND | fence NODE --clear",
		Short: "Set the command that fences NODE (run with the node's name; exit 0 = fenced), or remove it",
		Args:  cli.NArgs(1, 2, "NODE [COMMAND]"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if clear == (len(args) == 2) {
				return cli.Usagef(cmd, "give either a COMMAND or --clear")
			}
			command := ""
			if len(args) == 2 {
				command = args[1]
			}
			return a.withNode(cmd, args[0], func(ctx context.Context, _ *failover.Client, n *failover.Node) error {
				return a.operation(ctx, n.SetFenceCommand(ctx, command), 0, "", nil)
			})
		},
	}
	fence.Flags().BoolVar(&clear, "clear", false, "remove the node's fence command (the self-fencing window applies)")
	confirm := &cobra.Command{
		Use:   "confirm-fenced NODE",
		Short: "Vouch that a Down node runs nothing, so that its groups are taken over at once",
		Args:  cli.NArgs(1, 1, "NODE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withNode(cmd, args[0], func(ctx context.Context, _ *failover.Client, n *failover.Node) error {
				return a.operation(ctx, n.ConfirmFenced(ctx), 0, "", nil)
			})
		},
	}
	cmd.AddCommand(state, pause, resume, list, fence, confirm)
	n := []string{"node"}
	a.addCompletion(cmd, map[string][]string{"state": n, "pause": n, "resume": n, "fence": n, "confirm-fenced": n})
	return cmd
}

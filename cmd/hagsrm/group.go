package main

import (
	"context"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/openhags/hags/failover"
	"github.com/openhags/hags/internal/cli"
)

// setFlags parses repeated K=V flags into a map.
func setFlags(cmd *cobra.Command, flag string, kvs []string) (map[string]string, error) {
	if len(kvs) == 0 {
		return nil, nil
	}
	out := map[string]string{}
	for _, kv := range kvs {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, cli.Usagef(cmd, "--%s %q is not NAME=VALUE", flag, kv)
		}
		if _, dup := out[k]; dup {
			return nil, cli.Usagef(cmd, "--%s sets %s twice", flag, k)
		}
		out[k] = v
	}
	return out, nil
}

// kvArgs parses NAME=VALUE arguments into a map.
func kvArgs(cmd *cobra.Command, args []string) (map[string]string, error) {
	out := map[string]string{}
	for _, kv := range args {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, cli.Usagef(cmd, "%q is not NAME=VALUE", kv)
		}
		if _, dup := out[k]; dup {
			return nil, cli.Usagef(cmd, "%s is set twice", k)
		}
		out[k] = v
	}
	return out, nil
}

// waitFlag adds --wait to an operation that may return ERROR_IO_PENDING.
func waitFlag(cmd *cobra.Command, d *time.Duration) {
	cmd.Flags().DurationVar(d, "wait", 0, "wait up to `D` (e.g. 30s) for the object to leave its pending state, then print it")
}

func checkWait(cmd *cobra.Command, d time.Duration) error {
	if d < 0 {
		return cli.Usagef(cmd, "--wait %s is negative", d)
	}
	return nil
}

func lockFlag(cmd *cobra.Command, b *bool) {
	cmd.Flags().BoolVar(b, "ignore-locked", false, "go on although a resource concerned is locked")
}

func opts(ignoreLocked bool) []failover.OpOption {
	if ignoreLocked {
		return []failover.OpOption{failover.IgnoreLocked()}
	}
	return nil
}

// withGroup connects, opens the group named name and runs fn with it.
func (a *app) withGroup(cmd *cobra.Command, name string, fn func(context.Context, *failover.Client, *failover.Group) error) error {
	ctx := cmd.Context()
	c, err := a.connect(ctx)
	if err != nil {
		return err
	}
	g, err := c.OpenGroup(ctx, name)
	if err != nil {
		return err
	}
	return fn(ctx, c, g)
}

func groupSettle(g *failover.Group) func(context.Context) (any, error) {
	return func(ctx context.Context) (any, error) { return g.Wait(ctx) }
}

func (a *app) groupCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "group",
		Short: "Groups: state, online, offline, move, owners, create, delete, list, set",
		Args:  cobra.ArbitraryArgs,
		RunE:  cli.NeedSubcommand,
	}
	var (
		wait         time.Duration
		ignoreLocked bool
		sets         []string
	)
	state := &cobra.Command{
		Use:   "state GROUP",
		Short: "A group's state, owner and sequence number (ApiGetGroupState)",
		Args:  cli.NArgs(1, 1, "GROUP"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withGroup(cmd, args[0], func(ctx context.Context, _ *failover.Client, g *failover.Group) error {
				info, err := g.State(ctx)
				if err != nil {
					return err
				}
				a.show("", info)
				return nil
			})
		},
	}
	online := &cobra.Command{
		Use:   "online GROUP",
		Short: "Bring every resource of a group online, in dependency order (ApiOnlineGroup)",
		Args:  cli.NArgs(1, 1, "GROUP"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkWait(cmd, wait); err != nil {
				return err
			}
			return a.withGroup(cmd, args[0], func(ctx context.Context, _ *failover.Client, g *failover.Group) error {
				return a.operation(ctx, g.Online(ctx, opts(ignoreLocked)...), wait, "group", groupSettle(g))
			})
		},
	}
	offline := &cobra.Command{
		Use:   "offline GROUP",
		Short: "Take every resource of a group offline, dependents first (ApiOfflineGroup)",
		Args:  cli.NArgs(1, 1, "GROUP"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkWait(cmd, wait); err != nil {
				return err
			}
			return a.withGroup(cmd, args[0], func(ctx context.Context, _ *failover.Client, g *failover.Group) error {
				return a.operation(ctx, g.Offline(ctx, opts(ignoreLocked)...), wait, "group", groupSettle(g))
			})
		},
	}
	move := &cobra.Command{
		Use:   "move GROUP [NODE]",
		Short: "Move a group to NODE, or to the node the cluster picks (ApiMoveGroupToNode, ApiMoveGroup)",
		Args:  cli.NArgs(1, 2, "GROUP [NODE]"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkWait(cmd, wait); err != nil {
				return err
			}
			return a.withGroup(cmd, args[0], func(ctx context.Context, c *failover.Client, g *failover.Group) error {
				var err error
				if len(args) == 2 {
					n, oerr := c.OpenNode(ctx, args[1])
					if oerr != nil {
						return oerr
					}
					err = g.MoveTo(ctx, n, opts(ignoreLocked)...)
				} else {
					err = g.Move(ctx, opts(ignoreLocked)...)
				}
				return a.operation(ctx, err, wait, "group", groupSettle(g))
			})
		},
	}
	owners := &cobra.Command{
		Use:   "owners GROUP NODE[,NODE…]",
		Short: "Set a group's preferred owners, in order (ApiSetGroupNodeList); \"\" clears them",
		Args:  cli.NArgs(2, -1, "GROUP NODE[,NODE…]"),
		RunE: func(cmd *cobra.Command, args []string) error {
			var nodes []string
			for _, a := range args[1:] {
				for _, n := range strings.Split(a, ",") {
					if n = strings.TrimSpace(n); n != "" {
						nodes = append(nodes, n)
					}
				}
			}
			return a.withGroup(cmd, args[0], func(ctx context.Context, _ *failover.Client, g *failover.Group) error {
				return a.operation(ctx, g.SetOwners(ctx, nodes...), 0, "", nil)
			})
		},
	}
	create := &cobra.Command{
		Use:   "create GROUP",
		Short: "Create an empty group, owned by this node (ApiCreateGroup)",
		Args:  cli.NArgs(1, 1, "GROUP"),
		RunE: func(cmd *cobra.Command, args []string) error {
			props, err := setFlags(cmd, "set", sets)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			c, err := a.connect(ctx)
			if err != nil {
				return err
			}
			g, err := c.CreateGroup(ctx, args[0], props)
			if err != nil {
				return err
			}
			info, err := g.State(ctx)
			if err != nil {
				return err
			}
			return a.created("group", info)
		},
	}
	create.Flags().StringArrayVar(&sets, "set", nil, "set a group property, `PROP=VALUE` (repeatable)")
	del := &cobra.Command{
		Use:   "delete GROUP",
		Short: "Delete a group, which must be empty or offline (ApiDeleteGroup)",
		Args:  cli.NArgs(1, 1, "GROUP"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withGroup(cmd, args[0], func(ctx context.Context, _ *failover.Client, g *failover.Group) error {
				return a.operation(ctx, g.Delete(ctx), 0, "", nil)
			})
		},
	}
	list := &cobra.Command{
		Use:   "list",
		Short: "Every group",
		Args:  cli.NArgs(0, 0, "none"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := a.connect(cmd.Context())
			if err != nil {
				return err
			}
			gs, err := c.Groups(cmd.Context())
			if err != nil {
				return err
			}
			a.show("groups", gs)
			return nil
		},
	}
	set := &cobra.Command{
		Use:   "set GROUP PROP=VALUE…",
		Short: "Set group properties: " + strings.Join(failover.GroupPropertyNames(), ", "),
		Args:  cli.NArgs(2, -1, "GROUP PROP=VALUE…"),
		RunE: func(cmd *cobra.Command, args []string) error {
			props, err := kvArgs(cmd, args[1:])
			if err != nil {
				return err
			}
			return a.withGroup(cmd, args[0], func(ctx context.Context, _ *failover.Client, g *failover.Group) error {
				return a.operation(ctx, g.Set(ctx, props), 0, "", nil)
			})
		},
	}
	for _, c := range []*cobra.Command{online, offline, move} {
		waitFlag(c, &wait)
		lockFlag(c, &ignoreLocked)
	}
	cmd.AddCommand(state, online, offline, move, owners, create, del, list, set)
	g := []string{"group"}
	a.addCompletion(cmd, map[string][]string{"state": g, "online": g, "offline": g, "move": {"group", "node"},
		"owners": {"group", "node"}, "delete": g, "set": g})
	return cmd
}

// created reports a create's success with the new object.
func (a *app) created(kind string, obj any) error {
	if a.json {
		a.emitJSON(map[string]any{"result": codeOf(failover.CodeSuccess, ""), kind: obj})
		return nil
	}
	a.resultLine(failover.CodeSuccess, "")
	a.show("", obj)
	return nil
}

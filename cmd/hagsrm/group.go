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
	return with(a, cmd, name, (*failover.Client).OpenGroup, fn)
}

// stateCommand is "group state", "resource state" and "node state": it
// shows the state of the object named by its only argument.
func stateCommand[T, I any](a *app, arg, short string, open func(*failover.Client, context.Context, string) (T, error),
	state func(T, context.Context) (I, error)) *cobra.Command {
	return &cobra.Command{
		Use:   "state " + arg,
		Short: short,
		Args:  cli.NArgs(1, 1, arg),
		RunE: func(cmd *cobra.Command, args []string) error {
			return with(a, cmd, args[0], open, func(ctx context.Context, _ *failover.Client, obj T) error {
				info, err := state(obj, ctx)
				if err != nil {
					return err
				}
				a.show("", info)
				return nil
			})
		},
	}
}

// setCommand is "group set" and "resource set": it sets the properties
// named on its command line on the object named by its first argument.
func setCommand[T any](a *app, arg, kind string, names []string, open func(*failover.Client, context.Context, string) (T, error),
	set func(T, context.Context, map[string]string) error) *cobra.Command {
	return &cobra.Command{
		Use:   "set " + arg + " PROP=VALUE…",
		Short: "Set " + kind + " properties: " + strings.Join(names, ", "),
		Args:  cli.NArgs(2, -1, arg+" PROP=VALUE…"),
		RunE: func(cmd *cobra.Command, args []string) error {
			props, err := kvArgs(cmd, args[1:])
			if err != nil {
				return err
			}
			return with(a, cmd, args[0], open, func(ctx context.Context, _ *failover.Client, obj T) error {
				return a.operation(ctx, set(obj, ctx, props), 0, "", nil)
			})
		},
	}
}

// listCommand is "group list" and "node list": it shows every object of
// one kind, under key.
func listCommand[I any](a *app, short, key string, list func(*failover.Client, context.Context) ([]I, error)) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: short,
		Args:  cli.NArgs(0, 0, "none"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			objs, err := fetch(a, cmd, list)
			if err != nil {
				return err
			}
			a.show(key, objs)
			return nil
		},
	}
}

// fetch connects and asks hagsrmd one question.
func fetch[T any](a *app, cmd *cobra.Command, get func(*failover.Client, context.Context) (T, error)) (T, error) {
	c, err := a.connect(cmd.Context())
	if err != nil {
		var none T
		return none, err
	}
	return get(c, cmd.Context())
}

// with connects, opens the object named name with open and runs fn with
// it: the start of every command on one group, resource or node.
func with[T any](a *app, cmd *cobra.Command, name string, open func(*failover.Client, context.Context, string) (T, error),
	fn func(context.Context, *failover.Client, T) error) error {
	ctx := cmd.Context()
	c, err := a.connect(ctx)
	if err != nil {
		return err
	}
	obj, err := open(c, ctx, name)
	if err != nil {
		return err
	}
	return fn(ctx, c, obj)
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
	state := stateCommand(a, "GROUP", "A group's state, owner and sequence number (ApiGetGroupState)", (*failover.Client).OpenGroup, (*failover.Group).State)
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
	list := listCommand(a, "Every group", "groups", (*failover.Client).Groups)
	set := setCommand(a, "GROUP", "group", failover.GroupPropertyNames(), (*failover.Client).OpenGroup, (*failover.Group).Set)
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

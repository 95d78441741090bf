package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/openhags/hags/failover"
	"github.com/openhags/hags/internal/cli"
)

// withResource connects, opens the resource named name and runs fn with it.
func (a *app) withResource(cmd *cobra.Command, name string, fn func(context.Context, *failover.Client, *failover.Resource) error) error {
	return with(a, cmd, name, (*failover.Client).OpenResource, fn)
}

func resourceSettle(r *failover.Resource) func(context.Context) (any, error) {
	return func(ctx context.Context) (any, error) { return r.Wait(ctx) }
}

// simple makes a resource command that runs one operation on the
// resource named by its only argument.
func (a *app) simple(use, short string, op func(context.Context, *failover.Resource) error) *cobra.Command {
	return &cobra.Command{
		Use:   use + " RESOURCE",
		Short: short,
		Args:  cli.NArgs(1, 1, "RESOURCE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withResource(cmd, args[0], func(ctx context.Context, _ *failover.Client, r *failover.Resource) error {
				return a.operation(ctx, op(ctx, r), 0, "", nil)
			})
		},
	}
}

// pendingOp makes a resource command for an operation that may return
// ERROR_IO_PENDING, with --wait (and --ignore-locked when locked is set).
func (a *app) pendingOp(use, short string, locked bool,
	op func(context.Context, *failover.Resource, []failover.OpOption) error) *cobra.Command {
	var (
		wait         time.Duration
		ignoreLocked bool
	)
	cmd := &cobra.Command{
		Use:   use + " RESOURCE",
		Short: short,
		Args:  cli.NArgs(1, 1, "RESOURCE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkWait(cmd, wait); err != nil {
				return err
			}
			return a.withResource(cmd, args[0], func(ctx context.Context, _ *failover.Client, r *failover.Resource) error {
				return a.operation(ctx, op(ctx, r, opts(ignoreLocked)), wait, "resource", resourceSettle(r))
			})
		},
	}
	waitFlag(cmd, &wait)
	if locked {
		lockFlag(cmd, &ignoreLocked)
	}
	return cmd
}

func (a *app) resourceCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "resource",
		Short: "Resources: state, online, offline, fail, owners, depend, create, delete, lock, unlock, cleanup, list, why, set, params",
		Args:  cobra.ArbitraryArgs,
		RunE:  cli.NeedSubcommand,
	}
	state := stateCommand(a, "RESOURCE", "A resource's state, owner, group, persistent state and sequence number (ApiGetResourceState)", (*failover.Client).OpenResource, (*failover.Resource).State)
	online := a.pendingOp("online", "Bring a resource online, providers first (ApiOnlineResource)", true,
		func(ctx context.Context, r *failover.Resource, o []failover.OpOption) error {
			return r.Online(ctx, o...)
		})
	offline := a.pendingOp("offline", "Take a resource offline, dependents first (ApiOfflineResource)", true,
		func(ctx context.Context, r *failover.Resource, o []failover.OpOption) error {
			return r.Offline(ctx, o...)
		})
	fail := a.pendingOp("fail", "Treat a resource as failed; recovery follows (ApiFailResource)", false,
		func(ctx context.Context, r *failover.Resource, _ []failover.OpOption) error { return r.Fail(ctx) })
	cleanup := a.pendingOp("cleanup", "Forget a resource's failures; a Failed resource meant to be online is tried again", false,
		func(ctx context.Context, r *failover.Resource, _ []failover.OpOption) error { return r.Cleanup(ctx) })
	owners := &cobra.Command{
		Use:   "owners RESOURCE add|remove NODE",
		Short: "Add or remove a possible owner of a resource (ApiAddResourceNode, ApiRemoveResourceNode)",
		Args:  cli.NArgs(3, 3, "RESOURCE add|remove NODE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if args[1] != "add" && args[1] != "remove" {
				return cli.Usagef(cmd, "the second argument is add or remove, not %q", args[1])
			}
			return a.withResource(cmd, args[0], func(ctx context.Context, c *failover.Client, r *failover.Resource) error {
				n, err := c.OpenNode(ctx, args[2])
				if err != nil {
					return err
				}
				if args[1] == "add" {
					return a.operation(ctx, r.AddOwner(ctx, n), 0, "", nil)
				}
				return a.operation(ctx, r.RemoveOwner(ctx, n), 0, "", nil)
			})
		},
	}
	depend := &cobra.Command{
		Use:   "depend RESOURCE 'EXPRESSION'",
		Short: "Set a resource's dependency expression, e.g. '([a] or [b]) and [c]'; '' removes it",
		Args:  cli.NArgs(2, 2, "RESOURCE EXPRESSION"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withResource(cmd, args[0], func(ctx context.Context, _ *failover.Client, r *failover.Resource) error {
				return a.operation(ctx, r.SetDependency(ctx, args[1]), 0, "", nil)
			})
		},
	}
	var (
		group, agent  string
		params, props []string
	)
	create := &cobra.Command{
		Use:   "create RESOURCE --group GROUP --agent ocf:PROVIDER:TYPE|exec [--param K=V]… [--set PROP=V]…",
		Short: "Create a resource, offline, in a group (ApiCreateResource)",
		Args:  cli.NArgs(1, 1, "RESOURCE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if group == "" || agent == "" {
				return cli.Usagef(cmd, "--group and --agent are required")
			}
			p, err := setFlags(cmd, "param", params)
			if err != nil {
				return err
			}
			s, err := setFlags(cmd, "set", props)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			c, err := a.connect(ctx)
			if err != nil {
				return err
			}
			r, err := c.CreateResource(ctx, failover.ResourceSpec{Name: args[0], Group: group, Agent: agent, Params: p, Props: s})
			if err != nil {
				return err
			}
			info, err := r.State(ctx)
			if err != nil {
				return err
			}
			return a.created("resource", info)
		},
	}
	create.Flags().StringVar(&group, "group", "", "the `GROUP` the resource belongs to")
	create.Flags().StringVar(&agent, "agent", "", "the agent: ocf:PROVIDER:TYPE or exec")
	create.Flags().StringArrayVar(&params, "param", nil, "an agent parameter, `NAME=VALUE` (repeatable; exec: command=…)")
	create.Flags().StringArrayVar(&props, "set", nil, "a resource property, `PROP=VALUE` (repeatable): "+
		strings.Join(failover.ResourcePropertyNames(), ", "))
	del := a.simple("delete", "Delete a resource (ApiDeleteResource)",
		func(ctx context.Context, r *failover.Resource) error { return r.Delete(ctx) })
	lock := a.simple("lock", "Put a resource in locked mode: it keeps its state",
		func(ctx context.Context, r *failover.Resource) error { return r.Lock(ctx) })
	unlock := a.simple("unlock", "End a resource's locked mode",
		func(ctx context.Context, r *failover.Resource) error { return r.Unlock(ctx) })
	var inGroup string
	list := &cobra.Command{
		Use:   "list",
		Short: "Every resource (of one group with --group)",
		Args:  cli.NArgs(0, 0, "none"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			rs, err := fetch(a, cmd, (*failover.Client).Resources)
			if err != nil {
				return err
			}
			if inGroup != "" {
				var keep []failover.ResourceInfo
				for _, r := range rs {
					if r.Group == inGroup {
						keep = append(keep, r)
					}
				}
				rs = keep
			}
			if rs == nil {
				rs = []failover.ResourceInfo{}
			}
			a.show("resources", rs)
			return nil
		},
	}
	list.Flags().StringVar(&inGroup, "group", "", "list the resources of `GROUP` only")
	why := &cobra.Command{
		Use:   "why RESOURCE",
		Short: "Say in words why a resource is not where it should be, or what it is doing",
		Args:  cli.NArgs(1, 1, "RESOURCE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withResource(cmd, args[0], func(ctx context.Context, _ *failover.Client, r *failover.Resource) error {
				lines, err := r.Why(ctx)
				if err != nil {
					return err
				}
				if a.json {
					a.emitJSON(map[string]any{"resource": r.Name(), "why": lines})
					return nil
				}
				for _, l := range lines {
					fmt.Fprintln(a.stdout, l)
				}
				return nil
			})
		},
	}
	set := setCommand(a, "RESOURCE", "resource", failover.ResourcePropertyNames(), (*failover.Client).OpenResource, (*failover.Resource).Set)
	paramsCmd := &cobra.Command{
		Use:   "params RESOURCE [NAME=VALUE…]",
		Short: "Replace a resource's agent parameters (none: remove them all)",
		Args:  cli.NArgs(1, -1, "RESOURCE [NAME=VALUE…]"),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := kvArgs(cmd, args[1:])
			if err != nil {
				return err
			}
			return a.withResource(cmd, args[0], func(ctx context.Context, _ *failover.Client, r *failover.Resource) error {
				return a.operation(ctx, r.SetParams(ctx, p), 0, "", nil)
			})
		},
	}
	cmd.AddCommand(state, online, offline, fail, owners, depend, create, del, lock, unlock, cleanup, list, why, set, paramsCmd)
	r := []string{"resource"}
	a.addCompletion(cmd, map[string][]string{"state": r, "online": r, "offline": r, "fail": r, "cleanup": r,
		"owners": {"resource", "add|remove", "node"}, "depend": r, "delete": r, "lock": r, "unlock": r, "why": r,
		"set": r, "params": r})
	groupNames := func(cmd *cobra.Command, _ []string, prefix string) ([]string, cobra.ShellCompDirective) {
		return a.names(cmd.Context(), "group", prefix), cobra.ShellCompDirectiveNoFileComp
	}
	_ = create.RegisterFlagCompletionFunc("group", groupNames)
	_ = list.RegisterFlagCompletionFunc("group", groupNames)
	return cmd
}

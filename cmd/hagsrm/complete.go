package main

import (
	"context"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

// completionTimeout bounds how long completing a name may ask hagsrmd.
const completionTimeout = 2 * time.Second

// names returns the names of the objects of kind ("group", "resource" or
// "node") that start with prefix, asking hagsrmd; nothing when it cannot
// be asked.
func (a *app) names(ctx context.Context, kind, prefix string) []string {
	ctx, cancel := context.WithTimeout(ctx, completionTimeout)
	defer cancel()
	c, err := a.connect(ctx)
	if err != nil {
		return nil
	}
	var all []string
	switch kind {
	case "group":
		gs, _ := c.Groups(ctx)
		for _, g := range gs {
			all = append(all, g.Name)
		}
	case "resource":
		rs, _ := c.Resources(ctx)
		for _, r := range rs {
			all = append(all, r.Name)
		}
	case "node":
		ns, _ := c.Nodes(ctx)
		for _, n := range ns {
			all = append(all, n.Name)
		}
	}
	var out []string
	for _, n := range all {
		if strings.HasPrefix(n, prefix) {
			out = append(out, n)
		}
	}
	return out
}

// completeArgs completes positional arguments: kinds[i] says what the
// i-th is, an object kind ("group", "resource", "node") or a fixed
// choice ("add|remove").
func (a *app) completeArgs(kinds ...string) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		if len(args) >= len(kinds) {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		kind := kinds[len(args)]
		if strings.Contains(kind, "|") {
			return strings.Split(kind, "|"), cobra.ShellCompDirectiveNoFileComp
		}
		return a.names(cmd.Context(), kind, toComplete), cobra.ShellCompDirectiveNoFileComp
	}
}

// addCompletion gives each subcommand of parent the completion its
// arguments' names call for.
func (a *app) addCompletion(parent *cobra.Command, kinds map[string][]string) {
	for _, c := range parent.Commands() {
		if k, ok := kinds[c.Name()]; ok {
			c.ValidArgsFunction = a.completeArgs(k...)
		}
	}
}

package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/openhags/hags/internal/cli"
)

func (a *app) consoleCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "console",
		Short: "Print the URL of this node's web console, with the token that lets its holder act (needs access All)",
		Long: `console prints the URL of the web console that hagsrmd serves when started with
--http HOST:PORT. The URL carries the console's token: whoever opens it may move
groups, bring resources online and offline, and pause nodes. Only callers with
access All (root, hagsadmin) get it. Without the token the page is read-only
(on a loopback address) or closed (elsewhere). docs/console.md.`,
		Args: cli.NArgs(0, 0, "none"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := a.connect(cmd.Context())
			if err != nil {
				return err
			}
			info, err := c.Console(cmd.Context())
			if err != nil {
				return err
			}
			if a.json {
				a.emitJSON(map[string]any{"console": info})
				return nil
			}
			fmt.Fprintln(a.stdout, info.URL)
			return nil
		},
	}
}

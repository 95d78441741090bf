package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"time"

	"github.com/openhags/hags/daemon/ipc"
	"github.com/openhags/hags/internal/wire"
)

// snapshot flattens what watch follows into "what → value" pairs, so that
// two snapshots can be compared key by key.
func snapshot(st *wire.Status, groups []wire.GroupSummary) map[string]string {
	out := map[string]string{}
	if st != nil {
		for _, n := range st.Nodes {
			k := fmt.Sprintf("node %d", n.Node)
			if n.Name != "" {
				k = fmt.Sprintf("node %d (%s)", n.Node, n.Name)
			}
			out[k+" role"] = n.Role
			out[k+" health"] = n.Health
		}
	}
	for _, g := range groups {
		k := "group " + g.Name
		out[k+" providers"] = fmt.Sprint(g.Providers)
		out[k+" subscribers"] = fmt.Sprint(g.Subscribers)
		out[k+" protocol"] = dash(g.Protocol)
	}
	return out
}

// diff returns one line per change from old to cur, in key order.
func diff(old, cur map[string]string) []string {
	keys := slices.Sorted(maps.Keys(cur))
	for k := range old {
		if _, ok := cur[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	var lines []string
	for _, k := range slices.Compact(keys) {
		o, had := old[k]
		c, has := cur[k]
		switch {
		case old == nil:
			lines = append(lines, fmt.Sprintf("%s %s", k, c))
		case !had:
			lines = append(lines, fmt.Sprintf("%s %s (new)", k, c))
		case !has:
			lines = append(lines, fmt.Sprintf("%s gone (was %s)", k, o))
		case o != c:
			lines = append(lines, fmt.Sprintf("%s %s -> %s", k, o, c))
		}
	}
	return lines
}

// watch polls the daemon every interval and prints each change of a node's
// role or health, or of a group's providers, subscribers or running
// protocol, with the time it was seen; the first poll prints everything.
// It returns nil when ctx ends, or the error that ended the session.
func watch(ctx context.Context, conn *ipc.AdminConn, interval, timeout time.Duration, w io.Writer) error {
	var last map[string]string
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		qctx, cancel := context.WithTimeout(ctx, timeout)
		st, err := conn.Query(qctx, wire.AdminQuery{What: "status"})
		var gs *wire.AdminReply
		if err == nil {
			gs, err = conn.Query(qctx, wire.AdminQuery{What: "groups"})
		}
		cancel()
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			return fmt.Errorf("watch: %w", err)
		}
		cur := snapshot(st.Status, gs.Groups)
		now := time.Now().Format("15:04:05.000")
		for _, l := range diff(last, cur) {
			if _, err := fmt.Fprintf(w, "%s %s\n", now, l); err != nil {
				return err
			}
		}
		last = cur
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

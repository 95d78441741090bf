package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/openhags/hags/failover"
)

// codeJSON is a return code as --json prints it.
type codeJSON struct {
	Name    string  `json:"name,omitempty"`
	Code    *uint32 `json:"code,omitempty"`
	Message string  `json:"message,omitempty"`
}

func codeOf(c failover.Code, msg string) codeJSON {
	v := uint32(c)
	return codeJSON{Name: c.String(), Code: &v, Message: msg}
}

// errorJSON describes err: its code's name and number when it carries one,
// and its message.
func errorJSON(err error) codeJSON {
	var fe *failover.Error
	if errors.As(err, &fe) {
		return codeOf(fe.Code, fe.Message)
	}
	return codeJSON{Message: err.Error()}
}

// emitJSON writes one JSON object, one line.
func (a *app) emitJSON(v any) {
	b, err := json.Marshal(v)
	if err != nil { // every value printed is plain data; this would be a bug
		b, _ = json.Marshal(map[string]any{"error": codeJSON{Message: "hagsrm cannot encode its answer: " + err.Error()}})
	}
	fmt.Fprintf(a.stdout, "%s\n", b)
}

// printError reports a failure: with --json, {"error": …} and the extra
// fields on stdout; otherwise a line on stderr and the extra objects as
// text on stdout.
func (a *app) printError(err error, extra map[string]any) {
	if a.json {
		out := map[string]any{"error": errorJSON(err)}
		for k, v := range extra {
			out[k] = v
		}
		a.emitJSON(out)
		return
	}
	fmt.Fprintf(a.stderr, "hagsrm: %v\n", err)
	a.printObjects(extra)
}

// printObjects prints the objects of a result as tables.
func (a *app) printObjects(objs map[string]any) {
	for _, k := range []string{"group", "resource", "node", "groups"} {
		a.printTable(objs[k])
	}
}

// operation carries out a mutating operation's report: an error other
// than ERROR_SUCCESS and ERROR_IO_PENDING is returned (and printed by
// run, exit 1). Otherwise the result is printed; with wait > 0, after
// waiting up to wait with settle for the object to leave its pending
// state, with the object under kind. A wait that times out prints
// ERROR_TIMEOUT with the object as it was, and fails.
func (a *app) operation(ctx context.Context, opErr error, wait time.Duration, kind string,
	settle func(context.Context) (any, error)) error {
	code, ok := failover.CodeOf(opErr)
	if !ok || code != failover.CodeSuccess && code != failover.CodeIOPending {
		return opErr
	}
	msg := ""
	if opErr != nil {
		msg = errorJSON(opErr).Message
	}
	res := codeOf(code, msg)
	out := map[string]any{"result": res}
	if wait > 0 && settle != nil {
		wctx, cancel := context.WithTimeout(ctx, wait)
		obj, err := settle(wctx)
		cancel()
		if err != nil {
			if errors.Is(err, failover.ErrTimeout) {
				a.printError(err, map[string]any{kind: obj})
				return &reported{err}
			}
			return err
		}
		out[kind] = obj
	}
	if a.json {
		a.emitJSON(out)
		return nil
	}
	a.resultLine(code, msg)
	delete(out, "result")
	a.printObjects(out)
	return nil
}

func (a *app) resultLine(code failover.Code, msg string) {
	switch {
	case code == failover.CodeIOPending && msg != "":
		fmt.Fprintf(a.stdout, "%s: %s (it goes on; --wait D waits for it)\n", code, msg)
	case code == failover.CodeIOPending:
		fmt.Fprintf(a.stdout, "%s (it goes on; --wait D waits for it)\n", code)
	case msg != "":
		fmt.Fprintf(a.stdout, "%s: %s\n", code, msg)
	default:
		fmt.Fprintf(a.stdout, "%s\n", code)
	}
}

// show prints one object (or list) under its key: the object itself with
// --json when key is "", else {key: v}.
func (a *app) show(key string, v any) {
	if a.json {
		if key == "" {
			a.emitJSON(v)
		} else {
			a.emitJSON(map[string]any{key: v})
		}
		return
	}
	a.printTable(v)
}

// printTable prints an object, or a list of objects of one kind, as a
// table; anything else prints nothing.
func (a *app) printTable(v any) {
	switch v := v.(type) {
	case failover.GroupInfo:
		groupTable(a.stdout, []failover.GroupInfo{v})
	case failover.ResourceInfo:
		resourceTable(a.stdout, []failover.ResourceInfo{v})
	case failover.NodeInfo:
		nodeTable(a.stdout, []failover.NodeInfo{v})
	case []failover.GroupInfo:
		groupTable(a.stdout, v)
	case []failover.ResourceInfo:
		resourceTable(a.stdout, v)
	case []failover.NodeInfo:
		nodeTable(a.stdout, v)
	}
}

// short drops the MS-CMRP prefix of a state's name for tables:
// ClusterGroupPartialOnline → PartialOnline.
func short(name string) string {
	for _, p := range []string{"ClusterGroupState", "ClusterGroup", "ClusterResourceState", "ClusterResource",
		"ClusterNodeState", "ClusterNode"} {
		if s, ok := strings.CutPrefix(name, p); ok {
			return s
		}
	}
	return name
}

// table returns a writer of aligned columns (cells end with a tab); lines
// lose trailing blanks, which empty last cells would leave.
func table(w io.Writer) *tabwriter.Writer {
	return tabwriter.NewWriter(&trimWriter{w: w}, 0, 0, 2, ' ', 0)
}

// trimWriter drops the blanks at the end of each line written through it,
// holding a partial line until its end comes (tabwriter writes a line in
// pieces: cells, then padding).
type trimWriter struct {
	w       io.Writer
	partial []byte
}

func (t *trimWriter) Write(p []byte) (int, error) {
	t.partial = append(t.partial, p...)
	var out []byte
	for {
		i := bytes.IndexByte(t.partial, '\n')
		if i < 0 {
			break
		}
		out = append(out, bytes.TrimRight(t.partial[:i], " ")...)
		out = append(out, '\n')
		t.partial = t.partial[i+1:]
	}
	if _, err := t.w.Write(out); err != nil {
		return 0, err
	}
	return len(p), nil
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func groupTable(w io.Writer, gs []failover.GroupInfo) {
	tw := table(w)
	fmt.Fprintln(tw, "GROUP\tSTATE\tOWNER\tPERSISTENT\tSEQUENCE\tRESOURCES")
	for _, g := range gs {
		owner := g.Owner
		if g.MovingTo != "" {
			owner += " -> " + g.MovingTo
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\n", g.Name, short(g.State.String()), dash(owner), g.PersistentState,
			g.Sequence, len(g.Resources))
	}
	tw.Flush()
}

func resourceTable(w io.Writer, rs []failover.ResourceInfo) {
	tw := table(w)
	fmt.Fprintln(tw, "RESOURCE\tGROUP\tSTATE\tOWNER\tPERSISTENT\tSEQUENCE\tAGENT")
	for _, r := range rs {
		agent := r.Agent
		if r.Locked {
			agent += " (locked)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\n", r.Name, r.Group, short(r.State.String()), dash(r.Owner),
			r.PersistentState, r.Sequence, agent)
	}
	tw.Flush()
}

func nodeTable(w io.Writer, ns []failover.NodeInfo) {
	tw := table(w)
	fmt.Fprintln(tw, "NODE\tID\tSTATE\tGROUPS")
	for _, n := range ns {
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\n", n.Name, n.ID, short(n.State.String()), dash(strings.Join(n.Groups, ", ")))
	}
	tw.Flush()
}

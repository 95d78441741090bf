// Command hagsrm-actlog writes action log records (package
// failover/agent/actlog) for programs that are not hags: the wrapper OCF
// agent examples/failover/ActLogDummy, run by hags or by Pacemaker, logs
// its starts and stops with it, so that one checker reads both.
//
//	hagsrm-actlog now
//	    prints CLOCK_MONOTONIC in nanoseconds
//	hagsrm-actlog append -node N -resource R -op start|stop -ok=true|false
//	                     [-file PATH] [-mono NS] [-done NS] [-why WORD] [-agent SPEC]
//	    appends one record; -file defaults to $HAGSRM_ACTION_LOG, -mono
//	    to now (give a start the time taken before it began, and -done
//	    the time taken after it ended)
//
// Exit status: 0 done, 1 the record could not be written, 2 usage.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/openhags/hags/failover/agent/actlog"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "usage: hagsrm-actlog now | append -node N -resource R -op start|stop -ok=BOOL [-file PATH] [-mono NS] [-done NS] [-why WORD] [-agent SPEC]")
		return 2
	}
	switch args[0] {
	case "now":
		if len(args) != 1 {
			fmt.Fprintln(stderr, "hagsrm-actlog now takes no arguments")
			return 2
		}
		fmt.Fprintln(stdout, actlog.Now())
		return 0
	case "append":
		return appendRecord(args[1:], stderr)
	}
	fmt.Fprintf(stderr, "hagsrm-actlog: unknown command %q (now, append)\n", args[0])
	return 2
}

func appendRecord(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("hagsrm-actlog append", flag.ContinueOnError)
	fs.SetOutput(stderr)
	file := fs.String("file", os.Getenv(actlog.EnvVar), "the action log (default $"+actlog.EnvVar+")")
	node := fs.String("node", "", "the node's name")
	resource := fs.String("resource", "", "the resource's name")
	op := fs.String("op", "", "start or stop")
	ok := fs.Bool("ok", false, "whether the action succeeded")
	mono := fs.Int64("mono", 0, "CLOCK_MONOTONIC nanoseconds (default now)")
	done := fs.Int64("done", 0, "a start's end, CLOCK_MONOTONIC nanoseconds (default: not recorded)")
	why := fs.String("why", "", "why a stop happened")
	agent := fs.String("agent", "", "the agent spec")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	switch {
	case fs.NArg() != 0:
		fmt.Fprintf(stderr, "hagsrm-actlog append: unexpected arguments %q\n", fs.Args())
		return 2
	case *file == "":
		fmt.Fprintln(stderr, "hagsrm-actlog append: no -file and no $"+actlog.EnvVar)
		return 2
	case *node == "" || *resource == "":
		fmt.Fprintln(stderr, "hagsrm-actlog append: -node and -resource are required")
		return 2
	case actlog.Op(*op) != actlog.OpStart && actlog.Op(*op) != actlog.OpStop:
		fmt.Fprintf(stderr, "hagsrm-actlog append: -op must be start or stop, not %q\n", *op)
		return 2
	case *done < 0 || *done != 0 && actlog.Op(*op) != actlog.OpStart:
		fmt.Fprintln(stderr, "hagsrm-actlog append: -done is a start's end: a positive time, on start records only")
		return 2
	}
	at := *mono
	if at == 0 {
		at = actlog.Now()
	}
	rec := actlog.Record{Mono: at, Node: *node, Resource: *resource, Op: actlog.Op(*op), OK: *ok, Why: *why, Agent: *agent, Done: *done}
	if err := actlog.Append(*file, rec); err != nil {
		fmt.Fprintln(stderr, "hagsrm-actlog:", err)
		return 1
	}
	return 0
}

// Command gsclient is a Group Services client driven by commands on its
// standard input, one per line, that prints every notification it receives
// as one line on its standard output. The demo and the real-process tests
// run it as a separate process; people can use it to try hags by hand.
//
// Commands (TOK is a token printed by join or subscribe):
//
//	join GROUP INSTANCE [phases=1|n] [limit=S] [batch=none|joins|failures|both] [default=approve|reject]
//	     [source=GROUP] [srcphases=1|n] [srclimit=S]
//	leave TOK [phases=1|n] [limit=S] [code=N]
//	goodbye TOK
//	expel TOK INST@NODE[,INST@NODE...] [phases=1|n] [limit=S] [dphase=K] [flag=TEXT]
//	state TOK VALUE [phases=1|n] [limit=S]
//	msg TOK TEXT [phases=1|n] [limit=S]
//	vote TOK approve|continue|reject [state=V] [msg=M] [default=approve|reject]
//	autovote approve|reject|continue:N|none   how to answer n-phase notifications
//	subscribe GROUP [state] [joins] [leaves] [deltas]
//	unsubscribe TOK
//	wedge          stop dispatching (to show a failed responsiveness check)
//	quit
//
// Output lines:
//
//	ready node=N
//	token TOK GROUP
//	error OP CODE              a synchronous error
//	<KIND> tok=T group=G ...   a notification (see format in note.go)
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"github.com/openhags/hags/gsapi"
)

func main() {
	script := flag.String("deactivate-script", "", "deactivate script to register at init")
	ping := flag.Uint("ping", 0, "ask for ping responsiveness checks every N seconds (0: none)")
	flag.Parse()

	opts := []gsapi.Option{gsapi.WithProgram("gsclient")}
	if *script != "" {
		opts = append(opts, gsapi.WithDeactivateScript(*script))
	}
	c := &client{out: bufio.NewWriter(os.Stdout)}
	if *ping > 0 {
		opts = append(opts, gsapi.WithResponsiveness(gsapi.Responsiveness{
			Type: gsapi.PingResponsiveness, Interval: uint32(*ping), ResponseTimeLimit: uint32(*ping),
		}, func(*gsapi.Notification) gsapi.CallbackRC { return gsapi.CallbackOK }))
	}
	opts = append(opts, gsapi.WithDelayedErrorHandler(c.print))

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	gc, err := gsapi.Dial(ctx, opts...)
	if err != nil {
		fmt.Printf("error init %s\n", gsapi.CodeOf(err))
		os.Exit(1)
	}
	c.gs = gc
	c.printf("ready node=%d", gc.Node())

	wedge := make(chan struct{})
	runDone := make(chan error, 1)
	go func() {
		runCtx, cancel := context.WithCancel(ctx)
		defer cancel()
		go func() {
			select {
			case <-wedge:
				cancel()
			case <-runCtx.Done():
			}
		}()
		runDone <- gc.Run(runCtx)
	}()

	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(os.Stdin)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	var wedged sync.Once
	for {
		select {
		case <-ctx.Done():
			gc.Close()
			return
		case err := <-runDone:
			if err != nil && ctx.Err() == nil {
				c.printf("lost %s", gsapi.CodeOf(err))
			}
			runDone = nil
		case line, ok := <-lines:
			if !ok {
				gc.Close()
				return
			}
			f := strings.Fields(line)
			if len(f) == 0 {
				continue
			}
			switch f[0] {
			case "quit":
				gc.Close()
				c.printf("bye")
				return
			case "wedge":
				wedged.Do(func() { close(wedge) })
				c.printf("wedged")
			default:
				if err := c.command(f); err != nil {
					c.printf("error %s %s", f[0], gsapi.CodeOf(err))
				}
			}
		}
	}
}

type client struct {
	gs *gsapi.Client

	mu       sync.Mutex
	out      *bufio.Writer
	autovote string // "", "approve", "reject", "continue:N"
}

func (c *client) printf(format string, args ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	fmt.Fprintf(c.out, format+"\n", args...)
	c.out.Flush()
}

func (c *client) print(n *gsapi.Notification) { c.printf("%s", formatNote(n)) }

// onNPhase prints the notification and answers it per the autovote policy.
func (c *client) onNPhase(n *gsapi.Notification) {
	c.print(n)
	c.mu.Lock()
	policy := c.autovote
	c.mu.Unlock()
	vote := gsapi.VoteApprove
	switch {
	case policy == "" || policy == "none":
		return
	case policy == "reject":
		vote = gsapi.VoteReject
	case strings.HasPrefix(policy, "continue:"):
		k, _ := strconv.Atoi(strings.TrimPrefix(policy, "continue:"))
		if n.Proposal != nil && int(n.Proposal.Phase) < k {
			vote = gsapi.VoteContinue
		}
	}
	if err := c.gs.Vote(n.Token, gsapi.VoteRequest{Vote: vote}); err != nil {
		c.printf("error vote %s", gsapi.CodeOf(err))
	}
}

func (c *client) command(f []string) error {
	args, kv := splitArgs(f[1:])
	phases, limit := parsePhases(kv)
	switch f[0] {
	case "join":
		if len(args) < 2 {
			return gsapi.ErrBadParameter
		}
		inst, err := strconv.Atoi(args[1])
		if err != nil {
			return gsapi.ErrBadParameter
		}
		attrs := gsapi.Attributes{GroupName: args[0], NumPhases: phases, TimeLimit: limit,
			DefaultVote: parseVote(kv["default"], gsapi.VoteApprove), BatchControl: parseBatch(kv["batch"])}
		if src, ok := kv["source"]; ok {
			attrs.SourceGroupName = src
			attrs.SourceReflectionNumPhases = gsapi.OnePhase
			if kv["srcphases"] == "n" {
				attrs.SourceReflectionNumPhases = gsapi.NPhase
			}
			srclimit, _ := strconv.Atoi(kv["srclimit"])
			attrs.SourceReflectionTimeLimit = uint32(srclimit)
		}
		tok, err := c.gs.Join(gsapi.JoinRequest{
			Attributes: attrs, Instance: int32(inst), LocalName: "gsclient",
			Callbacks: gsapi.ProviderCallbacks{
				NPhase: c.onNPhase, Approved: c.print, Rejected: c.print,
				Announcement: c.print, Merge: c.print,
			},
		})
		if err != nil {
			return err
		}
		c.printf("token %d %s", tok, args[0])
	case "leave":
		tok, err := token(args)
		if err != nil {
			return err
		}
		code, _ := strconv.Atoi(kv["code"])
		return c.gs.Leave(tok, gsapi.LeaveRequest{NumPhases: phases, TimeLimit: limit, LeaveCode: uint32(code)})
	case "goodbye":
		tok, err := token(args)
		if err != nil {
			return err
		}
		return c.gs.Goodbye(tok)
	case "expel":
		tok, err := token(args)
		if err != nil || len(args) < 2 {
			return gsapi.ErrBadParameter
		}
		list, err := parseProviders(args[1])
		if err != nil {
			return err
		}
		dphase, _ := strconv.Atoi(kv["dphase"])
		req := gsapi.ExpelRequest{NumPhases: phases, TimeLimit: limit, List: list, DeactivatePhase: uint32(dphase)}
		if fl, ok := kv["flag"]; ok {
			req.Flag = &fl
		}
		return c.gs.Expel(tok, req)
	case "state":
		tok, err := token(args)
		if err != nil || len(args) < 2 {
			return gsapi.ErrBadParameter
		}
		return c.gs.ChangeStateValue(tok, gsapi.StateChangeRequest{NumPhases: phases, TimeLimit: limit, State: []byte(args[1])})
	case "msg":
		tok, err := token(args)
		if err != nil || len(args) < 2 {
			return gsapi.ErrBadParameter
		}
		return c.gs.SendMessage(tok, gsapi.MessageRequest{NumPhases: phases, TimeLimit: limit, Message: []byte(args[1])})
	case "vote":
		tok, err := token(args)
		if err != nil || len(args) < 2 {
			return gsapi.ErrBadParameter
		}
		req := gsapi.VoteRequest{Vote: parseVote(args[1], 0), Default: parseVote(kv["default"], gsapi.NullVote)}
		if s, ok := kv["state"]; ok {
			req.State = []byte(s)
		}
		if m, ok := kv["msg"]; ok {
			req.Message = []byte(m)
		}
		return c.gs.Vote(tok, req)
	case "autovote":
		if len(args) < 1 {
			return gsapi.ErrBadParameter
		}
		c.mu.Lock()
		c.autovote = args[0]
		c.mu.Unlock()
		c.printf("autovote %s", args[0])
	case "subscribe":
		if len(args) < 1 {
			return gsapi.ErrBadParameter
		}
		var ctl gsapi.SubscriptionControl
		for _, a := range args[1:] {
			switch a {
			case "state":
				ctl |= gsapi.SubscribeStateValue
			case "joins":
				ctl |= gsapi.SubscribeDeltaJoins
			case "leaves":
				ctl |= gsapi.SubscribeDeltaLeaves
			case "deltas":
				ctl |= gsapi.SubscribeDeltasOnly
			}
		}
		if ctl == 0 {
			ctl = gsapi.SubscribeStateValue | gsapi.SubscribeAllMembership
		}
		tok, err := c.gs.Subscribe(gsapi.SubscribeRequest{Group: args[0], Control: ctl, Callback: c.print})
		if err != nil {
			return err
		}
		c.printf("token %d %s", tok, args[0])
	case "unsubscribe":
		tok, err := token(args)
		if err != nil {
			return err
		}
		return c.gs.Unsubscribe(tok)
	default:
		return gsapi.ErrBadParameter
	}
	return nil
}

// options are the key=value words commands accept; any other word, even
// one holding "=", is a positional argument (a state value may be "a=b").
var options = map[string]bool{"phases": true, "limit": true, "batch": true, "default": true,
	"code": true, "dphase": true, "flag": true, "state": true, "msg": true,
	"source": true, "srcphases": true, "srclimit": true}

func splitArgs(f []string) ([]string, map[string]string) {
	var args []string
	kv := map[string]string{}
	for _, a := range f {
		if k, v, ok := strings.Cut(a, "="); ok && options[k] {
			kv[k] = v
		} else {
			args = append(args, a)
		}
	}
	return args, kv
}

func parsePhases(kv map[string]string) (gsapi.NumPhases, uint32) {
	phases := gsapi.OnePhase
	if kv["phases"] == "n" {
		phases = gsapi.NPhase
	}
	limit, _ := strconv.Atoi(kv["limit"])
	return phases, uint32(limit)
}

func parseVote(s string, def gsapi.Vote) gsapi.Vote {
	switch s {
	case "approve":
		return gsapi.VoteApprove
	case "continue":
		return gsapi.VoteContinue
	case "reject":
		return gsapi.VoteReject
	}
	return def
}

func parseBatch(s string) gsapi.BatchControl {
	switch s {
	case "joins":
		return gsapi.BatchJoins
	case "failures":
		return gsapi.BatchFailureLeaves
	case "both":
		return gsapi.BatchBoth
	}
	return gsapi.NoBatching
}

func token(args []string) (gsapi.Token, error) {
	if len(args) < 1 {
		return 0, gsapi.ErrBadParameter
	}
	n, err := strconv.Atoi(args[0])
	if err != nil {
		return 0, gsapi.ErrBadParameter
	}
	return gsapi.Token(n), nil
}

func parseProviders(s string) ([]gsapi.Provider, error) {
	var out []gsapi.Provider
	for _, p := range strings.Split(s, ",") {
		a, b, ok := strings.Cut(p, "@")
		inst, err1 := strconv.Atoi(a)
		node, err2 := strconv.Atoi(b)
		if !ok || err1 != nil || err2 != nil {
			return nil, gsapi.ErrBadParameter
		}
		out = append(out, gsapi.Provider{Instance: int32(inst), Node: int32(node)})
	}
	return out, nil
}

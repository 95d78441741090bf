package gsapi_test

import (
	"context"
	"errors"
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/openhags/hags/gsapi"
	"github.com/openhags/hags/gsapi/gsapitest"
)

// A provider joins a group, changes its state value and is watched by a
// subscriber, with Run delivering the notifications of each client.
func Example() {
	// An in-process daemon; a real program dials the node's hagsd instead.
	srv, err := gsapitest.Start()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	// 1. Dial (ha_gs_init). A real program passes no dialer:
	// gsapi.Dial(ctx) finds the socket through $HA_GS_SOCKET or the domain.
	provider, err := gsapi.Dial(ctx, srv.Option(), gsapi.WithProgram("example"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer provider.Close()

	// 2. Join with callbacks. They run inside Run, one at a time.
	approved := make(chan *gsapi.Notification)
	tok, err := provider.Join(gsapi.JoinRequest{
		Attributes: gsapi.Attributes{GroupName: "web", NumPhases: gsapi.OnePhase, DefaultVote: gsapi.VoteApprove},
		Instance:   1,
		Callbacks: gsapi.ProviderCallbacks{
			Approved: func(n *gsapi.Notification) { approved <- n },
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}

	// 3. Run dispatches until ctx ends.
	go provider.Run(ctx)
	n := <-approved
	fmt.Printf("joined %s: %d provider(s)\n", n.Group, len(n.Proposal.Current))

	// 4. Propose a new state value; a one-phase change is approved at once.
	err = provider.ChangeStateValue(tok, gsapi.StateChangeRequest{NumPhases: gsapi.OnePhase, State: []byte("primary=1")})
	if err != nil {
		fmt.Println(err)
		return
	}
	n = <-approved
	fmt.Printf("state is now %q\n", n.Proposal.CurrentState)

	// 5. Another client subscribes to the state value.
	watcher, err := gsapi.Dial(ctx, srv.Option())
	if err != nil {
		fmt.Println(err)
		return
	}
	defer watcher.Close()
	states := make(chan string)
	_, err = watcher.Subscribe(gsapi.SubscribeRequest{
		Group:    "web",
		Control:  gsapi.SubscribeStateValue,
		Callback: func(n *gsapi.Notification) { states <- string(n.State) },
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	go watcher.Run(ctx)
	fmt.Println("subscriber sees", <-states)

	// Output:
	// joined web: 1 provider(s)
	// state is now "primary=1"
	// subscriber sees primary=1
}

// A program with its own event loop polls Fd and dispatches without
// blocking; the descriptor is readable exactly when notifications wait.
func ExampleClient_Fd() {
	srv, err := gsapitest.Start()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()
	c, err := gsapi.Dial(context.Background(), srv.Option())
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()

	joined := false
	_, err = c.Join(gsapi.JoinRequest{
		Attributes: gsapi.Attributes{GroupName: "db", NumPhases: gsapi.OnePhase, DefaultVote: gsapi.VoteApprove},
		Callbacks: gsapi.ProviderCallbacks{
			Approved: func(n *gsapi.Notification) {
				joined = true
				fmt.Println("approved", n.Group)
			},
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}

	fds := []unix.PollFd{{Fd: int32(c.Fd()), Events: unix.POLLIN}}
	for !joined {
		// Other descriptors of the program would be polled here too.
		if _, err := unix.Poll(fds, -1); err != nil && !errors.Is(err, unix.EINTR) {
			fmt.Println(err)
			return
		}
		if err := c.Dispatch(gsapi.NonBlocking); err != nil {
			fmt.Println(err)
			return
		}
	}
	// Output:
	// approved db
}

// Errors carry a GSAPI return code and match its sentinel.
func ExampleCodeOf() {
	srv, err := gsapitest.Start()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()
	c, err := gsapi.Dial(context.Background(), srv.Option())
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()

	err = c.Vote(42, gsapi.VoteRequest{Vote: gsapi.VoteApprove})
	fmt.Println(errors.Is(err, gsapi.ErrBadMemberToken), gsapi.CodeOf(err))
	// Output:
	// true HA_GS_BAD_MEMBER_TOKEN
}

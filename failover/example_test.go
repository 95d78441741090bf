package failover_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/openhags/hags/failover"
)

// Moving a group, as MS-CMRP's example "Moving a Group" does it: open the
// group, read its owner, open the node it should move to, move it, and
// poll its state until it is no longer pending.
func Example() {
	ctx := context.Background()
	c, err := failover.Dial(ctx) // $HAGSRM_SOCKET, else /run/hags/<domain>/hagsrmd.sock
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	g, err := c.OpenGroup(ctx, "Application Group")
	if err != nil {
		log.Fatal(err) // ERROR_GROUP_NOT_FOUND if there is no such group
	}
	defer g.Close()
	info, err := g.State(ctx)
	if err != nil {
		log.Fatal(err)
	}
	if info.Owner == "NodeB" {
		return // already where it should be
	}

	nodeB, err := c.OpenNode(ctx, "NodeB")
	if err != nil {
		log.Fatal(err)
	}
	defer nodeB.Close()
	err = g.MoveTo(ctx, nodeB)
	switch {
	case errors.Is(err, failover.ErrIOPending):
		// The move goes on: poll until the group leaves ClusterGroupPending.
		for info.State = failover.GroupPending; info.State == failover.GroupPending; {
			time.Sleep(5 * time.Second)
			if info, err = g.State(ctx); err != nil {
				log.Fatal(err)
			}
		}
	case err != nil:
		log.Fatal(err) // e.g. ERROR_CLUSTER_NODE_PAUSED, ERROR_HOST_NODE_NOT_AVAILABLE
	}
	fmt.Println(info.Name, info.State, "on", info.Owner)
	// A group that ended ClusterGroupFailed is brought back to its
	// persistent state by the cluster's recovery.
}

// Waiting for a move instead of polling: Wait follows the group's changes
// and returns when it is neither Pending nor moving. With a deadline, it
// returns ERROR_TIMEOUT and the state at that moment; the move goes on.
func ExampleGroup_Wait() {
	ctx := context.Background()
	c, err := failover.Dial(ctx)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	g, err := c.OpenGroup(ctx, "Application Group")
	if err != nil {
		log.Fatal(err)
	}
	nodeB, err := c.OpenNode(ctx, "NodeB")
	if err != nil {
		log.Fatal(err)
	}
	if err := g.MoveTo(ctx, nodeB); err != nil && !errors.Is(err, failover.ErrIOPending) {
		log.Fatal(err)
	}
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	info, err := g.Wait(wctx)
	if errors.Is(err, failover.ErrTimeout) {
		fmt.Println("still", info.State, "after 30s")
		return
	}
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(info.State, "on", info.Owner)
}

// Creating the group of "Moving a Group": a Dummy OCF resource and an exec resource that
// depends on it, brought online together.
func ExampleClient_CreateResource() {
	ctx := context.Background()
	c, err := failover.Dial(ctx)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	g, err := c.CreateGroup(ctx, "Application Group", map[string]string{"preferred-owners": "NodeA,NodeB"})
	if err != nil {
		log.Fatal(err) // ERROR_OBJECT_ALREADY_EXISTS if it exists
	}
	if _, err := c.CreateResource(ctx, failover.ResourceSpec{
		Name: "db", Group: "Application Group", Agent: "ocf:heartbeat:Dummy",
	}); err != nil {
		log.Fatal(err)
	}
	web, err := c.CreateResource(ctx, failover.ResourceSpec{
		Name: "web", Group: "Application Group", Agent: "exec",
		Params: map[string]string{"command": "/usr/sbin/mini-httpd -D"},
		Props:  map[string]string{"restart-delay": "1s"},
	})
	if err != nil {
		log.Fatal(err)
	}
	if err := web.SetDependency(ctx, "[db]"); err != nil {
		log.Fatal(err)
	}
	if err := g.Online(ctx); err != nil && !errors.Is(err, failover.ErrIOPending) {
		log.Fatal(err)
	}
}

// Following every agreed change, the push alternative to polling.
func ExampleClient_Watch() {
	ctx := context.Background()
	c, err := failover.Dial(ctx)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	w, err := c.Watch(ctx)
	if err != nil {
		log.Fatal(err)
	}
	defer w.Close()
	for ch := range w.Changes() {
		switch {
		case ch.Group != nil:
			fmt.Println("group", ch.Group.Name, ch.Group.State, ch.Group.Sequence)
		case ch.Resource != nil:
			fmt.Println("resource", ch.Resource.Name, ch.Resource.State, ch.Resource.Sequence)
		case ch.Node != nil:
			fmt.Println("node", ch.Node.Name, ch.Node.State)
		}
	}
	if err := w.Err(); err != nil {
		log.Print(err) // ErrWatchEnded: read the state again and watch anew
	}
}

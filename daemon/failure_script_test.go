package daemon

import (
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhags/hags/daemon/protocol"
	"github.com/openhags/hags/internal/wire"
)

// TestRealEngineDeactivateOnFailure: a provider whose connection drops has
// its deactivate script run with reason failure, and the failure leave
// reaches the survivors without waiting for the script.
func TestRealEngineDeactivateOnFailure(t *testing.T) {
	r := &heldRunner{runs: make(chan *protocol.ScriptRun, 4)}
	tn := startNode(t, Config{Node: 1, Scripts: r}, protocol.New())

	a := dialRaw(t, tn.socket)
	a.send(wire.MsgHello, &wire.Hello{Pid: int32(os.Getpid()), Program: "test", DeactivateScript: "/opt/deact"})
	var w wire.Welcome
	a.read(wire.MsgWelcome, &w)
	a.send(wire.MsgRequest, joinReq(1, 1))
	require.Equal(t, wire.ApprovedNotification, a.notification().Type, "the creator is approved")

	b := dialRaw(t, tn.socket)
	b.hello(false)
	b.send(wire.MsgRequest, joinReq(1, 2))
	a.notification()
	require.Equal(t, wire.ApprovedNotification, b.notification().Type, "the second provider is approved")

	a.conn.Close() // the process "dies"
	n := b.notification()
	assert.Equal(t, wire.FailureLeaveProtocol, n.Protocol, "the survivor sees the failure leave while the script still runs")
	select {
	case run := <-r.runs:
		assert.Equal(t, protocol.ScriptFailure, run.Reason, "the script runs because the provider failed")
		assert.Equal(t, "/opt/deact", run.Path, "the dead client's own script runs")
		assert.Equal(t, "svc", run.Group, "for the group it provided in")
		assert.Equal(t, wire.Provider{Instance: 1, Node: 1}, run.Provider, "for the dead provider")
		assert.Nil(t, run.Flag, "a failure run has no flag")
		r.finish(run)
	case <-time.After(waitBudget):
		t.Fatal("the deactivate script must be asked to run when a provider's process dies")
	}
	// The outcome changes nothing for the group: the survivor can go on.
	b.send(wire.MsgRequest, &wire.Request{Op: wire.OpChangeState, Token: 1, NumPhases: wire.OnePhase, State: []byte("x")})
	n = b.notification()
	assert.Equal(t, wire.StateValueChangeProtocol, n.Protocol, "the group carries on after the script's outcome")
	assert.Equal(t, []wire.Provider{{Instance: 2, Node: 1}}, n.Proposal.Current, "the dead provider is gone")
	select {
	case run := <-r.runs:
		t.Fatalf("exactly one script run per failure, got another: %+v", run)
	default:
	}
}

// heldRunner records runs and reports them only when the test says so.
type heldRunner struct {
	runs chan *protocol.ScriptRun
	done func(protocol.ScriptResult)
}

func (h *heldRunner) Run(run *protocol.ScriptRun, done func(protocol.ScriptResult)) {
	h.done = done
	h.runs <- run
}

func (h *heldRunner) finish(run *protocol.ScriptRun) {
	h.done(protocol.ScriptResult{ID: run.ID, Result: wire.DeactivateFailed})
}

package mgmt

import (
	"context"
	"strings"

	"github.com/openhags/hags/failover"
	"github.com/openhags/hags/failover/engine"
	"github.com/openhags/hags/failover/internal/mgmtwire"
)

// mutation says how a mutating operation becomes an engine.Request: its
// engine operation and the kind of handle it addresses (0: none).
type mutation struct {
	op   engine.Op
	kind mgmtwire.Kind
}

var mutations = map[mgmtwire.Op]mutation{
	mgmtwire.OpCreateGroup:         {engine.OpCreateGroup, 0},
	mgmtwire.OpDeleteGroup:         {engine.OpDeleteGroup, mgmtwire.KindGroup},
	mgmtwire.OpCreateResource:      {engine.OpCreateResource, 0},
	mgmtwire.OpDeleteResource:      {engine.OpDeleteResource, mgmtwire.KindResource},
	mgmtwire.OpOnlineResource:      {engine.OpOnlineResource, mgmtwire.KindResource},
	mgmtwire.OpOfflineResource:     {engine.OpOfflineResource, mgmtwire.KindResource},
	mgmtwire.OpFailResource:        {engine.OpFailResource, mgmtwire.KindResource},
	mgmtwire.OpOnlineGroup:         {engine.OpOnlineGroup, mgmtwire.KindGroup},
	mgmtwire.OpOfflineGroup:        {engine.OpOfflineGroup, mgmtwire.KindGroup},
	mgmtwire.OpMoveGroup:           {engine.OpMoveGroup, mgmtwire.KindGroup},
	mgmtwire.OpPauseNode:           {engine.OpPauseNode, mgmtwire.KindNode},
	mgmtwire.OpResumeNode:          {engine.OpResumeNode, mgmtwire.KindNode},
	mgmtwire.OpSetGroupOwners:      {engine.OpSetGroupOwners, mgmtwire.KindGroup},
	mgmtwire.OpAddResourceOwner:    {engine.OpAddResourceOwner, mgmtwire.KindResource},
	mgmtwire.OpRemoveResourceOwner: {engine.OpRemoveResourceOwner, mgmtwire.KindResource},
	mgmtwire.OpSetDependency:       {engine.OpSetDependency, mgmtwire.KindResource},
	mgmtwire.OpLockResource:        {engine.OpLockResource, mgmtwire.KindResource},
	mgmtwire.OpUnlockResource:      {engine.OpUnlockResource, mgmtwire.KindResource},
	mgmtwire.OpCleanupResource:     {engine.OpCleanupResource, mgmtwire.KindResource},
	mgmtwire.OpSetResourceProps:    {engine.OpSetResourceProps, mgmtwire.KindResource},
	mgmtwire.OpSetGroupProps:       {engine.OpSetGroupProps, mgmtwire.KindGroup},
	mgmtwire.OpSetResourceParams:   {engine.OpSetResourceParams, mgmtwire.KindResource},
	mgmtwire.OpSetNodeFence:        {engine.OpSetNodeFence, mgmtwire.KindNode},
	mgmtwire.OpApplyConfig:         {engine.OpApplyConfig, 0},
	mgmtwire.OpConfirmFenced:       {engine.OpConfirmFenced, mgmtwire.KindNode},
}

// MaxFenceCommand bounds a fence command's length, in bytes.
const MaxFenceCommand = 4096

// submit checks a mutating request, turns it into an engine.Request and
// hands it to the Backend.
func (c *conn) submit(ctx context.Context, req *mgmtwire.Request) result {
	m, ok := mutations[req.Op]
	if !ok {
		return coded(failover.CodeInvalidParameter, "there is no operation %d", req.Op)
	}
	er := engine.Request{Op: m.op}
	if m.kind != 0 {
		h, bad := c.lookup(req.Handle, m.kind)
		if bad != nil {
			return *bad
		}
		switch m.kind {
		case mgmtwire.KindGroup:
			er.Group, er.Handle = h.name, h.uid
		case mgmtwire.KindResource:
			er.Resource, er.Handle = h.name, h.uid
		case mgmtwire.KindNode:
			er.Node = h.name
		}
	}
	if bad := c.fill(&er, req); bad != nil {
		return *bad
	}
	code, msg, err := c.s.cfg.Backend.Submit(ctx, c.caller, er)
	if err != nil {
		c.log.Warn("management request's outcome unknown", "op", req.Op, "err", err)
		return result{fault: err.Error()}
	}
	res := result{code: code, msg: msg}
	if code == failover.CodeSuccess {
		switch req.Op {
		case mgmtwire.OpCreateGroup:
			return c.opened(c.open(ctx, mgmtwire.OpOpenGroup, req.Name), failover.CodeGroupNotAvailable)
		case mgmtwire.OpCreateResource:
			return c.opened(c.open(ctx, mgmtwire.OpOpenResource, req.Name), failover.CodeResourceNotAvailable)
		}
	}
	return res
}

// opened is the answer to a create: the handle on the new object, or,
// when it went again before it could be opened, code.
func (c *conn) opened(r result, code failover.Code) result {
	if r.fault == "" && r.code != failover.CodeSuccess {
		return coded(code, "created, and deleted again before a handle could be opened (%s)", r.msg)
	}
	return r
}

// fill copies and checks the fields the operation reads.
func (c *conn) fill(er *engine.Request, req *mgmtwire.Request) *result {
	fail := func(r result) *result { return &r }
	invalid := func(format string, args ...any) *result {
		return fail(coded(failover.CodeInvalidParameter, format, args...))
	}
	node := func() (string, *result) {
		h, bad := c.lookup(req.NodeHandle, mgmtwire.KindNode)
		return h.name, bad
	}
	switch req.Op {
	case mgmtwire.OpCreateGroup:
		if err := failover.CheckName(req.Name); err != nil {
			return fail(fromErr(err))
		}
		p := failover.DefaultGroupProperties()
		for _, k := range failover.SortedKeys(req.Props) {
			if err := p.Set(k, req.Props[k]); err != nil {
				return fail(fromErr(err))
			}
		}
		er.Group, er.Props = req.Name, req.Props
	case mgmtwire.OpCreateResource:
		if err := failover.CheckName(req.Name); err != nil {
			return fail(fromErr(err))
		}
		if err := failover.CheckName(req.Group); err != nil {
			return fail(fromErr(err))
		}
		if _, err := failover.ParseAgent(req.Agent); err != nil {
			return invalid("%v", err) // malformed; an agent that is well named but missing is the manager's to find
		}
		if bad := checkParams(req.Params); bad != nil {
			return bad
		}
		p := failover.DefaultResourceProperties()
		for _, k := range failover.SortedKeys(req.Props) {
			if err := p.Set(k, req.Props[k]); err != nil {
				return fail(fromErr(err))
			}
		}
		er.Resource, er.Group, er.Agent, er.Params, er.Props = req.Name, req.Group, req.Agent, req.Params, req.Props
	case mgmtwire.OpOnlineResource, mgmtwire.OpOfflineResource, mgmtwire.OpOnlineGroup, mgmtwire.OpOfflineGroup:
		er.IgnoreLocked = req.IgnoreLocked
	case mgmtwire.OpMoveGroup:
		er.IgnoreLocked = req.IgnoreLocked
		if req.NodeHandle != 0 {
			name, bad := node()
			if bad != nil {
				return bad
			}
			er.Node = name
		}
	case mgmtwire.OpPauseNode:
		er.Drain = req.Drain
	case mgmtwire.OpSetGroupOwners:
		er.Nodes = req.Nodes // which nodes exist, and a node named twice, the engine judges
	case mgmtwire.OpAddResourceOwner, mgmtwire.OpRemoveResourceOwner:
		name, bad := node()
		if bad != nil {
			return bad
		}
		er.Node = name
	case mgmtwire.OpSetDependency:
		if _, err := failover.ParseDependency(req.Expr); err != nil {
			return fail(fromErr(err))
		}
		er.Expr = req.Expr
	case mgmtwire.OpSetResourceProps:
		if len(req.Props) == 0 {
			return invalid("no property to set")
		}
		p := failover.DefaultResourceProperties()
		for _, k := range failover.SortedKeys(req.Props) {
			if err := p.Set(k, req.Props[k]); err != nil {
				return fail(fromErr(err))
			}
		}
		er.Props = req.Props
	case mgmtwire.OpSetGroupProps:
		if len(req.Props) == 0 {
			return invalid("no property to set")
		}
		p := failover.DefaultGroupProperties()
		for _, k := range failover.SortedKeys(req.Props) {
			if err := p.Set(k, req.Props[k]); err != nil {
				return fail(fromErr(err))
			}
		}
		er.Props = req.Props
	case mgmtwire.OpSetResourceParams:
		if bad := checkParams(req.Params); bad != nil {
			return bad
		}
		er.Params = req.Params
		if er.Params == nil {
			er.Params = map[string]string{}
		}
	case mgmtwire.OpSetNodeFence:
		if len(req.Expr) > MaxFenceCommand || strings.ContainsRune(req.Expr, 0) {
			return invalid("a fence command is at most %d bytes without a NUL byte", MaxFenceCommand)
		}
		er.Expr = req.Expr
	case mgmtwire.OpApplyConfig:
		var cfg failover.Config
		if err := mgmtwire.DecodeBody(req.Config, &cfg); err != nil {
			return invalid("the configuration does not decode: %v", err)
		}
		if err := cfg.Check(); err != nil {
			return fail(fromErr(err))
		}
		er.Config = &cfg
	}
	return nil
}

func checkParams(params map[string]string) *result {
	for _, k := range failover.SortedKeys(params) {
		if err := failover.CheckParam(k, params[k]); err != nil {
			r := fromErr(err)
			return &r
		}
	}
	return nil
}

package engine

import (
	"cmp"
	"slices"

	"github.com/openhags/hags/failover"
)

// Dependencies (contract §7). A resource's dependency is an AND of sets;
// a set of one is a simple dependency, a set of several a complex one
// that at least one member satisfies. All operands are resources of the
// same group, the graph has no cycle and no chain longer than
// MaxDependencyDepth links.

// dependents returns the resources of r's group whose dependency names r,
// by name.
func (e *Engine) dependents(r *resource) []*resource {
	g := e.groups[r.group]
	if g == nil {
		return nil
	}
	var out []*resource
	for _, d := range e.groupResources(g) {
		if slices.Contains(d.dep.Providers(), r.name) {
			out = append(out, d)
		}
	}
	return out
}

// order returns g's resources in dependency order: providers before their
// dependents (by depth, the longest chain of providers below each), then
// by name. It is cached until the group's resources or dependencies
// change.
func (e *Engine) order(g *group) []*resource {
	if g.order == nil {
		deps := map[string]failover.Dependency{}
		for _, r := range e.groupResources(g) {
			deps[r.name] = r.dep
		}
		depth, _ := depthOf(deps)
		names := slices.Clone(g.resources)
		slices.SortFunc(names, func(a, b string) int {
			return cmp.Or(cmp.Compare(depth[a], depth[b]), cmp.Compare(a, b))
		})
		g.order = names
	}
	out := make([]*resource, 0, len(g.order))
	for _, name := range g.order {
		if r := e.resources[name]; r != nil {
			out = append(out, r)
		}
	}
	return out
}

// checkDependencies checks g's dependency graph with some resources'
// dependencies replaced: every operand a resource of the graph, no cycle,
// no chain deeper than MaxDependencyDepth.
func (e *Engine) checkDependencies(g *group, replace map[string]failover.Dependency) error {
	deps := map[string]failover.Dependency{}
	for _, r := range e.groupResources(g) {
		deps[r.name] = r.dep
	}
	for name, d := range replace {
		deps[name] = d
	}
	return checkGraph(deps)
}

// checkGraph checks a whole dependency graph (resource → dependency).
func checkGraph(deps map[string]failover.Dependency) error {
	for _, name := range sortedKeys(deps) {
		for _, p := range deps[name].Providers() {
			if _, ok := deps[p]; !ok {
				return failover.Errorf(failover.CodeDependencyNotFound, "resource %s depends on [%s], which is not a resource of its group", name, p)
			}
		}
	}
	depth, cyc := depthOf(deps)
	if cyc != "" {
		return failover.Errorf(failover.CodeCircularDependency, "resource %s depends on itself through its providers", cyc)
	}
	for _, name := range sortedKeys(depth) {
		if depth[name] > MaxDependencyDepth {
			return failover.Errorf(failover.CodeDependencyTreeTooComplex, "the chain of providers below resource %s is %d deep; at most %d is allowed", name, depth[name], MaxDependencyDepth)
		}
	}
	return nil
}

// depthOf returns each resource's depth (0 with no providers, else one
// more than its deepest provider) and, when the graph has a cycle, a
// resource on it. Operands missing from deps count as depth 0.
func depthOf(deps map[string]failover.Dependency) (map[string]int, string) {
	const (
		unseen = iota
		active
		done
	)
	color := make(map[string]int, len(deps))
	depth := make(map[string]int, len(deps))
	cycle := ""
	// visit is iterative: chains may be long in graphs still to be judged.
	type frame struct {
		name  string
		provs []string
		i     int
	}
	for _, root := range sortedKeys(deps) {
		if color[root] != unseen {
			continue
		}
		stack := []frame{{name: root, provs: deps[root].Providers()}}
		color[root] = active
		for len(stack) > 0 {
			f := &stack[len(stack)-1]
			if f.i < len(f.provs) {
				p := f.provs[f.i]
				f.i++
				if _, ok := deps[p]; !ok {
					continue
				}
				switch color[p] {
				case active:
					if cycle == "" {
						cycle = p
					}
				case unseen:
					color[p] = active
					stack = append(stack, frame{name: p, provs: deps[p].Providers()})
				}
				continue
			}
			d := 0
			for _, p := range f.provs {
				if _, ok := deps[p]; ok {
					d = max(d, depth[p]+1)
				}
			}
			depth[f.name] = d
			color[f.name] = done
			stack = stack[:len(stack)-1]
		}
	}
	return depth, cycle
}

// satisfied reports whether every set of r's dependency has a member for
// which ok holds.
func (e *Engine) satisfied(r *resource, ok func(p *resource) bool) bool {
	for _, set := range r.dep.Sets {
		if !e.anyOf(set, ok) {
			return false
		}
	}
	return true
}

// anyOf reports whether ok holds for some existing resource named in set.
func (e *Engine) anyOf(set []string, ok func(p *resource) bool) bool {
	for _, name := range set {
		if p := e.resources[name]; p != nil && ok(p) {
			return true
		}
	}
	return false
}

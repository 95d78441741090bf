package engine

import "slices"

// KnownNodes lists the nodes whose managers have ever been members of the
// cluster, in order: the nodes a quorum is a majority of.
func (e *Engine) KnownNodes() []NodeID {
	var out []NodeID
	for id, n := range e.nodes {
		if n.known {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

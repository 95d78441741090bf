package daemon

import (
	"fmt"
	"net"

	"github.com/openhags/hags/internal/wire"
)

// newFFDC returns a fresh First Failure Data Capture id. The daemon logs
// every failure it reports to a client under such an id (key "ffdc_id") and
// sends the id along, so that ha_gs_get_ffdc_id in the client names the
// daemon's log line. Ids are unique per daemon incarnation and fit in
// fc_eid_t: "hags-<node>-<incarnation hex>-<sequence>".
func (n *Node) newFFDC() string {
	id := fmt.Sprintf("hags-%d-%x-%d", n.cfg.Node, n.cfg.Incarnation, n.ffdcSeq.Add(1))
	if len(id) > wire.MaxFFDCLength {
		id = id[:wire.MaxFFDCLength]
	}
	return id
}

// localAdapters lists this node's interface addresses, the node table that
// Welcome hands to clients for ha_gs_get_adapter_info. Loopback addresses
// are included: on a one-node domain they are as much the node's as any.
func localAdapters(node int32) []wire.Adapter {
	ifs, err := net.Interfaces()
	if err != nil {
		return nil
	}
	var out []wire.Adapter
	for _, ifc := range ifs {
		addrs, err := ifc.Addrs()
		if err != nil {
			continue
		}
		for _, a := range addrs {
			ipn, ok := a.(*net.IPNet)
			if !ok {
				continue
			}
			ip := ipn.IP
			if v4 := ip.To4(); v4 != nil {
				ip = v4
			}
			out = append(out, wire.Adapter{Node: node, Interface: ifc.Name, Addr: append([]byte(nil), ip...)})
		}
	}
	return out
}

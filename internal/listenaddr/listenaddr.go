// Package listenaddr judges the HOST:PORT addresses the daemons' optional
// HTTP servers listen on (metrics, the web console, profiles): each is
// loopback-only unless the operator says otherwise, and all three decide
// "loopback" the same way.
package listenaddr

import (
	"errors"
	"fmt"
	"net"
	"strings"
)

// ErrBadAddress: not HOST:PORT with a valid port.
var ErrBadAddress = errors.New("listenaddr: want HOST:PORT")

// Parse splits addr into host and port, checks the port, and reports
// whether the host is this machine only: a loopback IP address, or
// "localhost" when names are accepted (names=false takes IP addresses
// only, so that nothing is resolved).
func Parse(addr string, names bool) (host, port string, loopback bool, err error) {
	host, port, err = net.SplitHostPort(addr)
	if err != nil {
		return "", "", false, fmt.Errorf("%w: %q: %v", ErrBadAddress, addr, err)
	}
	if _, perr := net.LookupPort("tcp", port); perr != nil || port == "" {
		return "", "", false, fmt.Errorf("%w: %q: bad port %q", ErrBadAddress, addr, port)
	}
	if ip := net.ParseIP(host); ip != nil {
		return host, port, ip.IsLoopback(), nil
	}
	return host, port, names && strings.EqualFold(host, "localhost"), nil
}

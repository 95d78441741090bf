package wire

import "path/filepath"

// Where a client finds its domain's daemon, and the names clients and the
// daemon share. Each is defined here once: the daemon serves the socket,
// gsapi (and libha_gs through it) dials it, hagsrmd puts its own socket
// beside it, and include/ha_gs.h publishes the same strings.
const (
	// DomainEnv is the environment variable naming the domain
	// (HA_GS_DOMAIN_ENV).
	DomainEnv = "HA_DOMAIN_NAME"
	// SocketEnv is the environment variable holding the daemon's socket
	// path, which overrides the domain's default (HA_GS_SOCKET_ENV).
	SocketEnv = "HA_GS_SOCKET"
	// DefaultDomain is the domain when none is named.
	DefaultDomain = "hags"
	// SocketDir holds one directory per domain, and in it the sockets of
	// that domain's daemons on this node.
	SocketDir = "/run/hags"
	// HostMembershipGroup is the daemon's system group of nodes
	// (HA_GS_HOST_MEMBERSHIP_GROUP): anyone may subscribe to it, nobody may
	// join it.
	HostMembershipGroup = "HostMembership"
)

// DomainDir returns the directory of domain's sockets: SocketDir/<domain>,
// with DefaultDomain for the empty name.
func DomainDir(domain string) string {
	if domain == "" {
		domain = DefaultDomain
	}
	return filepath.Join(SocketDir, domain)
}

// SocketPath returns the socket domain's daemon serves when none is
// configured: SocketDir/<domain>/hagsd.sock, with DefaultDomain for the
// empty name.
func SocketPath(domain string) string { return filepath.Join(DomainDir(domain), "hagsd.sock") }

package wire

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestSocketPath(t *testing.T) {
	assert.Equal(t, "/run/hags/hags/hagsd.sock", SocketPath(""), "the empty name is the default domain")
	assert.Equal(t, "/run/hags/prod/hagsd.sock", SocketPath("prod"), "a domain's daemon serves a socket in the domain's directory")
	assert.Equal(t, "/run/hags/prod", DomainDir("prod"), "hagsrmd puts its socket in the same directory")
}

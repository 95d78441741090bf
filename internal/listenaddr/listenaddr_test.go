package listenaddr

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParse(t *testing.T) {
	for _, c := range []struct {
		addr           string
		names, ok, lbk bool
	}{
		{"127.0.0.1:80", false, true, true},
		{"[::1]:9100", false, true, true},
		{"localhost:80", true, true, true},
		{"localhost:80", false, true, false},
		{"0.0.0.0:80", true, true, false},
		{":80", true, true, false},
		{"192.0.2.7:80", true, true, false},
		{"127.0.0.1", true, false, false},
		{"127.0.0.1:port", true, false, false},
		{"127.0.0.1:", true, false, false},
	} {
		_, _, lbk, err := Parse(c.addr, c.names)
		if !c.ok {
			assert.ErrorIs(t, err, ErrBadAddress, "%q is refused", c.addr)
			continue
		}
		require.NoError(t, err, "%q parses", c.addr)
		assert.Equal(t, c.lbk, lbk, "%q (names %v) is loopback: %v", c.addr, c.names, c.lbk)
	}
}

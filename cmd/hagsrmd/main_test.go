package main

import (
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPprofIsOffByDefault(t *testing.T) {
	o, err := parse([]string{"--state-dir", "/tmp/x"}, io.Discard)
	require.NoError(t, err)
	assert.Empty(t, o.pprof, "no profiles are served unless --pprof is given")
}

func TestPprofTakesLoopbackOnly(t *testing.T) {
	for _, addr := range []string{"127.0.0.1:6061", "[::1]:6061"} {
		o, err := parse([]string{"--state-dir", "/tmp/x", "--pprof", addr}, io.Discard)
		require.NoError(t, err, "%s is a loopback address", addr)
		assert.Equal(t, addr, o.pprof)
	}
	for _, addr := range []string{"0.0.0.0:6061", ":6061", "192.0.2.1:6061", "localhost:6061", "127.0.0.1"} {
		_, err := parse([]string{"--state-dir", "/tmp/x", "--pprof", addr}, io.Discard)
		assert.Error(t, err, "--pprof %q is refused: only a loopback IP address and port", addr)
	}
}

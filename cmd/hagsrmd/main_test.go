package main

import (
	"bytes"
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestHTTPFlag: the web console listens on loopback unless another
// address is allowed explicitly; a refused address is a usage error
// before anything starts.
func TestHTTPFlag(t *testing.T) {
	for _, c := range []struct {
		args []string
		ok   bool
	}{
		{[]string{"--http", "127.0.0.1:8440"}, true},
		{[]string{"--http", "[::1]:8440"}, true},
		{[]string{"--http", "localhost:0"}, true},
		{[]string{"--http", ":8440"}, false},
		{[]string{"--http", "0.0.0.0:8440"}, false},
		{[]string{"--http", "192.0.2.7:8440"}, false},
		{[]string{"--http", "192.0.2.7:8440", "--http-allow-remote"}, true},
		{[]string{"--http", "127.0.0.1"}, false},
		{[]string{"--http-allow-remote"}, false},
	} {
		o, err := parse(c.args, &bytes.Buffer{})
		if !c.ok {
			assert.Error(t, err, "%v is refused", c.args)
			continue
		}
		require.NoError(t, err, "%v", c.args)
		assert.Equal(t, c.args[1], o.http)
	}
	var stderr bytes.Buffer
	assert.Equal(t, 2, run([]string{"--http", "0.0.0.0:8440"}, &stderr), "a non-loopback console without the second flag is a usage error")
	assert.Contains(t, stderr.String(), "--http-allow-remote", "and the message names the flag that allows it")
}

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

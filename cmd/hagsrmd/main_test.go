package main

import (
	"bytes"
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

package logflag

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNew(t *testing.T) {
	var b bytes.Buffer
	log, err := New("warn", "json", &b)
	require.NoError(t, err)
	log.Info("hidden")
	log.Warn("shown", "k", 1)
	assert.NotContains(t, b.String(), "hidden", "below the level nothing is written")
	assert.Contains(t, b.String(), `"msg":"shown"`, "json format writes JSON")

	_, err = New("loud", "text", &b)
	assert.ErrorContains(t, err, "--log-level", "an unknown level names the flag")
	_, err = New("info", "xml", &b)
	assert.ErrorContains(t, err, "--log-format", "an unknown format names the flag")
}

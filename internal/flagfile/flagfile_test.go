package flagfile

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func write(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "x.conf")
	require.NoError(t, os.WriteFile(p, []byte(text), 0o644))
	return p
}

func TestExpandPutsTheFileFirst(t *testing.T) {
	p := write(t, "# comment\n\ndomain = prod\nnode 2\n  data-dir=/srv/hags  \nmetrics-addr 127.0.0.1:9464\ninsecure\n")
	got, err := Expand([]string{"--log-level", "debug", "--config", p, "--node", "3"})
	require.NoError(t, err)
	assert.Equal(t, []string{"--domain=prod", "--node=2", "--data-dir=/srv/hags", "--metrics-addr=127.0.0.1:9464", "--insecure=",
		"--log-level", "debug", "--config", p, "--node", "3"}, got,
		"the file's settings come first, so that the command line's win")
	got, err = Expand([]string{"-config=" + p})
	require.NoError(t, err)
	assert.Equal(t, "--domain=prod", got[0], "-config=FILE works too")
	got, err = Expand([]string{"--node", "1", "--", "--config", p})
	require.NoError(t, err)
	assert.Equal(t, []string{"--node", "1", "--", "--config", p}, got, "nothing after -- is a flag")
}

func TestExpandRefusesWhatItCannotRead(t *testing.T) {
	_, err := Expand([]string{"--config"})
	assert.ErrorContains(t, err, "--config needs a file name")
	_, err = Expand([]string{"--config", filepath.Join(t.TempDir(), "missing.conf")})
	assert.ErrorIs(t, err, os.ErrNotExist)
	p := write(t, "node 1\nconfig /etc/other.conf\n")
	_, err = Expand([]string{"--config", p})
	assert.ErrorIs(t, err, ErrNested)
	assert.ErrorContains(t, err, ":2:", "the error names the line")
}

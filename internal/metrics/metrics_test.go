package metrics

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCheckAddrRefusesWhatIsNotLoopback(t *testing.T) {
	for _, ok := range []string{"127.0.0.1:9464", "127.3.4.5:1", "[::1]:9464", "localhost:9464", "127.0.0.1:0"} {
		assert.NoError(t, CheckAddr(ok, false), "%s is loopback and is accepted", ok)
	}
	for _, bad := range []string{":9464", "0.0.0.0:9464", "[::]:9464", "10.0.0.1:9464", "example.org:9464", "node1:9464"} {
		assert.ErrorIs(t, CheckAddr(bad, false), ErrNotLocal, "%s is not loopback and is refused", bad)
		assert.NoError(t, CheckAddr(bad, true), "%s is accepted with allowRemote", bad)
	}
	for _, bad := range []string{"127.0.0.1", "127.0.0.1:", "127.0.0.1:port-that-is-no-port", "127.0.0.1:99999", "[::1"} {
		assert.ErrorIs(t, CheckAddr(bad, true), ErrBadAddr, "%q is not host:port and is refused even with allowRemote", bad)
	}
	assert.ErrorIs(t, CheckAddr("", true), ErrNoAddress)
}

func TestFlagsCheck(t *testing.T) {
	assert.NoError(t, (&Flags{}).Check(), "no address: no metrics, no error")
	assert.ErrorContains(t, (&Flags{AllowRemote: true}).Check(), "--metrics-allow-remote needs --metrics-addr")
	err := (&Flags{Addr: "0.0.0.0:9464"}).Check()
	assert.ErrorIs(t, err, ErrNotLocal)
	assert.ErrorContains(t, err, "--metrics-addr 0.0.0.0:9464", "the error names the flag and its value")
	assert.NoError(t, (&Flags{Addr: "0.0.0.0:9464", AllowRemote: true}).Check())
}

// TestServeServesTheRegistryOnly: what is registered in the registry is
// served in the text format, with the build info, and nothing registered
// in Prometheus's global default registry leaks in.
func TestServeServesTheRegistryOnly(t *testing.T) {
	reg := NewRegistry("v-test")
	c := prometheus.NewCounter(prometheus.CounterOpts{Namespace: Namespace, Name: "test_things_total", Help: "Things."})
	reg.MustRegister(c)
	c.Add(3)
	global := prometheus.NewCounter(prometheus.CounterOpts{Name: "global_only_total", Help: "Registered globally."})
	prometheus.MustRegister(global)
	t.Cleanup(func() { prometheus.Unregister(global) })

	_, err := Listen("0.0.0.0:0", false, reg, slog.New(slog.DiscardHandler))
	assert.ErrorIs(t, err, ErrNotLocal, "Listen checks the address too")
	s, err := Listen("127.0.0.1:0", false, reg, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx) }()

	resp, err := http.Get("http://" + s.Addr().String() + Path)
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, resp.Header.Get("Content-Type"), "text/plain", "the text format unless asked otherwise")
	text := string(body)
	assert.Contains(t, text, "hags_test_things_total 3\n", "the registry's own metric")
	assert.Contains(t, text, `hags_build_info{version="v-test"} 1`+"\n")
	assert.Contains(t, text, "go_goroutines ", "the Go runtime's collector")
	assert.Contains(t, text, "process_start_time_seconds ", "the process collector")
	assert.NotContains(t, text, "global_only_total", "the global registry is not served")

	resp, err = http.Get("http://" + s.Addr().String() + "/")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusNotFound, resp.StatusCode, "only %s is served", Path)

	cancel()
	require.NoError(t, <-served, "Serve returns nil once its context ends")
	_, err = http.Get("http://" + s.Addr().String() + Path)
	assert.Error(t, err, "the listener is closed after Serve returns")
	assert.False(t, strings.Contains(text, "\n\n"), "no empty lines in the exposition")
}

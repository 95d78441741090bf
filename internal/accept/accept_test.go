package accept

import (
	"bytes"
	"errors"
	"log/slog"
	"net"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// script is a listener whose Accept answers from a list: an error, or a
// connection when the entry is nil. Past the list it blocks until closed.
type script struct {
	mu      sync.Mutex
	errs    []error
	calls   int
	conn    net.Conn
	closed  chan struct{}
	onError func() // called after each scripted error
}

func (s *script) Accept() (net.Conn, error) {
	s.mu.Lock()
	if s.calls < len(s.errs) {
		err := s.errs[s.calls]
		s.calls++
		s.mu.Unlock()
		if err == nil {
			return s.conn, nil
		}
		if s.onError != nil {
			s.onError()
		}
		return nil, err
	}
	s.mu.Unlock()
	<-s.closed
	return nil, net.ErrClosed
}
func (s *script) Close() error   { return nil }
func (s *script) Addr() net.Addr { return &net.UnixAddr{Name: "script"} }

var errPasses = errors.New("too many open files")

// TestNextRidesOutErrorsThatPass: errors other than a closed listener are
// logged and retried until a connection comes.
func TestNextRidesOutErrorsThatPass(t *testing.T) {
	c, _ := net.Pipe()
	ln := &script{errs: []error{errPasses, errPasses, nil}, conn: c, closed: make(chan struct{})}
	var logs bytes.Buffer
	got, err := Next(ln, make(chan struct{}), slog.New(slog.NewTextHandler(&logs, nil)))
	require.NoError(t, err, "the errors pass")
	assert.Equal(t, c, got, "the connection after them is returned")
	assert.Equal(t, 2, bytes.Count(logs.Bytes(), []byte("accept failed; retrying")), "each error is logged")
}

// TestNextStops: a closed done ends Next with ErrStopped, whether Accept
// failed because of it or Next was pausing; a listener closed otherwise
// ends it with Accept's error.
func TestNextStops(t *testing.T) {
	quiet := slog.New(slog.DiscardHandler)

	done := make(chan struct{})
	close(done)
	_, err := Next(&script{errs: []error{net.ErrClosed}, closed: make(chan struct{})}, done, quiet)
	assert.ErrorIs(t, err, ErrStopped, "a listener closed by the owner's Close is a stop")

	_, err = Next(&script{errs: []error{net.ErrClosed}, closed: make(chan struct{})}, make(chan struct{}), quiet)
	assert.ErrorIs(t, err, net.ErrClosed, "a listener closed by anybody else is an error")

	pausing := make(chan struct{})
	ln := &script{errs: []error{errPasses}, closed: make(chan struct{}), onError: func() { close(pausing) }}
	stop := make(chan struct{})
	res := make(chan error, 1)
	go func() {
		_, err := Next(ln, stop, quiet)
		res <- err
	}()
	<-pausing
	close(stop)
	close(ln.closed) // should the pause end first: the owner closes its listener after done
	assert.ErrorIs(t, <-res, ErrStopped, "a pause after an error ends when done closes")
}

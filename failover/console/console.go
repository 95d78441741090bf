// Package console is hagsrmd's web console: one page that shows the
// cluster's nodes, groups and resources live, a timeline of the last
// hour's changes, and buttons for the operations an operator needs most
// (docs/console.md).
//
// The Server serves HTTP over a Backend, the failover manager (or, in
// tests, a fake). It keeps the state the page shows and the timeline in
// memory, fed by one subscription to the Backend's change stream (the
// stream hagsrm watch reads), and pushes every change to each open page
// as a server-sent event. Actions are plain requests to the Backend, which
// judges them as it judges the management socket's.
//
// Access: reading needs the token unless Config.OpenReads (the console
// listens on loopback); acting needs the token in the X-Hags-Token header
// of the request, never a cookie (no cookie is ever set), so another site
// cannot make a browser act.
package console

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/openhags/hags/internal/listenaddr"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/openhags/hags/failover"
	"github.com/openhags/hags/failover/engine"
)

// Bounds and defaults.
const (
	// DefaultHistory is how far back the timeline reaches.
	DefaultHistory = time.Hour
	// DefaultMaxEntries bounds the timeline whatever its age.
	DefaultMaxEntries = 10000
	// MaxStreams bounds the pages following the cluster at once; past it
	// a new one gets 503 and its browser tries again.
	MaxStreams = 64
	// MaxActionBody bounds an action's request body.
	MaxActionBody = 4096
	// TokenHeader carries the token of a request that acts.
	TokenHeader = "X-Hags-Token"
	// writeTimeout bounds each write to a page.
	writeTimeout = 10 * time.Second
	// keepAlive is how often an idle event stream gets a comment line, so
	// that a page that went away is noticed.
	keepAlive = 15 * time.Second
	// streamBuffer is how many events a page may fall behind before its
	// stream is ended (its browser reconnects and starts afresh).
	streamBuffer = 256
)

// Errors of New.
var (
	ErrNoBackend = errors.New("console: Config.Backend is required")
	ErrBadToken  = errors.New("console: Config.Token must be at least 32 hexadecimal characters")
)

// Backend is what the console shows and acts on: the failover manager.
// It must be safe for concurrent use.
type Backend interface {
	// Subscribe returns the cluster's agreed state and every change
	// agreed after it, in order: no change is missing between the state
	// and the stream (a change already in the state may come again;
	// applying it again changes nothing). The channel is closed when ctx
	// ends, when the manager stops, or when the subscriber falls behind.
	Subscribe(ctx context.Context) (State, <-chan failover.Change, error)
	// Submit carries out an operator's request as the management socket
	// does, and returns the code and message the cluster answered. A
	// non-nil error means the outcome is unknown.
	Submit(ctx context.Context, req engine.Request) (failover.Code, string, error)
}

// State is the cluster as the page shows it.
type State struct {
	Nodes     []failover.NodeInfo
	Groups    []failover.GroupInfo
	Resources []failover.ResourceInfo
}

// Config configures a Server.
type Config struct {
	Backend Backend
	// Token lets a request act (and read, when reads are not open):
	// NewToken's, kept by hagsrmd and handed out by its management
	// socket to callers with access All.
	Token string
	// OpenReads lets requests without the token read (hagsrmd sets it
	// when the console listens on loopback only). Requests that read
	// without the token must then name the host by an IP address or
	// "localhost", so that a web site that points its own name at
	// 127.0.0.1 (DNS rebinding) cannot read the page.
	OpenReads bool
	// Node names the node whose manager serves the console (shown on the
	// page).
	Node string
	// History and MaxEntries bound the timeline (defaults DefaultHistory
	// and DefaultMaxEntries).
	History    time.Duration
	MaxEntries int
	Logger     *slog.Logger
	// Now is the clock of the timeline (default time.Now).
	Now func() time.Time
}

// NewToken returns a random token: 32 bytes from crypto/rand, in hex.
func NewToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("console: no randomness for a token: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// Server is the console. Serve runs its HTTP server and its hub (the one
// goroutine that owns the state, the timeline and the list of open pages)
// in an errgroup and returns once both ended.
type Server struct {
	cfg     Config
	log     *slog.Logger
	hub     *hub
	streams chan struct{}
	mux     *http.ServeMux
}

//go:embed static
var static embed.FS

// New returns a Server for cfg.
func New(cfg Config) (*Server, error) {
	if cfg.Backend == nil {
		return nil, ErrNoBackend
	}
	if len(cfg.Token) < 32 || strings.Trim(cfg.Token, "0123456789abcdefABCDEF") != "" {
		return nil, ErrBadToken
	}
	if cfg.History <= 0 {
		cfg.History = DefaultHistory
	}
	if cfg.MaxEntries <= 0 {
		cfg.MaxEntries = DefaultMaxEntries
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &Server{cfg: cfg, log: cfg.Logger, streams: make(chan struct{}, MaxStreams), mux: http.NewServeMux()}
	s.hub = newHub(cfg.Backend, cfg.History, cfg.MaxEntries, cfg.Now, s.log)
	for path, name := range map[string]string{"/{$}": "index.html", "/console.js": "console.js", "/console.css": "console.css"} {
		h, err := asset(name)
		if err != nil {
			return nil, err
		}
		s.mux.HandleFunc("GET "+path, h)
	}
	s.mux.HandleFunc("GET /api/session", s.session)
	s.mux.HandleFunc("GET /api/events", s.events)
	s.mux.HandleFunc("POST /api/action", s.action)
	s.mux.HandleFunc("/api/action", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", http.MethodPost)
		writeResult(w, http.StatusMethodNotAllowed, failover.CodeInvalidParameter, "an action is a POST")
	})
	return s, nil
}

// Handler returns the console's HTTP handler (for tests; Serve uses it).
func (s *Server) Handler() http.Handler { return http.HandlerFunc(s.serveHTTP) }

// Serve serves the console on ln until ctx ends, then stops the HTTP
// server (open pages are cut) and the hub, and returns nil; or the error
// that ended it.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	hs := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return s.hub.run(gctx) })
	g.Go(func() error {
		if err := hs.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("console: %w", err)
		}
		return nil
	})
	g.Go(func() error {
		<-gctx.Done()
		return hs.Close()
	})
	err := g.Wait()
	if ctx.Err() != nil && (err == nil || errors.Is(err, context.Canceled)) {
		return nil
	}
	return err
}

// serveHTTP sets the headers every answer carries and judges the Host
// before anything else.
func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	if s.cfg.OpenReads && !literalHost(r.Host) {
		s.log.Warn("console request refused: the host is a name", "host", r.Host, "remote", r.RemoteAddr)
		writeResult(w, http.StatusMisdirectedRequest, failover.CodeAccessDenied,
			"this console answers only to an IP address or localhost, not to "+r.Host)
		return
	}
	s.mux.ServeHTTP(w, r)
}

// literalHost reports whether host (a Host header, with or without its
// port) is an IP address or localhost.
func literalHost(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	return strings.EqualFold(host, "localhost") || net.ParseIP(host) != nil
}

// asset serves one embedded file of static/.
func asset(name string) (http.HandlerFunc, error) {
	body, err := static.ReadFile("static/" + name)
	if err != nil {
		return nil, fmt.Errorf("console: embedded file: %w", err)
	}
	ctype := mime.TypeByExtension(name[strings.LastIndexByte(name, '.'):])
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", ctype)
		w.Write(body)
	}, nil
}

// Access levels a request can have.
type access string

const (
	accessNone access = "none"
	accessRead access = "read"
	accessAll  access = "all"
)

// access judges what r may do: the token (header, or the query's
// "token" for the event stream, which browsers open without headers)
// gives all; without it, read if reads are open.
func (s *Server) access(r *http.Request, allowQuery bool) access {
	tok := r.Header.Get(TokenHeader)
	if tok == "" && allowQuery {
		tok = r.URL.Query().Get("token")
	}
	if tok != "" && subtle.ConstantTimeCompare([]byte(tok), []byte(s.cfg.Token)) == 1 {
		return accessAll
	}
	if s.cfg.OpenReads {
		return accessRead
	}
	return accessNone
}

// sessionJSON answers GET /api/session.
type sessionJSON struct {
	Access    access `json:"access"`
	OpenReads bool   `json:"open_reads"`
	Node      string `json:"node"`
	// BadToken is set when the request carried a token that is not this
	// console's (hagsrmd restarted since the URL was printed, say).
	BadToken bool `json:"bad_token,omitempty"`
}

func (s *Server) session(w http.ResponseWriter, r *http.Request) {
	a := s.access(r, false)
	writeJSON(w, http.StatusOK, sessionJSON{Access: a, OpenReads: s.cfg.OpenReads, Node: s.cfg.Node,
		BadToken: a != accessAll && r.Header.Get(TokenHeader) != ""})
}

// events streams the state, then every change, as server-sent events:
// "state" (the whole state and the timeline; again whenever the console
// had to subscribe anew) and "change" (one change and its timeline
// entry).
func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	if s.access(r, true) == accessNone {
		writeResult(w, http.StatusForbidden, failover.CodeAccessDenied,
			"reading this console needs its token: open the URL hagsrm console prints")
		return
	}
	select {
	case s.streams <- struct{}{}:
		defer func() { <-s.streams }()
	default:
		writeResult(w, http.StatusServiceUnavailable, failover.CodeInvalidParameter,
			fmt.Sprintf("%d pages follow this console already", MaxStreams))
		return
	}
	ctx := r.Context()
	p, err := s.hub.join(ctx)
	if err != nil {
		writeResult(w, http.StatusServiceUnavailable, failover.CodeInvalidParameter, "the console is stopping")
		return
	}
	defer s.hub.leave(p)
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	send := func(b []byte) bool {
		_ = rc.SetWriteDeadline(time.Now().Add(writeTimeout))
		if _, err := w.Write(b); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	if !send([]byte("retry: 1000\n\n")) {
		return
	}
	tick := time.NewTicker(keepAlive)
	defer tick.Stop()
	for {
		select {
		case ev, ok := <-p.ch:
			if !ok {
				return // fell behind, or the console stops: the browser reconnects
			}
			if !send(ev) {
				return
			}
		case <-tick.C:
			if !send([]byte(": still here\n\n")) {
				return
			}
		case <-ctx.Done():
			return
		}
	}
}

// Action is what the page asks for: an operation and the names it acts
// on.
type Action struct {
	Op       string `json:"op"`
	Group    string `json:"group,omitempty"`
	Resource string `json:"resource,omitempty"`
	Node     string `json:"node,omitempty"`
	Drain    bool   `json:"drain,omitempty"`
}

// actions maps an Action's op to the engine's operation and the name it
// needs ("group", "resource" or "node").
var actions = map[string]struct {
	op   engine.Op
	need string
}{
	"move-group":       {engine.OpMoveGroup, "group"},
	"online-group":     {engine.OpOnlineGroup, "group"},
	"offline-group":    {engine.OpOfflineGroup, "group"},
	"online-resource":  {engine.OpOnlineResource, "resource"},
	"offline-resource": {engine.OpOfflineResource, "resource"},
	"cleanup-resource": {engine.OpCleanupResource, "resource"},
	"pause-node":       {engine.OpPauseNode, "node"},
	"resume-node":      {engine.OpResumeNode, "node"},
}

// Request checks a and turns it into the engine's request, as the
// management socket checks its requests: names first
// (ERROR_INVALID_NAME; a node name that cannot exist is
// ERROR_CLUSTER_NODE_NOT_FOUND), an unknown operation or a field the
// operation does not take ERROR_INVALID_PARAMETER.
func (a Action) Request() (engine.Request, error) {
	act, ok := actions[a.Op]
	if !ok {
		return engine.Request{}, failover.Errorf(failover.CodeInvalidParameter, "there is no action %q", a.Op)
	}
	req := engine.Request{Op: act.op}
	extra := func(field, value string) error {
		if value != "" {
			return failover.Errorf(failover.CodeInvalidParameter, "%s takes no %s", a.Op, field)
		}
		return nil
	}
	var err error
	switch act.need {
	case "group":
		err = errors.Join(failover.CheckName(a.Group), extra("resource", a.Resource))
		req.Group = a.Group
		if a.Op == "move-group" && a.Node != "" {
			err = errors.Join(err, failover.CheckNodeName(a.Node))
			req.Node = a.Node
		} else {
			err = errors.Join(err, extra("node", a.Node))
		}
	case "resource":
		err = errors.Join(failover.CheckName(a.Resource), extra("group", a.Group), extra("node", a.Node))
		req.Resource = a.Resource
	case "node":
		err = errors.Join(failover.CheckNodeName(a.Node), extra("group", a.Group), extra("resource", a.Resource))
		req.Node = a.Node
	}
	if a.Drain && act.op != engine.OpPauseNode {
		err = errors.Join(err, failover.Errorf(failover.CodeInvalidParameter, "only pause-node drains"))
	}
	req.Drain = a.Drain
	if err != nil {
		var fe *failover.Error
		errors.As(err, &fe) // the first check that failed gives the code
		return engine.Request{}, fe
	}
	return req, nil
}

// resultJSON is an action's answer, as hagsrm --json prints one.
type resultJSON struct {
	Name    string `json:"name,omitempty"`
	Code    *int64 `json:"code,omitempty"`
	Message string `json:"message,omitempty"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil { // plain data: would be a bug
		status, b = http.StatusInternalServerError, []byte(`{"error":{"message":"the answer does not encode"}}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

// writeResult answers {"result": {name, code, message}}.
func writeResult(w http.ResponseWriter, status int, code failover.Code, msg string) {
	c := int64(code)
	writeJSON(w, status, map[string]resultJSON{"result": {Name: code.String(), Code: &c, Message: msg}})
}

// action carries out POST /api/action: the token in the X-Hags-Token
// header, a JSON Action of at most MaxActionBody bytes. The answer is
// {"result": {"name", "code", "message"}} with status 200 whatever the
// code when the cluster answered; 403 without the token, 400 for a body
// that is no Action (each with its code); {"error": {"message"}} with
// 502 when the outcome is unknown.
func (s *Server) action(w http.ResponseWriter, r *http.Request) {
	if s.access(r, false) != accessAll {
		msg := "acting needs the console's token in the " + TokenHeader + " header: open the URL hagsrm console prints"
		if r.Header.Get(TokenHeader) != "" {
			msg = "the token is not this console's (hagsrmd restarted since the URL was printed?): run hagsrm console again"
		}
		s.log.Info("console action refused: no valid token", "remote", r.RemoteAddr)
		writeResult(w, http.StatusForbidden, failover.CodeAccessDenied, msg)
		return
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		writeResult(w, http.StatusUnsupportedMediaType, failover.CodeInvalidParameter, "an action is a JSON body (Content-Type: application/json)")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxActionBody))
	if err != nil {
		writeResult(w, http.StatusRequestEntityTooLarge, failover.CodeInvalidParameter,
			fmt.Sprintf("an action is at most %d bytes", MaxActionBody))
		return
	}
	var a Action
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&a); err != nil || dec.More() {
		if err == nil {
			err = errors.New("more than one JSON value")
		}
		writeResult(w, http.StatusBadRequest, failover.CodeInvalidParameter, "the action does not decode: "+err.Error())
		return
	}
	req, err := a.Request()
	if err != nil {
		code, _ := failover.CodeOf(err)
		writeResult(w, http.StatusOK, code, err.(*failover.Error).Message)
		return
	}
	code, msg, err := s.cfg.Backend.Submit(r.Context(), req)
	if err != nil {
		s.log.Warn("console action's outcome unknown", "op", a.Op, "err", err)
		writeJSON(w, http.StatusBadGateway, map[string]resultJSON{"error": {Message: "the outcome is unknown (read the state): " + err.Error()}})
		return
	}
	s.log.Info("console action", "op", a.Op, "group", a.Group, "resource", a.Resource, "node", a.Node,
		"remote", r.RemoteAddr, "code", code)
	writeResult(w, http.StatusOK, code, msg)
}

// ErrNotLoopback is returned by CheckAddress for an address other than
// loopback without allowRemote.
var ErrNotLoopback = errors.New("console: not a loopback address")

// CheckAddress judges the address the console is to listen on, HOST:PORT.
// It reports whether it is loopback only (127.0.0.0/8, ::1 or
// localhost); any other address, the empty host (every interface)
// included, is refused with ErrNotLoopback unless allowRemote.
func CheckAddress(addr string, allowRemote bool) (loopback bool, err error) {
	_, _, loopback, err = listenaddr.Parse(addr, true)
	if err != nil {
		return false, fmt.Errorf("console: %w", err)
	}
	if !loopback && !allowRemote {
		return false, fmt.Errorf("%w: %q would let other machines reach the console; give a loopback address, or allow it explicitly", ErrNotLoopback, addr)
	}
	return loopback, nil
}

// URL returns the address of the console served on ln with token in its
// query, as hagsrm console prints it. A listener on every interface is
// named by this machine's host name.
func URL(ln net.Listener, token string) string {
	host, port, _ := net.SplitHostPort(ln.Addr().String())
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		if h, err := os.Hostname(); err == nil {
			host = h
		}
	}
	return "http://" + net.JoinHostPort(host, port) + "/?token=" + token
}

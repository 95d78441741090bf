package console

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhags/hags/failover"
	"github.com/openhags/hags/failover/engine"
	"github.com/openhags/hags/failover/internal/mgmt"
	"github.com/openhags/hags/failover/internal/mgmt/mgmttest"
)

// fakeBackend serves the console from mgmttest.Fake.
type fakeBackend struct{ f *mgmttest.Fake }

func (b fakeBackend) Subscribe(ctx context.Context) (State, <-chan failover.Change, error) {
	ns, gs, rs, ch := b.f.Subscribe(ctx)
	return State{Nodes: ns, Groups: gs, Resources: rs}, ch, nil
}

func (b fakeBackend) Submit(ctx context.Context, req engine.Request) (failover.Code, string, error) {
	return b.f.Submit(ctx, mgmt.Caller{Access: failover.AccessAll}, req)
}

const testToken = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

type env struct {
	fake *mgmttest.Fake
	base string // http://127.0.0.1:PORT
}

// serve starts a console over a Fake holding group "web" (owned by
// NodeA, one Dummy resource "db", online), on a loopback port.
func serve(t *testing.T, openReads bool) *env {
	t.Helper()
	fake := mgmttest.New()
	ctx := context.Background()
	all := mgmt.Caller{Access: failover.AccessAll}
	for _, req := range []engine.Request{
		{Op: engine.OpCreateGroup, Group: "web"},
		{Op: engine.OpCreateResource, Group: "web", Resource: "db", Agent: "ocf:heartbeat:Dummy"},
		{Op: engine.OpOnlineGroup, Group: "web"},
	} {
		code, msg, err := fake.Submit(ctx, all, req)
		require.NoError(t, err)
		require.Contains(t, []failover.Code{failover.CodeSuccess, failover.CodeIOPending}, code, "set-up %v: %s", req.Op, msg)
	}
	require.Eventually(t, func() bool {
		g, err := fake.Group(ctx, "web")
		return err == nil && g.State == failover.GroupOnline
	}, 10*time.Second, 5*time.Millisecond, "the group comes online")
	srv, err := New(Config{Backend: fakeBackend{fake}, Token: testToken, OpenReads: openReads, Node: "NodeA",
		Logger: slog.New(slog.NewTextHandler(testWriter{t}, nil))})
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	sctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(sctx, ln) }()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done, "Serve returns nil when its context ends")
		fake.Close()
	})
	return &env{fake: fake, base: "http://" + ln.Addr().String()}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// event is one server-sent event.
type event struct {
	name string
	data string
}

// stream opens /api/events (with query q) and delivers its events.
func (e *env) stream(t *testing.T, q string) <-chan event {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, e.base+"/api/events"+q, nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, "the event stream opens")
	require.Equal(t, "text/event-stream", resp.Header.Get("Content-Type"))
	out := make(chan event, 64)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(out)
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(nil, 1<<20)
		var ev event
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "event: "):
				ev.name = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				ev.data = strings.TrimPrefix(line, "data: ")
			case line == "" && ev.name != "":
				out <- ev
				ev = event{}
			}
		}
	}()
	t.Cleanup(func() { cancel(); resp.Body.Close(); wg.Wait() })
	return out
}

func next(t *testing.T, ch <-chan event) event {
	t.Helper()
	select {
	case ev, ok := <-ch:
		require.True(t, ok, "the stream goes on")
		return ev
	case <-time.After(10 * time.Second):
		t.Fatal("no event within 10 s")
	}
	return event{}
}

type answer struct {
	status int
	Result struct {
		Name    string `json:"name"`
		Code    *int64 `json:"code"`
		Message string `json:"message"`
	} `json:"result"`
}

// post sends body to /api/action with the given headers.
func (e *env) post(t *testing.T, body string, headers map[string]string) answer {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.base+"/api/action", strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var a answer
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &a), "the answer is JSON: %s", b)
	a.status = resp.StatusCode
	return a
}

func token() map[string]string { return map[string]string{TokenHeader: testToken} }

// TestStreamShowsStateThenAMove: a page gets the whole state first, then
// a move made through the console arrives as changes, with timeline
// entries that say where the group came from.
func TestStreamShowsStateThenAMove(t *testing.T) {
	e := serve(t, true)
	events := e.stream(t, "")
	first := next(t, events)
	require.Equal(t, "state", first.name, "the first event is the whole state")
	var st stateEvent
	require.NoError(t, json.Unmarshal([]byte(first.data), &st))
	require.Len(t, st.Nodes, 3, "the three nodes")
	require.Len(t, st.Groups, 1, "the group")
	assert.Equal(t, GroupView{Name: "web", State: "ClusterGroupOnline", StateValue: 0, Owner: "NodeA",
		PersistentState: "online", Sequence: st.Groups[0].Sequence, Resources: []string{"db"}}, st.Groups[0])
	require.Len(t, st.Resources, 1)
	assert.Equal(t, "ClusterResourceOnline", st.Resources[0].State, "the resource is online")
	assert.NotContains(t, first.data, "params", "agent parameters never reach the page")

	a := e.post(t, `{"op":"move-group","group":"web","node":"NodeB"}`, token())
	require.Equal(t, http.StatusOK, a.status)
	assert.Equal(t, "ERROR_IO_PENDING", a.Result.Name, "a move goes on in the background: %s", a.Result.Message)
	require.NotNil(t, a.Result.Code)
	assert.EqualValues(t, 997, *a.Result.Code)

	var moved *changeEvent
	for moved == nil {
		ev := next(t, events)
		require.Equal(t, "change", ev.name, "after the state come changes")
		var c changeEvent
		require.NoError(t, json.Unmarshal([]byte(ev.data), &c))
		if c.Group != nil && c.Group.Owner == "NodeB" {
			moved = &c
		}
	}
	assert.Equal(t, "NodeA", moved.Entry.WasOwner, "the timeline says the group came from NodeA")
	assert.Equal(t, "NodeB", moved.Entry.Owner)
	assert.Equal(t, "group", moved.Entry.Kind)

	// A page that opens now sees the move in its state and its timeline.
	late := next(t, e.stream(t, ""))
	require.NoError(t, json.Unmarshal([]byte(late.data), &st))
	assert.Equal(t, "NodeB", st.Groups[0].Owner, "a new page sees the group where it went")
	found := false
	for _, en := range st.Timeline {
		found = found || en.Kind == "group" && en.WasOwner == "NodeA" && en.Owner == "NodeB"
	}
	assert.True(t, found, "the timeline a new page gets holds the move: %+v", st.Timeline)
}

// TestActionsNeedTheTokenInTheHeader: without the token, with a wrong
// one, or with the right one anywhere but the header (query, cookie),
// an action is refused with ERROR_ACCESS_DENIED and reaches nothing.
func TestActionsNeedTheTokenInTheHeader(t *testing.T) {
	e := serve(t, true)
	before := len(e.fake.Requests())
	body := `{"op":"offline-group","group":"web"}`
	for name, h := range map[string]map[string]string{
		"no token":           nil,
		"a wrong token":      {TokenHeader: strings.Repeat("0", 64)},
		"a token's prefix":   {TokenHeader: testToken[:32]},
		"the token a cookie": {"Cookie": "token=" + testToken},
	} {
		a := e.post(t, body, h)
		assert.Equal(t, http.StatusForbidden, a.status, "%s: refused", name)
		assert.Equal(t, "ERROR_ACCESS_DENIED", a.Result.Name, "%s: the code says why", name)
	}
	req, err := http.NewRequest(http.MethodPost, e.base+"/api/action?token="+testToken, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusForbidden, resp.StatusCode, "the token in the query does not let a request act")
	assert.Len(t, e.fake.Requests(), before, "no refused action reached the manager")

	a := e.post(t, body, token())
	assert.Equal(t, http.StatusOK, a.status)
	assert.Equal(t, "ERROR_IO_PENDING", a.Result.Name, "with the token in the header the action runs: %s", a.Result.Message)
	assert.Len(t, e.fake.Requests(), before+1, "and reaches the manager")
}

// TestBadActionsGetTheirCode: malformed bodies and names are refused
// with their code before the manager is asked; the manager's own
// refusals come back with theirs.
func TestBadActionsGetTheirCode(t *testing.T) {
	e := serve(t, true)
	before := len(e.fake.Requests())
	for _, c := range []struct {
		body   string
		status int
		code   string
	}{
		{`{"op":"move-group"`, http.StatusBadRequest, "ERROR_INVALID_PARAMETER"},
		{`{"op":"move-group","group":"web","extra":1}`, http.StatusBadRequest, "ERROR_INVALID_PARAMETER"},
		{`{"op":"move-group","group":"web"} {}`, http.StatusBadRequest, "ERROR_INVALID_PARAMETER"},
		{`{"op":"delete-group","group":"web"}`, http.StatusOK, "ERROR_INVALID_PARAMETER"},
		{`{"op":"online-group","group":"a[b]"}`, http.StatusOK, "ERROR_INVALID_NAME"},
		{`{"op":"online-group","group":""}`, http.StatusOK, "ERROR_INVALID_NAME"},
		{`{"op":"online-resource","resource":"db","group":"web"}`, http.StatusOK, "ERROR_INVALID_PARAMETER"},
		{`{"op":"move-group","group":"web","node":"bad\u0001"}`, http.StatusOK, "ERROR_CLUSTER_NODE_NOT_FOUND"},
		{`{"op":"online-group","group":"web","drain":true}`, http.StatusOK, "ERROR_INVALID_PARAMETER"},
		{`{"op":"move-group","group":"` + strings.Repeat("x", MaxActionBody) + `"}`, http.StatusRequestEntityTooLarge, "ERROR_INVALID_PARAMETER"},
	} {
		a := e.post(t, c.body, token())
		assert.Equal(t, c.status, a.status, "%.60s", c.body)
		assert.Equal(t, c.code, a.Result.Name, "%.60s: %s", c.body, a.Result.Message)
	}
	assert.Len(t, e.fake.Requests(), before, "no malformed action reached the manager")

	a := e.post(t, `{"op":"resume-node","node":"NodeB"}`, token())
	assert.Equal(t, "ERROR_CLUSTER_NODE_NOT_PAUSED", a.Result.Name, "the manager's refusal comes back with its code")
	assert.EqualValues(t, 5058, *a.Result.Code)
	a = e.post(t, `{"op":"move-group","group":"nope"}`, token())
	assert.Equal(t, "ERROR_GROUP_NOT_FOUND", a.Result.Name)

	req, err := http.NewRequest(http.MethodPost, e.base+"/api/action", strings.NewReader(`{"op":"offline-group","group":"web"}`))
	require.NoError(t, err)
	req.Header.Set(TokenHeader, testToken)
	req.Header.Set("Content-Type", "text/plain")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusUnsupportedMediaType, resp.StatusCode, "an action is JSON")
	resp, err = http.Get(e.base + "/api/action")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode, "an action is a POST")
}

// TestReadsNeedTheTokenUnlessOpen: on a console whose reads are not open
// (a remote address), the stream needs the token; on an open one it
// does not, and a name in Host (DNS rebinding) is refused.
func TestReadsNeedTheTokenUnlessOpen(t *testing.T) {
	closed := serve(t, false)
	resp, err := http.Get(closed.base + "/api/events")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusForbidden, resp.StatusCode, "no token, no reading")
	resp, err = http.Get(closed.base + "/api/events?token=" + strings.Repeat("1", 64))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusForbidden, resp.StatusCode, "a wrong token, no reading")
	assert.Equal(t, "state", next(t, closed.stream(t, "?token="+testToken)).name, "with the token the stream opens")

	open := serve(t, true)
	assert.Equal(t, "state", next(t, open.stream(t, "")).name, "an open console streams without the token")
	req, err := http.NewRequest(http.MethodGet, open.base+"/api/events", nil)
	require.NoError(t, err)
	req.Host = "attacker.example:" + strings.Split(open.base, ":")[2]
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusMisdirectedRequest, resp.StatusCode, "a host name that is not localhost is refused")
	for _, host := range []string{"localhost:1", "127.0.0.1:1", "[::1]:1", "LOCALHOST"} {
		assert.True(t, literalHost(host), "%s is served", host)
	}
}

// TestSessionSaysWhatTheCallerMay: the page asks what it may do.
func TestSessionSaysWhatTheCallerMay(t *testing.T) {
	e := serve(t, true)
	get := func(h map[string]string) sessionJSON {
		req, err := http.NewRequest(http.MethodGet, e.base+"/api/session", nil)
		require.NoError(t, err)
		for k, v := range h {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		var s sessionJSON
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&s))
		return s
	}
	assert.Equal(t, sessionJSON{Access: accessAll, OpenReads: true, Node: "NodeA"}, get(token()))
	assert.Equal(t, sessionJSON{Access: accessRead, OpenReads: true, Node: "NodeA"}, get(nil))
	assert.Equal(t, sessionJSON{Access: accessRead, OpenReads: true, Node: "NodeA", BadToken: true},
		get(map[string]string{TokenHeader: "nope"}))
}

// TestPageIsStaticWithStrictHeaders: the page and its script come from
// the binary, with a policy that runs no inline script.
func TestPageIsStaticWithStrictHeaders(t *testing.T) {
	e := serve(t, true)
	for path, ctype := range map[string]string{"/": "text/html", "/console.js": "text/javascript", "/console.css": "text/css"} {
		resp, err := http.Get(e.base + path)
		require.NoError(t, err)
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		assert.Equal(t, http.StatusOK, resp.StatusCode, path)
		assert.Contains(t, resp.Header.Get("Content-Type"), ctype, path)
		assert.Contains(t, resp.Header.Get("Content-Security-Policy"), "script-src 'self'", path)
		assert.Equal(t, "no-referrer", resp.Header.Get("Referrer-Policy"), path)
		assert.NotEmpty(t, b, path)
		assert.Empty(t, resp.Cookies(), "the console sets no cookie")
	}
	resp, err := http.Get(e.base + "/nothing")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
}

func TestCheckAddress(t *testing.T) {
	for _, c := range []struct {
		addr     string
		remote   bool
		loopback bool
		ok       bool
	}{
		{"127.0.0.1:0", false, true, true},
		{"127.0.0.2:8080", false, true, true},
		{"[::1]:8080", false, true, true},
		{"localhost:8080", false, true, true},
		{":8080", false, false, false},
		{"0.0.0.0:8080", false, false, false},
		{"192.0.2.1:8080", false, false, false},
		{"192.0.2.1:8080", true, false, true},
		{":8080", true, false, true},
		{"127.0.0.1", false, false, false},
		{"127.0.0.1:http-nope", false, false, false},
	} {
		loopback, err := CheckAddress(c.addr, c.remote)
		if !c.ok {
			assert.Error(t, err, "%s (remote %v) is refused", c.addr, c.remote)
			continue
		}
		require.NoError(t, err, "%s (remote %v)", c.addr, c.remote)
		assert.Equal(t, c.loopback, loopback, "%s is loopback: %v", c.addr, c.loopback)
	}
}

func TestNewRefusesWeakTokens(t *testing.T) {
	_, err := New(Config{Backend: fakeBackend{mgmttest.New()}, Token: "short"})
	assert.ErrorIs(t, err, ErrBadToken)
	_, err = New(Config{Token: testToken})
	assert.ErrorIs(t, err, ErrNoBackend)
	tok, err := NewToken()
	require.NoError(t, err)
	assert.Len(t, tok, 64, "32 random bytes in hex")
	other, err := NewToken()
	require.NoError(t, err)
	assert.NotEqual(t, tok, other, "each token is new")
}

// scripted is a Backend whose changes the test sends.
type scripted struct {
	ch chan failover.Change
}

func (s *scripted) Subscribe(context.Context) (State, <-chan failover.Change, error) {
	return State{Nodes: []failover.NodeInfo{{Name: "NodeA", ID: 1}}}, s.ch, nil
}

func (s *scripted) Submit(context.Context, engine.Request) (failover.Code, string, error) {
	return failover.CodeSuccess, "", nil
}

// TestTimelineIsBounded: entries older than the history go, and never
// more than MaxEntries stay; a page that falls behind is dropped.
func TestTimelineIsBounded(t *testing.T) {
	now := time.Unix(1_000_000, 0)
	h := newHub(&scripted{}, time.Hour, 5, func() time.Time { return now }, slog.New(slog.NewTextHandler(testWriter{t}, nil)))
	h.reset(State{})
	for i := range 3 {
		h.apply(failover.Change{Kind: failover.ChangeGroup, Group: &failover.GroupInfo{Name: "g", Sequence: uint64(i + 1), Owner: fmt.Sprint(i)}})
	}
	require.Len(t, h.timeline, 3, "three changes, three entries")
	h.apply(failover.Change{Kind: failover.ChangeGroup, Group: &failover.GroupInfo{Name: "g", Sequence: 2}})
	assert.Len(t, h.timeline, 3, "a change the state already holds (an older sequence) is no entry")
	now = now.Add(61 * time.Minute)
	h.apply(failover.Change{Kind: failover.ChangeNode, Node: &failover.NodeInfo{Name: "NodeA", State: failover.NodeDown}})
	require.Len(t, h.timeline, 1, "entries older than an hour go")
	assert.Equal(t, "ClusterNodeDown", h.timeline[0].State)
	for i := range 10 {
		h.apply(failover.Change{Kind: failover.ChangeResource, Resource: &failover.ResourceInfo{Name: "r", Sequence: uint64(i + 1)}})
	}
	assert.Len(t, h.timeline, 5, "never more than MaxEntries")
	assert.EqualValues(t, 10, h.resources["r"].Sequence, "the newest are kept")

	p := h.add()
	for range streamBuffer {
		h.broadcast([]byte("x"))
	}
	h.broadcast([]byte("one too many"))
	assert.NotContains(t, h.pages, p, "a page that fell behind is dropped")
	n := 0
	for range p.ch {
		n++
	}
	assert.Equal(t, streamBuffer, n, "its stream ends after what it had")
}

// TestNodeKeepsItsRowWhenNamed: a node known first by its number ("[2]")
// and then by its name is one node.
func TestNodeKeepsItsRowWhenNamed(t *testing.T) {
	h := newHub(&scripted{}, time.Hour, 100, time.Now, slog.New(slog.NewTextHandler(testWriter{t}, nil)))
	h.reset(State{Nodes: []failover.NodeInfo{{Name: "[2]", ID: 2, State: failover.NodeJoining}}})
	h.apply(failover.Change{Kind: failover.ChangeNode, Node: &failover.NodeInfo{Name: "node2", ID: 2, State: failover.NodeUp}})
	require.Len(t, h.nodes, 1, "one node, whatever it was called first")
	assert.Equal(t, "node2", h.nodes[2].Name)
	var st stateEvent
	ev := h.stateEvent()
	data := strings.TrimSuffix(strings.SplitN(string(ev), "data: ", 2)[1], "\n\n")
	require.NoError(t, json.Unmarshal([]byte(data), &st))
	require.Len(t, st.Nodes, 1, "the page gets one row for it")
}

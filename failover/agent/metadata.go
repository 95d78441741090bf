package agent

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/openhags/hags/failover"
)

// MaxActionTimeout is the longest timeout taken from an agent's meta-data;
// a longer one is not believed, and the default is used.
const MaxActionTimeout = 24 * time.Hour

// MetaData is what the runner takes from an agent's meta-data.
type MetaData struct {
	// Name is the agent's own name for itself (resource-agent name=).
	Name string
	// StartTimeout, StopTimeout and MonitorTimeout are the agent's
	// suggested timeouts, or DefaultActionTimeout where it suggests none
	// that is usable.
	StartTimeout   time.Duration
	StopTimeout    time.Duration
	MonitorTimeout time.Duration
	// MonitorInterval is the monitor interval the agent suggests; 0 when
	// it suggests none.
	MonitorInterval time.Duration
	// Timeouts holds every action's usable timeout, by action name
	// ("start", "validate-all", ...).
	Timeouts map[string]time.Duration
	// Parameters are the parameters the agent declares.
	Parameters []Parameter
}

// Parameter is one parameter an agent declares.
type Parameter struct {
	Name     string
	Required bool
	Unique   bool
	Default  string
}

// metaEntry is one cached result: the meta-data of an agent file as it was
// (size and modification time), or why there is none.
type metaEntry struct {
	size  int64
	mtime time.Time
	md    MetaData
	err   error
}

// MetaData runs the agent's meta-data action (OCF) and returns its
// suggested timeouts and parameters. For exec it returns the defaults
// without running anything. Results are cached per agent file until the
// file changes. Errors wrap ErrBadAgent, ErrNotInstalled, ErrUnsafe,
// ErrMetaData or ErrClosed.
func (r *Runner) MetaData(ctx context.Context, spec failover.AgentSpec) (MetaData, error) {
	if err := r.closedErr(); err != nil {
		return MetaData{}, err
	}
	switch spec.Class {
	case failover.AgentExec:
		return defaultMetaData("exec"), nil
	case failover.AgentOCF:
	default:
		return MetaData{}, fmt.Errorf("agent: %w: class %q", ErrBadAgent, spec.Class)
	}
	path, fi, err := r.agentFile(spec)
	if err != nil {
		return MetaData{}, err
	}
	r.meta.mu.Lock()
	e, ok := r.meta.byPath[path]
	r.meta.mu.Unlock()
	if ok && e.size == fi.Size() && e.mtime.Equal(fi.ModTime()) {
		return e.md, e.err
	}
	v, _, _ := r.meta.flight.Do(path, func() (any, error) {
		md, err := r.readMetaData(ctx, spec, path)
		if ctx.Err() == nil { // an abandoned read says nothing of the agent
			r.meta.mu.Lock()
			if r.meta.byPath == nil {
				r.meta.byPath = make(map[string]metaEntry)
			}
			r.meta.byPath[path] = metaEntry{size: fi.Size(), mtime: fi.ModTime(), md: md, err: err}
			r.meta.mu.Unlock()
		}
		return metaEntry{md: md, err: err}, nil
	})
	e = v.(metaEntry)
	return e.md, e.err
}

// readMetaData runs the meta-data action and parses what it prints.
func (r *Runner) readMetaData(ctx context.Context, spec failover.AgentSpec, path string) (MetaData, error) {
	ctx, cancel := r.bind(ctx)
	defer cancel()
	res := r.runOCF(ctx, ocfRun{path: path, spec: spec, action: "meta-data", timeout: MetaDataTimeout, capture: MaxMetaData})
	if !res.Success() {
		return defaultMetaData(spec.Type), fmt.Errorf("agent %s: %w: meta-data %s", spec, ErrMetaData, res.How())
	}
	if res.StdoutTruncated {
		return defaultMetaData(spec.Type), fmt.Errorf("agent %s: %w: meta-data longer than %d bytes", spec, ErrMetaData, MaxMetaData)
	}
	md, err := ParseMetaData(res.Stdout)
	if err != nil {
		return defaultMetaData(spec.Type), fmt.Errorf("agent %s: %w: %w", spec, ErrMetaData, err)
	}
	return md, nil
}

// timeoutFor returns the timeout of action: given when positive, else the
// agent's meta-data suggestion, else DefaultActionTimeout.
func (r *Runner) timeoutFor(ctx context.Context, spec failover.AgentSpec, action string, given time.Duration) time.Duration {
	if given > 0 {
		return given
	}
	md, err := r.MetaData(ctx, spec)
	if err != nil {
		r.log.Warn("agent: no meta-data; using the default timeout", "agent", spec.String(), "action", action,
			"timeout", DefaultActionTimeout, "err", err)
		return DefaultActionTimeout
	}
	if t, ok := md.Timeouts[action]; ok {
		return t
	}
	return DefaultActionTimeout
}

func defaultMetaData(name string) MetaData {
	return MetaData{Name: name, StartTimeout: DefaultActionTimeout, StopTimeout: DefaultActionTimeout,
		MonitorTimeout: DefaultActionTimeout, Timeouts: map[string]time.Duration{}}
}

// The meta-data document, as much of it as the runner reads.
type xmlAgent struct {
	XMLName    xml.Name       `xml:"resource-agent"`
	Name       string         `xml:"name,attr"`
	Parameters []xmlParameter `xml:"parameters>parameter"`
	Actions    []xmlAction    `xml:"actions>action"`
}

type xmlParameter struct {
	Name     string `xml:"name,attr"`
	Required string `xml:"required,attr"`
	Unique   string `xml:"unique,attr"`
	Content  struct {
		Default string `xml:"default,attr"`
	} `xml:"content"`
}

type xmlAction struct {
	Name     string `xml:"name,attr"`
	Timeout  string `xml:"timeout,attr"`
	Interval string `xml:"interval,attr"`
	Role     string `xml:"role,attr"`
}

// ParseMetaData reads an OCF meta-data document. It is lenient where
// agents are sloppy (HTML entities, unclosed tags in descriptions) and
// strict about what it uses: a timeout or interval that is not a positive
// duration (see ParseOCFDuration) up to MaxActionTimeout is ignored, and
// the default stands. A document that is not XML, or whose root is not
// <resource-agent>, is an error.
func ParseMetaData(doc []byte) (MetaData, error) {
	dec := xml.NewDecoder(bytes.NewReader(doc))
	dec.Strict = false
	dec.AutoClose = xml.HTMLAutoClose
	dec.Entity = xml.HTMLEntity
	var x xmlAgent
	if err := dec.Decode(&x); err != nil {
		return MetaData{}, fmt.Errorf("meta-data is not an OCF resource-agent document: %w", err)
	}
	md := defaultMetaData(x.Name)
	for _, p := range x.Parameters {
		if p.Name == "" {
			continue
		}
		md.Parameters = append(md.Parameters, Parameter{Name: p.Name, Required: ocfTrue(p.Required),
			Unique: ocfTrue(p.Unique), Default: p.Content.Default})
	}
	// Several monitor actions may be declared (per role or depth): the
	// first without a role counts, else the first. Of any other action
	// the first declaration counts.
	var mon *xmlAction
	for i := range x.Actions {
		a := &x.Actions[i]
		switch _, seen := md.Timeouts[a.Name]; {
		case a.Name == "monitor":
			if mon == nil || mon.Role != "" && a.Role == "" {
				mon = a
			}
		case a.Name == "" || seen:
		default:
			if t, ok := ParseOCFDuration(a.Timeout); ok {
				md.Timeouts[a.Name] = t
			}
		}
	}
	if mon != nil {
		if t, ok := ParseOCFDuration(mon.Timeout); ok {
			md.Timeouts["monitor"] = t
		}
		if iv, ok := ParseOCFDuration(mon.Interval); ok {
			md.MonitorInterval = iv
		}
	}
	if t, ok := md.Timeouts["start"]; ok {
		md.StartTimeout = t
	}
	if t, ok := md.Timeouts["stop"]; ok {
		md.StopTimeout = t
	}
	if t, ok := md.Timeouts["monitor"]; ok {
		md.MonitorTimeout = t
	}
	return md, nil
}

func ocfTrue(s string) bool {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "1", "true", "yes", "on":
		return true
	}
	return false
}

// ParseOCFDuration reads a duration as OCF meta-data writes them: a whole
// or decimal number with an optional unit, "20", "20s", "2min", "1.5m",
// "500ms", "1h". A bare number is seconds. Units: us/usec, ms/msec,
// s/sec/secs, m/min/mins, h/hr/hrs/hour/hours (any case; space allowed
// before the unit). It returns false for anything else, and for a
// duration that is not positive or is longer than MaxActionTimeout.
func ParseOCFDuration(s string) (time.Duration, bool) {
	s = strings.TrimSpace(s)
	i := 0
	for i < len(s) && (s[i] >= '0' && s[i] <= '9' || s[i] == '.') {
		i++
	}
	if i == 0 || i > 20 {
		return 0, false
	}
	n, err := strconv.ParseFloat(s[:i], 64)
	if err != nil || math.IsNaN(n) || math.IsInf(n, 0) {
		return 0, false
	}
	var unit time.Duration
	switch strings.ToLower(strings.TrimSpace(s[i:])) {
	case "us", "usec":
		unit = time.Microsecond
	case "ms", "msec":
		unit = time.Millisecond
	case "", "s", "sec", "secs":
		unit = time.Second
	case "m", "min", "mins":
		unit = time.Minute
	case "h", "hr", "hrs", "hour", "hours":
		unit = time.Hour
	default:
		return 0, false
	}
	if n*float64(unit) > float64(MaxActionTimeout) {
		return 0, false
	}
	d := time.Duration(n * float64(unit))
	if d <= 0 {
		return 0, false
	}
	return d, true
}

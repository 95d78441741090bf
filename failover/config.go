package failover

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"go.yaml.in/yaml/v3"
)

// Config is the whole configuration of a cluster as one document: what
// `hagsrm config show` prints and `hagsrm config apply FILE` reads. Applying
// a Config creates, changes and deletes groups and resources so that the
// cluster matches it, as one agreed change. Current states, owners and
// failure counters are not configuration and are not in it.
type Config struct {
	Nodes  []NodeConfig  `json:"nodes,omitempty" yaml:"nodes,omitempty"`
	Groups []GroupConfig `json:"groups" yaml:"groups"`
}

// NodeConfig is the configuration of one node. Nodes are not created by
// configuration (a node is a hags node running hagsrmd); a node named here
// must exist.
type NodeConfig struct {
	Name string `json:"name" yaml:"name"`
	// FenceCommand is run, with the node's name as its only argument, to
	// fence the node before its groups are taken over; exit 0 means
	// fenced. Empty: no fence command, the self-fencing window applies.
	FenceCommand string `json:"fence-command,omitempty" yaml:"fence-command,omitempty"`
}

// GroupConfig is the configuration of one group and its resources.
type GroupConfig struct {
	Name            string          `json:"name" yaml:"name"`
	PersistentState PersistentState `json:"persistent-state" yaml:"persistent-state"`
	GroupProperties `json:",inline" yaml:",inline"`
	Resources       []ResourceConfig `json:"resources,omitempty" yaml:"resources,omitempty"`
}

// ResourceConfig is the configuration of one resource.
type ResourceConfig struct {
	Name string `json:"name" yaml:"name"`
	// Agent is "ocf:PROVIDER:TYPE" or "exec".
	Agent           string            `json:"agent" yaml:"agent"`
	Params          map[string]string `json:"params,omitempty" yaml:"params,omitempty"`
	PersistentState PersistentState   `json:"persistent-state" yaml:"persistent-state"`
	PossibleOwners  []string          `json:"possible-owners,omitempty" yaml:"possible-owners,omitempty"`
	// Depends is the dependency expression (ParseDependency).
	Depends            string `json:"depends,omitempty" yaml:"depends,omitempty"`
	Locked             bool   `json:"locked,omitempty" yaml:"locked,omitempty"`
	ResourceProperties `json:",inline" yaml:",inline"`
}

// MaxConfigSize bounds a configuration document, in bytes.
const MaxConfigSize = 8 << 20

// ParseConfig reads a configuration document in YAML (JSON is YAML too).
// It is strict: an unknown field, a duplicate name, a bad name, value,
// agent or dependency expression is an *Error (ERROR_INVALID_PARAMETER, or
// the code of the first bad name or expression) that says where. Omitted
// properties take their defaults. Whether nodes exist and dependencies
// resolve is judged when the document is applied.
func ParseConfig(r io.Reader) (*Config, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxConfigSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxConfigSize {
		return nil, Errorf(CodeInvalidParameter, "configuration is larger than %d bytes", MaxConfigSize)
	}
	var raw struct {
		Nodes  []NodeConfig `yaml:"nodes"`
		Groups []yaml.Node  `yaml:"groups"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&raw); err != nil && !errors.Is(err, io.EOF) {
		return nil, Errorf(CodeInvalidParameter, "configuration: %v", err)
	}
	cfg := &Config{Nodes: raw.Nodes}
	for i := range raw.Groups {
		g, err := decodeGroup(&raw.Groups[i])
		if err != nil {
			return nil, err
		}
		cfg.Groups = append(cfg.Groups, g)
	}
	if err := cfg.Check(); err != nil {
		return nil, err
	}
	return cfg, nil
}

// groupHead is a GroupConfig whose resources are left as YAML nodes, so
// that each resource can be decoded over the resource defaults. It lists
// GroupConfig's fields but Resources (a struct that inlined GroupConfig
// and declared resources again would hold the key twice, which the YAML
// library refuses with a panic).
type groupHead struct {
	Name            string          `yaml:"name"`
	PersistentState PersistentState `yaml:"persistent-state"`
	GroupProperties `yaml:",inline"`
	Resources       []yaml.Node `yaml:"resources,omitempty"`
}

// decodeGroup decodes one group over the defaults, so that omitted
// properties keep them.
func decodeGroup(n *yaml.Node) (GroupConfig, error) {
	h := groupHead{GroupProperties: DefaultGroupProperties()}
	if err := decodeStrict(n, &h); err != nil {
		return GroupConfig{}, Errorf(CodeInvalidParameter, "configuration, group at line %d: %v", n.Line, err)
	}
	g := GroupConfig{Name: h.Name, PersistentState: h.PersistentState, GroupProperties: h.GroupProperties}
	for i := range h.Resources {
		r := ResourceConfig{ResourceProperties: DefaultResourceProperties()}
		if err := decodeStrict(&h.Resources[i], &r); err != nil {
			return g, Errorf(CodeInvalidParameter, "configuration, resource at line %d: %v", h.Resources[i].Line, err)
		}
		g.Resources = append(g.Resources, r)
	}
	return g, nil
}

// decodeStrict decodes n into v refusing unknown fields (yaml.Node.Decode
// does not check them, so the node is re-encoded and read by a strict
// decoder).
func decodeStrict(n *yaml.Node, v any) error {
	b, err := yaml.Marshal(n)
	if err != nil {
		return err
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil {
		// Line numbers in err count from the re-encoded node.
		return fmt.Errorf("%w (lines counted from line %d)", err, n.Line)
	}
	return nil
}

// Check validates what a document can say about itself: names, agents,
// properties, dependency syntax, that every name is used once and that
// dependencies name resources of the same group.
func (c *Config) Check() error {
	nodes := map[string]bool{}
	for _, n := range c.Nodes {
		if n.Name == "" {
			return Errorf(CodeInvalidParameter, "configuration: a node without a name")
		}
		if nodes[n.Name] {
			return Errorf(CodeInvalidParameter, "configuration: node %s appears twice", n.Name)
		}
		nodes[n.Name] = true
	}
	groups, resources := map[string]bool{}, map[string]string{}
	for _, g := range c.Groups {
		if err := CheckName(g.Name); err != nil {
			return err
		}
		if groups[g.Name] {
			return Errorf(CodeObjectAlreadyExists, "configuration: group %s appears twice", g.Name)
		}
		groups[g.Name] = true
		if err := g.GroupProperties.Check(); err != nil {
			return Errorf(CodeInvalidParameter, "configuration, group %s: %v", g.Name, err)
		}
		for _, r := range g.Resources {
			if err := CheckName(r.Name); err != nil {
				return err
			}
			if other, ok := resources[r.Name]; ok {
				return Errorf(CodeObjectAlreadyExists, "configuration: resource %s appears in group %s and in group %s", r.Name, other, g.Name)
			}
			resources[r.Name] = g.Name
			if _, err := ParseAgent(r.Agent); err != nil {
				return Errorf(CodeInvalidParameter, "configuration, resource %s: %v", r.Name, err)
			}
			for k, v := range r.Params {
				if err := CheckParam(k, v); err != nil {
					return Errorf(CodeInvalidParameter, "configuration, resource %s: %v", r.Name, err)
				}
			}
			if err := r.ResourceProperties.Check(); err != nil {
				return Errorf(CodeInvalidParameter, "configuration, resource %s: %v", r.Name, err)
			}
		}
	}
	for _, g := range c.Groups {
		for _, r := range g.Resources {
			d, err := ParseDependency(r.Depends)
			if err != nil {
				return Errorf(codeOr(err, CodeInvalidParameter), "configuration, resource %s: %v", r.Name, err)
			}
			for _, p := range d.Providers() {
				if resources[p] != g.Name {
					return Errorf(CodeDependencyNotFound, "configuration, resource %s depends on [%s], which is not a resource of group %s", r.Name, p, g.Name)
				}
			}
		}
	}
	return nil
}

// codeOr returns the code of err, or def when it carries none.
func codeOr(err error, def Code) Code {
	if c, ok := CodeOf(err); ok {
		return c
	}
	return def
}

// Marshal writes c as YAML, the form ParseConfig reads.
func (c *Config) Marshal() ([]byte, error) {
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(c); err != nil {
		return nil, err
	}
	return b.Bytes(), enc.Close()
}

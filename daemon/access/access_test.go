package access

import (
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseMode(t *testing.T) {
	for s, want := range map[string]Mode{"owner": ModeOwner, "open": ModeOpen} {
		m, err := ParseMode(s)
		require.NoError(t, err, "%q is a mode", s)
		assert.Equal(t, want, m)
		assert.Equal(t, s, m.String(), "String gives back what ParseMode reads")
	}
	for _, s := range []string{"", "Open", "closed", "rsct"} {
		_, err := ParseMode(s)
		assert.ErrorIs(t, err, ErrMode, "%q is not a mode", s)
	}
}

// rootGroup is the name of gid 0 on this machine ("root" almost
// everywhere), so that tests can use a name that resolves.
func rootGroup(t *testing.T) string {
	g, err := user.LookupGroupId("0")
	require.NoError(t, err, "gid 0 has a name")
	return g.Name
}

func TestRulesGrant(t *testing.T) {
	file := `# a comment, then a blank line

app.db      user:1001 group:2001     # exact name
web.*       user:root                # a prefix
"two words" user:1003
"star*"     user:1004                # quoted: exact, the '*' is part of the name
*           group:` + rootGroup(t) + `
	tab.sep	user:1005
`
	rs, err := ParseRules(strings.NewReader(file), "rules")
	require.NoError(t, err, "a well-formed file parses")
	require.Equal(t, 6, rs.Len(), "six rules")
	p := &Policy{Rules: rs}

	cases := []struct {
		group    string
		uid, gid uint32
		groups   []uint32
		want     bool
		why      string
	}{
		{"app.db", 1001, 50, nil, true, "the uid is named"},
		{"app.db", 50, 2001, nil, true, "the primary gid is named"},
		{"app.db", 50, 50, []uint32{7, 2001}, true, "a supplementary gid is named"},
		{"app.db", 50, 50, []uint32{7}, false, "nobody named"},
		{"app.dbx", 1001, 50, nil, false, "an exact name is not a prefix"},
		{"web.front", 0, 50, nil, true, "user:root resolves to uid 0; the prefix matches"},
		{"web", 0, 50, nil, false, "the prefix is web., not web"},
		{"two words", 1003, 1, nil, true, "a quoted name with a space"},
		{"star*", 1004, 1, nil, true, "a quoted name is exact"},
		{"starry", 1004, 1, nil, false, "a quoted name is not a prefix"},
		{"anything", 77, 0, nil, true, "* matches every group"},
		{"tab.sep", 1005, 1, nil, true, "tabs separate words too"},
	}
	for _, c := range cases {
		assert.Equal(t, c.want, p.Grants(c.group, c.uid, c.gid, c.groups), "%s: group %q uid %d gid %d groups %v", c.why, c.group, c.uid, c.gid, c.groups)
	}
}

func TestModes(t *testing.T) {
	var none *Policy
	assert.False(t, none.Grants("g", 5, 5, nil), "no policy grants nothing")
	assert.False(t, (&Policy{}).Grants("g", 5, 5, nil), "owner mode without rules grants nothing")
	assert.True(t, (&Policy{Mode: ModeOpen}).Grants("g", 5, 5, nil), "open mode grants every group")
	assert.Equal(t, "owner, no rules", none.Describe())
}

// TestBadRuleFiles: each kind of mistake is refused with the file's name
// and the line's number.
func TestBadRuleFiles(t *testing.T) {
	cases := map[string]struct {
		text, line, says string
	}{
		"no grantee":      {"ok user:1\nlonely\n", ":2:", "no user or group"},
		"unknown kind":    {"g uid:5\n", ":1:", "unknown kind"},
		"no colon":        {"\n\ng alice\n", ":3:", "want user:NAME"},
		"empty value":     {"g user:\n", ":1:", "want user:NAME"},
		"unknown user":    {"g user:no-such-user-hags-test\n", ":1:", "no such user"},
		"unknown group":   {"g group:no-such-group-hags-test\n", ":1:", "no such group"},
		"bad uid":         {"g user:12x\n", ":1:", "not a valid id"},
		"uid -1":          {"g user:4294967295\n", ":1:", "not a valid id"},
		"uid too big":     {"g user:99999999999\n", ":1:", "not a valid id"},
		"star inside":     {"a*b user:1\n", ":1:", "may only end"},
		"two stars":       {"a** user:1\n", ":1:", "may only end"},
		"reserved":        {"hags.rm user:1\n", ":1:", "reserved for root"},
		"reserved prefix": {"hags.* user:1\n", ":1:", "reserved for root"},
		"open quote":      {"\"g user:1\n", ":1:", "not closed"},
		"after quote":     {"\"g\"x user:1\n", ":1:", "right after"},
		"empty quoted":    {"\"\" user:1\n", ":1:", "empty group name"},
		"too long":        {strings.Repeat("g", 128) + " user:1\n", ":1:", "longer than 127"},
		"nul":             {"\"a\\x00b\" user:1\n", ":1:", "NUL"},
		"long line":       {"g user:1\ng " + strings.Repeat("user:1 ", MaxLineBytes/7+1) + "\n", ":2:", "longer than"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := ParseRules(strings.NewReader(c.text), "rules")
			require.ErrorIs(t, err, ErrRules, "the file is refused")
			assert.Contains(t, err.Error(), "rules"+c.line, "the error names the file and line")
			assert.Contains(t, err.Error(), c.says, "the error says what is wrong")
		})
	}
	big := strings.Repeat("# padding padding padding padding padding padding padding padding\n", MaxRuleFileBytes/60)
	_, err := ParseRules(strings.NewReader(big), "big")
	assert.ErrorIs(t, err, ErrRules, "a file over %d bytes is refused", MaxRuleFileBytes)
}

func TestLoadRules(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rules")
	require.NoError(t, os.WriteFile(path, []byte("g user:"+strconv.Itoa(1234)+"\n"), 0o644))
	rs, err := LoadRules(path)
	require.NoError(t, err)
	assert.True(t, rs.grants("g", 1234, 1, nil), "the file's rule grants")
	_, err = LoadRules(filepath.Join(t.TempDir(), "missing"))
	assert.ErrorIs(t, err, ErrRules, "a missing file is refused")
}

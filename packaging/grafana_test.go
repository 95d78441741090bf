package packaging

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// dashboard is what the test reads of a Grafana dashboard.
type dashboard struct {
	Title  string `json:"title"`
	Panels []struct {
		Title   string `json:"title"`
		Targets []struct {
			Expr string `json:"expr"`
		} `json:"targets"`
	} `json:"panels"`
}

// TestGrafanaDashboardShowsTheDocumentedMetrics: the shipped dashboard is
// valid JSON whose queries name only metrics docs/metrics.md documents,
// and every documented metric has a panel.
func TestGrafanaDashboardShowsTheDocumentedMetrics(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("grafana", "hags.json"))
	require.NoError(t, err)
	var dash dashboard
	require.NoError(t, json.Unmarshal(b, &dash), "the dashboard is JSON")
	name := regexp.MustCompile(`\bhags_[a-z_]+`)
	used := map[string]bool{}
	latency := false
	for _, p := range dash.Panels {
		latency = latency || strings.Contains(p.Title, "latency")
		for _, tg := range p.Targets {
			for _, m := range name.FindAllString(tg.Expr, -1) {
				used[strings.TrimSuffix(m, "_bucket")] = true
			}
		}
	}
	require.NotEmpty(t, used, "the dashboard queries metrics")
	assert.True(t, latency, "a panel shows the protocols' latency")

	doc, err := os.ReadFile(filepath.Join(root, "docs", "metrics.md"))
	require.NoError(t, err)
	documented := map[string]bool{}
	for _, m := range regexp.MustCompile("`(hags_[a-z_]*[a-z])`").FindAllStringSubmatch(string(doc), -1) {
		documented[m[1]] = true // prefixes such as `hags_rm_` end in _ and are left out
	}
	for m := range used {
		assert.True(t, documented[m], "the dashboard's %s is documented in docs/metrics.md", m)
	}
	for m := range documented {
		if m != "hags_build_info" { // the dashboard's variables read it
			assert.True(t, used[m], "documented metric %s has a panel", m)
		}
	}
}

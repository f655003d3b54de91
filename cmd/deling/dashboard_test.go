package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// Every deling_ metric the Grafana dashboard in docs/ uses, and every one
// docs/OPERATIONS.md lists, is made somewhere in the code.
func TestDashboardMetricsExist(t *testing.T) {
	b, err := os.ReadFile("../../docs/grafana-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Panels []struct {
			Title   string
			Targets []struct{ Expr string }
		}
	}
	if err := json.Unmarshal(b, &dash); err != nil || len(dash.Panels) == 0 {
		t.Fatalf("dashboard: %v, %d panels", err, len(dash.Panels))
	}
	var code strings.Builder
	for _, dir := range []string{"../../internal", "."} {
		filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() && strings.HasSuffix(p, ".go") && !strings.HasSuffix(p, "_test.go") {
				src, _ := os.ReadFile(p)
				code.Write(src)
			}
			return nil
		})
	}
	name := regexp.MustCompile(`deling_[a-z_]+`)
	check := func(where, text string) {
		for _, m := range name.FindAllString(text, -1) {
			base := strings.TrimSuffix(m, "_bucket")
			if !strings.Contains(code.String(), `"`+base+`"`) {
				t.Errorf("%s uses %s, which no code makes", where, m)
			}
		}
	}
	for _, p := range dash.Panels {
		for _, tg := range p.Targets {
			check("dashboard panel "+p.Title, tg.Expr)
		}
	}
	ops, err := os.ReadFile("../../docs/OPERATIONS.md")
	if err != nil {
		t.Fatal(err)
	}
	check("docs/OPERATIONS.md", string(ops))
}

package machineapi

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

// The OpenAPI document names exactly the routes of the route table (the
// whole-server test in package web also calls each of them).
func TestOpenAPIMatchesRouteTable(t *testing.T) {
	var doc struct {
		OpenAPI string                    `json:"openapi"`
		Paths   map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(openAPIDocument, &doc); err != nil || doc.OpenAPI != "3.1.0" {
		t.Fatalf("document: %v %q", err, doc.OpenAPI)
	}
	var documented []string
	for path, ops := range doc.Paths {
		for method := range ops {
			documented = append(documented, strings.ToUpper(method)+" "+path)
		}
	}
	s := &Server{}
	routes := s.Patterns()
	for _, r := range routes {
		if _, path, _ := strings.Cut(r, " "); !strings.HasPrefix(path, "/api/") && !strings.HasPrefix(path, "/audit/") {
			t.Errorf("route %s is outside /api/ and /audit/", r)
		}
	}
	slices.Sort(documented)
	slices.Sort(routes)
	if !slices.Equal(documented, routes) {
		t.Errorf("documented:\n%s\nroutes:\n%s", strings.Join(documented, "\n"), strings.Join(routes, "\n"))
	}
}

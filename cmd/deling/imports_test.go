package main

import (
	"go/build"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// importGraph is every package of the module with its imports: module
// packages by path relative to the module ("internal/store"), others as
// they are spelled ("net/http").
type importGraph map[string][]string

// loadImports reads the non-test imports of every package below the module root.
func loadImports(t *testing.T) importGraph {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	const module = "deling/"
	g := importGraph{}
	err = filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			return nil
		}
		if name := d.Name(); path != root && (strings.HasPrefix(name, ".") || name == "testdata" || name == "node_modules") {
			return filepath.SkipDir
		}
		pkg, err := build.ImportDir(path, 0)
		if err != nil {
			return nil // no Go files here
		}
		rel, _ := filepath.Rel(root, path)
		for _, imp := range pkg.Imports {
			g[filepath.ToSlash(rel)] = append(g[filepath.ToSlash(rel)], strings.TrimPrefix(imp, module))
		}
		if _, ok := g[filepath.ToSlash(rel)]; !ok {
			g[filepath.ToSlash(rel)] = nil
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// deps is every package p depends on, directly or not (as `go list -deps`).
func (g importGraph) deps(p string) []string {
	seen := map[string]bool{}
	var walk func(string)
	walk = func(p string) {
		for _, imp := range g[p] {
			if !seen[imp] {
				seen[imp] = true
				walk(imp)
			}
		}
	}
	walk(p)
	var out []string
	for d := range seen {
		out = append(out, d)
	}
	slices.Sort(out)
	return out
}

// The import direction of DESIGN.md: the domain knows no SQL and no HTTP;
// storage and the pipeline know no HTTP; nothing imports the command.
// Storage implements what the authorisation server needs with the token
// model (package token, which knows no HTTP), never with the server
// (token/authserver) or the bearer-token verifier (token/bearer).
func TestImportDirection(t *testing.T) {
	g := loadImports(t)
	isWeb := func(p string) bool { return p == "internal/web" || strings.HasPrefix(p, "internal/web/") }
	domain := []string{"internal/ident", "internal/register", "internal/access", "internal/audit", "internal/governance",
		"internal/incident", "internal/dpa", "internal/post"}
	for _, p := range domain {
		if _, ok := g[p]; !ok {
			continue // not built yet
		}
		for _, d := range g.deps(p) {
			if d == "internal/store" || d == "internal/lookup" || d == "internal/extract" || isWeb(d) || d == "net/http" || d == "database/sql" {
				t.Errorf("%s is a domain package but depends on %s", p, d)
			}
		}
	}
	// "x/..." forbids x and every package below it.
	for p, forbidden := range map[string][]string{
		"internal/mail":            {"internal/store"},
		"internal/extract":         {"internal/store", "internal/web/...", "net/http"},
		"internal/store":           {"internal/token/authserver", "internal/token/bearer", "internal/web/...", "net/http"},
		"internal/token":           {"net/http"},
		"internal/lookup":          {"internal/store", "internal/web/...", "net/http"},
		"internal/web/httperr":     {"internal/web", "internal/web/channel", "internal/web/machineapi", "internal/web/portal/..."},
		"internal/web/channel":     {"internal/web", "internal/web/machineapi", "internal/web/portal/..."},
		"internal/web/machineapi":  {"internal/web", "internal/web/portal/..."},
		"internal/web/portal":      {"internal/web", "internal/web/machineapi"},
		"internal/web/portal/site": {"internal/web", "internal/web/machineapi", "internal/web/portal/..."},
	} {
		if _, ok := g[p]; !ok {
			t.Errorf("package %s is missing", p)
			continue
		}
		for _, d := range g.deps(p) {
			for _, f := range forbidden {
				if d == f || (strings.HasSuffix(f, "/...") && (d == strings.TrimSuffix(f, "/...") || strings.HasPrefix(d, strings.TrimSuffix(f, "...")))) {
					t.Errorf("%s depends on %s", p, d)
				}
			}
		}
	}
	// The portal's features (docs/ARCHITECTURE.md): each a package under
	// internal/web/portal that may import site, but no other feature, nor
	// the portal, package web or machineapi.
	for p := range g {
		if !strings.HasPrefix(p, "internal/web/portal/") || p == "internal/web/portal/site" {
			continue
		}
		for _, d := range g.deps(p) {
			if d == "internal/web" || d == "internal/web/machineapi" || d == "internal/web/portal" ||
				(strings.HasPrefix(d, "internal/web/portal/") && d != "internal/web/portal/site") {
				t.Errorf("%s is a feature of the portal but depends on %s", p, d)
			}
		}
	}
	for p := range g {
		if p == "cmd/deling" {
			continue
		}
		if slices.Contains(g.deps(p), "cmd/deling") {
			t.Errorf("%s imports the command", p)
		}
	}
}

// No package is over ~3,000 lines of non-test code unless its doc.go says
// why (the house limit, docs/ARCHITECTURE.md).
func TestPackageSize(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	for p := range loadImports(t) {
		dir := filepath.Join(root, filepath.FromSlash(p))
		files, _ := filepath.Glob(filepath.Join(dir, "*.go"))
		lines := 0
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			lines += strings.Count(string(b), "\n")
		}
		if lines <= 3000 {
			continue
		}
		doc, _ := os.ReadFile(filepath.Join(dir, "doc.go"))
		if !strings.Contains(string(doc), "house limit") {
			t.Errorf("%s has %d lines of non-test code and its doc.go does not say why it is over the house limit of ~3,000", p, lines)
		}
	}
}

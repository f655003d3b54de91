package site

import (
	"testing"
	"testing/fstest"
)

// A feature's templates are parsed with the layout, and none may replace a
// page or a partial of the site's or of another feature (a {{define}} of the
// same name would otherwise win silently).
func TestParseRefusesTwoOfAName(t *testing.T) {
	a, err := loadAssets()
	if err != nil {
		t.Fatal(err)
	}
	s := &Site{assets: a}
	page := func(name, body string) fstest.MapFS {
		return fstest.MapFS{"templates/" + name: {Data: []byte(body)}}
	}
	good := page("side.html", `{{template "top" .}}<p>{{.Title}}</p>{{template "bottom" .}}`)
	if err := s.Parse(good, page("annen.html", `{{define "annen-del"}}x{{end}}`)); err != nil {
		t.Fatalf("two features with names of their own: %v", err)
	}
	if s.templates.Lookup("side.html") == nil || s.templates.Lookup("layout.html") == nil || s.templates.Lookup("annen-del") == nil {
		t.Fatal("a feature's page, the layout or a feature's partial was not parsed")
	}
	for name, fsys := range map[string]fstest.MapFS{
		"the site's page":          page("notfound.html", `x`),
		"the site's partial":       page("ny.html", `{{define "field"}}x{{end}}`),
		"another feature's page":   page("side.html", `y`),
		"another feature's define": page("ny2.html", `{{define "annen-del"}}y{{end}}`),
	} {
		if err := s.Parse(good, page("annen.html", `{{define "annen-del"}}x{{end}}`), fsys); err == nil {
			t.Errorf("a feature redefining %s was parsed", name)
		}
	}
}

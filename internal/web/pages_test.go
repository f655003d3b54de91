package web

import (
	"regexp"
	"strings"
	"testing"
)

// The start page is Norwegian, works without JavaScript, and its static files
// are served under content-hash URLs that may be cached for good.
func TestStartPage(t *testing.T) {
	h := newHarness(t)
	h.checkpoint()
	a := h.do("GET", "", "/", nil)
	body := string(a.body)
	if a.status != 200 || !strings.HasPrefix(a.header.Get("Content-Type"), "text/html") {
		t.Fatalf("start page: %d %s", a.status, a.header.Get("Content-Type"))
	}
	for _, want := range []string{`lang="nb"`, "Oppslagsloggen", "Testmiljø – bare syntetiske data", "400 personer", `href="/api/openapi.json"`} {
		if !strings.Contains(body, want) {
			t.Errorf("the start page lacks %q", want)
		}
	}
	if a.header.Get("Content-Security-Policy") == "" {
		t.Error("no Content-Security-Policy")
	}
	urls := regexp.MustCompile(`/static/[0-9a-f]{16}/[a-z.-]+`).FindAllString(body, -1)
	if len(urls) != 4 {
		t.Fatalf("static URLs: %v", urls)
	}
	for _, u := range urls {
		s := h.do("GET", "", u, nil)
		if s.status != 200 || !strings.Contains(s.header.Get("Cache-Control"), "immutable") || len(s.body) < 100 {
			t.Errorf("%s: %d %q %d bytes", u, s.status, s.header.Get("Cache-Control"), len(s.body))
		}
	}
	if s := h.do("GET", "", "/static/0000000000000000/designsystemet.css", nil); s.status != 404 {
		t.Errorf("a stale hash: %d", s.status)
	}
}

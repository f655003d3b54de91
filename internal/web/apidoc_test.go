package web

import (
	"crypto/sha256"
	"encoding/hex"
	"html"
	"io"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
)

// Issue 16, item 12: the API for developers is a page (/utvikler) that works
// without JavaScript — the token flow, examples, problems and a link to
// /api/openapi.json — and loads the vendored OpenAPI viewer (Swagger UI) from
// content-hash URLs under the pages' strict Content-Security-Policy.
func TestAPIDocPage(t *testing.T) {
	h := newHarness(t)
	get := func(path string) (*http.Response, string) {
		t.Helper()
		resp, err := h.srv.Client().Get(h.srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp, string(b)
	}
	resp, body := get("/utvikler")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Fatalf("/utvikler: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	csp := resp.Header.Get("Content-Security-Policy")
	for _, want := range []string{"script-src 'self';", "frame-ancestors 'none'", "style-src 'self';", "base-uri 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("Content-Security-Policy %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-") {
		t.Errorf("Content-Security-Policy %q allows something unsafe", csp)
	}
	for _, want := range []string{`href="/api/openapi.json"`, "POST /token", "RFC&nbsp;7523", "urn:ietf:params:oauth:grant-type:jwt-bearer",
		"nav:aareg/v1/arbeidsforhold", "deling client add", "Nav-Personident", "application/problem+json", "AA-206", `id="api-visning"`} {
		if !strings.Contains(body, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if strings.Contains(body, "<script>") || strings.Contains(body, "style=") {
		t.Error("the page has an inline script or style")
	}

	// The viewer and its starter are served from content-hash URLs with their types, cached for good.
	for name, ct := range map[string]string{"swagger-ui-bundle.js": "text/javascript; charset=utf-8",
		"apidok.js": "text/javascript; charset=utf-8", "swagger-ui.css": "text/css; charset=utf-8"} {
		m := regexp.MustCompile(`"(/static/([0-9a-f]{16})/` + regexp.QuoteMeta(name) + `)"`).FindStringSubmatch(body)
		if m == nil {
			t.Errorf("the page does not load %s from a content-hash URL", name)
			continue
		}
		resp, file := get(m[1])
		sum := sha256.Sum256([]byte(file))
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != ct || hex.EncodeToString(sum[:8]) != m[2] ||
			!strings.Contains(resp.Header.Get("Cache-Control"), "immutable") {
			t.Errorf("%s: %d %q %q, hash %x", m[1], resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Cache-Control"), sum[:8])
		}
		if !strings.Contains(resp.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
			t.Errorf("%s: Content-Security-Policy %q", m[1], resp.Header.Get("Content-Security-Policy"))
		}
	}

	// The start page and every page's footer lead to it.
	if _, start := get("/"); strings.Count(start, `href="/utvikler"`) < 2 {
		t.Error("the start page and its footer do not link to /utvikler")
	}

	// The examples run: each command is a line of a shell block in README.md, which the docs test (cmd/deling) runs.
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readmeLines := map[string]bool{}
	for _, l := range strings.Split(string(readme), "\n") {
		readmeLines[command(l)] = true
	}
	examples := regexp.MustCompile(`(?s)<pre class="eksempel" id="eksempel-[a-z]+"><code>(.*?)</code></pre>`).FindAllStringSubmatch(body, -1)
	if len(examples) < 2 {
		t.Fatalf("%d runnable examples on the page", len(examples))
	}
	for _, ex := range examples {
		for _, l := range strings.Split(html.UnescapeString(ex[1]), "\n") {
			if !readmeLines[command(l)] {
				t.Errorf("the example line %q is not in a shell block of README.md", l)
			}
		}
	}
}

// command is a shell line without its comment and surrounding space.
func command(line string) string {
	if i := strings.Index(line, "  #"); i >= 0 {
		line = line[:i]
	}
	return strings.TrimSpace(line)
}

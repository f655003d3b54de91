package portal

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"

	"deling/internal/store"
	"deling/internal/web/httperr"
)

//go:embed static/*.css static/*.js
var staticFiles embed.FS

//go:embed templates/*.html
var templateFiles embed.FS

// assets are the static files with their content hashes, so that their URLs
// change when they do and can be cached for good.
type assets struct {
	byName map[string]asset // name → asset
	byURL  map[string]asset // "/static/<hash>/<name>" → asset
}

type asset struct {
	url, contentType string
	body             []byte
}

func loadAssets() (*assets, error) {
	a := &assets{byName: map[string]asset{}, byURL: map[string]asset{}}
	err := fs.WalkDir(staticFiles, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := staticFiles.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		name := path.Base(p)
		ct := "text/css; charset=utf-8"
		if strings.HasSuffix(name, ".js") {
			ct = "text/javascript; charset=utf-8"
		}
		as := asset{url: "/static/" + hex.EncodeToString(sum[:8]) + "/" + name, contentType: ct, body: b}
		a.byName[name], a.byURL[as.url] = as, as
		return nil
	})
	return a, err
}

// url is the content-hash URL of a static file; templates call it as {{static "name"}}.
func (a *assets) url(name string) (string, error) {
	as, ok := a.byName[name]
	if !ok {
		return "", fmt.Errorf("no static file %q", name)
	}
	return as.url, nil
}

func (s *Server) static(w http.ResponseWriter, r *http.Request) {
	as, ok := s.assets.byURL[r.URL.Path]
	if !ok {
		httperr.Write(w, r, http.StatusNotFound, "", "Fant ikke filen.")
		return
	}
	w.Header().Set("Content-Type", as.contentType)
	w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	w.Write(as.body)
}

// parseTemplates parses every page once at start-up, failing fast.
func parseTemplates(a *assets) (*template.Template, error) {
	return template.New("").Funcs(template.FuncMap{
		"static":    a.url,
		"thousands": func(n int64) string { return thousands(n) },
		"int64":     func(n uint64) int64 { return int64(n) },
		"inc":       func(n int) int { return n + 1 },
		"time":      func(t time.Time) string { return t.Format("02.01.2006 kl. 15:04:05") },
	}).ParseFS(templateFiles, "templates/*.html")
}

func thousands(n int64) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "\u00a0" + s[i:] // Norwegian groups thousands with a (non-breaking) space
	}
	return s
}

// startPage is what the start page shows.
type startPage struct {
	frame
	Counts         store.Counts
	LogSize        uint64
	CheckpointSize uint64
	HasCheckpoint  bool
}

// start answers GET /: what deling is and where its interfaces are, in Norwegian.
func (s *Server) start(w http.ResponseWriter, r *http.Request) {
	v, err := s.loadVisitor(r)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	p := startPage{frame: s.frame(r, v, "Aa-registeret")}
	if p.Counts, err = s.db.Count(r.Context()); err != nil {
		s.pageError(w, r, err)
		return
	}
	if p.LogSize, err = s.db.LogSize(r.Context()); err != nil {
		s.pageError(w, r, err)
		return
	}
	switch size, _, err := s.db.LatestCheckpoint(r.Context()); {
	case err == nil:
		p.CheckpointSize, p.HasCheckpoint = size, true
	case !errors.Is(err, store.ErrNotFound):
		s.pageError(w, r, err)
		return
	}
	s.render(w, r, "start.html", p)
}

// contentSecurityPolicy is every page's: nothing but our own files, and no
// framing by anyone (clickjacking; X-Frame-Options: DENY is set beside it for
// older browsers, in web's middleware).
const contentSecurityPolicy = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; base-uri 'none'"

// render writes a page, or a problem if the template fails (before anything was sent).
func (s *Server) render(w http.ResponseWriter, r *http.Request, name string, data any) {
	var buf bytes.Buffer
	if err := s.templates.ExecuteTemplate(&buf, name, data); err != nil {
		s.pageError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", contentSecurityPolicy)
	w.Write(buf.Bytes())
}

// developerPage is what the developer page shows besides its frame.
type developerPage struct {
	frame
	Scope string
}

// developer answers GET /utvikler: the API for developers, in Norwegian — how
// to get a client, the token flow with examples that run on the demo,
// identifiers in headers, problems — and the OpenAPI document rendered by
// Swagger UI (static/apidok.js). Without JavaScript the text and the link to
// /api/openapi.json are the page.
func (s *Server) developer(w http.ResponseWriter, r *http.Request) {
	v, err := s.loadVisitor(r)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	s.render(w, r, "utvikler.html", developerPage{frame: s.frame(r, v, "API for utviklere"), Scope: s.apiScope})
}

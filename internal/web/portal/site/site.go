package site

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/alexedwards/scs/v2"

	"deling/internal/register"
	"deling/internal/store"
	"deling/internal/web/httperr"
)

//go:embed templates/*.html
var templateFiles embed.FS

// Config is what the site is built from.
type Config struct {
	DB   *store.DB
	Log  *slog.Logger
	Env  register.Env
	Now  func() time.Time
	Oslo *time.Location
	// BaseURL is where people reach deling (links in e-mail and feeds); "" for the request's own host.
	BaseURL string
	// SecureCookies marks the session cookie Secure (sent over HTTPS only).
	SecureCookies bool
	// Nav is the menu, in order: each entry shown to those its guard lets in.
	Nav []NavEntry
}

// NavEntry is a line of the menu.
type NavEntry struct {
	Label, Path string
	Guard       Guard
}

// Site is what every page of the portal shares. Build one with New; its
// templates are parsed once, by Parse, with the features' own.
type Site struct {
	DB       *store.DB
	Log      *slog.Logger
	Env      register.Env
	Now      func() time.Time
	Oslo     *time.Location
	Sessions *scs.SessionManager
	// BaseURL is where people reach deling, without a trailing slash; "" for the request's own host (AbsoluteBase).
	BaseURL string

	nav       []NavEntry
	assets    *assets
	templates *template.Template
}

// New makes the site and loads its static files; Parse must follow before a page is rendered.
func New(cfg Config) (*Site, error) {
	if cfg.DB == nil || cfg.Log == nil || cfg.Now == nil || cfg.Oslo == nil {
		return nil, errors.New("site: DB, Log, Now and Oslo are required")
	}
	s := &Site{DB: cfg.DB, Log: cfg.Log, Env: cfg.Env, Now: cfg.Now, Oslo: cfg.Oslo,
		Sessions: newSessions(cfg.DB, cfg.SecureCookies), BaseURL: strings.TrimRight(cfg.BaseURL, "/"), nav: cfg.Nav}
	var err error
	if s.assets, err = loadAssets(); err != nil {
		return nil, errors.Join(errors.New("site: static files"), err)
	}
	return s, nil
}

// Parse parses the site's templates (the layout, its partials and the error
// pages) with every feature's templates/*.html, once at start-up, failing
// fast. A name — a page's file name or a {{define}} — must be unique across
// the site and the features: none may replace another's.
func (s *Site) Parse(features ...fs.FS) error {
	t, err := template.New("").Funcs(s.funcs()).ParseFS(templateFiles, "templates/*.html")
	if err != nil {
		return errors.Join(errors.New("site: templates"), err)
	}
	for _, f := range features {
		own, err := template.New("").Funcs(s.funcs()).ParseFS(f, "templates/*.html")
		if err != nil {
			return errors.Join(errors.New("site: templates"), err)
		}
		for _, o := range own.Templates() {
			if o.Name() != "" && t.Lookup(o.Name()) != nil {
				return fmt.Errorf("site: template %q is defined twice", o.Name())
			}
		}
		if _, err := t.ParseFS(f, "templates/*.html"); err != nil {
			return errors.Join(errors.New("site: templates"), err)
		}
	}
	s.templates = t
	return nil
}

// Route is a line of a route table: a ServeMux pattern (method and path) and
// its handler — for a signed-in page, SignedIn with the page's guard.
type Route struct {
	Pattern string
	Handler http.Handler
}

// Register adds routes to mux, each through wrap (the server's per-route
// middleware; nil for none) and then through the site's own: protection
// against cross-origin form posts (the browser's Sec-Fetch-Site and Origin
// headers, no tokens), the pages' security headers and the session. Static
// files need none of them.
func (s *Site) Register(mux *http.ServeMux, routes []Route, wrap func(http.Handler) http.Handler) {
	cop := http.NewCrossOriginProtection()
	for _, rt := range routes {
		h := rt.Handler
		if !strings.HasPrefix(rt.Pattern, "GET /static/") {
			h = pageHeaders(cop.Handler(s.Sessions.LoadAndSave(h)))
		}
		if wrap != nil {
			h = wrap(h)
		}
		mux.Handle(rt.Pattern, h)
	}
}

// contentSecurityPolicy is every page's: nothing but our own files, and no
// framing by anyone (clickjacking; X-Frame-Options: DENY is set beside it for
// older browsers, in web's middleware).
const contentSecurityPolicy = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; base-uri 'none'"

// pageHeaders sets the pages' Content-Security-Policy before the handler
// runs, so that a page written after its status (403, 404, errors) has it too.
func pageHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", contentSecurityPolicy)
		h.ServeHTTP(w, r)
	})
}

// Render writes a page, or an error page if the template fails (before anything was sent).
func (s *Site) Render(w http.ResponseWriter, r *http.Request, name string, data any) {
	var buf bytes.Buffer
	if err := s.templates.ExecuteTemplate(&buf, name, data); err != nil {
		s.PageError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", contentSecurityPolicy)
	w.Write(buf.Bytes())
}

// Redirect ends a form post (post/redirect/get).
func Redirect(w http.ResponseWriter, r *http.Request, path string) {
	http.Redirect(w, r, path, http.StatusSeeOther)
}

// NotFound answers a page for something that does not exist, or that the visitor may not see: the same answer for both.
func (s *Site) NotFound(w http.ResponseWriter, r *http.Request, v *Visitor) {
	w.WriteHeader(http.StatusNotFound)
	s.Render(w, r, "notfound.html", s.Frame(r, v, "Fant ikke siden"))
}

// ErrorPage answers a browser's request that matched no route (404) or no
// method of its route (405) with an HTML page. It needs no session.
func (s *Site) ErrorPage(w http.ResponseWriter, r *http.Request, status int) {
	// The mux set text/plain already; the page's headers go before the status.
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", contentSecurityPolicy)
	w.WriteHeader(status)
	if status == http.StatusNotFound {
		s.Render(w, r, "notfound.html", s.PublicFrame(r, "Fant ikke siden"))
		return
	}
	s.Render(w, r, "error.html", struct {
		Frame
		CorrelationID string
	}{s.PublicFrame(r, "Noe gikk galt"), httperr.CorrelationID(r.Context())})
}

// ServeError is the portal's one answer to a handler's error: the status
// httperr.Status maps it to, and the page for that status — "not found" for
// what does not exist or may not be seen, "no access" for what is refused,
// and for anything else an error page naming the correlation id, the error
// logged once.
func (s *Site) ServeError(w http.ResponseWriter, r *http.Request, v *Visitor, err error) {
	switch status := httperr.Status(err); status {
	case http.StatusNotFound:
		s.NotFound(w, r, v)
	case http.StatusForbidden:
		s.Forbidden(w, r, v)
	default:
		if status < http.StatusInternalServerError {
			status = http.StatusInternalServerError // a conflict a handler did not expect is a failure of ours
		}
		s.Log.Error("page failed", "err", err, "route", r.Pattern, "correlation_id", httperr.CorrelationID(r.Context()))
		w.WriteHeader(status)
		s.Render(w, r, "error.html", struct {
			Frame
			CorrelationID string
		}{s.Frame(r, nil, "Noe gikk galt"), httperr.CorrelationID(r.Context())})
	}
}

// PageError answers a page that failed, through ServeError.
func (s *Site) PageError(w http.ResponseWriter, r *http.Request, err error) {
	s.ServeError(w, r, nil, err)
}

// Feature is a part of the portal in a package of its own: its routes and
// its pages' templates (the package's templates/*.html, embedded), parsed
// with the site's layout once at start-up. A feature's constructor takes the
// Site and whatever else it needs; the portal's route table mounts it.
type Feature interface {
	Routes() []Route
	Templates() fs.FS
}

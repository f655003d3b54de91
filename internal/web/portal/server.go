package portal

import (
	"context"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"runtime"
	"strings"
	"time"

	"github.com/alexedwards/scs/v2"

	"deling/internal/access"
	"deling/internal/audit"
	"deling/internal/governance"
	"deling/internal/register"
	"deling/internal/store"
	"deling/internal/web/channel"
	"deling/internal/web/httperr"
)

// Config is what the portal is built from.
type Config struct {
	DB        *store.DB
	Log       *slog.Logger
	Env       register.Env
	Catalogue *access.Catalogue
	Audit     audit.Log
	Shared    *channel.Shared
	// APIScope is the scope a token needs for the register API, shown to developers (/utvikler).
	APIScope string
	// SecureCookies marks the session cookie Secure (sent over HTTPS only).
	SecureCookies bool
	// BaseURL is where people reach deling (links in e-mail and the Atom feed).
	BaseURL string
	// ExtractTTL is how long a finished extract's result is kept (shown on the extract page).
	ExtractTTL time.Duration
	// Governance holds the rules' numbers; zero fields take the defaults.
	Governance governance.Settings
	// DeprecationsChanged is called after this process published a notice that
	// may change the API's deprecation headers; nil for none.
	DeprecationsChanged func(context.Context)
	Now                 func() time.Time
	Oslo                *time.Location
}

// Server holds what the portal's handlers need. Build one with New.
type Server struct {
	apiScope string // shown on the developers' page
	*channel.Shared
	db        *store.DB
	log       *slog.Logger
	env       register.Env
	catalogue *access.Catalogue
	audit     audit.Log
	now       func() time.Time
	oslo      *time.Location

	assets    *assets
	templates *template.Template

	sessions            *scs.SessionManager
	throttle            governance.Throttle // sign-in throttling (portal.go)
	hashSlots           chan struct{}       // password verifications at once (portal.go)
	strangerSlots       chan struct{}       // of which attempts not known to the throttle may hold these (portal.go)
	secureCookies       bool
	baseURL             string
	rules               governance.Settings
	extractTTL          time.Duration
	deprecationsChanged func(context.Context)
}

// New makes the portal, parsing its templates (failing fast).
func New(cfg Config) (*Server, error) {
	if cfg.DB == nil || cfg.Log == nil || cfg.Catalogue == nil || cfg.Audit == nil || cfg.Shared == nil || cfg.Now == nil || cfg.Oslo == nil {
		return nil, errors.New("portal: DB, Log, Catalogue, Audit, Shared, Now and Oslo are required")
	}
	s := &Server{
		Shared: cfg.Shared,
		db:     cfg.DB, log: cfg.Log, env: cfg.Env, catalogue: cfg.Catalogue, audit: cfg.Audit,
		now: cfg.Now, oslo: cfg.Oslo, apiScope: cfg.APIScope,
		sessions:            newSessions(cfg.DB, cfg.SecureCookies),
		secureCookies:       cfg.SecureCookies,
		baseURL:             strings.TrimRight(cfg.BaseURL, "/"),
		rules:               cfg.Governance.WithDefaults(),
		throttle:            governance.DefaultThrottle,
		extractTTL:          cfg.ExtractTTL,
		deprecationsChanged: cfg.DeprecationsChanged,
	}
	// At least one slot is kept for known attempts (portal.go, takeHashSlot).
	slots := max(2, runtime.GOMAXPROCS(0))
	s.hashSlots, s.strangerSlots = make(chan struct{}, slots), make(chan struct{}, slots-1)
	if s.extractTTL <= 0 {
		s.extractTTL = 7 * 24 * time.Hour
	}
	if s.deprecationsChanged == nil {
		s.deprecationsChanged = func(context.Context) {}
	}
	var err error
	if s.assets, err = loadAssets(); err != nil {
		return nil, errors.Join(errors.New("portal: static files"), err)
	}
	if s.templates, err = parseTemplates(s.assets); err != nil {
		return nil, errors.Join(errors.New("portal: templates"), err)
	}
	return s, nil
}

// Register adds every route of the portal to mux, each through wrap (the
// server's per-route middleware; nil for none) and then through the portal's
// own: protection against cross-origin form posts (the browser's
// Sec-Fetch-Site and Origin headers, no tokens) and the session. Static files
// need neither.
func (s *Server) Register(mux *http.ServeMux, wrap func(http.Handler) http.Handler) {
	cop := http.NewCrossOriginProtection()
	for _, rt := range s.routeTable() {
		h := rt.handler
		if !strings.HasPrefix(rt.pattern, "GET /static/") {
			h = pageHeaders(cop.Handler(s.sessions.LoadAndSave(h)))
		}
		if wrap != nil {
			h = wrap(h)
		}
		mux.Handle(rt.pattern, h)
	}
}

// pageHeaders sets the pages' Content-Security-Policy before the handler
// runs, so that a page written after its status (403, 404, errors) has it too.
func pageHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", contentSecurityPolicy)
		h.ServeHTTP(w, r)
	})
}

// ErrorPage answers a browser's request that matched no route (404) or no
// method of its route (405) with an HTML page. It needs no session.
func (s *Server) ErrorPage(w http.ResponseWriter, r *http.Request, status int) {
	// The mux set text/plain already; the page's headers go before the status.
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", contentSecurityPolicy)
	w.WriteHeader(status)
	if status == http.StatusNotFound {
		s.render(w, r, "notfound.html", s.publicFrame(r, "Fant ikke siden"))
		return
	}
	s.render(w, r, "error.html", struct {
		frame
		CorrelationID string
	}{s.publicFrame(r, "Noe gikk galt"), httperr.CorrelationID(r.Context())})
}

// serveError is the portal's one answer to a handler's error: the status
// httperr.Status maps it to, and the page for that status — "not found" for
// what does not exist or may not be seen, "no access" for what is refused,
// and for anything else an error page naming the correlation id, the error
// logged once.
func (s *Server) serveError(w http.ResponseWriter, r *http.Request, v *visitor, err error) {
	switch status := httperr.Status(err); status {
	case http.StatusNotFound:
		s.notFound(w, r, v)
	case http.StatusForbidden:
		w.WriteHeader(http.StatusForbidden)
		s.render(w, r, "forbidden.html", s.frame(r, v, "Ingen tilgang"))
	default:
		if status < http.StatusInternalServerError {
			status = http.StatusInternalServerError // a conflict a handler did not expect is a failure of ours
		}
		s.log.Error("page failed", "err", err, "route", r.Pattern, "correlation_id", httperr.CorrelationID(r.Context()))
		w.WriteHeader(status)
		s.render(w, r, "error.html", struct {
			frame
			CorrelationID string
		}{s.frame(r, nil, "Noe gikk galt"), httperr.CorrelationID(r.Context())})
	}
}

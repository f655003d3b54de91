package portal

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"net/http"
	"runtime"
	"time"

	"deling/internal/access"
	"deling/internal/audit"
	"deling/internal/governance"
	"deling/internal/register"
	"deling/internal/store"
	"deling/internal/web/channel"
	"deling/internal/web/portal/openid"
	"deling/internal/web/portal/site"
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
	// SignInFailed is told of each failed or throttled sign-in ("password" or
	// "throttled"), for the operator's metrics; nil for none.
	SignInFailed func(reason string)
	// OpenID is sign-in with OpenID Connect (ID-porten, the staff's provider); zero for none (issue 16, item 6).
	OpenID openid.Config
	Now    func() time.Time
	Oslo   *time.Location
}

// Server holds what the portal's handlers need. Build one with New.
type Server struct {
	*site.Site             // the store, the visitor, guards, frame, rendering, sessions (package site)
	*channel.Shared        // what the API does alike: identifiers, extracts, insight
	apiScope        string // shown on the developers' page
	signInFailed    func(reason string)
	catalogue       *access.Catalogue
	audit           audit.Log
	features        []site.Feature  // each mounted by the route table (routes.go)
	openid          *openid.Feature // sign-in with OpenID Connect: its buttons on the sign-in page

	throttle      governance.Throttle // sign-in throttling (portal.go)
	hashSlots     chan struct{}       // password verifications at once (portal.go)
	strangerSlots chan struct{}       // of which attempts not known to the throttle may hold these (portal.go)
	secureCookies bool
	rules         governance.Settings
	extractTTL    time.Duration
}

// New makes the portal and its features, parsing their templates (failing fast).
func New(cfg Config) (*Server, error) {
	if cfg.DB == nil || cfg.Log == nil || cfg.Catalogue == nil || cfg.Audit == nil || cfg.Shared == nil || cfg.Now == nil || cfg.Oslo == nil {
		return nil, errors.New("portal: DB, Log, Catalogue, Audit, Shared, Now and Oslo are required")
	}
	st, err := site.New(site.Config{DB: cfg.DB, Log: cfg.Log, Env: cfg.Env, Now: cfg.Now, Oslo: cfg.Oslo,
		BaseURL: cfg.BaseURL, SecureCookies: cfg.SecureCookies, Nav: navigation})
	if err != nil {
		return nil, errors.Join(errors.New("portal"), err)
	}
	s := &Server{
		Site: st, Shared: cfg.Shared,
		catalogue: cfg.Catalogue, audit: cfg.Audit, apiScope: cfg.APIScope, signInFailed: cfg.SignInFailed,
		secureCookies: cfg.SecureCookies,
		rules:         cfg.Governance.WithDefaults(),
		throttle:      governance.DefaultThrottle,
		extractTTL:    cfg.ExtractTTL,
	}
	// At least one slot is kept for known attempts (portal.go, takeHashSlot).
	slots := max(2, runtime.GOMAXPROCS(0))
	s.hashSlots, s.strangerSlots = make(chan struct{}, slots), make(chan struct{}, slots-1)
	if s.extractTTL <= 0 {
		s.extractTTL = 7 * 24 * time.Hour
	}
	s.openid = openid.New(st, cfg.OpenID, cfg.SignInFailed)
	s.features = features(st, cfg, s.openid)
	templates := []fs.FS{templateFiles}
	for _, f := range s.features {
		templates = append(templates, f.Templates())
	}
	if err := st.Parse(templates...); err != nil {
		return nil, errors.Join(errors.New("portal"), err)
	}
	return s, nil
}

// Register adds every route of the portal (routes.go) to mux, each through
// wrap (the server's per-route middleware; nil for none) and then through
// the site's own (site.Register): protection against cross-origin form
// posts, the pages' security headers and the session.
func (s *Server) Register(mux *http.ServeMux, wrap func(http.Handler) http.Handler) {
	s.Site.Register(mux, s.routeTable(), wrap)
}

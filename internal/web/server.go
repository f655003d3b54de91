package web

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"deling/internal/access"
	"deling/internal/audit"
	"deling/internal/governance"
	"deling/internal/register"
	"deling/internal/store"
	"deling/internal/token/authserver"
	"deling/internal/web/channel"
	"deling/internal/web/correspondence"
	"deling/internal/web/httperr"
	"deling/internal/web/machineapi"
	"deling/internal/web/portal"
	"deling/internal/web/portal/openid"
)

// Verifier checks access tokens.
type Verifier = machineapi.Verifier

// Config is what the HTTP interface is built from.
type Config struct {
	DB        *store.DB
	Log       *slog.Logger
	Registry  *prometheus.Registry
	Env       register.Env
	Catalogue *access.Catalogue
	// Tokens is the authorisation server; nil leaves /token, /jwks and the metadata out.
	Tokens   *authserver.Server
	Verifier Verifier
	Audit    audit.Log
	// APIScope is the scope a token needs for the register API.
	APIScope string
	// LogVerifierKey is the note verifier key of the lookup log's checkpoints (served at /audit/key).
	LogVerifierKey string
	// AdminToken grants the register's staff the insight endpoints; empty turns them off.
	AdminToken string
	// ReceiptsWithin is how long a new record waits at most for a signed checkpoint (machineapi.Config).
	ReceiptsWithin time.Duration
	// InsightCategories are the consumer categories whose lookups a person is shown (Rule AA-17); none by default, as the real register.
	InsightCategories []string
	// KeepResponses keeps each answer's exact bytes, compressed, in its log record; otherwise only their SHA-256.
	KeepResponses bool
	// RateBlockFor is how long a consumer that keeps exceeding its rate limit is blocked (default 60 s).
	RateBlockFor time.Duration
	// SecureCookies marks the portal's session cookie Secure (sent over HTTPS only); off for plain-HTTP demos and tests.
	SecureCookies bool
	// BaseURL is where people reach deling (links in e-mail and the Atom feed), e.g. https://deling.example.no.
	BaseURL string
	// OpenID is sign-in with OpenID Connect in the portal (ID-porten, the staff's provider); zero for none.
	OpenID openid.Config
	// ExtractDir is where extract (uttrekk) results are written; empty turns extracts off.
	ExtractDir string
	// ExtractMaxUnits is how many persons or employers one extract may name (default extract.DefaultMaxUnits).
	ExtractMaxUnits int
	// ExtractTTL is how long a finished extract's result is kept before it is deleted (default 7 days).
	ExtractTTL time.Duration
	// Governance holds the rules' numbers (review intervals, notice periods); zero fields take the defaults.
	Governance governance.Settings
	Now        func() time.Time
}

// Server is deling's HTTP face: the shared middleware around the token
// server, the machine API and the portal. Build one with New.
type Server struct {
	db       *store.DB
	log      *slog.Logger
	registry *prometheus.Registry
	tokens   *authserver.Server
	now      func() time.Time

	api    *machineapi.Server
	portal *portal.Server
	post   *correspondence.Server // digital post (issue 14)

	deprecations deprecationCache // API deprecations for apiHeaders (deprecation.go)

	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	// signInFailures counts failed portal sign-ins by reason: password, throttled.
	signInFailures *prometheus.CounterVec
}

// New makes a Server, with its machine API and portal, and registers its metrics.
func New(cfg Config) (*Server, error) {
	if cfg.DB == nil || cfg.Log == nil || cfg.Registry == nil || cfg.Catalogue == nil || cfg.Verifier == nil || cfg.Audit == nil {
		return nil, errors.New("web: DB, Log, Registry, Catalogue, Verifier and Audit are required")
	}
	oslo, err := time.LoadLocation("Europe/Oslo")
	if err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &Server{
		db: cfg.DB, log: cfg.Log, registry: cfg.Registry, tokens: cfg.Tokens, now: cfg.Now,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "deling_http_requests_total",
			Help: "HTTP requests by route pattern and status code.",
		}, []string{"route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "deling_http_request_duration_seconds",
			Help:    "Time to answer an HTTP request, by route pattern.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"route"}),
		signInFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "deling_signin_failures_total",
			Help: "Failed portal sign-ins, by reason: password (wrong address or password), throttled (refused before trying), or openid-* (a sign-in with OpenID Connect refused: state, id-token, unknown-staff, …).",
		}, []string{"reason"}),
	}
	for _, reason := range []string{"password", "throttled"} {
		s.signInFailures.WithLabelValues(reason) // shown as 0 before the first
	}
	shared := channel.New(channel.Config{DB: cfg.DB, Log: cfg.Log, Audit: cfg.Audit, Catalogue: cfg.Catalogue, Env: cfg.Env,
		Now: cfg.Now, Oslo: oslo, InsightCategories: cfg.InsightCategories, ExtractDir: cfg.ExtractDir, ExtractMaxUnits: cfg.ExtractMaxUnits,
		KeepResponses: cfg.KeepResponses})
	if s.api, err = machineapi.New(machineapi.Config{DB: cfg.DB, Log: cfg.Log, Registry: cfg.Registry, Env: cfg.Env, Catalogue: cfg.Catalogue,
		Verifier: cfg.Verifier, Shared: shared, APIScope: cfg.APIScope, LogVerifierKey: cfg.LogVerifierKey,
		AdminToken: cfg.AdminToken, ReceiptsWithin: cfg.ReceiptsWithin, RateBlockFor: cfg.RateBlockFor, Now: cfg.Now}); err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	if s.portal, err = portal.New(portal.Config{DB: cfg.DB, Log: cfg.Log, Env: cfg.Env, Catalogue: cfg.Catalogue, Audit: cfg.Audit,
		Shared: shared, APIScope: s.api.Scope(), SecureCookies: cfg.SecureCookies, BaseURL: cfg.BaseURL,
		ExtractTTL: cfg.ExtractTTL, Governance: cfg.Governance, DeprecationsChanged: s.reloadDeprecations,
		SignInFailed: func(reason string) { s.signInFailures.WithLabelValues(reason).Inc() }, OpenID: cfg.OpenID,
		Now: cfg.Now, Oslo: oslo}); err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	if s.post, err = correspondence.New(correspondence.Config{DB: cfg.DB, Log: cfg.Log, Verifier: cfg.Verifier, Now: cfg.Now, Oslo: oslo}); err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	cfg.Registry.MustRegister(s.requests, s.duration, s.signInFailures)
	return s, nil
}

// DefaultAPIScope is the Maskinporten scope of the register API: the real
// register's, so that existing clients work unchanged.
const DefaultAPIScope = machineapi.DefaultAPIScope

// Handler is the whole HTTP interface: the shared middleware around one mux
// on which the token server, the machine API and the portal each register
// their routes (routes.go). Sessions and cross-origin protection wrap the
// portal's routes only.
func (s *Server) Handler() http.Handler {
	return s.middleware(s.routes())
}

// CorrelationHeader is echoed when the caller sends it, and made up when not,
// on every response (as Aa-registeret does).
const CorrelationHeader = httperr.CorrelationHeader

type ctxKey int

const routeKey ctxKey = iota

// matchedRoute carries the route pattern the mux matched back out to the
// middleware: handlers in between (sessions) pass on copies of the request.
type matchedRoute struct{ pattern string }

// CorrelationID is the request's correlation id.
func CorrelationID(ctx context.Context) string { return httperr.CorrelationID(ctx) }

// statusWriter remembers the status code for metrics and the access log.
type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (s *Server) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get(CorrelationHeader)
		if !httperr.AcceptCorrelationID(id) {
			id = newCorrelationID()
		}
		w.Header().Set(CorrelationHeader, id)
		securityHeaders(w.Header())
		s.apiHeaders(w, r)
		matched := &matchedRoute{}
		r = r.WithContext(context.WithValue(httperr.WithCorrelationID(r.Context(), id), routeKey, matched))
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.Error("panic", "correlation_id", id, "route", matched.pattern, "panic", v)
				switch {
				case sw.code != 0:
				case httperr.WantsJSON(r):
					httperr.Write(sw, r, http.StatusInternalServerError, "", "Intern feil. Oppgi correlation-id ved henvendelse.")
				default:
					s.portal.ErrorPage(sw, r, http.StatusInternalServerError)
				}
			}
			route := matched.pattern
			if route == "" {
				route = "unmatched"
			}
			code := sw.code
			if code == 0 {
				code = http.StatusOK
			}
			elapsed := time.Since(start)
			s.requests.WithLabelValues(route, strconv.Itoa(code)).Inc()
			s.duration.WithLabelValues(route).Observe(elapsed.Seconds())
			// The route pattern, never the URL: identifiers must not reach logs.
			s.log.Debug("request", "route", route, "status", code, "duration", elapsed, "correlation_id", id)
		}()
		next.ServeHTTP(sw, r)
	})
}

// securityHeaders go on every answer — page, API, error, file — before the
// handler runs; the portal's pages replace the Content-Security-Policy with
// their own (portal/site/site.go), which forbids framing too.
func securityHeaders(h http.Header) {
	h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
}

func newCorrelationID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write([]byte("ok\n"))
}

// readyz answers 200 when the database answers within two seconds.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.db.Ping(ctx); err != nil {
		s.log.Warn("not ready", "err", err)
		httperr.Write(w, r, http.StatusServiceUnavailable, "", "Databasen svarer ikke.")
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write([]byte("ready\n"))
}

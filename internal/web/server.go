package web

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"deling/internal/access"
	"deling/internal/audit"
	"deling/internal/governance"
	"deling/internal/register"
	"deling/internal/store"
	"deling/internal/token"
)

// Verifier checks access tokens.
type Verifier interface {
	Verify(raw string) (token.Claims, error)
}

// Config is what the HTTP interface is built from.
type Config struct {
	DB        *store.DB
	Log       *slog.Logger
	Registry  *prometheus.Registry
	Env       register.Env
	Catalogue *access.Catalogue
	// Tokens is the authorisation server; nil leaves /token, /jwks and the metadata out.
	Tokens   *token.Server
	Verifier Verifier
	Audit    audit.Log
	// APIScope is the scope a token needs for the register API.
	APIScope string
	// LogVerifierKey is the note verifier key of the lookup log's checkpoints (served at /audit/key).
	LogVerifierKey string
	// AdminToken grants the register's staff the insight endpoints; empty turns them off.
	AdminToken string
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

// Server holds what the handlers need. Build one with New.
type Server struct {
	db           *store.DB
	log          *slog.Logger
	registry     *prometheus.Registry
	env          register.Env
	catalogue    *access.Catalogue
	tokens       *token.Server
	verifier     Verifier
	audit        audit.Log
	apiScope     string
	now          func() time.Time
	oslo         *time.Location
	limits       *limiter
	rateBlockFor time.Duration

	logVerifierKey    string
	adminToken        string
	insightCategories []string
	keepResponses     bool

	assets    *assets
	templates *template.Template

	sessions    *scs.SessionManager
	signInLimit signInLimiter
	hashSlots   chan struct{} // password verifications at once (portal.go)
	baseURL     string
	rules       governance.Settings
	extractDir  string
	extractTTL  time.Duration
	extractMax  int

	deprecations deprecationCache // API deprecations for apiHeaders (portal_notices.go)

	requests    *prometheus.CounterVec
	duration    *prometheus.HistogramVec
	rateLimited *prometheus.CounterVec
	rateBlocked *prometheus.CounterVec
}

// New makes a Server and registers its metrics.
func New(cfg Config) (*Server, error) {
	if cfg.DB == nil || cfg.Log == nil || cfg.Registry == nil || cfg.Catalogue == nil || cfg.Verifier == nil || cfg.Audit == nil {
		return nil, errors.New("web: DB, Log, Registry, Catalogue, Verifier and Audit are required")
	}
	oslo, err := time.LoadLocation("Europe/Oslo")
	if err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	s := &Server{
		db: cfg.DB, log: cfg.Log, registry: cfg.Registry, env: cfg.Env, catalogue: cfg.Catalogue,
		tokens: cfg.Tokens, verifier: cfg.Verifier, audit: cfg.Audit, apiScope: cfg.APIScope,
		now: cfg.Now, oslo: oslo, rateBlockFor: cfg.RateBlockFor,
		logVerifierKey: cfg.LogVerifierKey, adminToken: cfg.AdminToken, insightCategories: cfg.InsightCategories, keepResponses: cfg.KeepResponses,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "deling_http_requests_total",
			Help: "HTTP requests by route pattern and status code.",
		}, []string{"route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "deling_http_request_duration_seconds",
			Help:    "Time to answer an HTTP request, by route pattern.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"route"}),
		rateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "deling_ratelimit_rejected_total",
			Help: "Requests refused with 429 because the consumer exceeded its rate limit (Rule AA-15).",
		}, []string{"consumer"}),
		rateBlocked: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "deling_ratelimit_blocks_total",
			Help: "Times a consumer was blocked for a while for repeatedly exceeding its rate limit.",
		}, []string{"consumer"}),
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.rateBlockFor <= 0 {
		s.rateBlockFor = time.Minute
	}
	if s.apiScope == "" {
		s.apiScope = DefaultAPIScope
	}
	s.limits = newLimiter(s.rateBlockFor)
	s.sessions = newSessions(cfg.DB, cfg.SecureCookies)
	s.hashSlots = make(chan struct{}, runtime.GOMAXPROCS(0))
	s.baseURL = strings.TrimRight(cfg.BaseURL, "/")
	s.rules = cfg.Governance.WithDefaults()
	s.extractDir, s.extractTTL, s.extractMax = cfg.ExtractDir, cfg.ExtractTTL, cfg.ExtractMaxUnits
	if s.extractTTL <= 0 {
		s.extractTTL = 7 * 24 * time.Hour
	}
	if s.assets, err = loadAssets(); err != nil {
		return nil, fmt.Errorf("web: static files: %w", err)
	}
	if s.templates, err = parseTemplates(s.assets); err != nil {
		return nil, fmt.Errorf("web: templates: %w", err)
	}
	cfg.Registry.MustRegister(s.requests, s.duration, s.rateLimited, s.rateBlocked)
	return s, nil
}

// DefaultAPIScope is the Maskinporten scope of the register API: the real
// register's, so that existing clients work unchanged.
const DefaultAPIScope = "nav:aareg/v1/arbeidsforhold"

// Handler is the whole HTTP interface.
func (s *Server) Handler() http.Handler {
	// Forms are protected from cross-site requests by the browser's own
	// Sec-Fetch-Site and Origin headers (no tokens); API clients send neither.
	return s.middleware(http.NewCrossOriginProtection().Handler(s.withSessions(s.routes())))
}

// CorrelationHeader is echoed when the caller sends it, and made up when not,
// on every response (as Aa-registeret does).
const CorrelationHeader = "correlation-id"

type ctxKey int

const (
	correlationKey ctxKey = iota
	routeKey
)

// matchedRoute carries the route pattern the mux matched back out to the
// middleware: handlers in between (sessions) pass on copies of the request.
type matchedRoute struct{ pattern string }

// CorrelationID is the request's correlation id.
func CorrelationID(ctx context.Context) string {
	id, _ := ctx.Value(correlationKey).(string)
	return id
}

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
		if !validCorrelationID(id) {
			id = newCorrelationID()
		}
		w.Header().Set(CorrelationHeader, id)
		s.apiHeaders(w, r)
		matched := &matchedRoute{}
		r = r.WithContext(context.WithValue(context.WithValue(r.Context(), correlationKey, id), routeKey, matched))
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.Error("panic", "correlation_id", id, "route", matched.pattern, "panic", v)
				if sw.code == 0 {
					writeProblem(sw, r, http.StatusInternalServerError, "", "Intern feil. Oppgi correlation-id ved henvendelse.")
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

// validCorrelationID accepts what a caller may send back to us: short, printable ASCII.
func validCorrelationID(id string) bool {
	if id == "" || len(id) > 100 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; c < 0x21 || c > 0x7e {
			return false
		}
	}
	return true
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
		writeProblem(w, r, http.StatusServiceUnavailable, "", "Databasen svarer ikke.")
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write([]byte("ready\n"))
}

func (s *Server) metrics() http.Handler {
	return promhttp.HandlerFor(s.registry, promhttp.HandlerOpts{Registry: s.registry})
}

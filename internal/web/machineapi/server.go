package machineapi

import (
	"cmp"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"deling/internal/access"
	"deling/internal/register"
	"deling/internal/store"
	"deling/internal/token"
	"deling/internal/web/channel"
	"deling/internal/web/httperr"
)

// Verifier checks access tokens.
type Verifier interface {
	Verify(raw string) (token.Claims, error)
}

// DefaultAPIScope is the Maskinporten scope of the register API: the real
// register's, so that existing clients work unchanged.
const DefaultAPIScope = "nav:aareg/v1/arbeidsforhold"

// Config is what the machine API is built from.
type Config struct {
	DB        *store.DB
	Log       *slog.Logger
	Registry  *prometheus.Registry
	Env       register.Env
	Catalogue *access.Catalogue
	Verifier  Verifier
	Shared    *channel.Shared
	// APIScope is the scope a token needs for the register API (default DefaultAPIScope).
	APIScope string
	// LogVerifierKey is the note verifier key of the lookup log's checkpoints (served at /audit/key).
	LogVerifierKey string
	// AdminToken grants the register's staff the insight endpoints; empty turns them off.
	AdminToken string
	// ReceiptsWithin is how long a new record waits at most for a signed
	// checkpoint (integration and the checkpoint interval): an insight answer
	// with a receipt still to come says to retry after it (default 6 s).
	ReceiptsWithin time.Duration
	// RateBlockFor is how long a consumer that keeps exceeding its rate limit is blocked (default 60 s).
	RateBlockFor time.Duration
	Now          func() time.Time
}

// Server holds what the machine API's handlers need. Build one with New.
type Server struct {
	*channel.Shared
	db           *store.DB
	log          *slog.Logger
	env          register.Env
	catalogue    *access.Catalogue
	verifier     Verifier
	apiScope     string
	now          func() time.Time
	limits       *limiter
	rateBlockFor time.Duration

	logVerifierKey string
	adminToken     string
	receiptsWithin time.Duration

	rateLimited *prometheus.CounterVec
	rateBlocked *prometheus.CounterVec
}

// New makes the machine API and registers its metrics.
func New(cfg Config) (*Server, error) {
	if cfg.DB == nil || cfg.Log == nil || cfg.Registry == nil || cfg.Catalogue == nil || cfg.Verifier == nil || cfg.Shared == nil || cfg.Now == nil {
		return nil, errors.New("machineapi: DB, Log, Registry, Catalogue, Verifier, Shared and Now are required")
	}
	s := &Server{
		Shared: cfg.Shared,
		db:     cfg.DB, log: cfg.Log, env: cfg.Env, catalogue: cfg.Catalogue,
		verifier: cfg.Verifier, apiScope: cfg.APIScope, now: cfg.Now, rateBlockFor: cfg.RateBlockFor,
		logVerifierKey: cfg.LogVerifierKey, adminToken: cfg.AdminToken, receiptsWithin: cmp.Or(cfg.ReceiptsWithin, 6*time.Second),
		rateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "deling_ratelimit_rejected_total",
			Help: "Requests refused with 429 because the consumer exceeded its rate limit (Rule AA-15).",
		}, []string{"consumer"}),
		rateBlocked: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "deling_ratelimit_blocks_total",
			Help: "Times a consumer was blocked for a while for repeatedly exceeding its rate limit.",
		}, []string{"consumer"}),
	}
	if s.rateBlockFor <= 0 {
		s.rateBlockFor = time.Minute
	}
	if s.apiScope == "" {
		s.apiScope = DefaultAPIScope
	}
	s.limits = newLimiter(s.rateBlockFor)
	if cfg.DB.Engine() == store.Postgres {
		s.limits.shared = newSharedBudget(cfg.DB.TakeRate, cfg.DB.BlockRate) // Rule AA-15 across the nodes on one database
	}
	cfg.Registry.MustRegister(s.rateLimited, s.rateBlocked)
	return s, nil
}

// Scope is the scope a token needs for the register API.
func (s *Server) Scope() string { return s.apiScope }

// serverError answers a request that failed, through the one mapping
// (httperr.Status): logged with the correlation id when it is ours, shown
// without details.
func (s *Server) serverError(w http.ResponseWriter, r *http.Request, err error) {
	status := httperr.Status(err)
	if status >= http.StatusInternalServerError {
		s.log.Error("request failed", "err", err, "route", r.Pattern, "correlation_id", httperr.CorrelationID(r.Context()))
		httperr.Write(w, r, status, httperr.CodeInternal, "Det oppsto en feil. Oppgi correlation-id ved henvendelse.")
		return
	}
	httperr.Write(w, r, status, "", problemDetail[status])
}

// problemDetail is what an answer that is not a failure of ours says, by status.
var problemDetail = map[int]string{
	http.StatusNotFound:        "Fant ikke ressursen.",
	http.StatusForbidden:       "Ingen tilgang.",
	http.StatusConflict:        "Ressursen er endret eller finnes allerede.",
	http.StatusTooManyRequests: "For mange forespørsler. Prøv igjen senere.",
}

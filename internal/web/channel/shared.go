package channel

import (
	"log/slog"
	"time"

	"deling/internal/access"
	"deling/internal/audit"
	"deling/internal/lookup"
	"deling/internal/register"
	"deling/internal/store"
)

// Config is what Shared is built from.
type Config struct {
	DB        *store.DB
	Log       *slog.Logger
	Audit     audit.Log
	Catalogue *access.Catalogue
	Env       register.Env
	Now       func() time.Time
	Oslo      *time.Location
	// InsightCategories are the consumer categories whose lookups a person is shown (Rule AA-17).
	InsightCategories []string
	// ExtractDir is where extract results are written; empty turns extracts off.
	ExtractDir string
	// ExtractMaxUnits is how many persons or employers one extract may name (default extract.DefaultMaxUnits).
	ExtractMaxUnits int
	// KeepResponses keeps each answer's exact bytes, compressed, in its log record; otherwise only their SHA-256.
	KeepResponses bool
}

// Shared holds what both sides need for the rules they share. Build one with New.
type Shared struct {
	db                *store.DB
	log               *slog.Logger
	audit             audit.Log
	catalogue         *access.Catalogue
	env               register.Env
	now               func() time.Time
	oslo              *time.Location
	insightCategories []string
	extractDir        string
	extractMax        int
	// Lookup is the one lookup pipeline both sides answer lookups through.
	Lookup *lookup.Pipeline
}

// New makes a Shared.
func New(cfg Config) *Shared {
	return &Shared{db: cfg.DB, log: cfg.Log, audit: cfg.Audit, catalogue: cfg.Catalogue, env: cfg.Env, now: cfg.Now, oslo: cfg.Oslo,
		insightCategories: cfg.InsightCategories, extractDir: cfg.ExtractDir, extractMax: cfg.ExtractMaxUnits,
		Lookup: &lookup.Pipeline{Store: cfg.DB, Log: cfg.Audit, Catalogue: cfg.Catalogue, Env: cfg.Env, Now: cfg.Now, KeepResponses: cfg.KeepResponses}}
}

// ExtractsOn reports whether this instance runs extracts.
func (s *Shared) ExtractsOn() bool { return s.extractDir != "" }

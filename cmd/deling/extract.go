package main

import (
	"flag"
	"log/slog"
	"time"

	"deling/internal/job"
	"deling/internal/store"
)

// extractOptions say where extract results go and how long they are kept.
type extractOptions struct{}

func (o *extractOptions) bind(fs *flag.FlagSet) {}

// resultDir is the directory extract results are written to ("" turns extracts off).
func (o extractOptions) resultDir(dataDir string) string { return "" }

// ttl is how long a finished result is kept (0: the default).
func (o extractOptions) ttl() time.Duration { return 0 }

// extractJobs run queued extract jobs and delete expired results.
func extractJobs(db *store.DB, log *slog.Logger, o extractOptions, dataDir string) []job.Job {
	return nil
}

package main

import (
	"log/slog"

	"deling/internal/governance"
	"deling/internal/job"
	"deling/internal/store"
)

// reminderJobs remind consumers of what is due: access reviews (Rule AA-27).
func reminderJobs(db *store.DB, log *slog.Logger, rules governance.Settings, baseURL string) []job.Job {
	return nil
}

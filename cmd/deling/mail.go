package main

import (
	"flag"
	"log/slog"

	"deling/internal/job"
	"deling/internal/store"
)

// mailOptions are serve's e-mail flags (notices, reminders, written notices).
type mailOptions struct{}

func (o *mailOptions) bind(fs *flag.FlagSet) {}

// mailJobs are the background jobs that deliver the outbox and send reminders.
func mailJobs(db *store.DB, log *slog.Logger, o mailOptions, baseURL string) []job.Job { return nil }

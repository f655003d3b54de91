package main

import (
	"context"
	"errors"
	"flag"
	"io"
	"log/slog"

	"deling/internal/job"
	"deling/internal/store"
)

// enhetsregisteretOptions say where the daily organisation status comes from (Rule AA-26).
type enhetsregisteretOptions struct{}

func (o *enhetsregisteretOptions) bind(fs *flag.FlagSet) {}

// enhetsregisteretJobs import organisation status daily and end the access of ceased organisations.
func enhetsregisteretJobs(db *store.DB, log *slog.Logger, o enhetsregisteretOptions) []job.Job {
	return nil
}

// runEnhetsregisteret is "deling enhetsregisteret import FILE|URL".
func runEnhetsregisteret(ctx context.Context, g *globals, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	return errors.New("enhetsregisteret: not built yet")
}

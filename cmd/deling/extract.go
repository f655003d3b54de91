package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"deling/internal/extract"
	"deling/internal/job"
	"deling/internal/store"
)

// extractOptions say where extract results go, how long they are kept, and
// how this node runs extract jobs.
type extractOptions struct {
	dir       string
	keep      time.Duration
	batchSize int
	workers   int
	maxUnits  int
}

func (o *extractOptions) bind(fs *flag.FlagSet) {
	fs.StringVar(&o.dir, "extract-dir", "", "directory for extract (uttrekk) results; several nodes on one PostgreSQL share it (default DATA/extracts)")
	fs.DurationVar(&o.keep, "extract-ttl", extract.DefaultTTL, "how long a finished extract's result is kept before it is deleted")
	fs.IntVar(&o.batchSize, "extract-batch-size", extract.DefaultBatchSize, "arbeidsforhold per batch file of an extract")
	fs.IntVar(&o.workers, "extract-workers", 1, "extract jobs this node runs at once (0: none here; other nodes run them)")
	fs.IntVar(&o.maxUnits, "extract-max-units", extract.DefaultMaxUnits, "persons or employers one extract may name")
}

// check refuses sizes and counts that cannot work.
func (o *extractOptions) check() error {
	switch {
	case o.batchSize < 1 || o.batchSize > extract.MaxUnitsLimit:
		return fmt.Errorf("--extract-batch-size %d: want 1 to %d (a batch's log record names each person in it)", o.batchSize, extract.MaxUnitsLimit)
	case o.workers < 0:
		return fmt.Errorf("--extract-workers %d: want 0 (no extract jobs on this node) or more", o.workers)
	case o.maxUnits < 1 || o.maxUnits > extract.MaxUnitsLimit:
		return fmt.Errorf("--extract-max-units %d: want 1 to %d (an order's log record names each unit)", o.maxUnits, extract.MaxUnitsLimit)
	case o.keep < 0:
		return fmt.Errorf("--extract-ttl %s: want a positive duration", o.keep)
	}
	return nil
}

// resultDir is the directory extract results are written to ("" turns extracts off).
func (o extractOptions) resultDir(dataDir string) string {
	if o.dir != "" {
		return o.dir
	}
	return filepath.Join(dataDir, "extracts")
}

// ttl is how long a finished result is kept (0: the default).
func (o extractOptions) ttl() time.Duration {
	if o.keep <= 0 {
		return extract.DefaultTTL
	}
	return o.keep
}

// runner is the extract runner these options describe.
func (o extractOptions) runner(db *store.DB, log *slog.Logger, dataDir string) *extract.Runner {
	return &extract.Runner{DB: db, Dir: o.resultDir(dataDir), BatchSize: o.batchSize, TTL: o.ttl(), Log: log}
}

// extractJobs run queued extract jobs and delete expired results. Each worker
// takes one job at a time and runs it to its end; a job whose node died is
// taken over by a worker here or on another node and resumes from its last
// whole batch. The expiry runs on one node at a time (Single).
func extractJobs(db *store.DB, log *slog.Logger, o extractOptions, dataDir string) []job.Job {
	r := o.runner(db, log, dataDir)
	var jobs []job.Job
	for i := range max(0, o.workers) {
		jobs = append(jobs, job.Job{Name: fmt.Sprintf("extract worker %d", i+1), Interval: 2 * time.Second, Run: r.RunAll})
	}
	jobs = append(jobs, job.Job{Name: "expire extracts", Interval: 10 * time.Minute, Single: true, Run: func(ctx context.Context) error {
		n, err := r.Expire(ctx)
		if n > 0 {
			log.Info("deleted expired extract results", "jobs", n)
		}
		return err
	}})
	return jobs
}

// Package job runs deling's background work: each job is a func(ctx) error
// run every interval until ctx is cancelled. A failed run is logged and tried
// again at the next tick; it never stops the server.
package job

import (
	"context"
	"log/slog"
	"time"
)

// Job is one piece of periodic work.
type Job struct {
	Name     string
	Interval time.Duration
	Run      func(ctx context.Context) error
	// Single marks a job that must run on one node of a cluster at a time
	// (signing checkpoints, sending mail): OnLeader runs it only while this
	// node leads.
	Single bool
}

// OnLeader returns jobs with every Single job made to run only while this
// node leads: term reports whether it does, just before each run, and the
// context of its leadership, which is cancelled when it ends — the run's
// context ends with it, so that a long run stops before another node starts
// the same work. A tick while another node leads does nothing. The others run
// on every node.
func OnLeader(term func(context.Context) (context.Context, bool), jobs []Job) []Job {
	out := make([]Job, len(jobs))
	for i, j := range jobs {
		if j.Single {
			run := j.Run
			j.Run = func(ctx context.Context) error {
				lead, ok := term(ctx)
				if !ok {
					return nil
				}
				ctx, cancel := context.WithCancel(ctx)
				defer cancel()
				defer context.AfterFunc(lead, cancel)()
				return run(ctx)
			}
		}
		out[i] = j
	}
	return out
}

// Start runs each job in its own goroutine, owned by ctx. The returned
// function waits until every job has stopped after ctx is cancelled.
func Start(ctx context.Context, log *slog.Logger, jobs ...Job) (wait func()) {
	done := make(chan struct{}, len(jobs))
	for _, j := range jobs {
		go func() {
			defer func() { done <- struct{}{} }()
			t := time.NewTicker(j.Interval)
			defer t.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-t.C:
					if err := j.Run(ctx); err != nil && ctx.Err() == nil {
						log.Error("job failed", "job", j.Name, "err", err)
					}
				}
			}
		}()
	}
	return func() {
		for range jobs {
			<-done
		}
	}
}

package job

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"
)

func TestJobsRunAndStop(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var runs, fails atomic.Int32
	wait := Start(ctx, slog.New(slog.NewTextHandler(io.Discard, nil)),
		Job{Name: "ok", Interval: time.Millisecond, Run: func(context.Context) error { runs.Add(1); return nil }},
		Job{Name: "fails", Interval: time.Millisecond, Run: func(context.Context) error { fails.Add(1); return errors.New("x") }},
	)
	deadline := time.Now().Add(10 * time.Second)
	for (runs.Load() < 3 || fails.Load() < 3) && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	cancel()
	wait()
	if runs.Load() < 3 || fails.Load() < 3 {
		t.Fatalf("runs %d, failing runs %d: a failing job must keep running", runs.Load(), fails.Load())
	}
	after := runs.Load()
	time.Sleep(20 * time.Millisecond)
	if runs.Load() != after {
		t.Fatal("a job ran after its context was cancelled")
	}
}

// A Single job runs only while its node leads; the others run regardless.
func TestOnLeader(t *testing.T) {
	var leading atomic.Bool
	var single, every int
	term := context.Background()
	jobs := OnLeader(func(context.Context) (context.Context, bool) { return term, leading.Load() }, []Job{
		{Name: "single", Single: true, Run: func(context.Context) error { single++; return nil }},
		{Name: "every", Run: func(context.Context) error { every++; return nil }},
	})
	for _, lead := range []bool{false, true, false} {
		leading.Store(lead)
		for _, j := range jobs {
			if err := j.Run(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
	}
	if single != 1 || every != 3 {
		t.Fatalf("single ran %d times (want 1, while leading), every %d (want 3)", single, every)
	}
}

// A Single job's run stops when the node's leadership ends mid-run, so that
// it does not go on beside the next leader's.
func TestOnLeaderRunEndsWithTheTerm(t *testing.T) {
	term, end := context.WithCancel(context.Background())
	started := make(chan struct{})
	jobs := OnLeader(func(context.Context) (context.Context, bool) { return term, true }, []Job{
		{Name: "mail", Single: true, Run: func(ctx context.Context) error {
			close(started)
			<-ctx.Done() // a long batch, checking its context between letters
			return ctx.Err()
		}},
	})
	done := make(chan error)
	go func() { done <- jobs[0].Run(context.Background()) }()
	<-started
	end() // another node leads now
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("run ended with %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the run went on after the term ended")
	}
}

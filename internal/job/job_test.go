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
	jobs := OnLeader(func(context.Context) bool { return leading.Load() }, []Job{
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

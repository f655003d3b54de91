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

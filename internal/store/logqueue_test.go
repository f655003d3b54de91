package store

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"testing"

	"deling/internal/audit"
)

// The queue answers each append with its batch's flush, and close flushes
// everything queued before it returns; after it, appends fail closed.
func TestLogQueue(t *testing.T) {
	var (
		mu      sync.Mutex
		flushed int
		failing bool
	)
	release := make(chan struct{})
	q := newLogQueue(4, func(es []audit.Entry) error {
		<-release
		mu.Lock()
		defer mu.Unlock()
		flushed += len(es)
		if failing {
			return errors.New("disk full")
		}
		return nil
	}, func() {})
	const n = 10
	errs := make(chan error, n)
	for range n {
		go func() { errs <- q.add(context.Background(), audit.Entry{}) }()
	}
	close(release)
	for range n {
		if err := <-errs; err != nil {
			t.Fatalf("append: %v", err)
		}
	}
	if got := q.batches.Load(); got < 3 || got > n {
		t.Fatalf("%d appends in %d batches of at most 4", n, got)
	}
	mu.Lock()
	failing = true
	mu.Unlock()
	if err := q.add(context.Background(), audit.Entry{}); err == nil {
		t.Fatal("a failed flush answered nil: the lookup would not fail closed")
	}
	q.close()
	q.close() // twice is fine
	if err := q.add(context.Background(), audit.Entry{}); !errors.Is(err, ErrClosed) {
		t.Fatalf("append after close: %v, want ErrClosed", err)
	}
	if flushed != n+1 {
		t.Fatalf("flushed %d, want %d", flushed, n+1)
	}
}

// Close drains the queue: appends queued while a flush was under way are
// flushed before close returns.
func TestLogQueueCloseDrains(t *testing.T) {
	started, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	var flushed int
	q := newLogQueue(2, func(es []audit.Entry) error {
		once.Do(func() { close(started); <-release })
		flushed += len(es)
		return nil
	}, func() {})
	errs := make(chan error, 3)
	go func() { errs <- q.add(context.Background(), audit.Entry{}) }()
	<-started
	for range 2 {
		go func() { errs <- q.add(context.Background(), audit.Entry{}) }()
	}
	for len(q.reqs) < 2 {
		runtime.Gosched() // until both are queued behind the first flush
	}
	closed := make(chan struct{})
	go func() { q.close(); close(closed) }()
	close(release)
	<-closed
	for range 3 {
		if err := <-errs; err != nil {
			t.Fatalf("append: %v", err)
		}
	}
	if flushed != 3 {
		t.Fatalf("flushed %d of 3 before close returned", flushed)
	}
}

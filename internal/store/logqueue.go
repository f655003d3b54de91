package store

import (
	"context"
	"sync"
	"sync/atomic"

	"deling/internal/audit"
)

// logQueue group-commits the lookup log's appends. While one batch is being
// flushed (waiting for its fsync), new appends queue up, and the next flush
// takes them all: many concurrent lookups share one durable commit, without
// waiting for a timer. It knows nothing of where the records go: flush writes
// a batch durably (auditlog.go: the SQL and the Merkle tree), and after does
// its target's housekeeping between batches, once the batch's appenders have
// their answer (sqlite.go: restartWAL). One goroutine, owned by the queue,
// does both; close drains the queue before it returns.
type logQueue struct {
	reqs     chan *logReq
	stop     chan struct{}
	done     chan struct{}
	stopOnce sync.Once
	max      int
	flush    func([]audit.Entry) error
	after    func()
	batches  atomic.Int64 // flushes so far
}

// logReq is one append waiting for its batch's flush.
type logReq struct {
	entry audit.Entry
	done  chan error // buffered: the flush's result
}

// newLogQueue starts a queue that flushes at most max entries at a time.
func newLogQueue(max int, flush func([]audit.Entry) error, after func()) *logQueue {
	q := &logQueue{
		reqs:  make(chan *logReq, max),
		stop:  make(chan struct{}),
		done:  make(chan struct{}),
		max:   max,
		flush: flush,
		after: after,
	}
	go q.run()
	return q
}

// add queues e and returns when its batch is flushed, with the flush's
// error: nil means e is durable. ErrClosed when the queue is closed before it
// takes e; ctx's error when ctx ends first (e may still be flushed).
func (q *logQueue) add(ctx context.Context, e audit.Entry) error {
	req := &logReq{entry: e, done: make(chan error, 1)}
	select {
	case q.reqs <- req:
	case <-q.done:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-req.done:
		return err
	case <-q.done:
		// The loop drains the queue before it ends; a request still here was not taken.
		select {
		case err := <-req.done:
			return err
		default:
			return ErrClosed
		}
	case <-ctx.Done():
		return ctx.Err()
	}
}

// close flushes what is queued, then stops the queue; add returns ErrClosed after it.
func (q *logQueue) close() {
	q.stopOnce.Do(func() { close(q.stop) })
	<-q.done
}

func (q *logQueue) run() {
	defer close(q.done)
	batch := make([]*logReq, 0, q.max)
	for {
		batch = batch[:0]
		select {
		case r := <-q.reqs:
			batch = append(batch, r)
		case <-q.stop:
			q.drain(batch)
			return
		}
	gather:
		for len(batch) < q.max {
			select {
			case r := <-q.reqs:
				batch = append(batch, r)
			default:
				break gather
			}
		}
		q.flushBatch(batch)
		q.after()
	}
}

// drain flushes every request still queued, in batches of at most max.
func (q *logQueue) drain(batch []*logReq) {
	for {
		select {
		case r := <-q.reqs:
			batch = append(batch, r)
			if len(batch) < q.max {
				continue
			}
		default:
		}
		if len(batch) == 0 {
			return
		}
		q.flushBatch(batch)
		batch = batch[:0]
	}
}

// flushBatch flushes batch's entries and gives each request the result.
func (q *logQueue) flushBatch(batch []*logReq) {
	entries := make([]audit.Entry, len(batch))
	for i, r := range batch {
		entries[i] = r.entry
	}
	err := q.flush(entries)
	q.batches.Add(1)
	for _, r := range batch {
		r.done <- err
	}
}

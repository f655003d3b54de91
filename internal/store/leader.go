package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"sync"
	"sync/atomic"
	"time"
)

// Leadership of the jobs that must run on exactly one node at a time
// (checkpoint signing, mail delivery, reminders, the Enhetsregisteret import,
// sweeping extracts): on PostgreSQL, several `deling serve` processes share
// one database, and the node that holds a session-level advisory lock leads.
// PostgreSQL releases the lock the moment the holder's session ends, a
// process killed with -9 included; the others try for it every interval, so
// one of them leads within an interval of that. On SQLite the one process
// that serves the files leads.

// leaderLockKey is the advisory lock key of the single-run jobs (any fixed
// number that no other lock of deling's uses: takeTurns hashes text keys).
const leaderLockKey int64 = 0x64656c696e67 // "deling"

// Leader is this node's claim to the single-run jobs.
type Leader struct {
	leading  atomic.Bool
	attempts atomic.Int64 // tries for the lock, for tests
	checks   atomic.Int64 // checks of the session while leading, for tests
	pid      atomic.Int64 // PostgreSQL: the backend holding the lock while leading, for tests
	done     chan struct{}

	postgres bool
	interval time.Duration
	mu       sync.Mutex
	conn     *sql.Conn // PostgreSQL: the session that holds the lock while leading
}

// Leading reports whether this node runs the single-run jobs now, as last
// checked. A node that loses its session (the database restarted, the
// network cut, its backend ended) stops leading at its next check, within an
// interval; Confirm checks at once.
func (l *Leader) Leading() bool { return l.leading.Load() }

// Confirm reports whether this node leads, checking its session first: the
// check before a single-run job runs, so that a node that lost the lock since
// its last check does not run the job beside the new leader.
func (l *Leader) Confirm(ctx context.Context) bool {
	if !l.postgres {
		return l.Leading()
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.conn != nil {
		l.check(ctx)
	}
	return l.Leading()
}

// Done is closed when the leadership loop has stopped and released the lock.
func (l *Leader) Done() <-chan struct{} { return l.done }

// Lead starts claiming leadership until ctx ends, trying (and, once leading,
// checking the session) every interval.
func (db *DB) Lead(ctx context.Context, interval time.Duration) *Leader {
	l := &Leader{done: make(chan struct{}), postgres: db.engine == Postgres, interval: interval}
	if !l.postgres {
		l.leading.Store(true)
		go func() { <-ctx.Done(); l.leading.Store(false); close(l.done) }()
		return l
	}
	go l.run(ctx, db.write.DB)
	return l
}

func (l *Leader) run(ctx context.Context, pool *sql.DB) {
	defer close(l.done)
	defer func() {
		l.mu.Lock()
		l.drop()
		l.mu.Unlock()
	}()
	t := time.NewTicker(l.interval)
	defer t.Stop()
	for {
		l.mu.Lock()
		if l.conn == nil {
			l.try(ctx, pool)
		} else {
			l.check(ctx)
		}
		l.mu.Unlock()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// try takes the lock on a session of its own, and leads if it did. l.mu is held.
func (l *Leader) try(ctx context.Context, pool *sql.DB) {
	l.attempts.Add(1)
	ctx, cancel := context.WithTimeout(ctx, l.interval)
	defer cancel()
	conn, err := pool.Conn(ctx)
	if err != nil {
		return
	}
	var got bool
	var pid int64
	if err := conn.QueryRowContext(ctx, `SELECT pg_try_advisory_lock($1), pg_backend_pid()`, leaderLockKey).Scan(&got, &pid); err != nil || !got {
		conn.Close() // no lock taken on this session: it may go back to the pool
		return
	}
	l.conn = conn
	l.pid.Store(pid)
	l.leading.Store(true)
}

// check makes sure the leader's session, and with it the lock, is still
// there, and stops leading if it is not. l.mu is held.
func (l *Leader) check(ctx context.Context) {
	l.checks.Add(1)
	ctx, cancel := context.WithTimeout(ctx, l.interval)
	defer cancel()
	if err := l.conn.PingContext(ctx); err != nil {
		l.drop()
	}
}

// drop stops leading and ends the session. l.mu is held.
func (l *Leader) drop() {
	l.leading.Store(false)
	l.pid.Store(0)
	if l.conn != nil {
		// Never back into the pool with the lock possibly still held: discard the connection,
		// which ends the session and with it the lock.
		l.conn.Raw(func(any) error { return driver.ErrBadConn })
		l.conn.Close()
		l.conn = nil
	}
}

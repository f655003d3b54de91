package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
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
}

// Leading reports whether this node runs the single-run jobs now. A node that
// loses its session (the database restarted, the network cut) stops leading
// at its next check, within an interval.
func (l *Leader) Leading() bool { return l.leading.Load() }

// Done is closed when the leadership loop has stopped and released the lock.
func (l *Leader) Done() <-chan struct{} { return l.done }

// Lead starts claiming leadership until ctx ends, trying (and, once leading,
// checking the session) every interval.
func (db *DB) Lead(ctx context.Context, interval time.Duration) *Leader {
	l := &Leader{done: make(chan struct{})}
	if db.engine != Postgres {
		l.leading.Store(true)
		go func() { <-ctx.Done(); l.leading.Store(false); close(l.done) }()
		return l
	}
	go l.run(ctx, db.write.DB, interval)
	return l
}

func (l *Leader) run(ctx context.Context, pool *sql.DB, interval time.Duration) {
	defer close(l.done)
	var conn *sql.Conn // the session that holds the lock while leading
	drop := func() {
		l.leading.Store(false)
		l.pid.Store(0)
		if conn != nil {
			// Never back into the pool with the lock possibly still held: discard the connection,
			// which ends the session and with it the lock.
			conn.Raw(func(any) error { return driver.ErrBadConn })
			conn.Close()
			conn = nil
		}
	}
	defer drop()
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if conn == nil {
			conn = l.try(ctx, pool, interval)
		} else {
			l.checks.Add(1)
			if err := check(ctx, conn, interval); err != nil {
				drop()
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// try takes the lock on a session of its own; it returns that session when it did.
func (l *Leader) try(ctx context.Context, pool *sql.DB, interval time.Duration) *sql.Conn {
	l.attempts.Add(1)
	ctx, cancel := context.WithTimeout(ctx, interval)
	defer cancel()
	conn, err := pool.Conn(ctx)
	if err != nil {
		return nil
	}
	var got bool
	var pid int64
	if err := conn.QueryRowContext(ctx, `SELECT pg_try_advisory_lock($1), pg_backend_pid()`, leaderLockKey).Scan(&got, &pid); err != nil || !got {
		conn.Close() // no lock taken on this session: it may go back to the pool
		return nil
	}
	l.pid.Store(pid)
	l.leading.Store(true)
	return conn
}

// check tells whether the leader's session is still there, and with it the lock.
func check(ctx context.Context, conn *sql.Conn, interval time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, interval)
	defer cancel()
	return conn.PingContext(ctx)
}

package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"os"
	"path/filepath"
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
// one of them leads within an interval of that. A leader's host that vanishes
// without closing its connection (power lost, network cut) is noticed by the
// server's TCP keepalives, set short on the lock's session, within about
// 10 seconds. On SQLite the process holding an exclusive lock on the file
// DATA/leader.lock leads: a second `deling serve` on the same directory
// serves, and takes over when the first stops.
//
// A job runs under its leader's term (Leader.Term): a context cancelled the
// moment this node stops leading, so that a long run (a batch of letters)
// stops before the next leader starts the same work.

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
	onChange func(leading bool)
	mu       sync.Mutex
	conn     *sql.Conn // PostgreSQL: the session that holds the lock while leading
	file     *os.File  // SQLite: DATA/leader.lock, locked while leading
	term     context.Context
	endTerm  context.CancelFunc
	// sitOut counts the rounds a node that lost its session waits before it
	// tries for the lock again, so that the nodes whose sessions are healthy
	// take over first (a node cut off and back should not win the lock back
	// at once, and flap).
	sitOut int
}

// lossSitOut is how many rounds a node that lost its session sits out.
const lossSitOut = 3

// Leading reports whether this node runs the single-run jobs now, as last
// checked. A node that loses its session (the database restarted, the
// network cut, its backend ended) stops leading at its next check, within an
// interval; Confirm checks at once.
func (l *Leader) Leading() bool { return l.leading.Load() }

// Confirm reports whether this node leads, checking its session first: the
// check before a single-run job runs, so that a node that lost the lock since
// its last check does not run the job beside the new leader.
func (l *Leader) Confirm(ctx context.Context) bool {
	_, ok := l.Term(ctx)
	return ok
}

// Term confirms that this node leads (as Confirm) and returns the context of
// its leadership, cancelled the moment it ends: a single-run job runs under
// it, so that it stops when another node may start the same work.
func (l *Leader) Term(ctx context.Context) (context.Context, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.postgres && l.conn != nil {
		l.check(ctx)
	}
	if !l.Leading() {
		return nil, false
	}
	return l.term, true
}

// Done is closed when the leadership loop has stopped and released the lock.
func (l *Leader) Done() <-chan struct{} { return l.done }

// Lead starts claiming leadership until ctx ends, trying (and, once leading,
// checking the session) every interval; onChange, if not nil, is told each
// time this node starts or stops leading. Cancel ctx only after the jobs that
// lead have stopped: the lock is released when ctx ends.
func (db *DB) Lead(ctx context.Context, interval time.Duration, onChange func(leading bool)) *Leader {
	l := &Leader{done: make(chan struct{}), postgres: db.engine == Postgres, interval: interval, onChange: onChange}
	if l.postgres {
		go l.run(ctx, func(ctx context.Context) { l.try(ctx, db.write.DB) })
	} else {
		go l.run(ctx, func(context.Context) { l.tryFile(filepath.Join(db.dir, "leader.lock")) })
	}
	return l
}

func (l *Leader) run(ctx context.Context, try func(context.Context)) {
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
		switch {
		case !l.Leading() && l.sitOut > 0:
			l.sitOut--
		case !l.Leading():
			try(ctx)
		case l.postgres:
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
	// The server notices a vanished leader by its keepalives (idle 5 s, then
	// 3 probes 2 s apart) and ends its session, and with it the lock, rather
	// than after the default two hours. Settable by any role; ignored on a
	// Unix socket.
	if _, err := conn.ExecContext(ctx, `SET tcp_keepalives_idle = 5; SET tcp_keepalives_interval = 2; SET tcp_keepalives_count = 3; SET tcp_user_timeout = 10000`); err != nil {
		discard(conn)
		return
	}
	var got bool
	var pid int64
	if err := conn.QueryRowContext(ctx, `SELECT pg_try_advisory_lock($1), pg_backend_pid()`, leaderLockKey).Scan(&got, &pid); err != nil || !got {
		// Never back into the pool: the settings above are the session's, and
		// after an error the lock may have been taken all the same.
		discard(conn)
		return
	}
	l.conn = conn
	l.pid.Store(pid)
	l.begin()
}

// tryFile leads on SQLite if no other process holds path's lock. l.mu is held.
func (l *Leader) tryFile(path string) {
	l.attempts.Add(1)
	f, err := lockFile(path)
	if err != nil {
		return
	}
	l.file = f
	l.begin()
}

// begin starts a term of leadership. l.mu is held.
func (l *Leader) begin() {
	l.term, l.endTerm = context.WithCancel(context.Background())
	l.leading.Store(true)
	if l.onChange != nil {
		l.onChange(true)
	}
}

// discard ends a connection's session rather than returning it to the pool.
func discard(conn *sql.Conn) {
	conn.Raw(func(any) error { return driver.ErrBadConn })
	conn.Close()
}

// check makes sure the leader's session, and with it the lock, is still
// there, and stops leading if it is not. l.mu is held.
func (l *Leader) check(ctx context.Context) {
	l.checks.Add(1)
	ctx, cancel := context.WithTimeout(ctx, l.interval)
	defer cancel()
	if err := l.conn.PingContext(ctx); err != nil {
		l.drop()
		l.sitOut = lossSitOut
	}
}

// drop stops leading, ends the term (its jobs' contexts) and releases the
// lock. l.mu is held.
func (l *Leader) drop() {
	was := l.leading.Swap(false)
	l.pid.Store(0)
	if l.endTerm != nil {
		l.endTerm()
	}
	if l.conn != nil {
		// Never back into the pool with the lock possibly still held: discard the connection,
		// which ends the session and with it the lock.
		discard(l.conn)
		l.conn = nil
	}
	if l.file != nil {
		l.file.Close() // releases the lock
		l.file = nil
	}
	if was && l.onChange != nil {
		l.onChange(false)
	}
}

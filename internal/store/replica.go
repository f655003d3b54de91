package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"deling/internal/register"
)

// A read replica of the register (serve --db-read, PostgreSQL only). The
// register's reads — persons, organisations, arbeidsforhold, for lookups,
// extracts and the web lookup — go to a streaming standby of the primary;
// everything else stays on the primary: the access inputs, clients, grants,
// consents, tokens, the lookup log and every write, so that a revoked grant or
// a stopped client takes effect at once however far the replica lags.
//
// A register read fails closed with ErrRegisterUnavailable, never with an
// answer from elsewhere, when the replica does not answer, when it was
// promoted (it is then no longer a copy of the primary), or when it may lag
// the primary by more than the allowed staleness: a person who was given a
// protected address must not stay visible for longer than that (Rule AA-11).
// There is no fallback to the primary: the replica is there to take the
// register's load off it, and a silent fallback would put all of it back at
// once when the replica fails.
//
// Staleness is measured, not guessed from pg_last_xact_replay_timestamp()
// (which grows while the primary is idle): every second the monitor notes
// the time and then the primary's WAL insert position, and the replica holds
// every transaction committed by a noted time once its replayed position has
// passed the position noted then. Lag is the time since the newest such
// moment; it grows, and reads are refused, when the monitor cannot reach
// either server.
//
// A replica that hangs (stopped, not refusing connections) must not hold a
// lookup until the API call's timeout: reads are refused as soon as the
// monitor's last measurement failed or none has succeeded for a few
// intervals, and each read on the replica has a deadline of its own
// (replicaReadTimeout), whatever the caller's.
//
// The lag measured on one connection holds for every connection only when
// they all reach one server: --db-read names one standby, not a balancing
// pooler or a multi-host URL over several (openReplica refuses the latter).

// ErrRegisterUnavailable: the register cannot be read now (the read replica
// is down, promoted or too far behind). It is register.ErrUnavailable, so
// that the lookup pipeline answers 503 without knowing the store.
var ErrRegisterUnavailable = register.ErrUnavailable

// DefaultMaxReadLag is how stale the read replica may be before register
// reads are refused.
const DefaultMaxReadLag = 30 * time.Second

const (
	replicaEvery      = time.Second // how often the monitor measures the lag
	replicaMaxPending = 1024        // primary positions kept while the replica is behind
	// replicaSilence: register reads are refused when no measurement has
	// succeeded for this long (a monitor stuck on a replica that hangs).
	replicaSilence = 3 * replicaEvery
	// replicaReadTimeout bounds one register read on the replica, so that a
	// replica that hangs answers 503 within it rather than at the API call's
	// timeout (Rule AA-15: a single employee's lookup within 2 s).
	replicaReadTimeout = 2 * time.Second
	// replicaPageTimeout bounds one page of an extract (up to 1,000
	// arbeidsforhold) read on the replica.
	replicaPageTimeout = 10 * time.Second
)

// replicaCatchUp is how long Open waits for the replica to catch up (a
// variable for a test).
var replicaCatchUp = 10 * time.Second

// replica is the read replica's state, measured by its monitor.
type replica struct {
	maxLag time.Duration
	errors atomic.Uint64 // register reads refused or failed on the replica

	mu        sync.Mutex
	pending   []walAt   // the primary's positions noted and not yet replayed, oldest first
	freshAt   time.Time // the replica holds every transaction the primary had committed then
	replayAge time.Duration
	promoted  bool
	lastErr   error     // of the monitor's last measurement
	okAt      time.Time // of the monitor's last successful measurement
	state     string    // as last logged: up, down, promoted or behind

	log  *slog.Logger
	urls []string // the primary's and the replica's, whose passwords redact() removes from logged errors

	stop context.CancelFunc
	done chan struct{}
}

// walAt is a WAL position of the primary and when it was noted.
type walAt struct {
	lsn int64
	at  time.Time
}

// ReplicaStatus is what the operator's metrics report of the read replica.
type ReplicaStatus struct {
	Lag       time.Duration // how stale the replica may be (-1: never caught up since start)
	ReplayAge time.Duration // now - pg_last_xact_replay_timestamp() on the replica, as PostgreSQL reports it
	Errors    uint64        // register reads refused or failed on the replica, since start
	Up        bool          // the monitor's last measurement succeeded and the replica is a standby
}

// Replica reports the read replica's state; false when there is none.
func (db *DB) Replica() (ReplicaStatus, bool) {
	r := db.replica
	if r == nil {
		return ReplicaStatus{}, false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	st := ReplicaStatus{Lag: -1, ReplayAge: r.replayAge, Errors: r.errors.Load(), Up: r.lastErr == nil && !r.promoted}
	if !r.freshAt.IsZero() {
		st.Lag = max(0, db.now().Sub(r.freshAt))
	}
	return st, true
}

// openReplica opens the read replica at rawURL after the primary's
// migrations: it must be a standby of this very database, and hold its
// register schema version once it has caught up.
func (db *DB) openReplica(ctx context.Context, cfg Config) error {
	rawURL, maxLag := cfg.ReadURL, cfg.MaxReadLag
	if !isPostgresURL(rawURL) {
		return fmt.Errorf("read replica URL: want postgres://…, got scheme %q", schemeOf(rawURL))
	}
	if err := oneServer(rawURL); err != nil {
		return err
	}
	if maxLag <= 0 {
		maxLag = DefaultMaxReadLag
	}
	p, err := openPostgres(ctx, rawURL)
	if err != nil {
		return fmt.Errorf("read replica: %w", err)
	}
	if err := db.mustReplicate(ctx, p); err != nil {
		p.Close()
		return err
	}
	db.regRead = p
	r := &replica{maxLag: maxLag, done: make(chan struct{}), log: cfg.Log, urls: []string{cfg.URL, rawURL}}
	if r.log == nil {
		r.log = slog.Default()
	}
	db.replica = r
	// Caught up with the migrations just run (or run by another node), the
	// replica must hold the same register schema.
	if err := db.CatchUp(ctx); err != nil && !errors.Is(err, ErrRegisterUnavailable) {
		return err
	}
	want, err := registerVersion(ctx, db.regWrite)
	if err != nil {
		return fmt.Errorf("register schema version: %w", err)
	}
	got, err := registerVersion(ctx, p)
	if err != nil {
		return fmt.Errorf("read replica: register schema version: %s", oneLine(err))
	}
	if got != want {
		return fmt.Errorf("read replica: its register schema is at version %d, the primary's at %d: it lags behind a migration (is replication running?)", got, want)
	}
	mctx, stop := context.WithCancel(context.Background())
	r.stop = stop
	go db.monitorReplica(mctx)
	return nil
}

// CatchUp waits until the read replica holds every transaction the primary
// had committed when it was called, for up to 10 s; it returns at once
// without a replica. A caller that reads back the register it has just
// written calls it first (the demo's seeding).
func (db *DB) CatchUp(ctx context.Context) error {
	r := db.replica
	if r == nil {
		return nil
	}
	since := db.now()
	for deadline := time.Now().Add(replicaCatchUp); ; time.Sleep(20 * time.Millisecond) {
		if err := db.measureReplica(ctx); err != nil {
			return err
		}
		r.mu.Lock()
		done := !r.freshAt.IsZero() && !r.freshAt.Before(since)
		r.mu.Unlock()
		if done {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%w: the read replica has not caught up with the primary in %s", ErrRegisterUnavailable, replicaCatchUp)
		}
	}
}

// oneServer refuses a URL that names several servers (host=a,b or
// postgres://a,b/…): pgx would connect to whichever answers, and the lag
// measured on one connection would not hold for the others (a staler
// standby could answer reads).
func oneServer(rawURL string) error {
	connURL := rawURL
	if u, err := url.Parse(rawURL); err == nil {
		connURL = u.String()
	}
	c, err := pgconn.ParseConfig(connURL)
	if err != nil {
		return fmt.Errorf("read replica URL: %s", redact(oneLine(err), rawURL))
	}
	if len(c.Fallbacks) > 0 {
		return errors.New("read replica URL: it names several servers; give one standby (not a multi-host URL): the lag is measured on it and must hold for every read")
	}
	return nil
}

// registerVersion is the register's schema version on p, 0 before its first migration.
func registerVersion(ctx context.Context, p *pool) (int64, error) {
	var made bool
	if err := p.QueryRowContext(ctx, `SELECT to_regclass('goose_register_version') IS NOT NULL`).Scan(&made); err != nil || !made {
		return 0, err
	}
	var v int64
	err := p.QueryRowContext(ctx, `SELECT COALESCE(MAX(version_id), 0) FROM goose_register_version WHERE is_applied`).Scan(&v)
	return v, err
}

// mustReplicate refuses a server that is not a streaming standby of the
// primary's database: a primary given by mistake (another cluster's data,
// with no lag to measure), a standby of another cluster, or another database.
func (db *DB) mustReplicate(ctx context.Context, p *pool) error {
	const who = `SELECT pg_is_in_recovery(), (SELECT system_identifier FROM pg_control_system()), current_database()`
	var (
		standby           bool
		sysID, primaryID  int64
		dbName, primaryDB string
	)
	if err := p.QueryRowContext(ctx, who).Scan(&standby, &sysID, &dbName); err != nil {
		return fmt.Errorf("read replica: %s", oneLine(err))
	}
	if err := db.write.QueryRowContext(ctx, who).Scan(new(bool), &primaryID, &primaryDB); err != nil {
		return fmt.Errorf("primary: %s", oneLine(err))
	}
	switch {
	case !standby:
		return errors.New("read replica: the server is not a standby (pg_is_in_recovery() is false): give a streaming replica of the primary, or leave --db-read out to read the register from the primary")
	case sysID != primaryID:
		return errors.New("read replica: the server is a standby of another cluster (its system identifier differs from the primary's)")
	case dbName != primaryDB:
		return fmt.Errorf("read replica: the URL names database %q, the primary's is %q", dbName, primaryDB)
	}
	return nil
}

// monitorReplica measures the replica's lag every replicaEvery until ctx ends.
func (db *DB) monitorReplica(ctx context.Context) {
	defer close(db.replica.done)
	t := time.NewTicker(replicaEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			mctx, cancel := context.WithTimeout(ctx, replicaEvery)
			err := db.measureReplica(mctx)
			cancel()
			db.replica.logChange(db.now(), err)
		}
	}
}

// measureReplica notes the primary's WAL position, then moves freshAt to the
// newest noted position the replica has replayed. Its error is kept for
// the metrics and reg(); Open returns it.
func (db *DB) measureReplica(ctx context.Context) error {
	r := db.replica
	err := db.measure(ctx, r)
	now := db.now()
	r.mu.Lock()
	r.lastErr = err
	if err == nil {
		r.okAt = now
	}
	r.mu.Unlock()
	return err
}

// logChange logs the replica's state after the monitor's measurement, err,
// when it changed: up, down, promoted, or behind the lag limit. The first
// measurement after start logs the state it finds.
func (r *replica) logChange(now time.Time, err error) {
	r.mu.Lock()
	state := "up"
	switch {
	case r.promoted:
		state = "promoted"
	case err != nil:
		state = "down"
	case r.freshAt.IsZero() || now.Sub(r.freshAt) > r.maxLag:
		state = "behind"
	}
	was := r.state
	r.state = state
	r.mu.Unlock()
	if state != was {
		r.logState(state, err)
	}
}

// logState logs the replica's new state, without a password in the error.
func (r *replica) logState(state string, err error) {
	msg := ""
	if err != nil {
		msg = err.Error()
		for _, u := range r.urls {
			msg = redact(msg, u)
		}
	}
	switch state {
	case "up":
		r.log.Info("read replica up: register reads go to it")
	case "behind":
		r.log.Warn("read replica lags behind: register reads answer 503", "max_lag", r.maxLag)
	case "promoted":
		r.log.Error("read replica promoted: it is no longer a standby of the primary; register reads answer 503 until restart with another --db-read")
	default:
		r.log.Warn("read replica down: register reads answer 503", "err", msg)
	}
}

func (db *DB) measure(ctx context.Context, r *replica) error {
	var lsn int64
	// The time first, then the insert position: every commit made by that
	// time lies before it. Idle after a page or segment switch, the insert
	// position stands just past the new page's header, which the replica's
	// replayed position never passes: the header is left out (walHeaderSQL).
	at := db.now()
	if err := db.write.QueryRowContext(ctx, `SELECT (lsn - '0/0'::pg_lsn)::bigint - `+walHeaderSQL+`
		FROM (SELECT pg_current_wal_insert_lsn() AS lsn) w`).Scan(&lsn); err != nil {
		return fmt.Errorf("primary's WAL position: %s", oneLine(err))
	}
	noted := walAt{lsn: lsn, at: at}
	var (
		standby  bool
		replayed sql.NullInt64
		age      sql.NullFloat64
	)
	err := db.regRead.QueryRowContext(ctx, `SELECT pg_is_in_recovery(), (pg_last_wal_replay_lsn() - '0/0'::pg_lsn)::bigint,
		EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())::float8`).Scan(&standby, &replayed, &age)
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.pending) == replicaMaxPending {
		r.pending = r.pending[1:] // dropping the oldest only delays freshAt: safe
	}
	r.pending = append(r.pending, noted)
	if err != nil {
		return fmt.Errorf("read replica: %s", oneLine(err))
	}
	if !standby {
		r.promoted = true
		return errors.New("read replica: promoted, it is no longer a standby of the primary")
	}
	r.replayAge = time.Duration(age.Float64 * float64(time.Second))
	i := 0
	for ; i < len(r.pending) && r.pending[i].lsn <= replayed.Int64; i++ {
		r.freshAt = r.pending[i].at
	}
	r.pending = r.pending[i:]
	return nil
}

// walHeaderSQL is the length of the WAL page header just before lsn, 0 when
// lsn is not right after one: 40 bytes at the start of a segment (the long
// header), 24 at the start of any other page. No record ends there: the
// shortest record, or the rest of one continued from the page before, ends
// further on.
const walHeaderSQL = `CASE
		WHEN (pg_walfile_name_offset(lsn)).file_offset = 40 THEN 40
		WHEN (pg_walfile_name_offset(lsn)).file_offset % current_setting('wal_block_size')::int = 24 THEN 24
		ELSE 0 END`

// closeReplica stops the monitor.
func (db *DB) closeReplica() {
	if r := db.replica; r != nil && r.stop != nil {
		r.stop()
		<-r.done
	}
}

// reg is the pool the register is read from: the read replica's when there
// is one, if it is still a standby and fresh enough.
func (db *DB) reg() (*pool, error) {
	if err := db.RegisterReady(); err != nil {
		db.replica.errors.Add(1)
		return nil, err
	}
	return db.regRead, nil
}

// RegisterReady reports whether the register can be read now: nil without
// a read replica, else an error wrapping ErrRegisterUnavailable while the
// replica is down, promoted or too far behind (as its monitor last found).
// It reads nothing, and counts no refused read: a worker asks it before
// starting work that reads the register.
func (db *DB) RegisterReady() error {
	r := db.replica
	if r == nil {
		return nil
	}
	r.mu.Lock()
	promoted, freshAt, okAt, lastErr := r.promoted, r.freshAt, r.okAt, r.lastErr
	r.mu.Unlock()
	now := db.now()
	var err error
	switch {
	case promoted:
		err = fmt.Errorf("%w: the read replica was promoted", ErrRegisterUnavailable)
	case lastErr != nil || now.Sub(okAt) > replicaSilence:
		err = fmt.Errorf("%w: the read replica does not answer its monitor", ErrRegisterUnavailable)
	case freshAt.IsZero() || now.Sub(freshAt) > r.maxLag:
		err = fmt.Errorf("%w: the read replica may lag the primary by more than %s", ErrRegisterUnavailable, r.maxLag)
	}
	return err
}

// regErr marks a failed read on the read replica as ErrRegisterUnavailable
// (503, try again), and counts it. sql.ErrNoRows is an answer, not a failure.
func (db *DB) regErr(err error) error {
	if err == nil || db.replica == nil || errors.Is(err, sql.ErrNoRows) {
		return err
	}
	db.replica.errors.Add(1)
	return fmt.Errorf("%w: %w", ErrRegisterUnavailable, err)
}

// regCtx is ctx with a deadline of at most d when the register is read on
// a replica, so that one that hangs fails the read soon.
func (db *DB) regCtx(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if db.replica == nil {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, d)
}

// regRow reads one row of the register into dest.
func (db *DB) regRow(ctx context.Context, query string, args []any, dest ...any) error {
	p, err := db.reg()
	if err != nil {
		return err
	}
	ctx, cancel := db.regCtx(ctx, replicaReadTimeout)
	defer cancel()
	return db.regErr(p.queryRow(ctx, query, args...).Scan(dest...))
}

// regRows runs a query of the register, its rows read within timeout on a
// replica; errors of its rows go through regErr.
func (db *DB) regRows(ctx context.Context, timeout time.Duration, query string, args ...any) (*regRowSet, error) {
	p, err := db.reg()
	if err != nil {
		return nil, err
	}
	ctx, cancel := db.regCtx(ctx, timeout)
	rows, err := p.query(ctx, query, args...)
	if err != nil {
		cancel()
		return nil, db.regErr(err)
	}
	return &regRowSet{rows, cancel}, nil
}

// regRowSet is the rows of a register query; Close ends its deadline too.
type regRowSet struct {
	*sql.Rows
	cancel context.CancelFunc
}

// Close closes the rows.
func (r *regRowSet) Close() error {
	err := r.Rows.Close()
	r.cancel()
	return err
}

package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

//go:embed migrations
var migrations embed.FS

// Engine names the SQL engine behind a DB.
type Engine string

// The engines deling runs on.
const (
	SQLite   Engine = "sqlite"
	Postgres Engine = "postgres"
)

// Config says where the data lives: a PostgreSQL URL, or else a directory for SQLite.
type Config struct {
	URL     string // postgres://… or postgresql://…; empty means SQLite in DataDir
	DataDir string // SQLite: the directory that holds deling.db and register.db
	// Existing refuses a database that deling has not made before, instead of
	// making one: for commands that only read (consumer list, audit verify…).
	Existing bool
	// KeepSchema leaves the schema at the version it is, where Open would
	// migrate it up: for deling migrate, which takes it down (MigrateDown).
	KeepSchema bool
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// ReadURL, with a PostgreSQL URL, names a streaming standby of URL's
	// database that the register is read from (serve --db-read; replica.go).
	ReadURL string
	// MaxReadLag: register reads are refused while the replica may be
	// staler than this (default DefaultMaxReadLag).
	MaxReadLag time.Duration
	// Log is where the read replica's monitor says when the replica goes
	// down, comes back, is promoted or lags too far (nil: slog.Default()).
	Log *slog.Logger
}

// pool is one *sql.DB with the prepared statements kept for its SQL texts.
type pool struct {
	*sql.DB
	stmts sync.Map // SQL text → *sql.Stmt
}

// DB is deling's database. On SQLite it is two files: register.db holds the
// register (persons, organisations, arbeidsforhold), deling.db everything else
// (access, tokens, the lookup log). The log commits constantly, and SQLite
// drops a connection's page cache whenever its file changed: apart, the
// register's readers keep theirs. Each file has a write pool of one connection
// that takes the write lock at BEGIN (_txlock=immediate), so writers queue
// instead of failing with SQLITE_BUSY, and a query-only read pool; deling.db
// has small readers of the access version besides (access_cache.go). On
// PostgreSQL all five are the same pool, except that with a read replica
// regRead is the replica's (replica.go).
type DB struct {
	write, read       *pool // deling.db
	regWrite, regRead *pool // register.db
	version           *pool // reads the access version: deling.db's own on SQLite (access_cache.go)
	engine            Engine
	now               func() time.Time
	dir               string // SQLite data directory
	claimant          string // this handle's name on the outbox letters it claims (outbox.go)

	inputs  sync.Map // consumer|processor → cachedInputs (access_cache.go)
	clients sync.Map // client id → cachedClient (clients.go)

	log         *logQueue // the lookup log's group commit (logqueue.go, auditlog.go)
	lastRestart time.Time // of deling.db's WAL, by the log's goroutine only (sqlite.go)

	ckpt *checkpointer // SQLite: copies the WALs into the files (sqlite.go)

	replica *replica // the read replica regRead reads, or nil (replica.go)
}

// Open opens (creating if needed) the database and brings its schema up to date.
func Open(ctx context.Context, cfg Config) (*DB, error) {
	db := &DB{now: cfg.Now, claimant: newID()}
	if db.now == nil {
		db.now = time.Now
	}
	if cfg.ReadURL != "" && !isPostgresURL(cfg.URL) {
		return nil, errors.New("a read replica (--db-read) needs PostgreSQL (--db postgres://…): on SQLite the register is a local file")
	}
	switch {
	case isPostgresURL(cfg.URL):
		db.engine = Postgres
		p, err := openPostgres(ctx, cfg.URL)
		if err != nil {
			return nil, err
		}
		db.write, db.read, db.regWrite, db.regRead, db.version = p, p, p, p, p
		if cfg.Existing {
			if err := db.mustHoldSchema(ctx); err != nil {
				db.closePools()
				return nil, err
			}
		}
	case cfg.URL != "":
		return nil, fmt.Errorf("database URL: want postgres://…, got scheme %q", schemeOf(cfg.URL))
	default:
		db.engine = SQLite
		if cfg.Existing {
			if _, err := os.Stat(filepath.Join(cfg.DataDir, "deling.db")); err != nil {
				return nil, fmt.Errorf("%s holds no deling database (start with 'deling serve --data %s', or give the right --data)", cfg.DataDir, cfg.DataDir)
			}
		}
		if err := db.openSQLite(cfg.DataDir); err != nil {
			return nil, err
		}
	}
	if !cfg.KeepSchema {
		if err := db.migrate(ctx); err != nil {
			db.closePools()
			return nil, err
		}
	}
	if cfg.ReadURL != "" {
		if err := db.openReplica(ctx, cfg); err != nil {
			db.closePools()
			return nil, err
		}
	}
	db.log = newLogQueue(maxBatch, db.commitLog, db.restartWAL)
	if db.engine == SQLite {
		var err error
		if db.ckpt, err = startCheckpointer(db.dir); err != nil {
			db.Close()
			return nil, err
		}
	}
	return db, nil
}

func schemeOf(u string) string {
	if p, err := url.Parse(u); err == nil && p.Scheme != "" {
		return p.Scheme
	}
	return "none"
}

func (db *DB) migrate(ctx context.Context) error {
	for _, set := range []struct {
		dir, table string
		w          *pool
	}{{"migrations/register", "goose_register_version", db.regWrite}, {"migrations/main", "goose_db_version", db.write}} {
		p, err := db.migrations(set.dir, set.table, set.w)
		if err != nil {
			return err
		}
		if _, err := p.Up(ctx); err != nil {
			return fmt.Errorf("migrate %s: %w", set.dir, err)
		}
	}
	return nil
}

// MinDownVersion is the lowest version MigrateDown takes deling.db's schema
// to: the release before migration 00032. The down steps of the migrations
// before it were never meant for a rollback of a live log.
const MinDownVersion = 31

// MigrateDown takes deling.db's schema down to version to (at least
// MinDownVersion), for a rollback to the release that had it: each
// migration's down step in its own transaction. It returns the version it
// was at. No node may be running (docs/OPERATIONS.md, "Upgrading").
func (db *DB) MigrateDown(ctx context.Context, to int64) (int64, error) {
	p, err := db.migrations("migrations/main", "goose_db_version", db.write)
	if err != nil {
		return 0, err
	}
	from, err := p.GetDBVersion(ctx)
	if err != nil {
		return 0, fmt.Errorf("schema version: %w", err)
	}
	switch {
	case to < MinDownVersion:
		return from, fmt.Errorf("version %d: the schema goes down to version %d at the lowest", to, MinDownVersion)
	case to > from:
		return from, fmt.Errorf("version %d: the schema is at version %d", to, from)
	}
	if _, err := p.DownTo(ctx, to); err != nil {
		return from, fmt.Errorf("migrate down to %d: %w", to, err)
	}
	return from, nil
}

// migrations is the goose provider of one migration set: its SQL files, and
// for the main set migrations 00020 (tiles.go) and 00032 (logsize.go), in Go.
func (db *DB) migrations(dir, table string, w *pool) (*goose.Provider, error) {
	dialect := goose.DialectSQLite3
	if db.engine == Postgres {
		dialect = goose.DialectPostgres
	}
	fsys, err := fs.Sub(migrations, dir)
	if err != nil {
		return nil, err
	}
	var code []*goose.Migration
	if dir == "migrations/main" {
		code = append(code, migrateToTiles, migrateLogSize(db.engine))
	}
	opts := []goose.ProviderOption{goose.WithTableName(table), goose.WithDisableGlobalRegistry(true), goose.WithGoMigrations(code...)}
	if db.engine == Postgres {
		// Nodes starting at once take turns (a session advisory lock, goose's
		// id; waiting up to 5 minutes): one migrates, the others wait and
		// then find nothing to do.
		locker, err := lock.NewPostgresSessionLocker()
		if err != nil {
			return nil, err
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	p, err := goose.NewProvider(dialect, w.DB, fsys, opts...)
	if err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	return p, nil
}

// Engine is the SQL engine in use.
func (db *DB) Engine() Engine { return db.engine }

// Close commits what the lookup log has queued, then closes every pool.
func (db *DB) Close() error {
	db.log.close()
	db.ckpt.close()
	db.closeReplica()
	return db.closePools()
}

// closePools closes each distinct pool once.
func (db *DB) closePools() error {
	var err error
	seen := map[*pool]bool{}
	for _, p := range []*pool{db.write, db.read, db.regWrite, db.regRead, db.version} {
		if p == nil || seen[p] {
			continue
		}
		seen[p] = true
		p.stmts.Range(func(_, v any) bool { v.(*sql.Stmt).Close(); return true })
		err = errors.Join(err, p.DB.Close())
	}
	return err
}

// Ping checks that the database answers a query.
func (db *DB) Ping(ctx context.Context) error {
	var one int
	if err := db.read.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return err
	}
	if db.replica != nil {
		// Every node reads the same replica: taking them all out of the load
		// balancer when it fails would stop what needs no register too.
		// Register reads answer 503 by themselves (replica.go).
		return nil
	}
	return db.regRead.QueryRowContext(ctx, "SELECT 1").Scan(&one)
}

// stmt is a prepared statement kept for its SQL text. Parsing the SQL was a
// fifth of a person lookup's cost on SQLite. Callers build SQL from a fixed
// set of fragments, so the number of texts is bounded.
func (p *pool) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if st, ok := p.stmts.Load(query); ok {
		return st.(*sql.Stmt), nil
	}
	prepared, err := p.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	st, loaded := p.stmts.LoadOrStore(query, prepared)
	if loaded {
		prepared.Close()
	}
	return st.(*sql.Stmt), nil
}

// query runs a query through a kept prepared statement.
func (p *pool) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	st, err := p.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

// queryRow is query for one row.
func (p *pool) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	st, err := p.stmt(ctx, query)
	if err != nil {
		return p.QueryRowContext(ctx, query, args...) // reports the same error
	}
	return st.QueryRowContext(ctx, args...)
}

// inTx runs fn in a write transaction on deling.db, committing if it returns nil.
func (db *DB) inTx(ctx context.Context, fn func(*sql.Tx) error) error { return db.write.inTx(ctx, fn) }

// inTx runs fn in a transaction on the pool, committing if it returns nil.
func (p *pool) inTx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := p.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// micros is a time as stored: unix microseconds, UTC.
func micros(t time.Time) int64 { return t.UnixMicro() }

// placeholders is "($1,$2,…),($k,…)…" for rows × cols arguments on
// PostgreSQL, and "(?,?,…),…" on SQLite: SQLite takes $N as a named parameter
// and resolves names in time linear in their number, which makes a batch of
// thousands of $N quadratic (measured: 5,000 against 60,000+ rows/s).
func (db *DB) placeholders(rows, cols int) string {
	var b strings.Builder
	n := 1
	for r := 0; r < rows; r++ {
		if r > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('(')
		for c := 0; c < cols; c++ {
			if c > 0 {
				b.WriteByte(',')
			}
			if db.engine == SQLite {
				b.WriteByte('?')
			} else {
				fmt.Fprintf(&b, "$%d", n)
			}
			n++
		}
		b.WriteByte(')')
	}
	return b.String()
}

// upsert writes rows in batches, all in one transaction, and returns how many
// rows were inserted or changed. head is "INSERT INTO t (cols) VALUES ", tail
// the ON CONFLICT clause.
func (db *DB) upsert(ctx context.Context, w *pool, head, tail string, cols, rows int, args func(i int, dst []any) []any) (int64, error) {
	var changed int64
	err := w.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		changed, err = db.execBatch(ctx, tx, head, tail, cols, rows, args)
		return err
	})
	return changed, err
}

// execBatch writes rows in tx with one multi-row INSERT per batch and returns
// how many rows were inserted or changed.
func (db *DB) execBatch(ctx context.Context, tx *sql.Tx, head, tail string, cols, rows int, args func(i int, dst []any) []any) (int64, error) {
	// SQLite allows 32766 parameters; PostgreSQL 65535. Stay well under both.
	per := max(1, 4000/cols)
	var (
		changed int64
		full    *sql.Stmt
	)
	buf := make([]any, 0, min(per, rows)*cols)
	for start := 0; start < rows; start += per {
		n := min(per, rows-start)
		buf = buf[:0]
		for i := start; i < start+n; i++ {
			buf = args(i, buf)
		}
		var (
			res sql.Result
			err error
		)
		if n == per {
			if full == nil {
				if full, err = tx.PrepareContext(ctx, head+db.placeholders(per, cols)+tail); err != nil {
					return changed, err
				}
				defer full.Close()
			}
			res, err = full.ExecContext(ctx, buf...)
		} else {
			res, err = tx.ExecContext(ctx, head+db.placeholders(n, cols)+tail, buf...)
		}
		if err != nil {
			return changed, err
		}
		k, _ := res.RowsAffected()
		changed += k
	}
	return changed, nil
}

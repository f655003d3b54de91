package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // PostgreSQL driver "pgx"
	"github.com/pressly/goose/v3"
	_ "modernc.org/sqlite" // SQLite driver "sqlite"
)

// ErrNotFound is returned (wrapped) when a row does not exist.
var ErrNotFound = errors.New("not found")

//go:embed migrations/*.sql
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
	DataDir string // SQLite: the directory that holds deling.db
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// DB is deling's database: a write pool and a read pool over the same data.
// On SQLite the write pool has one connection and takes the write lock at BEGIN
// (_txlock=immediate), so writers queue instead of failing with SQLITE_BUSY; the
// read pool is query-only. On PostgreSQL both are the same pool.
type DB struct {
	write, read *sql.DB
	engine      Engine
	now         func() time.Time
	path        string // SQLite file

	stmts  sync.Map // SQL text → *sql.Stmt on the read pool
	inputs sync.Map // consumer|processor → cachedInputs (access.go)

	// The lookup log's group commit (auditlog.go).
	logReqs    chan *appendReq
	logStop    chan struct{}
	logDone    chan struct{}
	logBatches atomic.Int64
	closeOnce  sync.Once
}

// Open opens (creating if needed) the database and brings its schema up to date.
func Open(ctx context.Context, cfg Config) (*DB, error) {
	db := &DB{now: cfg.Now}
	if db.now == nil {
		db.now = time.Now
	}
	var err error
	switch {
	case strings.HasPrefix(cfg.URL, "postgres://") || strings.HasPrefix(cfg.URL, "postgresql://"):
		db.engine = Postgres
		if db.write, err = sql.Open("pgx", cfg.URL); err != nil {
			return nil, fmt.Errorf("open postgres: %w", err)
		}
		db.write.SetMaxOpenConns(32)
		db.write.SetMaxIdleConns(32)
		db.read = db.write
	case cfg.URL != "":
		return nil, fmt.Errorf("database URL: want postgres://…, got scheme %q", schemeOf(cfg.URL))
	default:
		db.engine = SQLite
		if cfg.DataDir == "" {
			return nil, errors.New("no data directory and no database URL")
		}
		if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
			return nil, fmt.Errorf("data directory: %w", err)
		}
		db.path = filepath.Join(cfg.DataDir, "deling.db")
		// busy_timeout first, so that the pragmas after it wait for a lock instead of failing.
		base := "file:" + db.path + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_pragma=cache_size(-65536)"
		// synchronous=FULL: a committed write, the lookup log's above all, survives a power cut, not only a crash.
		if db.write, err = sql.Open("sqlite", base+"&_pragma=synchronous(FULL)&_txlock=immediate"); err != nil {
			return nil, fmt.Errorf("open sqlite: %w", err)
		}
		db.write.SetMaxOpenConns(1)
		db.write.SetMaxIdleConns(1)
		db.write.SetConnMaxLifetime(0)
		if db.read, err = sql.Open("sqlite", base+"&_pragma=query_only(1)&_pragma=mmap_size(68719476736)"); err != nil {
			db.write.Close()
			return nil, fmt.Errorf("open sqlite: %w", err)
		}
		n := max(4, 2*runtime.GOMAXPROCS(0))
		db.read.SetMaxOpenConns(n)
		db.read.SetMaxIdleConns(n)
	}
	if err := db.migrate(ctx); err != nil {
		db.write.Close()
		if db.read != db.write {
			db.read.Close()
		}
		return nil, err
	}
	db.startLog()
	return db, nil
}

func schemeOf(u string) string {
	if p, err := url.Parse(u); err == nil && p.Scheme != "" {
		return p.Scheme
	}
	return "none"
}

func (db *DB) migrate(ctx context.Context) error {
	dialect := goose.DialectSQLite3
	if db.engine == Postgres {
		dialect = goose.DialectPostgres
	}
	fsys, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return err
	}
	p, err := goose.NewProvider(dialect, db.write, fsys)
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

// Engine is the SQL engine in use.
func (db *DB) Engine() Engine { return db.engine }

// Close commits what the lookup log has queued, then closes both pools.
func (db *DB) Close() error {
	db.closeOnce.Do(func() { close(db.logStop) })
	<-db.logDone
	db.stmts.Range(func(_, v any) bool { v.(*sql.Stmt).Close(); return true })
	err := db.write.Close()
	if db.read != db.write {
		err = errors.Join(err, db.read.Close())
	}
	return err
}

// Ping checks that the database answers a query.
func (db *DB) Ping(ctx context.Context) error {
	var one int
	return db.read.QueryRowContext(ctx, "SELECT 1").Scan(&one)
}

// stmt is a prepared statement on the read pool, kept for its SQL text.
// Parsing the SQL was a fifth of a person lookup's cost on SQLite. Callers
// build SQL from a fixed set of fragments, so the number of texts is bounded.
func (db *DB) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if st, ok := db.stmts.Load(query); ok {
		return st.(*sql.Stmt), nil
	}
	prepared, err := db.read.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	st, loaded := db.stmts.LoadOrStore(query, prepared)
	if loaded {
		prepared.Close()
	}
	return st.(*sql.Stmt), nil
}

// query runs a read query through a kept prepared statement.
func (db *DB) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	st, err := db.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

// queryRow is query for one row.
func (db *DB) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	st, err := db.stmt(ctx, query)
	if err != nil {
		return db.read.QueryRowContext(ctx, query, args...) // reports the same error
	}
	return st.QueryRowContext(ctx, args...)
}

// inTx runs fn in a write transaction, committing if it returns nil.
func (db *DB) inTx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := db.write.BeginTx(ctx, nil)
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
func (db *DB) upsert(ctx context.Context, head, tail string, cols, rows int, args func(i int, dst []any) []any) (int64, error) {
	var changed int64
	err := db.inTx(ctx, func(tx *sql.Tx) error {
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

package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	_ "modernc.org/sqlite" // SQLite driver "sqlite"
)

// SQLite's part of the store: the files, their pools and pragmas, and keeping
// their write-ahead logs small. Everything else is shared with PostgreSQL.

// openSQLite opens deling.db and register.db in dir (made if missing).
func (db *DB) openSQLite(dir string) error {
	if dir == "" {
		return errors.New("no data directory and no database URL")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	db.dir = dir
	var err error
	if db.write, db.read, err = openSQLiteFile(filepath.Join(dir, "deling.db")); err != nil {
		return err
	}
	if db.regWrite, db.regRead, err = openSQLiteFile(filepath.Join(dir, "register.db")); err != nil {
		db.closePools()
		return err
	}
	if db.version, err = openVersionPool(dir, max(4, 2*runtime.GOMAXPROCS(0))); err != nil {
		db.closePools()
		return err
	}
	return nil
}

// openSQLiteFile opens one SQLite file's write and read pools.
func openSQLiteFile(path string) (write, read *pool, err error) {
	// busy_timeout first, so that the pragmas after it wait for a lock instead of failing.
	base := "file:" + path + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_pragma=cache_size(-65536)"
	// synchronous=FULL: a committed write, the lookup log's above all, survives a power cut, not only a crash.
	// wal_autocheckpoint(0): the writer never stops to copy the WAL into the database (which stalled every
	// lookup waiting for its log commit); a checkpointer of its own does that (startCheckpointer).
	w, err := sql.Open("sqlite", base+"&_pragma=synchronous(FULL)&_pragma=wal_autocheckpoint(0)&_txlock=immediate")
	if err != nil {
		return nil, nil, fmt.Errorf("open sqlite: %w", err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	r, err := sql.Open("sqlite", base+"&_pragma=query_only(1)&_pragma=mmap_size(68719476736)")
	if err != nil {
		w.Close()
		return nil, nil, fmt.Errorf("open sqlite: %w", err)
	}
	n := max(4, 2*runtime.GOMAXPROCS(0))
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	return &pool{DB: w}, &pool{DB: r}, nil
}

// openExtractSQLite opens an extract session's own connections (see
// ExtractSession): a reader of register.db without memory-mapped I/O and with
// a small page cache, and a writer of deling.db that takes the write lock at
// BEGIN like the shared one.
func openExtractSQLite(dir string) (read, write *pool, err error) {
	r, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "register.db")+
		"?_pragma=busy_timeout(10000)&_pragma=query_only(1)&_pragma=mmap_size(0)&_pragma=cache_size(-16384)")
	if err != nil {
		return nil, nil, fmt.Errorf("open extract reader: %w", err)
	}
	w, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "deling.db")+
		"?_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_pragma=cache_size(-8192)&_pragma=synchronous(FULL)&_pragma=wal_autocheckpoint(0)&_txlock=immediate")
	if err != nil {
		r.Close()
		return nil, nil, fmt.Errorf("open extract writer: %w", err)
	}
	for _, c := range []*sql.DB{r, w} {
		c.SetMaxOpenConns(1)
		c.SetMaxIdleConns(1)
	}
	return &pool{DB: r}, &pool{DB: w}, nil
}

// sqliteUniqueViolation reports whether err is SQLite's UNIQUE or PRIMARY KEY constraint failing.
func sqliteUniqueViolation(err error) bool {
	return strings.Contains(err.Error(), "UNIQUE constraint failed")
}

// checkpointer is the goroutine that copies each file's WAL into the file, on
// connections of its own. A PASSIVE checkpoint runs beside readers and the
// writer, so appends to the lookup log never wait for it.
type checkpointer struct {
	conns    []*sql.DB
	stop     chan struct{}
	stopOnce sync.Once
	done     chan struct{}
}

// startCheckpointer starts the checkpointer of the files in dir. Close stops it.
func startCheckpointer(dir string) (*checkpointer, error) {
	c := &checkpointer{stop: make(chan struct{}), done: make(chan struct{})}
	for _, name := range []string{"deling.db", "register.db"} {
		conn, err := sql.Open("sqlite", "file:"+filepath.Join(dir, name)+"?_pragma=busy_timeout(10000)&_pragma=synchronous(FULL)")
		if err != nil {
			for _, open := range c.conns {
				open.Close()
			}
			return nil, err
		}
		conn.SetMaxOpenConns(1)
		c.conns = append(c.conns, conn)
	}
	go c.run()
	return c, nil
}

func (c *checkpointer) run() {
	defer close(c.done)
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
			for _, conn := range c.conns {
				// PASSIVE only: it never blocks the writer or waits for readers (a RESTART or
				// TRUNCATE checkpoint from here stalled the log's commits, and with them every
				// lookup). The log's writer starts the WAL over itself (restartWAL).
				// Scan, not Exec: the pragma returns a row, and a statement left unfinished would hold
				// a read snapshot that keeps the WAL from ever starting over. Errors (a busy
				// database) are retried at the next tick.
				var busy, frames, done int
				conn.QueryRow(`PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &frames, &done)
			}
		}
	}
}

// close stops the checkpointer and closes its connections; nil (PostgreSQL) does nothing.
func (c *checkpointer) close() {
	if c == nil {
		return
	}
	c.stopOnce.Do(func() { close(c.stop) })
	<-c.done
	for _, conn := range c.conns {
		conn.Close()
	}
}

// walRestartEvery is how often the log's writer starts the WAL over. Each
// restart stalls the log's commits briefly (measured: up to ~120 ms on the
// 1M-person bench at 2,000 lookups/s); every 5 s put 19 of 61 seconds over a
// 10 ms p99, every 30 s 7, and keeps the WAL near 30 s of writes.
var walRestartEvery = 30 * time.Second

// restartWAL starts deling.db's WAL over every walRestartEvery. Under constant
// appends the background PASSIVE checkpoints never catch up with the newest
// frames, so the WAL would never start over and would grow without end. The
// log's goroutine, the file's only writer, calls it after each commit, so a
// RESTART checkpoint here waits only for readers' short transactions, and
// copies only the frames of the last moment: the checkpointer has copied the rest.
func (db *DB) restartWAL() {
	if db.engine != SQLite || time.Since(db.lastRestart) < walRestartEvery {
		return
	}
	db.lastRestart = time.Now()
	checkpointRestart(db.write)
}

// checkpointRestart runs a RESTART checkpoint on w, a writer of deling.db.
// Errors (a busy database) are left for the next time.
func checkpointRestart(w *pool) {
	var busy, frames, done int
	w.QueryRow(`PRAGMA wal_checkpoint(RESTART)`).Scan(&busy, &frames, &done)
}

// restartWAL starts deling.db's WAL over every walRestartEvery, as the lookup
// log's writer does after its commits (auditlog.go): the extract's commits do
// not pass through the log's writer, and on a server without lookups the WAL
// grew by some 70 MB a second for as long as an extract ran. With it, the WAL
// stays near 30 s of writes (measured: 1.4 GB during a large extract).
func (s *extractSession) restartWAL() {
	if !s.own || time.Since(s.restarted) < walRestartEvery {
		return
	}
	s.restarted = time.Now()
	checkpointRestart(s.write)
}

// shrink frees the reader's cached pages after every 1,000 rows or so.
// modernc's SQLite is built with SQLITE_ENABLE_MEMORY_MANAGEMENT: every
// connection's page cache draws on one process-wide pool as large as all
// connections' cache_size together, and a connection at its own size takes
// the least recently used page of any other. The reader, streaming through
// the register, took the writer's pages after each batch and the writer
// allocated new ones, batch after batch, until the pool was in use (measured:
// 250 MB). Emptied regularly, the reader never reaches its size and takes
// nothing; the writer keeps its index pages.
func (s *extractSession) shrink(ctx context.Context) error {
	if !s.own || s.unshrunk < 1000 {
		return nil
	}
	s.unshrunk = 0
	_, err := s.read.ExecContext(ctx, `PRAGMA shrink_memory`)
	return err
}

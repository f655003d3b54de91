package witness

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	_ "modernc.org/sqlite" // SQLite driver "sqlite"

	"deling/internal/audit"
)

// State is a witness's memory: the latest cosigned checkpoint per log, and
// the refused checkpoints the logs signed (evidence of misbehaviour).
type State struct {
	db  *sql.DB
	now func() time.Time
}

const schema = `
CREATE TABLE IF NOT EXISTS logs (
    origin     TEXT PRIMARY KEY,
    size       INTEGER NOT NULL,
    root       BLOB NOT NULL,
    checkpoint TEXT NOT NULL, -- the checkpoint with the log's signature and ours
    updated_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS refused (
    id         INTEGER PRIMARY KEY,
    origin     TEXT NOT NULL,
    size       INTEGER NOT NULL,
    checkpoint TEXT NOT NULL,
    reason     TEXT NOT NULL,
    at         INTEGER NOT NULL
);`

// OpenState opens (or creates) the witness state in dir/witness.db.
func OpenState(ctx context.Context, dir string) (*State, error) {
	// _txlock=immediate takes the write lock at BEGIN, so a check and its
	// update are atomic even across processes on the same state.
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "witness.db")+
		"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("open witness state: %w", err)
	}
	db.SetMaxOpenConns(1)
	if _, err := db.ExecContext(ctx, schema); err != nil {
		db.Close()
		return nil, fmt.Errorf("witness state schema: %w", err)
	}
	return &State{db: db, now: time.Now}, nil
}

// Close closes the state.
func (s *State) Close() error { return s.db.Close() }

// Latest is the latest checkpoint cosigned for origin, with the log's
// signature and the witness's cosignature; ok is false when there is none.
func (s *State) Latest(ctx context.Context, origin string) (cp audit.Checkpoint, cosigned []byte, ok bool, err error) {
	return latest(ctx, s.db, origin)
}

type queryer interface {
	QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row
}

func latest(ctx context.Context, q queryer, origin string) (audit.Checkpoint, []byte, bool, error) {
	var (
		size   int64
		root   []byte
		signed string
	)
	err := q.QueryRowContext(ctx, `SELECT size, root, checkpoint FROM logs WHERE origin = ?`, origin).Scan(&size, &root, &signed)
	if errors.Is(err, sql.ErrNoRows) {
		return audit.Checkpoint{Origin: origin}, nil, false, nil
	}
	if err != nil {
		return audit.Checkpoint{}, nil, false, fmt.Errorf("witness state of %s: %w", origin, err)
	}
	return audit.Checkpoint{Origin: origin, Size: uint64(size), Root: root}, []byte(signed), true, nil
}

// Advance decides and records one add-checkpoint in one transaction: decide
// gets the latest cosigned checkpoint for cp's origin (zero size when none)
// and returns the note to store as the new latest (the checkpoint with the
// log's signature and the cosignature), or an error, which is returned and
// nothing changes.
func (s *State) Advance(ctx context.Context, cp audit.Checkpoint, decide func(latest audit.Checkpoint) ([]byte, error)) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	last, _, _, err := latest(ctx, tx, cp.Origin)
	if err != nil {
		return err
	}
	cosigned, err := decide(last)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO logs (origin, size, root, checkpoint, updated_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (origin) DO UPDATE SET size = excluded.size, root = excluded.root, checkpoint = excluded.checkpoint, updated_at = excluded.updated_at`,
		cp.Origin, int64(cp.Size), cp.Root, string(cosigned), s.now().UnixMicro()); err != nil {
		return fmt.Errorf("store cosigned checkpoint: %w", err)
	}
	return tx.Commit()
}

// Refuse keeps a checkpoint the log signed but the witness refused: it may
// prove that the log misbehaved (c2sp.org/tlog-witness allows keeping it).
func (s *State) Refuse(ctx context.Context, cp audit.Checkpoint, signed []byte, reason string) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO refused (origin, size, checkpoint, reason, at) VALUES (?, ?, ?, ?, ?)`,
		cp.Origin, int64(cp.Size), string(signed), reason, s.now().UnixMicro())
	return err
}

// RefusedCount is how many signed checkpoints were refused for origin.
func (s *State) RefusedCount(ctx context.Context, origin string) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM refused WHERE origin = ?`, origin).Scan(&n)
	return n, err
}

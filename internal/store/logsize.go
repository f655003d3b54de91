package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/pressly/goose/v3"

	"deling/internal/audit"
)

// migrateLogSize is migration 00032 (issue 15, the log's bytes on disk).
// audit_log's record column becomes stored: it holds the stored form
// (audit.PackRecord), which the versions before cannot read. The new name
// makes them fail closed: their integration, appends and reads name the
// column record and get an error, where they would otherwise hash the packed
// bytes as a record and sign checkpoints the log never held (no rolling
// upgrade across 00032: docs/OPERATIONS.md, "Upgrading"). The id column
// becomes erased_id: a record's id is inside the record, so it is kept
// beside it only once retention has erased the record (EraseRecordsBefore);
// on SQLite the records written before keep it only if erased, on
// PostgreSQL every old row keeps its id there (renaming a column rewrites
// no row) and new rows have none.
//
// On SQLite both log tables are rebuilt, copied in the migration's
// transaction: audit_log with seq INTEGER PRIMARY KEY, the rowid itself,
// where BIGINT PRIMARY KEY was a second B-tree beside the table;
// audit_subjects WITHOUT ROWID, the table its own primary-key index; and
// audit_log_consumer on (consumer, time), since a rowid table's index ends
// with the rowid (seq) anyway. PostgreSQL renames the columns, which takes
// an exclusive lock for a moment: it waits at most pgLockTimeout for it. Every
// record, seq, subject index entry and tile is kept as it was: the tree is
// not touched.
func migrateLogSize(engine Engine) *goose.Migration {
	return goose.NewGoMigration(32, &goose.GoFunc{RunTx: func(ctx context.Context, tx *sql.Tx) error { return logSizeUp(ctx, tx, engine) }},
		&goose.GoFunc{RunTx: func(ctx context.Context, tx *sql.Tx) error { return logSizeDown(ctx, tx, engine) }})
}

// pgLockTimeout bounds the wait of 00032's ALTER TABLE on PostgreSQL for its
// exclusive lock of audit_log: behind a long transaction it would otherwise
// queue, and every node's appends and reads of the log would queue behind it.
// (A variable for its test.)
var pgLockTimeout = "10s"

func logSizeUp(ctx context.Context, tx *sql.Tx, engine Engine) error {
	if engine == Postgres {
		return pgAlterLog(ctx, tx,
			`ALTER TABLE audit_log RENAME COLUMN record TO stored`,
			`ALTER TABLE audit_log RENAME COLUMN id TO erased_id`,
			`ALTER TABLE audit_log ALTER COLUMN erased_id DROP NOT NULL, ALTER COLUMN erased_id DROP DEFAULT`)
	}
	return execAll(ctx, tx,
		`CREATE TABLE audit_log_new (
			seq       INTEGER PRIMARY KEY,
			time      BIGINT NOT NULL,
			kind      TEXT NOT NULL,
			consumer  TEXT NOT NULL DEFAULT '',
			salt      BLOB,
			stored    BLOB,
			subjects  BLOB,
			response  BLOB,
			erased_id TEXT
		)`,
		`INSERT INTO audit_log_new (seq, time, kind, consumer, salt, stored, subjects, response, erased_id)
			SELECT seq, time, kind, consumer, salt, record, subjects, response, CASE WHEN record IS NULL AND id <> '' THEN id END
			FROM audit_log ORDER BY seq`,
		`DROP TABLE audit_log`,
		`ALTER TABLE audit_log_new RENAME TO audit_log`,
		`CREATE INDEX audit_log_consumer ON audit_log (consumer, time)`,
		`CREATE INDEX audit_log_time ON audit_log (time)`,
		`CREATE TABLE audit_subjects_new (
			ident TEXT NOT NULL,
			seq   BIGINT NOT NULL,
			PRIMARY KEY (ident, seq)
		) WITHOUT ROWID`,
		`INSERT INTO audit_subjects_new (ident, seq) SELECT ident, seq FROM audit_subjects ORDER BY ident, seq`,
		`DROP TABLE audit_subjects`,
		`ALTER TABLE audit_subjects_new RENAME TO audit_subjects`)
}

// logSizeDown is migration 00032 down (deling migrate down --to 31): the
// schema as it was, each record unpacked to its canonical bytes (which the
// versions before read) and its id column filled from it, or from erased_id
// for an erased record. It reads and rewrites the records logSizeDownRows
// at a time, so its memory stays small however long the log; a record it
// cannot unpack stops it with the record's seq, and the transaction leaves
// everything as it was.
func logSizeDown(ctx context.Context, tx *sql.Tx, engine Engine) error {
	var err error
	if engine == Postgres {
		err = pgAlterLog(ctx, tx,
			`ALTER TABLE audit_log RENAME COLUMN stored TO record`,
			`ALTER TABLE audit_log RENAME COLUMN erased_id TO id`)
	} else {
		err = execAll(ctx, tx,
			`CREATE TABLE audit_log_old (
				seq      BIGINT PRIMARY KEY,
				id       TEXT NOT NULL DEFAULT '',
				time     BIGINT NOT NULL,
				kind     TEXT NOT NULL,
				consumer TEXT NOT NULL DEFAULT '',
				salt     BYTEA,
				record   BYTEA,
				subjects BYTEA,
				response BYTEA
			)`,
			`INSERT INTO audit_log_old (seq, id, time, kind, consumer, salt, record, subjects, response)
				SELECT seq, COALESCE(erased_id, ''), time, kind, consumer, salt, stored, subjects, response FROM audit_log ORDER BY seq`,
			`DROP TABLE audit_log`,
			`ALTER TABLE audit_log_old RENAME TO audit_log`,
			`CREATE INDEX audit_log_consumer ON audit_log (consumer, time, seq)`,
			`CREATE INDEX audit_log_time ON audit_log (time)`,
			`CREATE TABLE audit_subjects_old (ident TEXT NOT NULL, seq BIGINT NOT NULL, PRIMARY KEY (ident, seq))`,
			`INSERT INTO audit_subjects_old (ident, seq) SELECT ident, seq FROM audit_subjects`,
			`DROP TABLE audit_subjects`,
			`ALTER TABLE audit_subjects_old RENAME TO audit_subjects`)
	}
	if err != nil {
		return err
	}
	for after := int64(-1); ; {
		n, last, err := logSizeDownBatch(ctx, tx, after)
		if err != nil {
			return err
		}
		if n < logSizeDownRows {
			break
		}
		after = last
	}
	if engine == Postgres { // the id column as 00002 made it
		return execAll(ctx, tx, `UPDATE audit_log SET id = '' WHERE id IS NULL`,
			`ALTER TABLE audit_log ALTER COLUMN id SET DEFAULT '', ALTER COLUMN id SET NOT NULL`)
	}
	return nil
}

// logSizeDownRows is how many records logSizeDownBatch reads at a time.
const logSizeDownRows = 1000

// logSizeDownBatch unpacks up to logSizeDownRows records after seq after, in
// seq order, and writes each back plain with its id. It returns how many it
// read and the last one's seq.
func logSizeDownBatch(ctx context.Context, tx *sql.Tx, after int64) (int, int64, error) {
	type row struct {
		seq    int64
		id     string
		record []byte
	}
	rows, err := tx.QueryContext(ctx, `SELECT seq, record FROM audit_log WHERE seq > $1 AND record IS NOT NULL ORDER BY seq LIMIT $2`, after, logSizeDownRows)
	if err != nil {
		return 0, 0, err
	}
	var batch []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.seq, &r.record); err != nil {
			rows.Close()
			return 0, 0, err
		}
		batch = append(batch, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, 0, err
	}
	for i := range batch {
		r := &batch[i]
		if r.record, err = audit.UnpackRecord(r.record); err != nil {
			return 0, 0, fmt.Errorf("record %d cannot be read, so the log cannot go back to version 31 (nothing changed): %w", r.seq, err)
		}
		var rec struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal(r.record, &rec); err != nil {
			return 0, 0, fmt.Errorf("record %d cannot be read, so the log cannot go back to version 31 (nothing changed): %w", r.seq, err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE audit_log SET id = $1, record = $2 WHERE seq = $3`, rec.ID, r.record, r.seq); err != nil {
			return 0, 0, err
		}
	}
	if len(batch) == 0 {
		return 0, after, nil
	}
	return len(batch), batch[len(batch)-1].seq, nil
}

// pgAlterLog runs 00032's ALTER TABLEs on PostgreSQL, waiting at most
// pgLockTimeout for audit_log's lock (Rule AA-16: the log stays available;
// the migration fails and is retried instead).
func pgAlterLog(ctx context.Context, tx *sql.Tx, steps ...string) error {
	err := execAll(ctx, tx, append([]string{`SET LOCAL lock_timeout = '` + pgLockTimeout + `'`}, steps...)...)
	if pe, ok := errors.AsType[*pgconn.PgError](err); ok && pe.Code == "55P03" {
		return fmt.Errorf("migration 00032 could not lock audit_log within %s: a long transaction holds it; "+
			"start deling again once it has ended (nothing changed): %w", pgLockTimeout, err)
	}
	return err
}

// execAll runs each statement in tx, in order.
func execAll(ctx context.Context, tx *sql.Tx, steps ...string) error {
	for _, q := range steps {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return err
		}
	}
	return nil
}

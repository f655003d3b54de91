package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/pressly/goose/v3"

	"deling/internal/audit"
)

// migrateLogSize is migration 00032 (issue 15, the log's bytes on disk):
// audit_log loses its id column (the record's id is inside the record, and
// nothing queries it). On SQLite both log tables are rebuilt, copied in the
// migration's transaction: audit_log with seq INTEGER PRIMARY KEY, the
// rowid itself, where BIGINT PRIMARY KEY was a second B-tree beside the
// table; audit_subjects WITHOUT ROWID, the table its own primary-key index;
// and audit_log_consumer on (consumer, time), since a rowid table's index
// ends with the rowid (seq) anyway. PostgreSQL drops the column (its rows
// shed the bytes as they are rewritten, or at once with VACUUM FULL). Every
// record, seq, subject index entry and tile is kept as it was: the tree is
// not touched.
func migrateLogSize(engine Engine) *goose.Migration {
	return goose.NewGoMigration(32, &goose.GoFunc{RunTx: func(ctx context.Context, tx *sql.Tx) error { return logSizeUp(ctx, tx, engine) }},
		&goose.GoFunc{RunTx: func(ctx context.Context, tx *sql.Tx) error { return logSizeDown(ctx, tx, engine) }})
}

func logSizeUp(ctx context.Context, tx *sql.Tx, engine Engine) error {
	steps := []string{`ALTER TABLE audit_log DROP COLUMN id`}
	if engine == SQLite {
		steps = []string{
			`CREATE TABLE audit_log_new (
				seq      INTEGER PRIMARY KEY,
				time     BIGINT NOT NULL,
				kind     TEXT NOT NULL,
				consumer TEXT NOT NULL DEFAULT '',
				salt     BLOB,
				record   BLOB,
				subjects BLOB,
				response BLOB
			)`,
			`INSERT INTO audit_log_new (seq, time, kind, consumer, salt, record, subjects, response)
				SELECT seq, time, kind, consumer, salt, record, subjects, response FROM audit_log ORDER BY seq`,
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
			`ALTER TABLE audit_subjects_new RENAME TO audit_subjects`,
		}
	}
	for _, q := range steps {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return err
		}
	}
	return nil
}

// logSizeDown is migration 00032 down: the schema as it was, each record
// unpacked to its canonical bytes (which the versions before read) and its id
// column filled from it (empty for an erased record).
func logSizeDown(ctx context.Context, tx *sql.Tx, engine Engine) error {
	steps := []string{`ALTER TABLE audit_log ADD COLUMN id TEXT NOT NULL DEFAULT ''`}
	if engine == SQLite {
		steps = []string{
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
			`INSERT INTO audit_log_old (seq, time, kind, consumer, salt, record, subjects, response)
				SELECT seq, time, kind, consumer, salt, record, subjects, response FROM audit_log ORDER BY seq`,
			`DROP TABLE audit_log`,
			`ALTER TABLE audit_log_old RENAME TO audit_log`,
			`CREATE INDEX audit_log_consumer ON audit_log (consumer, time, seq)`,
			`CREATE INDEX audit_log_time ON audit_log (time)`,
			`CREATE TABLE audit_subjects_old (ident TEXT NOT NULL, seq BIGINT NOT NULL, PRIMARY KEY (ident, seq))`,
			`INSERT INTO audit_subjects_old (ident, seq) SELECT ident, seq FROM audit_subjects`,
			`DROP TABLE audit_subjects`,
			`ALTER TABLE audit_subjects_old RENAME TO audit_subjects`,
		}
	}
	for _, q := range steps {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return err
		}
	}
	type row struct {
		seq    int64
		id     string
		record []byte
	}
	var unpacked []row
	rows, err := tx.QueryContext(ctx, `SELECT seq, record FROM audit_log WHERE record IS NOT NULL ORDER BY seq`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.seq, &r.record); err != nil {
			return err
		}
		if r.record, err = audit.UnpackRecord(r.record); err != nil {
			return fmt.Errorf("record %d: %w", r.seq, err)
		}
		var rec struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal(r.record, &rec); err != nil {
			return fmt.Errorf("record %d: %w", r.seq, err)
		}
		r.id = rec.ID
		unpacked = append(unpacked, r)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	rows.Close()
	for _, r := range unpacked {
		if _, err := tx.ExecContext(ctx, `UPDATE audit_log SET id = $1, record = $2 WHERE seq = $3`, r.id, r.record, r.seq); err != nil {
			return err
		}
	}
	return nil
}

package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"deling/internal/audit"
)

// Append writes a lookup-log record durably: it returns after the commit, and
// the write connection runs with synchronous=FULL on SQLite. This is the
// simple log; group commit and the Merkle tree build on it.
func (db *DB) Append(ctx context.Context, r *audit.Record) error {
	if r.ID == "" {
		r.ID = newID()
	}
	if r.Time.IsZero() {
		r.Time = db.now().UTC()
	}
	return db.inTx(ctx, func(tx *sql.Tx) error { return insertRecord(ctx, tx, r) })
}

func insertRecord(ctx context.Context, tx *sql.Tx, r *audit.Record) error {
	b, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("encode audit record: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO audit_records (id, time, kind, consumer, record) VALUES ($1, $2, $3, $4, $5)`,
		r.ID, micros(r.Time), r.Kind, r.Consumer, string(b)); err != nil {
		return fmt.Errorf("append audit record: %w", err)
	}
	return nil
}

// AuditRecords lists a consumer's records (all when consumer is ""), oldest first, at most limit.
func (db *DB) AuditRecords(ctx context.Context, consumer string, limit int) ([]audit.Record, error) {
	q := `SELECT record FROM audit_records WHERE consumer = $1 ORDER BY time, id LIMIT $2`
	args := []any{consumer, limit}
	if consumer == "" {
		q, args = `SELECT record FROM audit_records ORDER BY time, id LIMIT $1`, []any{limit}
	}
	rows, err := db.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list audit records: %w", err)
	}
	defer rows.Close()
	var out []audit.Record
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		var r audit.Record
		if err := json.Unmarshal([]byte(s), &r); err != nil {
			return nil, fmt.Errorf("decode audit record: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

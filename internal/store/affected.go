package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"deling/internal/audit"
)

// Who was affected by a breach, from the lookup log (issue 12 item 6). The
// selection is audit.Affected's; this is its scan: one streaming pass over
// the lookups the checkpoint covers, narrowed in SQL by the consumer and the
// window so that audit_log's indexes (consumer, time, seq) and (time) carry
// it. A client or web user alone narrows nothing in SQL (the table has no
// column for them): those are matched on the opened records.

// Affected computes who was affected within scope: the persons whose data
// the lookups in scope returned, as of the checkpoint scope.Size names.
func (db *DB) Affected(ctx context.Context, scope audit.Scope) (audit.AffectedList, error) {
	a := audit.NewAffected(scope)
	var args []any
	arg := func(v any) string { args = append(args, v); return fmt.Sprintf("$%d", len(args)) }
	q := `SELECT seq, time, consumer, stored, subjects FROM audit_log WHERE kind = ` + arg(audit.KindLookup) +
		` AND seq < ` + arg(int64(scope.Size))
	if scope.Consumer != "" {
		q += ` AND consumer = ` + arg(scope.Consumer)
	}
	if !scope.From.IsZero() {
		q += ` AND time >= ` + arg(micros(scope.From))
	}
	if !scope.To.IsZero() {
		q += ` AND time < ` + arg(micros(scope.To))
	}
	// No ORDER BY: the selection does not depend on the order, and the
	// engine may then walk whichever index fits.
	rows, err := db.read.query(ctx, q, args...)
	if err != nil {
		return audit.AffectedList{}, fmt.Errorf("affected: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			seq, t           int64
			consumer         string
			record, subjects []byte
		)
		if err := rows.Scan(&seq, &t, &consumer, &record, &subjects); err != nil {
			return audit.AffectedList{}, err
		}
		if record == nil {
			a.AddErased(uint64(seq), fromMicros(t), consumer)
			continue
		}
		subs, err := audit.DecodeSubjects(subjects)
		if err != nil {
			return audit.AffectedList{}, fmt.Errorf("record %d: %w", seq, err)
		}
		canonical, err := audit.UnpackRecord(record)
		if err != nil {
			return audit.AffectedList{}, fmt.Errorf("record %d: %w", seq, err)
		}
		r, err := audit.Open(canonical, nil, subs)
		if err != nil {
			return audit.AffectedList{}, fmt.Errorf("record %d: %w", seq, err)
		}
		a.Add(uint64(seq), r)
	}
	if err := rows.Err(); err != nil {
		return audit.AffectedList{}, fmt.Errorf("affected: %w", err)
	}
	return a.List(), nil
}

// CheckpointRoot is the root hash of the signed checkpoint of size; ErrNotFound when there is none.
func (db *DB) CheckpointRoot(ctx context.Context, size uint64) ([]byte, error) {
	var root []byte
	err := db.read.queryRow(ctx, `SELECT root FROM checkpoints WHERE size = $1`, int64(size)).Scan(&root)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("checkpoint %d: %w", size, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("checkpoint %d: %w", size, err)
	}
	return root, nil
}

// LatestCheckpointRoot is the newest signed checkpoint's size and root hash; ErrNotFound when none was made yet.
func (db *DB) LatestCheckpointRoot(ctx context.Context) (uint64, []byte, error) {
	var (
		size int64
		root []byte
	)
	err := db.read.queryRow(ctx, `SELECT size, root FROM checkpoints ORDER BY size DESC LIMIT 1`).Scan(&size, &root)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil, fmt.Errorf("checkpoint: %w", ErrNotFound)
	}
	if err != nil {
		return 0, nil, fmt.Errorf("checkpoint: %w", err)
	}
	return uint64(size), root, nil
}

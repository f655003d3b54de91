package store

import (
	"context"
	"database/sql"
	"fmt"
)

// AddCosignature stores a witness's cosignature line(s) on the checkpoint of size.
func (db *DB) AddCosignature(ctx context.Context, witness string, size uint64, lines []byte) error {
	_, err := db.write.ExecContext(ctx, `INSERT INTO witness_cosignatures (witness, size, cosignature, created_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (witness, size) DO UPDATE SET cosignature = excluded.cosignature, created_at = excluded.created_at`,
		witness, int64(size), string(lines), micros(db.now()))
	if err != nil {
		return fmt.Errorf("store cosignature: %w", err)
	}
	return nil
}

// WitnessSize is the size of the largest checkpoint the witness cosigned (0 if none).
func (db *DB) WitnessSize(ctx context.Context, witness string) (uint64, error) {
	var size sql.NullInt64
	if err := db.read.queryRow(ctx, `SELECT max(size) FROM witness_cosignatures WHERE witness = $1`, witness).Scan(&size); err != nil {
		return 0, fmt.Errorf("witness size: %w", err)
	}
	return uint64(size.Int64), nil
}

// CosignedCheckpoint is the newest checkpoint that a witness cosigned, with
// the log's signature and every witness's cosignature on it; ErrNotFound
// when no witness has cosigned one.
func (db *DB) CosignedCheckpoint(ctx context.Context) (uint64, []byte, error) {
	size, signed, err := db.checkpoint(ctx, `SELECT c.size, c.signed FROM checkpoints c
		WHERE c.size = (SELECT max(w.size) FROM witness_cosignatures w WHERE w.size IN (SELECT size FROM checkpoints))`)
	if err != nil {
		return 0, nil, err
	}
	rows, err := db.read.QueryContext(ctx, `SELECT cosignature FROM witness_cosignatures WHERE size = $1 ORDER BY witness`, int64(size))
	if err != nil {
		return 0, nil, fmt.Errorf("load cosignatures: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var lines string
		if err := rows.Scan(&lines); err != nil {
			return 0, nil, err
		}
		signed = append(signed, lines...)
	}
	if err := rows.Err(); err != nil {
		return 0, nil, err
	}
	if len(signed) == 0 {
		return 0, nil, fmt.Errorf("cosigned checkpoint: %w", ErrNotFound)
	}
	return size, signed, nil
}

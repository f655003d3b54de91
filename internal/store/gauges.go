package store

import (
	"context"
	"fmt"
)

// Gauges are the counts an operator watches, read when /metrics is scraped:
// a few indexed counts, no table scans of the lookup log.
type Gauges struct {
	// OutboxPending counts letters not yet sent that will be tried again;
	// OutboxFailed those that gave up after maxAttempts tries.
	OutboxPending, OutboxFailed int64
	// ExtractJobs counts extract jobs by status (venter, kjorer, ferdig, …).
	ExtractJobs map[string]int64
}

// ReadGauges reads the operator's counts; maxAttempts is the outbox's.
func (db *DB) ReadGauges(ctx context.Context, maxAttempts int) (Gauges, error) {
	g := Gauges{ExtractJobs: map[string]int64{}}
	if err := db.read.QueryRowContext(ctx, `SELECT
		COALESCE(SUM(CASE WHEN attempts < $1 THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN attempts >= $1 THEN 1 ELSE 0 END), 0)
		FROM mail_outbox WHERE sent_at IS NULL`, maxAttempts).Scan(&g.OutboxPending, &g.OutboxFailed); err != nil {
		return g, fmt.Errorf("gauges: outbox: %w", err)
	}
	rows, err := db.read.QueryContext(ctx, `SELECT status, COUNT(*) FROM extract_jobs GROUP BY status`)
	if err != nil {
		return g, fmt.Errorf("gauges: extracts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var st string
		var n int64
		if err := rows.Scan(&st, &n); err != nil {
			return g, err
		}
		g.ExtractJobs[st] = n
	}
	return g, rows.Err()
}

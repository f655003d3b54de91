package store

import (
	"context"
	"database/sql"
	"fmt"
	"math"
)

// TakeRate claims up to n of a consumer's requests from the budget of limit a
// second that every node on this database shares (Rule AA-15 across a
// cluster). It returns how many it got: n while there is room, fewer at the
// edge, 0 when the budget is spent.
//
// The budget is a sliding-window estimate over one-second windows of the
// database's clock (so that the nodes' clocks do not matter): a claim at
// fraction f of window w counts the requests of w and (1 − f) of those of
// w − 1. Fixed windows admitted up to twice the limit in a burst across a
// boundary; the estimate admits at most the limit plus the fraction of the
// window that has passed, and a steady rate of the limit.
func (db *DB) TakeRate(ctx context.Context, consumer string, n, limit int) (int, error) {
	got, _, err := db.takeRate(ctx, consumer, n, limit)
	return got, err
}

// takeRate is TakeRate, also returning the database's clock (Unix
// milliseconds) at which the claim counted.
func (db *DB) takeRate(ctx context.Context, consumer string, n, limit int) (got int, nowMs int64, err error) {
	if n <= 0 || limit <= 0 {
		return 0, 0, fmt.Errorf("take rate: n %d and limit %d must be positive", n, limit)
	}
	err = db.inTx(ctx, func(tx *sql.Tx) error {
		// One claim of a consumer at a time across the nodes, and the clock read
		// inside that turn, so that a claim never counts in a window another
		// claim has already taken as the previous one.
		if err := db.takeTurns(ctx, tx, "rate:"+consumer); err != nil {
			return err
		}
		if err := tx.QueryRowContext(ctx, db.clockMillis()).Scan(&nowMs); err != nil {
			return err
		}
		window, f := nowMs/1000, float64(nowMs%1000)/1000
		var cur, prev int64
		err := tx.QueryRowContext(ctx, `SELECT COALESCE(SUM(CASE WHEN window_start = $2 THEN used ELSE 0 END), 0),
			COALESCE(SUM(CASE WHEN window_start = $3 THEN used ELSE 0 END), 0)
			FROM rate_windows WHERE consumer = $1 AND window_start IN ($2, $3)`, consumer, window, window-1).Scan(&cur, &prev)
		if err != nil {
			return err
		}
		room := int64(limit) - cur - int64(math.Ceil(float64(prev)*(1-f)))
		got = int(max(0, min(int64(n), room)))
		if got == 0 {
			return nil
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO rate_windows (consumer, window_start, used) VALUES ($1, $2, $3)
			ON CONFLICT (consumer, window_start) DO UPDATE SET used = rate_windows.used + excluded.used`, consumer, window, got)
		return err
	})
	if err != nil {
		return 0, 0, fmt.Errorf("take rate: %w", err)
	}
	return got, nowMs, nil
}

// clockMillis is the query of the database's clock in Unix milliseconds.
func (db *DB) clockMillis() string {
	if db.engine == Postgres {
		return `SELECT (extract(epoch from clock_timestamp()) * 1000)::bigint`
	}
	return `SELECT CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)`
}

// PurgeRateWindows deletes the windows that start before before (Unix seconds).
func (db *DB) PurgeRateWindows(ctx context.Context, before int64) (int64, error) {
	res, err := db.write.ExecContext(ctx, `DELETE FROM rate_windows WHERE window_start < $1`, before)
	if err != nil {
		return 0, fmt.Errorf("purge rate windows: %w", err)
	}
	return res.RowsAffected()
}

package store

import (
	"context"
	"fmt"
)

// TakeRate claims up to n of a consumer's requests in the one-second window
// that starts at window (Unix seconds), from the budget of limit a second that
// every node on this database shares (Rule AA-15 across a cluster). It returns
// how many it got: n while the window has room, fewer at its end, 0 once it is
// spent.
func (db *DB) TakeRate(ctx context.Context, consumer string, window int64, n, limit int) (int, error) {
	if n <= 0 || limit <= 0 {
		return 0, fmt.Errorf("take rate: n %d and limit %d must be positive", n, limit)
	}
	var used int64
	err := db.write.queryRow(ctx, `INSERT INTO rate_windows (consumer, window_start, used) VALUES ($1, $2, $3)
		ON CONFLICT (consumer, window_start) DO UPDATE SET used = rate_windows.used + excluded.used RETURNING used`,
		consumer, window, n).Scan(&used)
	if err != nil {
		return 0, fmt.Errorf("take rate: %w", err)
	}
	before := used - int64(n)
	return int(max(0, min(int64(n), int64(limit)-before))), nil
}

// PurgeRateWindows deletes the windows that start before before (Unix seconds).
func (db *DB) PurgeRateWindows(ctx context.Context, before int64) (int64, error) {
	res, err := db.write.ExecContext(ctx, `DELETE FROM rate_windows WHERE window_start < $1`, before)
	if err != nil {
		return 0, fmt.Errorf("purge rate windows: %w", err)
	}
	return res.RowsAffected()
}

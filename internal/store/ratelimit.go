package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
)

// TakeRate claims up to n of a consumer's requests from the budget of limit a
// second that every node on this database shares (Rule AA-15 across a
// cluster). It returns how many it got: n while there is room, fewer at the
// edge, 0 when the budget is spent.
//
// The budget is a token bucket with a burst of one second's worth (like the
// single node's), kept as the consumer's theoretical arrival time (GCRA) on
// the database's clock, so that the nodes' clocks do not matter: k requests
// are admitted when max(tat, now) + k/limit − now ≤ 1 s, and move tat on by
// k/limit. A consumer paced at its limit is always admitted; a burst gets the
// limit plus what the time since its start has freed.
func (db *DB) TakeRate(ctx context.Context, consumer string, n, limit int) (int, error) {
	got, _, err := db.takeRate(ctx, consumer, n, limit, 0)
	return got, err
}

// takeRate is TakeRate, also returning the time (Unix nanoseconds) at which
// the claim counted: the database's clock, or at when not 0 (tests pace
// claims on a clock of their own with it).
func (db *DB) takeRate(ctx context.Context, consumer string, n, limit int, at int64) (got int, now int64, err error) {
	if n <= 0 || limit <= 0 {
		return 0, 0, fmt.Errorf("take rate: n %d and limit %d must be positive", n, limit)
	}
	const second = int64(1e9)
	err = db.inTx(ctx, func(tx *sql.Tx) error {
		// One claim of a consumer at a time across the nodes, and the clock
		// read inside that turn, so that claims move tat on in clock order.
		if err := db.takeTurns(ctx, tx, "rate:"+consumer); err != nil {
			return err
		}
		now = at
		if now == 0 {
			var us int64
			if err := tx.QueryRowContext(ctx, db.clockMicros()).Scan(&us); err != nil {
				return err
			}
			now = us * 1000
		}
		var tat int64
		err := tx.QueryRowContext(ctx, `SELECT tat FROM rate_tat WHERE consumer = $1`, consumer).Scan(&tat)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		base := max(tat, now)
		room := int64(math.Floor(float64(now+second-base) * float64(limit) / float64(second)))
		got = int(max(0, min(int64(n), room)))
		if got == 0 {
			return nil
		}
		// Rounded up, so that claims never add up to more than the limit (in
		// floating point, which no limit overflows).
		tat = base + int64(math.Ceil(float64(got)*float64(second)/float64(limit)))
		_, err = tx.ExecContext(ctx, `INSERT INTO rate_tat (consumer, tat) VALUES ($1, $2)
			ON CONFLICT (consumer) DO UPDATE SET tat = excluded.tat`, consumer, tat)
		return err
	})
	if err != nil {
		return 0, 0, fmt.Errorf("take rate: %w", err)
	}
	return got, now, nil
}

// clockMicros is the query of the database's clock in Unix microseconds
// (SQLite's has milliseconds).
func (db *DB) clockMicros() string {
	if db.engine == Postgres {
		return `SELECT (extract(epoch from clock_timestamp()) * 1000000)::bigint`
	}
	return `SELECT CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER) * 1000`
}

// PurgeRates deletes the consumers' rate state whose theoretical arrival time
// is before before (Unix seconds): such a consumer has its whole burst again,
// as if it had no row.
func (db *DB) PurgeRates(ctx context.Context, before int64) (int64, error) {
	res, err := db.write.ExecContext(ctx, `DELETE FROM rate_tat WHERE tat < $1`, before*1e9)
	if err != nil {
		return 0, fmt.Errorf("purge rate state: %w", err)
	}
	return res.RowsAffected()
}

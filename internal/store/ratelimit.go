package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"time"
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
//
// When it got nothing, wait is how long until the budget has room for one
// request again: at most 1/limit when the budget is merely spent, longer
// when a node blocked the consumer (BlockRate).
func (db *DB) TakeRate(ctx context.Context, consumer string, n, limit int) (got int, wait time.Duration, err error) {
	got, wait, _, err = db.takeRate(ctx, consumer, n, limit, 0)
	return got, wait, err
}

// rateSecond is a second in the unit of rate_tat (nanoseconds).
const rateSecond = int64(time.Second)

// takeRate is TakeRate, also returning the time (Unix nanoseconds) at which
// the claim counted: the database's clock, or at when not 0 (tests pace
// claims on a clock of their own with it).
func (db *DB) takeRate(ctx context.Context, consumer string, n, limit int, at int64) (got int, wait time.Duration, now int64, err error) {
	if n <= 0 || limit <= 0 {
		return 0, 0, 0, fmt.Errorf("take rate: n %d and limit %d must be positive", n, limit)
	}
	const second = rateSecond
	err = db.inTx(ctx, func(tx *sql.Tx) error {
		var tat int64
		var err error
		if now, tat, err = db.rateTurn(ctx, tx, consumer, at); err != nil {
			return err
		}
		base := max(tat, now)
		room := int64(math.Floor(float64(now+second-base) * float64(limit) / float64(second)))
		got = int(max(0, min(int64(n), room)))
		if got == 0 {
			// Room for one when now' + 1 s − base ≥ 1/limit.
			wait = time.Duration(max(1, base-second+int64(math.Ceil(float64(second)/float64(limit)))-now))
			return nil
		}
		// Rounded up, so that claims never add up to more than the limit (in
		// floating point, which no limit overflows).
		tat = base + int64(math.Ceil(float64(got)*float64(second)/float64(limit)))
		return setTat(ctx, tx, consumer, tat)
	})
	if err != nil {
		return 0, 0, 0, fmt.Errorf("take rate: %w", err)
	}
	return got, wait, now, nil
}

// rateTurn takes the consumer's turn in tx — one claim or block of a
// consumer at a time across the nodes, and the clock read inside that turn,
// so that they move tat on in clock order — and reads the database's clock
// (or at when not 0) and the consumer's tat (0 when it has none).
func (db *DB) rateTurn(ctx context.Context, tx *sql.Tx, consumer string, at int64) (now, tat int64, err error) {
	if err := db.takeTurns(ctx, tx, "rate:"+consumer); err != nil {
		return 0, 0, err
	}
	now = at
	if now == 0 {
		var us int64
		if err := tx.QueryRowContext(ctx, db.clockMicros()).Scan(&us); err != nil {
			return 0, 0, err
		}
		now = us * 1000
	}
	err = tx.QueryRowContext(ctx, `SELECT tat FROM rate_tat WHERE consumer = $1`, consumer).Scan(&tat)
	if errors.Is(err, sql.ErrNoRows) {
		err = nil
	}
	return now, tat, err
}

func setTat(ctx context.Context, tx *sql.Tx, consumer string, tat int64) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO rate_tat (consumer, tat) VALUES ($1, $2)
		ON CONFLICT (consumer) DO UPDATE SET tat = excluded.tat`, consumer, tat)
	return err
}

// BlockRate blocks a consumer that keeps exceeding its limit on every node
// on this database for d (Rule AA-15: "above that the consumer may be
// blocked for a while"): it moves the consumer's tat on to at least the
// database's now + d + 1 s, so that no claim (TakeRate) finds room before
// now + d, whichever node asks; after that the budget refills at the limit.
// A later tat (a longer block) is kept.
func (db *DB) BlockRate(ctx context.Context, consumer string, d time.Duration) error {
	return db.blockRate(ctx, consumer, d, 0)
}

// blockRate is BlockRate at a time of the test's own when at is not 0.
func (db *DB) blockRate(ctx context.Context, consumer string, d time.Duration, at int64) error {
	if d <= 0 {
		return fmt.Errorf("block rate: the block %v must be positive", d)
	}
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		now, tat, err := db.rateTurn(ctx, tx, consumer, at)
		if err != nil {
			return err
		}
		until := now + int64(d) + rateSecond
		if tat >= until {
			return nil
		}
		return setTat(ctx, tx, consumer, until)
	})
	if err != nil {
		return fmt.Errorf("block rate: %w", err)
	}
	return nil
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

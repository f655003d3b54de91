package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"deling/internal/governance"
)

// SignInKeys name one sign-in attempt's counters: the account (its e-mail
// address, lower-cased, whether or not an account has it) with the source
// address, and the source address alone (governance.SourceKey). Only their
// SHA-256 is stored.
type SignInKeys struct{ Account, Source string }

func (k SignInKeys) pair() string   { return throttleKey("pair", k.Account, k.Source) }
func (k SignInKeys) source() string { return throttleKey("source", k.Source) }

func throttleKey(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// minuteOf is the minute bucket of t.
func minuteOf(t time.Time) int64 { return t.Unix() / 60 }

// SignInAttempts reads what the throttle needs to judge an attempt with keys at now.
func (db *DB) SignInAttempts(ctx context.Context, keys SignInKeys, now time.Time) (governance.SignInAttempts, error) {
	var a governance.SignInAttempts
	for _, c := range []struct {
		key string
		f   *governance.Failures
	}{{keys.pair(), &a.Pair}, {keys.source(), &a.Source}} {
		var n, last int64
		err := db.read.queryRow(ctx, `SELECT count, last_at FROM signin_failures WHERE key = $1`, c.key).Scan(&n, &last)
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return a, fmt.Errorf("sign-in failures: %w", err)
		default:
			*c.f = governance.Failures{Count: int(n), Last: fromMicros(last)}
		}
	}
	var n int64
	err := db.read.queryRow(ctx, `SELECT count FROM signin_failure_minutes WHERE minute = $1`, minuteOf(now)).Scan(&n)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return a, fmt.Errorf("sign-in failures this minute: %w", err)
	}
	a.GlobalMinute = int(n)
	return a, nil
}

// SignInFailed counts a failed attempt with keys at now: for the pair, the
// source and the minute, in one transaction. A count older than window
// starts again from one.
func (db *DB) SignInFailed(ctx context.Context, keys SignInKeys, now time.Time, window time.Duration) error {
	at, stale := micros(now), micros(now.Add(-window))
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		for _, key := range []string{keys.pair(), keys.source()} {
			if _, err := tx.ExecContext(ctx, `INSERT INTO signin_failures (key, count, last_at) VALUES ($1, 1, $2)
				ON CONFLICT (key) DO UPDATE SET
					count = CASE WHEN signin_failures.last_at < $3 THEN 1 ELSE signin_failures.count + 1 END,
					last_at = excluded.last_at`, key, at, stale); err != nil {
				return err
			}
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO signin_failure_minutes (minute, count) VALUES ($1, 1)
			ON CONFLICT (minute) DO UPDATE SET count = signin_failure_minutes.count + 1`, minuteOf(now))
		return err
	})
	if err != nil {
		return fmt.Errorf("sign-in failed: %w", err)
	}
	return nil
}

// SignInSucceeded forgets the pair's failures. The source's count stays: a
// source's own success does not launder its guesses at other accounts.
func (db *DB) SignInSucceeded(ctx context.Context, keys SignInKeys) error {
	if _, err := db.write.ExecContext(ctx, `DELETE FROM signin_failures WHERE key = $1`, keys.pair()); err != nil {
		return fmt.Errorf("sign-in succeeded: %w", err)
	}
	return nil
}

// PurgeSignInFailures deletes counts last touched before before.
func (db *DB) PurgeSignInFailures(ctx context.Context, before time.Time) (int64, error) {
	res, err := db.write.ExecContext(ctx, `DELETE FROM signin_failures WHERE last_at < $1`, micros(before))
	if err != nil {
		return 0, fmt.Errorf("purge sign-in failures: %w", err)
	}
	n, _ := res.RowsAffected()
	if _, err := db.write.ExecContext(ctx, `DELETE FROM signin_failure_minutes WHERE minute < $1`, minuteOf(before)); err != nil {
		return n, fmt.Errorf("purge sign-in failures: %w", err)
	}
	return n, nil
}

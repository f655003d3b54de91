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
// address, lower-cased, whether or not an account has it), the source
// (governance.SourceKey), the source network (governance.NetworkKey) and the
// device (the id in the browser's device cookie, "" for none). Only their
// SHA-256 is stored.
type SignInKeys struct{ Account, Source, Network, Device string }

func (k SignInKeys) sourcePair() string  { return throttleKey("pair", k.Account, k.Source) }
func (k SignInKeys) devicePair() string  { return throttleKey("device", k.Account, k.Device) }
func (k SignInKeys) network() string     { return throttleKey("source", k.Network) }
func (k SignInKeys) account() string     { return throttleKey("account", k.Account) }
func (k SignInKeys) knownSource() string { return throttleKey("known", k.Account, k.Source) }
func (k SignInKeys) knownDevice() string { return throttleKey("known-device", k.Account, k.Device) }

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

// SignInReservation is a sign-in attempt judged by the throttle and, when
// Wait is 0, counted as failed until SignInSucceeded or ReleaseSignIn says otherwise.
type SignInReservation struct {
	// Attempts is what was counted against the attempt before it.
	Attempts governance.SignInAttempts
	// Wait is how long the attempt must wait; 0 when it was counted and may be tried now.
	Wait time.Duration
	// DeviceKnown is whether keys.Device signed in as keys.Account before (within KnownFor).
	DeviceKnown bool

	keys   SignInKeys
	pair   string // the pair counted: by device when the device is known, else by source
	minute int64
}

// ReserveSignIn judges an attempt with keys at now by t and, if it need not
// wait, counts it — for its pair, network, account and minute — in the same
// transaction, before its password is checked: parallel attempts queue on
// the counters' rows (SQLite: the write lock; PostgreSQL: the rows' locks,
// always taken in the same order), so each sees the ones before it and they
// cannot share the free failures. An attempt told to wait is not counted.
func (db *DB) ReserveSignIn(ctx context.Context, keys SignInKeys, now time.Time, t governance.Throttle) (SignInReservation, error) {
	r := SignInReservation{keys: keys, minute: minuteOf(now)}
	knownSince := micros(now.Add(-t.KnownFor))
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		isKnown := func(key string) (bool, error) {
			var n int
			err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM signin_known WHERE key = $1 AND last_at >= $2`, key, knownSince).Scan(&n)
			return n > 0, err
		}
		var err error
		if keys.Device != "" {
			if r.DeviceKnown, err = isKnown(keys.knownDevice()); err != nil {
				return err
			}
		}
		r.pair = keys.sourcePair()
		if r.DeviceKnown {
			r.pair = keys.devicePair()
			r.Attempts.Known = true
		} else if r.Attempts.Known, err = isKnown(keys.knownSource()); err != nil {
			return err
		}
		counters := []struct {
			key string
			f   *governance.Failures
		}{{r.pair, &r.Attempts.Pair}, {keys.network(), &r.Attempts.Source}, {keys.account(), &r.Attempts.Account}}
		// A no-op upsert: it creates the row if need be and locks it until the transaction ends.
		for _, c := range counters {
			var n, last int64
			if err := tx.QueryRowContext(ctx, `INSERT INTO signin_failures (key, count, last_at) VALUES ($1, 0, 0)
				ON CONFLICT (key) DO UPDATE SET count = signin_failures.count
				RETURNING count, last_at`, c.key).Scan(&n, &last); err != nil {
				return err
			}
			if n > 0 && last >= micros(now.Add(-t.Window)) { // older counts are forgotten
				*c.f = governance.Failures{Count: int(n), Last: fromMicros(last)}
			}
		}
		var n int64
		if err := tx.QueryRowContext(ctx, `INSERT INTO signin_failure_minutes (minute, count) VALUES ($1, 0)
			ON CONFLICT (minute) DO UPDATE SET count = signin_failure_minutes.count
			RETURNING count`, r.minute).Scan(&n); err != nil {
			return err
		}
		r.Attempts.GlobalMinute = int(n)
		if r.Wait = t.Wait(r.Attempts, now); r.Wait > 0 {
			return nil
		}
		// A count older than the window starts again from one.
		for _, c := range counters {
			if _, err := tx.ExecContext(ctx, `UPDATE signin_failures SET
				count = CASE WHEN last_at < $2 THEN 1 ELSE count + 1 END, last_at = $3 WHERE key = $1`,
				c.key, micros(now.Add(-t.Window)), micros(now)); err != nil {
				return err
			}
		}
		_, err = tx.ExecContext(ctx, `UPDATE signin_failure_minutes SET count = count + 1 WHERE minute = $1`, r.minute)
		return err
	})
	if err != nil {
		return SignInReservation{}, fmt.Errorf("reserve sign-in: %w", err)
	}
	return r, nil
}

// SignInFailed moves the reserved attempt's time to now, when its password
// was found wrong: the next wait counts from the failure, not from the start
// of the check.
func (db *DB) SignInFailed(ctx context.Context, r SignInReservation, now time.Time) error {
	if r.Wait > 0 || r.pair == "" {
		return nil
	}
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		for _, key := range []string{r.pair, r.keys.network(), r.keys.account()} {
			if _, err := tx.ExecContext(ctx, `UPDATE signin_failures SET last_at = $2 WHERE key = $1 AND last_at < $2`, key, micros(now)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sign-in failed: %w", err)
	}
	return nil
}

// ReleaseSignIn takes back a reservation whose password was not checked.
func (db *DB) ReleaseSignIn(ctx context.Context, r SignInReservation) error {
	err := db.inTx(ctx, func(tx *sql.Tx) error { return r.takeBack(ctx, tx, r.pair) })
	if err != nil {
		return fmt.Errorf("release sign-in: %w", err)
	}
	return nil
}

// SignInSucceeded forgets the pair's failures, takes back the reservation
// from the network's and the account's counts — a source's own success does
// not launder its guesses at other accounts — and makes the pair of account
// and source, and device if not "" (the id the browser's device cookie
// holds from now on), known at now.
func (db *DB) SignInSucceeded(ctx context.Context, r SignInReservation, now time.Time, device string) error {
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		if err := r.takeBack(ctx, tx, ""); err != nil {
			return err
		}
		for _, key := range []string{r.keys.sourcePair(), r.keys.devicePair()} {
			if _, err := tx.ExecContext(ctx, `DELETE FROM signin_failures WHERE key = $1`, key); err != nil {
				return err
			}
		}
		known := []string{r.keys.knownSource()}
		if device != "" {
			known = append(known, SignInKeys{Account: r.keys.Account, Device: device}.knownDevice())
		}
		for _, key := range known {
			if _, err := tx.ExecContext(ctx, `INSERT INTO signin_known (key, last_at) VALUES ($1, $2)
				ON CONFLICT (key) DO UPDATE SET last_at = excluded.last_at`, key, micros(now)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sign-in succeeded: %w", err)
	}
	return nil
}

// takeBack uncounts r from the network, the account, the minute and pair (if not "").
func (r SignInReservation) takeBack(ctx context.Context, tx *sql.Tx, pair string) error {
	if r.Wait > 0 || r.pair == "" {
		return nil // not counted
	}
	for _, key := range []string{pair, r.keys.network(), r.keys.account()} {
		if key == "" {
			continue
		}
		if _, err := tx.ExecContext(ctx, `UPDATE signin_failures SET count = count - 1 WHERE key = $1 AND count > 0`, key); err != nil {
			return err
		}
	}
	_, err := tx.ExecContext(ctx, `UPDATE signin_failure_minutes SET count = count - 1 WHERE minute = $1 AND count > 0`, r.minute)
	return err
}

// PurgeSignInFailures deletes counts last touched longer than t's window
// before now, and pairs and devices not known for longer than t.KnownFor.
func (db *DB) PurgeSignInFailures(ctx context.Context, now time.Time, t governance.Throttle) (int64, error) {
	before := now.Add(-t.Window)
	res, err := db.write.ExecContext(ctx, `DELETE FROM signin_failures WHERE last_at < $1`, micros(before))
	if err != nil {
		return 0, fmt.Errorf("purge sign-in failures: %w", err)
	}
	n, _ := res.RowsAffected()
	_, err1 := db.write.ExecContext(ctx, `DELETE FROM signin_failure_minutes WHERE minute < $1`, minuteOf(before))
	_, err2 := db.write.ExecContext(ctx, `DELETE FROM signin_known WHERE last_at < $1`, micros(now.Add(-t.KnownFor)))
	if err := errors.Join(err1, err2); err != nil {
		return n, fmt.Errorf("purge sign-in failures: %w", err)
	}
	return n, nil
}

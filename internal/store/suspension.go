package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"deling/internal/access"
	"deling/internal/governance"
)

// ReasonSuspended begins the status reason, text for people, of every grant
// SuspendConsumer suspends (Rule AA-25), followed by what was breached. What
// ResumeConsumer resumes is told by the grant's suspension cause
// (access.SuspendedByRegister), never by this text.
const ReasonSuspended = "suspendert: "

// SuspendConsumer suspends every active grant of the consumer at once (Rule
// AA-25: on a breach of the terms) and queues the written notice to every
// contact person (letter with an empty To) in the same transaction. The
// reason is what was breached; the grants are suspended by the register
// (access.SuspendedByRegister). ErrConflict when nothing is active.
//
// The register holds the suspension outside any case (Rules AV-02, AA-25):
// a breach case's resumption does not lift it. A consumer suspended
// already by a breach case (nothing active, grants suspended by the
// register) is held by the register too, with no second letter:
// res.Grants is 0. ErrConflict when the register holds it already.
func (db *DB) SuspendConsumer(ctx context.Context, orgnr, reason string, letter governance.Letter, actor string) (LifeResult, error) {
	var res LifeResult
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		if err := lockConsumer(ctx, db, tx, orgnr); err != nil {
			return err
		}
		var err error
		res, err = db.suspendConsumer(ctx, tx, orgnr, reason, letter, actor)
		if errors.Is(err, ErrNoActiveGrant) {
			// Rules AV-02, AA-25: suspended already (by a case): the register takes its hold too.
			if n, cerr := countRegisterSuspended(ctx, tx, orgnr); cerr != nil {
				return cerr
			} else if n > 0 {
				res, err = LifeResult{}, nil
			}
		}
		if err != nil {
			return err
		}
		held, err := holdStop(ctx, tx, consumerStopTarget(orgnr), holderRegister, actor, db.now())
		if err == nil && !held {
			err = fmt.Errorf("consumer %s is suspended by the register already: %w", orgnr, ErrConflict)
		}
		return err
	})
	if err != nil {
		return LifeResult{}, fmt.Errorf("suspend %s: %w", orgnr, err)
	}
	return res, nil
}

// suspendConsumer is SuspendConsumer in the caller's transaction, so that a
// breach case's "stop access" measure and the suspension are one change (Rule AV-02).
func (db *DB) suspendConsumer(ctx context.Context, tx *sql.Tx, orgnr, reason string, letter governance.Letter, actor string) (LifeResult, error) {
	var res LifeResult
	ids, err := grantIDs(ctx, tx, orgnr, access.Active)
	if err != nil {
		return res, err
	}
	if len(ids) == 0 {
		return res, fmt.Errorf("consumer %s has nothing to suspend: %w", orgnr, ErrNoActiveGrant)
	}
	if err := db.setGrantsStatus(ctx, tx, orgnr, ids, access.Suspended, access.SuspendedByRegister, ReasonSuspended+reason, actor); err != nil {
		return res, err
	}
	res.Grants = len(ids)
	letter.Kind = governance.LetterSuspension
	res.Letters, err = db.queueLetters(ctx, tx, orgnr, actor, letter)
	return res, err
}

// ResumeConsumer resumes the grants SuspendConsumer suspended (Rule AA-25:
// access.SuspendedByRegister) and queues the letter telling its contacts, in
// one transaction. Grants suspended for another cause stay suspended.
// ErrConflict when none is suspended by the register. Rule AV-02: it
// releases the register's own hold only; while a breach case holds the
// suspension, nothing is resumed and res.StillHeld counts those cases.
func (db *DB) ResumeConsumer(ctx context.Context, orgnr string, letter governance.Letter, actor string) (LifeResult, error) {
	var res LifeResult
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		if err := lockConsumer(ctx, db, tx, orgnr); err != nil {
			return err
		}
		others, err := releaseStop(ctx, tx, consumerStopTarget(orgnr), holderRegister)
		if err != nil {
			return err
		}
		if others > 0 {
			res.StillHeld = others
			return nil
		}
		res, err = db.resumeConsumer(ctx, tx, orgnr, letter, actor)
		return err
	})
	if err != nil {
		return LifeResult{}, fmt.Errorf("resume %s: %w", orgnr, err)
	}
	return res, nil
}

// lockConsumer locks the consumer's row in tx (PostgreSQL), so that holds
// of its suspension are taken and released one transaction at a time;
// ErrNotFound when there is no such consumer.
func lockConsumer(ctx context.Context, db *DB, tx *sql.Tx, orgnr string) error {
	var st string
	err := tx.QueryRowContext(ctx, db.forUpdate(`SELECT status FROM consumers WHERE orgnr = $1`), orgnr).Scan(&st)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("consumer %s: %w", orgnr, ErrNotFound)
	}
	return err
}

// countRegisterSuspended counts the consumer's grants suspended by the register, in tx.
func countRegisterSuspended(ctx context.Context, tx *sql.Tx, orgnr string) (int, error) {
	var n int64
	err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM grants WHERE consumer = $1 AND status = $2 AND suspension = $3`,
		orgnr, string(access.Suspended), string(access.SuspendedByRegister)).Scan(&n)
	return int(n), err
}

// resumeConsumer resumes the grants the register suspended, with the letter, in tx.
func (db *DB) resumeConsumer(ctx context.Context, tx *sql.Tx, orgnr string, letter governance.Letter, actor string) (LifeResult, error) {
	var res LifeResult
	var st string
	if err := tx.QueryRowContext(ctx, `SELECT status FROM consumers WHERE orgnr = $1`, orgnr).Scan(&st); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return res, fmt.Errorf("consumer %s: %w", orgnr, ErrNotFound)
		}
		return res, err
	}
	if access.Status(st) != access.Active {
		return res, fmt.Errorf("consumer %s has ceased: %w", orgnr, ErrConflict)
	}
	ids, err := idsIn(ctx, tx, `SELECT id FROM grants WHERE consumer = $1 AND status = $2 AND suspension = $3
		ORDER BY created_at, id`, orgnr, string(access.Suspended), string(access.SuspendedByRegister))
	if err != nil {
		return res, fmt.Errorf("suspended grants of %s: %w", orgnr, err)
	}
	if len(ids) == 0 {
		return res, fmt.Errorf("consumer %s has no grant suspended by the register: %w", orgnr, errNothingToResume)
	}
	if err := db.setGrantsStatus(ctx, tx, orgnr, ids, access.Active, "", "", actor); err != nil {
		return res, err
	}
	res.Grants = len(ids)
	letter.Kind = governance.LetterResumption
	res.Letters, err = db.queueLetters(ctx, tx, orgnr, actor, letter)
	return res, err
}

package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"

	"deling/internal/access"
	"deling/internal/audit"
)

// Living with access: suspension by the register with a written notice
// (AA-25, suspension.go), ending by the consumer or because its organisation
// ceased in Enhetsregisteret (AA-26, termination.go, enhetsregisteret.go), a
// consumer's users and their periodic review (AA-27, invitations.go,
// review.go). Each change, its events and the letters telling of it are
// stored in one transaction.

// LifeResult counts what a change touched.
type LifeResult struct {
	Grants      int // grants suspended, resumed or ended
	Delegations int // delegations ended
	Letters     int // letters queued
	StillHeld   int // a client resumed from a breach case stays stopped: the other holders of its stop (Rule AV-02)
	// Consumers is how many consumers a breach case's letters were sent to;
	// NoRecipients are the consumers no letter could reach: no contact
	// person, administrator or role holder (Rule AA-22). Nothing is recorded for them.
	Consumers    int
	NoRecipients []string
	// SameKey are the organisation's other clients with the stopped
	// client's key, stopped (or resumed) with it (Rule AV-02).
	SameKey []string
}

// grantIDs lists the ids of consumer's grants in one of statuses, in tx.
func grantIDs(ctx context.Context, tx *sql.Tx, consumer string, statuses ...access.Status) ([]string, error) {
	rows, err := tx.QueryContext(ctx, `SELECT id, status FROM grants WHERE consumer = $1 ORDER BY created_at, id`, consumer)
	if err != nil {
		return nil, fmt.Errorf("grants of %s: %w", consumer, err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id, st string
		if err := rows.Scan(&id, &st); err != nil {
			return nil, err
		}
		if slices.Contains(statuses, access.Status(st)) {
			ids = append(ids, id)
		}
	}
	return ids, rows.Err()
}

// setGrantsStatus changes grants' status in tx, one event each; cause is
// who suspends them when status is Suspended.
func (db *DB) setGrantsStatus(ctx context.Context, tx *sql.Tx, consumer string, ids []string, status access.Status, cause access.SuspensionCause, reason, actor string) error {
	cause = suspensionOf(status, cause, access.SuspendedByOperator)
	for _, id := range ids {
		if _, err := tx.ExecContext(ctx, `UPDATE grants SET status = $1, status_reason = $2, suspension = $3, updated_at = $4 WHERE id = $5`,
			string(status), reason, string(cause), micros(db.now()), id); err != nil {
			return fmt.Errorf("grant %s: %w", id, err)
		}
		if err := db.appendEvent(ctx, tx, audit.KindGrantStatus, consumer, actor,
			map[string]string{"grant": id, "status": string(status), "reason": reason}); err != nil {
			return err
		}
	}
	return bumpAccess(ctx, tx)
}

// suspensionOf is the suspension cause a grant with status keeps: cause, or
// otherwise when cause is "", while it is suspended; "" when it is not.
func suspensionOf(status access.Status, cause, otherwise access.SuspensionCause) access.SuspensionCause {
	switch {
	case status != access.Suspended:
		return ""
	case cause == "":
		return otherwise
	}
	return cause
}

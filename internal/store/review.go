package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"deling/internal/governance"
)

// ReviewDue is an organisation with users whose access review is due (Rule AA-27).
type ReviewDue struct {
	Org   string
	Users int
}

// ReviewsDue lists the consumer and processor organisations with active users
// holding a role last confirmed at or before cutoff (governance.ReviewCutoff).
func (db *DB) ReviewsDue(ctx context.Context, cutoff time.Time) ([]ReviewDue, error) {
	rows, err := db.read.query(ctx, `SELECT m.org, COUNT(DISTINCT m.user_id) FROM memberships m JOIN users u ON u.id = m.user_id
		WHERE u.disabled_at IS NULL AND m.org <> '' AND m.org <> $1 AND m.reviewed_at <= $2 GROUP BY m.org ORDER BY m.org`,
		governance.AuthorityOrg, micros(cutoff))
	if err != nil {
		return nil, fmt.Errorf("reviews due: %w", err)
	}
	defer rows.Close()
	var out []ReviewDue
	for rows.Next() {
		var r ReviewDue
		if err := rows.Scan(&r.Org, &r.Users); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// RemindReview queues the reminder letters of org's due review (Rule AA-27),
// each with its letter event in the log, unless it was reminded less than
// every ago (governance.ReminderDue), and remembers when, in one transaction.
// It reports whether it queued them. The check and the update are one
// conditional upsert, so two nodes never both remind.
func (db *DB) RemindReview(ctx context.Context, org string, every time.Duration, letters ...governance.Letter) (bool, error) {
	now := db.now()
	sent := false
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO review_reminders (org, reminded_at) VALUES ($1, $2)
			ON CONFLICT (org) DO UPDATE SET reminded_at = excluded.reminded_at WHERE review_reminders.reminded_at <= $3`,
			org, micros(now), micros(now.Add(-every)))
		if err != nil {
			return fmt.Errorf("remind review %s: %w", org, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		for i := range letters {
			letters[i].Kind = governance.LetterReviewReminder
		}
		sent = true
		_, err = db.queueLetters(ctx, tx, org, "deling", letters...)
		return err
	})
	return sent && err == nil, err
}

// LastReviewReminder is when org was last reminded of a due review (zero: never).
func (db *DB) LastReviewReminder(ctx context.Context, org string) (time.Time, error) {
	var us int64
	err := db.read.queryRow(ctx, `SELECT reminded_at FROM review_reminders WHERE org = $1`, org).Scan(&us)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, err
	}
	return fromMicros(us), nil
}

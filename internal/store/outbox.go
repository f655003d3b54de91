package store

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"deling/internal/governance"
)

// QueueMail puts letters in the outbox in one transaction; a sender job delivers them.
func (db *DB) QueueMail(ctx context.Context, ms ...governance.Letter) error {
	return db.inTx(ctx, func(tx *sql.Tx) error { return queueMail(ctx, tx, db.now(), ms...) })
}

// queueMail is QueueMail in the caller's transaction, so that a change and the letter telling of it are stored together.
func queueMail(ctx context.Context, tx *sql.Tx, now time.Time, ms ...governance.Letter) error {
	for _, m := range ms {
		if _, err := tx.ExecContext(ctx, `INSERT INTO mail_outbox (id, consumer, kind, to_addr, subject, body, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
			newID(), m.Consumer, m.Kind, m.To, m.Subject, m.Body, micros(now)); err != nil {
			return fmt.Errorf("queue mail: %w", err)
		}
	}
	// Issue 14, item 7: each letter to an organisation is also post in its inbox.
	return letterCorrespondences(ctx, tx, now, ms)
}

const mailColumns = `id, consumer, kind, to_addr, subject, body, created_at, sent_at, attempts, last_error`

func scanMails(rows *sql.Rows, err error) ([]governance.Letter, error) {
	if err != nil {
		return nil, fmt.Errorf("mail: %w", err)
	}
	defer rows.Close()
	var out []governance.Letter
	for rows.Next() {
		var m governance.Letter
		var created int64
		var sent sql.NullInt64
		if err := rows.Scan(&m.ID, &m.Consumer, &m.Kind, &m.To, &m.Subject, &m.Body, &created, &sent, &m.Attempts, &m.LastError); err != nil {
			return nil, err
		}
		m.CreatedAt, m.SentAt = fromMicros(created), optTime(sent)
		out = append(out, m)
	}
	return out, rows.Err()
}

// PendingMail lists up to limit unsent letters with fewer than maxAttempts tries, oldest first.
func (db *DB) PendingMail(ctx context.Context, limit, maxAttempts int) ([]governance.Letter, error) {
	return scanMails(db.read.query(ctx, `SELECT `+mailColumns+` FROM mail_outbox WHERE sent_at IS NULL AND attempts < $1 ORDER BY created_at, id LIMIT $2`, maxAttempts, limit))
}

// MailLease is how long a sender's claim on a letter lasts (ClaimMail): far
// longer than a delivery round (mail.Config.Timeout), so that only a
// claimant that died leaves its letters to another node.
const MailLease = 10 * time.Minute

// ClaimMail claims up to limit unsent letters with fewer than maxAttempts
// tries, oldest first, for this node for MailLease, and returns them. Letters
// another node has claimed are skipped until its lease runs out, so that each
// letter is sent by one node even when leadership moves in the middle of a
// round (issue 15); a letter whose claimant died is claimed again after the
// lease. The lease runs on the database's clock, so that a node whose clock
// runs ahead never takes letters whose lease has not run out. MarkMail ends
// the claim.
func (db *DB) ClaimMail(ctx context.Context, limit, maxAttempts int) ([]governance.Letter, error) {
	pick := `SELECT id FROM mail_outbox WHERE sent_at IS NULL AND attempts < $3 AND claimed_until < $4 ORDER BY created_at, id LIMIT $5`
	claim := `UPDATE mail_outbox SET claimed_by = $1, claimed_until = $2 WHERE id IN (` + pick + `)`
	if db.engine == Postgres {
		// A racing claimant takes other letters, or none. The pick is made
		// once: as a subquery in IN, PostgreSQL may run it again for each
		// row, and each run skips the rows this statement has just updated
		// and picks the next, so that the limit was not kept.
		claim = `WITH picked AS MATERIALIZED (` + pick + ` FOR UPDATE SKIP LOCKED)
			UPDATE mail_outbox SET claimed_by = $1, claimed_until = $2 WHERE id IN (SELECT id FROM picked)`
	}
	var out []governance.Letter
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		var now int64
		if err := tx.QueryRowContext(ctx, db.clockMicros()).Scan(&now); err != nil {
			return err
		}
		// The conditions are checked again on the row itself: on PostgreSQL a
		// row another transaction claimed meanwhile is re-read before update.
		ms, err := scanMails(tx.QueryContext(ctx, claim+` AND sent_at IS NULL AND claimed_until < $4
			RETURNING `+mailColumns, db.claimant, now+MailLease.Microseconds(), maxAttempts, now, limit))
		out = ms
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("claim mail: %w", err)
	}
	slices.SortFunc(out, func(a, b governance.Letter) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), strings.Compare(a.ID, b.ID))
	})
	return out, nil
}

// ReleaseMail ends this node's claim on letters it claimed and did not try
// (the SMTP server could not be reached, or the round was cancelled), so that
// the next round, here or on another node, takes them at once. A letter
// another node has claimed since is left alone.
func (db *DB) ReleaseMail(ctx context.Context, ids ...string) error {
	if len(ids) == 0 {
		return nil
	}
	args := []any{db.claimant}
	in := make([]string, len(ids))
	for i, id := range ids {
		in[i] = fmt.Sprintf("$%d", i+2)
		args = append(args, id)
	}
	if _, err := db.write.ExecContext(ctx, `UPDATE mail_outbox SET claimed_until = 0
		WHERE claimed_by = $1 AND sent_at IS NULL AND id IN (`+strings.Join(in, ",")+`)`, args...); err != nil {
		return fmt.Errorf("release mail: %w", err)
	}
	return nil
}

// MailTo lists the letters concerning a consumer, newest first (its written notices).
func (db *DB) MailTo(ctx context.Context, consumer string, limit int) ([]governance.Letter, error) {
	return scanMails(db.read.query(ctx, `SELECT `+mailColumns+` FROM mail_outbox WHERE consumer = $1 ORDER BY created_at DESC, id DESC LIMIT $2`, consumer, limit))
}

// MarkMail records a delivery attempt: sent, or failed with the error; either
// ends the letter's claim (a failed letter is tried again by the next round).
// Only this node's claim is ended (or a letter no node claimed): a letter
// another node holds is left to it, with ErrMailClaimLost.
func (db *DB) MarkMail(ctx context.Context, id string, sendErr error) error {
	var res sql.Result
	var err error
	if sendErr == nil {
		res, err = db.write.ExecContext(ctx, `UPDATE mail_outbox SET sent_at = $1, attempts = attempts + 1, last_error = '', claimed_until = 0
			WHERE id = $2 AND claimed_by IN ('', $3)`, micros(db.now()), id, db.claimant)
	} else {
		res, err = db.write.ExecContext(ctx, `UPDATE mail_outbox SET attempts = attempts + 1, last_error = $1, claimed_until = 0
			WHERE id = $2 AND claimed_by IN ('', $3)`, truncate(sendErr.Error(), 500), id, db.claimant)
	}
	if err != nil {
		return fmt.Errorf("mark mail: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("mark mail: %w", err)
	} else if n == 0 {
		return fmt.Errorf("mark mail: %w", ErrMailClaimLost)
	}
	return nil
}

// truncate shortens s to at most n bytes without splitting a character, and
// replaces invalid UTF-8: PostgreSQL refuses a TEXT value that is not valid
// UTF-8, and a refused write would lose what it recorded (an attempt, a failed run).
func truncate(s string, n int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

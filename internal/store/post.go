package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"deling/internal/audit"
	"deling/internal/ident"
	"deling/internal/post"
)

// Digital post to businesses (issue 14). internal/post decides (validation,
// statuses, quota, on-behalf-of); this file keeps senders, correspondences
// and their status histories, each change in one transaction with its event
// in the log (audit.KindPost). Attachments are in post_attachments.go.

// RegisterPostSender registers (or changes) an eligible sender, as the
// register's staff does (Rules DPV-01, DPV-09; a full agreement DPV-10).
// A registration post.Sender.Validate refuses is refused whole.
func (db *DB) RegisterPostSender(ctx context.Context, s post.Sender, actor string) error {
	if bad := s.Validate(); len(bad) > 0 {
		return fmt.Errorf("register post sender: %v: %w", bad, ErrConflict)
	}
	if s.RegisteredAt.IsZero() {
		s.RegisteredAt = db.now().UTC()
	}
	body, err := json.Marshal(s)
	if err != nil {
		return err
	}
	return db.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO post_senders (orgnr, body, registered_at) VALUES ($1, $2, $3)
			ON CONFLICT (orgnr) DO UPDATE SET body = excluded.body, left_at = NULL`,
			string(s.Orgnr), string(body), micros(s.RegisteredAt)); err != nil {
			return fmt.Errorf("register post sender: %w", err)
		}
		ev := map[string]any{"step": "sender.registered", "sender": s.Orgnr, "agreement": s.Agreement != nil}
		return db.appendEvent(ctx, tx, audit.KindPost, string(s.Orgnr), actor, ev)
	})
}

// PostSender is a registered sender, ErrNotFound if none.
func (db *DB) PostSender(ctx context.Context, org ident.Orgnr) (*post.Sender, error) {
	return postSender(ctx, db.read.queryRow(ctx, `SELECT body, left_at FROM post_senders WHERE orgnr = $1`, string(org)))
}

func postSender(ctx context.Context, row *sql.Row) (*post.Sender, error) {
	var (
		body string
		left sql.NullInt64
	)
	if err := row.Scan(&body, &left); errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("post sender: %w", ErrNotFound)
	} else if err != nil {
		return nil, fmt.Errorf("post sender: %w", err)
	}
	var s post.Sender
	if err := json.Unmarshal([]byte(body), &s); err != nil {
		return nil, fmt.Errorf("post sender: %w", err)
	}
	if left.Valid {
		t := fromMicros(left.Int64)
		s.LeftAt = &t
	}
	return &s, nil
}

// PostSent counts the correspondences sender sent in [from, to): one per
// recipient (Rule DPV-10), purged ones included, and those deleted when it
// left (Rule DPV-11): registered again, it has no fresh free volume for the
// same year (DPV-09, DPV-10).
func (db *DB) PostSent(ctx context.Context, sender ident.Orgnr, from, to time.Time) (int, error) {
	return postSent(ctx, db.read.queryRow, sender, from, to)
}

func postSent(ctx context.Context, q func(context.Context, string, ...any) *sql.Row, sender ident.Orgnr, from, to time.Time) (int, error) {
	var n int
	err := q(ctx, `SELECT (SELECT COUNT(*) FROM post_correspondences WHERE sender = $1 AND created_at >= $2 AND created_at < $3)
		+ (SELECT COUNT(*) FROM post_sent_removed WHERE sender = $1 AND created_at >= $2 AND created_at < $3)`,
		string(sender), micros(from), micros(to)).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("post sent: %w", err)
	}
	return n, nil
}

// QuotaMemory is how far back a leaving sender's deleted correspondences are
// still counted (Rule DPV-10): longer than any calendar year in any zone.
const QuotaMemory = 367 * 24 * time.Hour

// PostSenderLeaves records that a sender left the service at and deletes
// its archived post: every correspondence it sent, with histories and
// attachments, and a record of the deletion (how many) in the log (Rule
// DPV-11). It returns how many correspondences were deleted.
func (db *DB) PostSenderLeaves(ctx context.Context, org ident.Orgnr, actor string) (int, error) {
	now := db.now().UTC()
	var (
		n     int
		files []string
	)
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE post_senders SET left_at = $1 WHERE orgnr = $2 AND left_at IS NULL`, micros(now), string(org))
		if err != nil {
			return fmt.Errorf("sender leaves: %w", err)
		}
		if k, _ := res.RowsAffected(); k == 0 {
			return fmt.Errorf("sender leaves: %w", ErrNotFound)
		}
		rows, err := tx.QueryContext(ctx, `SELECT a.id FROM post_attachments a JOIN post_correspondences c ON c.id = a.correspondence WHERE c.sender = $1`, string(org))
		if err != nil {
			return err
		}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			files = append(files, id)
		}
		rows.Close()
		// Rules DPV-09, DPV-10: what it sent within the last year still counts
		// against its free volume if it is registered again.
		if _, err := tx.ExecContext(ctx, `INSERT INTO post_sent_removed (sender, created_at)
			SELECT sender, created_at FROM post_correspondences WHERE sender = $1 AND created_at >= $2`,
			string(org), micros(now.Add(-QuotaMemory))); err != nil {
			return fmt.Errorf("sender leaves: %w", err)
		}
		sub := `(SELECT id FROM post_correspondences WHERE sender = $1)`
		for _, q := range []string{
			`DELETE FROM post_attachment_chunks WHERE attachment IN (SELECT id FROM post_attachments WHERE correspondence IN ` + sub + `)`,
			`DELETE FROM post_attachments WHERE correspondence IN ` + sub,
			`DELETE FROM post_attachment_links WHERE correspondence IN ` + sub,
			`DELETE FROM post_status WHERE correspondence IN ` + sub,
			`DELETE FROM post_notifications WHERE correspondence IN ` + sub,
			// Review of post1, finding 6: its idempotent keys go with its post,
			// so that a key reused after registering again makes new post
			// rather than pointing at deleted post (404).
			`DELETE FROM post_idempotency WHERE sender = $1 OR correspondence IN ` + sub,
		} {
			if _, err := tx.ExecContext(ctx, q, string(org)); err != nil {
				return fmt.Errorf("sender leaves: %w", err)
			}
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM post_bodies WHERE id IN (SELECT body_id FROM post_correspondences WHERE sender = $1)`, string(org)); err != nil {
			return fmt.Errorf("sender leaves: %w", err)
		}
		res, err = tx.ExecContext(ctx, `DELETE FROM post_correspondences WHERE sender = $1`, string(org))
		if err != nil {
			return fmt.Errorf("sender leaves: %w", err)
		}
		k, _ := res.RowsAffected()
		n = int(k)
		// Rule DPV-11: the deletion is recorded.
		ev := map[string]any{"step": "sender.left", "sender": org, "deleted": n, "attachments": len(files)}
		return db.appendEvent(ctx, tx, audit.KindPost, string(org), actor, ev)
	})
	if err != nil {
		return 0, err
	}
	for _, id := range files {
		db.removeAttachmentFile(id)
	}
	return n, nil
}

// AddSenderDelegation records an actual sender's delegation to a technical
// sender (Rule DPV-04), replacing an earlier one between the two.
func (db *DB) AddSenderDelegation(ctx context.Context, d post.SenderDelegation, actor string) error {
	if _, err := ident.ParseOrgnr(string(d.Actual)); err != nil {
		return fmt.Errorf("sender delegation: %w", err)
	}
	if _, err := ident.ParseOrgnr(string(d.Technical)); err != nil {
		return fmt.Errorf("sender delegation: %w", err)
	}
	return db.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO post_sender_delegations (actual, technical, from_at, until_at, revoked_at) VALUES ($1, $2, $3, $4, NULL)
			ON CONFLICT (actual, technical) DO UPDATE SET from_at = excluded.from_at, until_at = excluded.until_at, revoked_at = NULL`,
			string(d.Actual), string(d.Technical), micros(d.From), nullMicros(d.Until)); err != nil {
			return fmt.Errorf("sender delegation: %w", err)
		}
		ev := map[string]any{"step": "sender.delegated", "actual": d.Actual, "technical": d.Technical}
		return db.appendEvent(ctx, tx, audit.KindPost, string(d.Actual), actor, ev)
	})
}

// SenderDelegations lists the delegations given to a technical sender.
func (db *DB) SenderDelegations(ctx context.Context, technical ident.Orgnr) ([]post.SenderDelegation, error) {
	rows, err := db.read.query(ctx, `SELECT actual, technical, from_at, until_at, revoked_at FROM post_sender_delegations WHERE technical = $1`, string(technical))
	if err != nil {
		return nil, fmt.Errorf("sender delegations: %w", err)
	}
	defer rows.Close()
	var out []post.SenderDelegation
	for rows.Next() {
		var (
			d              post.SenderDelegation
			a, t           string
			from           int64
			until, revoked sql.NullInt64
		)
		if err := rows.Scan(&a, &t, &from, &until, &revoked); err != nil {
			return nil, err
		}
		d.Actual, d.Technical, d.From = ident.Orgnr(a), ident.Orgnr(t), fromMicros(from)
		d.Until, d.RevokedAt = optTime(until), optTime(revoked)
		out = append(out, d)
	}
	return out, rows.Err()
}

// PostSenders lists the registered senders, those that left too, by organisation number.
func (db *DB) PostSenders(ctx context.Context) ([]post.Sender, error) {
	rows, err := db.read.query(ctx, `SELECT body, left_at FROM post_senders ORDER BY orgnr`)
	if err != nil {
		return nil, fmt.Errorf("post senders: %w", err)
	}
	defer rows.Close()
	var out []post.Sender
	for rows.Next() {
		var (
			body string
			left sql.NullInt64
			s    post.Sender
		)
		if err := rows.Scan(&body, &left); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(body), &s); err != nil {
			return nil, fmt.Errorf("post senders: %w", err)
		}
		s.LeftAt = optTime(left)
		out = append(out, s)
	}
	return out, rows.Err()
}

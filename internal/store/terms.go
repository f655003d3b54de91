package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"deling/internal/audit"
	"deling/internal/governance"
)

// ObjectionReason is the status reason of grants ended because an objection
// to new terms could not be met (Rule AA-24).
const ObjectionReason = "innsigelse mot vilkårene"

const termsColumns = `id, kind, version, title, body, published_at, effective_from, published_by`

func scanTerms(row interface{ Scan(...any) error }) (governance.TermsVersion, error) {
	var v governance.TermsVersion
	var kind string
	var published, effective int64
	if err := row.Scan(&v.ID, &kind, &v.Version, &v.Title, &v.Body, &published, &effective, &v.PublishedBy); err != nil {
		return v, err
	}
	v.Kind, v.PublishedAt, v.EffectiveFrom = governance.TermsKind(kind), fromMicros(published), fromMicros(effective)
	return v, nil
}

// TermsVersions lists every published terms version, by kind and version.
func (db *DB) TermsVersions(ctx context.Context) ([]governance.TermsVersion, error) {
	rows, err := db.read.query(ctx, `SELECT `+termsColumns+` FROM terms_versions ORDER BY kind, version`)
	if err != nil {
		return nil, fmt.Errorf("terms versions: %w", err)
	}
	defer rows.Close()
	var out []governance.TermsVersion
	for rows.Next() {
		v, err := scanTerms(rows)
		if err != nil {
			return nil, fmt.Errorf("terms versions: %w", err)
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// TermsVersion loads one terms version.
func (db *DB) TermsVersion(ctx context.Context, id string) (governance.TermsVersion, error) {
	return termsVersion(db.read.queryRow(ctx, `SELECT `+termsColumns+` FROM terms_versions WHERE id = $1`, id), id)
}

func termsVersion(row *sql.Row, id string) (governance.TermsVersion, error) {
	v, err := scanTerms(row)
	if errors.Is(err, sql.ErrNoRows) {
		return v, fmt.Errorf("terms version %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return v, fmt.Errorf("load terms version %s: %w", id, err)
	}
	return v, nil
}

// PublishTerms stores a new version of v.Kind and announces it: the notice n
// (of kind vilkår) is published with it, and letter goes to every subscribed
// contact, all in one transaction. The version gets the next number of its
// kind. The kind's first version takes effect at once; a later one no sooner
// than minNotice after publication (Rule AA-24), or ErrConflict. v.PublishedAt
// and n.PublishedAt default to now.
func (db *DB) PublishTerms(ctx context.Context, v governance.TermsVersion, minNotice time.Duration, n governance.Notice, letter governance.Letter, actor string) (governance.TermsVersion, governance.Notice, error) {
	if v.PublishedAt.IsZero() {
		v.PublishedAt = db.now()
	}
	v.ID, v.PublishedBy = newID(), actor
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		var last sql.NullInt64
		if err := tx.QueryRowContext(ctx, `SELECT MAX(version) FROM terms_versions WHERE kind = $1`, string(v.Kind)).Scan(&last); err != nil {
			return fmt.Errorf("terms version number: %w", err)
		}
		v.Version = int(last.Int64) + 1
		switch {
		case v.Version == 1:
			v.EffectiveFrom = v.PublishedAt
		case v.EffectiveFrom.Before(v.PublishedAt.Add(minNotice)):
			// Rule AA-24: a new version is announced ahead.
			return fmt.Errorf("terms take effect %s, sooner than %s after publication: %w", v.EffectiveFrom, minNotice, ErrConflict)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO terms_versions (`+termsColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
			v.ID, string(v.Kind), v.Version, v.Title, v.Body, micros(v.PublishedAt), micros(v.EffectiveFrom), v.PublishedBy); err != nil {
			return fmt.Errorf("publish terms: %w", err)
		}
		if err := db.appendEvent(ctx, tx, audit.KindTerms, "", actor, map[string]any{"change": "published", "version": v.ID,
			"kind": v.Kind, "number": v.Version, "effectiveFrom": v.EffectiveFrom}); err != nil {
			return err
		}
		n.Kind = governance.NoticeTerms
		if n.PublishedAt.IsZero() {
			n.PublishedAt = v.PublishedAt
		}
		var err error
		n, err = db.publishNotice(ctx, tx, n, letter, actor)
		return err
	})
	return v, n, err
}

// AcceptTerms records an organisation's explicit acceptance of a version (Rule SK-02).
func (db *DB) AcceptTerms(ctx context.Context, consumer, versionID, actor string) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := termsVersion(tx.QueryRowContext(ctx, `SELECT `+termsColumns+` FROM terms_versions WHERE id = $1`, versionID), versionID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO terms_acceptances (consumer, version_id, accepted_at, accepted_by) VALUES ($1, $2, $3, $4)
			ON CONFLICT (consumer, version_id) DO UPDATE SET accepted_at = excluded.accepted_at, accepted_by = excluded.accepted_by`,
			consumer, versionID, micros(db.now()), actor); err != nil {
			return fmt.Errorf("accept terms: %w", err)
		}
		return db.appendEvent(ctx, tx, audit.KindTerms, consumer, actor, map[string]string{"change": "accepted", "version": versionID})
	})
}

// TermsAcceptances lists an organisation's explicit acceptances.
func (db *DB) TermsAcceptances(ctx context.Context, consumer string) ([]governance.Acceptance, error) {
	rows, err := db.read.query(ctx, `SELECT consumer, version_id, accepted_at, accepted_by FROM terms_acceptances WHERE consumer = $1 ORDER BY accepted_at`, consumer)
	if err != nil {
		return nil, fmt.Errorf("terms acceptances: %w", err)
	}
	defer rows.Close()
	var out []governance.Acceptance
	for rows.Next() {
		var a governance.Acceptance
		var at int64
		if err := rows.Scan(&a.Consumer, &a.VersionID, &at, &a.AcceptedBy); err != nil {
			return nil, err
		}
		a.AcceptedAt = fromMicros(at)
		out = append(out, a)
	}
	return out, rows.Err()
}

// RecordUserAcceptance records that a web user accepted a terms version, and
// the duty of confidentiality, for the organisation they act for (Rule AA-04:
// each time they sign in for web lookup).
func (db *DB) RecordUserAcceptance(ctx context.Context, userID, org, versionID string) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := termsVersion(tx.QueryRowContext(ctx, `SELECT `+termsColumns+` FROM terms_versions WHERE id = $1`, versionID), versionID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO terms_user_acceptances (id, user_id, consumer, version_id, accepted_at) VALUES ($1, $2, $3, $4, $5)`,
			newID(), userID, org, versionID, micros(db.now())); err != nil {
			return fmt.Errorf("record user acceptance: %w", err)
		}
		return db.appendEvent(ctx, tx, audit.KindTerms, org, "user:"+userID, map[string]string{"change": "user_accepted", "user": userID, "version": versionID})
	})
}

// LastUserAcceptance is when a web user last accepted a terms version for org, or ErrNotFound.
func (db *DB) LastUserAcceptance(ctx context.Context, userID, org, versionID string) (time.Time, error) {
	var at sql.NullInt64
	err := db.read.queryRow(ctx, `SELECT MAX(accepted_at) FROM terms_user_acceptances WHERE user_id = $1 AND consumer = $2 AND version_id = $3`,
		userID, org, versionID).Scan(&at)
	if err != nil {
		return time.Time{}, fmt.Errorf("user acceptance: %w", err)
	}
	if !at.Valid {
		return time.Time{}, fmt.Errorf("user acceptance: %w", ErrNotFound)
	}
	return fromMicros(at.Int64), nil
}

const objectionColumns = `id, consumer, version_id, reason, created_at, created_by, status, resolved_at, resolved_by, note`

func scanObjection(row interface{ Scan(...any) error }) (governance.Objection, error) {
	var o governance.Objection
	var created int64
	var resolved sql.NullInt64
	var status string
	if err := row.Scan(&o.ID, &o.Consumer, &o.VersionID, &o.Reason, &created, &o.CreatedBy, &status, &resolved, &o.ResolvedBy, &o.Note); err != nil {
		return o, err
	}
	o.CreatedAt, o.ResolvedAt, o.Status = fromMicros(created), optTime(resolved), governance.ObjectionStatus(status)
	return o, nil
}

// ObjectToTerms records a consumer's objection to a terms version, for the
// register's case workers. Rule AA-24: only before the version takes effect
// (ErrConflict after), and one pending objection at a time (ErrExists).
func (db *DB) ObjectToTerms(ctx context.Context, o governance.Objection, actor string) (governance.Objection, error) {
	o.ID, o.CreatedAt, o.CreatedBy, o.Status = newID(), db.now(), actor, governance.ObjectionPending
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		v, err := termsVersion(tx.QueryRowContext(ctx, `SELECT `+termsColumns+` FROM terms_versions WHERE id = $1`, o.VersionID), o.VersionID)
		if err != nil {
			return err
		}
		if !o.CreatedAt.Before(v.EffectiveFrom) {
			return fmt.Errorf("terms %s took effect %s: %w", v.ID, v.EffectiveFrom, ErrConflict)
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM terms_objections WHERE consumer = $1 AND version_id = $2 AND status = $3`,
			o.Consumer, o.VersionID, string(governance.ObjectionPending)).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return fmt.Errorf("objection: %w", ErrExists)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO terms_objections (id, consumer, version_id, reason, created_at, created_by, status) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
			o.ID, o.Consumer, o.VersionID, o.Reason, micros(o.CreatedAt), o.CreatedBy, string(o.Status)); err != nil {
			return fmt.Errorf("object to terms: %w", err)
		}
		return db.appendEvent(ctx, tx, audit.KindTerms, o.Consumer, actor, map[string]string{"change": "objected", "objection": o.ID, "version": o.VersionID})
	})
	return o, err
}

// Objections lists objections, oldest first: a consumer's, or everyone's when
// consumer is ""; with status, or any when status is "".
func (db *DB) Objections(ctx context.Context, consumer string, status governance.ObjectionStatus) ([]governance.Objection, error) {
	rows, err := db.read.query(ctx, `SELECT `+objectionColumns+` FROM terms_objections
		WHERE ($1 = '' OR consumer = $1) AND ($2 = '' OR status = $2) ORDER BY created_at, id`, consumer, string(status))
	if err != nil {
		return nil, fmt.Errorf("objections: %w", err)
	}
	defer rows.Close()
	var out []governance.Objection
	for rows.Next() {
		o, err := scanObjection(rows)
		if err != nil {
			return nil, fmt.Errorf("objections: %w", err)
		}
		out = append(out, o)
	}
	return out, rows.Err()
}

// Objection loads one objection.
func (db *DB) Objection(ctx context.Context, id string) (governance.Objection, error) {
	o, err := scanObjection(db.read.queryRow(ctx, `SELECT `+objectionColumns+` FROM terms_objections WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return o, fmt.Errorf("objection %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return o, fmt.Errorf("load objection %s: %w", id, err)
	}
	return o, nil
}

// ResolveObjection records a case worker's decision on a pending objection
// (ErrConflict if it was decided already) and tells the consumer: letter goes
// to its contacts, or with none to its administrators. Rule AA-24: an
// objection that cannot be met (met false) ends all the consumer's access in
// the same transaction — every grant ends with ObjectionReason, every
// delegation ends; the consumer stays, without access.
func (db *DB) ResolveObjection(ctx context.Context, id string, met bool, note string, letter governance.Letter, actor string) (governance.Objection, error) {
	var o governance.Objection
	status := governance.ObjectionRejected
	if met {
		status = governance.ObjectionMet
	}
	now := db.now()
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		o, err = scanObjection(tx.QueryRowContext(ctx, `SELECT `+objectionColumns+` FROM terms_objections WHERE id = $1`, id))
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("objection %s: %w", id, ErrNotFound)
		}
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE terms_objections SET status = $1, resolved_at = $2, resolved_by = $3, note = $4 WHERE id = $5 AND status = $6`,
			string(status), micros(now), actor, note, id, string(governance.ObjectionPending))
		if err != nil {
			return fmt.Errorf("resolve objection: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("objection %s was decided already: %w", id, ErrConflict)
		}
		o.Status, o.ResolvedAt, o.ResolvedBy, o.Note = status, &now, actor, note
		if err := db.appendEvent(ctx, tx, audit.KindTerms, o.Consumer, actor, map[string]string{"change": "objection_resolved",
			"objection": id, "version": o.VersionID, "outcome": string(status)}); err != nil {
			return err
		}
		if !met {
			if _, err := db.endAccess(ctx, tx, o.Consumer, ObjectionReason, actor, false); err != nil {
				return err
			}
		}
		_, err = db.queueLetters(ctx, tx, o.Consumer, actor, letter)
		return err
	})
	return o, err
}

func idsIn(ctx context.Context, tx *sql.Tx, query string, args ...any) ([]string, error) {
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

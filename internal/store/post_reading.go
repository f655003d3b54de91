package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"deling/internal/audit"
	"deling/internal/governance"
	"deling/internal/ident"
	"deling/internal/post"
)

// Post/Arkiv delegations (Rule DPV-03). post.MayDelegate decides who may
// give what to whom; these keep what was given. The delegating and
// receiving parties are stored as JSON of post.Party; the log's event names
// the kinds and organisations, never a person's identifier.

// DelegatePost records d and returns its id, when post.MayDelegate lets
// its delegating portal user (d.By, a post.PortalPerson) give it, as the
// store reads that user's roles and delegations in the transaction that
// inserts, with the giver's (and a receiving user's) account and
// memberships locked as RemoveMembership and DisableUser lock them (Rule
// DPV-03: only key role holders and holders of the access-management
// role; the handler's check is not the only one; review finding 6). A
// person given the right must be an active user of the organisation (or
// named by a fødselsnummer); an organisation is stored by its number
// alone. A refusal is ErrConflict, nothing stored.
func (db *DB) DelegatePost(ctx context.Context, d post.Delegation, actor string) (string, error) {
	if d.By.Kind != post.PartyPerson || d.By.User == "" {
		return "", fmt.Errorf("delegate post: only a portal user delegates: %w", ErrConflict)
	}
	d.By = post.PortalPerson(d.By.User) // as endPostDelegationsOf looks it up
	if d.To.Kind == post.PartyOrganisation {
		d.To = post.Party{Kind: post.PartyOrganisation, Orgnr: d.To.Orgnr} // as PostDelegationsTo looks it up
	}
	to, err := json.Marshal(d.To)
	if err != nil {
		return "", err
	}
	b, err := json.Marshal(d.By)
	if err != nil {
		return "", err
	}
	if d.From.IsZero() {
		d.From = db.now().UTC()
	}
	id := newID()
	err = db.inTx(ctx, func(tx *sql.Tx) error {
		by, err := db.postHomeViewer(ctx, tx, true, d.By.User, d.Org)
		if err != nil {
			return err
		}
		if bad := post.MayDelegate(by, d.Org, d.Right, d.To); len(bad) > 0 {
			return fmt.Errorf("delegate post: %v: %w", bad, ErrConflict)
		}
		if d.To.Kind == post.PartyPerson && d.To.User != "" {
			if ok, err := lockActiveUserOf(ctx, db, tx, d.To.User, d.Org); err != nil {
				return err
			} else if !ok {
				return fmt.Errorf("delegate post: %s is no active user of %s: %w", d.To.User, d.Org, ErrConflict)
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO post_reading_delegations (id, org, party_kind, party, rights, by_party, from_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, id, string(d.Org), string(d.To.Kind), string(to), string(d.Right), string(b), micros(d.From)); err != nil {
			return fmt.Errorf("delegate post: %w", err)
		}
		ev := map[string]any{"step": "reading.delegated", "org": d.Org, "delegation": id, "right": d.Right, "to": d.To.Kind}
		return db.appendEvent(ctx, tx, audit.KindPost, string(d.Org), actor, ev)
	})
	if err != nil {
		return "", err
	}
	return id, nil
}

// lockActiveUserOf is activeUserOf in tx, locking the account's row and
// its memberships of org.
func lockActiveUserOf(ctx context.Context, db *DB, tx *sql.Tx, userID string, org ident.Orgnr) (bool, error) {
	rows, err := tx.QueryContext(ctx, db.forUpdate(`SELECT m.role FROM memberships m JOIN users u ON u.id = m.user_id
		WHERE m.user_id = $1 AND m.org = $2 AND u.disabled_at IS NULL`, "m", "u"), userID, string(org))
	if err != nil {
		return false, err
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		n++
	}
	return n > 0, rows.Err()
}

// RevokePostDelegation ends one of org's delegations now.
func (db *DB) RevokePostDelegation(ctx context.Context, org ident.Orgnr, id, actor string) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE post_reading_delegations SET revoked_at = $1 WHERE id = $2 AND org = $3 AND revoked_at IS NULL`,
			micros(db.now()), id, string(org))
		if err != nil {
			return fmt.Errorf("revoke post delegation: %w", err)
		}
		if k, _ := res.RowsAffected(); k == 0 {
			return fmt.Errorf("revoke post delegation: %w", ErrNotFound)
		}
		ev := map[string]any{"step": "reading.revoked", "org": org, "delegation": id}
		return db.appendEvent(ctx, tx, audit.KindPost, string(org), actor, ev)
	})
}

// PostDelegation is a stored delegation with its id.
type PostDelegation struct {
	ID string
	post.Delegation
}

// PostDelegations lists the delegations over org's post, revoked ones too
// (post.Delegation.InForce tells).
func (db *DB) PostDelegations(ctx context.Context, org ident.Orgnr) ([]PostDelegation, error) {
	return db.postDelegations(ctx, `SELECT id, org, party, rights, by_party, from_at, revoked_at FROM post_reading_delegations WHERE org = $1 ORDER BY from_at, id`, string(org))
}

// PostDelegationsTo lists the delegations in force or not that name party,
// over any organisation's post: what a Viewer is built from.
func (db *DB) PostDelegationsTo(ctx context.Context, party post.Party) ([]PostDelegation, error) {
	b, err := json.Marshal(party)
	if err != nil {
		return nil, err
	}
	return scanPostDelegations(db.read.query(ctx, postDelegationsToQuery, string(b)))
}

const postDelegationsToQuery = `SELECT id, org, party, rights, by_party, from_at, revoked_at FROM post_reading_delegations WHERE party = $1 ORDER BY from_at, id`

func (db *DB) postDelegations(ctx context.Context, q string, arg string) ([]PostDelegation, error) {
	return scanPostDelegations(db.read.query(ctx, q, arg))
}

func scanPostDelegations(rows *sql.Rows, err error) ([]PostDelegation, error) {
	if err != nil {
		return nil, fmt.Errorf("post delegations: %w", err)
	}
	defer rows.Close()
	var out []PostDelegation
	for rows.Next() {
		var (
			d                  PostDelegation
			org, to, right, by string
			from               int64
			revoked            sql.NullInt64
		)
		if err := rows.Scan(&d.ID, &org, &to, &right, &by, &from, &revoked); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(to), &d.To); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(by), &d.By); err != nil {
			return nil, err
		}
		d.Org, d.Right, d.From, d.RevokedAt = ident.Orgnr(org), post.Right(right), fromMicros(from), optTime(revoked)
		out = append(out, d)
	}
	return out, rows.Err()
}

// InboxEntry is a correspondence as an organisation's inbox lists it:
// without history or attachments, with whether it was read.
type InboxEntry struct {
	Correspondence
	Read      bool // read or confirmed: in the archive
	Confirmed bool
}

// PostInbox is what org received and may see now, newest publish time first,
// at most post.ListLimit, in one query: who of org's people may read which
// is the caller's to decide (post.MayRead).
func (db *DB) PostInbox(ctx context.Context, org ident.Orgnr) ([]InboxEntry, error) {
	rows, err := db.read.query(ctx, `SELECT `+correspondenceColumns+`,
		EXISTS (SELECT 1 FROM post_status s WHERE s.correspondence = c.id AND s.status IN ($2, $3)),
		EXISTS (SELECT 1 FROM post_status s WHERE s.correspondence = c.id AND s.status = $3)
		FROM post_correspondences c WHERE c.recipient = $1 AND c.publish_at <= $4
		ORDER BY c.publish_at DESC, c.id DESC LIMIT `+fmt.Sprint(post.ListLimit),
		string(org), int64(post.StatusRead), int64(post.StatusConfirmed), micros(db.now()))
	if err != nil {
		return nil, fmt.Errorf("post inbox: %w", err)
	}
	defer rows.Close()
	var out []InboxEntry
	for rows.Next() {
		var e InboxEntry
		c, err := scanCorrespondence(scanWith(rows, &e.Read, &e.Confirmed))
		if err != nil {
			return nil, err
		}
		if e.Correspondence = c; c.Status.VisibleToRecipient() {
			out = append(out, e)
		}
	}
	return out, rows.Err()
}

// InboxPage asks for one page of an organisation's inbox or archive,
// newest first (review finding 12: each has its own pages, no shared cap).
type InboxPage struct {
	Read   bool         // the archive (read or confirmed), else the inbox (unread)
	Before *InboxCursor // the page after this entry; nil for the first
	Limit  int          // at most post.ListLimit
}

// InboxCursor is where a page ends: an entry's publish time and id.
type InboxCursor struct {
	Publish int64 // microseconds
	ID      string
}

// PostInboxPage is one page of what org received and may see now, in the
// read state asked for, and the cursor of the next page (nil if none). Who
// of org's people may read which is the caller's to decide (post.MayRead).
func (db *DB) PostInboxPage(ctx context.Context, org ident.Orgnr, q InboxPage) ([]InboxEntry, *InboxCursor, error) {
	if q.Limit <= 0 || q.Limit > post.ListLimit {
		q.Limit = post.ListLimit
	}
	before := InboxCursor{Publish: micros(db.now()) + 1}
	if q.Before != nil {
		before = *q.Before
	}
	read := `EXISTS (SELECT 1 FROM post_status s WHERE s.correspondence = c.id AND s.status IN ($2, $3))`
	if !q.Read {
		read = "NOT " + read
	}
	rows, err := db.read.query(ctx, `SELECT `+correspondenceColumns+`,
		EXISTS (SELECT 1 FROM post_status s WHERE s.correspondence = c.id AND s.status IN ($2, $3)),
		EXISTS (SELECT 1 FROM post_status s WHERE s.correspondence = c.id AND s.status = $3)
		FROM post_correspondences c WHERE c.recipient = $1 AND c.publish_at <= $4 AND `+read+`
		AND (c.publish_at < $5 OR (c.publish_at = $5 AND c.id < $6))
		ORDER BY c.publish_at DESC, c.id DESC LIMIT `+fmt.Sprint(q.Limit+1),
		string(org), int64(post.StatusRead), int64(post.StatusConfirmed), micros(db.now()), before.Publish, before.ID)
	if err != nil {
		return nil, nil, fmt.Errorf("post inbox: %w", err)
	}
	defer rows.Close()
	var (
		out  []InboxEntry
		last InboxCursor
		n    int
		next *InboxCursor
	)
	for rows.Next() {
		var e InboxEntry
		c, err := scanCorrespondence(scanWith(rows, &e.Read, &e.Confirmed))
		if err != nil {
			return nil, nil, err
		}
		if n++; n > q.Limit {
			next = &last
			break
		}
		last = InboxCursor{Publish: micros(c.Publish), ID: c.ID}
		if e.Correspondence = c; c.Status.VisibleToRecipient() {
			out = append(out, e)
		}
	}
	return out, next, rows.Err()
}

// CorrespondenceHeads are the correspondences of ids that exist, without
// history, attachments or notifications, in one query: enough to decide who
// may see them.
func (db *DB) CorrespondenceHeads(ctx context.Context, ids []string) ([]Correspondence, error) {
	b, err := json.Marshal(ids)
	if err != nil {
		return nil, err
	}
	rows, err := db.read.query(ctx, `SELECT `+correspondenceColumns+` FROM post_correspondences WHERE id IN (`+db.jsonArray("$1")+`)`, string(b))
	if err != nil {
		return nil, fmt.Errorf("correspondence heads: %w", err)
	}
	defer rows.Close()
	var out []Correspondence
	for rows.Next() {
		c, err := scanCorrespondence(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// scanWith scans a row's columns and then extra.
type rowScanner interface{ Scan(...any) error }

func scanWith(r rowScanner, extra ...any) rowScanner { return extraScan{r, extra} }

type extraScan struct {
	r     rowScanner
	extra []any
}

func (e extraScan) Scan(dest ...any) error { return e.r.Scan(append(dest, e.extra...)...) }

// endPostDelegationsOf ends, in tx, what the portal user userID held or
// gave over organisations' post (Rule DPV-03), for every organisation when
// the account is closed, else for those the user holds no role in any
// more: the delegations that name the user (a delegation does not outlive
// the membership it was given in); the delegations the user gave to anyone
// but the organisation's own portal users — other organisations,
// enterprise users, persons by fødselsnummer —, so that a person who
// leaves reads nothing through an organisation they delegated to (review
// finding 5); and the role codes recorded for the user there (finding 2).
// A role holder's stand-in for DAGL goes with the role holder role. Each
// ending is logged as a revocation.
func (db *DB) endPostDelegationsOf(ctx context.Context, tx *sql.Tx, userID string, closed bool, actor string) error {
	party, err := json.Marshal(post.PortalPerson(userID))
	if err != nil {
		return err
	}
	left, args := ``, []any{string(party)}
	if !closed {
		left, args = ` AND NOT EXISTS (SELECT 1 FROM memberships m WHERE m.user_id = $2 AND m.org = d.org)`, append(args, userID)
	}
	type ending struct{ id, org, reason string }
	var ended []ending
	for _, c := range []struct{ col, reason string }{{"party", "membership ended"}, {"by_party", "giver's membership ended"}} {
		rows, err := tx.QueryContext(ctx, `SELECT id, org, party_kind, party FROM post_reading_delegations d
			WHERE `+c.col+` = $1 AND revoked_at IS NULL`+left, args...)
		if err != nil {
			return fmt.Errorf("end post delegations: %w", err)
		}
		for rows.Next() {
			var id, org, kind, to string
			if err := rows.Scan(&id, &org, &kind, &to); err != nil {
				rows.Close()
				return err
			}
			var p post.Party
			if err := json.Unmarshal([]byte(to), &p); err != nil {
				rows.Close()
				return err
			}
			if c.col == "by_party" && p.Kind == post.PartyPerson && p.User != "" {
				continue // the organisation's own user: bound by their own membership
			}
			ended = append(ended, ending{id, org, c.reason})
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}
	for _, e := range ended {
		if _, err := tx.ExecContext(ctx, `UPDATE post_reading_delegations SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL`, micros(db.now()), e.id); err != nil {
			return fmt.Errorf("end post delegations: %w", err)
		}
		ev := map[string]any{"step": "reading.revoked", "org": e.org, "delegation": e.id, "reason": e.reason}
		if err := db.appendEvent(ctx, tx, audit.KindPost, e.org, actor, ev); err != nil {
			return err
		}
	}
	codes := `DELETE FROM er_role_codes WHERE user_id = $1`
	standIn := `DELETE FROM er_role_legacy WHERE user_id = $1`
	if !closed {
		codes += ` AND NOT EXISTS (SELECT 1 FROM memberships m WHERE m.user_id = $1 AND m.org = er_role_codes.org)`
		standIn += ` AND NOT EXISTS (SELECT 1 FROM memberships m WHERE m.user_id = $1 AND m.org = er_role_legacy.org AND m.role = '` + string(governance.Rolleinnehaver) + `')`
	}
	for _, q := range []string{codes, standIn} {
		if _, err := tx.ExecContext(ctx, q, userID); err != nil {
			return fmt.Errorf("end role codes: %w", err)
		}
	}
	return nil
}

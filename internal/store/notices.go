package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"deling/internal/access"
	"deling/internal/audit"
	"deling/internal/governance"
	"deling/internal/post"
)

const noticeColumns = `id, kind, title, body, published_at, published_by, starts_at, ends_at, api_prefix, sunset_at`

func scanNotices(rows *sql.Rows, err error) ([]governance.Notice, error) {
	if err != nil {
		return nil, fmt.Errorf("notices: %w", err)
	}
	defer rows.Close()
	var out []governance.Notice
	for rows.Next() {
		n, err := scanNotice(rows)
		if err != nil {
			return nil, fmt.Errorf("notices: %w", err)
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

func scanNotice(row interface{ Scan(...any) error }) (governance.Notice, error) {
	var n governance.Notice
	var kind string
	var published int64
	var start, end, sunset sql.NullInt64
	if err := row.Scan(&n.ID, &kind, &n.Title, &n.Body, &published, &n.PublishedBy, &start, &end, &n.APIPrefix, &sunset); err != nil {
		return n, err
	}
	n.Kind, n.PublishedAt = governance.NoticeKind(kind), fromMicros(published)
	n.Start, n.End, n.Sunset = optTime(start), optTime(end), optTime(sunset)
	return n, nil
}

// PublishNotice stores a notice and, in the same transaction, queues a copy
// of letter to every contact who subscribes to notices, of every active
// consumer (Rule AA-20). n.ID (a UUID, so that the letter can link to the
// notice) and n.PublishedAt default to a new one and now; letter.Kind to governance.LetterNotice.
func (db *DB) PublishNotice(ctx context.Context, n governance.Notice, letter governance.Letter, actor string) (governance.Notice, error) {
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		n, err = db.publishNotice(ctx, tx, n, letter, actor)
		return err
	})
	return n, err
}

func (db *DB) publishNotice(ctx context.Context, tx *sql.Tx, n governance.Notice, letter governance.Letter, actor string) (governance.Notice, error) {
	n.PublishedBy = actor
	if n.ID == "" {
		n.ID = newID()
	}
	if n.PublishedAt.IsZero() {
		n.PublishedAt = db.now()
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO notices (`+noticeColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		n.ID, string(n.Kind), n.Title, n.Body, micros(n.PublishedAt), n.PublishedBy, nullMicros(n.Start), nullMicros(n.End), n.APIPrefix, nullMicros(n.Sunset)); err != nil {
		return n, fmt.Errorf("publish notice: %w", err)
	}
	var contacts []governance.Contact
	if n.Kind != governance.NoticePostInterface { // Rule DPV-08: an interface change is for the senders only
		rows, err := tx.QueryContext(ctx, `SELECT `+contactColumns+` FROM contacts
			WHERE varsler AND consumer IN (SELECT orgnr FROM consumers WHERE status = $1) ORDER BY consumer, navn, id`, string(access.Active))
		if contacts, err = scanContacts(rows, err); err != nil {
			return n, err
		}
	}
	if n.Kind == governance.NoticePostMaintenance || n.Kind == governance.NoticePostInterface {
		// Rule DPV-08 (with DPV-09): notices of the post service reach each
		// sender's service lead and deputy or shared address.
		cs, err := postSenderContacts(ctx, tx)
		if err != nil {
			return n, err
		}
		contacts = append(contacts, cs...)
	}
	if letter.Kind == "" {
		letter.Kind = governance.LetterNotice
	}
	type key struct{ consumer, to string }
	seen := map[key]bool{}
	var ms []governance.Letter
	for _, c := range contacts {
		if k := (key{c.Consumer, c.Epost}); !seen[k] {
			seen[k] = true
			m := letter
			m.Consumer, m.To = c.Consumer, c.Epost
			ms = append(ms, m)
		}
	}
	if err := queueMail(ctx, tx, db.now(), ms...); err != nil {
		return n, err
	}
	event := map[string]any{"notice": n.ID, "kind": n.Kind, "title": n.Title, "letters": len(ms)}
	if n.Start != nil {
		event["start"], event["end"] = n.Start, n.End
	}
	if n.APIPrefix != "" {
		event["api"], event["sunset"] = n.APIPrefix, n.Sunset
	}
	return n, db.appendEvent(ctx, tx, audit.KindNotice, "", actor, event)
}

// postSenderContacts are the addresses of the senders of post that have not
// left: service lead, deputy and shared address (Rule DPV-09), as contacts
// of the sender's organisation.
func postSenderContacts(ctx context.Context, tx *sql.Tx) ([]governance.Contact, error) {
	rows, err := tx.QueryContext(ctx, `SELECT body FROM post_senders WHERE left_at IS NULL ORDER BY orgnr`)
	if err != nil {
		return nil, fmt.Errorf("post sender contacts: %w", err)
	}
	defer rows.Close()
	var out []governance.Contact
	for rows.Next() {
		var body string
		if err := rows.Scan(&body); err != nil {
			return nil, err
		}
		var snd post.Sender
		if err := json.Unmarshal([]byte(body), &snd); err != nil {
			return nil, fmt.Errorf("post sender contacts: %w", err)
		}
		for _, c := range []*post.Contact{&snd.ServiceLead, snd.Deputy, snd.Shared} {
			if c != nil && c.Email != "" {
				out = append(out, governance.Contact{Consumer: string(snd.Orgnr), Epost: strings.ToLower(c.Email)})
			}
		}
	}
	return out, rows.Err()
}

// Notices lists up to limit published notices, newest first.
func (db *DB) Notices(ctx context.Context, limit int) ([]governance.Notice, error) {
	return scanNotices(db.read.query(ctx, `SELECT `+noticeColumns+` FROM notices WHERE published_at <= $1 ORDER BY published_at DESC, id DESC LIMIT $2`,
		micros(db.now()), limit))
}

// Notice loads one notice.
func (db *DB) Notice(ctx context.Context, id string) (governance.Notice, error) {
	n, err := scanNotice(db.read.queryRow(ctx, `SELECT `+noticeColumns+` FROM notices WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return n, fmt.Errorf("notice %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return n, fmt.Errorf("load notice %s: %w", id, err)
	}
	return n, nil
}

// DeprecationNotices lists the published normal-change notices whose old API
// version has not gone yet (Rule AA-23).
func (db *DB) DeprecationNotices(ctx context.Context) ([]governance.Notice, error) {
	now := micros(db.now())
	return scanNotices(db.read.query(ctx, `SELECT `+noticeColumns+` FROM notices
		WHERE kind = $1 AND sunset_at > $2 AND published_at <= $2 ORDER BY published_at, id`, string(governance.NoticeNormal), now))
}

// Unsubscribed is an active consumer with access but no contact who subscribes to notices (Rule AA-20).
type Unsubscribed struct {
	Consumer     access.Consumer
	LastReminded *time.Time // the last reminder queued, if any
}

// UnsubscribedConsumers lists the active consumers with an active grant and
// no contact who subscribes to notices, by orgnr.
func (db *DB) UnsubscribedConsumers(ctx context.Context) ([]Unsubscribed, error) {
	rows, err := db.read.query(ctx, `SELECT c.orgnr, c.navn, c.status, c.category,
			(SELECT MAX(m.created_at) FROM mail_outbox m WHERE m.consumer = c.orgnr AND m.kind = $1)
		FROM consumers c
		WHERE c.status = $2
			AND EXISTS (SELECT 1 FROM grants g WHERE g.consumer = c.orgnr AND g.status = $2)
			AND NOT EXISTS (SELECT 1 FROM contacts k WHERE k.consumer = c.orgnr AND k.varsler)
		ORDER BY c.orgnr`, governance.LetterRemindSubscribe, string(access.Active))
	if err != nil {
		return nil, fmt.Errorf("unsubscribed consumers: %w", err)
	}
	defer rows.Close()
	var out []Unsubscribed
	for rows.Next() {
		var u Unsubscribed
		var status string
		var last sql.NullInt64
		if err := rows.Scan(&u.Consumer.Orgnr, &u.Consumer.Navn, &status, &u.Consumer.Category, &last); err != nil {
			return nil, err
		}
		u.Consumer.Status, u.LastReminded = access.Status(status), optTime(last)
		out = append(out, u)
	}
	return out, rows.Err()
}

// RemindToSubscribe queues letter (of kind governance.LetterRemindSubscribe) to a
// consumer's contacts, or with none to its administrators, unless it
// subscribes to notices by now or was reminded less than every ago (Rule
// AA-20: reminded until it subscribes). It reports whether it queued any.
func (db *DB) RemindToSubscribe(ctx context.Context, consumer string, every time.Duration, letter governance.Letter) (bool, error) {
	queued := false
	now := db.now()
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		// Two nodes' runs overlapping (a leader's last round beside the next
		// one's first) check and queue one at a time: one reminder.
		if err := db.takeTurns(ctx, tx, "remind-subscribe:"+consumer); err != nil {
			return err
		}
		var subscribed int
		var last sql.NullInt64
		if err := tx.QueryRowContext(ctx, `SELECT
				(SELECT COUNT(*) FROM contacts WHERE consumer = $1 AND varsler),
				(SELECT MAX(created_at) FROM mail_outbox WHERE consumer = $1 AND kind = $2)`, consumer, governance.LetterRemindSubscribe).Scan(&subscribed, &last); err != nil {
			return fmt.Errorf("reminder: %w", err)
		}
		if subscribed > 0 || (last.Valid && now.Sub(fromMicros(last.Int64)) < every) {
			return nil
		}
		letter.Kind = governance.LetterRemindSubscribe
		n, err := db.queueLetters(ctx, tx, consumer, "deling", letter)
		queued = n > 0
		return err
	})
	return queued && err == nil, err
}

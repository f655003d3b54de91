package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"deling/internal/audit"
	"deling/internal/governance"
	"deling/internal/ident"
	"deling/internal/post"
)

// PostInit is what InitializeCorrespondences is asked to make: a request
// post validated, from the origin post.ResolveOrigin decided (Rule DPV-04).
type PostInit struct {
	Origin  post.Origin
	Request *post.InitializeRequest
	Quota   post.QuotaRules
	Loc     *time.Location // the quota year's zone (Europe/Oslo)
}

// PostInitialized is what initializing made: one correspondence per
// recipient, in the request's order, each with its attachments' ids in the
// request's order. Replay is set when an idempotentKey with the same
// content answered with what it made before.
type PostInitialized struct {
	Correspondences []InitializedCorrespondence
	Replay          bool
	Quota           post.Quota
}

// InitializedCorrespondence is one recipient's correspondence.
type InitializedCorrespondence struct {
	ID          string
	Recipient   ident.Orgnr
	Status      post.Status
	Attachments []string
}

// InitializeCorrespondences stores one correspondence per recipient, all or
// none, after the store-side rules: the actual sender is eligible and open
// for the category (Rules DPV-01, DPV-02, DPV-09, DPV-11), the year's free
// volume holds them unless a full agreement is in force (DPV-10), and an
// idempotentKey is new or replays the same content (research §1.7). A
// refusal is a *post.Problem and nothing is stored. Correspondences without
// attachments to upload are ReadyForPublish at once; PublishDue publishes.
func (db *DB) InitializeCorrespondences(ctx context.Context, in PostInit, actor string) (PostInitialized, error) {
	req, now := in.Request, db.now().UTC()
	cat, p := post.ParseCategory(req.Correspondence.ResourceID)
	if p != nil {
		return PostInitialized{}, p
	}
	body, err := json.Marshal(req.Correspondence)
	if err != nil {
		return PostInitialized{}, err
	}
	var (
		out     PostInitialized
		refused *post.Sender // refused beyond the free volume (Rule DPV-10)
	)
	err = db.inTx(ctx, func(tx *sql.Tx) error {
		out, refused = PostInitialized{}, nil
		sender, err := postSender(ctx, tx.QueryRowContext(ctx, db.forUpdate(`SELECT body, left_at FROM post_senders WHERE orgnr = $1`), string(in.Origin.Actual)))
		if errors.Is(err, ErrNotFound) {
			sender = nil
		} else if err != nil {
			return err
		}
		// Rules DPV-01, DPV-02, DPV-09, DPV-11.
		if p := sender.MaySend(cat, now); p != nil {
			return p
		}
		if req.IdempotentKey != nil {
			prev, err := idempotency(ctx, tx, in.Origin.Actual, *req.IdempotentKey)
			if err != nil {
				return err
			}
			outcome, p := post.CheckIdempotency(prev, post.ContentHash(req))
			if p != nil {
				return p
			}
			if outcome == post.IdemReplay {
				c, err := db.correspondence(ctx, tx.QueryRowContext, prev.CorrespondenceID)
				if err != nil {
					return err
				}
				atts, err := attachmentIDs(ctx, tx, c.ID)
				if err != nil {
					return err
				}
				out.Replay = true
				out.Correspondences = []InitializedCorrespondence{{ID: c.ID, Recipient: c.Recipient, Status: c.Status, Attachments: atts}}
				return nil
			}
		}
		// Rule DPV-10: counted in the Norwegian calendar year, all or nothing.
		start, end := post.YearSpan(post.QuotaYear(now, in.Loc), in.Loc)
		sent, err := postSent(ctx, tx.QueryRowContext, in.Origin.Actual, start, end)
		if err != nil {
			return err
		}
		q, p := post.CheckQuota(sender, sent, len(req.Recipients), now, in.Loc, in.Quota)
		out.Quota = q
		if p != nil {
			refused = sender
			return p
		}
		// Rule DPV-10: the service lead is told once, when this request crosses the notice share.
		if threshold := int(float64(in.Quota.FreePerYear) * in.Quota.NoticeAt); q.Notice != "" && sent < threshold {
			if err := queueMail(ctx, tx, now, governance.Letter{Consumer: string(sender.Orgnr), Kind: LetterPost,
				To: sender.ServiceLead.Email, Subject: "Digital post: nær grensen for gratis meldinger", Body: q.Notice}); err != nil {
				return err
			}
		}
		// 1044: confidential post only to organisations someone with a key role can read it in (Rule DPV-03).
		if req.Correspondence.IsConfidential {
			if err := db.confidentialRecipientsOK(ctx, tx, req.RecipientOrgs()); err != nil {
				return err
			}
		}
		publish := now
		if t := req.Correspondence.RequestedPublishTime; t != nil && t.After(now) {
			publish = t.UTC()
		}
		c := &req.Correspondence
		var atts []post.Attachment
		if c.Content != nil {
			atts = c.Content.Attachments
		}
		// The body is the same for every recipient: stored once, not 500 times (review finding 1).
		bodyID := newID()
		if _, err := tx.ExecContext(ctx, `INSERT INTO post_bodies (id, body) VALUES ($1, $2)`, bodyID, string(body)); err != nil {
			return fmt.Errorf("insert correspondence body: %w", err)
		}
		// Review finding 5: one attachment per request, as in Altinn 3, its id
		// shared by every recipient's correspondence: uploaded once, it makes
		// them all ready.
		attIDs := make([]string, len(atts))
		for i := range atts {
			attIDs[i] = newID()
		}
		for _, org := range req.RecipientOrgs() {
			id := newID()
			status := post.StatusInitialized
			if _, err := tx.ExecContext(ctx, `INSERT INTO post_correspondences (id, sender, technical, recipient, senders_reference, resource_id,
				message_sender, created_at, publish_at, due_at, confirmation, confidential, current, body, body_id, send_reminder)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, '', $14, $15)`,
				id, string(in.Origin.Actual), string(in.Origin.Technical), string(org), c.SendersReference, cat.ResourceID(),
				c.MessageSender, micros(now), micros(publish), nullMicros(c.DueDateTime), boolInt(c.IsConfirmationNeeded),
				boolInt(c.IsConfidential), int64(status), bodyID, boolInt(c.Notification != nil && c.Notification.SendReminder)); err != nil {
				return fmt.Errorf("insert correspondence: %w", err)
			}
			if err := addStatus(ctx, tx, id, 0, post.StatusInitialized, now, post.BySystem); err != nil {
				return err
			}
			ic := InitializedCorrespondence{ID: id, Recipient: org, Status: status}
			for i, a := range atts {
				aid := attIDs[i]
				if len(out.Correspondences) == 0 {
					if _, err := tx.ExecContext(ctx, `INSERT INTO post_attachments (id, correspondence, file_name, display_name, senders_reference, checksum)
						VALUES ($1, $2, $3, $4, $5, $6)`, aid, id, a.FileName, a.DisplayName, a.SendersReference, a.Checksum); err != nil {
						return fmt.Errorf("insert attachment: %w", err)
					}
				}
				if _, err := tx.ExecContext(ctx, `INSERT INTO post_attachment_links (correspondence, attachment) VALUES ($1, $2)`, id, aid); err != nil {
					return fmt.Errorf("insert attachment: %w", err)
				}
				ic.Attachments = append(ic.Attachments, aid)
			}
			if len(atts) == 0 {
				if err := setStatus(ctx, tx, id, post.StatusReadyForPublish, now, post.BySystem); err != nil {
					return err
				}
				ic.Status = post.StatusReadyForPublish
			}
			out.Correspondences = append(out.Correspondences, ic)
		}
		if req.IdempotentKey != nil {
			if _, err := tx.ExecContext(ctx, `INSERT INTO post_idempotency (sender, key, hash, correspondence, first_used) VALUES ($1, $2, $3, $4, $5)`,
				string(in.Origin.Actual), *req.IdempotentKey, post.ContentHash(req), out.Correspondences[0].ID, micros(now)); err != nil {
				if uniqueViolation(err) {
					// A concurrent request with the same key won: 409 (1034), as Altinn answers every reuse.
					_, p := post.CheckIdempotency(&post.Idempotency{Hash: "taken"}, "")
					return p
				}
				return fmt.Errorf("idempotency: %w", err)
			}
		}
		// Rule DPV-04: both the technical and the actual sender are logged.
		ev := map[string]any{"step": "initialized", "sender": in.Origin.Actual, "technical": in.Origin.Technical,
			"recipients": len(out.Correspondences), "resourceId": c.ResourceID, "first": out.Correspondences[0].ID}
		return db.appendEvent(ctx, tx, audit.KindPost, string(in.Origin.Actual), actor, ev)
	})
	if refused != nil && out.Quota.Notice != "" {
		// Rule DPV-10: the refusal rolled the request back; the notice of it
		// is stored on its own so that it survives, once a sender and year.
		if nerr := db.noticeQuotaRefusal(ctx, refused, out.Quota, now, actor); nerr != nil {
			// The caller answers the refusal and drops the rest: logged here,
			// without the sender or its service lead (review of post1, finding 9).
			slog.Error("digital post: the notice of a refusal beyond the free volume was not stored", "err", nerr)
			return out, errors.Join(err, nerr)
		}
	}
	return out, err
}

// noticeQuotaRefusal tells sender's service lead that a request was
// refused beyond the year's free volume (Rule DPV-10), in a transaction of
// its own, the first time in q's year only: a sender that retries is not
// sent a letter a try.
func (db *DB) noticeQuotaRefusal(ctx context.Context, sender *post.Sender, q post.Quota, now time.Time, actor string) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO post_quota_refusals (sender, year, noticed_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
			string(sender.Orgnr), q.Year, micros(now))
		if err != nil {
			return fmt.Errorf("quota refusal notice: %w", err)
		}
		if k, _ := res.RowsAffected(); k == 0 {
			return nil // told already this year
		}
		if err := queueMail(ctx, tx, now, governance.Letter{Consumer: string(sender.Orgnr), Kind: LetterPost,
			To: sender.ServiceLead.Email, Subject: "Digital post: forsendelse avvist over grensen for gratis meldinger", Body: q.Notice}); err != nil {
			return err
		}
		ev := map[string]any{"step": "quota.refused", "sender": sender.Orgnr, "year": q.Year, "sent": q.Sent}
		return db.appendEvent(ctx, tx, audit.KindPost, string(sender.Orgnr), actor, ev)
	})
}

// confidentialRecipientsOK refuses, as Altinn does with 1044, when one of
// orgs has nobody with a key role that reads confidential post: in deling,
// no active portal user whose role codes (or role holder's stand-in,
// post.PortalRoles) include one (Rule DPV-03).
func (db *DB) confidentialRecipientsOK(ctx context.Context, tx *sql.Tx, orgs []ident.Orgnr) error {
	held, err := db.orgKeyRoles(ctx, tx, orgs)
	if err != nil {
		return err
	}
	for _, org := range orgs {
		if p := post.ConfidentialRecipientOK(held[org]); p != nil {
			return p
		}
	}
	return nil
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

func idempotency(ctx context.Context, tx *sql.Tx, sender ident.Orgnr, key string) (*post.Idempotency, error) {
	var (
		i    post.Idempotency
		used int64
	)
	err := tx.QueryRowContext(ctx, `SELECT key, hash, correspondence, first_used FROM post_idempotency WHERE sender = $1 AND key = $2`,
		string(sender), key).Scan(&i.Key, &i.Hash, &i.CorrespondenceID, &used)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("idempotency: %w", err)
	}
	i.FirstUsed = fromMicros(used)
	return &i, nil
}

// CorrespondenceByKey is the correspondence sender's idempotentKey made, ErrNotFound if none.
func (db *DB) CorrespondenceByKey(ctx context.Context, sender ident.Orgnr, key string) (string, error) {
	var id string
	err := db.read.queryRow(ctx, `SELECT correspondence FROM post_idempotency WHERE sender = $1 AND key = $2`, string(sender), key).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("idempotency: %w", ErrNotFound)
	}
	return id, err
}

// addStatus appends an entry to a correspondence's history.
func addStatus(ctx context.Context, tx *sql.Tx, id string, seq int, s post.Status, at time.Time, by post.Actor) error {
	if _, err := tx.ExecContext(ctx, `INSERT INTO post_status (correspondence, seq, status, at, actor) VALUES ($1, $2, $3, $4, $5)`,
		id, seq, int64(s), micros(at), string(by)); err != nil {
		return fmt.Errorf("post status: %w", err)
	}
	return nil
}

// setStatus appends s to the history and keeps the current status.
func setStatus(ctx context.Context, tx *sql.Tx, id string, s post.Status, at time.Time, by post.Actor) error {
	hist, err := history(ctx, tx.QueryContext, id)
	if err != nil {
		return fmt.Errorf("post status: %w", err)
	}
	if err := addStatus(ctx, tx, id, len(hist), s, at, by); err != nil {
		return err
	}
	cur, _ := post.Current(append(hist, post.StatusEvent{Status: s, Changed: at}))
	_, err = tx.ExecContext(ctx, `UPDATE post_correspondences SET current = $1 WHERE id = $2`, int64(cur), id)
	return err
}

// Correspondence is a correspondence as stored, with its history (oldest first).
type Correspondence struct {
	ID                   string
	Sender, Technical    ident.Orgnr
	Recipient            ident.Orgnr
	SendersReference     string
	ResourceID           string
	MessageSender        string
	Created, Publish     time.Time
	Due                  *time.Time
	ConfirmationNeeded   bool
	Confidential         bool
	Status               post.Status // current (post.Current)
	Body                 post.Correspondence
	History              []post.StatusEvent
	Attachments          []PostAttachment
	NotificationsHistory []post.BulkNotification
}

// correspondenceColumns are read FROM post_correspondences (aliased or not;
// unqualified on purpose); the body is the shared one (post_bodies) unless
// the correspondence has its own.
const correspondenceColumns = `id, sender, technical, recipient, senders_reference, resource_id, message_sender,
	created_at, publish_at, due_at, confirmation, confidential, current,
	COALESCE((SELECT b.body FROM post_bodies b WHERE b.id = body_id), body)`

func scanCorrespondence(row interface{ Scan(...any) error }) (Correspondence, error) {
	var (
		c                          Correspondence
		snd, tech, rcp, body       string
		created, publish, cur      int64
		due                        sql.NullInt64
		confirmation, confidential int64
	)
	if err := row.Scan(&c.ID, &snd, &tech, &rcp, &c.SendersReference, &c.ResourceID, &c.MessageSender,
		&created, &publish, &due, &confirmation, &confidential, &cur, &body); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return c, fmt.Errorf("correspondence: %w", ErrNotFound)
		}
		return c, fmt.Errorf("correspondence: %w", err)
	}
	c.Sender, c.Technical, c.Recipient = ident.Orgnr(snd), ident.Orgnr(tech), ident.Orgnr(rcp)
	c.Created, c.Publish, c.Due = fromMicros(created), fromMicros(publish), optTime(due)
	c.ConfirmationNeeded, c.Confidential, c.Status = confirmation != 0, confidential != 0, post.Status(cur)
	if err := json.Unmarshal([]byte(body), &c.Body); err != nil {
		return c, fmt.Errorf("correspondence: %w", err)
	}
	return c, nil
}

type rowQuerier func(ctx context.Context, query string, args ...any) *sql.Row

func (db *DB) correspondence(ctx context.Context, q rowQuerier, id string) (Correspondence, error) {
	return scanCorrespondence(q(ctx, `SELECT `+correspondenceColumns+` FROM post_correspondences WHERE id = $1`, id))
}

// lockCorrespondence reads a correspondence in tx, locked until the end of
// tx on PostgreSQL (SQLite's writers take turns anyway), so that two steps
// on it do not both build on the same history.
func (db *DB) lockCorrespondence(ctx context.Context, tx *sql.Tx, id string) (Correspondence, error) {
	return scanCorrespondence(tx.QueryRowContext(ctx, db.forUpdate(`SELECT `+correspondenceColumns+` FROM post_correspondences WHERE id = $1`), id))
}

// Correspondence is one correspondence with its history, attachments and
// notifications, ErrNotFound if none. Who may see it is the caller's to
// decide (sender: Sender or Technical; recipient: post.MayRead).
func (db *DB) Correspondence(ctx context.Context, id string) (Correspondence, error) {
	c, err := db.correspondence(ctx, db.read.queryRow, id)
	if err != nil {
		return c, err
	}
	if c.History, err = history(ctx, db.read.query, id); err != nil {
		return c, err
	}
	if c.Attachments, err = db.PostAttachments(ctx, id); err != nil {
		return c, err
	}
	c.NotificationsHistory, err = db.postNotifications(ctx, id, c.Recipient)
	return c, err
}

// history is a correspondence's status history, oldest first, through q:
// the read pool's or a transaction's.
func history(ctx context.Context, q func(context.Context, string, ...any) (*sql.Rows, error), id string) ([]post.StatusEvent, error) {
	rows, err := q(ctx, `SELECT status, at, actor FROM post_status WHERE correspondence = $1 ORDER BY seq`, id)
	if err != nil {
		return nil, fmt.Errorf("post history: %w", err)
	}
	defer rows.Close()
	var out []post.StatusEvent
	for rows.Next() {
		var (
			st, at int64
			by     string
		)
		if err := rows.Scan(&st, &at, &by); err != nil {
			return nil, err
		}
		out = append(out, post.StatusEvent{Status: post.Status(st), Changed: fromMicros(at), By: post.Actor(by)})
	}
	return out, rows.Err()
}

// postNotifications are the notifications sent about correspondence id to
// org, each recipient as notifiedAs shows it.
func (db *DB) postNotifications(ctx context.Context, id string, org ident.Orgnr) ([]post.BulkNotification, error) {
	rows, err := db.read.query(ctx, `SELECT kind, recipient, sent_at, custom FROM post_notifications WHERE correspondence = $1 AND recipient <> '' ORDER BY sent_at`, id)
	if err != nil {
		return nil, fmt.Errorf("post notifications: %w", err)
	}
	defer rows.Close()
	out := []post.BulkNotification{}
	for rows.Next() {
		var (
			kind, to   string
			at, custom int64
		)
		if err := rows.Scan(&kind, &to, &at, &custom); err != nil {
			return nil, err
		}
		t := fromMicros(at)
		out = append(out, post.BulkNotification{Recipient: notifiedAs(to, custom != 0, org), SentDate: &t, TransportType: "Email",
			IsReminder: kind != string(post.NotifyMain)})
	}
	return out, rows.Err()
}

// ChangeCorrespondence adds status to a correspondence as by does it, after
// post.Lifecycle.Check (a refusal is a *post.Problem, nothing changed): a
// recipient's Fetched, Read, Confirmed or purge, a sender's purge before
// publication. It logs the step.
func (db *DB) ChangeCorrespondence(ctx context.Context, id string, by post.Actor, to post.Status, actor string) error {
	now := db.now().UTC()
	var files []string
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		files = nil
		c, err := db.lockCorrespondence(ctx, tx, id)
		if errors.Is(err, ErrNotFound) {
			return post.Lifecycle{}.Check(by, to) // not found, as Altinn says it
		} else if err != nil {
			return err
		}
		hist, err := history(ctx, tx.QueryContext, id)
		if err != nil {
			return err
		}
		if p := (post.Lifecycle{History: hist, ConfirmationNeeded: c.ConfirmationNeeded}).Check(by, to); p != nil {
			return p
		}
		if err := setStatus(ctx, tx, id, to, now, by); err != nil {
			return err
		}
		if to.Purged() {
			if files, err = db.purgeContent(ctx, tx, id, now); err != nil {
				return err
			}
		}
		ev := map[string]any{"step": "status", "correspondence": id, "status": to.String(), "by": by}
		return db.appendEvent(ctx, tx, audit.KindPost, string(c.Recipient), actor, ev)
	})
	if err == nil {
		for _, f := range files {
			db.removeAttachmentFile(f)
		}
	}
	return err
}

// purgeContent deletes what a purge deletes (review finding 8): the
// correspondence's content (its own body becomes an empty one; the shared
// body goes when no other correspondence refers to it) and its attachments'
// bytes, marked purged so that no download finds them. It returns the
// attachments whose files the caller removes once tx committed (SQLite).
func (db *DB) purgeContent(ctx context.Context, tx *sql.Tx, id string, now time.Time) ([]string, error) {
	var bodyID sql.NullString
	if err := tx.QueryRowContext(ctx, `SELECT body_id FROM post_correspondences WHERE id = $1`, id).Scan(&bodyID); err != nil {
		return nil, fmt.Errorf("purge: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE post_correspondences SET body = '{}', body_id = NULL WHERE id = $1`, id); err != nil {
		return nil, fmt.Errorf("purge: %w", err)
	}
	if bodyID.Valid {
		if _, err := tx.ExecContext(ctx, `DELETE FROM post_bodies WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM post_correspondences WHERE body_id = $1)`,
			bodyID.String); err != nil {
			return nil, fmt.Errorf("purge: %w", err)
		}
	}
	// The attachments no correspondence that is not purged shares any more.
	rows, err := tx.QueryContext(ctx, `SELECT l.attachment FROM post_attachment_links l JOIN post_attachments a ON a.id = l.attachment
		WHERE l.correspondence = $1 AND a.purged_at IS NULL AND NOT EXISTS (SELECT 1 FROM post_attachment_links o
		  JOIN post_correspondences oc ON oc.id = o.correspondence
		  WHERE o.attachment = l.attachment AND o.correspondence <> $1 AND oc.current NOT IN ($2, $3))`,
		id, int64(post.StatusPurgedByRecipient), int64(post.StatusPurgedByAltinn))
	files, err := scanIDs(rows, err)
	if err != nil {
		return nil, fmt.Errorf("purge: %w", err)
	}
	for _, a := range files {
		if _, err := tx.ExecContext(ctx, `DELETE FROM post_attachment_chunks WHERE attachment = $1`, a); err != nil {
			return nil, fmt.Errorf("purge: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE post_attachments SET purged_at = $1 WHERE id = $2`, micros(now), a); err != nil {
			return nil, fmt.Errorf("purge: %w", err)
		}
	}
	return files, nil
}

// FetchInterval is how often a correspondence's Fetched is recorded at most.
const FetchInterval = 15 * time.Minute

// FetchCorrespondence records that the recipient opened a correspondence
// (Fetched; Rule DPV-03: reading is recorded): at most once per
// FetchInterval, so that a client that polls does not grow its history
// without end (review finding 17).
func (db *DB) FetchCorrespondence(ctx context.Context, id, actor string) error {
	var last sql.NullInt64
	if err := db.read.queryRow(ctx, `SELECT MAX(at) FROM post_status WHERE correspondence = $1 AND status = $2`,
		id, int64(post.StatusFetched)).Scan(&last); err != nil {
		return fmt.Errorf("fetch: %w", err)
	}
	if last.Valid && db.now().Sub(fromMicros(last.Int64)) < FetchInterval {
		return nil
	}
	return db.ChangeCorrespondence(ctx, id, post.ByRecipient, post.StatusFetched, actor)
}

// PostStatuses is the current status of each of ids that exists.
func (db *DB) PostStatuses(ctx context.Context, ids []string) (map[string]post.Status, error) {
	b, err := json.Marshal(ids)
	if err != nil {
		return nil, err
	}
	rows, err := db.read.query(ctx, `SELECT id, current FROM post_correspondences WHERE id IN (`+db.jsonArray("$1")+`)`, string(b))
	if err != nil {
		return nil, fmt.Errorf("post statuses: %w", err)
	}
	defer rows.Close()
	out := make(map[string]post.Status, len(ids))
	for rows.Next() {
		var (
			id  string
			cur int64
		)
		if err := rows.Scan(&id, &cur); err != nil {
			return nil, err
		}
		out[id] = post.Status(cur)
	}
	return out, rows.Err()
}

// jsonValues is a FROM item, alias j, column value: the distinct strings in
// the JSON array parameter p. Written first and CROSS JOINed to a table on
// an indexed column, it drives the join — one index lookup per value —
// however many rows the table holds: SQLite keeps a CROSS JOIN's order, and
// PostgreSQL (with statistics) picks the nested loop, where an IN
// (jsonArray) had it guess 100 values and scan.
func (db *DB) jsonValues(p string) string {
	if db.engine == Postgres {
		return `(SELECT DISTINCT value FROM jsonb_array_elements_text(` + p + `::jsonb) AS t(value)) j`
	}
	return `(SELECT DISTINCT value FROM json_each(` + p + `)) j`
}

// jsonArray is a subquery of the strings in the JSON array parameter p: one
// parameter for thousands of values.
func (db *DB) jsonArray(p string) string {
	if db.engine == Postgres {
		return `SELECT jsonb_array_elements_text(` + p + `::jsonb)`
	}
	return `SELECT value FROM json_each(` + p + `)`
}

package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"deling/internal/governance"
	"deling/internal/ident"
	"deling/internal/post"
)

// LetterPost is the kind of the outbox's notifications of digital post (Rule DPV-06).
const LetterPost = "post.notification"

// PublishDue publishes the correspondences that are ReadyForPublish and
// whose publish time has come, and sends what notifications are due (Rule
// DPV-06): the main one at publication, a reminder when unread after the
// rules' delay (7 days; confidential post as research §1.10). Each
// notification is mail in the outbox to the recipient's notification
// addresses (its contacts, and the sender's custom e-mail recipients),
// recorded so that it goes once. Correspondences whose attachments did not
// come within UploadWindow fail, and what interrupted uploads left is swept
// (sweepStagedUploads). It returns how many were published.
func (db *DB) PublishDue(ctx context.Context, rules post.NotifyRules) (int, error) {
	now := db.now().UTC()
	rows, err := db.read.query(ctx, `SELECT id FROM post_correspondences WHERE current = $1 AND publish_at <= $2 ORDER BY publish_at LIMIT 1000`,
		int64(post.StatusReadyForPublish), micros(now))
	ids, err := scanIDs(rows, err)
	if err != nil {
		return 0, fmt.Errorf("publish due: %w", err)
	}
	if err := db.publishIDs(ctx, ids, now); err != nil {
		return 0, err
	}
	// Notifications first: a failing housekeeping step (failUnuploaded, the
	// sweep) must not hold them back (review of post1, finding 8). Its error
	// is returned after them, for the job to log, and the next run tries again.
	if err := db.notifyDue(ctx, rules, now); err != nil {
		return len(ids), err
	}
	return len(ids), errors.Join(db.failUnuploaded(ctx, now), db.sweepStagedUploads(ctx, now))
}

// PublishReady publishes those of ids that are ReadyForPublish and due, and
// nothing else: what a request that made them ready may do on its own path.
// It sends no notification; PublishDue, the job's, does (review finding 1).
func (db *DB) PublishReady(ctx context.Context, ids []string) error {
	now := db.now().UTC()
	b, err := json.Marshal(ids)
	if err != nil {
		return err
	}
	rows, err := db.read.query(ctx, `SELECT id FROM post_correspondences WHERE id IN (`+db.jsonArray("$1")+`) AND current = $2 AND publish_at <= $3`,
		string(b), int64(post.StatusReadyForPublish), micros(now))
	due, err := scanIDs(rows, err)
	if err != nil {
		return fmt.Errorf("publish ready: %w", err)
	}
	return db.publishIDs(ctx, due, now)
}

// publishIDs moves ids from ReadyForPublish to Published, in one transaction.
func (db *DB) publishIDs(ctx context.Context, ids []string, now time.Time) error {
	if len(ids) == 0 {
		return nil
	}
	if err := db.inTx(ctx, func(tx *sql.Tx) error {
		for _, id := range ids {
			// Only once, when another run (the job, a request) published it meanwhile.
			res, err := tx.ExecContext(ctx, `UPDATE post_correspondences SET current = $1 WHERE id = $2 AND current = $3`,
				int64(post.StatusPublished), id, int64(post.StatusReadyForPublish))
			if err != nil {
				return err
			}
			if k, _ := res.RowsAffected(); k == 0 {
				continue
			}
			hist, err := history(ctx, tx.QueryContext, id)
			if err != nil {
				return err
			}
			if err := addStatus(ctx, tx, id, len(hist), post.StatusPublished, now, post.BySystem); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		return fmt.Errorf("publish: %w", err)
	}
	return nil
}

func scanIDs(rows *sql.Rows, err error) ([]string, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// notifyBatch is how many correspondences one notifyDue run looks at; a
// variable so that a test can fill a batch without thousands of rows.
var notifyBatch = 1000

// notifyDue sends the notifications due on published, unpurged correspondences.
//
// Rule DPV-06: the candidates are exactly those post.NotificationsDue finds
// something due for — published (by its Published time, not the requested
// one), not purged, failed or reserved, and either never notified, or unread
// (no Read, no Confirmed) with a reminder it asked for (or, confidential,
// always gets) fallen due and not sent — oldest first. A candidate that is
// never notified would otherwise fill the batch for ever (review finding 3).
func (db *DB) notifyDue(ctx context.Context, rules post.NotifyRules, now time.Time) error {
	published := func(cut string) string {
		return `EXISTS (SELECT 1 FROM post_status s WHERE s.correspondence = c.id AND s.status = $1 AND s.at <= ` + cut + `)`
	}
	sent := func(kind string) string {
		return `NOT EXISTS (SELECT 1 FROM post_notifications n WHERE n.correspondence = c.id AND n.kind = ` + kind + `)`
	}
	rows, err := db.read.query(ctx, `SELECT c.id FROM post_correspondences c
		WHERE c.current >= $1 AND c.current NOT IN ($2, $3, $4, $5) AND `+published("$6")+`
		AND (`+sent("$7")+`
		  OR (NOT EXISTS (SELECT 1 FROM post_status s WHERE s.correspondence = c.id AND s.status IN ($8, $9))
		    AND ((c.confidential = 1 AND `+published("$10")+` AND `+sent("$11")+`)
		      OR (c.send_reminder = 1 AND `+published("$12")+` AND `+sent("$13")+`))))
		ORDER BY c.publish_at, c.id LIMIT `+strconv.Itoa(notifyBatch),
		int64(post.StatusPublished), int64(post.StatusPurgedByRecipient), int64(post.StatusPurgedByAltinn), int64(post.StatusReserved), int64(post.StatusFailed),
		micros(now), string(post.NotifyMain),
		int64(post.StatusRead), int64(post.StatusConfirmed),
		micros(now.Add(-rules.ConfidentialReminderAfter)), string(post.NotifyConfidentialReminder),
		micros(now.Add(-rules.ReminderAfter)), string(post.NotifyReminder))
	ids, err := scanIDs(rows, err)
	if err != nil {
		return fmt.Errorf("notify due: %w", err)
	}
	for _, id := range ids {
		if err := db.notifyOne(ctx, id, rules, now); err != nil {
			return err
		}
	}
	return nil
}

func (db *DB) notifyOne(ctx context.Context, id string, rules post.NotifyRules, now time.Time) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		c, err := db.correspondence(ctx, tx.QueryRowContext, id)
		if err != nil {
			return err
		}
		hist, err := history(ctx, tx.QueryContext, id)
		if err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT DISTINCT kind FROM post_notifications WHERE correspondence = $1`, id)
		kinds, err := scanIDs(rows, err)
		if err != nil {
			return err
		}
		m := post.Notifiable{History: hist, Confidential: c.Confidential}
		for _, k := range kinds {
			m.Sent = append(m.Sent, post.NotificationKind(k))
		}
		n := c.Body.Notification
		m.SendReminder = n != nil && n.SendReminder
		due := post.NotificationsDue(m, rules, now)
		if len(due) == 0 {
			return nil
		}
		to, err := notificationAddresses(ctx, tx, c)
		if err != nil {
			return err
		}
		for _, d := range due {
			// Recorded even with no address, so that it is not tried again; the
			// bulk status then shows no notification sent.
			if len(to) == 0 {
				to = []notifyAddress{{}}
			}
			for _, addr := range to {
				res, err := tx.ExecContext(ctx, `INSERT INTO post_notifications (correspondence, kind, recipient, sent_at, custom) VALUES ($1, $2, $3, $4, $5)
					ON CONFLICT (correspondence, kind, recipient) DO NOTHING`, id, string(d.Kind), addr.email, micros(now), boolInt(addr.custom))
				if err != nil {
					return fmt.Errorf("post notification: %w", err)
				}
				// Another run sent it meanwhile, or there is no address.
				if k, _ := res.RowsAffected(); k == 0 || addr.email == "" {
					continue
				}
				if err := queueMail(ctx, tx, now, postLetter(c, d.Kind, addr.email)); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// notifyAddress is an address notified; custom when the sender gave it.
type notifyAddress struct {
	email  string
	custom bool
}

// notificationAddresses are the e-mail addresses of the recipient
// organisation's contacts who want notices (varsler), unless the sender
// overrides them, and the sender's custom e-mail recipients, each once,
// custom when the sender gave it (Rule DPV-06).
func notificationAddresses(ctx context.Context, tx *sql.Tx, c Correspondence) ([]notifyAddress, error) {
	n := c.Body.Notification
	var addrs []notifyAddress
	if n == nil || !n.OverrideRegisteredContactInformation {
		rows, err := tx.QueryContext(ctx, `SELECT epost FROM contacts WHERE consumer = $1 AND varsler ORDER BY epost`, string(c.Recipient))
		contacts, err := scanIDs(rows, err)
		if err != nil {
			return nil, fmt.Errorf("notification addresses: %w", err)
		}
		for _, e := range contacts {
			addrs = append(addrs, notifyAddress{email: e})
		}
	}
	if n != nil {
		for _, r := range n.CustomRecipients {
			if r.EmailAddress != "" {
				addrs = append(addrs, notifyAddress{email: r.EmailAddress, custom: true})
			}
		}
	}
	// By address, custom first, so that the one kept of two equal ones is the
	// custom one: the sender gave it and may see it.
	slices.SortFunc(addrs, func(a, b notifyAddress) int {
		if c := strings.Compare(a.email, b.email); c != 0 {
			return c
		}
		return boolCmp(b.custom, a.custom)
	})
	return slices.CompactFunc(addrs, func(a, b notifyAddress) bool { return a.email == b.email }), nil
}

func boolCmp(a, b bool) int { return int(boolInt(a) - boolInt(b)) }

// notifiedAs is how a notification's recipient is shown (Rule DPV-06): the
// address when the sender gave it, else only the organisation notified —
// its contacts' addresses are not the sender's to see.
func notifiedAs(email string, custom bool, org ident.Orgnr) string {
	if custom {
		return email
	}
	return post.RecipientURN(org)
}

// postLetter is a notification's e-mail. It never carries the message
// itself: confidential or not, the recipient signs in to read it. A
// CustomMessage's texts are used for the main notification and the
// reminder (post.NotificationText); the confidential reminder is deling's.
func postLetter(c Correspondence, kind post.NotificationKind, to string) governance.Letter {
	from := c.MessageSender
	if from == "" {
		from = string(c.Sender)
	}
	subject := "Ny digital post fra " + from
	body := fmt.Sprintf("Virksomheten %s har fått en melding fra %s i deling. Logg inn i portalen og åpne innboksen for å lese den.", c.Recipient, from)
	switch kind {
	case post.NotifyReminder:
		subject = "Påminnelse: uåpnet digital post fra " + from
	case post.NotifyConfidentialReminder:
		subject = fmt.Sprintf("Din virksomhet %s har uåpnet taushetsbelagt post.", c.Recipient)
		body += " Meldingen er taushetsbelagt: den kan bare leses av innehavere av nøkkelroller eller den som har fått rettigheten delegert."
	}
	// Rule DPV-06: the sender's own texts (plain text, checked by Validate
	// and again by NotificationText) replace deling's, with deling's line on
	// where to read kept below them, and the subject always names the sender:
	// the e-mail's From name is the register's (review of post1, finding 2).
	if cs, cb, ok := post.NotificationText(c.Body.Notification, kind); ok {
		subject, body = from+": "+cs, cb+"\n\n"+body
	}
	return governance.Letter{Consumer: string(c.Recipient), Kind: LetterPost, To: to, Subject: subject, Body: body}
}

// ListCorrespondences is the ids of the correspondences q matches that org
// sent (role Sender) or received (Recipient), newest publish time first, at
// most post.ListLimit (research §1.8). Purged ones are left out for the
// recipient. Each way org stands to a correspondence is a branch of its own
// on its own index, at most post.ListLimit rows each, joined by UNION ALL:
// no branch reads other organisations' rows (Rule DPV-05's review).
func (db *DB) ListCorrespondences(ctx context.Context, org ident.Orgnr, q post.ListQuery) ([]string, error) {
	var (
		where []string
		args  []any
	)
	arg := func(v any) string { args = append(args, v); return fmt.Sprintf("$%d", len(args)) }
	o := arg(string(org))
	var branches []string
	switch q.Role {
	case post.RoleSender:
		branches = senderBranches(o, arg(micros(db.now())))
	case post.RoleRecipient:
		branches = []string{"c.recipient = " + o + " AND c.current NOT IN (" + arg(int64(post.StatusPurgedByRecipient)) + ", " + arg(int64(post.StatusPurgedByAltinn)) + ")" +
			" AND c.publish_at <= " + arg(micros(db.now())) + " AND c.current >= " + arg(int64(post.StatusPublished))}
	default:
		branches = senderBranches(o, arg(micros(db.now())))
		// What org received and did not send (else the sender branches have it).
		branches = append(branches, "c.recipient = "+o+" AND NOT ("+branches[0]+") AND NOT ("+branches[1]+")")
	}
	if q.ResourceID != "" {
		// Rule DPV-02: stored by its category's resource id; an alias finds the same.
		if cat, p := post.ParseCategory(q.ResourceID); p == nil {
			q.ResourceID = cat.ResourceID()
		}
		where = append(where, "c.resource_id = "+arg(q.ResourceID))
	}
	if q.SendersReference != "" {
		where = append(where, "c.senders_reference = "+arg(q.SendersReference))
	}
	if q.From != nil {
		where = append(where, "c.publish_at > "+arg(micros(*q.From)))
	}
	if q.To != nil {
		where = append(where, "c.publish_at < "+arg(micros(*q.To)))
	}
	if q.Status != nil {
		where = append(where, "EXISTS (SELECT 1 FROM post_status s WHERE s.correspondence = c.id AND s.status = "+arg(int64(*q.Status))+")")
	}
	if q.IdempotentKey != "" {
		// The key is the actual sender's (research §1.7); the branches decide
		// who may see the correspondence, so a technical sender finds what it
		// sent under the key too.
		where = append(where, "c.id IN (SELECT i.correspondence FROM post_idempotency i WHERE i.sender = c.sender AND i.key = "+arg(q.IdempotentKey)+")")
	}
	rest := ""
	for _, w := range where {
		rest += " AND " + w
	}
	order := fmt.Sprintf(` ORDER BY publish_at DESC, id DESC LIMIT %d`, post.ListLimit)
	parts := make([]string, len(branches))
	for i, b := range branches {
		parts[i] = fmt.Sprintf(`SELECT * FROM (SELECT c.id, c.publish_at FROM post_correspondences c WHERE %s%s%s) b%d`, b, rest, order, i)
	}
	rows, err := db.read.QueryContext(ctx, `SELECT id FROM (`+strings.Join(parts, " UNION ALL ")+`) u`+order, args...)
	ids, err := scanIDs(rows, err)
	if err != nil {
		return nil, fmt.Errorf("list correspondences: %w", err)
	}
	if ids == nil {
		ids = []string{}
	}
	return ids, nil
}

// senderBranches are the two ways the organisation in parameter org sent
// correspondence c as seen at parameter now, each on its own index and
// never both: as its actual sender; as its technical sender for another
// under a delegation from that actual sender in force now — an ended
// delegation ends the technical sender's access (Rule DPV-04).
func senderBranches(org, now string) []string {
	return []string{`c.sender = ` + org, `c.technical = ` + org + ` AND c.sender <> ` + org + ` AND EXISTS (SELECT 1 FROM post_sender_delegations d
		WHERE d.actual = c.sender AND d.technical = c.technical AND d.from_at <= ` + now + `
		AND (d.until_at IS NULL OR d.until_at > ` + now + `) AND (d.revoked_at IS NULL OR d.revoked_at > ` + now + `))`}
}

// bulkQuery finds the correspondences of the sender $1 (as actual sender,
// or as technical sender under a delegation in force at $3) with the
// references in the JSON array $2, at most $4, each branch on its index.
func (db *DB) bulkQuery() string {
	var parts []string
	for _, b := range senderBranches("$1", "$3") {
		parts = append(parts, `SELECT c.id, c.senders_reference, c.recipient, c.current FROM `+db.jsonValues("$2")+`
			CROSS JOIN post_correspondences c WHERE c.senders_reference = j.value AND `+b)
	}
	return `SELECT id, senders_reference, recipient, current FROM (` + strings.Join(parts, " UNION ALL ") + `) u
		ORDER BY senders_reference, id LIMIT $4`
}

// bulkHistoryQuery reads the status histories of the ids in the JSON array $1.
func (db *DB) bulkHistoryQuery() string {
	return `SELECT s.correspondence, s.status, s.at, s.actor FROM ` + db.jsonValues("$1") + `
		CROSS JOIN post_status s WHERE s.correspondence = j.value ORDER BY s.correspondence, s.seq`
}

// BulkStatus is the status and notification history of sender's
// correspondences with the references given, at most post.BulkLimit, with
// LimitReached when more matched (Rule DPV-05). The references go in as one
// JSON array parameter, not 10,000 placeholders, and are looked up on the
// (sender, reference) and (technical, reference) indexes as two branches of
// a UNION ALL; the histories are read for the ids found, at most
// post.BulkLimit, one query each for statuses and notifications.
func (db *DB) BulkStatus(ctx context.Context, sender ident.Orgnr, refs []string) (post.BulkStatusResponse, error) {
	refsJSON, err := json.Marshal(refs)
	if err != nil {
		return post.BulkStatusResponse{}, err
	}
	rows, err := db.read.query(ctx, db.bulkQuery(), string(sender), string(refsJSON), micros(db.now()), post.BulkLimit+1)
	if err != nil {
		return post.BulkStatusResponse{}, fmt.Errorf("bulk status: %w", err)
	}
	var found []post.BulkStatus
	at, org := map[string]int{}, map[string]ident.Orgnr{}
	for rows.Next() {
		var (
			b   post.BulkStatus
			cur int64
		)
		if err := rows.Scan(&b.CorrespondenceID, &b.SendersReference, &b.Recipient, &cur); err != nil {
			rows.Close()
			return post.BulkStatusResponse{}, err
		}
		b.Status = post.Status(cur)
		org[b.CorrespondenceID] = ident.Orgnr(b.Recipient)
		b.Recipient = post.RecipientURN(ident.Orgnr(b.Recipient))
		b.StatusChanges, b.Notifications = []post.StatusEvent{}, []post.BulkNotification{}
		at[b.CorrespondenceID] = len(found)
		found = append(found, b)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return post.BulkStatusResponse{}, err
	}
	resp := post.CapBulk(found)
	if len(resp.Correspondences) == 0 {
		return resp, nil
	}
	// The histories of the ids answered, and of no other.
	ids := make([]string, len(resp.Correspondences))
	for i, c := range resp.Correspondences {
		ids[i] = c.CorrespondenceID
	}
	idsJSON, err := json.Marshal(ids)
	if err != nil {
		return resp, err
	}
	hist, err := db.read.query(ctx, db.bulkHistoryQuery(), string(idsJSON))
	if err != nil {
		return resp, fmt.Errorf("bulk status: %w", err)
	}
	for hist.Next() {
		var (
			id, by string
			st, t  int64
		)
		if err := hist.Scan(&id, &st, &t, &by); err != nil {
			hist.Close()
			return resp, err
		}
		if i, ok := at[id]; ok && i < len(resp.Correspondences) {
			e := post.StatusEvent{Status: post.Status(st), Changed: fromMicros(t), By: post.Actor(by)}
			resp.Correspondences[i].StatusChanges = append(resp.Correspondences[i].StatusChanges, e)
		}
	}
	hist.Close()
	if err := hist.Err(); err != nil {
		return resp, err
	}
	notes, err := db.read.query(ctx, `SELECT n.correspondence, n.kind, n.recipient, n.sent_at, n.custom FROM `+db.jsonValues("$1")+`
		CROSS JOIN post_notifications n WHERE n.correspondence = j.value ORDER BY n.sent_at`, string(idsJSON))
	if err != nil {
		return resp, fmt.Errorf("bulk status: %w", err)
	}
	defer notes.Close()
	for notes.Next() {
		var (
			id, kind, to string
			t, custom    int64
		)
		if err := notes.Scan(&id, &kind, &to, &t, &custom); err != nil {
			return resp, err
		}
		if i, ok := at[id]; ok && i < len(resp.Correspondences) && to != "" {
			sent := fromMicros(t)
			resp.Correspondences[i].Notifications = append(resp.Correspondences[i].Notifications,
				post.BulkNotification{Recipient: notifiedAs(to, custom != 0, org[id]), SentDate: &sent, TransportType: "Email",
					IsReminder: kind != string(post.NotifyMain)})
		}
	}
	for i := range resp.Correspondences {
		resp.Correspondences[i].StatusChanges = post.HistoryFor(post.BySender, resp.Correspondences[i].StatusChanges)
	}
	return resp, notes.Err()
}

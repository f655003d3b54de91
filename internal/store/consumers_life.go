package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"deling/internal/access"
	"deling/internal/audit"
	"deling/internal/governance"
)

// Living with access: a consumer's users and their periodic review (Rule
// AA-27), suspension by the register with a written notice (AA-25), ending
// by the consumer or because its organisation ceased in Enhetsregisteret
// (AA-26). Each change, its events and the letters telling of it are stored
// in one transaction.

// Kinds of letter (Mail.Kind) queued here.
const (
	MailSuspension     = "suspension"
	MailResumption     = "resumption"
	MailTermination    = "termination"
	MailReviewReminder = "reminder.review"
	MailActivation     = "activation"
)

// KindLetter is the event of a written notice queued to a consumer's contacts (Rule AA-25).
const KindLetter = "letter.queued"

// ReasonTerminated is the status reason of grants a consumer ended itself (Rule AA-26).
const ReasonTerminated = "avsluttet av konsumenten (AA-26)"

// ReasonCeased is the status reason of grants of an organisation that ceased in Enhetsregisteret (Rule AA-26).
const ReasonCeased = "opphørt i Enhetsregisteret (AA-26)"

// LifeResult counts what a change touched.
type LifeResult struct {
	Grants      int // grants suspended, resumed or ended
	Delegations int // delegations ended
	Letters     int // letters queued
}

// queueLetters queues letters about consumer in tx, each with an event in the
// log: a letter with an empty To goes to every address of letterRecipients.
func (db *DB) queueLetters(ctx context.Context, tx *sql.Tx, consumer, actor string, letters ...Mail) (int, error) {
	if len(letters) == 0 {
		return 0, nil
	}
	to, err := letterRecipients(ctx, tx, consumer)
	if err != nil {
		return 0, err
	}
	var out []Mail
	for _, l := range letters {
		l.Consumer = consumer
		if l.To != "" {
			out = append(out, l)
			continue
		}
		for _, a := range to {
			l.To = a
			out = append(out, l)
		}
	}
	if err := queueMail(ctx, tx, db.now(), out...); err != nil {
		return 0, err
	}
	for _, l := range letters {
		if err := db.appendEvent(ctx, tx, KindLetter, consumer, actor, map[string]any{"kind": l.Kind, "subject": l.Subject}); err != nil {
			return 0, err
		}
	}
	return len(out), nil
}

// letterRecipients are the addresses a written notice to a consumer goes to:
// its contact persons, or, while it has none, the organisation's
// administrators and role holders in the portal. Each address once.
func letterRecipients(ctx context.Context, tx *sql.Tx, consumer string) ([]string, error) {
	to, err := idsIn(ctx, tx, `SELECT epost FROM contacts WHERE consumer = $1 ORDER BY rolle, navn, id`, consumer)
	if err != nil {
		return nil, fmt.Errorf("letter recipients: %w", err)
	}
	if len(to) == 0 {
		to, err = idsIn(ctx, tx, `SELECT u.email FROM users u JOIN memberships m ON m.user_id = u.id
			WHERE m.org = $1 AND m.role IN ($2, $3) AND u.disabled_at IS NULL ORDER BY u.email`,
			consumer, string(governance.Administrator), string(governance.Rolleinnehaver))
		if err != nil {
			return nil, fmt.Errorf("letter recipients: %w", err)
		}
	}
	var out []string
	for _, a := range to {
		if a = strings.ToLower(a); !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	return out, nil
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

// setGrantsStatus changes grants' status in tx, one event each.
func (db *DB) setGrantsStatus(ctx context.Context, tx *sql.Tx, consumer string, ids []string, status access.Status, reason, actor string) error {
	for _, id := range ids {
		if _, err := tx.ExecContext(ctx, `UPDATE grants SET status = $1, status_reason = $2, updated_at = $3 WHERE id = $4`,
			string(status), reason, micros(db.now()), id); err != nil {
			return fmt.Errorf("grant %s: %w", id, err)
		}
		if err := db.appendEvent(ctx, tx, audit.KindGrantStatus, consumer, actor,
			map[string]string{"grant": id, "status": string(status), "reason": reason}); err != nil {
			return err
		}
	}
	return bumpAccess(ctx, tx)
}

// SuspendConsumer suspends every active grant of the consumer at once (Rule
// AA-25: on a breach of the terms) and queues the written notice to every
// contact person (letter with an empty To) in the same transaction. The
// reason is what was breached. ErrConflict when nothing is active.
func (db *DB) SuspendConsumer(ctx context.Context, orgnr, reason string, letter Mail, actor string) (LifeResult, error) {
	var res LifeResult
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		ids, err := grantIDs(ctx, tx, orgnr, access.Active)
		if err != nil {
			return err
		}
		if len(ids) == 0 {
			return fmt.Errorf("consumer %s has no active grant to suspend: %w", orgnr, ErrConflict)
		}
		if err := db.setGrantsStatus(ctx, tx, orgnr, ids, access.Suspended, "suspendert (AA-25): "+reason, actor); err != nil {
			return err
		}
		res.Grants = len(ids)
		letter.Kind = MailSuspension
		res.Letters, err = db.queueLetters(ctx, tx, orgnr, actor, letter)
		return err
	})
	if err != nil {
		return LifeResult{}, fmt.Errorf("suspend %s: %w", orgnr, err)
	}
	return res, nil
}

// ResumeConsumer resumes every suspended grant of the consumer and queues the
// letter telling its contacts, in one transaction. ErrConflict when none is suspended.
func (db *DB) ResumeConsumer(ctx context.Context, orgnr string, letter Mail, actor string) (LifeResult, error) {
	var res LifeResult
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		var st string
		if err := tx.QueryRowContext(ctx, `SELECT status FROM consumers WHERE orgnr = $1`, orgnr).Scan(&st); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("consumer %s: %w", orgnr, ErrNotFound)
			}
			return err
		}
		if access.Status(st) != access.Active {
			return fmt.Errorf("consumer %s has ceased: %w", orgnr, ErrConflict)
		}
		ids, err := grantIDs(ctx, tx, orgnr, access.Suspended)
		if err != nil {
			return err
		}
		if len(ids) == 0 {
			return fmt.Errorf("consumer %s has no suspended grant: %w", orgnr, ErrConflict)
		}
		if err := db.setGrantsStatus(ctx, tx, orgnr, ids, access.Active, "", actor); err != nil {
			return err
		}
		res.Grants = len(ids)
		letter.Kind = MailResumption
		res.Letters, err = db.queueLetters(ctx, tx, orgnr, actor, letter)
		return err
	})
	if err != nil {
		return LifeResult{}, fmt.Errorf("resume %s: %w", orgnr, err)
	}
	return res, nil
}

// EndConsumerAccess ends all of a consumer's access at once (Rule AA-26):
// every grant that is active or suspended ends with reason, every delegation
// to a data processor ends (Rule AA-13: a processor's access derives from the
// consumer's), and letters are queued (an empty To: to every contact person),
// with audit.KindConsumerEnded, all in one transaction. Ending nothing is no error.
func (db *DB) EndConsumerAccess(ctx context.Context, orgnr, reason, actor string, letters ...Mail) (LifeResult, error) {
	var res LifeResult
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		if res, err = db.endAccess(ctx, tx, orgnr, reason, actor, false); err != nil {
			return err
		}
		for i := range letters {
			if letters[i].Kind == "" {
				letters[i].Kind = MailTermination
			}
		}
		res.Letters, err = db.queueLetters(ctx, tx, orgnr, actor, letters...)
		return err
	})
	if err != nil {
		return LifeResult{}, fmt.Errorf("end access of %s: %w", orgnr, err)
	}
	return res, nil
}

// endAccess is EndConsumerAccess in tx; asProcessor also ends the
// delegations in which the organisation is the data processor.
func (db *DB) endAccess(ctx context.Context, tx *sql.Tx, orgnr, reason, actor string, asProcessor bool) (LifeResult, error) {
	var res LifeResult
	ids, err := grantIDs(ctx, tx, orgnr, access.Active, access.Suspended)
	if err != nil {
		return res, err
	}
	if err := db.setGrantsStatus(ctx, tx, orgnr, ids, access.Ended, reason, actor); err != nil {
		return res, err
	}
	q := `SELECT id, consumer FROM delegations WHERE consumer = $1 AND status = 'active' ORDER BY created_at, id`
	if asProcessor {
		q = `SELECT id, consumer FROM delegations WHERE (consumer = $1 OR processor = $1) AND status = 'active' ORDER BY created_at, id`
	}
	rows, err := tx.QueryContext(ctx, q, orgnr)
	if err != nil {
		return res, fmt.Errorf("delegations of %s: %w", orgnr, err)
	}
	type del struct{ id, consumer string }
	var dels []del
	for rows.Next() {
		var d del
		if err := rows.Scan(&d.id, &d.consumer); err != nil {
			rows.Close()
			return res, err
		}
		dels = append(dels, d)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return res, err
	}
	delIDs := []string{}
	for _, d := range dels {
		if _, err := tx.ExecContext(ctx, `UPDATE delegations SET status = $1, updated_at = $2 WHERE id = $3`,
			string(access.Ended), micros(db.now()), d.id); err != nil {
			return res, fmt.Errorf("end delegation %s: %w", d.id, err)
		}
		if err := db.appendEvent(ctx, tx, audit.KindDelegationEnded, d.consumer, actor, map[string]string{"delegation": d.id, "reason": reason}); err != nil {
			return res, err
		}
		delIDs = append(delIDs, d.id)
	}
	if err := bumpAccess(ctx, tx); err != nil {
		return res, err
	}
	if ids == nil {
		ids = []string{}
	}
	res.Grants, res.Delegations = len(ids), len(dels)
	return res, db.appendEvent(ctx, tx, audit.KindConsumerEnded, orgnr, actor,
		map[string]any{"reason": reason, "grants": ids, "delegations": delIDs})
}

// CeaseOrganisation records that an organisation ceased (Rule AA-26): as a
// consumer its status becomes ceased and all its access ends; as a data
// processor its delegations end. detail says what the register showed.
func (db *DB) CeaseOrganisation(ctx context.Context, orgnr, detail, actor string) (LifeResult, error) {
	var res LifeResult
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		res2, err := tx.ExecContext(ctx, `UPDATE consumers SET status = $1, updated_at = $2 WHERE orgnr = $3 AND status <> $1`,
			string(access.Ceased), micros(db.now()), orgnr)
		if err != nil {
			return fmt.Errorf("cease %s: %w", orgnr, err)
		}
		if n, _ := res2.RowsAffected(); n > 0 {
			if err := db.appendEvent(ctx, tx, audit.KindConsumerChanged, orgnr, actor,
				map[string]string{"orgnr": orgnr, "status": string(access.Ceased), "detail": detail}); err != nil {
				return err
			}
		}
		res, err = db.endAccess(ctx, tx, orgnr, ReasonCeased, actor, true)
		return err
	})
	if err != nil {
		return LifeResult{}, fmt.Errorf("cease %s: %w", orgnr, err)
	}
	return res, nil
}

// ConsumerSummary is a consumer with its grants counted.
type ConsumerSummary struct {
	access.Consumer
	Active, Suspended, Ended int // grants by status (active: in force now)
}

// ConsumerSummaries lists every consumer with the number of its grants in force at now, suspended and ended.
func (db *DB) ConsumerSummaries(ctx context.Context, now time.Time) ([]ConsumerSummary, error) {
	cs, err := db.Consumers(ctx)
	if err != nil {
		return nil, err
	}
	grants, err := db.Grants(ctx, "")
	if err != nil {
		return nil, err
	}
	out := make([]ConsumerSummary, len(cs))
	at := map[string]int{}
	for i, c := range cs {
		out[i].Consumer = c
		at[c.Orgnr] = i
	}
	for _, g := range grants {
		i, ok := at[g.Consumer]
		if !ok {
			continue
		}
		switch {
		case g.ActiveAt(now):
			out[i].Active++
		case g.Status == access.Suspended:
			out[i].Suspended++
		case g.Status == access.Ended:
			out[i].Ended++
		}
	}
	return out, nil
}

// ProcessorDelegations lists the delegations in which orgnr is the data processor.
func (db *DB) ProcessorDelegations(ctx context.Context, orgnr string) ([]access.Delegation, error) {
	rows, err := db.read.query(ctx, `SELECT `+delegationColumns+` FROM delegations WHERE processor = $1 ORDER BY created_at, id`, orgnr)
	if err != nil {
		return nil, fmt.Errorf("processor delegations: %w", err)
	}
	defer rows.Close()
	var out []access.Delegation
	for rows.Next() {
		d, err := scanDelegation(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// Invitation is a new portal user made by an organisation's administrator
// (Rule AA-27): an account nobody can sign in to until the person sets a
// password through the single-use activation link that Mail carries.
type Invitation struct {
	User      governance.User
	Org       string
	Role      governance.Role
	TokenHash string // hex SHA-256 of the activation token; the token itself is never stored
	ExpiresAt time.Time
	Mail      Mail // the letter with the link
}

// unusablePassword marks an account without a password: no argon2id hash, so nothing verifies against it.
const unusablePassword = "!invited"

// InviteUser creates the account with its role, the activation token's hash
// and the letter with the link, in one transaction. ErrExists when the
// e-mail address has an account (give it the role with AddMembership).
func (db *DB) InviteUser(ctx context.Context, inv Invitation, actor string) (governance.User, error) {
	u := inv.User
	u.ID = newID()
	u.Email = strings.ToLower(strings.TrimSpace(u.Email))
	now := micros(db.now())
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM users WHERE email = $1`, u.Email).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return fmt.Errorf("user: %w", ErrExists)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO users (id, email, navn, password_hash, pid, created_at) VALUES ($1, $2, $3, $4, '', $5)`,
			u.ID, u.Email, u.Navn, unusablePassword, now); err != nil {
			return fmt.Errorf("insert user: %w", err)
		}
		if err := addMembership(ctx, tx, u.ID, inv.Org, inv.Role, now); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO activations (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)`,
			inv.TokenHash, u.ID, now, micros(inv.ExpiresAt)); err != nil {
			return fmt.Errorf("activation: %w", err)
		}
		// Consumer "": the letter carries the link, so it is not shown among the organisation's letters.
		m := inv.Mail
		m.Kind, m.To, m.Consumer = MailActivation, u.Email, ""
		if err := queueMail(ctx, tx, db.now(), m); err != nil {
			return err
		}
		return db.appendEvent(ctx, tx, audit.KindUserAdded, inv.Org, actor,
			map[string]any{"user": u.ID, "roles": []governance.Membership{{Org: inv.Org, Role: inv.Role}}, "invited": true})
	})
	return u, err
}

// ActivationUser is the account an activation token (by its hash) is for, if the token is unused and unexpired.
func (db *DB) ActivationUser(ctx context.Context, tokenHash string) (governance.User, error) {
	var id string
	err := db.read.queryRow(ctx, `SELECT user_id FROM activations WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2`,
		tokenHash, micros(db.now())).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return governance.User{}, fmt.Errorf("activation: %w", ErrNotFound)
	}
	if err != nil {
		return governance.User{}, fmt.Errorf("activation: %w", err)
	}
	u, err := db.User(ctx, id)
	if err == nil && u.Disabled {
		return governance.User{}, fmt.Errorf("activation: %w", ErrNotFound)
	}
	return u, err
}

// Activate uses an activation token once: it sets the account's password and
// spends the token (and any other of the account's). ErrNotFound when the
// token is unknown, used or expired.
func (db *DB) Activate(ctx context.Context, tokenHash, passwordHash string) (governance.User, error) {
	var u governance.User
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		now := micros(db.now())
		var id string
		err := tx.QueryRowContext(ctx, `SELECT a.user_id FROM activations a JOIN users u ON u.id = a.user_id
			WHERE a.token_hash = $1 AND a.used_at IS NULL AND a.expires_at > $2 AND u.disabled_at IS NULL`, tokenHash, now).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("activation: %w", ErrNotFound)
		}
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE activations SET used_at = $1 WHERE user_id = $2 AND used_at IS NULL`, now, id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = $1 WHERE id = $2`, passwordHash, id); err != nil {
			return err
		}
		if u, err = scanUser(tx.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE id = $1`, id)); err != nil {
			return err
		}
		return db.appendEvent(ctx, tx, audit.KindUserRole, "", "user:"+id, map[string]string{"user": id, "change": "activated"})
	})
	return u, err
}

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

// RemindReview queues the reminder letters of org's due review, unless it
// was reminded less than every ago (governance.ReminderDue), and remembers
// when, in one transaction. It reports whether it queued them. The check and
// the update are one conditional upsert, so two nodes never both remind.
func (db *DB) RemindReview(ctx context.Context, org string, every time.Duration, letters ...Mail) (bool, error) {
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
			letters[i].Kind, letters[i].Consumer = MailReviewReminder, org
		}
		sent = true
		return queueMail(ctx, tx, now, letters...)
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

// EnhetsregisteretRun is one import of organisation status (Rule AA-26).
type EnhetsregisteretRun struct {
	ID         string
	Source     string
	StartedAt  time.Time
	FinishedAt time.Time
	Entries    int64    // entries read
	Ceased     []string // consumers and processors whose access ended
	WindingUp  []string // consumers in voluntary winding-up: access kept, reported
	Error      string   // why the import failed; nothing was changed then
}

// ImportEnhetsregisteret reads Enhetsregisteret's open data from r (plain or
// gzip JSON, streamed) and ends the access of every consumer or data
// processor it shows as ceased (governance.Enhet.Ceased), each in its own
// transaction (CeaseOrganisation). It reads the whole input first: a
// malformed or truncated file changes nothing. Every run is recorded.
func (db *DB) ImportEnhetsregisteret(ctx context.Context, r io.Reader, source, actor string) (EnhetsregisteretRun, error) {
	run := EnhetsregisteretRun{ID: newID(), Source: source, StartedAt: db.now().UTC()}
	err := db.importEnhetsregisteret(ctx, r, actor, &run)
	run.FinishedAt = db.now().UTC()
	if err != nil {
		run.Error = err.Error()
		if len(run.Error) > 500 {
			run.Error = run.Error[:500]
		}
	}
	if _, rerr := db.write.ExecContext(context.WithoutCancel(ctx), `INSERT INTO enhetsregisteret_runs
		(id, source, started_at, finished_at, entries, ceased, winding_up, error) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		run.ID, source, micros(run.StartedAt), micros(run.FinishedAt), run.Entries,
		strings.Join(run.Ceased, ","), strings.Join(run.WindingUp, ","), run.Error); rerr != nil && err == nil {
		err = fmt.Errorf("record the import: %w", rerr)
	}
	return run, err
}

func (db *DB) importEnhetsregisteret(ctx context.Context, r io.Reader, actor string, run *EnhetsregisteretRun) error {
	// Who could lose access: consumers that have not ceased, and processors with an active delegation.
	watched := map[string]bool{}
	rows, err := db.read.query(ctx, `SELECT orgnr FROM consumers WHERE status <> $1
		UNION SELECT processor FROM delegations WHERE status = 'active'`, string(access.Ceased))
	if err != nil {
		return fmt.Errorf("enhetsregisteret: %w", err)
	}
	for rows.Next() {
		var o string
		if err := rows.Scan(&o); err != nil {
			rows.Close()
			return err
		}
		watched[o] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	ceased := map[string]string{}
	st, err := governance.ParseEnheter(r, func(e governance.Enhet) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		switch {
		case !watched[e.Organisasjonsnummer]:
		case e.Ceased():
			ceased[e.Organisasjonsnummer] = e.CeaseReason()
		case e.WindingUp():
			run.WindingUp = append(run.WindingUp, e.Organisasjonsnummer)
		}
		return nil
	})
	run.Entries = st.Read
	if err != nil {
		return err
	}
	orgs := make([]string, 0, len(ceased))
	for o := range ceased {
		orgs = append(orgs, o)
	}
	slices.Sort(orgs)
	for _, o := range orgs {
		if _, err := db.CeaseOrganisation(ctx, o, "Enhetsregisteret: "+ceased[o], actor); err != nil {
			return err
		}
		run.Ceased = append(run.Ceased, o)
	}
	return nil
}

// EnhetsregisteretRuns lists the latest imports, newest first.
func (db *DB) EnhetsregisteretRuns(ctx context.Context, limit int) ([]EnhetsregisteretRun, error) {
	rows, err := db.read.query(ctx, `SELECT id, source, started_at, finished_at, entries, ceased, winding_up, error
		FROM enhetsregisteret_runs ORDER BY started_at DESC, id DESC LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("enhetsregisteret runs: %w", err)
	}
	defer rows.Close()
	var out []EnhetsregisteretRun
	for rows.Next() {
		var r EnhetsregisteretRun
		var started, finished int64
		var ceased, winding string
		if err := rows.Scan(&r.ID, &r.Source, &started, &finished, &r.Entries, &ceased, &winding, &r.Error); err != nil {
			return nil, err
		}
		r.StartedAt, r.FinishedAt = fromMicros(started), fromMicros(finished)
		r.Ceased, r.WindingUp = splitList(ceased), splitList(winding)
		out = append(out, r)
	}
	return out, rows.Err()
}

// LastEnhetsregisteretImport is when the last import that succeeded started (zero: never).
func (db *DB) LastEnhetsregisteretImport(ctx context.Context) (time.Time, error) {
	var us sql.NullInt64
	if err := db.read.queryRow(ctx, `SELECT MAX(started_at) FROM enhetsregisteret_runs WHERE error = ''`).Scan(&us); err != nil {
		return time.Time{}, err
	}
	if !us.Valid {
		return time.Time{}, nil
	}
	return fromMicros(us.Int64), nil
}

func splitList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

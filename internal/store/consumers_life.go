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

// ReasonSuspended begins the status reason of every grant SuspendConsumer
// suspends (Rule AA-25), followed by what was breached. ResumeConsumer resumes
// those grants only: a grant suspended for another reason (by the CLI, say)
// stays suspended.
const ReasonSuspended = "suspendert (AA-25): "

// SuspendedByRegister reports whether g was suspended by SuspendConsumer, and so is resumed by ResumeConsumer (Rule AA-25).
func SuspendedByRegister(g access.Grant) bool {
	return g.Status == access.Suspended && strings.HasPrefix(g.StatusReason, ReasonSuspended)
}

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
	var to []string
	if slices.ContainsFunc(letters, func(l Mail) bool { return l.To == "" }) {
		var err error
		if to, err = letterRecipients(ctx, tx, consumer); err != nil {
			return 0, err
		}
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
		if err := db.setGrantsStatus(ctx, tx, orgnr, ids, access.Suspended, ReasonSuspended+reason, actor); err != nil {
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

// ResumeConsumer resumes the grants SuspendConsumer suspended (Rule AA-25:
// status reason ReasonSuspended…) and queues the letter telling its contacts,
// in one transaction. Grants suspended for another reason stay suspended.
// ErrConflict when none is suspended by the register.
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
		ids, err := idsIn(ctx, tx, `SELECT id FROM grants WHERE consumer = $1 AND status = $2 AND substr(status_reason, 1, $3) = $4
			ORDER BY created_at, id`, orgnr, string(access.Suspended), len(ReasonSuspended), ReasonSuspended)
		if err != nil {
			return fmt.Errorf("suspended grants of %s: %w", orgnr, err)
		}
		if len(ids) == 0 {
			return fmt.Errorf("consumer %s has no grant suspended by the register: %w", orgnr, ErrConflict)
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
	return db.delegations(ctx, `SELECT `+delegationColumns+` FROM delegations WHERE processor = $1 ORDER BY created_at, id`, orgnr)
}

// lockAdminContacts lists the ids of consumer's administrative contacts in
// tx, locking their rows on PostgreSQL (SQLite's writers take turns anyway),
// so that two concurrent changes cannot both leave the consumer without one.
func (db *DB) lockAdminContacts(ctx context.Context, tx *sql.Tx, consumer string) ([]string, error) {
	q := db.forUpdate(`SELECT id FROM contacts WHERE consumer = $1 AND rolle = $2 ORDER BY id`)
	ids, err := idsIn(ctx, tx, q, consumer, string(governance.ContactAdministrative))
	if err != nil {
		return nil, fmt.Errorf("administrative contacts of %s: %w", consumer, err)
	}
	return ids, nil
}

// keepsAdminContact is ErrConflict when the consumer's administrative
// contacts, ids, are just the contact id, and it is to go or change role.
func keepsAdminContact(ids []string, id string) error {
	if slices.Contains(ids, id) && len(ids) == 1 {
		return fmt.Errorf("the last administrative contact: %w", ErrConflict)
	}
	return nil
}

// ChangeContactKeepingOne changes one of a consumer's contacts, as
// SaveContact does (Rule AA-06), but refuses with ErrConflict to make its last
// administrative contact anything else; the check and the change are one
// transaction. ErrNotFound when the consumer has no such contact.
func (db *DB) ChangeContactKeepingOne(ctx context.Context, c governance.Contact, actor string) (governance.Contact, error) {
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		admins, err := db.lockAdminContacts(ctx, tx, c.Consumer)
		if err != nil {
			return err
		}
		if c.Rolle != governance.ContactAdministrative {
			if err := keepsAdminContact(admins, c.ID); err != nil {
				return err
			}
		}
		res, err := tx.ExecContext(ctx, `UPDATE contacts SET navn = $1, epost = $2, telefon = $3, rolle = $4, varsler = $5, updated_at = $6
			WHERE id = $7 AND consumer = $8`, c.Navn, c.Epost, c.Telefon, string(c.Rolle), c.Varsler, micros(db.now()), c.ID, c.Consumer)
		if err != nil {
			return fmt.Errorf("change contact: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("contact: %w", ErrNotFound)
		}
		return db.appendEvent(ctx, tx, audit.KindContactChanged, c.Consumer, actor, map[string]any{"contact": c.ID, "rolle": c.Rolle, "varsler": c.Varsler})
	})
	return c, err
}

// RemoveContactKeepingOne deletes one of a consumer's contacts (Rule AA-06),
// but refuses with ErrConflict to delete its last administrative contact; the
// check and the deletion are one transaction. ErrNotFound when the consumer
// has no such contact.
func (db *DB) RemoveContactKeepingOne(ctx context.Context, consumer, id, actor string) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		admins, err := db.lockAdminContacts(ctx, tx, consumer)
		if err != nil {
			return err
		}
		if err := keepsAdminContact(admins, id); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM contacts WHERE id = $1 AND consumer = $2`, id, consumer)
		if err != nil {
			return fmt.Errorf("remove contact: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("contact: %w", ErrNotFound)
		}
		return db.appendEvent(ctx, tx, audit.KindContactChanged, consumer, actor, map[string]any{"contact": id, "removed": true})
	})
}

// Invitation is an organisation's administrator offering a person a role
// (Rule AA-27). Nobody holds the role before the person takes it through the
// single-use link in the letter: an existing account by accepting it
// (AcceptInvitation), an account without a password yet by setting one
// (Activate). So an administrator cannot attach someone's account to their
// organisation, and learns nothing of whether the address had an account.
type Invitation struct {
	User      governance.User // Email, and Navn for a new account
	Org       string
	Role      governance.Role // an organisation role (governance.Role.ForOrganisation)
	TokenHash string          // hex SHA-256 of the link's token; the token itself is never stored
	ExpiresAt time.Time
	Limit     int // at most this many invitations by Org in 24 hours, else ErrLimit; 0: no limit
	// Letter makes the letter with the link, to an account without a
	// password yet (setPassword) or to one that has one; navn is the account's name.
	Letter func(setPassword bool, navn string) Mail
}

// InviteOutcome is what an invitation did. The administrator is told the
// same whatever it is (Rule AA-27: no probing for accounts); it is for the
// audit event and for tests.
type InviteOutcome string

// Outcomes of InviteUser.
const (
	InviteSetPassword InviteOutcome = "set_password" // a new account, or one never activated: a link to set a password
	InviteAccept      InviteOutcome = "accept"       // an account with a password: a link to accept the role
	// InviteRefused: nothing sent, because the account is blocked, is a
	// person's or the register's staff's (never attached to a consumer), or
	// already holds the role.
	InviteRefused InviteOutcome = "refused"
)

// invitationWindow is the period Invitation.Limit counts over.
const invitationWindow = 24 * time.Hour

// unusablePassword marks an account without a password: no argon2id hash, so nothing verifies against it.
const unusablePassword = "!invited"

// InviteUser invites a person to a role for an organisation (Rule AA-27), in
// one transaction: a new account is made without a password and without the
// role; the invitation's token hash, the letter with the link and an audit
// event are stored. A repeated invitation of an account never activated
// issues a new link. Every attempt, also a refused one, counts against
// inv.Limit (ErrLimit). A new account made a moment ago by a concurrent
// request is found on a second try.
func (db *DB) InviteUser(ctx context.Context, inv Invitation, actor string) (InviteOutcome, error) {
	if !inv.Role.ForOrganisation() || inv.Org == "" || inv.Org == governance.AuthorityOrg || inv.Letter == nil {
		return "", fmt.Errorf("invite: role %q for %q: not an organisation's role", inv.Role, inv.Org)
	}
	var out InviteOutcome
	var err error
	for range 2 {
		err = db.inTx(ctx, func(tx *sql.Tx) error {
			var err error
			out, err = db.invite(ctx, tx, inv, actor)
			return err
		})
		if !errors.Is(err, ErrExists) {
			break
		}
	}
	if err != nil {
		return "", fmt.Errorf("invite: %w", err)
	}
	return out, nil
}

func (db *DB) invite(ctx context.Context, tx *sql.Tx, inv Invitation, actor string) (InviteOutcome, error) {
	now := db.now()
	email := strings.ToLower(strings.TrimSpace(inv.User.Email))
	if inv.Limit > 0 {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM invitations WHERE org = $1 AND created_at > $2`,
			inv.Org, micros(now.Add(-invitationWindow))).Scan(&n); err != nil {
			return "", err
		}
		if n >= inv.Limit {
			return "", fmt.Errorf("%d invitations by %s in a day: %w", n, inv.Org, ErrLimit)
		}
	}
	var u governance.User
	var hash string
	var disabled sql.NullInt64
	err := tx.QueryRowContext(ctx, `SELECT id, email, navn, pid, disabled_at, password_hash FROM users WHERE email = $1`, email).
		Scan(&u.ID, &u.Email, &u.Navn, &u.PID, &disabled, &hash)
	u.Disabled = disabled.Valid
	isNew := errors.Is(err, sql.ErrNoRows)
	if err != nil && !isNew {
		return "", err
	}
	outcome := InviteAccept
	switch {
	case isNew:
		u = governance.User{ID: newID(), Email: email, Navn: inv.User.Navn}
		if err := insertUser(ctx, tx, u, unusablePassword, micros(now)); err != nil {
			return "", err
		}
		outcome = InviteSetPassword
	default:
		ms, err := scanMemberships(tx.QueryContext(ctx, `SELECT `+membershipColumns+` FROM memberships WHERE user_id = $1`, u.ID))
		if err != nil {
			return "", err
		}
		switch {
		case attachable(u, ms) != nil:
			outcome = InviteRefused
		case hash == unusablePassword:
			outcome = InviteSetPassword // never activated: a new link (the last may have expired)
		case governance.Has(ms, inv.Org, inv.Role):
			outcome = InviteRefused
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO invitations (token_hash, user_id, org, role, sent, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, inv.TokenHash, u.ID, inv.Org, string(inv.Role), outcome != InviteRefused,
		micros(now), micros(inv.ExpiresAt)); err != nil {
		return "", fmt.Errorf("invitation: %w", err)
	}
	if outcome == InviteSetPassword {
		if _, err := tx.ExecContext(ctx, `INSERT INTO activations (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)`,
			inv.TokenHash, u.ID, micros(now), micros(inv.ExpiresAt)); err != nil {
			return "", fmt.Errorf("activation: %w", err)
		}
	}
	if outcome != InviteRefused {
		// Consumer "": the letter carries the link, so it is not shown among the organisation's letters.
		m := inv.Letter(outcome == InviteSetPassword, u.Navn)
		m.Kind, m.To, m.Consumer = MailActivation, u.Email, ""
		if err := queueMail(ctx, tx, now, m); err != nil {
			return "", err
		}
	}
	if isNew {
		return outcome, db.appendEvent(ctx, tx, audit.KindUserAdded, inv.Org, actor,
			map[string]any{"user": u.ID, "invited": true, "org": inv.Org, "role": inv.Role})
	}
	return outcome, db.appendEvent(ctx, tx, audit.KindUserRole, inv.Org, actor,
		map[string]any{"user": u.ID, "role": inv.Role, "change": "invited", "outcome": outcome})
}

// attachable says why an account may not be given a consumer's role by an
// invitation, or nil: a blocked account, a person's (data subject) or one of
// the register's staff never act for a consumer (Rule AA-27).
func attachable(u governance.User, ms []governance.Membership) error {
	switch {
	case u.Disabled:
		return errors.New("the account is blocked")
	case u.PID != "" || slices.ContainsFunc(ms, func(m governance.Membership) bool { return m.Role == governance.Person || m.Role.ForAuthority() }):
		return errors.New("a person's or the register's staff's account")
	}
	return nil
}

// PendingInvitation is what the link in an invitation's letter offers.
type PendingInvitation struct {
	User        governance.User
	SetPassword bool   // the account has no password yet: the link sets one, and then gives the role
	Org         string // the organisation offering Role; "" when the link only sets a password
	Role        governance.Role
}

// InvitationByToken is what an unused, unexpired link (by its token's hash)
// offers. ErrNotFound when it offers nothing, or the account is blocked.
func (db *DB) InvitationByToken(ctx context.Context, tokenHash string) (PendingInvitation, error) {
	var p PendingInvitation
	now := micros(db.now())
	var id string
	err := db.read.queryRow(ctx, `SELECT user_id FROM activations WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2`,
		tokenHash, now).Scan(&id)
	switch {
	case err == nil:
		p.SetPassword = true
	case !errors.Is(err, sql.ErrNoRows):
		return p, fmt.Errorf("activation: %w", err)
	}
	var invited, role string
	err = db.read.queryRow(ctx, `SELECT user_id, org, role FROM invitations WHERE token_hash = $1 AND sent AND used_at IS NULL AND expires_at > $2`,
		tokenHash, now).Scan(&invited, &p.Org, &role)
	switch {
	case err == nil && (id == "" || id == invited):
		id, p.Role = invited, governance.Role(role)
	case err == nil:
		p.Org = "" // not this account's (cannot happen: one token, one account)
	case !errors.Is(err, sql.ErrNoRows):
		return p, fmt.Errorf("invitation: %w", err)
	}
	if id == "" {
		return p, fmt.Errorf("invitation: %w", ErrNotFound)
	}
	u, err := db.User(ctx, id)
	if err == nil && u.Disabled {
		err = fmt.Errorf("invitation: %w", ErrNotFound)
	}
	p.User = u
	return p, err
}

// acceptInvitation spends the invitation with the token's hash, in tx, and
// gives its account the role. ErrNotFound when there is no such unused,
// unexpired invitation, or the account may no longer be given the role.
func (db *DB) acceptInvitation(ctx context.Context, tx *sql.Tx, tokenHash string) (governance.Membership, error) {
	now := micros(db.now())
	var m governance.Membership
	var role string
	// Spending it first, conditionally: of concurrent requests with one link, exactly one gets the row.
	err := tx.QueryRowContext(ctx, `UPDATE invitations SET used_at = $1 WHERE token_hash = $2 AND sent AND used_at IS NULL AND expires_at > $1
		RETURNING user_id, org, role`, now, tokenHash).Scan(&m.UserID, &m.Org, &role)
	if errors.Is(err, sql.ErrNoRows) {
		return m, fmt.Errorf("invitation: invalid or used link: %w", ErrNotFound)
	}
	if err != nil {
		return m, fmt.Errorf("invitation: %w", err)
	}
	m.Role = governance.Role(role)
	u, err := scanUser(tx.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE id = $1`, m.UserID))
	if err != nil {
		return m, fmt.Errorf("invitation: %w", err)
	}
	ms, err := scanMemberships(tx.QueryContext(ctx, `SELECT `+membershipColumns+` FROM memberships WHERE user_id = $1`, m.UserID))
	if err != nil {
		return m, err
	}
	if attachable(u, ms) != nil {
		return m, fmt.Errorf("invitation: %w", ErrNotFound)
	}
	if err := addMembership(ctx, tx, m.UserID, m.Org, m.Role, now); err != nil {
		return m, err
	}
	return m, db.appendEvent(ctx, tx, audit.KindUserRole, m.Org, "user:"+m.UserID,
		map[string]string{"user": m.UserID, "role": role, "change": "added", "by": "invitation"})
}

// AcceptInvitation gives the account the role its invitation offers, once
// (Rule AA-27): the link came by e-mail, so using it shows the person controls
// the address. ErrNotFound when the link is unknown, used or expired, or the
// account is blocked or may not act for a consumer.
func (db *DB) AcceptInvitation(ctx context.Context, tokenHash string) (governance.Membership, error) {
	var m governance.Membership
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		m, err = db.acceptInvitation(ctx, tx, tokenHash)
		return err
	})
	return m, err
}

// Activate uses an activation link once (Rule AA-27): it spends the token,
// the account's other activation tokens, sets the password and gives the role
// the link's invitation offers, in one transaction. ErrNotFound when the
// token is unknown, used or expired, or the account is blocked.
func (db *DB) Activate(ctx context.Context, tokenHash, passwordHash string) (governance.User, error) {
	var u governance.User
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		now := micros(db.now())
		var id string
		// Spending the token is the first statement, and conditional on its
		// being unspent: of concurrent requests with one link exactly one gets
		// the row back (on PostgreSQL the others wait for its row lock, then
		// find it spent), so a link sets a password once.
		err := tx.QueryRowContext(ctx, `UPDATE activations SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL AND expires_at > $1
			RETURNING user_id`, now, tokenHash).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("activation: invalid or used link: %w", ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("activation: %w", err)
		}
		if u, err = scanUser(tx.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE id = $1`, id)); err != nil {
			return fmt.Errorf("activation: %w", err)
		}
		if u.Disabled {
			return fmt.Errorf("activation: %w", ErrNotFound)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE activations SET used_at = $1 WHERE user_id = $2 AND used_at IS NULL`, now, id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = $1 WHERE id = $2`, passwordHash, id); err != nil {
			return err
		}
		if err := db.appendEvent(ctx, tx, audit.KindUserRole, "", "user:"+id, map[string]string{"user": id, "change": "activated"}); err != nil {
			return err
		}
		if _, err := db.acceptInvitation(ctx, tx, tokenHash); err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
		return nil
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

// RemindReview queues the reminder letters of org's due review (Rule AA-27),
// each with its letter event in the log, unless it was reminded less than
// every ago (governance.ReminderDue), and remembers when, in one transaction.
// It reports whether it queued them. The check and the update are one
// conditional upsert, so two nodes never both remind.
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
			letters[i].Kind = MailReviewReminder
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
		run.Error = truncate(err.Error(), 500)
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

package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"deling/internal/audit"
	"deling/internal/governance"
)

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
	Letter func(setPassword bool, navn string) governance.Letter
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
		m.Kind, m.To, m.Consumer = governance.LetterActivation, u.Email, ""
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

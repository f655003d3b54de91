package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"deling/internal/audit"
	"deling/internal/governance"
)

// Accounts linked to identities at OpenID Connect providers (issue 16,
// item 6): an identity is the ID token's issuer and subject (iss, sub),
// linked to one account. A person is linked by the fødselsnummer the
// provider vouches for; the register's staff only by the forvalter or by a
// verified e-mail address already on the account — never a new account.

// NoEmailDomain ends the e-mail column of an account made at a person's
// first sign-in with ID-porten, which gives no address: the column is unique
// and required, and .invalid is never delivered (RFC 2606). Nothing is
// e-mailed to such an address (incidentPersonNotice).
const NoEmailDomain = "@id-porten.invalid"

// Identity is an identity at an OpenID Connect provider, as its ID token names it.
type Identity struct {
	Issuer, Subject string
}

// errBadIdentity is an identity without an issuer or subject (or a person without a fødselsnummer), or one too long.
var errBadIdentity = errors.New("identity: an issuer and a subject of at most 1,024 bytes are required")

func (id Identity) valid() bool {
	return id.Issuer != "" && id.Subject != "" && len(id.Issuer) <= 1024 && len(id.Subject) <= 1024
}

// userByIdentity is the account linked to id; ErrNotFound when none is.
func userByIdentity(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, id Identity) (governance.User, error) {
	u, err := scanUser(q.QueryRowContext(ctx, `SELECT u.id, u.email, u.navn, u.pid, u.disabled_at, u.must_change_password, u.password_gen FROM users u
		JOIN user_identities i ON i.user_id = u.id WHERE i.issuer = $1 AND i.subject = $2`, id.Issuer, id.Subject))
	if errors.Is(err, sql.ErrNoRows) {
		return u, fmt.Errorf("identity: %w", ErrNotFound)
	}
	return u, err
}

func insertIdentity(ctx context.Context, tx *sql.Tx, id Identity, userID string, now int64) error {
	if _, err := tx.ExecContext(ctx, `INSERT INTO user_identities (issuer, subject, user_id, created_at) VALUES ($1, $2, $3, $4)`,
		id.Issuer, id.Subject, userID, now); err != nil {
		if uniqueViolation(err) {
			return fmt.Errorf("identity: %w", ErrExists)
		}
		return fmt.Errorf("link identity: %w", err)
	}
	return nil
}

// SignInPerson is the account of a person who signed in at a provider that
// vouches for their fødselsnummer (ID-porten's pid claim; the caller has
// checked it): the account linked to the identity; else the one active
// account holding that fødselsnummer, which is then linked; else a new
// account with the Person role, linked. created reports the last. An
// identity linked to an account of another fødselsnummer, a disabled
// account, an account holding any role but Person, or more than one account
// with the fødselsnummer is ErrConflict:
// nobody is signed in as someone the provider did not vouch for.
func (db *DB) SignInPerson(ctx context.Context, id Identity, pid string) (u governance.User, created bool, err error) {
	if !id.valid() || pid == "" {
		return u, false, errBadIdentity
	}
	for attempt := 0; ; attempt++ {
		u, created, err = db.signInPerson(ctx, id, pid)
		// A concurrent first sign-in of the same identity linked it a moment
		// ago: the second attempt finds it.
		if errors.Is(err, ErrExists) && attempt == 0 {
			continue
		}
		return u, created, err
	}
}

func (db *DB) signInPerson(ctx context.Context, id Identity, pid string) (u governance.User, created bool, err error) {
	now := micros(db.now())
	err = db.inTx(ctx, func(tx *sql.Tx) error {
		created = false
		var err error
		u, err = userByIdentity(ctx, tx, id)
		switch {
		case err == nil:
			if u.PID != pid || u.Disabled {
				return fmt.Errorf("identity linked to another or a disabled account: %w", ErrConflict)
			}
			return nil
		case !errors.Is(err, ErrNotFound):
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT `+userColumns+` FROM users WHERE pid = $1`, pid)
		if err != nil {
			return fmt.Errorf("users by pid: %w", err)
		}
		var found []governance.User
		for rows.Next() {
			f, err := scanUser(rows)
			if err != nil {
				rows.Close()
				return err
			}
			found = append(found, f)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		switch {
		case len(found) > 1:
			return fmt.Errorf("%d accounts hold the fødselsnummer: %w", len(found), ErrConflict)
		case len(found) == 1 && found[0].Disabled:
			return fmt.Errorf("the account is disabled: %w", ErrConflict)
		case len(found) == 1:
			// Only a person's own account is linked by the fødselsnummer: an
			// account holding any other role (staff, an organisation's user)
			// is linked by the forvalter, not by a sign-in.
			ms, err := scanMemberships(tx.QueryContext(ctx, `SELECT `+membershipColumns+` FROM memberships WHERE user_id = $1`, found[0].ID))
			if err != nil {
				return err
			}
			if len(ms) != 1 || ms[0].Role != governance.Person || ms[0].Org != "" {
				return fmt.Errorf("the account holding the fødselsnummer has other roles: %w", ErrConflict)
			}
			u = found[0]
		default:
			u = governance.User{ID: newID(), PID: pid}
			u.Email = u.ID + NoEmailDomain
			ms := []governance.Membership{{Role: governance.Person}}
			if err := insertUser(ctx, tx, u, "", now); err != nil {
				return err
			}
			if err := addMembership(ctx, tx, u.ID, "", governance.Person, now); err != nil {
				return err
			}
			if err := db.appendEvent(ctx, tx, audit.KindUserAdded, "", "user:"+u.ID, map[string]any{"user": u.ID, "roles": ms}); err != nil {
				return err
			}
			created = true
		}
		if err := insertIdentity(ctx, tx, id, u.ID, now); err != nil {
			return err
		}
		return db.appendEvent(ctx, tx, audit.KindUserRole, "", "user:"+u.ID, map[string]string{"user": u.ID, "change": "identity linked", "issuer": id.Issuer})
	})
	return u, created, err
}

// SignInStaff is the account of a member of the register's staff who signed
// in at the staff's provider: the account linked to the identity; else, when
// the provider vouches for the e-mail address (verifiedEmail, "" when it
// does not, or when the operator has not turned linking by e-mail on), the
// active account with that address, which is then linked — only when the
// account has no identity at that issuer yet: an address reused or
// re-assigned at the provider cannot take over an account already linked
// there (ErrConflict). Either must hold a role at the register authority.
// Anything else is ErrNotFound: no account is ever made here (deny by default).
func (db *DB) SignInStaff(ctx context.Context, id Identity, verifiedEmail string) (u governance.User, err error) {
	if !id.valid() {
		return governance.User{}, errBadIdentity
	}
	for attempt := 0; ; attempt++ {
		u, err = db.signInStaff(ctx, id, verifiedEmail)
		// A concurrent first sign-in of the same identity linked it a moment
		// ago: the second attempt finds it.
		if errors.Is(err, ErrExists) && attempt == 0 {
			continue
		}
		return u, err
	}
}

func (db *DB) signInStaff(ctx context.Context, id Identity, verifiedEmail string) (governance.User, error) {
	var u governance.User
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		u, err = userByIdentity(ctx, tx, id)
		link := errors.Is(err, ErrNotFound) && verifiedEmail != ""
		switch {
		case link:
			u, err = scanUser(tx.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE email = $1`,
				strings.ToLower(strings.TrimSpace(verifiedEmail))))
			if errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("staff account: %w", ErrNotFound)
			}
			if err != nil {
				return err
			}
		case err != nil:
			return err
		}
		if u.Disabled {
			return fmt.Errorf("staff account: %w", ErrNotFound)
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM memberships WHERE user_id = $1 AND org = $2`,
			u.ID, governance.AuthorityOrg).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return fmt.Errorf("no role at the register: %w", ErrNotFound)
		}
		if !link {
			return nil
		}
		// An account linked at this issuer already is linked by the forvalter
		// only: a second identity claiming its address is refused. (This
		// identity, linked by a concurrent first sign-in, is ErrExists at the
		// insert, and found at the retry.)
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM user_identities WHERE user_id = $1 AND issuer = $2 AND subject <> $3`,
			u.ID, id.Issuer, id.Subject).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return fmt.Errorf("the account has an identity at this issuer already: %w", ErrConflict)
		}
		if err := insertIdentity(ctx, tx, id, u.ID, micros(db.now())); err != nil {
			return err
		}
		return db.appendEvent(ctx, tx, audit.KindUserRole, governance.AuthorityOrg, "user:"+u.ID,
			map[string]string{"user": u.ID, "change": "identity linked", "issuer": id.Issuer, "by": "verified e-mail"})
	})
	return u, err
}

// LinkIdentity links an account to an identity at a provider (the
// forvalter's `deling user link`). ErrExists when the identity is linked
// already (to this or another account); ErrNotFound when the account is not.
func (db *DB) LinkIdentity(ctx context.Context, userID string, id Identity, actor string) error {
	if !id.valid() {
		return errBadIdentity
	}
	return db.inTx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM users WHERE id = $1`, userID).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return fmt.Errorf("user: %w", ErrNotFound)
		}
		if err := insertIdentity(ctx, tx, id, userID, micros(db.now())); err != nil {
			return err
		}
		return db.appendEvent(ctx, tx, audit.KindUserRole, "", actor, map[string]string{"user": userID, "change": "identity linked", "issuer": id.Issuer})
	})
}

// LinkedIdentity is an identity linked to an account, and when.
type LinkedIdentity struct {
	Identity
	Linked time.Time
}

// Identities are the identities linked to an account, by issuer and subject.
func (db *DB) Identities(ctx context.Context, userID string) ([]LinkedIdentity, error) {
	rows, err := db.read.query(ctx, `SELECT issuer, subject, created_at FROM user_identities WHERE user_id = $1 ORDER BY issuer, subject`, userID)
	if err != nil {
		return nil, fmt.Errorf("identities: %w", err)
	}
	defer rows.Close()
	var out []LinkedIdentity
	for rows.Next() {
		var li LinkedIdentity
		var at int64
		if err := rows.Scan(&li.Issuer, &li.Subject, &at); err != nil {
			return nil, err
		}
		li.Linked = fromMicros(at)
		out = append(out, li)
	}
	return out, rows.Err()
}

// UnlinkIdentity removes an account's identities at an issuer (the
// forvalter's `deling user unlink`) and reports how many; ErrNotFound when
// the account has none there.
func (db *DB) UnlinkIdentity(ctx context.Context, userID, issuer, actor string) (int, error) {
	var n int64
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM user_identities WHERE user_id = $1 AND issuer = $2`, userID, issuer)
		if err != nil {
			return fmt.Errorf("unlink identity: %w", err)
		}
		if n, err = res.RowsAffected(); err != nil {
			return err
		}
		if n == 0 {
			return fmt.Errorf("identity: %w", ErrNotFound)
		}
		return db.appendEvent(ctx, tx, audit.KindUserRole, "", actor, map[string]string{"user": userID, "change": "identity unlinked", "issuer": issuer})
	})
	return int(n), err
}

package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"

	"deling/internal/audit"
	"deling/internal/governance"
)

// uniqueViolation reports whether err is a UNIQUE or PRIMARY KEY constraint
// failing: SQLSTATE 23505 on PostgreSQL, "UNIQUE constraint failed" on SQLite.
// A count-then-insert that lost a race to a concurrent insert ends here, and
// is answered as ErrExists rather than as a failure.
func uniqueViolation(err error) bool {
	if err == nil {
		return false
	}
	if v, isPG := pgUniqueViolation(err); isPG {
		return v
	}
	return sqliteUniqueViolation(err)
}

// insertUser adds an account row in tx; ErrExists when the address has one (also one inserted a moment ago).
func insertUser(ctx context.Context, tx *sql.Tx, u governance.User, passwordHash string, now int64) error {
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM users WHERE email = $1`, u.Email).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return fmt.Errorf("user: %w", ErrExists)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO users (id, email, navn, password_hash, pid, created_at, must_change_password) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		u.ID, u.Email, u.Navn, passwordHash, u.PID, now, boolInt(u.MustChangePassword)); err != nil {
		if uniqueViolation(err) {
			return fmt.Errorf("user: %w", ErrExists)
		}
		return fmt.Errorf("insert user: %w", err)
	}
	return nil
}

// CreateUser adds an account with a hashed password and its memberships.
// ErrExists when the e-mail address has an account, also when it was made
// by a concurrent request a moment ago.
func (db *DB) CreateUser(ctx context.Context, u governance.User, passwordHash string, ms []governance.Membership, actor string) (governance.User, error) {
	u.ID = newID()
	u.Email = strings.ToLower(strings.TrimSpace(u.Email))
	now := micros(db.now())
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		if err := insertUser(ctx, tx, u, passwordHash, now); err != nil {
			return err
		}
		for _, m := range ms {
			if err := addMembership(ctx, tx, u.ID, m.Org, m.Role, now); err != nil {
				return err
			}
		}
		return db.appendEvent(ctx, tx, audit.KindUserAdded, orgOf(ms), actor, map[string]any{"user": u.ID, "roles": ms})
	})
	return u, err
}

func orgOf(ms []governance.Membership) string {
	for _, m := range ms {
		if m.Role.ForOrganisation() {
			return m.Org
		}
	}
	return ""
}

func addMembership(ctx context.Context, tx *sql.Tx, user, org string, role governance.Role, now int64) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO memberships (user_id, org, role, created_at, reviewed_at) VALUES ($1, $2, $3, $4, $4)
		ON CONFLICT (user_id, org, role) DO NOTHING`, user, org, string(role), now)
	if err != nil {
		return fmt.Errorf("add membership: %w", err)
	}
	return nil
}

const userColumns = `id, email, navn, pid, disabled_at, must_change_password, password_gen`

func scanUser(row interface{ Scan(...any) error }, more ...any) (governance.User, error) {
	var u governance.User
	var disabled sql.NullInt64
	var must int
	err := row.Scan(append([]any{&u.ID, &u.Email, &u.Navn, &u.PID, &disabled, &must, &u.PasswordGen}, more...)...)
	u.Disabled, u.MustChangePassword = disabled.Valid, must != 0
	return u, err
}

// User loads an account by id.
func (db *DB) User(ctx context.Context, id string) (governance.User, error) {
	u, err := scanUser(db.read.queryRow(ctx, `SELECT `+userColumns+` FROM users WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return u, fmt.Errorf("user: %w", ErrNotFound)
	}
	return u, err
}

// UserByEmail loads an account and its password hash by e-mail address (any case).
func (db *DB) UserByEmail(ctx context.Context, email string) (governance.User, string, error) {
	var hash string
	u, err := scanUser(db.read.queryRow(ctx, `SELECT `+userColumns+`, password_hash FROM users WHERE email = $1`,
		strings.ToLower(strings.TrimSpace(email))), &hash)
	if errors.Is(err, sql.ErrNoRows) {
		return u, "", fmt.Errorf("user: %w", ErrNotFound)
	}
	return u, hash, err
}

// SetPassword replaces the password hash of an active account, with its
// event in the log: mustChange when someone other than its owner chose the
// password (a reset by the forvalter), so that the owner changes it at the
// next sign-in. Every session of the account made before ends at its next
// request (password_gen); the new generation is returned for the session
// of an owner who changed it. ErrNotFound when there is no active account.
func (db *DB) SetPassword(ctx context.Context, userID, hash string, mustChange bool, actor string) (gen int, err error) {
	change := "password-changed"
	if mustChange {
		change = "password-reset"
	}
	err = db.inTx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `UPDATE users SET password_hash = $1, must_change_password = $2, password_gen = password_gen + 1
			WHERE id = $3 AND disabled_at IS NULL RETURNING password_gen`, hash, boolInt(mustChange), userID).Scan(&gen)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("user: %w", ErrNotFound)
		} else if err != nil {
			return fmt.Errorf("set password: %w", err)
		}
		return db.appendEvent(ctx, tx, audit.KindUserRole, "", actor, map[string]string{"user": userID, "change": change})
	})
	return gen, err
}

// EnableUser opens a closed account again, with its roles as they were
// (the forvalter reactivating a staff account). ErrNotFound when userID is
// no closed account.
func (db *DB) EnableUser(ctx context.Context, userID, actor string) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE users SET disabled_at = NULL WHERE id = $1 AND disabled_at IS NOT NULL`, userID)
		if err != nil {
			return fmt.Errorf("enable user: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("closed account: %w", ErrNotFound)
		}
		return db.appendEvent(ctx, tx, audit.KindUserRole, "", actor, map[string]string{"user": userID, "change": "enabled"})
	})
}

const membershipColumns = `user_id, org, role, created_at, reviewed_at`

func scanMemberships(rows *sql.Rows, err error) ([]governance.Membership, error) {
	if err != nil {
		return nil, fmt.Errorf("memberships: %w", err)
	}
	defer rows.Close()
	var out []governance.Membership
	for rows.Next() {
		var m governance.Membership
		var role string
		var created, reviewed int64
		if err := rows.Scan(&m.UserID, &m.Org, &role, &created, &reviewed); err != nil {
			return nil, err
		}
		m.Role, m.CreatedAt, m.ReviewedAt = governance.Role(role), fromMicros(created), fromMicros(reviewed)
		out = append(out, m)
	}
	return out, rows.Err()
}

// Memberships lists the roles a user holds, by organisation and role.
func (db *DB) Memberships(ctx context.Context, userID string) ([]governance.Membership, error) {
	return scanMemberships(db.read.query(ctx, `SELECT `+membershipColumns+` FROM memberships WHERE user_id = $1 ORDER BY org, role`, userID))
}

// OrgMember is a user with the roles they hold for one organisation.
type OrgMember struct {
	User  governance.User
	Roles []governance.Membership
}

// OrgMembers lists the active users holding a role for org, by name.
func (db *DB) OrgMembers(ctx context.Context, org string) ([]OrgMember, error) {
	return db.orgMembers(ctx, org, "u.disabled_at IS NULL")
}

// ClosedOrgMembers lists the closed accounts holding a role for org, by name
// (the forvalter's list of staff accounts to reactivate).
func (db *DB) ClosedOrgMembers(ctx context.Context, org string) ([]OrgMember, error) {
	return db.orgMembers(ctx, org, "u.disabled_at IS NOT NULL")
}

func (db *DB) orgMembers(ctx context.Context, org, state string) ([]OrgMember, error) {
	rows, err := db.read.query(ctx, `SELECT u.id, u.email, u.navn, u.pid, u.disabled_at, m.user_id, m.org, m.role, m.created_at, m.reviewed_at
		FROM memberships m JOIN users u ON u.id = m.user_id
		WHERE m.org = $1 AND `+state+` ORDER BY u.navn, u.id, m.role`, org)
	if err != nil {
		return nil, fmt.Errorf("org members: %w", err)
	}
	defer rows.Close()
	var out []OrgMember
	for rows.Next() {
		var u governance.User
		var disabled sql.NullInt64
		var m governance.Membership
		var role string
		var created, reviewed int64
		if err := rows.Scan(&u.ID, &u.Email, &u.Navn, &u.PID, &disabled, &m.UserID, &m.Org, &role, &created, &reviewed); err != nil {
			return nil, err
		}
		m.Role, m.CreatedAt, m.ReviewedAt = governance.Role(role), fromMicros(created), fromMicros(reviewed)
		if n := len(out); n > 0 && out[n-1].User.ID == u.ID {
			out[n-1].Roles = append(out[n-1].Roles, m)
			continue
		}
		out = append(out, OrgMember{User: u, Roles: []governance.Membership{m}})
	}
	return out, rows.Err()
}

// AddMembership gives a user a role for an organisation (nothing if they hold it).
func (db *DB) AddMembership(ctx context.Context, userID, org string, role governance.Role, actor string) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		if err := addMembership(ctx, tx, userID, org, role, micros(db.now())); err != nil {
			return err
		}
		return db.appendEvent(ctx, tx, audit.KindUserRole, org, actor, map[string]string{"user": userID, "role": string(role), "change": "added"})
	})
}

// userManagerRoles are the roles that manage an organisation's users: one of them must be left (Rule AA-27).
var userManagerRoles = []governance.Role{governance.Administrator, governance.Rolleinnehaver}

// managerRoles are the roles that manage org's accounts: the forvalter's at
// the register authority (issue 16, item 5), else userManagerRoles.
func managerRoles(org string) []governance.Role {
	if org == governance.AuthorityOrg {
		return []governance.Role{governance.Forvalter}
	}
	return userManagerRoles
}

// ErrLastManager is the refusal to take away the last active holder of the
// roles that manage an organisation's accounts (wrapped in ErrConflict).
var ErrLastManager = fmt.Errorf("the last who manages the accounts: %w", ErrConflict)

// LastManagerError names the organisation (Org) a refused change would have
// left without anyone managing its accounts; it is ErrLastManager.
type LastManagerError struct{ Org string }

func (e *LastManagerError) Error() string { return e.Org + ": " + ErrLastManager.Error() }

func (e *LastManagerError) Unwrap() error { return ErrLastManager }

// keepOneManager refuses, with ErrLastManager, a change that would leave org
// without an active account holding one of managerRoles(org): taking role
// away from userID, or (role "") closing userID's account. Changes to org's
// managers take turns (on PostgreSQL, locking the membership rows is not
// enough: two accounts closed at once each still see the other's row as
// active), and it locks those memberships, so two concurrent changes cannot
// both pass it (Rule AA-27).
func (db *DB) keepOneManager(ctx context.Context, tx *sql.Tx, org, userID string, role governance.Role) error {
	if err := db.takeTurns(ctx, tx, "managers:"+org); err != nil {
		return fmt.Errorf("managers of %s: %w", org, err)
	}
	roles := managerRoles(org)
	q := db.forUpdate(`SELECT m.user_id, m.role FROM memberships m JOIN users u ON u.id = m.user_id
		WHERE m.org = $1 AND m.role IN ($2, $3) AND u.disabled_at IS NULL`, "m")
	rows, err := tx.QueryContext(ctx, q, org, string(roles[0]), string(roles[len(roles)-1]))
	if err != nil {
		return fmt.Errorf("managers of %s: %w", org, err)
	}
	defer rows.Close()
	left := 0
	for rows.Next() {
		var u, r string
		if err := rows.Scan(&u, &r); err != nil {
			return err
		}
		if u != userID || (role != "" && r != string(role)) {
			left++
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if left == 0 {
		return &LastManagerError{Org: org}
	}
	return nil
}

// RemoveMembership takes a role away; a user holding no role any more for
// the organisation loses it at once. ErrConflict (ErrLastManager) when it is
// the organisation's last administrator or role holder (of active accounts):
// someone must be left who can manage its users (Rule AA-27); at the register
// authority, its last forvalter (issue 16, item 5: never zero forvalters).
func (db *DB) RemoveMembership(ctx context.Context, userID, org string, role governance.Role, actor string) error {
	return db.inTx(ctx, func(tx *sql.Tx) error { return db.removeMembership(ctx, tx, userID, org, role, actor) })
}

func (db *DB) removeMembership(ctx context.Context, tx *sql.Tx, userID, org string, role governance.Role, actor string) error {
	if slices.Contains(managerRoles(org), role) {
		if err := db.keepOneManager(ctx, tx, org, userID, role); err != nil {
			return err
		}
	}
	res, err := tx.ExecContext(ctx, `DELETE FROM memberships WHERE user_id = $1 AND org = $2 AND role = $3`, userID, org, string(role))
	if err != nil {
		return fmt.Errorf("remove membership: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("membership: %w", ErrNotFound)
	}
	if err := db.endPostDelegationsOf(ctx, tx, userID, false, actor); err != nil { // Rule DPV-03
		return err
	}
	return db.appendEvent(ctx, tx, audit.KindUserRole, org, actor, map[string]string{"user": userID, "role": string(role), "change": "removed"})
}

// SetStaffRoles makes the register staff's roles of an active account holding
// one exactly roles (at least one, each governance.Role.ForAuthority), in one
// transaction: each role given or taken away is an event in the log.
// ErrNotFound when userID is no active staff account; ErrLastManager, with
// nothing changed, when it would leave no forvalter (issue 16, item 5).
func (db *DB) SetStaffRoles(ctx context.Context, userID string, roles []governance.Role, actor string) error {
	if len(roles) == 0 || slices.ContainsFunc(roles, func(r governance.Role) bool { return !r.ForAuthority() }) {
		return fmt.Errorf("staff roles %v: one or more of the register staff's roles, none else", roles)
	}
	org := governance.AuthorityOrg
	return db.inTx(ctx, func(tx *sql.Tx) error {
		var disabled sql.NullInt64
		if err := tx.QueryRowContext(ctx, `SELECT disabled_at FROM users WHERE id = $1`, userID).Scan(&disabled); errors.Is(err, sql.ErrNoRows) || disabled.Valid {
			return fmt.Errorf("staff account: %w", ErrNotFound)
		} else if err != nil {
			return err
		}
		held, err := scanMemberships(tx.QueryContext(ctx, `SELECT `+membershipColumns+` FROM memberships WHERE user_id = $1 AND org = $2`, userID, org))
		if err != nil {
			return err
		}
		if len(held) == 0 {
			return fmt.Errorf("staff account: %w", ErrNotFound)
		}
		now := micros(db.now())
		for _, r := range roles {
			if governance.Has(held, org, r) {
				continue
			}
			if err := addMembership(ctx, tx, userID, org, r, now); err != nil {
				return err
			}
			if err := db.appendEvent(ctx, tx, audit.KindUserRole, org, actor, map[string]string{"user": userID, "role": string(r), "change": "added"}); err != nil {
				return err
			}
		}
		for _, m := range held {
			if !slices.Contains(roles, m.Role) {
				if err := db.removeMembership(ctx, tx, userID, org, m.Role, actor); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// ConfirmMemberships records that org reviewed the user's roles and they still need them (Rule AA-27).
func (db *DB) ConfirmMemberships(ctx context.Context, userID, org, actor string) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE memberships SET reviewed_at = $1 WHERE user_id = $2 AND org = $3`, micros(db.now()), userID, org)
		if err != nil {
			return fmt.Errorf("confirm memberships: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("membership: %w", ErrNotFound)
		}
		return db.appendEvent(ctx, tx, audit.KindUserRole, org, actor, map[string]string{"user": userID, "change": "reviewed"})
	})
}

// DisableUser closes an account: it signs in no more, and its sessions end on
// their next request. ErrConflict (a *LastManagerError) when it is the last
// active account managing the accounts of an organisation it holds a
// manager role for (Rule AA-27), the register's last forvalter included
// (issue 16, item 5: never zero forvalters).
func (db *DB) DisableUser(ctx context.Context, userID, actor string) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		orgs, err := managedOrgs(ctx, tx, userID)
		if err != nil {
			return err
		}
		for _, org := range orgs { // in order, so that concurrent closings take their turns in one order
			if err := db.keepOneManager(ctx, tx, org, userID, ""); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE users SET disabled_at = $1 WHERE id = $2 AND disabled_at IS NULL`, micros(db.now()), userID); err != nil {
			return fmt.Errorf("disable user: %w", err)
		}
		if err := db.endPostDelegationsOf(ctx, tx, userID, true, actor); err != nil { // Rule DPV-03
			return err
		}
		return db.appendEvent(ctx, tx, audit.KindUserRole, "", actor, map[string]string{"user": userID, "change": "disabled"})
	})
}

// managedOrgs are the organisations, in order, where userID holds a role
// that manages the accounts (managerRoles).
func managedOrgs(ctx context.Context, tx *sql.Tx, userID string) ([]string, error) {
	rows, err := tx.QueryContext(ctx, `SELECT DISTINCT org FROM memberships WHERE user_id = $1
		AND ((org = $2 AND role = $3) OR (org <> $2 AND role IN ($4, $5))) ORDER BY org`,
		userID, governance.AuthorityOrg, string(governance.Forvalter), string(userManagerRoles[0]), string(userManagerRoles[1]))
	if err != nil {
		return nil, fmt.Errorf("organisations managed by %s: %w", userID, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var org string
		if err := rows.Scan(&org); err != nil {
			return nil, err
		}
		out = append(out, org)
	}
	return out, rows.Err()
}

// UsersWithRole lists the active users holding role for org.
func (db *DB) UsersWithRole(ctx context.Context, org string, role governance.Role) ([]governance.User, error) {
	rows, err := db.read.query(ctx, `SELECT u.id, u.email, u.navn, u.pid, u.disabled_at, u.must_change_password, u.password_gen FROM users u JOIN memberships m ON m.user_id = u.id
		WHERE m.org = $1 AND m.role = $2 AND u.disabled_at IS NULL ORDER BY u.navn`, org, string(role))
	if err != nil {
		return nil, fmt.Errorf("users with role: %w", err)
	}
	defer rows.Close()
	var out []governance.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

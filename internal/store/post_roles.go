package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"

	"deling/internal/audit"
	"deling/internal/governance"
	"deling/internal/ident"
	"deling/internal/post"
)

// Rule DPV-03: the Enhetsregisteret roles (role codes) portal users hold
// in organisations, which make them key role holders with Post/Arkiv (and
// confidential post) automatically, and the readers built from them.
// post.PortalRoles decides what the codes and memberships give.

// SetPostRoleCodes records the Enhetsregisteret roles a portal user holds in
// org, replacing those recorded before (none: the user holds none). A role
// holder's link that predates the codes stands for DAGL until this is
// called for it, with codes or none (post.PortalRoles; review finding 1).
// The user must be an active user of org; a code deling does not know is
// refused; nothing changes on a refusal.
func (db *DB) SetPostRoleCodes(ctx context.Context, userID string, org ident.Orgnr, codes []post.RoleCode, actor string) error {
	if _, err := ident.ParseOrgnr(string(org)); err != nil {
		return fmt.Errorf("role codes: %w", err)
	}
	for _, c := range codes {
		if _, ok := post.ParseRoleCode(string(c)); !ok {
			return fmt.Errorf("role codes: unknown Enhetsregisteret role %q: %w", c, ErrConflict)
		}
	}
	codes = slices.Compact(slices.Sorted(slices.Values(codes)))
	return db.inTx(ctx, func(tx *sql.Tx) error {
		if ok, err := activeUserOf(ctx, tx.QueryRowContext, userID, org); err != nil {
			return fmt.Errorf("role codes: %w", err)
		} else if !ok {
			return fmt.Errorf("role codes: no active user %s of %s: %w", userID, org, ErrNotFound)
		}
		for _, q := range []string{`DELETE FROM er_role_codes WHERE user_id = $1 AND org = $2`, `DELETE FROM er_role_legacy WHERE user_id = $1 AND org = $2`} {
			if _, err := tx.ExecContext(ctx, q, userID, string(org)); err != nil {
				return fmt.Errorf("role codes: %w", err)
			}
		}
		for _, c := range codes {
			if _, err := tx.ExecContext(ctx, `INSERT INTO er_role_codes (user_id, org, code, created_at) VALUES ($1, $2, $3, $4)`,
				userID, string(org), string(c), micros(db.now())); err != nil {
				return fmt.Errorf("role codes: %w", err)
			}
		}
		return db.appendEvent(ctx, tx, audit.KindUserRole, string(org), actor, map[string]any{"user": userID, "change": "role codes", "codes": codes})
	})
}

// PostRoleCodes are the Enhetsregisteret roles recorded for org's users, by user id.
func (db *DB) PostRoleCodes(ctx context.Context, org ident.Orgnr) (map[string][]post.RoleCode, error) {
	rows, err := db.read.query(ctx, `SELECT user_id, code FROM er_role_codes WHERE org = $1 ORDER BY user_id, code`, string(org))
	if err != nil {
		return nil, fmt.Errorf("role codes: %w", err)
	}
	defer rows.Close()
	out := map[string][]post.RoleCode{}
	for rows.Next() {
		var u, c string
		if err := rows.Scan(&u, &c); err != nil {
			return nil, err
		}
		out[u] = append(out[u], post.RoleCode(c))
	}
	return out, rows.Err()
}

// PostRoleStandIns are org's role holders whose link predates the role
// codes and stands for DAGL (post.PortalRoles), by user id.
func (db *DB) PostRoleStandIns(ctx context.Context, org ident.Orgnr) (map[string]bool, error) {
	rows, err := db.read.query(ctx, `SELECT user_id FROM er_role_legacy WHERE org = $1`, string(org))
	if err != nil {
		return nil, fmt.Errorf("role codes: %w", err)
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var u string
		if err := rows.Scan(&u); err != nil {
			return nil, err
		}
		out[u] = true
	}
	return out, rows.Err()
}

// PostViewer is the portal user userID, acting for the organisation
// acting, as a reader of org's post now (Rule DPV-03). Of its own
// organisation (org == acting): the key roles its role codes give (or the
// role holder's stand-in, post.PortalRoles), the access-management role an
// administrator holds, and the delegations that name the user. Of another
// organisation: only what that organisation delegated to acting and the
// user holds over acting's own post (post.Through). A closed account or
// one that is no user of acting reads nothing. Read fresh on each call, so
// a revocation takes effect at once.
func (db *DB) PostViewer(ctx context.Context, userID string, acting, org ident.Orgnr) (post.Viewer, error) {
	home, err := db.postHomeViewer(ctx, db.read, false, userID, acting)
	if err != nil || org == acting {
		return home, err
	}
	dels, err := db.PostDelegationsTo(ctx, post.Party{Kind: post.PartyOrganisation, Orgnr: acting})
	if err != nil {
		return post.Viewer{}, err
	}
	return post.Through(home, acting, org, delegations(dels)), nil
}

// PostOrgsThrough are the organisations whose post userID, acting for
// acting, may read by the organisations' delegations to acting (Rule DPV-03).
func (db *DB) PostOrgsThrough(ctx context.Context, userID string, acting ident.Orgnr) ([]ident.Orgnr, error) {
	home, err := db.postHomeViewer(ctx, db.read, false, userID, acting)
	if err != nil {
		return nil, err
	}
	dels, err := db.PostDelegationsTo(ctx, post.Party{Kind: post.PartyOrganisation, Orgnr: acting})
	if err != nil {
		return nil, err
	}
	return post.OrgsThrough(home, acting, delegations(dels)), nil
}

// rowsQuerier is a transaction or a pool.
type rowsQuerier interface {
	querier
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}

// postHomeViewer is userID as a reader of org's own post, read through q;
// with lock (q a transaction) the user's row and memberships of org are
// locked, so that a concurrent RemoveMembership or DisableUser waits for
// q's transaction, or this sees its outcome (review finding 6).
func (db *DB) postHomeViewer(ctx context.Context, q rowsQuerier, lock bool, userID string, org ident.Orgnr) (post.Viewer, error) {
	none := post.Viewer{Party: post.PortalPerson(userID), At: db.now()}
	sel := `SELECT m.user_id, m.org, m.role, m.created_at, m.reviewed_at FROM memberships m JOIN users u ON u.id = m.user_id
		WHERE m.user_id = $1 AND m.org = $2 AND u.disabled_at IS NULL ORDER BY m.role`
	if lock {
		sel = db.forUpdate(sel, "m", "u")
	}
	ms, err := scanMemberships(q.QueryContext(ctx, sel, userID, string(org)))
	if err != nil || len(ms) == 0 {
		return none, err
	}
	var codes []post.RoleCode
	rows, err := q.QueryContext(ctx, `SELECT code FROM er_role_codes WHERE user_id = $1 AND org = $2 ORDER BY code`, userID, string(org))
	if err != nil {
		return none, fmt.Errorf("role codes: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			return none, err
		}
		codes = append(codes, post.RoleCode(c))
	}
	if err := rows.Err(); err != nil {
		return none, err
	}
	var standIn int
	if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM er_role_legacy WHERE user_id = $1 AND org = $2`, userID, string(org)).Scan(&standIn); err != nil {
		return none, fmt.Errorf("role codes: %w", err)
	}
	party, err := json.Marshal(post.PortalPerson(userID))
	if err != nil {
		return none, err
	}
	dels, err := scanPostDelegations(q.QueryContext(ctx, postDelegationsToQuery, string(party)))
	if err != nil {
		return none, err
	}
	return post.PortalViewer(userID, ms, string(org), codes, standIn > 0, delegations(dels), none.At), nil
}

// activeUserOf reports whether userID is an active account holding a role for org.
func activeUserOf(ctx context.Context, q func(context.Context, string, ...any) *sql.Row, userID string, org ident.Orgnr) (bool, error) {
	var n int
	err := q(ctx, `SELECT COUNT(*) FROM memberships m JOIN users u ON u.id = m.user_id
		WHERE m.user_id = $1 AND m.org = $2 AND u.disabled_at IS NULL`, userID, string(org)).Scan(&n)
	return n > 0, err
}

func delegations(ds []PostDelegation) []post.Delegation {
	out := make([]post.Delegation, 0, len(ds))
	for _, d := range ds {
		out = append(out, d.Delegation)
	}
	return out
}

// orgKeyRoles are, for each of orgs, the Enhetsregisteret roles its active
// users hold (post.PortalRoles), read in tx: what the 1044 check on
// confidential post asks of a recipient.
func (db *DB) orgKeyRoles(ctx context.Context, tx *sql.Tx, orgs []ident.Orgnr) (map[ident.Orgnr][]post.RoleCode, error) {
	b, err := json.Marshal(orgs)
	if err != nil {
		return nil, err
	}
	rows, err := tx.QueryContext(ctx, `SELECT m.org, m.user_id, m.role, COALESCE(r.code, ''), COALESCE(l.org, '') FROM memberships m
		JOIN users u ON u.id = m.user_id LEFT JOIN er_role_codes r ON r.user_id = m.user_id AND r.org = m.org
		LEFT JOIN er_role_legacy l ON l.user_id = m.user_id AND l.org = m.org
		WHERE u.disabled_at IS NULL AND m.org IN (`+db.jsonArray("$1")+`) ORDER BY m.org, m.user_id`, string(b))
	if err != nil {
		return nil, fmt.Errorf("key roles: %w", err)
	}
	defer rows.Close()
	type held struct {
		ms      []governance.Membership
		codes   []post.RoleCode
		standIn bool
	}
	users := map[[2]string]*held{}
	for rows.Next() {
		var org, user, role, code, legacy string
		if err := rows.Scan(&org, &user, &role, &code, &legacy); err != nil {
			return nil, err
		}
		h := users[[2]string{org, user}]
		if h == nil {
			h = &held{}
			users[[2]string{org, user}] = h
		}
		h.ms = append(h.ms, governance.Membership{Org: org, Role: governance.Role(role)})
		h.standIn = legacy != ""
		if code != "" && !slices.Contains(h.codes, post.RoleCode(code)) {
			h.codes = append(h.codes, post.RoleCode(code))
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := map[ident.Orgnr][]post.RoleCode{}
	for k, h := range users {
		roles, _ := post.PortalRoles(h.ms, k[0], h.codes, h.standIn)
		out[ident.Orgnr(k[0])] = append(out[ident.Orgnr(k[0])], roles...)
	}
	return out, nil
}

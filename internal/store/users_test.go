package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"deling/internal/audit"
	"deling/internal/governance"
)

// Rule AA-27: an organisation keeps someone who manages its users, also when
// two administrators are removed at the same moment.
func TestRemoveLastUserManager(t *testing.T) {
	eachEngine(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		const org = "310000091"
		mk := func(email string, role governance.Role) governance.User {
			u, err := db.CreateUser(ctx, governance.User{Email: email, Navn: email}, "x", []governance.Membership{{Org: org, Role: role}}, "test")
			if err != nil {
				t.Fatal(err)
			}
			return u
		}
		a, b := mk("a@org.test", governance.Administrator), mk("b@org.test", governance.Administrator)
		dev := mk("dev@org.test", governance.Utvikler)
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i, u := range []governance.User{a, b} {
			wg.Go(func() { errs[i] = db.RemoveMembership(ctx, u.ID, org, governance.Administrator, "user:x") })
		}
		wg.Wait()
		if (errs[0] == nil) == (errs[1] == nil) || !(errors.Is(errs[0], ErrConflict) || errors.Is(errs[1], ErrConflict)) {
			t.Fatalf("two concurrent removals: %v, %v", errs[0], errs[1])
		}
		left := b
		if errs[1] == nil {
			left = a
		}
		if err := db.RemoveMembership(ctx, left.ID, org, governance.Administrator, "user:x"); !errors.Is(err, ErrConflict) {
			t.Fatalf("the last administrator removed: %v", err)
		}
		// Other roles go freely; a role holder counts as one who manages users; a blocked account does not.
		if err := db.RemoveMembership(ctx, dev.ID, org, governance.Utvikler, "user:x"); err != nil {
			t.Fatal(err)
		}
		lead := mk("lead@org.test", governance.Rolleinnehaver)
		if err := db.RemoveMembership(ctx, left.ID, org, governance.Administrator, "user:x"); err != nil {
			t.Fatalf("with a role holder left: %v", err)
		}
		admin := mk("admin2@org.test", governance.Administrator)
		if err := db.DisableUser(ctx, admin.ID, "test"); err != nil {
			t.Fatal(err)
		}
		if err := db.RemoveMembership(ctx, lead.ID, org, governance.Rolleinnehaver, "user:x"); !errors.Is(err, ErrConflict) {
			t.Fatalf("the last role holder removed, with only a blocked administrator left: %v", err)
		}
	})
}

// Two requests making an account for one address at the same moment: one
// succeeds, the other is told the address has an account (ErrExists), not a failure.
func TestCreateUserConcurrently(t *testing.T) {
	eachEngine(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		const n = 8
		errs := make([]error, n)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range n {
			wg.Go(func() {
				<-start
				_, errs[i] = db.CreateUser(ctx, governance.User{Email: "Samme@org.test", Navn: fmt.Sprint(i)}, "x",
					[]governance.Membership{{Org: "310000092", Role: governance.Utvikler}}, "test")
			})
		}
		close(start)
		wg.Wait()
		made := 0
		for i, err := range errs {
			switch {
			case err == nil:
				made++
			case !errors.Is(err, ErrExists):
				t.Fatalf("request %d: %v", i, err)
			}
		}
		if made != 1 {
			t.Fatalf("%d accounts made", made)
		}
	})
}

// The unique violation of either engine is recognised, so that a lost race answers ErrExists.
func TestCreateUserUniqueViolation(t *testing.T) {
	eachEngine(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		insert := func() error {
			_, err := db.write.ExecContext(ctx, `INSERT INTO users (id, email, navn, password_hash, pid, created_at) VALUES ($1, 'dup@org.test', 'x', 'x', '', 0)`, newID())
			return err
		}
		if err := insert(); err != nil || uniqueViolation(err) {
			t.Fatal(err)
		}
		if err := insert(); !uniqueViolation(fmt.Errorf("wrapped: %w", err)) {
			t.Fatalf("not recognised as a unique violation: %v", err)
		}
		if _, err := db.write.ExecContext(ctx, `INSERT INTO no_such_table VALUES (1)`); uniqueViolation(err) {
			t.Fatalf("another error taken for a unique violation: %v", err)
		}
	})
}

// The race itself, made to happen on PostgreSQL: the address is inserted but
// not committed, CreateUser counts no account and waits at its INSERT; the
// commit makes that INSERT fail with a unique violation, answered as ErrExists.
// (SQLite's writers take turns, so there the count always sees the account.)
func TestCreateUserLosesRace(t *testing.T) {
	eachEngine(t, func(t *testing.T, db *DB) {
		if db.engine != Postgres {
			t.Skip("SQLite's writers take turns")
		}
		ctx := context.Background()
		tx, err := db.write.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		if _, err := tx.ExecContext(ctx, `INSERT INTO users (id, email, navn, password_hash, pid, created_at) VALUES ($1, 'race@org.test', 'x', 'x', '', 0)`, newID()); err != nil {
			t.Fatal(err)
		}
		done := make(chan error)
		go func() {
			_, err := db.CreateUser(ctx, governance.User{Email: "race@org.test", Navn: "y"}, "x", nil, "test")
			done <- err
		}()
		// Wait until CreateUser waits for the uncommitted row's lock (it has counted no account).
		for {
			var waiting int
			if err := db.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&waiting); err != nil {
				t.Fatal(err)
			}
			if waiting > 0 {
				break
			}
			select {
			case err := <-done:
				t.Fatalf("CreateUser ended before the race: %v", err)
			case <-time.After(5 * time.Millisecond):
			}
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		if err := <-done; !errors.Is(err, ErrExists) {
			t.Fatalf("the loser of the race: %v, want ErrExists", err)
		}
	})
}

// Issue 16, item 5: the register never has zero forvalters — neither by a
// role taken away (also two at once) nor by an account closed — and other
// staff roles and accounts go freely.
func TestKeepOneForvalter(t *testing.T) {
	eachEngine(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		org := governance.AuthorityOrg
		mk := func(email string, roles ...governance.Role) governance.User {
			var ms []governance.Membership
			for _, r := range roles {
				ms = append(ms, governance.Membership{Org: org, Role: r})
			}
			u, err := db.CreateUser(ctx, governance.User{Email: email, Navn: email}, "x", ms, "test")
			if err != nil {
				t.Fatal(err)
			}
			return u
		}
		a := mk("a@register.test", governance.Forvalter, governance.Saksbehandler)
		b := mk("b@register.test", governance.Forvalter)
		cw := mk("cw@register.test", governance.Saksbehandler)
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i, u := range []governance.User{a, b} {
			wg.Go(func() { errs[i] = db.RemoveMembership(ctx, u.ID, org, governance.Forvalter, "user:x") })
		}
		wg.Wait()
		if (errs[0] == nil) == (errs[1] == nil) || !(errors.Is(errs[0], ErrLastManager) || errors.Is(errs[1], ErrLastManager)) {
			t.Fatalf("two concurrent removals of forvalter: %v, %v", errs[0], errs[1])
		}
		left := b
		if errs[1] == nil {
			left = a
		}
		if err := db.RemoveMembership(ctx, left.ID, org, governance.Forvalter, "user:x"); !errors.Is(err, ErrLastManager) {
			t.Fatalf("the last forvalter's role removed: %v", err)
		}
		if err := db.DisableUser(ctx, left.ID, "user:x"); !errors.Is(err, ErrLastManager) {
			t.Fatalf("the last forvalter's account closed: %v", err)
		}
		if u, err := db.User(ctx, left.ID); err != nil || u.Disabled {
			t.Fatalf("refused closing changed the account: %+v, %v", u, err)
		}
		if ms, _ := db.Memberships(ctx, left.ID); !governance.Has(ms, org, governance.Forvalter) {
			t.Fatal("refused removal took the role")
		}
		// A case worker's account closes freely; with a second forvalter the first may go.
		if err := db.DisableUser(ctx, cw.ID, "user:x"); err != nil {
			t.Fatal(err)
		}
		c := mk("c@register.test", governance.Forvalter)
		if err := db.DisableUser(ctx, left.ID, "user:x"); err != nil {
			t.Fatalf("with another forvalter: %v", err)
		}
		if err := db.RemoveMembership(ctx, c.ID, org, governance.Forvalter, "user:x"); !errors.Is(err, ErrLastManager) {
			t.Fatalf("the last forvalter, the other closed: %v", err)
		}
	})
}

// Issue 16, item 5: a staff account's roles set in one go, each change an
// event; a set that would leave no forvalter changes nothing; only staff
// accounts, only staff roles.
func TestSetStaffRoles(t *testing.T) {
	eachEngine(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		org := governance.AuthorityOrg
		fv, err := db.CreateUser(ctx, governance.User{Email: "fv@register.test", Navn: "F"}, "x", []governance.Membership{{Org: org, Role: governance.Forvalter}}, "test")
		if err != nil {
			t.Fatal(err)
		}
		cw, err := db.CreateUser(ctx, governance.User{Email: "cw@register.test", Navn: "C"}, "x", []governance.Membership{{Org: org, Role: governance.Saksbehandler}}, "test")
		if err != nil {
			t.Fatal(err)
		}
		dev, err := db.CreateUser(ctx, governance.User{Email: "dev@org.test", Navn: "D"}, "x", []governance.Membership{{Org: "310000091", Role: governance.Utvikler}}, "test")
		if err != nil {
			t.Fatal(err)
		}
		roles := func(id string) []governance.Role {
			ms, _ := db.Memberships(ctx, id)
			var out []governance.Role
			for _, m := range ms {
				out = append(out, m.Role)
			}
			return out
		}
		if err := db.SetStaffRoles(ctx, cw.ID, []governance.Role{governance.Personvernombud, governance.Forvalter}, "user:"+fv.ID); err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprint(roles(cw.ID)); got != "[forvalter personvernombud]" {
			t.Fatalf("roles after setting: %s", got)
		}
		// The first forvalter gives up the role: allowed, with another left; then the other may not.
		if err := db.SetStaffRoles(ctx, fv.ID, []governance.Role{governance.Saksbehandler}, "user:"+fv.ID); err != nil {
			t.Fatal(err)
		}
		if err := db.SetStaffRoles(ctx, cw.ID, []governance.Role{governance.Saksbehandler, governance.Personvernombud}, "user:"+cw.ID); !errors.Is(err, ErrLastManager) {
			t.Fatalf("the last forvalter's role set away: %v", err)
		}
		if got := fmt.Sprint(roles(cw.ID)); got != "[forvalter personvernombud]" {
			t.Fatalf("a refused change changed roles: %s", got)
		}
		if err := db.SetStaffRoles(ctx, dev.ID, []governance.Role{governance.Saksbehandler}, "test"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("a consumer's account made staff: %v", err)
		}
		if err := db.SetStaffRoles(ctx, cw.ID, []governance.Role{governance.Administrator}, "test"); err == nil {
			t.Fatal("a consumer role given as a staff role")
		}
		if err := db.SetStaffRoles(ctx, cw.ID, nil, "test"); err == nil {
			t.Fatal("no roles at all")
		}
		// Each change is an event: two added and one removed for cw, one each way for fv.
		n := 0
		for _, e := range events(t, db, org, audit.KindUserRole) {
			if e["user"] == cw.ID || e["user"] == fv.ID {
				n++
			}
		}
		if n != 5 {
			t.Fatalf("%d role events, want 5", n)
		}
	})
}

// Rule AA-27 (and issue 16, item 5): two accounts that manage an
// organisation's accounts closed at the same moment leave one of them —
// at the register (forvalters) and at an organisation (administrators).
// On PostgreSQL, locking the membership rows alone let both pass.
func TestConcurrentDisableKeepsOneManager(t *testing.T) {
	eachEngine(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		left := map[string]string{} // per organisation, the manager left by the round before
		for round := range 30 {
			org, role := governance.AuthorityOrg, governance.Forvalter
			if round%2 == 1 {
				org, role = "310000091", governance.Administrator
			}
			var us [2]governance.User
			for i := range us {
				u, err := db.CreateUser(ctx, governance.User{Email: fmt.Sprintf("m%d-%d@race.test", round, i), Navn: "M"},
					"x", []governance.Membership{{Org: org, Role: role}}, "test")
				if err != nil {
					t.Fatal(err)
				}
				us[i] = u
			}
			if id := left[org]; id != "" { // exactly two managers race
				if err := db.DisableUser(ctx, id, "user:x"); err != nil {
					t.Fatal(err)
				}
			}
			var wg sync.WaitGroup
			errs := make([]error, 2)
			start := make(chan struct{})
			for i, u := range us {
				wg.Go(func() { <-start; errs[i] = db.DisableUser(ctx, u.ID, "user:x") })
			}
			close(start)
			wg.Wait()
			if (errs[0] == nil) == (errs[1] == nil) || !(errors.Is(errs[0], ErrLastManager) || errors.Is(errs[1], ErrLastManager)) {
				t.Fatalf("round %d (%s): two concurrent closings: %v, %v", round, org, errs[0], errs[1])
			}
			left[org] = us[0].ID
			if errs[0] == nil {
				left[org] = us[1].ID
			}
		}
	})
}

// Rule AA-27: closing an account keeps every organisation it manages
// managed — a staff account that is also an organisation's only
// administrator is not closed, and the refusal names the organisation.
func TestDisableUserKeepsOrganisationManaged(t *testing.T) {
	eachEngine(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		const org = "310000091"
		mk := func(email string, ms ...governance.Membership) governance.User {
			u, err := db.CreateUser(ctx, governance.User{Email: email, Navn: email}, "x", ms, "test")
			if err != nil {
				t.Fatal(err)
			}
			return u
		}
		mk("f@register.test", governance.Membership{Org: governance.AuthorityOrg, Role: governance.Forvalter})
		both := mk("both@register.test", governance.Membership{Org: governance.AuthorityOrg, Role: governance.Forvalter},
			governance.Membership{Org: org, Role: governance.Administrator})
		err := db.DisableUser(ctx, both.ID, "user:x")
		if lm, ok := errors.AsType[*LastManagerError](err); !ok || lm.Org != org || !errors.Is(err, ErrConflict) {
			t.Fatalf("the organisation's only administrator closed: %v", err)
		}
		if u, err := db.User(ctx, both.ID); err != nil || u.Disabled {
			t.Fatalf("a refused closing changed the account: %+v, %v", u, err)
		}
		mk("lead@org.test", governance.Membership{Org: org, Role: governance.Rolleinnehaver})
		if err := db.DisableUser(ctx, both.ID, "user:x"); err != nil {
			t.Fatalf("with a role holder left: %v", err)
		}
	})
}

// Issue 16, item 5 (review): a password chosen by someone else must be
// changed at the next sign-in; every change ends the account's older
// sessions (password_gen); a closed account's password is not set; a closed
// staff account is listed apart and can be opened again, roles and all.
func TestSetPasswordAndEnableUser(t *testing.T) {
	eachEngine(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		org := governance.AuthorityOrg
		u, err := db.CreateUser(ctx, governance.User{Email: "ny@register.test", Navn: "Ny", MustChangePassword: true}, "h0",
			[]governance.Membership{{Org: org, Role: governance.Saksbehandler}}, "user:fv")
		if err != nil {
			t.Fatal(err)
		}
		got, hash, err := db.UserByEmail(ctx, u.Email)
		if err != nil || !got.MustChangePassword || got.PasswordGen != 0 || hash != "h0" {
			t.Fatalf("a new account: %+v %q %v", got, hash, err)
		}
		gen, err := db.SetPassword(ctx, u.ID, "h1", false, "user:"+u.ID)
		if err != nil || gen != 1 {
			t.Fatalf("the owner's change: %d %v", gen, err)
		}
		if got, hash, _ = db.UserByEmail(ctx, u.Email); got.MustChangePassword || got.PasswordGen != 1 || hash != "h1" {
			t.Fatalf("after the change: %+v %q", got, hash)
		}
		if gen, err = db.SetPassword(ctx, u.ID, "h2", true, "user:fv"); err != nil || gen != 2 {
			t.Fatalf("a reset: %d %v", gen, err)
		}
		if got, _ := db.User(ctx, u.ID); !got.MustChangePassword || got.PasswordGen != 2 {
			t.Fatalf("after a reset: %+v", got)
		}
		if err := db.DisableUser(ctx, u.ID, "user:fv"); err != nil {
			t.Fatal(err)
		}
		if _, err := db.SetPassword(ctx, u.ID, "h3", true, "user:fv"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("a closed account's password: %v", err)
		}
		if _, hash, _ := db.UserByEmail(ctx, u.Email); hash != "h2" {
			t.Fatalf("a refused change changed the hash: %q", hash)
		}
		closed, err := db.ClosedOrgMembers(ctx, org)
		if err != nil || len(closed) != 1 || closed[0].User.ID != u.ID {
			t.Fatalf("closed staff: %+v %v", closed, err)
		}
		if err := db.EnableUser(ctx, u.ID, "user:fv"); err != nil {
			t.Fatal(err)
		}
		if err := db.EnableUser(ctx, u.ID, "user:fv"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("an open account opened again: %v", err)
		}
		if ms, _ := db.OrgMembers(ctx, org); len(ms) != 1 || ms[0].User.ID != u.ID || ms[0].Roles[0].Role != governance.Saksbehandler {
			t.Fatalf("reactivated with its roles: %+v", ms)
		}
		recs, err := db.AuditRecords(ctx, "", 1000)
		if err != nil {
			t.Fatal(err)
		}
		var changes []string
		for _, r := range recs {
			if r.Kind == audit.KindUserRole && strings.Contains(string(r.Event), u.ID) {
				var e map[string]string
				json.Unmarshal(r.Event, &e)
				changes = append(changes, e["change"])
			}
		}
		if got := strings.Join(changes, " "); got != "password-changed password-reset disabled enabled" {
			t.Fatalf("events: %s", got)
		}
	})
}

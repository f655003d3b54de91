package store

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"deling/internal/governance"
)

// A person signing in with ID-porten: linked to the account holding their
// fødselsnummer, or given a new person account at the first sign-in — one,
// also when two first sign-ins race; an identity linked to another
// fødselsnummer or a disabled account signs nobody in (issue 16, item 6).
func TestSignInPerson(t *testing.T) {
	eachEngine(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		const iss = "https://idporten.test"
		const pidA, pidB = "01010112345", "02020212345"
		local, err := db.CreateUser(ctx, governance.User{Email: "a@person.test", Navn: "A", PID: pidA}, "x",
			[]governance.Membership{{Role: governance.Person}}, "test")
		if err != nil {
			t.Fatal(err)
		}
		u, created, err := db.SignInPerson(ctx, Identity{iss, "sub-a"}, pidA)
		if err != nil || created || u.ID != local.ID {
			t.Fatalf("an existing person account: %+v created=%v %v", u, created, err)
		}
		// The second time by the identity's link.
		if u, _, err := db.SignInPerson(ctx, Identity{iss, "sub-a"}, pidA); err != nil || u.ID != local.ID {
			t.Fatalf("again: %v %v", u.ID, err)
		}
		// The same identity vouching for another fødselsnummer is refused.
		if _, _, err := db.SignInPerson(ctx, Identity{iss, "sub-a"}, pidB); !errors.Is(err, ErrConflict) {
			t.Fatalf("identity with another pid: %v", err)
		}
		// Two first sign-ins of a new person at once: one account, one link.
		const n = 6
		ids, errs := make([]string, n), make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				var u governance.User
				u, _, errs[i] = db.SignInPerson(ctx, Identity{iss, "sub-b"}, pidB)
				ids[i] = u.ID
			})
		}
		wg.Wait()
		for i := range n {
			if errs[i] != nil || ids[i] != ids[0] {
				t.Fatalf("concurrent first sign-ins: %v %v", ids, errs)
			}
		}
		var accounts int
		if err := db.write.QueryRowContext(ctx, `SELECT COUNT(*) FROM users WHERE pid = $1`, pidB).Scan(&accounts); err != nil || accounts != 1 {
			t.Fatalf("accounts for the new person: %d %v", accounts, err)
		}
		nu, err := db.User(ctx, ids[0])
		if err != nil || nu.PID != pidB || !strings.HasSuffix(nu.Email, NoEmailDomain) {
			t.Fatalf("the new account: %+v %v", nu, err)
		}
		ms, err := db.Memberships(ctx, nu.ID)
		if err != nil || len(ms) != 1 || ms[0].Role != governance.Person || ms[0].Org != "" {
			t.Fatalf("the new account's roles: %+v %v", ms, err)
		}
		// A disabled account is not signed in, by link or by pid.
		if err := db.DisableUser(ctx, local.ID, "test"); err != nil {
			t.Fatal(err)
		}
		if _, _, err := db.SignInPerson(ctx, Identity{iss, "sub-a"}, pidA); !errors.Is(err, ErrConflict) {
			t.Fatalf("disabled, by link: %v", err)
		}
		if _, _, err := db.SignInPerson(ctx, Identity{iss, "sub-a2"}, pidA); !errors.Is(err, ErrConflict) {
			t.Fatalf("disabled, by pid: %v", err)
		}
		if _, _, err := db.SignInPerson(ctx, Identity{iss, ""}, pidA); err == nil {
			t.Fatal("an identity without a subject was accepted")
		}
	})
}

// The register's staff: an account linked by the forvalter, or found by a
// verified e-mail address, holding a role at the register; nobody else, and
// no account is ever made (issue 16, item 6: deny by default).
func TestSignInStaff(t *testing.T) {
	eachEngine(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		const iss = "https://login.entra.test/tenant/v2.0"
		mk := func(email string, m governance.Membership) governance.User {
			u, err := db.CreateUser(ctx, governance.User{Email: email, Navn: email}, "x", []governance.Membership{m}, "test")
			if err != nil {
				t.Fatal(err)
			}
			return u
		}
		cw := mk("cw@register.test", governance.Membership{Org: governance.AuthorityOrg, Role: governance.Saksbehandler})
		fv := mk("fv@register.test", governance.Membership{Org: governance.AuthorityOrg, Role: governance.Forvalter})
		consumerAdmin := mk("admin@org.test", governance.Membership{Org: "310000092", Role: governance.Administrator})

		// Unknown identity, no verified address: refused, nothing stored.
		if _, err := db.SignInStaff(ctx, Identity{iss, "sub-cw"}, ""); !errors.Is(err, ErrNotFound) {
			t.Fatalf("unknown staff: %v", err)
		}
		var links int
		count := func() int {
			if err := db.write.QueryRowContext(ctx, `SELECT COUNT(*) FROM user_identities`).Scan(&links); err != nil {
				t.Fatal(err)
			}
			return links
		}
		if count() != 0 {
			t.Fatal("a refused sign-in linked an identity")
		}
		// A verified address of an account without a role at the register: refused.
		if _, err := db.SignInStaff(ctx, Identity{iss, "sub-admin"}, consumerAdmin.Email); !errors.Is(err, ErrNotFound) {
			t.Fatalf("a consumer's administrator through the staff provider: %v", err)
		}
		// A verified address of a case worker: linked; then found by the link alone.
		if u, err := db.SignInStaff(ctx, Identity{iss, "sub-cw"}, "CW@register.test"); err != nil || u.ID != cw.ID {
			t.Fatalf("by verified e-mail: %v %v", u.ID, err)
		}
		if u, err := db.SignInStaff(ctx, Identity{iss, "sub-cw"}, ""); err != nil || u.ID != cw.ID {
			t.Fatalf("by link: %v %v", u.ID, err)
		}
		// Linked by the forvalter (deling user link); twice is ErrExists; an unknown account ErrNotFound.
		if err := db.LinkIdentity(ctx, fv.ID, Identity{iss, "sub-fv"}, "cli"); err != nil {
			t.Fatal(err)
		}
		if err := db.LinkIdentity(ctx, cw.ID, Identity{iss, "sub-fv"}, "cli"); !errors.Is(err, ErrExists) {
			t.Fatalf("an identity linked twice: %v", err)
		}
		if err := db.LinkIdentity(ctx, "nobody", Identity{iss, "sub-x"}, "cli"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("link to no account: %v", err)
		}
		if u, err := db.SignInStaff(ctx, Identity{iss, "sub-fv"}, ""); err != nil || u.ID != fv.ID {
			t.Fatalf("linked by the forvalter: %v %v", u.ID, err)
		}
		// A disabled account signs in no more.
		if err := db.DisableUser(ctx, cw.ID, "test"); err != nil {
			t.Fatal(err)
		}
		if _, err := db.SignInStaff(ctx, Identity{iss, "sub-cw"}, ""); !errors.Is(err, ErrNotFound) {
			t.Fatalf("disabled: %v", err)
		}
		if count() != 2 {
			t.Fatalf("identities linked: %d, want 2", links)
		}
	})
}

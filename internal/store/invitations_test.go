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

// lifeLetter is an invitation's letter: the kind of link and the name greeted, for tests to read.
func lifeLetter(setPassword bool, navn string) governance.Letter {
	return governance.Letter{Subject: "Invitasjon", Body: fmt.Sprintf("Hei %s, passord: %v", navn, setPassword)}
}

// lifeInvite invites email to role for org with the token hash, a week's link and a limit of 50.
func lifeInvite(t *testing.T, db *DB, org, email string, role governance.Role, hash string) (InviteOutcome, error) {
	t.Helper()
	return db.InviteUser(context.Background(), Invitation{User: governance.User{Email: email, Navn: "Ny Bruker"}, Org: org, Role: role,
		TokenHash: hash, ExpiresAt: db.now().Add(7 * 24 * time.Hour), Limit: 50, Letter: lifeLetter}, "user:admin")
}

// lifeMail lists the pending letters to an address.
func lifeMail(t *testing.T, db *DB, to string) []governance.Letter {
	t.Helper()
	ms, err := db.PendingMail(context.Background(), 1000, 5)
	if err != nil {
		t.Fatal(err)
	}
	var out []governance.Letter
	for _, m := range ms {
		if m.To == to {
			out = append(out, m)
		}
	}
	return out
}

// Rule AA-27: a new user sets a password once, through a link that expires, and holds the role only then.
func TestInviteAndActivate(t *testing.T) {
	eachEngine(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		clock := lifeMovableClock(db)
		const org = "310000051"
		if out, err := lifeInvite(t, db, org, "Ny@Org.test", governance.Utvikler, "hash1"); err != nil || out != InviteSetPassword {
			t.Fatalf("invite: %v %v", out, err)
		}
		u, hash, err := db.UserByEmail(ctx, "ny@org.test")
		if err != nil || governance.VerifyPassword(hash, "") == nil || !strings.HasPrefix(hash, "!") {
			t.Fatalf("an invited account has a usable password: %v", err)
		}
		// No role before the person takes it.
		if ms, _ := db.Memberships(ctx, u.ID); len(ms) != 0 {
			t.Fatalf("roles before activation: %+v", ms)
		}
		if ms, _ := db.OrgMembers(ctx, org); len(ms) != 0 {
			t.Fatalf("listed before activation: %+v", ms)
		}
		mails := lifeMail(t, db, "ny@org.test")
		if len(mails) != 1 || mails[0].Kind != governance.LetterActivation || mails[0].Consumer != "" || !strings.Contains(mails[0].Body, "passord: true") {
			t.Fatalf("letters %+v", mails)
		}
		if p, err := db.InvitationByToken(ctx, "hash1"); err != nil || p.User.ID != u.ID || !p.SetPassword || p.Org != org || p.Role != governance.Utvikler {
			t.Fatalf("invitation %+v %v", p, err)
		}
		if _, err := db.InvitationByToken(ctx, "other"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("unknown token: %v", err)
		}
		if _, err := db.Activate(ctx, "hash1", "newhash"); err != nil {
			t.Fatal(err)
		}
		if _, hash, _ := db.UserByEmail(ctx, "ny@org.test"); hash != "newhash" {
			t.Fatalf("password hash %q", hash)
		}
		if ms, _ := db.Memberships(ctx, u.ID); !governance.Has(ms, org, governance.Utvikler) || len(ms) != 1 {
			t.Fatalf("roles after activation: %+v", ms)
		}
		if _, err := db.Activate(ctx, "hash1", "again"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("a used token worked again: %v", err)
		}
		if _, err := db.InvitationByToken(ctx, "hash1"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("a used link still offers something: %v", err)
		}
		// An expired link does nothing; inviting the address again issues a new link that works.
		if _, err := lifeInvite(t, db, org, "sen@org.test", governance.Oppslagsbruker, "hash2"); err != nil {
			t.Fatal(err)
		}
		clock.advance(7 * 24 * time.Hour)
		if _, err := db.Activate(ctx, "hash2", "late"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("an expired token worked: %v", err)
		}
		if out, err := lifeInvite(t, db, org, "sen@org.test", governance.Oppslagsbruker, "hash3"); err != nil || out != InviteSetPassword {
			t.Fatalf("invite again: %v %v", out, err)
		}
		if n := len(lifeMail(t, db, "sen@org.test")); n != 2 {
			t.Fatalf("%d letters after the second invitation", n)
		}
		if got, err := db.Activate(ctx, "hash3", "ontime"); err != nil || !governance.Has(mustMemberships(t, db, got.ID), org, governance.Oppslagsbruker) {
			t.Fatalf("the new link: %v", err)
		}
		ev := lifeEvents(t, db, org, audit.KindUserAdded)
		if len(ev) != 2 {
			t.Fatalf("%d user.added events", len(ev))
		}
		var e map[string]any
		json.Unmarshal(ev[0].Event, &e)
		if e["invited"] != true || e["role"] != string(governance.Utvikler) {
			t.Fatalf("event %s", ev[0].Event)
		}
	})
}

func mustMemberships(t *testing.T, db *DB, id string) []governance.Membership {
	t.Helper()
	ms, err := db.Memberships(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return ms
}

// Rule AA-27: an activation link sets a password once, also when it is used by many requests at the same moment.
func TestActivateConcurrently(t *testing.T) {
	eachEngine(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		if _, err := lifeInvite(t, db, "310000052", "samtidig@org.test", governance.Utvikler, "race"); err != nil {
			t.Fatal(err)
		}
		const n = 8
		errs := make([]error, n)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range n {
			wg.Go(func() {
				<-start
				_, errs[i] = db.Activate(ctx, "race", fmt.Sprintf("hash%d", i))
			})
		}
		close(start)
		wg.Wait()
		won := -1
		for i, err := range errs {
			switch {
			case err == nil && won >= 0:
				t.Fatalf("requests %d and %d both set the password", won, i)
			case err == nil:
				won = i
			case !errors.Is(err, ErrNotFound):
				t.Fatalf("request %d: %v", i, err)
			}
		}
		if won < 0 {
			t.Fatal("no request set the password")
		}
		if _, hash, _ := db.UserByEmail(ctx, "samtidig@org.test"); hash != fmt.Sprintf("hash%d", won) {
			t.Fatalf("password hash %q, want the winner's (%d)", hash, won)
		}
		activated := 0
		for _, e := range lifeEvents(t, db, "", audit.KindUserRole) {
			if strings.Contains(string(e.Event), `"activated"`) {
				activated++
			}
		}
		if activated != 1 {
			t.Fatalf("%d activation events", activated)
		}
	})
}

// Rule AA-27: an administrator cannot attach someone's existing account to
// the organisation: the account holder accepts through the link mailed to
// them. Blocked accounts, persons and the register's staff get nothing, and
// every attempt counts against the daily limit.
func TestInviteExistingAccount(t *testing.T) {
	eachEngine(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		const org, other = "310000061", "310000062"
		mk := func(email string, pid string, m governance.Membership) governance.User {
			u, err := db.CreateUser(ctx, governance.User{Email: email, Navn: "Lagret Navn", PID: pid}, "$argon2id$x", []governance.Membership{m}, "test")
			if err != nil {
				t.Fatal(err)
			}
			return u
		}
		dev := mk("dev@other.test", "", governance.Membership{Org: other, Role: governance.Utvikler})
		person := mk("person@home.test", "01017012345", governance.Membership{Org: "", Role: governance.Person})
		staff := mk("sb@register.test", "", governance.Membership{Org: governance.AuthorityOrg, Role: governance.Saksbehandler})
		blocked := mk("blocked@other.test", "", governance.Membership{Org: other, Role: governance.Utvikler})
		if err := db.DisableUser(ctx, blocked.ID, "test"); err != nil {
			t.Fatal(err)
		}
		member := mk("member@org.test", "", governance.Membership{Org: org, Role: governance.Oppslagsbruker})

		if out, err := lifeInvite(t, db, org, "DEV@other.test", governance.Oppslagsbruker, "dev"); err != nil || out != InviteAccept {
			t.Fatalf("existing account: %v %v", out, err)
		}
		// Not attached: no role, not listed, until its holder accepts.
		if ms := mustMemberships(t, db, dev.ID); governance.Has(ms, org, governance.Oppslagsbruker) {
			t.Fatal("an existing account got the role without its holder's consent")
		}
		if ms, _ := db.OrgMembers(ctx, org); len(ms) != 1 || ms[0].User.ID != member.ID {
			t.Fatalf("members before acceptance: %+v", ms)
		}
		mails := lifeMail(t, db, "dev@other.test")
		if len(mails) != 1 || !strings.Contains(mails[0].Body, "passord: false") || mails[0].Consumer != "" {
			t.Fatalf("letters %+v", mails)
		}
		if p, err := db.InvitationByToken(ctx, "dev"); err != nil || p.SetPassword || p.Org != org || p.User.ID != dev.ID {
			t.Fatalf("invitation %+v %v", p, err)
		}
		if _, err := db.Activate(ctx, "dev", "takeover"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("an invitation to an account with a password set its password: %v", err)
		}
		if m, err := db.AcceptInvitation(ctx, "dev"); err != nil || m.UserID != dev.ID || m.Org != org || m.Role != governance.Oppslagsbruker {
			t.Fatalf("accept: %+v %v", m, err)
		}
		if ms := mustMemberships(t, db, dev.ID); !governance.Has(ms, org, governance.Oppslagsbruker) || !governance.Has(ms, other, governance.Utvikler) {
			t.Fatalf("roles after acceptance %+v", ms)
		}
		if _, err := db.AcceptInvitation(ctx, "dev"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("accepted twice: %v", err)
		}

		// Refused in silence: no letter, no link, no role.
		for _, c := range []struct {
			email string
			id    string
		}{{"person@home.test", person.ID}, {"sb@register.test", staff.ID}, {"blocked@other.test", blocked.ID}, {"member@org.test", member.ID}} {
			out, err := lifeInvite(t, db, org, c.email, governance.Oppslagsbruker, "refused-"+c.email)
			if err != nil || out != InviteRefused {
				t.Fatalf("%s: %v %v", c.email, out, err)
			}
			if m := lifeMail(t, db, c.email); len(m) != 0 {
				t.Fatalf("%s got a letter: %+v", c.email, m)
			}
			if _, err := db.InvitationByToken(ctx, "refused-"+c.email); !errors.Is(err, ErrNotFound) {
				t.Fatalf("%s: a refused invitation's link works: %v", c.email, err)
			}
			if _, err := db.AcceptInvitation(ctx, "refused-"+c.email); !errors.Is(err, ErrNotFound) {
				t.Fatalf("%s: a refused invitation was accepted: %v", c.email, err)
			}
			if ms := mustMemberships(t, db, c.id); len(ms) != 1 {
				t.Fatalf("%s: roles %+v", c.email, ms)
			}
		}
		// An account blocked after the invitation cannot accept it.
		late := mk("late@other.test", "", governance.Membership{Org: other, Role: governance.Utvikler})
		if _, err := lifeInvite(t, db, org, "late@other.test", governance.Utvikler, "late"); err != nil {
			t.Fatal(err)
		}
		db.DisableUser(ctx, late.ID, "test")
		if _, err := db.AcceptInvitation(ctx, "late"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("a blocked account accepted: %v", err)
		}

		// The daily limit counts every attempt, refused or not (6 so far), and is per organisation.
		for i := 6; i < 50; i++ {
			if _, err := lifeInvite(t, db, org, fmt.Sprintf("n%d@org.test", i), governance.Utvikler, fmt.Sprintf("n%d", i)); err != nil {
				t.Fatalf("invitation %d: %v", i, err)
			}
		}
		if _, err := lifeInvite(t, db, org, "member@org.test", governance.Oppslagsbruker, "over1"); !errors.Is(err, ErrLimit) {
			t.Fatalf("the 51st invitation (refused in silence): %v", err)
		}
		if _, err := lifeInvite(t, db, org, "ny51@org.test", governance.Utvikler, "over2"); !errors.Is(err, ErrLimit) {
			t.Fatalf("the 51st invitation: %v", err)
		}
		if _, _, err := db.UserByEmail(ctx, "ny51@org.test"); !errors.Is(err, ErrNotFound) {
			t.Fatal("an invitation over the limit made an account")
		}
		if _, err := lifeInvite(t, db, other, "ny51@org.test", governance.Utvikler, "other-org"); err != nil {
			t.Fatalf("another organisation's invitation: %v", err)
		}
		lifeMovableClock(db).advance(invitationWindow)
		if _, err := lifeInvite(t, db, org, "ny52@org.test", governance.Utvikler, "next-day"); err != nil {
			t.Fatalf("the next day: %v", err)
		}
	})
}

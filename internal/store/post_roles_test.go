package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"deling/internal/access"
	"deling/internal/governance"
	"deling/internal/ident"
	"deling/internal/post"
	"deling/internal/register"
)

// postUser makes an active portal user of org with roles and, when codes
// are given, the Enhetsregisteret role codes recorded for them there.
func postUser(t *testing.T, db *DB, email string, org ident.Orgnr, codes []post.RoleCode, roles ...governance.Role) string {
	t.Helper()
	ctx := context.Background()
	var ms []governance.Membership
	for _, r := range roles {
		ms = append(ms, governance.Membership{Org: string(org), Role: r})
	}
	u, err := db.CreateUser(ctx, governance.User{Email: email, Navn: email}, "", ms, "test")
	if err != nil {
		t.Fatal(err)
	}
	if codes != nil {
		if err := db.SetPostRoleCodes(ctx, u.ID, org, codes, "staff"); err != nil {
			t.Fatal(err)
		}
	}
	return u.ID
}

// reads reports whether userID, acting for acting, reads org's ordinary
// and confidential post now, as the store builds the reader.
func reads(t *testing.T, db *DB, userID string, acting, org ident.Orgnr) (ordinary, confidential bool) {
	t.Helper()
	v, err := db.PostViewer(context.Background(), userID, acting, org)
	if err != nil {
		t.Fatal(err)
	}
	return post.MayRead(v, org, post.Readable{Recipient: org, Status: post.StatusPublished}),
		post.MayRead(v, org, post.Readable{Recipient: org, Status: post.StatusPublished, Confidential: true})
}

// Rule DPV-03: the key roles are Enhetsregisteret's role codes recorded on
// a user's link to an organisation: DAGL, LEDE, INNH, DTPR, DTSO, KOMP and
// BEST read confidential post too, the other key roles (PRIV, BOBE, …)
// ordinary post, other roles (MEDL) none; a role holder made since the
// codes are kept holds the codes recorded for them and nothing else (the
// stand-in for DAGL is TestPostRoleHolderStandIn_DPV03's). Bad codes or a
// user who is not the organisation's are refused with nothing changed.
func TestPostRoleCodes_DPV03(t *testing.T) {
	eachPostEngine(t, func(t *testing.T, db *DB, clock *postClock) {
		ctx := context.Background()
		org := postRecipA
		lede := postUser(t, db, "lede@a.example", org, []post.RoleCode{"LEDE"}, governance.Oppslagsbruker)
		priv := postUser(t, db, "priv@a.example", org, []post.RoleCode{"PRIV"}, governance.Oppslagsbruker)
		medl := postUser(t, db, "medl@a.example", org, []post.RoleCode{"MEDL"}, governance.Oppslagsbruker)
		holder := postUser(t, db, "holder@a.example", org, nil, governance.Rolleinnehaver)
		recorded := postUser(t, db, "recorded@a.example", org, []post.RoleCode{"MEDL"}, governance.Rolleinnehaver)
		for _, c := range []struct {
			who                    string
			user                   string
			ordinary, confidential bool
		}{
			{"styrets leder", lede, true, true},
			{"kontaktperson ADOS: a key role, not for confidential post", priv, true, false},
			{"styremedlem: no key role", medl, false, false},
			{"role holder made since the codes are kept, none recorded: nothing", holder, false, false},
			{"role holder whose codes are recorded holds those alone", recorded, false, false},
		} {
			if o, conf := reads(t, db, c.user, org, org); o != c.ordinary || conf != c.confidential {
				t.Errorf("%s: ordinary %v confidential %v, want %v %v", c.who, o, conf, c.ordinary, c.confidential)
			}
		}
		// Not the organisation's user: reads nothing there, whatever is recorded elsewhere.
		if o, _ := reads(t, db, lede, postRecipB, postRecipB); o {
			t.Error("a key role in one organisation reads another's post")
		}
		// Refusals leave the recorded codes as they were.
		if err := db.SetPostRoleCodes(ctx, lede, org, []post.RoleCode{"DAGL", "XXXX"}, "staff"); !errors.Is(err, ErrConflict) {
			t.Errorf("an unknown code: %v", err)
		}
		if err := db.SetPostRoleCodes(ctx, lede, postRecipB, []post.RoleCode{"DAGL"}, "staff"); !errors.Is(err, ErrNotFound) {
			t.Errorf("codes for an organisation the user is no user of: %v", err)
		}
		if err := db.SetPostRoleCodes(ctx, lede, "123", []post.RoleCode{"DAGL"}, "staff"); err == nil {
			t.Error("an invalid organisation number accepted")
		}
		if codes, err := db.PostRoleCodes(ctx, org); err != nil || !slices.Equal(codes[lede], []post.RoleCode{"LEDE"}) {
			t.Fatalf("codes after refusals: %v %v", codes[lede], err)
		}
		// Codes taken away: the key role goes at once.
		if err := db.SetPostRoleCodes(ctx, lede, org, nil, "staff"); err != nil {
			t.Fatal(err)
		}
		if o, _ := reads(t, db, lede, org, org); o {
			t.Error("reads after the key role was taken away")
		}
		// A closed account reads nothing.
		if err := db.DisableUser(ctx, priv, "staff"); err != nil {
			t.Fatal(err)
		}
		if o, _ := reads(t, db, priv, org, org); o {
			t.Error("a closed account reads")
		}
	})
}

// Rule DPV-03 (1044): an organisation can receive confidential post only
// when one of its users holds a key role that reads it, by the recorded
// role codes.
func TestPostConfidentialByRoleCodes_DPV03(t *testing.T) {
	eachPostEngine(t, func(t *testing.T, db *DB, clock *postClock) {
		registerSender(t, db, postSenderFor(postSenderOrg))
		priv := postUser(t, db, "priv@a.example", postRecipA, []post.RoleCode{"PRIV", "MEDL"}, governance.Rolleinnehaver)
		req := postRequest("taus", postRecipA)
		req.Correspondence.IsConfidential = true
		if _, err := initPost(t, db, self(postSenderOrg), req, post.DefaultQuota()); problemCode(err) != post.CodeConfidentialNoKeyRole {
			t.Fatalf("PRIV and MEDL only: %v", err)
		}
		if err := db.SetPostRoleCodes(context.Background(), priv, postRecipA, []post.RoleCode{"KOMP"}, "staff"); err != nil {
			t.Fatal(err)
		}
		if got, err := initPost(t, db, self(postSenderOrg), req, post.DefaultQuota()); err != nil || len(got.Correspondences) != 1 {
			t.Fatalf("with a komplementar: %+v %v", got, err)
		}
	})
}

// Rule DPV-03: every delegation path, checked by DelegatePost itself: a
// key role holder delegates to persons, enterprise users and other
// organisations; someone without a key role or the access-management role
// cannot; the access-management role gives only what its holder has; an
// organisation's own readers read what another organisation delegated to
// it; a revocation takes effect at once. A refusal stores nothing.
func TestPostDelegationPaths_DPV03(t *testing.T) {
	eachPostEngine(t, func(t *testing.T, db *DB, clock *postClock) {
		ctx := context.Background()
		a, b := postRecipA, postRecipB // b: the accountant a delegates to
		lede := postUser(t, db, "lede@a.example", a, []post.RoleCode{"LEDE"}, governance.Oppslagsbruker)
		admin := postUser(t, db, "admin@a.example", a, nil, governance.Administrator)
		medl := postUser(t, db, "medl@a.example", a, []post.RoleCode{"MEDL"}, governance.Oppslagsbruker)
		bLeader := postUser(t, db, "dagl@b.example", b, []post.RoleCode{"DAGL"}, governance.Oppslagsbruker)
		bClerk := postUser(t, db, "ansatt@b.example", b, nil, governance.Oppslagsbruker)
		delegate := func(by string, to post.Party, r post.Right) (string, error) {
			return db.DelegatePost(ctx, post.Delegation{Org: a, To: to, Right: r, By: post.PortalPerson(by)}, "test")
		}
		count := func() int {
			ds, err := db.PostDelegations(ctx, a)
			if err != nil {
				t.Fatal(err)
			}
			return len(ds)
		}
		org := post.Party{Kind: post.PartyOrganisation, Orgnr: b}
		for _, c := range []struct {
			why string
			by  string
			to  post.Party
			r   post.Right
		}{
			{"no key role (styremedlem)", medl, post.PortalPerson(admin), post.RightPostArkiv},
			{"Tilgangsstyring without Post/Arkiv", admin, post.PortalPerson(medl), post.RightPostArkiv},
			{"to oneself", lede, post.PortalPerson(lede), post.RightPostArkiv},
			{"to a person who is no user of the organisation", lede, post.PortalPerson(bClerk), post.RightPostArkiv},
			{"Tilgangsstyring to an organisation", lede, org, post.RightAccessManagement},
			{"the accountant's leader over the client's post", bLeader, post.PortalPerson(medl), post.RightPostArkiv},
			{"a party that is no portal user", "", post.PortalPerson(medl), post.RightPostArkiv},
		} {
			if _, err := delegate(c.by, c.to, c.r); !errors.Is(err, ErrConflict) {
				t.Errorf("%s: %v, want ErrConflict", c.why, err)
			}
		}
		if n := count(); n != 0 {
			t.Fatalf("%d delegations stored after refusals", n)
		}
		// A key role holder gives the administrator Post/Arkiv; then the
		// administrator (Tilgangsstyring) passes on Post/Arkiv, not confidential post.
		if _, err := delegate(lede, post.PortalPerson(admin), post.RightPostArkiv); err != nil {
			t.Fatal(err)
		}
		if _, err := delegate(admin, post.PortalPerson(medl), post.RightPostArkiv); err != nil {
			t.Fatalf("Tilgangsstyring with Post/Arkiv: %v", err)
		}
		if _, err := delegate(admin, post.PortalPerson(medl), post.RightConfidential); !errors.Is(err, ErrConflict) {
			t.Fatalf("Tilgangsstyring gives confidential post it lacks: %v", err)
		}
		if o, conf := reads(t, db, medl, a, a); !o || conf {
			t.Fatalf("the styremedlem with Post/Arkiv: ordinary %v confidential %v", o, conf)
		}
		if _, err := delegate(lede, post.Party{Kind: post.PartyEnterpriseUser, Orgnr: a, Username: "arkivsystem"}, post.RightPostArkiv); err != nil {
			t.Fatalf("to an enterprise user: %v", err)
		}
		// To another organisation: its own readers read a's post.
		if o, _ := reads(t, db, bLeader, b, a); o {
			t.Fatal("the accountant reads before any delegation")
		}
		ordinary, err := delegate(lede, org, post.RightPostArkiv)
		if err != nil {
			t.Fatalf("to an organisation: %v", err)
		}
		if o, conf := reads(t, db, bLeader, b, a); !o || conf {
			t.Errorf("the accountant's daglig leder: ordinary %v confidential %v, want true false", o, conf)
		}
		if o, _ := reads(t, db, bClerk, b, a); o {
			t.Error("the accountant's user without Post/Arkiv reads the client's post")
		}
		if o, _ := reads(t, db, bLeader, a, a); o {
			t.Error("the accountant acts as the client")
		}
		if orgs, err := db.PostOrgsThrough(ctx, bLeader, b); err != nil || !slices.Equal(orgs, []ident.Orgnr{a}) {
			t.Errorf("organisations read through: %v %v", orgs, err)
		}
		if _, err := db.DelegatePost(ctx, post.Delegation{Org: b, To: post.PortalPerson(bClerk), Right: post.RightPostArkiv, By: post.PortalPerson(bLeader)}, "test"); err != nil {
			t.Fatal(err)
		}
		if o, _ := reads(t, db, bClerk, b, a); !o {
			t.Error("the accountant's user given Post/Arkiv there does not read the client's post")
		}
		secret, err := delegate(lede, org, post.RightConfidential)
		if err != nil {
			t.Fatal(err)
		}
		if _, conf := reads(t, db, bLeader, b, a); !conf {
			t.Error("confidential post delegated to the accountant not read by its daglig leder")
		}
		if _, conf := reads(t, db, bClerk, b, a); conf {
			t.Error("confidential post read by the accountant's user with only Post/Arkiv")
		}
		// Revocation takes effect at once: the next reader built reads nothing.
		for _, id := range []string{ordinary, secret} {
			if err := db.RevokePostDelegation(ctx, a, id, "test"); err != nil {
				t.Fatal(err)
			}
		}
		if o, conf := reads(t, db, bLeader, b, a); o || conf {
			t.Errorf("the accountant reads after revocation: %v %v", o, conf)
		}
		if orgs, _ := db.PostOrgsThrough(ctx, bLeader, b); len(orgs) != 0 {
			t.Errorf("still listed after revocation: %v", orgs)
		}
	})
}

// Issue 14 item 5 (Rule DPV-03): a suspended organisation keeps the
// recipient's read scope, and only it, so that it can read its suspension
// letter through the API.
func TestPostScopesWhileSuspended_DPV03(t *testing.T) {
	eachPostEngine(t, func(t *testing.T, db *DB, clock *postClock) {
		ctx := context.Background()
		sc := Scopes{DB: db, APIScope: "api", Env: register.EnvTest}
		if err := db.UpsertConsumer(ctx, access.Consumer{Orgnr: string(postSenderOrg), Navn: "Stanset", Status: access.Suspended}, "test"); err != nil {
			t.Fatal(err)
		}
		registerSender(t, db, postSenderFor(postSenderOrg))
		if got, err := sc.Scopes(ctx, string(postSenderOrg), string(postSenderOrg)); err != nil || !slices.Equal(got, []string{post.ScopeRead}) {
			t.Fatalf("suspended: %v %v, want the read scope only", got, err)
		}
		if err := db.UpsertConsumer(ctx, access.Consumer{Orgnr: string(postSenderOrg), Navn: "Avsluttet", Status: access.Ended}, "test"); err != nil {
			t.Fatal(err)
		}
		if got, err := sc.Scopes(ctx, string(postSenderOrg), string(postSenderOrg)); err != nil || len(got) != 0 {
			t.Fatalf("ended: %v %v, want none", got, err)
		}
	})
}

// rerunRoleCodesMigration runs migration 00027 (and those after it) again,
// as an upgrade from before the role codes runs it: the accounts and
// memberships there are then are those of the upgraded installation. Role
// codes recorded before it are dropped with the table.
func rerunRoleCodesMigration(t *testing.T, db *DB) {
	t.Helper()
	ctx := context.Background()
	p, err := db.migrations("migrations/main", "goose_db_version", db.write)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.DownTo(ctx, 26); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Up(ctx); err != nil {
		t.Fatal(err)
	}
}

// Rule DPV-03 (review findings 1 and 3): a role holder stands for DAGL only
// on a link that existed when the role codes came (an upgrade cuts no
// reader off); recording none for them ends it; a role holder made
// afterwards — invited by a role holder with no key role — holds nothing
// without codes, and does not make the organisation a recipient of
// confidential post (1044).
func TestPostRoleHolderStandIn_DPV03(t *testing.T) {
	eachPostEngine(t, func(t *testing.T, db *DB, clock *postClock) {
		ctx := context.Background()
		registerSender(t, db, postSenderFor(postSenderOrg))
		org := postRecipA
		old := postUser(t, db, "gammel@a.example", org, nil, governance.Rolleinnehaver)
		rerunRoleCodesMigration(t, db)
		if o, conf := reads(t, db, old, org, org); !o || !conf {
			t.Fatalf("a role holder from before the codes: ordinary %v confidential %v, want both", o, conf)
		}
		if s, err := db.PostRoleStandIns(ctx, org); err != nil || !s[old] {
			t.Fatalf("stand-ins: %v %v", s, err)
		}
		inviter := postUser(t, db, "medl@a.example", org, []post.RoleCode{"MEDL"}, governance.Rolleinnehaver)
		invited := postUser(t, db, "ny@a.example", org, nil, governance.Rolleinnehaver)
		for who, u := range map[string]string{"role holder with MEDL": inviter, "role holder made since": invited} {
			if o, conf := reads(t, db, u, org, org); o || conf {
				t.Errorf("%s: ordinary %v confidential %v, want neither", who, o, conf)
			}
		}
		req := postRequest("taus", org)
		req.Correspondence.IsConfidential = true
		if _, err := initPost(t, db, self(postSenderOrg), req, post.DefaultQuota()); err != nil {
			t.Fatalf("confidential post with a role holder from before the codes: %v", err)
		}
		// Recording no codes is recorded: the stand-in ends.
		if err := db.SetPostRoleCodes(ctx, old, org, nil, "staff"); err != nil {
			t.Fatal(err)
		}
		if o, conf := reads(t, db, old, org, org); o || conf {
			t.Errorf("after none was recorded: ordinary %v confidential %v", o, conf)
		}
		if s, err := db.PostRoleStandIns(ctx, org); err != nil || len(s) != 0 {
			t.Errorf("stand-ins after none was recorded: %v %v", s, err)
		}
		req = postRequest("taus2", org)
		req.Correspondence.IsConfidential = true
		if _, err := initPost(t, db, self(postSenderOrg), req, post.DefaultQuota()); problemCode(err) != post.CodeConfidentialNoKeyRole {
			t.Errorf("confidential post with no key role recorded: %v, want 1044", err)
		}
	})
}

// Rule DPV-03 (review finding 2): role codes go when the user's last role
// in the organisation ends or the account is closed — a new role later
// does not bring them back — and a role holder's stand-in goes with the
// role holder role.
func TestPostRoleCodesEndWithMembership_DPV03(t *testing.T) {
	eachPostEngine(t, func(t *testing.T, db *DB, clock *postClock) {
		ctx := context.Background()
		org := postRecipA
		postUser(t, db, "admin@a.example", org, nil, governance.Administrator) // keeps a manager (AA-27)
		old := postUser(t, db, "gammel@a.example", org, nil, governance.Rolleinnehaver, governance.Oppslagsbruker)
		rerunRoleCodesMigration(t, db) // drops what was recorded: codes only after it
		leader := postUser(t, db, "dagl@a.example", org, []post.RoleCode{"DAGL"}, governance.Rolleinnehaver, governance.Oppslagsbruker)
		closed := postUser(t, db, "lede@a.example", org, []post.RoleCode{"LEDE"}, governance.Oppslagsbruker)
		if codes, err := db.PostRoleCodes(ctx, org); err != nil || len(codes) != 2 {
			t.Fatalf("codes recorded: %v %v", codes, err)
		}
		if err := db.RemoveMembership(ctx, leader, string(org), governance.Oppslagsbruker, "test"); err != nil {
			t.Fatal(err)
		}
		if o, _ := reads(t, db, leader, org, org); !o {
			t.Fatal("codes lost while a role is left")
		}
		if err := db.RemoveMembership(ctx, leader, string(org), governance.Rolleinnehaver, "test"); err != nil {
			t.Fatal(err)
		}
		if err := db.DisableUser(ctx, closed, "test"); err != nil {
			t.Fatal(err)
		}
		if err := db.RemoveMembership(ctx, old, string(org), governance.Rolleinnehaver, "test"); err != nil {
			t.Fatal(err)
		}
		codes, err := db.PostRoleCodes(ctx, org)
		if err != nil || len(codes) != 0 {
			t.Fatalf("codes after the last role ended and the account closed: %v %v", codes, err)
		}
		if s, err := db.PostRoleStandIns(ctx, org); err != nil || len(s) != 0 {
			t.Fatalf("stand-in after the role holder role ended: %v %v", s, err)
		}
		if err := db.AddMembership(ctx, leader, string(org), governance.Rolleinnehaver, "test"); err != nil {
			t.Fatal(err)
		}
		if err := db.AddMembership(ctx, old, string(org), governance.Rolleinnehaver, "test"); err != nil {
			t.Fatal(err)
		}
		for who, u := range map[string]string{"back after leaving": leader, "role holder again": old} {
			if o, conf := reads(t, db, u, org, org); o || conf {
				t.Errorf("%s: ordinary %v confidential %v, want neither", who, o, conf)
			}
		}
	})
}

// Rule DPV-03 (review finding 5): what a person gave to parties outside the
// organisation — another organisation, an enterprise user — ends when
// their last role there ends or their account is closed, so that they do
// not go on reading through an organisation they delegated to; what they
// gave the organisation's own users stays.
func TestPostDelegationsByLeaverEnd_DPV03(t *testing.T) {
	eachPostEngine(t, func(t *testing.T, db *DB, clock *postClock) {
		ctx := context.Background()
		a, b := postRecipA, postRecipB
		postUser(t, db, "admin@a.example", a, nil, governance.Administrator) // keeps a manager (AA-27)
		leaver := postUser(t, db, "dagl@a.example", a, []post.RoleCode{"DAGL"}, governance.Rolleinnehaver)
		closer := postUser(t, db, "lede@a.example", a, []post.RoleCode{"LEDE"}, governance.Oppslagsbruker)
		clerk := postUser(t, db, "ansatt@a.example", a, nil, governance.Oppslagsbruker)
		// The leaver is also b's daglig leder: b is their own company.
		if err := db.AddMembership(ctx, leaver, string(b), governance.Rolleinnehaver, "test"); err != nil {
			t.Fatal(err)
		}
		if err := db.SetPostRoleCodes(ctx, leaver, b, []post.RoleCode{"DAGL"}, "staff"); err != nil {
			t.Fatal(err)
		}
		give := func(by string, to post.Party) string {
			id, err := db.DelegatePost(ctx, post.Delegation{Org: a, To: to, Right: post.RightConfidential, By: post.PortalPerson(by)}, "test")
			if err != nil {
				t.Fatal(err)
			}
			return id
		}
		toB := give(leaver, post.Party{Kind: post.PartyOrganisation, Orgnr: b})
		toClerk := give(leaver, post.PortalPerson(clerk))
		toSystem := give(closer, post.Party{Kind: post.PartyEnterpriseUser, Orgnr: b, Username: "arkiv"})
		if _, conf := reads(t, db, leaver, b, a); !conf {
			t.Fatal("the delegation to b not read by b's daglig leder")
		}
		if err := db.RemoveMembership(ctx, leaver, string(a), governance.Rolleinnehaver, "test"); err != nil {
			t.Fatal(err)
		}
		if err := db.DisableUser(ctx, closer, "test"); err != nil {
			t.Fatal(err)
		}
		if o, conf := reads(t, db, leaver, b, a); o || conf {
			t.Errorf("the leader who left reads through their own company: %v %v", o, conf)
		}
		ds, err := db.PostDelegations(ctx, a)
		if err != nil {
			t.Fatal(err)
		}
		inForce := map[string]bool{}
		for _, d := range ds {
			inForce[d.ID] = d.InForce(clock.now().Add(time.Second))
		}
		if inForce[toB] || inForce[toSystem] || !inForce[toClerk] {
			t.Errorf("in force: to b %v, to the enterprise user %v (want neither), to the organisation's own user %v (want it)",
				inForce[toB], inForce[toSystem], inForce[toClerk])
		}
	})
}

// Rule DPV-03 (review finding 6): DelegatePost decides in the transaction
// that inserts, with the giver's memberships locked, so that a delegation
// racing the giver's removal either is refused or is ended by it: none
// given by the departed giver to another organisation stays in force.
func TestPostDelegateRacesRemoval_DPV03(t *testing.T) {
	eachPostEngine(t, func(t *testing.T, db *DB, clock *postClock) {
		ctx := context.Background()
		a, b := postRecipA, postRecipB
		postUser(t, db, "admin@a.example", a, nil, governance.Administrator) // keeps a manager (AA-27)
		for i := range 8 {
			giver := postUser(t, db, fmt.Sprintf("dagl%d@a.example", i), a, []post.RoleCode{"DAGL"}, governance.Rolleinnehaver)
			var wg sync.WaitGroup
			wg.Add(2)
			go func() {
				defer wg.Done()
				db.DelegatePost(ctx, post.Delegation{Org: a, To: post.Party{Kind: post.PartyOrganisation, Orgnr: b},
					Right: post.RightPostArkiv, By: post.PortalPerson(giver)}, "test")
			}()
			go func() {
				defer wg.Done()
				if err := db.RemoveMembership(ctx, giver, string(a), governance.Rolleinnehaver, "test"); err != nil {
					t.Error(err)
				}
			}()
			wg.Wait()
		}
		ds, err := db.PostDelegations(ctx, a)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range ds {
			if d.InForce(clock.now().Add(time.Second)) {
				t.Errorf("a delegation by a departed giver in force: %+v", d)
			}
		}
	})
}

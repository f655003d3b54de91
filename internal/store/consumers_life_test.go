package store

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"deling/internal/access"
	"deling/internal/audit"
	"deling/internal/governance"
	"deling/internal/register"
)

// lifeClock is a clock a test moves.
type lifeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *lifeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *lifeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// movableClock gives db a clock the test moves, starting at fixedNow.
func lifeMovableClock(db *DB) *lifeClock {
	c := &lifeClock{t: fixedNow()}
	db.now = c.now
	return c
}

// lifeConsumer makes a consumer with an active and a suspended API grant,
// a delegation to processor, and contacts.
func lifeConsumer(t *testing.T, db *DB, orgnr, processor string, contacts ...string) []access.Grant {
	t.Helper()
	ctx := context.Background()
	if err := db.UpsertConsumer(ctx, access.Consumer{Orgnr: orgnr, Navn: "Kommune " + orgnr, Status: access.Active}, "test"); err != nil {
		t.Fatal(err)
	}
	var out []access.Grant
	for _, st := range []access.Status{access.Active, access.Active, access.Suspended} {
		g, err := db.AddGrant(ctx, access.Grant{Consumer: orgnr, Packages: []string{"grunndata@1"}, Channel: access.ChannelAPI, Env: register.EnvTest,
			LegalBasis: "lov", ProcessingBasis: "art. 6", Purpose: "saksbehandling", QueryKinds: []access.QueryKind{access.ByArbeidstaker},
			ValidFrom: fixedNow().Add(-time.Hour), Status: st}, "test")
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, g)
	}
	if processor != "" {
		if _, err := db.AddDelegation(ctx, access.Delegation{Consumer: orgnr, Processor: processor, DPARef: "DBA-1", ValidFrom: fixedNow().Add(-time.Hour)}, "test"); err != nil {
			t.Fatal(err)
		}
	}
	for i, e := range contacts {
		role := governance.ContactTechnical
		if i == 0 {
			role = governance.ContactAdministrative
		}
		if _, err := db.SaveContact(ctx, governance.Contact{Consumer: orgnr, Navn: "Kontakt " + e, Epost: e, Rolle: role}, "test"); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func lifeEvents(t *testing.T, db *DB, consumer, kind string) []audit.Record {
	t.Helper()
	recs, err := db.AuditRecords(context.Background(), consumer, 10_000)
	if err != nil {
		t.Fatal(err)
	}
	var out []audit.Record
	for _, r := range recs {
		if r.Kind == kind {
			out = append(out, r)
		}
	}
	return out
}

func lifeDecide(t *testing.T, db *DB, consumer, processor string) access.Decision {
	t.Helper()
	in, err := db.AccessInputs(context.Background(), consumer, processor)
	if err != nil {
		t.Fatal(err)
	}
	return access.Decide(access.Request{Consumer: consumer, Processor: processor, Channel: access.ChannelAPI, Env: register.EnvTest,
		Kind: access.ByArbeidstaker}, in, fixedNow())
}

// Rule AA-26: ending a consumer's access ends every grant and delegation at once, and the API's inputs show it on the next request.
func TestEndConsumerAccess(t *testing.T) {
	eachEngine(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		const org, proc = "310000011", "310000012"
		lifeConsumer(t, db, org, proc, "a@kommune.test", "b@kommune.test", "A@kommune.test")
		if d := lifeDecide(t, db, org, proc); !d.Permit {
			t.Fatalf("before: %v", d.Reason)
		}
		res, err := db.EndConsumerAccess(ctx, org, ReasonTerminated, "user:x", Mail{Subject: "Kvittering", Body: "Tilgangen er avsluttet."})
		if err != nil {
			t.Fatal(err)
		}
		// Three grants (two active, one suspended), one delegation, two distinct contact addresses.
		if res.Grants != 3 || res.Delegations != 1 || res.Letters != 2 {
			t.Fatalf("result %+v, want 3 grants, 1 delegation, 2 letters", res)
		}
		grants, _ := db.Grants(ctx, org)
		for _, g := range grants {
			if g.Status != access.Ended || g.StatusReason != ReasonTerminated {
				t.Fatalf("grant %s: %s %q", g.ID, g.Status, g.StatusReason)
			}
		}
		dels, _ := db.Delegations(ctx, org)
		if len(dels) != 1 || dels[0].Status != access.Ended {
			t.Fatalf("delegations %+v", dels)
		}
		if d := lifeDecide(t, db, org, ""); d.Permit || d.Reason != access.DenyGrantEnded {
			t.Fatalf("after, consumer: permit %v reason %v", d.Permit, d.Reason)
		}
		if d := lifeDecide(t, db, org, proc); d.Permit || d.Reason != access.DenyNoDelegation {
			t.Fatalf("after, processor: permit %v reason %v", d.Permit, d.Reason)
		}
		ended := lifeEvents(t, db, org, audit.KindConsumerEnded)
		if len(ended) != 1 || !strings.Contains(string(ended[0].Event), ReasonTerminated) || ended[0].Actor != "user:x" {
			t.Fatalf("consumer.ended events: %+v", ended)
		}
		mails, _ := db.MailTo(ctx, org, 10)
		if len(mails) != 2 || mails[0].Kind != MailTermination {
			t.Fatalf("letters %+v", mails)
		}
		// Ending again ends nothing and is no error.
		if res, err := db.EndConsumerAccess(ctx, org, ReasonTerminated, "user:x"); err != nil || res.Grants != 0 {
			t.Fatalf("again: %+v %v", res, err)
		}
	})
}

// Rule AA-25: a suspension and its written notice to every contact are one transaction.
func TestSuspendConsumer(t *testing.T) {
	eachEngine(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		const org = "310000021"
		lifeConsumer(t, db, org, "", "a@kommune.test", "b@kommune.test")
		letter := Mail{Subject: "Tilgangen er suspendert", Body: "Brudd på vilkårene."}

		// If the letters cannot be stored, nothing is suspended.
		if _, err := db.write.ExecContext(ctx, `ALTER TABLE mail_outbox RENAME TO mail_outbox_away`); err != nil {
			t.Fatal(err)
		}
		if _, err := db.SuspendConsumer(ctx, org, "brukt data utenfor formålet", letter, "user:s"); err == nil {
			t.Fatal("suspended without a place for the letters")
		}
		if _, err := db.write.ExecContext(ctx, `ALTER TABLE mail_outbox_away RENAME TO mail_outbox`); err != nil {
			t.Fatal(err)
		}
		if d := lifeDecide(t, db, org, ""); !d.Permit {
			t.Fatalf("a failed suspension took effect: %v", d.Reason)
		}

		res, err := db.SuspendConsumer(ctx, org, "brukt data utenfor formålet", letter, "user:s")
		if err != nil {
			t.Fatal(err)
		}
		if res.Grants != 2 || res.Letters != 2 {
			t.Fatalf("result %+v", res)
		}
		if d := lifeDecide(t, db, org, ""); d.Permit || d.Reason != access.DenyGrantSuspended {
			t.Fatalf("after: %v %v", d.Permit, d.Reason)
		}
		mails, _ := db.MailTo(ctx, org, 10)
		got := map[string]bool{}
		for _, m := range mails {
			if m.Kind != MailSuspension || m.Subject != letter.Subject {
				t.Fatalf("letter %+v", m)
			}
			got[m.To] = true
		}
		if !got["a@kommune.test"] || !got["b@kommune.test"] {
			t.Fatalf("letters to %v", got)
		}
		if n := len(lifeEvents(t, db, org, KindLetter)); n != 1 {
			t.Fatalf("%d letter events", n)
		}
		if _, err := db.SuspendConsumer(ctx, org, "igjen", letter, "user:s"); !errors.Is(err, ErrConflict) {
			t.Fatalf("suspending nothing: %v", err)
		}

		res, err = db.ResumeConsumer(ctx, org, Mail{Subject: "Gjenopptatt", Body: "Tilgangen er gjenopptatt."}, "user:s")
		if err != nil {
			t.Fatal(err)
		}
		// Rule AA-25: the two suspended here resume; the one suspended before, for another reason, does not.
		if res.Grants != 2 || res.Letters != 2 {
			t.Fatalf("resume %+v", res)
		}
		if d := lifeDecide(t, db, org, ""); !d.Permit {
			t.Fatalf("after resume: %v", d.Reason)
		}
	})
}

const enheterFile = `[
{"organisasjonsnummer":"310000031","navn":"SLETTET KOMMUNE","slettedato":"2026-11-01","naeringskode1":{"kode":"84.110"}},
{"organisasjonsnummer":"310000032","navn":"AKTIV","konkurs":false},
{"organisasjonsnummer":"310000033","navn":"KONKURS LEVERANDØR AS","konkurs":true},
{"organisasjonsnummer":"310000034","navn":"AVVIKLES AS","underAvvikling":true},
{"organisasjonsnummer":"399999999","navn":"IKKE KONSUMENT AS","slettedato":"2020-01-01"}
]`

// Rule AA-26: an organisation ceased in Enhetsregisteret loses its access: as consumer and as data processor.
func TestImportEnhetsregisteret(t *testing.T) {
	eachEngine(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		lifeConsumer(t, db, "310000031", "", "a@x.test")
		lifeConsumer(t, db, "310000032", "310000033", "b@x.test") // its processor goes bankrupt
		lifeConsumer(t, db, "310000034", "", "c@x.test")

		// A truncated file changes nothing, and the failed run is recorded.
		var gz bytes.Buffer
		zw := gzip.NewWriter(&gz)
		zw.Write([]byte(enheterFile))
		zw.Close()
		if _, err := db.ImportEnhetsregisteret(ctx, bytes.NewReader(gz.Bytes()[:gz.Len()-8]), "trunc.json.gz", "enhetsregisteret"); err == nil {
			t.Fatal("a truncated file was accepted")
		}
		if c, _ := db.Consumer(ctx, "310000031"); c.Status != access.Active {
			t.Fatal("a failed import changed a consumer")
		}
		if last, _ := db.LastEnhetsregisteretImport(ctx); !last.IsZero() {
			t.Fatal("a failed import counts as the last one")
		}

		run, err := db.ImportEnhetsregisteret(ctx, bytes.NewReader(gz.Bytes()), "enheter.json.gz", "enhetsregisteret")
		if err != nil {
			t.Fatal(err)
		}
		if run.Entries != 5 || strings.Join(run.Ceased, ",") != "310000031,310000033" || strings.Join(run.WindingUp, ",") != "310000034" {
			t.Fatalf("run %+v", run)
		}
		if c, _ := db.Consumer(ctx, "310000031"); c.Status != access.Ceased {
			t.Fatalf("deleted consumer: %s", c.Status)
		}
		if d := lifeDecide(t, db, "310000031", ""); d.Permit || d.Reason != access.DenyConsumerCeased {
			t.Fatalf("deleted consumer decision: %v", d.Reason)
		}
		grants, _ := db.Grants(ctx, "310000031")
		for _, g := range grants {
			if g.Status != access.Ended || g.StatusReason != ReasonCeased {
				t.Fatalf("grant %s %q", g.Status, g.StatusReason)
			}
		}
		// The consumer whose processor went bankrupt keeps its own access; the processor loses its delegation.
		if d := lifeDecide(t, db, "310000032", ""); !d.Permit {
			t.Fatalf("the processor's bankruptcy ended the consumer's own access: %v", d.Reason)
		}
		if d := lifeDecide(t, db, "310000032", "310000033"); d.Permit {
			t.Fatal("a bankrupt processor still acts")
		}
		// Winding up keeps access.
		if d := lifeDecide(t, db, "310000034", ""); !d.Permit {
			t.Fatalf("winding-up ended access: %v", d.Reason)
		}
		runs, err := db.EnhetsregisteretRuns(ctx, 10)
		if err != nil || len(runs) != 2 || runs[0].Error != "" || runs[1].Error == "" || runs[0].Entries != 5 {
			t.Fatalf("runs %+v %v", runs, err)
		}
		if last, _ := db.LastEnhetsregisteretImport(ctx); !last.Equal(fixedNow()) {
			t.Fatalf("last import %v", last)
		}
		// The next day's file ceases nobody anew: the ceased are no longer watched.
		run, err = db.ImportEnhetsregisteret(ctx, strings.NewReader(enheterFile), "enheter.json", "enhetsregisteret")
		if err != nil || len(run.Ceased) != 0 {
			t.Fatalf("second run %+v %v", run, err)
		}
	})
}

// Rule AA-27: reminders of a due review go at most once per interval, until the review is done.
func TestReviewReminders(t *testing.T) {
	eachEngine(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		clock := lifeMovableClock(db)
		const org = "310000041"
		every, remind := 180*24*time.Hour, 7*24*time.Hour
		u, err := db.CreateUser(ctx, governance.User{Email: "admin@org.test", Navn: "Admin"}, "x", []governance.Membership{{Org: org, Role: governance.Administrator}}, "test")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.CreateUser(ctx, governance.User{Email: "staff@register.test", Navn: "Staff"}, "x", []governance.Membership{{Org: governance.AuthorityOrg, Role: governance.Saksbehandler}}, "test"); err != nil {
			t.Fatal(err)
		}
		due := func() []ReviewDue {
			ds, err := db.ReviewsDue(ctx, governance.ReviewCutoff(clock.now(), every))
			if err != nil {
				t.Fatal(err)
			}
			return ds
		}
		if ds := due(); len(ds) != 0 {
			t.Fatalf("due at once: %+v", ds)
		}
		clock.advance(every)
		if ds := due(); len(ds) != 1 || ds[0].Org != org || ds[0].Users != 1 {
			t.Fatalf("due after the interval: %+v (the register's staff are not reviewed by a consumer)", ds)
		}
		letter := Mail{To: "admin@org.test", Subject: "Gjennomgang", Body: "Gå gjennom brukerne."}
		for i, want := range []bool{true, false} {
			sent, err := db.RemindReview(ctx, org, remind, letter)
			if err != nil || sent != want {
				t.Fatalf("reminder %d: sent %v, want %v (%v)", i, sent, want, err)
			}
		}
		clock.advance(remind - time.Second)
		if sent, _ := db.RemindReview(ctx, org, remind, letter); sent {
			t.Fatal("reminded again within the interval")
		}
		clock.advance(time.Second)
		if sent, _ := db.RemindReview(ctx, org, remind, letter); !sent {
			t.Fatal("not reminded again after the interval")
		}
		if last, _ := db.LastReviewReminder(ctx, org); !last.Equal(clock.now()) {
			t.Fatalf("last reminder %v", last)
		}
		mails, _ := db.MailTo(ctx, org, 10)
		if len(mails) != 2 || mails[0].Kind != MailReviewReminder {
			t.Fatalf("letters %+v", mails)
		}
		// Each reminder sent is in the log, as every letter to a consumer is; a reminder not sent is not.
		if ev := lifeEvents(t, db, org, KindLetter); len(ev) != 2 || !strings.Contains(string(ev[0].Event), MailReviewReminder) || ev[0].Actor != "deling" {
			t.Fatalf("letter events %+v", ev)
		}
		// The review done, nothing is due.
		if err := db.ConfirmMemberships(ctx, u.ID, org, "user:"+u.ID); err != nil {
			t.Fatal(err)
		}
		if ds := due(); len(ds) != 0 {
			t.Fatalf("due after the review: %+v", ds)
		}
	})
}

// lifeLetter is an invitation's letter: the kind of link and the name greeted, for tests to read.
func lifeLetter(setPassword bool, navn string) Mail {
	return Mail{Subject: "Invitasjon", Body: fmt.Sprintf("Hei %s, passord: %v", navn, setPassword)}
}

// lifeInvite invites email to role for org with the token hash, a week's link and a limit of 50.
func lifeInvite(t *testing.T, db *DB, org, email string, role governance.Role, hash string) (InviteOutcome, error) {
	t.Helper()
	return db.InviteUser(context.Background(), Invitation{User: governance.User{Email: email, Navn: "Ny Bruker"}, Org: org, Role: role,
		TokenHash: hash, ExpiresAt: db.now().Add(7 * 24 * time.Hour), Limit: 50, Letter: lifeLetter}, "user:admin")
}

// lifeMail lists the pending letters to an address.
func lifeMail(t *testing.T, db *DB, to string) []Mail {
	t.Helper()
	ms, err := db.PendingMail(context.Background(), 1000, 5)
	if err != nil {
		t.Fatal(err)
	}
	var out []Mail
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
		if len(mails) != 1 || mails[0].Kind != MailActivation || mails[0].Consumer != "" || !strings.Contains(mails[0].Body, "passord: true") {
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

// Rule AA-25: resuming a consumer resumes what the register suspended for a breach, not grants suspended for another reason.
func TestResumeOnlyRegisterSuspensions(t *testing.T) {
	eachEngine(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		const org = "310000071"
		grants := lifeConsumer(t, db, org, "", "a@kommune.test") // active, active, suspended
		if _, err := db.SetGrantStatus(ctx, grants[0].ID, access.Suspended, "suspendert av forvalter i CLI", "cli:ops"); err != nil {
			t.Fatal(err)
		}
		// Nothing suspended by the register: nothing to resume.
		if _, err := db.ResumeConsumer(ctx, org, Mail{Subject: "Gjenopptatt"}, "user:s"); !errors.Is(err, ErrConflict) {
			t.Fatalf("resumed grants the register did not suspend: %v", err)
		}
		if _, err := db.SuspendConsumer(ctx, org, "brudd", Mail{Subject: "Suspendert"}, "user:s"); err != nil {
			t.Fatal(err)
		}
		got, _ := db.Grants(ctx, org)
		if !SuspendedByRegister(got[1]) || SuspendedByRegister(got[0]) || SuspendedByRegister(got[2]) {
			t.Fatalf("suspended by the register: %+v", got)
		}
		res, err := db.ResumeConsumer(ctx, org, Mail{Subject: "Gjenopptatt"}, "user:s")
		if err != nil || res.Grants != 1 {
			t.Fatalf("resume: %+v %v", res, err)
		}
		got, _ = db.Grants(ctx, org)
		want := []access.Status{access.Suspended, access.Active, access.Suspended}
		for i, g := range got {
			if g.Status != want[i] {
				t.Fatalf("grant %d: %s (%q), want %s", i, g.Status, g.StatusReason, want[i])
			}
		}
	})
}

// lifeRuneError is a reader failing with a long message of 'ø's (two bytes each), after prefix.
type lifeRuneError string

func (e lifeRuneError) Read([]byte) (int, error) {
	return 0, errors.New(string(e) + strings.Repeat("ø", 400))
}

var _ io.Reader = lifeRuneError("")

// A long error message is cut on a character boundary: PostgreSQL refuses
// invalid UTF-8, and the failed import or the delivery attempt would go unrecorded.
func TestMailAndImportErrorsCutOnRuneBoundary(t *testing.T) {
	eachEngine(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		for _, prefix := range []string{"", "x"} { // one of them puts byte 500 inside an 'ø'
			if err := db.QueueMail(ctx, Mail{To: prefix + "a@b.test", Subject: "s", Body: "b"}); err != nil {
				t.Fatal(err)
			}
			ms := lifeMail(t, db, prefix+"a@b.test")
			if err := db.MarkMail(ctx, ms[0].ID, errors.New(prefix+strings.Repeat("ø", 400))); err != nil {
				t.Fatalf("mark mail (prefix %q): %v", prefix, err)
			}
			ms = lifeMail(t, db, prefix+"a@b.test")
			if ms[0].Attempts != 1 || !utf8.ValidString(ms[0].LastError) || len(ms[0].LastError) > 500 || len(ms[0].LastError) < 498 {
				t.Fatalf("prefix %q: attempts %d, last error of %d bytes, valid %v", prefix, ms[0].Attempts, len(ms[0].LastError), utf8.ValidString(ms[0].LastError))
			}

			if _, err := db.ImportEnhetsregisteret(ctx, lifeRuneError(prefix), "feil", "test"); err == nil || strings.Contains(err.Error(), "record the import") {
				t.Fatalf("import (prefix %q): %v", prefix, err)
			}
		}
		runs, err := db.EnhetsregisteretRuns(ctx, 10)
		if err != nil || len(runs) != 2 {
			t.Fatalf("runs %d %v", len(runs), err)
		}
		for _, r := range runs {
			if !utf8.ValidString(r.Error) || len(r.Error) > 500 || !strings.HasSuffix(r.Error, "ø") {
				t.Fatalf("run error of %d bytes, valid %v", len(r.Error), utf8.ValidString(r.Error))
			}
		}
	})
}

func TestTruncateMailError(t *testing.T) {
	for _, c := range []struct {
		in   string
		n    int
		want string
	}{
		{"abc", 5, "abc"},
		{"abc", 2, "ab"},
		{"aøb", 2, "a"},
		{"aøb", 3, "aø"},
		{"øøø", 5, "øø"},
		{"a\xffb", 10, "a\uFFFDb"},
		{"ø", 1, ""},
	} {
		if got := truncate(c.in, c.n); got != c.want {
			t.Errorf("truncate(%q, %d) = %q, want %q", c.in, c.n, got, c.want)
		}
	}
}

// Rule AA-06: a consumer keeps at least one administrative contact, also
// when two are removed or changed at the same moment.
func TestContactKeepingOne(t *testing.T) {
	eachEngine(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		const org = "310000081"
		save := func(navn string, role governance.ContactRole) governance.Contact {
			c, err := db.SaveContact(ctx, governance.Contact{Consumer: org, Navn: navn, Epost: navn + "@k.test", Rolle: role}, "test")
			if err != nil {
				t.Fatal(err)
			}
			return c
		}
		a, b, tech := save("a", governance.ContactAdministrative), save("b", governance.ContactAdministrative), save("t", governance.ContactTechnical)
		// Two removals at once: one of them is refused.
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i, c := range []governance.Contact{a, b} {
			wg.Go(func() { errs[i] = db.RemoveContactKeepingOne(ctx, org, c.ID, "user:x") })
		}
		wg.Wait()
		if (errs[0] == nil) == (errs[1] == nil) || !(errors.Is(errs[0], ErrConflict) || errors.Is(errs[1], ErrConflict)) {
			t.Fatalf("two concurrent removals: %v, %v", errs[0], errs[1])
		}
		left := b
		if errs[1] == nil {
			left = a
		}
		// The last one may not become technical, but may be changed otherwise.
		c := left
		c.Rolle = governance.ContactTechnical
		if _, err := db.ChangeContactKeepingOne(ctx, c, "user:x"); !errors.Is(err, ErrConflict) {
			t.Fatalf("the last administrative contact made technical: %v", err)
		}
		c.Rolle, c.Navn = governance.ContactAdministrative, "Nytt navn"
		if _, err := db.ChangeContactKeepingOne(ctx, c, "user:x"); err != nil {
			t.Fatal(err)
		}
		if err := db.RemoveContactKeepingOne(ctx, org, tech.ID, "user:x"); err != nil {
			t.Fatal(err)
		}
		if err := db.RemoveContactKeepingOne(ctx, "310000082", left.ID, "user:x"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("another consumer's contact: %v", err)
		}
		// A new administrative contact, and two changes at once: one of them is refused.
		n := save("n", governance.ContactAdministrative)
		for i, c := range []governance.Contact{left, n} {
			c.Rolle = governance.ContactSecurity
			wg.Go(func() { _, errs[i] = db.ChangeContactKeepingOne(ctx, c, "user:x") })
		}
		wg.Wait()
		if (errs[0] == nil) == (errs[1] == nil) || !(errors.Is(errs[0], ErrConflict) || errors.Is(errs[1], ErrConflict)) {
			t.Fatalf("two concurrent changes: %v, %v", errs[0], errs[1])
		}
		cs, _ := db.Contacts(ctx, org)
		if len(cs) != 2 || adminCount(cs) != 1 {
			t.Fatalf("contacts %+v", cs)
		}
	})
}

func adminCount(cs []governance.Contact) int {
	n := 0
	for _, c := range cs {
		if c.Rolle == governance.ContactAdministrative {
			n++
		}
	}
	return n
}

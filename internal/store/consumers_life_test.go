package store

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

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
		// The two suspended here and the one suspended before resume.
		if res.Grants != 3 || res.Letters != 2 {
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
		// The review done, nothing is due.
		if err := db.ConfirmMemberships(ctx, u.ID, org, "user:"+u.ID); err != nil {
			t.Fatal(err)
		}
		if ds := due(); len(ds) != 0 {
			t.Fatalf("due after the review: %+v", ds)
		}
	})
}

// Rule AA-27: a new user sets a password once, through a link that expires.
func TestInviteAndActivate(t *testing.T) {
	eachEngine(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		clock := lifeMovableClock(db)
		const org = "310000051"
		inv := Invitation{User: governance.User{Email: "Ny@Org.test", Navn: "Ny Bruker"}, Org: org, Role: governance.Utvikler,
			TokenHash: "hash1", ExpiresAt: clock.now().Add(7 * 24 * time.Hour), Mail: Mail{Subject: "Aktiver", Body: "Lenke"}}
		u, err := db.InviteUser(ctx, inv, "user:admin")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.InviteUser(ctx, inv, "user:admin"); !errors.Is(err, ErrExists) {
			t.Fatalf("second invitation of the address: %v", err)
		}
		if _, hash, _ := db.UserByEmail(ctx, "ny@org.test"); governance.VerifyPassword(hash, "") == nil || !strings.HasPrefix(hash, "!") {
			t.Fatal("an invited account has a usable password")
		}
		mails, _ := db.PendingMail(ctx, 10, 5)
		if len(mails) != 1 || mails[0].To != "ny@org.test" || mails[0].Kind != MailActivation {
			t.Fatalf("letters %+v", mails)
		}
		if got, err := db.ActivationUser(ctx, "hash1"); err != nil || got.ID != u.ID {
			t.Fatalf("activation user %v %v", got, err)
		}
		if _, err := db.ActivationUser(ctx, "other"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("unknown token: %v", err)
		}
		if _, err := db.Activate(ctx, "hash1", "newhash"); err != nil {
			t.Fatal(err)
		}
		if _, hash, _ := db.UserByEmail(ctx, "ny@org.test"); hash != "newhash" {
			t.Fatalf("password hash %q", hash)
		}
		if _, err := db.Activate(ctx, "hash1", "again"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("a used token worked again: %v", err)
		}
		// An expired link does nothing.
		inv.User.Email, inv.TokenHash = "sen@org.test", "hash2"
		if _, err := db.InviteUser(ctx, inv, "user:admin"); err != nil {
			t.Fatal(err)
		}
		clock.advance(7 * 24 * time.Hour)
		if _, err := db.Activate(ctx, "hash2", "late"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("an expired token worked: %v", err)
		}
		ev := lifeEvents(t, db, org, audit.KindUserAdded)
		if len(ev) != 2 {
			t.Fatalf("%d user.added events", len(ev))
		}
		var e map[string]any
		json.Unmarshal(ev[0].Event, &e)
		if e["invited"] != true {
			t.Fatalf("event %s", ev[0].Event)
		}
	})
}

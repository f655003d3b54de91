package store

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"slices"
	"strings"
	"testing"
	"time"

	"deling/internal/access"
	"deling/internal/governance"
	"deling/internal/incident"
	"deling/internal/token"
)

// Rules AA-22, AV-07: the close guard wants a letter to every consumer a
// computation names other than the reporter, not just one letters step: a
// letter to one of two leaves the other listed by name. A consumer with no
// recipient gets nothing recorded (the letter reached no one), is reported
// in the result and in the close guard, and stays due; once it has a
// contact, the same phase reaches it.
func TestIncidentLettersEachConsumer_AA22(t *testing.T) {
	eachEngine(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		const reporter, one, two = "310000161", "310000179", "310000187"
		lifeConsumer(t, db, reporter, "", "melder@brev.test")
		lifeConsumer(t, db, one, "", "en@brev.test")
		lifeConsumer(t, db, two, "") // no contact person, no portal user
		c := takenIncident(t, db, reporter)
		a := incident.AffectedCount{Consumers: []string{reporter, one, two}, At: fixedNow()}
		exempt := &incident.Decision{NotifyDT: true, Persons: incident.PersonsNotRequired, PersonsReason: "Lav risiko"}
		if _, err := db.ChangeIncident(ctx, c.ID, c.Version, IncidentChange{Step: StepAffected, Status: c.Status, Owner: c.Owner, AwareAt: c.AwareAt,
			Affected: &a, Decision: exempt, Measure: &incident.Measure{Kind: incident.MeasureLimitDamage, Done: true, Note: "Rettet", At: fixedNow()}}, "user:u-cw"); err != nil {
			t.Fatal(err)
		}
		missing := func() string { c, _ := db.Incident(ctx, c.ID); return strings.Join(c.CloseMissing(), " ") }
		if m := missing(); !strings.Contains(m, "Kommune "+one+" (org.nr. "+one+"), Kommune "+two) || strings.Contains(m, reporter) {
			t.Fatalf("close guard before any letter: %q", m)
		}
		send := func(to ...string) (LifeResult, error) {
			c, _ = db.Incident(ctx, c.ID)
			ch := IncidentChange{Step: StepLetters, Status: c.Status, Owner: c.Owner, AwareAt: c.AwareAt, Decision: c.Decision, LetterPhase: "forste", Note: "Første brev"}
			for _, o := range to {
				ch.ConsumerLetters = append(ch.ConsumerLetters, governance.Letter{Consumer: o, Kind: "incident.consumer", Subject: "Avvik", Body: "Til " + o})
			}
			return db.ChangeIncident(ctx, c.ID, c.Version, ch, "user:u-cw")
		}
		// Rule AA-22: the letter to one; the other has no recipient: not recorded, reported.
		res, err := send(one, two)
		if err != nil || res.Consumers != 1 || res.Letters != 1 || !slices.Equal(res.NoRecipients, []string{two}) {
			t.Fatalf("letters: %+v, %v", res, err)
		}
		var rows int
		if err := db.read.queryRow(ctx, `SELECT COUNT(*) FROM incident_consumer_letters WHERE incident = $1 AND consumer = $2`, c.ID, two).Scan(&rows); err != nil || rows != 0 {
			t.Fatalf("a letter to no one recorded: %d, %v", rows, err)
		}
		m := missing()
		if strings.Contains(m, one) || !strings.Contains(m, "som ikke har fått det: Kommune "+two) || !strings.Contains(m, "må få en først: Kommune "+two) {
			t.Fatalf("close guard after one letter: %q", m)
		}
		if c, _ := db.Incident(ctx, c.ID); !strings.Contains(c.History[len(c.History)-1].Note, "uten mottaker, ikke sendt: "+two) {
			t.Fatalf("history: %q", c.History[len(c.History)-1].Note)
		}
		// Once it has a contact, the same phase reaches it; the first is not written to again.
		if _, err := db.SaveContact(ctx, governance.Contact{Consumer: two, Navn: "Kontakt", Epost: "to@brev.test", Rolle: governance.ContactAdministrative}, "test"); err != nil {
			t.Fatal(err)
		}
		if res, err := send(one, two); err != nil || res.Consumers != 1 || len(res.NoRecipients) != 0 {
			t.Fatalf("letters again: %+v, %v", res, err)
		}
		if m := missing(); m != "" {
			t.Fatalf("still missing: %q", m)
		}
		if _, err := send(one, two); !errors.Is(err, ErrExists) {
			t.Fatalf("a third submit: %v", err)
		}
	})
}

// Rules AV-06, AV-07: a job counts the notices it gave (new) apart from the
// persons told before, in its progress and history. The close guard looks at every computation, not the
// newest only: a job finished for the newest leaves an older one of another
// scope due until its own job finished; a newer computation of 0 persons
// needs no job.
func TestIncidentCloseGuardEveryComputation_AV06(t *testing.T) {
	eachEngine(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		const processor, consumer = "310000195", "310000209"
		lifeConsumer(t, db, consumer, "", "kontakt@alle.test")
		c, a := notifyCase(t, db, processor, consumer, 3)
		// A second computation of another scope (any consumer): the same three persons.
		b := a
		b.ID, b.Consumer = "", ""
		if _, err := db.ChangeIncident(ctx, c.ID, c.Version, IncidentChange{Step: StepAffected, Status: c.Status, Owner: c.Owner, AwareAt: c.AwareAt,
			Decision: c.Decision, Affected: &b}, "user:u-cw"); err != nil {
			t.Fatal(err)
		}
		c, _ = db.Incident(ctx, c.ID)
		b = c.Affected[len(c.Affected)-1]
		run := func(comp incident.AffectedCount) {
			t.Helper()
			c, _ = db.Incident(ctx, c.ID)
			if _, err := db.StartIncidentNotify(ctx, c.ID, c.Version, IncidentNotifyJob{Computation: comp.ID, Subject: "Varsel", Body: "Tekst", Total: comp.Persons, StartedBy: "Sara"}, "user:u-cw"); err != nil {
				t.Fatal(err)
			}
			if _, err := db.RunIncidentNotices(ctx, NotifyBatch, 0); err != nil {
				t.Fatal(err)
			}
		}
		missing := func() string { c, _ := db.Incident(ctx, c.ID); return strings.Join(c.CloseMissing(), " ") }
		run(b)
		if m := missing(); !strings.Contains(m, "Varsle de 3 berørte i beregning "+a.ID) {
			t.Fatalf("the older computation is not due: %q", m)
		}
		run(a)
		// Rule AV-06: the second job counts what it did: nobody new, all three told before.
		jobs, _ := db.IncidentNotifyJobs(ctx, c.ID)
		if len(jobs) != 2 || jobs[0].Computation != a.ID || jobs[0].Fresh != 0 || jobs[0].Done != 3 || jobs[1].Fresh != 3 {
			t.Fatalf("jobs %+v", jobs)
		}
		if c, _ := db.Incident(ctx, c.ID); !strings.HasSuffix(c.History[len(c.History)-1].Note, "ferdig: 0 nye, 3 allerede varslet") {
			t.Fatalf("history: %q", c.History[len(c.History)-1].Note)
		}
		if m := missing(); strings.Contains(m, "Varsle") || strings.Contains(m, "ikke ferdig") {
			t.Fatalf("both computations notified, still: %q", m)
		}
		// A newer computation of a's scope with 0 persons (another window) needs no job.
		z := a
		z.ID, z.Persons, z.Records, z.From = "", 0, 0, fixedNow()
		c, _ = db.Incident(ctx, c.ID)
		if _, err := db.ChangeIncident(ctx, c.ID, c.Version, IncidentChange{Step: StepAffected, Status: c.Status, Owner: c.Owner, AwareAt: c.AwareAt,
			Decision: c.Decision, Affected: &z}, "user:u-cw"); err != nil {
			t.Fatal(err)
		}
		if m := missing(); strings.Contains(m, "Varsle") {
			t.Fatalf("a computation of 0 persons: %q", m)
		}
	})
}

// Rules AV-02, AA-25: suspending on the consumer's page a consumer a breach
// case suspended already takes the register's hold (no second letter): the
// case's resumption then leaves it suspended; a second suspension on the
// page is ErrConflict; the register's resumption, the last hold, resumes it.
func TestSuspendConsumerHeldByCase(t *testing.T) {
	eachEngine(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		const consumer = "310000217"
		lifeConsumer(t, db, consumer, "", "kontakt@holdt.test")
		c := takenIncident(t, db, consumer)
		change := func(ch IncidentChange) (LifeResult, error) {
			c, _ = db.Incident(ctx, c.ID)
			ch.Status, ch.Owner, ch.AwareAt, ch.AccessLetter = c.Status, c.Owner, c.AwareAt, governance.Letter{Subject: "Gjenopptatt", Body: "…"}
			return db.ChangeIncident(ctx, c.ID, c.Version, ch, "user:u-cw")
		}
		if _, err := change(IncidentChange{Step: StepMeasure, Suspend: &IncidentSuspension{Consumer: consumer, Reason: "avvik", Letter: governance.Letter{Subject: "Suspendert", Body: "…"}},
			Measure: &incident.Measure{Kind: incident.MeasureStopAccess, Done: true, Note: "Stanset", Target: consumer, At: fixedNow()}}); err != nil {
			t.Fatal(err)
		}
		mail, _ := db.MailTo(ctx, consumer, 10)
		res, err := db.SuspendConsumer(ctx, consumer, "brudd på vilkårene", governance.Letter{Subject: "Suspendert", Body: "…"}, "user:u-admin")
		if err != nil || res.Grants != 0 || res.Letters != 0 {
			t.Fatalf("suspending a suspended consumer: %+v, %v", res, err)
		}
		if after, _ := db.MailTo(ctx, consumer, 10); len(after) != len(mail) {
			t.Fatal("a second suspension letter")
		}
		if cases, register, err := db.ConsumerStopHolders(ctx, consumer); err != nil || !register || !slices.Equal(cases, []string{c.ID}) {
			t.Fatalf("holders %v, register %v, %v", cases, register, err)
		}
		if _, err := db.SuspendConsumer(ctx, consumer, "igjen", governance.Letter{}, "user:u-admin"); !errors.Is(err, ErrConflict) {
			t.Fatalf("a second suspension by the register: %v", err)
		}
		if res, err := change(IncidentChange{Step: StepResume, ResumeConsumer: consumer}); err != nil || res.StillHeld != 1 {
			t.Fatalf("the case's resumption: %+v, %v", res, err)
		}
		if d := lifeDecide(t, db, consumer, ""); d.Permit {
			t.Fatal("resumed while the register holds the suspension")
		}
		if res, err := db.ResumeConsumer(ctx, consumer, governance.Letter{Subject: "Gjenopptatt", Body: "…"}, "user:u-admin"); err != nil || res.Grants != 2 {
			t.Fatalf("the register's resumption: %+v, %v", res, err)
		}
	})
}

// Rules AV-02, AA-25: a grant whose consumer's suspension a case holds is
// not resumed grant by grant (deling grant resume): ErrHeld naming the case,
// nothing changed; a consumer whose grants were resumed some other way
// anyway (before this check) does not keep the case from releasing its hold.
func TestGrantResumeRefusedWhileHeld(t *testing.T) {
	eachEngine(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		const consumer = "310000225"
		lifeConsumer(t, db, consumer, "", "kontakt@grant.test")
		c := takenIncident(t, db, consumer)
		change := func(ch IncidentChange) (LifeResult, error) {
			c, _ = db.Incident(ctx, c.ID)
			ch.Status, ch.Owner, ch.AwareAt, ch.AccessLetter = c.Status, c.Owner, c.AwareAt, governance.Letter{Subject: "Gjenopptatt", Body: "…"}
			return db.ChangeIncident(ctx, c.ID, c.Version, ch, "user:u-cw")
		}
		if _, err := change(IncidentChange{Step: StepMeasure, Suspend: &IncidentSuspension{Consumer: consumer, Reason: "avvik", Letter: governance.Letter{Subject: "Suspendert", Body: "…"}},
			Measure: &incident.Measure{Kind: incident.MeasureStopAccess, Done: true, Note: "Stanset", Target: consumer, At: fixedNow()}}); err != nil {
			t.Fatal(err)
		}
		gs, _ := db.Grants(ctx, consumer)
		var held []string
		for _, g := range gs {
			if g.Suspension == access.SuspendedByRegister {
				held = append(held, g.ID)
			}
		}
		if len(held) != 2 {
			t.Fatalf("suspended by the case: %d", len(held))
		}
		_, err := db.SetGrantStatus(ctx, held[0], access.Active, "ferdig", "cli:admin")
		if !errors.Is(err, ErrHeld) || !strings.Contains(err.Error(), "breach case "+c.ID) {
			t.Fatalf("grant resume while held: %v", err)
		}
		if d := lifeDecide(t, db, consumer, ""); d.Permit {
			t.Fatal("a refused grant resume gave access")
		}
		// Resumed some other way (as deling grant resume did before the check): the case still releases its hold.
		if _, err := db.write.ExecContext(ctx, `UPDATE grants SET status = 'active', suspension = '' WHERE consumer = $1 AND status = 'suspended' AND suspension = $2`,
			consumer, string(access.SuspendedByRegister)); err != nil {
			t.Fatal(err)
		}
		if res, err := change(IncidentChange{Step: StepResume, ResumeConsumer: consumer}); err != nil || res.StillHeld != 0 {
			t.Fatalf("the case's resumption: %+v, %v", res, err)
		}
		if cases, register, err := db.ConsumerStopHolders(ctx, consumer); err != nil || register || len(cases) != 0 {
			t.Fatalf("holders left %v %v %v", cases, register, err)
		}
	})
}

// ed25519Cert is a self-signed certificate with an Ed25519 (OKP) key, PEM.
func ed25519Cert(t *testing.T) string {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "ed25519"}, NotBefore: fixedNow().Add(-time.Hour), NotAfter: fixedNow().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, pub, priv)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

// A certificate with a key the token server does not take (Ed25519) is the
// caller's error, ErrBadKey, not a server error, and registers nothing; a
// key of another organisation's stopped client is ErrKeyUnusable, naming
// neither that client nor its organisation (Rule AV-02).
func TestClientKeysRefused(t *testing.T) {
	eachEngine(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		const org, other = "310000233", "310000241"
		lifeConsumer(t, db, org, "")
		lifeConsumer(t, db, other, "")
		bad := ClientKey{KID: "ed", Kind: KeyCertificate, Material: ed25519Cert(t)}
		if err := db.AddClient(ctx, ClientInfo{ID: "ed-klient", Orgnr: org, Keys: []ClientKey{bad}}, "test"); !errors.Is(err, ErrBadKey) {
			t.Fatalf("an Ed25519 certificate: %v", err)
		}
		if cs, _ := db.Clients(ctx, org); len(cs) != 0 {
			t.Fatalf("registered: %+v", cs)
		}
		if _, err := keyThumbprint(bad); !errors.Is(err, ErrBadKey) {
			t.Fatalf("thumbprint of an Ed25519 certificate: %v", err)
		}
		_, kid, jwk, err := token.NewClientKey("RS256")
		if err != nil {
			t.Fatal(err)
		}
		key := ClientKey{KID: kid, Kind: KeyJWK, Material: string(jwk)}
		if err := db.AddClient(ctx, ClientInfo{ID: "stanset-hemmelig", Orgnr: org, Keys: []ClientKey{key}}, "test"); err != nil {
			t.Fatal(err)
		}
		if err := db.AddClient(ctx, ClientInfo{ID: "klient-ok", Orgnr: other, Keys: []ClientKey{{KID: "x", Kind: KeyJWK, Material: string(mustJWK(t))}}}, "test"); err != nil {
			t.Fatal(err)
		}
		c := takenIncident(t, db, org)
		if _, err := db.ChangeIncident(ctx, c.ID, c.Version, IncidentChange{Step: StepMeasure, Status: c.Status, Owner: c.Owner, AwareAt: c.AwareAt,
			StopClient: "stanset-hemmelig", StopClientOrgs: []string{org}}, "user:u-cw"); err != nil {
			t.Fatal(err)
		}
		for _, err := range []error{
			db.AddClient(ctx, ClientInfo{ID: "ny", Orgnr: other, Keys: []ClientKey{key}}, "test"),
			db.RotateClientKey(ctx, other, "klient-ok", key, "test"),
		} {
			if !errors.Is(err, ErrKeyUnusable) || errors.Is(err, ErrStoppedKey) || strings.Contains(err.Error(), "stanset-hemmelig") || strings.Contains(err.Error(), org) {
				t.Fatalf("another organisation's stopped key: %v", err)
			}
		}
		if err := db.AddClient(ctx, ClientInfo{ID: "ny", Orgnr: org, Keys: []ClientKey{key}}, "test"); !errors.Is(err, ErrStoppedKey) {
			t.Fatalf("the organisation's own stopped key: %v", err)
		}
	})
}

func mustJWK(t *testing.T) []byte {
	t.Helper()
	_, _, jwk, err := token.NewClientKey("ES256")
	if err != nil {
		t.Fatal(err)
	}
	return jwk
}

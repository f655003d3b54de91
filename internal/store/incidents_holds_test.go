package store

import (
	"context"
	"errors"
	"strings"
	"testing"

	"deling/internal/governance"
	"deling/internal/incident"
	"deling/internal/token"
)

// Rules AV-02, AA-25: a client stop made from a case is held by that
// case. Two cases stop the same client; the first to resume releases only
// its own hold and the client stays stopped (with no letter); the second
// resumes it, and only then is it active and its organisation told. The
// stop and the real resumption each give the organisation's contacts a
// written notice. A stopped client's key cannot come back under a new
// client id, nor by a rotation of another client (Rule AV-02).
func TestIncidentClientStopHolds(t *testing.T) {
	eachEngine(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		const consumer = "310000129"
		lifeConsumer(t, db, consumer, "", "kontakt@holder.test")
		_, kid, jwk, err := token.NewClientKey("RS256")
		if err != nil {
			t.Fatal(err)
		}
		key := ClientKey{KID: kid, Kind: KeyJWK, Material: string(jwk)}
		if err := db.AddClient(ctx, ClientInfo{ID: "klient-h", Orgnr: consumer, Keys: []ClientKey{key}}, "test"); err != nil {
			t.Fatal(err)
		}
		_, kid2, jwk2, err := token.NewClientKey("ES256")
		if err != nil {
			t.Fatal(err)
		}
		if err := db.AddClient(ctx, ClientInfo{ID: "klient-annen", Orgnr: consumer, Keys: []ClientKey{{KID: kid2, Kind: KeyJWK, Material: string(jwk2)}}}, "test"); err != nil {
			t.Fatal(err)
		}
		a, b := takenIncident(t, db, consumer), takenIncident(t, db, consumer)
		letter := governance.Letter{Subject: "Klienten", Body: "…"}
		change := func(c IncidentCase, ch IncidentChange) (LifeResult, error) {
			c, _ = db.Incident(ctx, c.ID)
			ch.Status, ch.Owner, ch.AwareAt, ch.AccessLetter = c.Status, c.Owner, c.AwareAt, letter
			return db.ChangeIncident(ctx, c.ID, c.Version, ch, "user:u-cw")
		}
		stop := IncidentChange{Step: StepMeasure, StopClient: "klient-h", StopClientOrgs: []string{consumer},
			Measure: &incident.Measure{Kind: incident.MeasureStopAccess, Done: true, Note: "Stanset", Target: "klient:klient-h", At: fixedNow()}}
		resume := IncidentChange{Step: StepResume, ResumeClient: "klient-h"}
		mails := func() []governance.Letter { m, _ := db.MailTo(ctx, consumer, 100); return m }
		active := func() bool { ok, _ := db.ClientActive(ctx, "klient-h"); return ok }

		res, err := change(a, stop)
		if err != nil || active() {
			t.Fatalf("case A's stop: %v, active %v", err, active())
		}
		// Rule AA-25: the written notice of the stop.
		if m := mails(); res.Letters != 1 || len(m) == 0 || m[0].Kind != governance.LetterSuspension || m[0].To != "kontakt@holder.test" {
			t.Fatalf("stop letter: %d, %+v", res.Letters, m)
		}
		// Case A cannot hold it twice; case B holds it too (no second letter: it was stopped already).
		if _, err := change(a, stop); !errors.Is(err, ErrConflict) {
			t.Fatalf("case A stops again: %v", err)
		}
		before := len(mails())
		if res, err := change(b, stop); err != nil || res.Letters != 0 || len(mails()) != before {
			t.Fatalf("case B's stop: %v, %d letters", err, res.Letters)
		}
		if h, err := db.ClientStopHolders(ctx, "klient-h"); err != nil || len(h) != 2 || h[0] != a.ID && h[1] != a.ID {
			t.Fatalf("holders %v %v", h, err)
		}
		// Rule AV-02: while stopped, its key does not come back under a new id, nor onto another client.
		if err := db.AddClient(ctx, ClientInfo{ID: "klient-ny", Orgnr: consumer, Keys: []ClientKey{key}}, "test"); !errors.Is(err, ErrStoppedKey) {
			t.Fatalf("the stopped key registered anew: %v", err)
		}
		if _, err := db.Client(ctx, "klient-ny"); !errors.Is(err, token.ErrUnknownClient) {
			t.Fatalf("the refused client was stored: %v", err)
		}
		if err := db.RotateClientKey(ctx, consumer, "klient-annen", key, "test"); !errors.Is(err, ErrStoppedKey) {
			t.Fatalf("the stopped key rotated onto another client: %v", err)
		}
		if cl, _ := db.Client(ctx, "klient-annen"); len(cl.Keys) != 1 || cl.Keys[0].KID != kid2 {
			t.Fatalf("a refused rotation changed the keys: %+v", cl.Keys)
		}
		// Rule AV-02: case A resumes; case B still holds the stop.
		before = len(mails())
		res, err = change(a, resume)
		if err != nil || res.StillHeld != 1 || active() || len(mails()) != before {
			t.Fatalf("case A resumes: %v, still held %d, active %v, letters %d", err, res.StillHeld, active(), len(mails())-before)
		}
		if h, _ := db.ClientStopHolders(ctx, "klient-h"); len(h) != 1 || h[0] != b.ID {
			t.Fatalf("holders after A: %v", h)
		}
		if _, err := change(a, resume); !errors.Is(err, ErrConflict) && err != nil {
			t.Fatalf("case A resumes again: %v", err)
		}
		if active() {
			t.Fatal("case A's second resume undid case B's stop")
		}
		// Case B resumes: active, and the organisation is told (Rule AA-25).
		res, err = change(b, resume)
		if err != nil || res.StillHeld != 0 || !active() {
			t.Fatalf("case B resumes: %v, still held %d, active %v", err, res.StillHeld, active())
		}
		if m := mails(); res.Letters != 1 || m[0].Kind != governance.LetterResumption {
			t.Fatalf("resumption letter: %d, %+v", res.Letters, m[0])
		}
		// Active again: the key may be used again.
		if err := db.AddClient(ctx, ClientInfo{ID: "klient-ny", Orgnr: consumer, Keys: []ClientKey{key}}, "test"); err != nil {
			t.Fatalf("the key of a resumed client: %v", err)
		}
	})
}

// Rule AA-22: the letters to the consumers affected go once per case,
// consumer and phase: a second submit sends nothing, changes nothing and
// answers ErrExists; a consumer not yet written to in the phase gets its
// letter; another phase is a new letter.
func TestIncidentConsumerLettersOnce(t *testing.T) {
	eachEngine(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		const one, two = "310000137", "310000145"
		lifeConsumer(t, db, one, "", "en@once.test")
		lifeConsumer(t, db, two, "", "to@once.test")
		c := takenIncident(t, db, one)
		send := func(phase string, to ...string) (LifeResult, error) {
			c, _ = db.Incident(ctx, c.ID)
			ch := IncidentChange{Step: StepLetters, Status: c.Status, Owner: c.Owner, AwareAt: c.AwareAt, LetterPhase: phase}
			for _, o := range to {
				ch.ConsumerLetters = append(ch.ConsumerLetters, governance.Letter{Consumer: o, Kind: "incident.consumer", Subject: "Avvik", Body: "Til " + o})
			}
			return db.ChangeIncident(ctx, c.ID, c.Version, ch, "user:u-cw")
		}
		if res, err := send("forste", one); err != nil || res.Letters != 1 {
			t.Fatalf("first: %v %d", err, res.Letters)
		}
		c, _ = db.Incident(ctx, c.ID)
		version, history := c.Version, len(c.History)
		if _, err := send("forste", one); !errors.Is(err, ErrExists) {
			t.Fatalf("again: %v", err)
		}
		if after, _ := db.Incident(ctx, c.ID); after.Version != version || len(after.History) != history {
			t.Fatal("a refused second submit changed the case")
		}
		if m, _ := db.MailTo(ctx, one, 10); len(m) != 1 {
			t.Fatalf("the consumer got %d letters", len(m))
		}
		// A consumer added to the computation gets its letter; the first is not written to again.
		if res, err := send("forste", one, two); err != nil || res.Letters != 1 {
			t.Fatalf("with a new consumer: %v %d", err, res.Letters)
		}
		if m, _ := db.MailTo(ctx, one, 10); len(m) != 1 {
			t.Fatalf("the first consumer got %d letters", len(m))
		}
		if res, err := send("oppdatering", one); err != nil || res.Letters != 1 {
			t.Fatalf("another phase: %v %d", err, res.Letters)
		}
	})
}

// Rule AA-18: an answer to a support case cannot be overwritten — a second
// one is ErrExists and leaves the first; an unknown case is ErrNotFound;
// the reporter gets the answer by e-mail through the outbox.
func TestSupportAnswerOnce(t *testing.T) {
	eachEngine(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		const org = "310000153"
		lifeConsumer(t, db, org, "")
		u, err := db.CreateUser(ctx, governance.User{Email: "melder@svar.test", Navn: "Mona Melder"}, "",
			[]governance.Membership{{Org: org, Role: governance.Administrator}}, "test")
		if err != nil {
			t.Fatal(err)
		}
		id, err := db.ReportSupport(ctx, SupportCase{Kind: SupportChange, Title: "Nytt felt", Description: "Yrkeskode",
			ReporterUser: u.ID, ReporterName: "Mona Melder", ReporterOrg: org}, "user:"+u.ID)
		if err != nil {
			t.Fatal(err)
		}
		if err := db.AnswerSupport(ctx, id, "Kommer i versjon 3.", "Se saken på https://deling.test/portal/support", "user:sb"); err != nil {
			t.Fatal(err)
		}
		pending, _ := db.PendingMail(ctx, 100, 5)
		var got []governance.Letter
		for _, m := range pending {
			if m.To == "melder@svar.test" {
				got = append(got, m)
			}
		}
		if len(got) != 1 || got[0].Kind != LetterSupportAnswer || !strings.Contains(got[0].Body, "Kommer i versjon 3.") || !strings.Contains(got[0].Subject, "Nytt felt") {
			t.Fatalf("the reporter's e-mail: %+v", got)
		}
		if err := db.AnswerSupport(ctx, id, "Overskrevet", "", "user:sb2"); !errors.Is(err, ErrExists) {
			t.Fatalf("a second answer: %v", err)
		}
		cases, _ := db.SupportCases(ctx, org)
		if len(cases) != 1 || cases[0].Answer != "Kommer i versjon 3." {
			t.Fatalf("the answer after a second one: %+v", cases)
		}
		if again, _ := db.PendingMail(ctx, 100, 5); len(again) != len(pending) {
			t.Fatal("a refused answer queued an e-mail")
		}
		if err := db.AnswerSupport(ctx, "finnes-ikke", "x", "", "user:sb"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("an unknown case: %v", err)
		}
	})
}

// Rule AA-19: a change of priority is kept (old, new, who, when), and the
// first notice keeps the priority it was measured under.
func TestServicePriorityHistory(t *testing.T) {
	eachEngine(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		id, err := db.RecordServiceIncident(ctx, ServiceIncidentRecord{ServiceIncident: incident.ServiceIncident{Title: "Treg respons", Description: "…",
			Priority: incident.PriorityC, ReportedBy: incident.Actor{UserID: "sb", Name: "Sara", Org: incident.ControllerOrg}}}, "user:sb")
		if err != nil {
			t.Fatal(err)
		}
		s, _ := db.ServiceIncident(ctx, id)
		n := governance.Notice{Kind: governance.NoticeNews, Title: "Driftshendelse", Body: "Vi ser på det."}
		if err := db.ChangeServiceIncident(ctx, id, s.Version, ServiceChange{Notice: &n, Letter: governance.Letter{Subject: "s", Body: "b"}, By: "Sara"}, "user:sb"); err != nil {
			t.Fatal(err)
		}
		s, _ = db.ServiceIncident(ctx, id)
		if err := db.ChangeServiceIncident(ctx, id, s.Version, ServiceChange{Priority: incident.PriorityA, Reacted: true, By: "Per"}, "user:per"); err != nil {
			t.Fatal(err)
		}
		s, _ = db.ServiceIncident(ctx, id)
		if s.Priority != incident.PriorityA || s.FirstNoticePriority != incident.PriorityC || s.ReactedPriority != incident.PriorityA {
			t.Fatalf("priorities: now %s, first notice under %s, reaction under %s", s.Priority, s.FirstNoticePriority, s.ReactedPriority)
		}
		if len(s.Priorities) != 1 || s.Priorities[0].Old != incident.PriorityC || s.Priorities[0].New != incident.PriorityA ||
			s.Priorities[0].By != "Per" || !s.Priorities[0].At.Equal(fixedNow()) {
			t.Fatalf("history %+v", s.Priorities)
		}
		// The same priority again is no change.
		if err := db.ChangeServiceIncident(ctx, id, s.Version, ServiceChange{Priority: incident.PriorityA, Resolved: true, By: "Per"}, "user:per"); err != nil {
			t.Fatal(err)
		}
		if s, _ = db.ServiceIncident(ctx, id); len(s.Priorities) != 1 {
			t.Fatalf("history after no change: %+v", s.Priorities)
		}
	})
}

// Rules AV-02, AA-25: a consumer's suspension is held by each case that
// made it and by the register when made on the consumer's page. Two cases
// suspend the same consumer (the second without a second letter); the
// consumer page's resumption and the first case's leave it suspended; the
// second case's resumes it, with the letter. A suspension on the consumer's
// page is not lifted by a case's resumption.
func TestIncidentConsumerStopHolds(t *testing.T) {
	eachEngine(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		const consumer = "310000161"
		lifeConsumer(t, db, consumer, "", "kontakt@konsumenthold.test")
		a, b := takenIncident(t, db, consumer), takenIncident(t, db, consumer)
		change := func(c IncidentCase, ch IncidentChange) (LifeResult, error) {
			c, _ = db.Incident(ctx, c.ID)
			ch.Status, ch.Owner, ch.AwareAt, ch.AccessLetter = c.Status, c.Owner, c.AwareAt, governance.Letter{Subject: "Gjenopptatt", Body: "…"}
			return db.ChangeIncident(ctx, c.ID, c.Version, ch, "user:u-cw")
		}
		suspend := func(c IncidentCase) (LifeResult, error) {
			return change(c, IncidentChange{Step: StepMeasure, Suspend: &IncidentSuspension{Consumer: consumer, Reason: "avvik", Letter: governance.Letter{Subject: "Suspendert", Body: "…"}},
				Measure: &incident.Measure{Kind: incident.MeasureStopAccess, Done: true, Note: "Stanset", Target: consumer, At: fixedNow()}})
		}
		resume := func(c IncidentCase) (LifeResult, error) {
			return change(c, IncidentChange{Step: StepResume, ResumeConsumer: consumer})
		}
		active := func() int {
			gs, _ := db.Grants(ctx, consumer)
			n := 0
			for _, g := range gs {
				if g.Status == "active" {
					n++
				}
			}
			return n
		}
		mails := func() int { m, _ := db.MailTo(ctx, consumer, 100); return len(m) }
		if res, err := suspend(a); err != nil || res.Grants != 2 || res.Letters != 1 || active() != 0 {
			t.Fatalf("case A suspends: %v %+v, %d active", err, res, active())
		}
		if _, err := suspend(a); !errors.Is(err, ErrConflict) {
			t.Fatalf("case A again: %v", err)
		}
		n := mails()
		if res, err := suspend(b); err != nil || res.Letters != 0 || mails() != n {
			t.Fatalf("case B suspends a suspended consumer: %v %+v", err, res)
		}
		if cases, register, _ := db.ConsumerStopHolders(ctx, consumer); len(cases) != 2 || register {
			t.Fatalf("holders %v %v", cases, register)
		}
		// The consumer page cannot lift what the cases hold.
		if res, err := db.ResumeConsumer(ctx, consumer, governance.Letter{Subject: "Gjenopptatt", Body: "…"}, "user:u-cw"); err != nil || res.StillHeld != 2 || active() != 0 {
			t.Fatalf("the consumer page resumes: %v %+v, %d active", err, res, active())
		}
		if res, err := resume(a); err != nil || res.StillHeld != 1 || active() != 0 || mails() != n {
			t.Fatalf("case A resumes: %v %+v, %d active", err, res, active())
		}
		if res, err := resume(b); err != nil || res.StillHeld != 0 || res.Grants != 2 || res.Letters != 1 || active() != 2 {
			t.Fatalf("case B resumes: %v %+v, %d active", err, res, active())
		}
		// Suspended on the consumer's page, then by a case: the case's resumption leaves the register's hold.
		if _, err := db.SuspendConsumer(ctx, consumer, "brudd på vilkårene", governance.Letter{Subject: "Suspendert", Body: "…"}, "user:u-cw"); err != nil {
			t.Fatal(err)
		}
		if _, err := suspend(a); err != nil {
			t.Fatalf("case A holds the register's suspension too: %v", err)
		}
		if res, err := resume(a); err != nil || res.StillHeld != 1 || active() != 0 {
			t.Fatalf("case A resumes over the register's suspension: %v %+v, %d active", err, res, active())
		}
		if res, err := db.ResumeConsumer(ctx, consumer, governance.Letter{Subject: "Gjenopptatt", Body: "…"}, "user:u-cw"); err != nil || res.Grants != 2 || active() != 2 {
			t.Fatalf("the consumer page resumes last: %v %+v, %d active", err, res, active())
		}
	})
}

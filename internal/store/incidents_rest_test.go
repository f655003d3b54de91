package store

import (
	"context"
	"errors"
	"testing"
	"time"

	"deling/internal/governance"
	"deling/internal/incident"
	"deling/internal/token"
)

// takenIncident reports a breach by org and has a case worker take it; it returns the case.
func takenIncident(t *testing.T, db *DB, org string) IncidentCase {
	t.Helper()
	ctx := context.Background()
	now := fixedNow()
	rep := incident.Report{What: "Klientnøkkel på avveie", DiscoveredAt: now.Add(-time.Hour),
		ReportedBy: incident.Actor{UserID: "u-rep", Org: org, Role: incident.Reporter, Name: "Rita Rapport"}, ReportedAt: now}
	id, err := db.ReportIncident(ctx, rep, "", nil, "user:u-rep")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.ChangeIncident(ctx, id, 1, IncidentChange{Step: string(incident.StepAssess), Status: incident.StatusAssessing,
		Owner: "u-cw", AwareAt: now, By: "Sara Saksbehandler"}, "user:u-cw"); err != nil {
		t.Fatal(err)
	}
	c, err := db.Incident(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// Rule AV-02: a stop-access measure stops one API client, only of the
// organisations the case may stop, in the measure's transaction; the client
// is then refused by the token server (token.Client.Active) and by the API
// (ClientActive); a case worker resumes it. A refused stop changes nothing.
func TestIncidentStopClient(t *testing.T) {
	eachEngine(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		const consumer, other = "310000072", "310000080"
		lifeConsumer(t, db, consumer, "")
		lifeConsumer(t, db, other, "")
		_, kid, jwk, err := token.NewClientKey("RS256")
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []ClientInfo{{ID: "klient-a", Orgnr: consumer}, {ID: "klient-b", Orgnr: consumer}, {ID: "klient-x", Orgnr: other}} {
			c.Keys = []ClientKey{{KID: kid, Kind: KeyJWK, Material: string(jwk)}}
			if err := db.AddClient(ctx, c, "test"); err != nil {
				t.Fatal(err)
			}
		}
		c := takenIncident(t, db, consumer)
		measure := func(target string) *incident.Measure {
			return &incident.Measure{Kind: incident.MeasureStopAccess, Done: true, Note: "Stanset klienten", Target: target, At: fixedNow()}
		}
		// Another organisation's client: refused, and neither the client nor the case changed.
		_, err = db.ChangeIncident(ctx, c.ID, c.Version, IncidentChange{Step: StepMeasure, Status: c.Status, Owner: c.Owner, AwareAt: c.AwareAt,
			Measure: measure("klient:klient-x"), StopClient: "klient-x", StopClientOrgs: []string{consumer}}, "user:u-cw")
		if !errors.Is(err, ErrConflict) {
			t.Fatalf("another's client: %v", err)
		}
		if ok, _ := db.ClientActive(ctx, "klient-x"); !ok {
			t.Fatal("another organisation's client was stopped")
		}
		if after, _ := db.Incident(ctx, c.ID); after.Version != c.Version || len(after.Measures) != 0 {
			t.Fatalf("a refused stop changed the case: version %d, %d measures", after.Version, len(after.Measures))
		}
		// The case's organisation's client: stopped with the measure.
		if _, err := db.ChangeIncident(ctx, c.ID, c.Version, IncidentChange{Step: StepMeasure, Status: c.Status, Owner: c.Owner, AwareAt: c.AwareAt,
			Measure: measure("klient:klient-a"), StopClient: "klient-a", StopClientOrgs: []string{consumer}}, "user:u-cw"); err != nil {
			t.Fatal(err)
		}
		if ok, _ := db.ClientActive(ctx, "klient-a"); ok {
			t.Fatal("the client is still active for the API")
		}
		if cl, _ := db.Client(ctx, "klient-a"); cl.Active {
			t.Fatal("the token server still sees the client active")
		}
		if ok, _ := db.ClientActive(ctx, "klient-b"); !ok {
			t.Fatal("the organisation's other client was stopped too")
		}
		if ok, err := db.ClientActive(ctx, "finnes-ikke"); ok || err != nil {
			t.Fatalf("an unknown client: %v %v", ok, err)
		}
		c, _ = db.Incident(ctx, c.ID)
		if len(c.Measures) != 1 || c.Measures[0].Target != "klient:klient-a" {
			t.Fatalf("measures %+v", c.Measures)
		}
		// Resumed: active again; a second resume finds nothing to resume.
		if _, err := db.ChangeIncident(ctx, c.ID, c.Version, IncidentChange{Step: StepResume, Status: c.Status, Owner: c.Owner, AwareAt: c.AwareAt,
			ResumeClient: "klient-a"}, "user:u-cw"); err != nil {
			t.Fatal(err)
		}
		if ok, _ := db.ClientActive(ctx, "klient-a"); !ok {
			t.Fatal("not resumed")
		}
		c, _ = db.Incident(ctx, c.ID)
		if _, err := db.ChangeIncident(ctx, c.ID, c.Version, IncidentChange{Step: StepResume, Status: c.Status, Owner: c.Owner, AwareAt: c.AwareAt,
			ResumeClient: "klient-a"}, "user:u-cw"); !errors.Is(err, ErrConflict) {
			t.Fatalf("resuming an active client: %v", err)
		}
		steps := incidentEvents(t, db, c.ID)
		if last := steps[len(steps)-1]; last["step"] != StepResume {
			t.Fatalf("the log's last step %v", last)
		}
	})
}

// Rules AV-06, AA-22, AV-08: notices to persons are recorded per person,
// e-mailed to those with an address in the portal and kept for their own
// page, never twice on a case; letters to the consumers go to their
// contacts; the follow-up is kept on the case; closing needs the persons
// notified when the decision says so.
func TestIncidentNoticesAndFollowUp(t *testing.T) {
	eachEngine(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		const consumer = "310000099"
		lifeConsumer(t, db, consumer, "", "kontakt@berort.test")
		const withAddress, withoutAddress = "01017012345", "02027012345"
		if _, err := db.CreateUser(ctx, governance.User{Email: "ola@person.test", Navn: "Ola Person", PID: withAddress}, "",
			[]governance.Membership{{Org: "", Role: governance.Person}}, "test"); err != nil {
			t.Fatal(err)
		}
		// An account made at the first sign-in with ID-porten has no address to e-mail (issue 16, item 6).
		if _, _, err := db.SignInPerson(ctx, Identity{Issuer: "https://idporten.test", Subject: "s"}, withoutAddress); err != nil {
			t.Fatal(err)
		}
		c := takenIncident(t, db, consumer)
		before, _ := db.PendingMail(ctx, 100, 5)
		notice := func(pid string) IncidentPersonNotice {
			return IncidentPersonNotice{PID: pid, Subject: "Brudd på sikkerheten rundt personopplysninger om deg", Body: "Hei,\n…"}
		}
		ch := IncidentChange{Step: StepPersons, Status: c.Status, Owner: c.Owner, AwareAt: c.AwareAt,
			Persons:         []IncidentPersonNotice{notice(withAddress), notice(withoutAddress)},
			ConsumerLetters: []governance.Letter{{Consumer: consumer, Kind: "incident.consumer", Subject: "Avvik", Body: "…"}}}
		res, err := db.ChangeIncident(ctx, c.ID, c.Version, ch, "user:u-cw")
		if err != nil {
			t.Fatal(err)
		}
		after, _ := db.PendingMail(ctx, 100, 5)
		var toPerson, toContact int
		for _, m := range after[len(before):] {
			switch {
			case m.To == "ola@person.test" && m.Kind == LetterPersonNotice:
				toPerson++
			case m.To == "kontakt@berort.test" && m.Consumer == consumer:
				toContact++
			}
		}
		if toPerson != 1 || toContact != 1 || res.Letters != 1 || len(after)-len(before) != 2 {
			t.Fatalf("letters: %d to the person, %d to the contact, %d new", toPerson, toContact, len(after)-len(before))
		}
		c, _ = db.Incident(ctx, c.ID)
		counts, err := db.IncidentNoticeCounts(ctx, c.ID)
		if err != nil || c.PersonsNotified != 2 || counts[DeliveryEmail] != 1 || counts[DeliveryPortal] != 1 {
			t.Fatalf("notified %d, counts %v %v", c.PersonsNotified, counts, err)
		}
		// Each person sees only their own notice.
		if ns, _ := db.IncidentPersonNotices(ctx, withoutAddress); len(ns) != 1 || ns[0].Incident != c.ID || ns[0].Delivery != DeliveryPortal {
			t.Fatalf("notices of the person without an address: %+v", ns)
		}
		if ns, _ := db.IncidentPersonNotices(ctx, "03037012345"); len(ns) != 0 {
			t.Fatalf("a person not affected sees %d notices", len(ns))
		}
		// Again: nobody is notified twice.
		if _, err := db.ChangeIncident(ctx, c.ID, c.Version, IncidentChange{Step: StepPersons, Status: c.Status, Owner: c.Owner, AwareAt: c.AwareAt,
			Persons: []IncidentPersonNotice{notice(withAddress)}}, "user:u-cw"); err != nil {
			t.Fatal(err)
		}
		if again, _ := db.PendingMail(ctx, 100, 5); len(again) != len(after) {
			t.Fatalf("a second notice to the same person was queued")
		}
		// Rule AV-08: the follow-up is kept; a change without it leaves it.
		c, _ = db.Incident(ctx, c.ID)
		due := fixedNow().Add(30 * 24 * time.Hour)
		f := IncidentFollowUp{Lessons: "Nøkler roteres", ReviewAt: due, Items: []incident.FollowUpItem{{Area: incident.LessonSystems,
			Finding: "Nøkkel lå i repo", Action: "Hemmelighetsskanning", Owner: "IT", Due: due}}}
		if _, err := db.ChangeIncident(ctx, c.ID, c.Version, IncidentChange{Step: StepFollowUp, Status: c.Status, Owner: c.Owner, AwareAt: c.AwareAt,
			FollowUp: &f}, "user:u-cw"); err != nil {
			t.Fatal(err)
		}
		c, _ = db.Incident(ctx, c.ID)
		if _, err := db.ChangeIncident(ctx, c.ID, c.Version, IncidentChange{Step: StepMeasure, Status: c.Status, Owner: c.Owner, AwareAt: c.AwareAt,
			Measure: &incident.Measure{Kind: incident.MeasureMapEvents, Done: true, Note: "Kartlagt", At: fixedNow()}}, "user:u-cw"); err != nil {
			t.Fatal(err)
		}
		c, _ = db.Incident(ctx, c.ID)
		if c.Lessons != f.Lessons || !c.ReviewAt.Equal(due) || len(c.FollowUp) != 1 || c.FollowUp[0].Owner != "IT" || !c.FollowUp[0].Due.Equal(due) {
			t.Fatalf("follow-up %q %v %+v", c.Lessons, c.ReviewAt, c.FollowUp)
		}
	})
}

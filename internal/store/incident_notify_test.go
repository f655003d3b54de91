package store

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"deling/internal/audit"
	"deling/internal/governance"
	"deling/internal/incident"
)

// notifyCase is a taken case reported by reporter, with persons lookups by
// consumer in the log (ids 0..persons-1, each returned once), a signed
// checkpoint, a computation of who was affected, a measure and the decision
// to notify the persons. It returns the case and the computation.
func notifyCase(t *testing.T, db *DB, reporter, consumer string, persons int) (IncidentCase, incident.AffectedCount) {
	t.Helper()
	ctx := context.Background()
	c := takenIncident(t, db, reporter)
	pid := func(i int) string { return fmt.Sprintf("1%010d", i) }
	for from := 0; from < persons; from += 100 {
		var idents []string
		for i := from; i < min(from+100, persons); i++ {
			idents = append(idents, pid(i))
		}
		r := audit.Record{Kind: audit.KindLookup, Channel: "api", Consumer: consumer, Time: fixedNow().Add(-time.Hour), Decision: audit.Permit,
			Returned: idents, ResultCount: len(idents)}
		if err := db.Append(ctx, &r); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.Integrate(ctx); err != nil {
		t.Fatal(err)
	}
	size, root, err := db.LogRoot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.AddCheckpoint(ctx, size, root, []byte("test checkpoint\n")); err != nil {
		t.Fatal(err)
	}
	a := incident.AffectedCount{Consumer: consumer, CheckpointSize: size, CheckpointRoot: base64.StdEncoding.EncodeToString(root), At: fixedNow()}
	l, err := db.Affected(ctx, AffectedScope(a))
	if err != nil || len(l.Persons) != persons {
		t.Fatalf("affected: %d persons, %v", len(l.Persons), err)
	}
	a.Persons, a.Records, a.Consumers = len(l.Persons), l.Records, l.Consumers
	d := &incident.Decision{NotifyDT: true, Reason: "Høy risiko", Persons: incident.PersonsNotify, PersonsReason: "Inntekt"}
	if _, err := db.ChangeIncident(ctx, c.ID, c.Version, IncidentChange{Step: StepAffected, Status: c.Status, Owner: c.Owner, AwareAt: c.AwareAt,
		Affected: &a, Decision: d, Measure: &incident.Measure{Kind: incident.MeasureStopAccess, Done: true, Note: "Stanset", At: fixedNow()}}, "user:u-cw"); err != nil {
		t.Fatal(err)
	}
	c, err = db.Incident(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	return c, c.Affected[len(c.Affected)-1]
}

// Rules AV-06, AV-07, AA-22: notifying the persons is a job started on the
// case and carried out in batches of NotifyBatch, each its own transaction;
// stopped after one batch (as a crash or a new leader would) and run again,
// it resumes where it stopped and every person has exactly one notice (one
// e-mail to a person with an address); the progress is right at each point;
// a second job while one runs, and a start on a stale version, are refused.
// The case cannot close until the job finished for the whole list, the
// persons without an address are reached by a public notice (art.
// 34(3)(c)) and the consumers got their letters (AA-22); a list the log no
// longer gives stops a job for good.
func TestIncidentNotifyJob(t *testing.T) {
	eachEngine(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		const processor, consumer = "310000111", "310000129"
		lifeConsumer(t, db, consumer, "", "kontakt@berort.test")
		const persons = 2*NotifyBatch + 201
		withAddress := []string{fmt.Sprintf("1%010d", 3), fmt.Sprintf("1%010d", 2*NotifyBatch+7)} // in the first and the last batch
		for i, pid := range withAddress {
			if _, err := db.CreateUser(ctx, governance.User{Email: fmt.Sprintf("p%d@person.test", i), Navn: "Person", PID: pid}, "",
				[]governance.Membership{{Role: governance.Person}}, "test"); err != nil {
				t.Fatal(err)
			}
		}
		c, a := notifyCase(t, db, processor, consumer, persons)
		j := IncidentNotifyJob{Computation: a.ID, Subject: "Brudd på sikkerheten rundt personopplysninger om deg", Body: "Hei,\nskrevet for deg.\n",
			Total: a.Persons, StartedBy: "Sara Saksbehandler"}
		if _, err := db.StartIncidentNotify(ctx, c.ID, c.Version-1, j, "user:u-cw"); !errors.Is(err, ErrConflict) {
			t.Fatalf("a start on a stale version: %v", err)
		}
		jobID, err := db.StartIncidentNotify(ctx, c.ID, c.Version, j, "user:u-cw")
		if err != nil {
			t.Fatal(err)
		}
		c, _ = db.Incident(ctx, c.ID)
		if _, err := db.StartIncidentNotify(ctx, c.ID, c.Version, j, "user:u-cw"); !errors.Is(err, ErrConflict) {
			t.Fatalf("a second job while one runs: %v", err)
		}
		progress := func(wantDone int, wantState string) IncidentNotifyJob {
			t.Helper()
			jobs, err := db.IncidentNotifyJobs(ctx, c.ID)
			if err != nil || len(jobs) != 1 || jobs[0].ID != jobID {
				t.Fatalf("jobs %+v, %v", jobs, err)
			}
			var n, distinct int
			if err := db.read.queryRow(ctx, `SELECT COUNT(*), COUNT(DISTINCT person_pid) FROM incident_person_notices WHERE incident = $1`, c.ID).Scan(&n, &distinct); err != nil {
				t.Fatal(err)
			}
			if g := jobs[0]; g.Done != wantDone || g.Total != persons || g.State != wantState || n != wantDone || distinct != wantDone {
				t.Fatalf("progress %d of %d (%s), %d notices of %d persons; want %d (%s)", g.Done, g.Total, g.State, n, distinct, wantDone, wantState)
			}
			return jobs[0]
		}
		progress(0, NotifyRunning)
		missing := func() string { c, _ := db.Incident(ctx, c.ID); return strings.Join(c.CloseMissing(), " ") }
		if m := missing(); !strings.Contains(m, fmt.Sprintf("ikke ferdig (0 av %d)", persons)) {
			t.Fatalf("close guard before the job ran: %q", m)
		}
		mailBefore, _ := db.PendingMail(ctx, 100, 5)

		// One batch, then the node stops (a crash after the commit, or leadership moving).
		if n, err := db.RunIncidentNotices(ctx, NotifyBatch, 1); err != nil || n != NotifyBatch {
			t.Fatalf("first batch: %d, %v", n, err)
		}
		progress(NotifyBatch, NotifyRunning)
		if m := missing(); !strings.Contains(m, fmt.Sprintf("ikke ferdig (%d av %d)", NotifyBatch, persons)) {
			t.Fatalf("close guard mid-way: %q", m)
		}
		if c, _ := db.Incident(ctx, c.ID); c.Ready(incident.StepClose, incident.Actor{Org: governance.AuthorityOrg, Role: incident.CaseWorker}) == nil {
			t.Fatal("the case may close mid-way")
		}
		// A run whose context has ended does nothing.
		stopped, cancel := context.WithCancel(ctx)
		cancel()
		if n, _ := db.RunIncidentNotices(stopped, NotifyBatch, 0); n != 0 {
			t.Fatalf("a stopped run notified %d", n)
		}
		progress(NotifyBatch, NotifyRunning)

		// Run again: it resumes and finishes; again: nothing more.
		if n, err := db.RunIncidentNotices(ctx, NotifyBatch, 0); err != nil || n != persons-NotifyBatch {
			t.Fatalf("the rest: %d, %v", n, err)
		}
		if g := progress(persons, NotifyFinished); g.FinishedAt.IsZero() || g.Failures != 0 {
			t.Fatalf("finished job %+v", g)
		}
		if n, err := db.RunIncidentNotices(ctx, NotifyBatch, 0); err != nil || n != 0 {
			t.Fatalf("a finished job ran again: %d, %v", n, err)
		}
		progress(persons, NotifyFinished)
		mailAfter, _ := db.PendingMail(ctx, 100, 5)
		got := map[string]int{}
		for _, m := range mailAfter[len(mailBefore):] {
			if m.Kind != LetterPersonNotice || m.Body != j.Body {
				t.Fatalf("an unexpected letter %+v", m)
			}
			got[m.To]++
		}
		if len(got) != 2 || got["p0@person.test"] != 1 || got["p1@person.test"] != 1 {
			t.Fatalf("e-mails to persons: %v", got)
		}
		if ns, _ := db.IncidentPersonNotices(ctx, fmt.Sprintf("1%010d", 9)); len(ns) != 1 || ns[0].Delivery != DeliveryPortal || ns[0].Body != j.Body {
			t.Fatalf("a person without an address: %+v", ns)
		}
		steps := incidentEvents(t, db, c.ID)
		var started, done int
		for _, ev := range steps {
			switch ev["step"] {
			case StepPersons:
				started++
			case StepPersonsDone:
				done++
			}
		}
		if started != 1 || done != 1 {
			t.Fatalf("log: %d starts, %d finishes", started, done)
		}

		// Rule AV-06: persons without an address need the public notice; Rule AA-22: the consumer its letter.
		m := missing()
		if !strings.Contains(m, fmt.Sprintf("%d berørte har ingen adresse", persons-2)) || !strings.Contains(m, "Kommune "+consumer+" (org.nr. "+consumer+")") {
			t.Fatalf("close guard after the job: %q", m)
		}
		if _, err := db.PublishIncidentPublicNotice(ctx, c.ID, governance.Notice{Title: "Brudd", Body: "Har du vært ansatt …"}, "Sara", "user:u-cw"); err != nil {
			t.Fatal(err)
		}
		if _, err := db.PublishIncidentPublicNotice(ctx, c.ID, governance.Notice{Title: "Brudd", Body: "Igjen"}, "Sara", "user:u-cw"); !errors.Is(err, ErrConflict) {
			t.Fatalf("a second public notice: %v", err)
		}
		if ns, _ := db.Notices(ctx, 10); len(ns) != 1 || ns[0].Body != "Har du vært ansatt …" {
			t.Fatalf("public notices %+v", ns)
		}
		c, _ = db.Incident(ctx, c.ID)
		if _, err := db.ChangeIncident(ctx, c.ID, c.Version, IncidentChange{Step: StepLetters, Status: c.Status, Owner: c.Owner, AwareAt: c.AwareAt,
			Decision: c.Decision, ConsumerLetters: []governance.Letter{{Consumer: consumer, Kind: "incident.consumer", Subject: "Avvik", Body: "…"}}}, "user:u-cw"); err != nil {
			t.Fatal(err)
		}
		if m := missing(); m != "" {
			t.Fatalf("still missing: %q", m)
		}

		// A computation the log no longer gives (here: counts that do not match) stops its job for good.
		c, _ = db.Incident(ctx, c.ID)
		bad := a
		bad.ID, bad.Persons = "", a.Persons+1
		if _, err := db.ChangeIncident(ctx, c.ID, c.Version, IncidentChange{Step: StepAffected, Status: c.Status, Owner: c.Owner, AwareAt: c.AwareAt,
			Decision: c.Decision, Affected: &bad}, "user:u-cw"); err != nil {
			t.Fatal(err)
		}
		c, _ = db.Incident(ctx, c.ID)
		j.Computation, j.Total = c.Affected[len(c.Affected)-1].ID, bad.Persons
		if _, err := db.StartIncidentNotify(ctx, c.ID, c.Version, j, "user:u-cw"); err != nil {
			t.Fatal(err)
		}
		if _, err := db.RunIncidentNotices(ctx, NotifyBatch, 0); !errors.Is(err, ErrAffectedChanged) {
			t.Fatalf("a changed list: %v", err)
		}
		jobs, _ := db.IncidentNotifyJobs(ctx, c.ID)
		if g := jobs[0]; g.State != NotifyFailed || g.Failures != 1 || g.Done != 0 || g.LastError == "" {
			t.Fatalf("the failed job %+v", g)
		}
		if m := missing(); !strings.Contains(m, "stanset") {
			t.Fatalf("close guard with a failed job: %q", m)
		}
	})
}

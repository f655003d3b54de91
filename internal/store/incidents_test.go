package store

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"deling/internal/access"
	"deling/internal/audit"
	"deling/internal/governance"
	"deling/internal/incident"
)

// incidentEvents are the log's events of breach case id, in order.
func incidentEvents(t *testing.T, db *DB, id string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, r := range lifeEvents(t, db, "", audit.KindIncident) {
		var ev map[string]any
		if err := json.Unmarshal(r.Event, &ev); err != nil {
			t.Fatal(err)
		}
		if ev["incident"] == id {
			out = append(out, ev)
		}
	}
	return out
}

// Rules AV-01, AV-02, AV-03, AV-05, AV-07, AA-21, DPA-08: a breach case from the
// report to the filing, each step with its history entry and its event in the
// log in one transaction; a stop-access measure suspends the consumer in the
// same transaction; a stale page's step is refused; reminders go out once.
func TestIncidentLifecycle(t *testing.T) {
	eachEngine(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		const consumer, processor = "310000031", "310000049"
		lifeConsumer(t, db, consumer, "", "kontakt@kommune.test")
		now := fixedNow()
		reporter := incident.Actor{UserID: "u-proc", Org: processor, Role: incident.Reporter, Name: "Petter Prosess"}
		// Rule AV-03: a processor's report names when it became aware.
		rep := incident.Report{What: "Feilsendt uttrekk", DiscoveredAt: now.Add(-5 * time.Hour), ByProcessor: true,
			ProcessorAwareAt: now.Add(-4 * time.Hour), ConsumerNotifiedDT: true, ConsumerNotifiedDTAt: now.Add(-time.Hour),
			ReportedBy: reporter, ReportedAt: now}
		if bad := rep.Validate(now); len(bad) > 0 {
			t.Fatal(bad)
		}
		// Rule AA-21: the DPO's letter is queued with the report.
		dpo := governance.Letter{Kind: "incident.dpo", To: "pvo@register.test", Subject: "Avvik meldt til Datatilsynet", Body: "…"}
		id, err := db.ReportIncident(ctx, rep, IncidentReferenceHash("AVVIK-TEST"), []governance.Letter{dpo}, "user:u-proc")
		if err != nil {
			t.Fatal(err)
		}
		pending, _ := db.PendingMail(ctx, 10, 5)
		if len(pending) != 1 || pending[0].To != "pvo@register.test" {
			t.Fatalf("DPO letter: %+v", pending)
		}
		c, err := db.Incident(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if c.Status != incident.StatusReported || c.Report.What != rep.What || !c.Report.ProcessorAwareAt.Equal(rep.ProcessorAwareAt) ||
			c.Version != 1 || len(c.History) != 1 {
			t.Fatalf("stored %+v", c)
		}
		// Rule AV-03: the clock runs from the processor's awareness.
		if got, want := incident.NotifyDeadline(c.Awareness()), now.Add(68*time.Hour); !got.Equal(want) {
			t.Fatalf("deadline %v, want %v", got, want)
		}
		if byRef, err := db.IncidentByReference(ctx, IncidentReferenceHash("AVVIK-TEST")); err != nil || byRef.ID != id {
			t.Fatalf("by reference: %v %v", byRef.ID, err)
		}
		if _, err := db.IncidentByReference(ctx, IncidentReferenceHash("AVVIK-GJETTET")); !errors.Is(err, ErrNotFound) {
			t.Fatalf("a guessed reference: %v", err)
		}

		// The reporter's organisation sees it; another does not; staff see all.
		for _, tc := range []struct {
			f    IncidentFilter
			want int
		}{{IncidentFilter{All: true}, 1}, {IncidentFilter{Org: processor}, 1}, {IncidentFilter{User: "u-proc"}, 1},
			{IncidentFilter{User: "u-other", Org: "310000057"}, 0}, {IncidentFilter{Org: incident.ControllerOrg}, 0},
			{IncidentFilter{All: true, Open: true}, 1}} {
			if got, err := db.Incidents(ctx, tc.f); err != nil || len(got) != tc.want {
				t.Fatalf("%+v: %d cases, %v", tc.f, len(got), err)
			}
		}

		// A case worker takes it.
		if _, err := db.ChangeIncident(ctx, id, c.Version, IncidentChange{Step: string(incident.StepAssess), Status: incident.StatusAssessing,
			Owner: "u-cw", AwareAt: now, By: "Saks Behandler"}, "user:u-cw"); err != nil {
			t.Fatal(err)
		}
		// A step on the old version is refused, and changes nothing.
		if _, err := db.ChangeIncident(ctx, id, c.Version, IncidentChange{Step: string(incident.StepAssess), Status: incident.StatusAssessing}, "user:x"); !errors.Is(err, ErrConflict) {
			t.Fatalf("stale step: %v", err)
		}
		c, _ = db.Incident(ctx, id)

		// Rule AV-02: stop access suspends the consumer in the same transaction, with its notice (Rule AA-25).
		m := &incident.Measure{Kind: incident.MeasureStopAccess, Done: true, Note: "Stanset tilgangen", Target: consumer,
			By: incident.Actor{UserID: "u-cw", Org: incident.ControllerOrg, Role: incident.CaseWorker, Name: "Saks Behandler"}, At: now}
		res, err := db.ChangeIncident(ctx, id, c.Version, IncidentChange{Step: StepMeasure, Status: c.Status, Owner: c.Owner, AwareAt: c.AwareAt,
			Measure: m, By: "Saks Behandler", Suspend: &IncidentSuspension{Consumer: consumer, Reason: "avvik", Letter: governance.Letter{Subject: "Suspendert", Body: "…"}}}, "user:u-cw")
		if err != nil {
			t.Fatal(err)
		}
		if res.Grants != 2 || res.Letters != 1 {
			t.Fatalf("suspension %+v", res)
		}
		if d := lifeDecide(t, db, consumer, ""); d.Permit || d.Reason != access.DenyGrantSuspended {
			t.Fatalf("after stop access: %v %v", d.Permit, d.Reason)
		}
		// A second stop access finds nothing active: the whole step fails, no measure is stored.
		c, _ = db.Incident(ctx, id)
		if _, err := db.ChangeIncident(ctx, id, c.Version, IncidentChange{Step: StepMeasure, Status: c.Status, Owner: c.Owner, AwareAt: c.AwareAt,
			Measure: m, Suspend: &IncidentSuspension{Consumer: consumer, Reason: "igjen"}}, "user:u-cw"); !errors.Is(err, ErrConflict) {
			t.Fatalf("second suspension: %v", err)
		}
		if c2, _ := db.Incident(ctx, id); len(c2.Measures) != 1 || c2.Version != c.Version || c2.Measures[0].Target != consumer {
			t.Fatalf("after a failed step: %d measures, version %d", len(c2.Measures), c2.Version)
		}

		// Risk, decision and the initial filing (Rules AV-04, AV-05, DPA-08).
		risk := &incident.Assessment{Data: []incident.DataScore{{Category: incident.DataFinancial, Reason: "inntekt"}}, EI: incident.EIMaximum, EIReason: "fnr"}
		dec := &incident.Decision{NotifyDT: true, Reason: "risiko", Persons: incident.PersonsNotRequired, PersonsReason: "ikke høy"}
		f := &incident.Filing{Phase: incident.PhaseInitial, MoreToFollow: true, Content: incident.Content{Nature: "Feilsendt", Contact: incident.Contact{Name: "PVO"}}, At: now}
		for _, ch := range []IncidentChange{
			{Step: StepRisk, Status: incident.StatusAssessing, Risk: risk},
			{Step: string(incident.StepDecideNotify), Status: incident.StatusDecidedNotify, Risk: risk, Decision: dec},
			{Step: string(incident.StepFileInitial), Status: incident.StatusNotified, Risk: risk, Decision: dec, Filing: f},
		} {
			c, _ = db.Incident(ctx, id)
			ch.Owner, ch.AwareAt = c.Owner, c.AwareAt
			if _, err := db.ChangeIncident(ctx, id, c.Version, ch, "user:u-cw"); err != nil {
				t.Fatal(err)
			}
		}
		c, _ = db.Incident(ctx, id)
		if c.Status != incident.StatusNotified || c.Risk == nil || c.Risk.Score() != 3 || c.Decision == nil || !c.Decision.NotifyDT ||
			len(c.Filings) != 1 || !c.Filings[0].MoreToFollow || c.Owner != "u-cw" || !c.AwareAt.Equal(now) {
			t.Fatalf("after filing: %+v", c.Breach)
		}
		// Rule AV-07: every step in the history and in the log.
		evs := incidentEvents(t, db, id)
		wantSteps := []string{"meld", "vurder", "tiltak", "risikovurdering", "besluttet_melde", "send_forste_melding"}
		if len(evs) != len(wantSteps) || len(c.History) != len(wantSteps) {
			t.Fatalf("%d events, %d history entries, want %d", len(evs), len(c.History), len(wantSteps))
		}
		for i, s := range wantSteps {
			if evs[i]["step"] != s || c.History[i].Step != s || evs[i]["sha256"] == "" {
				t.Fatalf("step %d: event %v, history %v, want %s", i, evs[i], c.History[i].Step, s)
			}
		}
		if got, _ := db.Incidents(ctx, IncidentFilter{All: true, Open: true}); len(got) != 0 {
			t.Fatalf("a notified case is still open: %d", len(got))
		}

		// Reminders: recorded once; a second node with the same view does nothing.
		later := now.Add(time.Hour)
		if ok, err := db.RemindIncident(ctx, id, time.Time{}, later, []governance.Letter{{To: "cw@register.test", Subject: "Påminnelse"}}, "24 timer"); err != nil || !ok {
			t.Fatalf("remind: %v %v", ok, err)
		}
		if ok, err := db.RemindIncident(ctx, id, time.Time{}, later, nil, "24 timer"); err != nil || ok {
			t.Fatalf("second remind: %v %v", ok, err)
		}
		if c, _ = db.Incident(ctx, id); !c.RemindedTo.Equal(later) {
			t.Fatalf("reminded to %v", c.RemindedTo)
		}
	})
}

// The public form's limit: counts per source in a window, then from one again.
func TestIncidentThrottle(t *testing.T) {
	eachEngine(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		now := fixedNow()
		for i := 1; i <= 3; i++ {
			if n, err := db.CountIncidentAttempt(ctx, "meld", "192.0.2.1", now, time.Hour); err != nil || n != i {
				t.Fatalf("attempt %d: %d %v", i, n, err)
			}
		}
		if n, _ := db.CountIncidentAttempt(ctx, "meld", "192.0.2.2", now, time.Hour); n != 1 {
			t.Fatalf("another source: %d", n)
		}
		if n, _ := db.CountIncidentAttempt(ctx, "folg", "192.0.2.1", now, time.Hour); n != 1 {
			t.Fatalf("another kind: %d", n)
		}
		if n, _ := db.CountIncidentAttempt(ctx, "meld", "192.0.2.1", now.Add(61*time.Minute), time.Hour); n != 1 {
			t.Fatalf("after the window: %d", n)
		}
		if err := db.PurgeIncidentThrottle(ctx, now.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
	})
}

package store

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"deling/internal/dpa"
	"deling/internal/ident"
)

// Rules DPA-07, DPA-09: a breach report and an authority request are kept
// only with an agreement that is or has been in force; on one never signed
// (pending) or discarded they are refused with ErrConflict and nothing is stored.
func TestRecordsRefusedOnUnsignedAgreement(t *testing.T) {
	eachEngine(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		p := newDPAParties(t, db, 40)
		id, err := db.CreateAgreement(ctx, p.rules, p.content(), p.admin)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.StepAgreement(ctx, p.rules, id, dpa.StepSend, StepInput{}, p.admin); err != nil {
			t.Fatal(err)
		}
		req := dpa.AuthorityRequest{Authority: "Politiet", ReceivedAt: fixedNow().Add(-time.Hour), What: "Arbeidsforhold", LegalBasis: "straffeprosessloven § 210"}
		rep := dpa.BreachReport{Nature: "Feilsendt e-post.", SubjectCategories: "Arbeidstakere", RecordCategories: "Arbeidsforhold",
			Contact: "Per", Consequences: "På avveie.", Measures: "Slettet.", AwareAt: fixedNow().Add(-time.Hour)}
		check := func(state string) {
			t.Helper()
			if _, err := db.RecordAuthorityRequest(ctx, id, req, p.procStaff); !errors.Is(err, ErrConflict) {
				t.Errorf("%s: an authority request was accepted: %v", state, err)
			}
			if _, err := db.ReportProcessorBreach(ctx, id, rep, p.procStaff); !errors.Is(err, ErrConflict) {
				t.Errorf("%s: a breach report was accepted: %v", state, err)
			}
			if rs, _ := db.AuthorityRequests(ctx, id); len(rs) != 0 {
				t.Errorf("%s: requests stored: %+v", state, rs)
			}
		}
		check("pending")
		if _, err := db.StepAgreement(ctx, p.rules, id, dpa.StepDiscard, StepInput{}, p.admin); err != nil {
			t.Fatal(err)
		}
		if rec, _ := db.Agreement(ctx, id); rec.Status != dpa.StatusDiscarded {
			t.Fatalf("not discarded: %s", rec.Status)
		}
		check("discarded")
	})
}

// Rule DPA-09: a request the law forbids telling the controller sends no
// letter and is recorded under its own history step; only the processor's
// "varsle nå" sends the letter, once.
func TestWithheldAuthorityRequest(t *testing.T) {
	eachEngine(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		p := newDPAParties(t, db, 41)
		a := p.active(t, db)
		req := dpa.AuthorityRequest{Authority: "Økokrim", ReceivedAt: fixedNow().Add(-time.Hour), What: "Arbeidsforhold", LegalBasis: "straffeprosessloven § 210",
			LawForbidsNotice: true}
		qid, err := db.RecordAuthorityRequest(ctx, a.ID, req, p.procStaff)
		if err != nil {
			t.Fatal(err)
		}
		told := func() int {
			n := 0
			ms, _ := db.MailTo(ctx, p.ctrlOrg, 50)
			for _, m := range ms {
				if m.Kind == LetterDPARequest && strings.Contains(m.Body, "Økokrim") {
					n++
				}
			}
			return n
		}
		if told() != 0 {
			t.Fatal("the controller was told of a request the law forbids telling")
		}
		h, _ := db.AgreementHistory(ctx, a.ID)
		if last := h[len(h)-1]; last.Step != StepDPARequestWithheld {
			t.Fatalf("history: %+v", last)
		}
		if _, err := db.NotifyAuthorityRequest(ctx, a.ID, qid, p.controller); !errors.Is(err, dpa.ErrNotYourStep) {
			t.Fatalf("the controller notified itself: %v", err)
		}
		if _, err := db.NotifyAuthorityRequest(ctx, a.ID, "nope", p.procStaff); !errors.Is(err, ErrNotFound) {
			t.Fatalf("an unknown request: %v", err)
		}
		r, err := db.NotifyAuthorityRequest(ctx, a.ID, qid, p.procStaff)
		sent := told() // one per contact of the controller
		if err != nil || r.Withheld() || sent == 0 {
			t.Fatalf("varsle nå: %v %+v, letters %d", err, r, sent)
		}
		if _, err := db.NotifyAuthorityRequest(ctx, a.ID, qid, p.procStaff); !errors.Is(err, ErrConflict) || told() != sent {
			t.Fatalf("a second notice: %v", err)
		}
		if rs, _ := db.AuthorityRequests(ctx, a.ID); len(rs) != 1 || rs[0].Withheld() || rs[0].NotifiedAt.IsZero() {
			t.Fatalf("requests: %+v", rs)
		}
		h, _ = db.AgreementHistory(ctx, a.ID)
		if last := h[len(h)-1]; last.Step != StepDPARequestNotified {
			t.Fatalf("history: %+v", last)
		}
	})
}

// Rule DPA-07: the processor's breach report reaches the controller in
// full (a–f) and the case names the agreement's controller, so that the
// controller's people find it (IncidentFilter.Controller) and no one else does.
func TestProcessorBreachReachesController(t *testing.T) {
	eachEngine(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		p := newDPAParties(t, db, 42)
		a := p.active(t, db)
		r := dpa.BreachReport{Nature: "Feilsendt e-post med arbeidsforhold.", SubjectCategories: "Arbeidstakere", RecordCategories: "Lønn",
			Identities: "Tre navngitte arbeidstakere", Contact: "Per, per@leverandor.example", Consequences: "Opplysninger på avveie.",
			Measures: "Mottaker har slettet e-posten.", Other: "Leverandøren bytter e-postfilter.", AwareAt: fixedNow().Add(-2 * time.Hour)}
		id, err := db.ReportProcessorBreach(ctx, a.ID, r, p.procStaff)
		if err != nil {
			t.Fatal(err)
		}
		ms, _ := db.MailTo(ctx, p.ctrlOrg, 10)
		if len(ms) == 0 || ms[0].Kind != LetterDPABreach {
			t.Fatalf("no letter: %+v", ms)
		}
		for _, want := range []string{r.Nature, "Arbeidstakere", "Lønn", r.Identities, r.Contact, r.Consequences, r.Measures, r.Other, id} {
			if !strings.Contains(ms[0].Body, want) {
				t.Errorf("the controller's letter lacks %q", want)
			}
		}
		c, err := db.Incident(ctx, id)
		if err != nil || c.Report.Controller != p.ctrlOrg {
			t.Fatalf("the case's controller: %v %q", err, c.Report.Controller)
		}
		has := func(f IncidentFilter) bool {
			cs, err := db.Incidents(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range cs {
				if c.ID == id {
					return true
				}
			}
			return false
		}
		if !has(IncidentFilter{User: p.admin.UserID, Org: p.ctrlOrg, Controller: p.ctrlOrg}) {
			t.Error("the controller's people do not find the case")
		}
		other := newDPAParties(t, db, 43)
		if has(IncidentFilter{User: other.admin.UserID, Org: other.ctrlOrg, Controller: other.ctrlOrg}) || has(IncidentFilter{User: p.admin.UserID, Org: p.ctrlOrg}) {
			t.Error("the case is found without the controller's filter")
		}
	})
}

// Rule DPA-05: the history names a sub-processor's steps in Norwegian,
// never by their internal codes.
func TestSubProcessorHistoryLabels(t *testing.T) {
	eachEngine(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		p := newDPAParties(t, db, 44)
		a := p.active(t, db)
		id, err := db.ProposeSubProcessor(ctx, p.rules, a.ID, dpa.SubProcessorEntry{Navn: "Sky KK", Orgnr: string(ident.SyntheticOrgnr(78)), Country: "Norge", Task: "Drift"}, nil, p.procStaff)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.DecideSubProcessor(ctx, p.rules, id, dpa.SubStepRefuse, nil, "Ikke nødvendig.", nil, p.controller); err != nil {
			t.Fatal(err)
		}
		h, _ := db.AgreementHistory(ctx, a.ID)
		notes := []string{h[len(h)-2].Note, h[len(h)-1].Note}
		if notes[0] != "Foreslått: Sky KK" || notes[1] != "Avslått: Sky KK" {
			t.Fatalf("history notes: %q", notes)
		}
	})
}

// Rule DPA-01: a record's event in the lookup log holds the SHA-256 of the
// document in force, as every step's does.
func TestRecordEventsHoldDocumentDigest(t *testing.T) {
	eachEngine(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		p := newDPAParties(t, db, 45)
		a := p.active(t, db)
		req := dpa.AuthorityRequest{Authority: "Politiet", ReceivedAt: fixedNow().Add(-time.Hour), What: "Arbeidsforhold", LegalBasis: "straffeprosessloven § 210"}
		if _, err := db.RecordAuthorityRequest(ctx, a.ID, req, p.procStaff); err != nil {
			t.Fatal(err)
		}
		evs := dpaEvents(t, db, p.ctrlOrg, a.ID)
		last := evs[len(evs)-1]
		if last["step"] != StepDPARequest || last["documentSha256"] != dpa.DocumentDigest(a.Current()) {
			t.Fatalf("the request's event: %v", last)
		}
	})
}

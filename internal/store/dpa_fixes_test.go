package store

import (
	"context"
	"errors"
	"testing"
	"time"

	"deling/internal/dpa"
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

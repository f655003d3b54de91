package store

import (
	"bytes"
	"context"
	"errors"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"deling/internal/access"
	"deling/internal/audit"
	"deling/internal/dpa"
	"deling/internal/ident"
)

// amendTo takes agreement a through a new version with content c, signed
// by both, as the portal takes it (Rule DPA-01).
func (p dpaParties) amendTo(t *testing.T, db *DB, a AgreementRecord, c dpa.Content) AgreementRecord {
	t.Helper()
	ctx := context.Background()
	rec, err := db.StepAgreement(ctx, p.rules, a.ID, dpa.StepAmend, StepInput{}, p.admin)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []struct {
		s  dpa.Step
		in StepInput
		by DPAActor
	}{{dpa.StepSave, StepInput{Content: &c}, p.admin}, {dpa.StepSend, StepInput{}, p.admin}, {dpa.StepComplete, StepInput{}, p.procStaff}} {
		if rec, err = db.StepAgreement(ctx, p.rules, a.ID, s.s, s.in, s.by); err != nil {
			t.Fatal(s.s, err)
		}
	}
	h := rec.Newest().Hash()
	for _, s := range []struct {
		s  dpa.Step
		by DPAActor
	}{{dpa.StepSignProcessor, p.processor}, {dpa.StepSignController, p.controller}} {
		if rec, err = db.StepAgreement(ctx, p.rules, a.ID, s.s, StepInput{Seen: h}, s.by); err != nil {
			t.Fatal(s.s, err)
		}
	}
	return rec
}

// delegation loads delegation id of the parties.
func (p dpaParties) stored(t *testing.T, db *DB, id string) access.Delegation {
	t.Helper()
	ds, err := db.Delegations(context.Background(), p.ctrlOrg)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range ds {
		if d.ID == id {
			return d
		}
	}
	t.Fatalf("delegation %s not stored", id)
	return access.Delegation{}
}

// Rule SK-04: a delegation ends no later than the agreement's term
// (gjelderTil): one without an end gets the term's end, one beyond it is
// refused and nothing is stored, and the delegations of an agreement whose
// term has run out end (EndLapsedDelegations).
func TestDelegationEndsWithAgreementTerm(t *testing.T) {
	eachEngine(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		p := newDPAParties(t, db, 20)
		c := p.content()
		c.ValidTo = "2026-11-30" // fixedNow is 2026-11-24
		a, err := db.NegotiateAgreement(ctx, p.rules, c, p.controller, p.processor)
		if err != nil {
			t.Fatal(err)
		}
		termEnd := time.Date(2026, 12, 1, 0, 0, 0, 0, osloLocation())
		beyond := p.delegation(a)
		far := time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC)
		beyond.ValidTo = &far
		if _, err := db.AddDelegation(ctx, beyond, "test"); !errors.Is(err, dpa.ErrBeyondTerm) || !errors.Is(err, ErrConflict) {
			t.Fatalf("a delegation beyond the term: %v", err)
		}
		if ds, _ := db.Delegations(ctx, p.ctrlOrg); len(ds) != 0 {
			t.Fatalf("a refused delegation was stored: %+v", ds)
		}
		d, err := db.AddDelegation(ctx, p.delegation(a), "test")
		if err != nil {
			t.Fatal(err)
		}
		if got := p.stored(t, db, d.ID); got.ValidTo == nil || !got.ValidTo.Equal(termEnd) {
			t.Fatalf("valid to %v, want the term's end %v", got.ValidTo, termEnd)
		}
		// One stored before the cap: no end of its own. The job ends it once the term has run out.
		if _, err := db.write.ExecContext(ctx, `UPDATE delegations SET valid_to = NULL WHERE id = $1`, d.ID); err != nil {
			t.Fatal(err)
		}
		if n, err := db.EndLapsedDelegations(ctx, termEnd.Add(-time.Second)); err != nil || n != 0 {
			t.Fatalf("within the term: ended %d, %v", n, err)
		}
		if n, err := db.EndLapsedDelegations(ctx, termEnd); err != nil || n != 1 {
			t.Fatalf("after the term: ended %d, %v", n, err)
		}
		if got := p.stored(t, db, d.ID); got.Status != access.Ended {
			t.Fatalf("after the term: %s", got.Status)
		}
		if got := lifeDecide(t, db, p.ctrlOrg, p.procOrg); got.Reason != access.DenyNoDelegation {
			t.Fatalf("after the term: %s", got.Reason)
		}
	})
}

// Rule SK-04: when a narrower version comes into force (its second
// signature), the delegations it no longer covers end in the same
// transaction; those it covers stay, cut to its term.
func TestNarrowerVersionEndsDelegations(t *testing.T) {
	eachEngine(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		p := newDPAParties(t, db, 21)
		c := p.content()
		c.Packages = []string{"grunnopplysninger@1", "permisjoner@1"}
		a, err := db.NegotiateAgreement(ctx, p.rules, c, p.controller, p.processor)
		if err != nil {
			t.Fatal(err)
		}
		wide := p.delegation(a)
		wide.Packages = c.Packages
		wd, err := db.AddDelegation(ctx, wide, "test")
		if err != nil {
			t.Fatal(err)
		}
		nd, err := db.AddDelegation(ctx, p.delegation(a), "test")
		if err != nil {
			t.Fatal(err)
		}
		narrower := c
		narrower.Packages = []string{"grunnopplysninger@1"}
		narrower.ValidTo = "2027-06-30"
		if rec := p.amendTo(t, db, a, narrower); rec.Current().Number != 2 {
			t.Fatalf("in force: version %d", rec.Current().Number)
		}
		if got := p.stored(t, db, wd.ID); got.Status != access.Ended {
			t.Fatalf("the delegation of a package the new version lacks is %s", got.Status)
		}
		got := p.stored(t, db, nd.ID)
		if want := time.Date(2027, 7, 1, 0, 0, 0, 0, osloLocation()); got.Status != access.Active || got.ValidTo == nil || !got.ValidTo.Equal(want) {
			t.Fatalf("the covered delegation: %s to %v, want active to %v", got.Status, got.ValidTo, want)
		}
	})
}

// Rules DPA-11, DPA-10: a stop order, a resumption and an end reach the
// delegations between the same two parties that were made before
// agreements were records (they name no agreement).
func TestStopAndEndReachLegacyDelegations(t *testing.T) {
	eachEngine(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		p := newDPAParties(t, db, 22)
		a := p.active(t, db)
		legacy := legacyDelegation(t, db, p.ctrlOrg, p.procOrg)
		unrelated := newDPAParties(t, db, 23)
		other := legacyDelegation(t, db, unrelated.ctrlOrg, unrelated.procOrg)
		if got := lifeDecide(t, db, p.ctrlOrg, p.procOrg); !got.Permit {
			t.Fatalf("before: %s", got.Reason)
		}
		if _, err := db.StepAgreement(ctx, p.rules, a.ID, dpa.StepStop, StepInput{Reason: "Mistanke om avvik."}, p.controller); err != nil {
			t.Fatal(err)
		}
		if got := p.stored(t, db, legacy); got.Status != access.Suspended {
			t.Fatalf("after the stop order the legacy delegation is %s", got.Status)
		}
		if got := lifeDecide(t, db, p.ctrlOrg, p.procOrg); got.Reason != access.DenyNoDelegation {
			t.Fatalf("after the stop order: %s", got.Reason)
		}
		if _, err := db.StepAgreement(ctx, p.rules, a.ID, dpa.StepResume, StepInput{Reason: "Avklart."}, p.controller); err != nil {
			t.Fatal(err)
		}
		if got := p.stored(t, db, legacy); got.Status != access.Active {
			t.Fatalf("after the resumption the legacy delegation is %s", got.Status)
		}
		if _, err := db.StepAgreement(ctx, p.rules, a.ID, dpa.StepEnd, StepInput{Ending: &dpa.Ending{Reason: "Slutt.", Choice: dpa.ChoiceDelete}}, p.controller); err != nil {
			t.Fatal(err)
		}
		if got := p.stored(t, db, legacy); got.Status != access.Ended {
			t.Fatalf("after the end the legacy delegation is %s", got.Status)
		}
		if got := unrelated.stored(t, db, other); got.Status != access.Active {
			t.Fatalf("another pair's legacy delegation is %s", got.Status)
		}
	})
}

// Rule AA-26: a delegation suspended by a stop order ends when its
// processor ceases, and resuming gives a ceased party nothing back — also
// a delegation left suspended before this was so.
func TestCeaseEndsSuspendedDelegations(t *testing.T) {
	eachEngine(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		p := newDPAParties(t, db, 24)
		a := p.active(t, db)
		d, err := db.AddDelegation(ctx, p.delegation(a), "test")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.StepAgreement(ctx, p.rules, a.ID, dpa.StepStop, StepInput{Reason: "Mistanke om avvik."}, p.controller); err != nil {
			t.Fatal(err)
		}
		res, err := db.CeaseOrganisation(ctx, p.procOrg, "slettet", "test")
		if err != nil {
			t.Fatal(err)
		}
		if res.Delegations != 1 || p.stored(t, db, d.ID).Status != access.Ended {
			t.Fatalf("cease ended %d delegations; the suspended one is %s", res.Delegations, p.stored(t, db, d.ID).Status)
		}
		if _, err := db.StepAgreement(ctx, p.rules, a.ID, dpa.StepResume, StepInput{Reason: "Avklart."}, p.controller); err != nil {
			t.Fatal(err)
		}
		if got := lifeDecide(t, db, p.ctrlOrg, p.procOrg); got.Permit {
			t.Fatal("a ceased processor was given access again by a resumption")
		}

		// A consumer that ceased while its delegation stayed suspended (stored before the fix).
		q := newDPAParties(t, db, 25)
		b := q.active(t, db)
		e, err := db.AddDelegation(ctx, q.delegation(b), "test")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.StepAgreement(ctx, q.rules, b.ID, dpa.StepStop, StepInput{Reason: "Mistanke om avvik."}, q.controller); err != nil {
			t.Fatal(err)
		}
		if _, err := db.write.ExecContext(ctx, `UPDATE consumers SET status = $1 WHERE orgnr = $2`, string(access.Ceased), q.ctrlOrg); err != nil {
			t.Fatal(err)
		}
		if _, err := db.StepAgreement(ctx, q.rules, b.ID, dpa.StepResume, StepInput{Reason: "Avklart."}, q.controller); err != nil {
			t.Fatal(err)
		}
		if got := q.stored(t, db, e.ID); got.Status != access.Suspended {
			t.Fatalf("a ceased consumer's delegation was resumed: %s", got.Status)
		}
	})
}

// Rule DPA-11: a stop order and a delegation made at the same moment
// never leave an active delegation under a stopped agreement, on either
// engine.
func TestStopDelegationRace(t *testing.T) {
	eachEngine(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		p := newDPAParties(t, db, 26)
		for i := range 8 {
			a := p.active(t, db)
			var wg sync.WaitGroup
			errs := make([]error, 3)
			for g := range 3 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if g == 1 {
						_, errs[g] = db.StepAgreement(ctx, p.rules, a.ID, dpa.StepStop, StepInput{Reason: "Stans."}, p.controller)
						return
					}
					_, errs[g] = db.AddDelegation(ctx, p.delegation(a), "test")
				}()
			}
			wg.Wait()
			if errs[1] != nil {
				t.Fatalf("round %d: stop: %v", i, errs[1])
			}
			for g, err := range errs {
				if err != nil && !errors.Is(err, dpa.ErrNotInForce) {
					t.Fatalf("round %d: delegation %d: %v", i, g, err)
				}
			}
			ds, err := db.Delegations(ctx, p.ctrlOrg)
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range ds {
				if d.AgreementID == a.ID && d.Status == access.Active {
					t.Fatalf("round %d: delegation %s is active under a stopped agreement", i, d.ID)
				}
			}
			if _, err := db.StepAgreement(ctx, p.rules, a.ID, dpa.StepEnd, StepInput{Ending: &dpa.Ending{Reason: "Slutt.", Choice: dpa.ChoiceDelete}}, p.controller); err != nil {
				t.Fatal(err)
			}
		}
	})
}

// Rule DPA-11: a resumption never brings back a delegation ended at the
// same moment, on either engine.
func TestResumeEndRace(t *testing.T) {
	eachEngine(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		p := newDPAParties(t, db, 27)
		for i := range 8 {
			a := p.active(t, db)
			d, err := db.AddDelegation(ctx, p.delegation(a), "test")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := db.StepAgreement(ctx, p.rules, a.ID, dpa.StepStop, StepInput{Reason: "Stans."}, p.controller); err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			var resumeErr, endErr error
			wg.Add(2)
			go func() {
				defer wg.Done()
				_, resumeErr = db.StepAgreement(ctx, p.rules, a.ID, dpa.StepResume, StepInput{Reason: "Avklart."}, p.controller)
			}()
			go func() { defer wg.Done(); endErr = db.EndDelegation(ctx, d.ID, "test") }()
			wg.Wait()
			if resumeErr != nil || endErr != nil {
				t.Fatalf("round %d: resume %v, end %v", i, resumeErr, endErr)
			}
			if got := p.stored(t, db, d.ID); got.Status != access.Ended {
				t.Fatalf("round %d: the ended delegation is %s", i, got.Status)
			}
			if _, err := db.StepAgreement(ctx, p.rules, a.ID, dpa.StepEnd, StepInput{Ending: &dpa.Ending{Reason: "Slutt.", Choice: dpa.ChoiceDelete}}, p.controller); err != nil {
				t.Fatal(err)
			}
		}
	})
}

// Rules DPA-11, DPA-10: the stop order, the resumption and the end also go
// to the processor's contact for notices that the agreement names.
func TestStopNoticeGoesToAgreementContact(t *testing.T) {
	eachEngine(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		p := newDPAParties(t, db, 28)
		a := p.active(t, db)
		for _, s := range []struct {
			step dpa.Step
			in   StepInput
			kind string
		}{
			{dpa.StepStop, StepInput{Reason: "Mistanke om avvik."}, LetterDPAStop},
			{dpa.StepResume, StepInput{Reason: "Avklart."}, LetterDPAResume},
			{dpa.StepEnd, StepInput{Ending: &dpa.Ending{Reason: "Slutt.", Choice: dpa.ChoiceDelete}}, LetterDPAEnd},
		} {
			if _, err := db.StepAgreement(ctx, p.rules, a.ID, s.step, s.in, p.controller); err != nil {
				t.Fatal(s.step, err)
			}
			ms, err := db.MailTo(ctx, p.procOrg, 100)
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for _, m := range ms {
				if m.Kind == s.kind && m.To == "per@leverandor.example" {
					n++
				}
			}
			if n != 1 {
				t.Fatalf("%s: %d letters to the agreement's contact for notices, want 1: %+v", s.step, n, ms)
			}
		}
	})
}

// failingReader fails the test if anything reads it.
type failingReader struct{ t *testing.T }

func (r failingReader) Read([]byte) (int, error) {
	r.t.Error("the upload was read before the party was checked")
	return 0, io.EOF
}

// Rule DPA-09: an outsider's upload, or one to a pending agreement, is
// refused before it is read; an office file must be the archive its name
// says; an agreement keeps at most dpa.MaxAuditFiles reports.
func TestAuditReportChecks(t *testing.T) {
	eachEngine(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		p := newDPAParties(t, db, 29)
		a := p.active(t, db)
		outsider := newDPAParties(t, db, 30)
		if _, err := db.AddAuditReport(ctx, a.ID, "Revisjon", "r.pdf", failingReader{t}, outsider.processor); !errors.Is(err, dpa.ErrNotYourStep) {
			t.Fatalf("an outsider: %v", err)
		}
		pending, err := db.CreateAgreement(ctx, p.rules, p.content(), p.controller)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.AddAuditReport(ctx, pending, "Revisjon", "r.pdf", failingReader{t}, p.processor); !errors.Is(err, ErrConflict) {
			t.Fatalf("a pending agreement: %v", err)
		}
		if _, err := db.AddAuditReport(ctx, a.ID, "Revisjon", "r.docx", bytes.NewReader([]byte("PK\x03\x04 not an archive")), p.processor); !isInvalid(err) {
			t.Fatalf("a docx that is no archive: %v", err)
		}
		text := append(bytes.Repeat([]byte("a"), 600), 0)
		if _, err := db.AddAuditReport(ctx, a.ID, "Revisjon", "r.txt", bytes.NewReader(text), p.processor); !isInvalid(err) {
			t.Fatalf("text with a NUL after 512 bytes: %v", err)
		}
		for i := range dpa.MaxAuditFiles {
			if _, err := db.AddAuditReport(ctx, a.ID, "Revisjon", "r.txt", strings.NewReader("Funn og tiltak."), p.processor); err != nil {
				t.Fatalf("report %d: %v", i+1, err)
			}
		}
		if _, err := db.AddAuditReport(ctx, a.ID, "Revisjon", "r.txt", strings.NewReader("Én for mye."), p.processor); !isInvalid(err) {
			t.Fatalf("a report beyond the quota: %v", err)
		}
		if reps, _ := db.AuditReports(ctx, a.ID); len(reps) != dpa.MaxAuditFiles {
			t.Fatalf("%d reports stored, want %d", len(reps), dpa.MaxAuditFiles)
		}
	})
}

// Rule SK-04: an approval delegates to the named processor what the
// agreement covers of the access granted — here the API, not the web
// lookups it does not name — and the decision says so; without an agreement
// it delegates nothing, and the decision does not claim a delegation.
func TestApprovalDelegatesWhatAgreementCovers(t *testing.T) {
	eachEngine(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		org := string(ident.SyntheticOrgnr(4310))
		form := applicationForm(org) // API and web
		p := dpaPartiesFor(t, db, org, form.Processor.Orgnr)
		ag, err := db.NegotiateAgreement(ctx, p.rules, p.content(), p.controller, p.processor) // API only
		if err != nil {
			t.Fatal(err)
		}
		a, d, err := db.ApproveApplication(ctx, submitted(t, db, form).ID, Approval{Packages: grunn(t)}, "user:cw", "Sara")
		if err != nil {
			t.Fatal(err)
		}
		ds, err := db.Delegations(ctx, org)
		if err != nil || len(ds) != 1 || ds[0].ID != a.DelegationID || ds[0].AgreementID != ag.ID ||
			!slices.Equal(ds[0].Channels, []access.Channel{access.ChannelAPI}) || !slices.Equal(ds[0].Packages, []string{"grunnopplysninger@1"}) {
			t.Fatalf("delegations: %+v %v", ds, err)
		}
		if !strings.Contains(d.Text, "etter databehandleravtale "+ag.ID) || !strings.Contains(d.Text, "Ikke delegert, fordi databehandleravtalen ikke dekker det: web") {
			t.Fatalf("the decision does not state the delegation and what it left out:\n%s", d.Text)
		}

		other := string(ident.SyntheticOrgnr(4311))
		b, e, err := db.ApproveApplication(ctx, submitted(t, db, applicationForm(other)).ID, Approval{Packages: grunn(t)}, "user:cw", "Sara")
		if err != nil {
			t.Fatal(err)
		}
		if b.DelegationID != "" || strings.Contains(e.Text, "får tilgang på vegne av") || !strings.Contains(e.Text, "Databehandleren får ikke tilgang nå") {
			t.Fatalf("without an agreement: delegation %q, decision:\n%s", b.DelegationID, e.Text)
		}
	})
}

// Rule SK-04: a delegation made is in the log (delegation.added, naming its
// agreement); one refused leaves none.
func TestDelegationAddedIsLogged(t *testing.T) {
	eachEngine(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		p := newDPAParties(t, db, 31)
		a := p.active(t, db)
		refused := p.delegation(a)
		refused.Packages = []string{"permisjoner@1"}
		if _, err := db.AddDelegation(ctx, refused, "test"); !errors.Is(err, dpa.ErrNotCovered) {
			t.Fatal(err)
		}
		if evs := lifeEvents(t, db, p.ctrlOrg, audit.KindDelegationAdded); len(evs) != 0 {
			t.Fatalf("a refused delegation was logged: %+v", evs)
		}
		d, err := db.AddDelegation(ctx, p.delegation(a), "user:cw")
		if err != nil {
			t.Fatal(err)
		}
		evs := lifeEvents(t, db, p.ctrlOrg, audit.KindDelegationAdded)
		if len(evs) != 1 || evs[0].Actor != "user:cw" || !strings.Contains(string(evs[0].Event), d.ID) || !strings.Contains(string(evs[0].Event), a.ID) {
			t.Fatalf("delegation.added: %+v", evs)
		}
	})
}

package store

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"testing"

	"deling/internal/access"
	"deling/internal/audit"
	"deling/internal/governance"
	"deling/internal/ident"
	"deling/internal/register"
)

// applicationForm is a complete application of org with a data processor.
func applicationForm(org string) governance.ApplicationForm {
	return governance.ApplicationForm{
		Orgnr: org, Navn: "Testkommune", Purpose: "Saksbehandling av sosialhjelp.",
		BasisKind: governance.BasisStatute, LegalBasis: "aa-registerforskriften § 10",
		ProcessingLetter: "e", ProcessingLaw: "sosialtjenesteloven § 43",
		Admin:      governance.Contact{Navn: "Ada", Epost: "ada@kommune.example", Rolle: governance.ContactAdministrative},
		Technical:  governance.Contact{Navn: "Tor", Epost: "tor@kommune.example", Rolle: governance.ContactTechnical},
		Processor:  governance.Processor{Orgnr: string(ident.SyntheticOrgnr(777)), Navn: "Leverandør AS", DPARef: "DBA-1"},
		Channels:   []access.Channel{access.ChannelAPI, access.ChannelWeb},
		Country:    "Norge",
		Needs:      []governance.Need{{Package: "grunnopplysninger@1", Why: "Hvem er ansatt hvor."}},
		QueryKinds: []access.QueryKind{access.ByArbeidstaker}, TermsAccepted: true,
	}
}

// agreeWithProcessor puts an agreement in force between org and the
// processor applicationForm names, covering what it applies for: without
// one, an approval makes no delegation (Rule SK-04).
func agreeWithProcessor(t *testing.T, db *DB, org string) {
	t.Helper()
	p := dpaPartiesFor(t, db, org, applicationForm(org).Processor.Orgnr)
	c := p.content()
	c.Channels = []access.Channel{access.ChannelAPI, access.ChannelWeb}
	if _, err := db.NegotiateAgreement(context.Background(), p.rules, c, p.controller, p.processor); err != nil {
		t.Fatal(err)
	}
}

func grunn(t *testing.T) []access.Package {
	t.Helper()
	cat, err := access.ParseCatalogue(access.DefaultPackages())
	if err != nil {
		t.Fatal(err)
	}
	p, err := cat.Resolve("grunnopplysninger@1")
	if err != nil {
		t.Fatal(err)
	}
	return []access.Package{p}
}

func applicationEvents(t *testing.T, db *DB, org string) []applicationEvent {
	t.Helper()
	recs, err := db.AuditRecords(context.Background(), org, 10_000)
	if err != nil {
		t.Fatal(err)
	}
	var out []applicationEvent
	for _, r := range recs {
		if r.Kind == audit.KindApplication {
			var e applicationEvent
			if err := json.Unmarshal(r.Event, &e); err != nil {
				t.Fatal(err)
			}
			out = append(out, e)
		}
	}
	return out
}

// submitted takes a new application of org to under_behandling.
func submitted(t *testing.T, db *DB, form governance.ApplicationForm) governance.Application {
	t.Helper()
	ctx := context.Background()
	a, err := db.CreateApplication(ctx, form.Orgnr, form, "user:admin", "Ada Admin")
	if err != nil {
		t.Fatal(err)
	}
	for _, step := range []governance.Step{governance.StepSubmit, governance.StepSign, governance.StepTake} {
		if a, err = db.StepApplication(ctx, a.ID, step, nil, "", "user:x", "X"); err != nil {
			t.Fatalf("%s: %v", step, err)
		}
	}
	return a
}

func grantsOf(t *testing.T, db *DB, org, app string) []access.Grant {
	t.Helper()
	gs, err := db.Grants(context.Background(), org)
	if err != nil {
		t.Fatal(err)
	}
	var out []access.Grant
	for _, g := range gs {
		if g.ApplicationID == app {
			out = append(out, g)
		}
	}
	return out
}

// Rules AA-01, AA-03, AA-13, SK-06: from draft to production access, every step recorded.
func TestApplicationLifecycle(t *testing.T) {
	eachEngine(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		org := string(ident.SyntheticOrgnr(4242))
		agreeWithProcessor(t, db, org)
		draft := governance.ApplicationForm{Navn: "Testkommune", Orgnr: org}
		a, err := db.CreateApplication(ctx, org, draft, "user:admin", "Ada Admin")
		if err != nil {
			t.Fatal(err)
		}
		if a.Status != governance.AppDraft {
			t.Fatalf("new application: %s", a.Status)
		}
		form := applicationForm(org)
		if a, err = db.StepApplication(ctx, a.ID, governance.StepSave, &form, "", "user:admin", "Ada Admin"); err != nil {
			t.Fatal(err)
		}
		if a, err = db.StepApplication(ctx, a.ID, governance.StepSubmit, nil, "", "user:admin", "Ada Admin"); err != nil || a.Status != governance.AppToSign {
			t.Fatalf("submit: %v %s", err, a.Status)
		}
		// Not in the queue before it is signed (Rule AA-01).
		if _, err := db.StepApplication(ctx, a.ID, governance.StepTake, nil, "", "user:cw", "Sara"); !errors.Is(err, ErrConflict) {
			t.Fatalf("take before signing: %v", err)
		}
		if _, _, err := db.ApproveApplication(ctx, a.ID, Approval{Packages: grunn(t)}, "user:cw", "Sara"); !errors.Is(err, ErrConflict) {
			t.Fatalf("approve before signing: %v", err)
		}
		if a, err = db.StepApplication(ctx, a.ID, governance.StepSign, nil, "", "user:rolf", "Rolf Rolleinnehaver"); err != nil {
			t.Fatal(err)
		}
		if a.Status != governance.AppSubmitted || a.SignedBy != "user:rolf" || a.SignedByName != "Rolf Rolleinnehaver" || a.SignedAt == nil {
			t.Fatalf("signed: %+v", a)
		}
		queue, err := db.ApplicationQueue(ctx, governance.AppSubmitted)
		if err != nil || len(queue) != 1 || queue[0].ID != a.ID {
			t.Fatalf("queue: %v %v", queue, err)
		}
		if a, err = db.StepApplication(ctx, a.ID, governance.StepTake, nil, "", "user:cw", "Sara"); err != nil || a.CaseWorker != "Sara" {
			t.Fatalf("take: %v", err)
		}
		if a, err = db.StepApplication(ctx, a.ID, governance.StepAsk, nil, "Hvilken lov?", "user:cw", "Sara"); err != nil || a.Question != "Hvilken lov?" {
			t.Fatalf("ask: %v", err)
		}
		form.LegalBasis = "arbeidsmarkedsloven § 10 / aa-registerforskriften § 10"
		if a, err = db.StepApplication(ctx, a.ID, governance.StepAnswer, &form, "Se hjemmelen.", "user:admin", "Ada Admin"); err != nil {
			t.Fatal(err)
		}
		if a.Status != governance.AppSubmitted || a.Answer != "Se hjemmelen." || a.Form.LegalBasis != form.LegalBasis {
			t.Fatalf("answered: %+v", a)
		}
		if a, err = db.StepApplication(ctx, a.ID, governance.StepTake, nil, "", "user:cw", "Sara"); err != nil {
			t.Fatal(err)
		}

		seg := &governance.Segment{Navn: "Kommunal saksbehandling"}
		a, _, err = db.ApproveApplication(ctx, a.ID, Approval{Packages: grunn(t), NewSegment: seg}, "user:cw", "Sara")
		if err != nil {
			t.Fatal(err)
		}
		d, err := db.Decisions(ctx, a.ID)
		if err != nil || len(d) != 1 {
			t.Fatalf("decisions: %v %v", d, err)
		}
		if a.Status != governance.AppApproved || !slices.Equal(a.Granted, []string{"grunnopplysninger@1"}) || a.SegmentID == "" || a.DelegationID == "" {
			t.Fatalf("approved: %+v", a)
		}
		c, err := db.Consumer(ctx, org)
		if err != nil || c.Status != access.Active || c.Navn != "Testkommune" {
			t.Fatalf("consumer: %+v %v", c, err)
		}
		// Rules AA-02, AA-03: test grants only, one per channel, with the application's content and nothing more.
		gs := grantsOf(t, db, org, a.ID)
		if len(gs) != 2 {
			t.Fatalf("grants: %+v", gs)
		}
		for _, g := range gs {
			if g.Env != register.EnvTest || g.Status != access.Active || g.Consent || g.Purpose != form.Purpose ||
				g.LegalBasis != form.LegalBasis || !slices.Equal(g.Packages, a.Granted) || !slices.Equal(g.QueryKinds, form.QueryKinds) {
				t.Fatalf("grant: %+v", g)
			}
		}
		// Rule AA-13: the named processor acts for the consumer.
		ds, err := db.Delegations(ctx, org)
		if err != nil || len(ds) != 1 || ds[0].Processor != form.Processor.Orgnr || ds[0].DPARef != "DBA-1" || ds[0].Status != access.Active {
			t.Fatalf("delegations: %+v %v", ds, err)
		}
		// The decision's text is frozen, and its digest is in the log.
		if d[0].SHA256 != governance.Digest(d[0].Text) || d[0].Kind != governance.DecisionApproval {
			t.Fatal("decision digest")
		}
		evs := applicationEvents(t, db, org)
		last := evs[len(evs)-1]
		if last.Step != string(governance.StepApprove) || last.SHA256 != d[0].SHA256 || last.Decision != d[0].ID {
			t.Fatalf("approval event: %+v", last)
		}
		// Rule SK-06: the segment is shared.
		segs, _ := db.Segments(ctx)
		members, _ := db.SegmentMembers(ctx)
		if len(segs) != 1 || segs[0].ID != a.SegmentID || members[a.SegmentID] != 1 {
			t.Fatalf("segments: %+v %v", segs, members)
		}
		if _, _, err := db.ApproveApplication(ctx, submitted(t, db, applicationForm(org)).ID, Approval{Packages: grunn(t), NewSegment: &governance.Segment{Navn: seg.Navn}}, "user:cw", "Sara"); !errors.Is(err, ErrExists) {
			t.Fatalf("a segment's name twice: %v", err)
		}

		// Rule AA-03: production after the integration test.
		if _, _, err := db.ApproveProduction(ctx, a.ID, grunn(t), nil, "user:cw", "Sara"); !errors.Is(err, ErrConflict) {
			t.Fatalf("production before the integration test: %v", err)
		}
		if a, err = db.StepApplication(ctx, a.ID, governance.StepConfirmTest, nil, "", "user:admin", "Ada Admin"); err != nil || a.Status != governance.AppProdRequested {
			t.Fatalf("confirm test: %v", err)
		}
		if a, _, err = db.ApproveProduction(ctx, a.ID, grunn(t), nil, "user:cw", "Sara"); err != nil || a.Status != governance.AppProduction {
			t.Fatalf("production: %v", err)
		}
		prod := 0
		for _, g := range grantsOf(t, db, org, a.ID) {
			if g.Env == register.EnvProd && g.Status == access.Active {
				prod++
			}
		}
		if prod != 2 {
			t.Fatalf("prod grants: %d", prod)
		}
		hist, err := db.ApplicationHistory(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		var steps []governance.Step
		for _, h := range hist {
			steps = append(steps, h.Step)
		}
		want := []governance.Step{"lagre", "lagre", "send_til_signering", "signer", "ta_saken", "be_om_svar", "svar", "ta_saken", "godkjenn", "integrasjonstest", "godkjenn_produksjon"}
		if !slices.Equal(steps, want) {
			t.Fatalf("history: got %v, want %v", steps, want)
		}
		if hist[5].Note != "Hvilken lov?" || hist[6].Note != "Se hjemmelen." {
			t.Fatalf("history notes: %+v", hist)
		}
		if n := len(applicationEvents(t, db, org)); n < len(want) {
			t.Fatalf("%d application events for %d steps", n, len(want))
		}
	})
}

func TestRefuseApplication(t *testing.T) {
	eachEngine(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		org := string(ident.SyntheticOrgnr(4343))
		a := submitted(t, db, applicationForm(org))
		a, d, err := db.RefuseApplication(ctx, a.ID, "Formålet gir ikke grunnlag.", nil, "user:cw", "Sara")
		if err != nil {
			t.Fatal(err)
		}
		if a.Status != governance.AppRefused || a.Reasons != "Formålet gir ikke grunnlag." || d.Kind != governance.DecisionRefusal || d.Org != org {
			t.Fatalf("refused: %+v %+v", a, d)
		}
		got, err := db.Decision(ctx, d.ID)
		if err != nil || got.Text != d.Text {
			t.Fatalf("decision: %v", err)
		}
		if gs := grantsOf(t, db, org, a.ID); len(gs) != 0 {
			t.Fatalf("a refusal made grants: %+v", gs)
		}
		if _, err := db.AmendApplication(ctx, a.ID, "user:admin", "Ada"); !errors.Is(err, ErrConflict) {
			t.Fatalf("amending a refused application: %v", err)
		}
	})
}

// approved takes an application of form to production.
func approved(t *testing.T, db *DB, form governance.ApplicationForm) governance.Application {
	t.Helper()
	ctx := context.Background()
	a, _, err := db.ApproveApplication(ctx, submitted(t, db, form).ID, Approval{Packages: grunn(t)}, "user:cw", "Sara")
	if err != nil {
		t.Fatal(err)
	}
	if a, err = db.StepApplication(ctx, a.ID, governance.StepConfirmTest, nil, "", "user:admin", "Ada"); err != nil {
		t.Fatal(err)
	}
	if a, _, err = db.ApproveProduction(ctx, a.ID, grunn(t), nil, "user:cw", "Sara"); err != nil {
		t.Fatal(err)
	}
	return a
}

func statuses(gs []access.Grant) map[register.Env]access.Status {
	out := map[register.Env]access.Status{}
	for _, g := range gs {
		out[g.Env] = g.Status
	}
	return out
}

// Rule AA-05: a substantial change ends the old access at once, when the new application is signed.
func TestSubstantialChangeEndsAccess(t *testing.T) {
	eachEngine(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		org := string(ident.SyntheticOrgnr(4444))
		agreeWithProcessor(t, db, org)
		old := approved(t, db, applicationForm(org))
		a, err := db.AmendApplication(ctx, old.ID, "user:admin", "Ada")
		if err != nil {
			t.Fatal(err)
		}
		if a.Replaces != old.ID || a.Status != governance.AppDraft || a.Form.TermsAccepted || a.Form.Purpose != old.Form.Purpose {
			t.Fatalf("amendment: %+v", a)
		}
		if _, err := db.AmendApplication(ctx, old.ID, "user:admin", "Ada"); !errors.Is(err, ErrConflict) {
			t.Fatalf("a second change under way: %v", err)
		}
		form := a.Form
		form.Purpose, form.TermsAccepted = "Kontroll av trygdeytelser.", true
		for _, step := range []governance.Step{governance.StepSave, governance.StepSubmit} {
			if a, err = db.StepApplication(ctx, a.ID, step, &form, "", "user:admin", "Ada"); err != nil {
				t.Fatal(err)
			}
		}
		// Nothing ends before the new application is signed.
		for _, g := range grantsOf(t, db, org, old.ID) {
			if g.Status != access.Active {
				t.Fatalf("ended before signing: %+v", g)
			}
		}
		if a, err = db.StepApplication(ctx, a.ID, governance.StepSign, nil, "", "user:rolf", "Rolf"); err != nil {
			t.Fatal(err)
		}
		gs := grantsOf(t, db, org, old.ID)
		if len(gs) != 4 {
			t.Fatalf("old grants: %+v", gs)
		}
		for _, g := range gs {
			if g.Status != access.Ended || g.StatusReason != governance.SubstantialReason {
				t.Fatalf("old grant after a substantial change: %+v", g)
			}
		}
		ds, _ := db.Delegations(ctx, org)
		if len(ds) != 1 || ds[0].Status != access.Ended {
			t.Fatalf("the processor's delegation outlived the consumer's access: %+v", ds)
		}
		if o, _ := db.Application(ctx, old.ID); o.Status != governance.AppReplaced {
			t.Fatalf("old application: %s", o.Status)
		}
		evs := applicationEvents(t, db, org)
		if e := evs[len(evs)-1]; e.Application != a.ID || !slices.Equal(e.Changes, []string{"formål"}) {
			t.Fatalf("sign event: %+v", e)
		}
		// The new application is decided as usual.
		if _, err := db.StepApplication(ctx, a.ID, governance.StepTake, nil, "", "user:cw", "Sara"); err != nil {
			t.Fatal(err)
		}
	})
}

// Rule AA-05: other changes are reported; the old access lasts until the new decision, environment by environment.
func TestOtherChangeKeepsAccess(t *testing.T) {
	eachEngine(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		org := string(ident.SyntheticOrgnr(4545))
		agreeWithProcessor(t, db, org)
		old := approved(t, db, applicationForm(org))
		a, err := db.AmendApplication(ctx, old.ID, "user:admin", "Ada")
		if err != nil {
			t.Fatal(err)
		}
		form := a.Form
		form.Technical.Navn, form.TermsAccepted = "Ny Teknisk", true
		if _, err = db.StepApplication(ctx, a.ID, governance.StepSubmit, &form, "", "user:admin", "Ada"); err != nil {
			t.Fatal(err)
		}
		if a, err = db.StepApplication(ctx, a.ID, governance.StepSign, nil, "", "user:rolf", "Rolf"); err != nil {
			t.Fatal(err)
		}
		if s := statuses(grantsOf(t, db, org, old.ID)); s[register.EnvTest] != access.Active || s[register.EnvProd] != access.Active {
			t.Fatalf("a minor change ended access: %v", s)
		}
		hist, _ := db.ApplicationHistory(ctx, a.ID)
		if n := hist[len(hist)-1].Note; n == "" {
			t.Fatal("the change is not reported in the history")
		}
		if _, err := db.StepApplication(ctx, a.ID, governance.StepTake, nil, "", "user:cw", "Sara"); err != nil {
			t.Fatal(err)
		}
		if a, _, err = db.ApproveApplication(ctx, a.ID, Approval{Packages: grunn(t)}, "user:cw", "Sara"); err != nil {
			t.Fatal(err)
		}
		// The new test access replaces the old; the old production access lasts until the new one's.
		if s := statuses(grantsOf(t, db, org, old.ID)); s[register.EnvTest] != access.Ended || s[register.EnvProd] != access.Active {
			t.Fatalf("after the new decision: %v", s)
		}
		if o, _ := db.Application(ctx, old.ID); o.Status != governance.AppReplaced {
			t.Fatalf("old application: %s", o.Status)
		}
		if _, err := db.StepApplication(ctx, a.ID, governance.StepConfirmTest, nil, "", "user:admin", "Ada"); err != nil {
			t.Fatal(err)
		}
		if _, _, err := db.ApproveProduction(ctx, a.ID, grunn(t), nil, "user:cw", "Sara"); err != nil {
			t.Fatal(err)
		}
		if s := statuses(grantsOf(t, db, org, old.ID)); s[register.EnvProd] != access.Ended {
			t.Fatalf("after the new production decision: %v", s)
		}
		ds, _ := db.Delegations(ctx, org)
		active := 0
		for _, d := range ds {
			if d.Status == access.Active {
				active++
			}
		}
		if len(ds) != 2 || active != 1 {
			t.Fatalf("delegations: %+v", ds)
		}
	})
}

// Rule SK-08: a decision on consent makes consent grants.
func TestConsentApplicationGrants(t *testing.T) {
	eachEngine(t, func(t *testing.T, db *DB) {
		org := string(ident.SyntheticOrgnr(4646))
		form := applicationForm(org)
		form.BasisKind, form.LegalBasis, form.Processor = governance.BasisConsent, "", governance.Processor{}
		a, _, err := db.ApproveApplication(context.Background(), submitted(t, db, form).ID, Approval{Packages: grunn(t)}, "user:cw", "Sara")
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range grantsOf(t, db, org, a.ID) {
			if !g.Consent || g.LegalBasis != "Samtykke fra den registrerte" {
				t.Fatalf("grant: %+v", g)
			}
		}
		if a.DelegationID != "" {
			t.Fatal("a delegation without a processor")
		}
	})
}

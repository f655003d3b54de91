package store

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"deling/internal/access"
	"deling/internal/dpa"
	"deling/internal/governance"
	"deling/internal/ident"
	"deling/internal/register"
)

// dpaParties are the people of an agreement's two sides, each a role
// holder, and an administrator of the controller.
type dpaParties struct {
	rules                        DPARules
	controller, processor, admin DPAActor
	procStaff                    DPAActor
	ctrlOrg, procOrg             string
}

// newDPAParties makes the consumer ctrl (with an active API grant) and the
// people of both sides, with fresh synthetic organisation numbers.
func newDPAParties(t *testing.T, db *DB, n int) dpaParties {
	t.Helper()
	ctx := context.Background()
	p := dpaPartiesFor(t, db, string(ident.SyntheticOrgnr(5000+2*n)), string(ident.SyntheticOrgnr(5001+2*n)))
	if err := db.UpsertConsumer(ctx, access.Consumer{Orgnr: p.ctrlOrg, Navn: "Testkommune", Status: access.Active}, "test"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.AddGrant(ctx, access.Grant{Consumer: p.ctrlOrg, Packages: []string{"grunnopplysninger@1"}, Channel: access.ChannelAPI, Env: register.EnvTest,
		LegalBasis: "lov", ProcessingBasis: "art. 6", Purpose: "saksbehandling", QueryKinds: []access.QueryKind{access.ByArbeidstaker},
		ValidFrom: fixedNow().Add(-time.Hour)}, "test"); err != nil {
		t.Fatal(err)
	}
	return p
}

// dpaPartiesFor makes the people of both sides of an agreement between ctrl and proc.
func dpaPartiesFor(t *testing.T, db *DB, ctrl, proc string) dpaParties {
	t.Helper()
	cat, err := access.ParseCatalogue(access.DefaultPackages())
	if err != nil {
		t.Fatal(err)
	}
	p := dpaParties{rules: DPARules{Env: register.EnvTest, Cat: cat}, ctrlOrg: ctrl, procOrg: proc}
	user := func(name, org string, role governance.Role) DPAActor {
		u, err := db.CreateUser(context.Background(), governance.User{Email: newID() + "@x.test", Navn: name}, "",
			[]governance.Membership{{Org: org, Role: role}}, "test")
		if err != nil {
			t.Fatal(err)
		}
		return DPAActor{UserID: u.ID, Name: name}
	}
	p.controller = user("Kari Rolle", p.ctrlOrg, governance.Rolleinnehaver)
	p.admin = user("Ada Admin", p.ctrlOrg, governance.Administrator)
	p.processor = user("Per Rolle", p.procOrg, governance.Rolleinnehaver)
	p.procStaff = user("Dag Databehandler", p.procOrg, governance.Databehandler)
	return p
}

// content is an agreement between the parties that may be signed.
func (p dpaParties) content() dpa.Content {
	return dpa.Content{
		Controller: dpa.Party{Orgnr: p.ctrlOrg, Navn: "Testkommune"}, Processor: dpa.Party{Orgnr: p.procOrg, Navn: "Systemleverandør AS"},
		MainAgreement: "Avtale om saksbehandlingssystem", MainAgreementDate: "2026-01-15",
		ControllerContact: dpa.Contact{Navn: "Ada Admin", Stilling: "Personvernrådgiver", Epost: "ada@kommune.example"},
		ProcessorContact:  dpa.Contact{Navn: "Per Prosess", Stilling: "Sikkerhetsleder", Epost: "per@leverandor.example"},
		Channels:          []access.Channel{access.ChannelAPI},
		Packages:          []string{"grunnopplysninger@1"},
		BreachNoticeHours: 24, DeletionDays: 30,
		Annex1: dpa.Annex1{Purpose: "Saksbehandling.", Nature: "Drift av fagsystem.", SubjectCategories: "Søkere",
			DataTypes: "Arbeidsforhold", Locations: []string{"Norge"}},
		Annex2: dpa.Annex2{Pseudonymisation: "ikke relevant", Encryption: "TLS 1.3", Confidentiality: "Tilgangsstyring",
			Integrity: "Endringslogg", Availability: "Daglig backup", Resilience: "To datasentre", Physical: "Adgangskontroll",
			Other: "ikke relevant"},
	}
}

// active negotiates an agreement in force between the parties.
func (p dpaParties) active(t *testing.T, db *DB) AgreementRecord {
	t.Helper()
	rec, err := db.NegotiateAgreement(context.Background(), p.rules, p.content(), p.controller, p.processor)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Status != dpa.StatusActive {
		t.Fatalf("negotiated agreement is %s", rec.Status)
	}
	return rec
}

func (p dpaParties) delegation(a AgreementRecord) access.Delegation {
	return access.Delegation{Consumer: p.ctrlOrg, Processor: p.procOrg, AgreementID: a.ID, Channels: []access.Channel{access.ChannelAPI},
		Packages: []string{"grunnopplysninger@1"}, ValidFrom: fixedNow().Add(-time.Minute)}
}

// legacyDelegation stores a delegation as it was before agreements were
// records (migration 00016): no agreement, no channels or packages.
func legacyDelegation(t testing.TB, db *DB, consumer, processor string) string {
	t.Helper()
	id := newID()
	if _, err := db.write.ExecContext(context.Background(), `INSERT INTO delegations (id, consumer, processor, dpa_ref, valid_from, status, created_at, updated_at)
		VALUES ($1, $2, $3, 'DBA-1', $4, 'active', $4, $4)`, id, consumer, processor, micros(fixedNow().Add(-time.Hour))); err != nil {
		t.Fatal(err)
	}
	if err := db.inTx(context.Background(), func(tx *sql.Tx) error { return bumpAccess(context.Background(), tx) }); err != nil {
		t.Fatal(err)
	}
	return id
}

// dpaEvents are the log's events of agreement id, in order.
func dpaEvents(t *testing.T, db *DB, consumer, id string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, r := range lifeEvents(t, db, consumer, KindDPA) {
		var ev map[string]any
		if err := json.Unmarshal(r.Event, &ev); err != nil {
			t.Fatal(err)
		}
		if ev["agreement"] == id {
			out = append(out, ev)
		}
	}
	return out
}

// Rule DPA-01: drafted by the controller, completed by the processor,
// signed by a role holder on each side over exactly the version shown; a
// change is a new version signed again, with the history kept; every step
// is an event in the lookup log with the document's SHA-256.
func TestAgreementVersionsAndSignatures(t *testing.T) {
	eachEngine(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		p := newDPAParties(t, db, 1)
		// The processor cannot draft the controller's agreement.
		if _, err := db.CreateAgreement(ctx, p.rules, p.content(), p.processor); !errors.Is(err, dpa.ErrNotYourStep) {
			t.Fatalf("processor drafted: %v", err)
		}
		id, err := db.CreateAgreement(ctx, p.rules, p.content(), p.admin)
		if err != nil {
			t.Fatal(err)
		}
		step := func(s dpa.Step, in StepInput, by DPAActor) (AgreementRecord, error) {
			return db.StepAgreement(ctx, p.rules, id, s, in, by)
		}
		if _, err := step(dpa.StepSend, StepInput{}, p.admin); err != nil {
			t.Fatal(err)
		}
		// The processor's save changes only its part.
		changed := p.content()
		changed.Annex2.Encryption = "AES-256 i ro"
		rec, err := step(dpa.StepProcessorSave, StepInput{Content: &changed}, p.procStaff)
		if err != nil {
			t.Fatal(err)
		}
		if rec.Newest().Content.Annex2.Encryption != "AES-256 i ro" || rec.Newest().Content.Annex1.Purpose != "Saksbehandling." {
			t.Fatalf("processor save: %+v", rec.Newest().Content)
		}
		if rec, err = step(dpa.StepComplete, StepInput{}, p.procStaff); err != nil {
			t.Fatal(err)
		}
		shown := rec.Newest().Hash()
		// Staff may not sign; a stale hash is refused and changes nothing.
		if _, err := step(dpa.StepSignProcessor, StepInput{Seen: shown}, p.procStaff); !errors.Is(err, dpa.ErrNotYourStep) {
			t.Fatalf("staff signed: %v", err)
		}
		if _, err := step(dpa.StepSignController, StepInput{Seen: "abc"}, p.controller); !errors.Is(err, dpa.ErrChanged) {
			t.Fatalf("stale hash: %v", err)
		}
		if got, _ := db.Agreement(ctx, id); got.Newest().ControllerSig != nil || got.Newest().Status != dpa.VersionToSign {
			t.Fatalf("refused signature left a trace: %+v", got.Newest())
		}
		// The processor's role holder cannot sign the controller's side.
		if _, err := step(dpa.StepSignController, StepInput{Seen: shown}, p.processor); !errors.Is(err, dpa.ErrNotYourStep) {
			t.Fatalf("processor signed for the controller: %v", err)
		}
		if _, err := step(dpa.StepSignController, StepInput{Seen: shown}, p.controller); err != nil {
			t.Fatal(err)
		}
		if rec, err = step(dpa.StepSignProcessor, StepInput{Seen: shown}, p.processor); err != nil {
			t.Fatal(err)
		}
		v1 := rec.Newest()
		if rec.Status != dpa.StatusActive || v1.Status != dpa.VersionSigned || !v1.Valid() || v1.InForceAt.IsZero() {
			t.Fatalf("signed: %s %+v", rec.Status, v1)
		}
		// A change is a new version; the signed one stays in force until the new one is signed.
		if rec, err = step(dpa.StepAmend, StepInput{}, p.admin); err != nil {
			t.Fatal(err)
		}
		if len(rec.Versions) != 2 || rec.Newest().Status != dpa.VersionDraft || rec.Current().Number != 1 {
			t.Fatalf("amend: %+v", rec.Versions)
		}
		amended := rec.Newest().Content
		amended.Annex1.Purpose = "Saksbehandling og statistikk."
		for _, s := range []struct {
			s  dpa.Step
			in StepInput
			by DPAActor
		}{{dpa.StepSave, StepInput{Content: &amended}, p.admin}, {dpa.StepSend, StepInput{}, p.admin}, {dpa.StepComplete, StepInput{}, p.procStaff}} {
			if rec, err = step(s.s, s.in, s.by); err != nil {
				t.Fatal(s.s, err)
			}
		}
		// The signature over version 1's hash does not sign version 2.
		if _, err := step(dpa.StepSignController, StepInput{Seen: v1.Hash()}, p.controller); !errors.Is(err, dpa.ErrChanged) {
			t.Fatalf("old hash signed the new version: %v", err)
		}
		h2 := rec.Newest().Hash()
		for _, s := range []struct {
			s  dpa.Step
			by DPAActor
		}{{dpa.StepSignProcessor, p.processor}, {dpa.StepSignController, p.controller}} {
			if rec, err = step(s.s, StepInput{Seen: h2}, s.by); err != nil {
				t.Fatal(err)
			}
		}
		if rec.Versions[0].Status != dpa.VersionSuperseded || rec.Current().Number != 2 || rec.Current().Content.Annex1.Purpose != amended.Annex1.Purpose {
			t.Fatalf("history: %+v", rec.Versions)
		}
		// Every step is in the history and the log; a signature's event holds the document's SHA-256.
		hist, err := db.AgreementHistory(ctx, id)
		if err != nil || len(hist) != 12 {
			t.Fatalf("history: %d entries, %v", len(hist), err)
		}
		evs := dpaEvents(t, db, p.ctrlOrg, id)
		if len(evs) != len(hist) {
			t.Fatalf("%d events for %d steps", len(evs), len(hist))
		}
		last := evs[len(evs)-1]
		if last["step"] != string(dpa.StepSignController) || last["documentSha256"] != dpa.DocumentDigest(rec.Current()) || last["contentSha256"] != h2 {
			t.Fatalf("signature event: %v", last)
		}
	})
}

// Rule SK-04: a delegation only under an active agreement signed by both,
// between its parties, covering what it delegates; refused otherwise with
// nothing stored. Delegations from before agreements were records stay in
// force and are listed for the case workers; an end ends the delegations
// in the same transaction.
func TestDelegationNeedsCoveringAgreement(t *testing.T) {
	eachEngine(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		p := newDPAParties(t, db, 2)
		// A pending agreement covers nothing.
		pending, err := db.CreateAgreement(ctx, p.rules, p.content(), p.controller)
		if err != nil {
			t.Fatal(err)
		}
		a := p.active(t, db)
		other := newDPAParties(t, db, 3)
		otherA := other.active(t, db)
		wrongPkg := p.delegation(a)
		wrongPkg.Packages = []string{"permisjoner@1"}
		wrongChan := p.delegation(a)
		wrongChan.Channels = []access.Channel{access.ChannelExtract}
		noAgreement := p.delegation(a)
		noAgreement.AgreementID = ""
		pend := p.delegation(a)
		pend.AgreementID = pending
		wrongParties := p.delegation(a)
		wrongParties.AgreementID = otherA.ID
		for name, c := range map[string]struct {
			d    access.Delegation
			want error
		}{
			"no agreement":        {noAgreement, dpa.ErrNoAgreement},
			"pending agreement":   {pend, dpa.ErrNotInForce},
			"other parties":       {wrongParties, dpa.ErrWrongParties},
			"package not covered": {wrongPkg, dpa.ErrNotCovered},
			"channel not covered": {wrongChan, dpa.ErrNotCovered},
		} {
			if _, err := db.AddDelegation(ctx, c.d, "test"); !errors.Is(err, c.want) || !errors.Is(err, ErrConflict) {
				t.Errorf("%s: got %v, want %v", name, err, c.want)
			}
		}
		if ds, _ := db.Delegations(ctx, p.ctrlOrg); len(ds) != 0 {
			t.Fatalf("refused delegations were stored: %+v", ds)
		}
		d, err := db.AddDelegation(ctx, p.delegation(a), "test")
		if err != nil {
			t.Fatal(err)
		}
		if got := lifeDecide(t, db, p.ctrlOrg, p.procOrg); !got.Permit {
			t.Fatalf("delegated processor refused: %s", got.Reason)
		}
		// A delegation from before migration 00016 names no agreement: it stays in force, listed.
		legacy := legacyDelegation(t, db, other.ctrlOrg, other.procOrg)
		gaps, err := db.UncoveredDelegations(ctx, fixedNow())
		if err != nil {
			t.Fatal(err)
		}
		if len(gaps) != 1 || gaps[0].Delegation.ID != legacy || !errors.Is(gaps[0].Err, dpa.ErrNoAgreement) {
			t.Fatalf("uncovered: %+v", gaps)
		}
		if got := lifeDecide(t, db, other.ctrlOrg, other.procOrg); got.Reason == access.DenyNoDelegation {
			t.Fatal("a delegation from before agreements was cut off by the upgrade")
		}
		// Rules SK-04, DPA-10: the end ends the delegations in the same transaction.
		if _, err := db.StepAgreement(ctx, p.rules, a.ID, dpa.StepEnd, StepInput{Ending: &dpa.Ending{Reason: "Hovedavtalen er sagt opp.", Choice: dpa.ChoiceDelete}}, p.controller); err != nil {
			t.Fatal(err)
		}
		ds, _ := db.Delegations(ctx, p.ctrlOrg)
		if len(ds) != 1 || ds[0].ID != d.ID || ds[0].Status != access.Ended {
			t.Fatalf("after the end: %+v", ds)
		}
		if got := lifeDecide(t, db, p.ctrlOrg, p.procOrg); got.Reason != access.DenyNoDelegation {
			t.Fatalf("after the end: %s", got.Reason)
		}
		if _, err := db.AddDelegation(ctx, p.delegation(a), "test"); !errors.Is(err, dpa.ErrNotInForce) {
			t.Fatalf("delegated under an ended agreement: %v", err)
		}
	})
}

// Rule SK-04: concurrent ends and delegations never leave a delegation in
// force under an ended agreement, on either engine.
func TestDelegationEndRace(t *testing.T) {
	eachEngine(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		p := newDPAParties(t, db, 4)
		for i := range 12 {
			a := p.active(t, db)
			var wg sync.WaitGroup
			errs := make([]error, 4)
			for g := range 4 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if g == 2 {
						_, errs[g] = db.StepAgreement(ctx, p.rules, a.ID, dpa.StepEnd, StepInput{Ending: &dpa.Ending{Reason: "Slutt.", Choice: dpa.ChoiceDelete}}, p.controller)
						return
					}
					_, errs[g] = db.AddDelegation(ctx, p.delegation(a), "test")
				}()
			}
			wg.Wait()
			if errs[2] != nil {
				t.Fatalf("round %d: end: %v", i, errs[2])
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
				if d.AgreementID == a.ID && d.Status != access.Ended {
					t.Fatalf("round %d: delegation %s is %s under an ended agreement", i, d.ID, d.Status)
				}
			}
		}
		if got := lifeDecide(t, db, p.ctrlOrg, p.procOrg); got.Reason != access.DenyNoDelegation {
			t.Fatalf("after the races: %s", got.Reason)
		}
	})
}

// Rule DPA-11: a stop order suspends the delegations at once (the next
// decision refuses the processor) and tells the processor; only the
// controller's new decision resumes them.
func TestStopOrderSuspendsDelegations(t *testing.T) {
	eachEngine(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		p := newDPAParties(t, db, 5)
		a := p.active(t, db)
		if _, err := db.AddDelegation(ctx, p.delegation(a), "test"); err != nil {
			t.Fatal(err)
		}
		if got := lifeDecide(t, db, p.ctrlOrg, p.procOrg); !got.Permit {
			t.Fatal(got.Reason) // also fills the access cache
		}
		if _, err := db.StepAgreement(ctx, p.rules, a.ID, dpa.StepStop, StepInput{Reason: " "}, p.controller); !isInvalid(err) {
			t.Fatalf("stop without a reason: %v", err)
		}
		if _, err := db.StepAgreement(ctx, p.rules, a.ID, dpa.StepStop, StepInput{Reason: "Mistanke om avvik."}, p.admin); err != nil {
			t.Fatal(err)
		}
		if got := lifeDecide(t, db, p.ctrlOrg, p.procOrg); got.Reason != access.DenyNoDelegation {
			t.Fatalf("after the stop order: %s", got.Reason)
		}
		if ms, _ := db.MailTo(ctx, p.procOrg, 10); len(ms) == 0 || ms[0].Kind != LetterDPAStop || !strings.Contains(ms[0].Body, "Mistanke om avvik.") {
			t.Fatalf("the processor was not told: %+v", ms)
		}
		if _, err := db.AddDelegation(ctx, p.delegation(a), "test"); !errors.Is(err, dpa.ErrNotInForce) {
			t.Fatalf("delegated under a stopped agreement: %v", err)
		}
		// The processor cannot resume; the controller's decision does.
		if _, err := db.StepAgreement(ctx, p.rules, a.ID, dpa.StepResume, StepInput{Reason: "Avklart."}, p.processor); !errors.Is(err, dpa.ErrNotYourStep) {
			t.Fatalf("processor resumed: %v", err)
		}
		rec, err := db.StepAgreement(ctx, p.rules, a.ID, dpa.StepResume, StepInput{Reason: "Avviket er lukket."}, p.controller)
		if err != nil {
			t.Fatal(err)
		}
		if rec.Status != dpa.StatusActive || rec.Stop == nil || rec.Stop.ResumeReason != "Avviket er lukket." {
			t.Fatalf("resumed: %+v", rec)
		}
		if got := lifeDecide(t, db, p.ctrlOrg, p.procOrg); !got.Permit {
			t.Fatalf("after resumption: %s", got.Reason)
		}
	})
}

func isInvalid(err error) bool {
	var ie *InvalidError
	return errors.As(err, &ie)
}

// Rules DPA-05, DPA-06: a proposed sub-processor changes nothing until the
// controller approves it; outside the EU/EEA only with the controller's
// instruction naming country and basis; refused ones stay visible.
func TestSubProcessorApproval(t *testing.T) {
	eachEngine(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		p := newDPAParties(t, db, 6)
		a := p.active(t, db)
		us := dpa.SubProcessorEntry{Navn: "Sky Inc.", ForeignID: "C-123", Country: "USA", Task: "Lagring"}
		id, err := db.ProposeSubProcessor(ctx, p.rules, a.ID, us, nil, p.procStaff)
		if err != nil {
			t.Fatal(err)
		}
		annex := func() []dpa.Annex3Item {
			rec, _ := db.Agreement(ctx, a.ID)
			subs, _ := db.SubProcessors(ctx, a.ID)
			return dpa.Annex3At(&rec.Agreement, subs, fixedNow())
		}
		if got := annex(); len(got) != 0 {
			t.Fatalf("a proposal changed annex 3: %+v", got)
		}
		if _, err := db.DecideSubProcessor(ctx, p.rules, id, dpa.SubStepApprove, nil, "", nil, p.processor); !errors.Is(err, dpa.ErrNotYourStep) {
			t.Fatalf("processor approved its own proposal: %v", err)
		}
		// Rule DPA-06: the USA without the controller's instruction is refused; with SCC too (AA-09: DPF only).
		if _, err := db.DecideSubProcessor(ctx, p.rules, id, dpa.SubStepApprove, nil, "", nil, p.controller); !isInvalid(err) {
			t.Fatalf("approved a third-country sub-processor without instruction: %v", err)
		}
		if _, err := db.DecideSubProcessor(ctx, p.rules, id, dpa.SubStepApprove, &dpa.Transfer{Country: "USA", Recipient: "Sky Inc.", Basis: dpa.BasisSCC, SCCModule: 3}, "", nil, p.controller); !isInvalid(err) {
			t.Fatalf("approved the USA on SCC: %v", err)
		}
		s, err := db.DecideSubProcessor(ctx, p.rules, id, dpa.SubStepApprove, &dpa.Transfer{Country: "USA", Recipient: "Sky Inc.", Basis: dpa.BasisDPF}, "", nil, p.controller)
		if err != nil {
			t.Fatal(err)
		}
		if got := annex(); len(got) != 1 || got[0].Entry.Navn != "Sky Inc." || got[0].Transfer == nil || s.ApprovedBy != p.controller.actor() {
			t.Fatalf("annex 3 after approval: %+v", got)
		}
		// A refused one is visible, never in annex 3.
		id2, err := db.ProposeSubProcessor(ctx, p.rules, a.ID, dpa.SubProcessorEntry{Navn: "Drift AS", Orgnr: string(ident.SyntheticOrgnr(77)), Country: "Norge", Task: "Drift"}, nil, p.procStaff)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.DecideSubProcessor(ctx, p.rules, id2, dpa.SubStepRefuse, nil, "", nil, p.controller); !isInvalid(err) {
			t.Fatalf("refused without reasons: %v", err)
		}
		if _, err := db.DecideSubProcessor(ctx, p.rules, id2, dpa.SubStepRefuse, nil, "Ikke nødvendig.", nil, p.controller); err != nil {
			t.Fatal(err)
		}
		subs, _ := db.SubProcessors(ctx, a.ID)
		rec, _ := db.Agreement(ctx, a.ID)
		if props := dpa.Proposals(&rec.Agreement, subs); len(props) != 1 || props[0].Status != dpa.SubRefused || len(annex()) != 1 {
			t.Fatalf("proposals: %+v", props)
		}
	})
}

// Rule DPA-09: an authority's request recorded by the processor queues the
// controller's notice at once; audit reports are kept, size-limited and
// type-checked by their bytes, and bad files store nothing.
func TestAuthorityRequestsAndAuditReports(t *testing.T) {
	eachEngine(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		p := newDPAParties(t, db, 7)
		a := p.active(t, db)
		req := dpa.AuthorityRequest{Authority: "Politiet", ReceivedAt: fixedNow().Add(-time.Hour), What: "Arbeidsforhold for én person", LegalBasis: "straffeprosessloven § 210"}
		if _, err := db.RecordAuthorityRequest(ctx, a.ID, req, p.controller); !errors.Is(err, dpa.ErrNotYourStep) {
			t.Fatalf("the controller recorded the processor's request: %v", err)
		}
		if _, err := db.RecordAuthorityRequest(ctx, a.ID, req, p.procStaff); err != nil {
			t.Fatal(err)
		}
		ms, _ := db.MailTo(ctx, p.ctrlOrg, 10)
		if len(ms) == 0 || ms[0].Kind != LetterDPARequest || !strings.Contains(ms[0].Body, "Politiet") {
			t.Fatalf("the controller was not told: %+v", ms)
		}
		if rs, _ := db.AuthorityRequests(ctx, a.ID); len(rs) != 1 || rs[0].RecordedBy != p.procStaff.actor() {
			t.Fatalf("requests: %+v", rs)
		}
		pdf := append([]byte("%PDF-1.7\n"), bytes.Repeat([]byte("x"), 1000)...)
		rep, err := db.AddAuditReport(ctx, a.ID, "Revisjon 2026", "rapport.pdf", bytes.NewReader(pdf), p.processor)
		if err != nil {
			t.Fatal(err)
		}
		for name, c := range map[string]struct {
			name string
			r    *bytes.Reader
		}{
			"not a PDF":  {"rapport.pdf", bytes.NewReader([]byte("<html>hei</html>"))},
			"exe":        {"rapport.exe", bytes.NewReader(pdf)},
			"too large":  {"rapport.pdf", bytes.NewReader(append(pdf, make([]byte, dpa.MaxAuditFileSize)...))},
			"empty file": {"rapport.txt", bytes.NewReader(nil)},
		} {
			if _, err := db.AddAuditReport(ctx, a.ID, "Revisjon", c.name, c.r, p.processor); !isInvalid(err) {
				t.Errorf("%s: %v", name, err)
			}
		}
		other := newDPAParties(t, db, 8)
		if _, err := db.AddAuditReport(ctx, a.ID, "Revisjon", "r.pdf", bytes.NewReader(pdf), other.processor); !errors.Is(err, dpa.ErrNotYourStep) {
			t.Fatalf("an outsider filed a report: %v", err)
		}
		reps, _ := db.AuditReports(ctx, a.ID)
		if len(reps) != 1 || reps[0].ID != rep.ID || reps[0].Type != dpa.FilePDF || reps[0].Size != int64(len(pdf)) {
			t.Fatalf("reports: %+v", reps)
		}
		var buf bytes.Buffer
		if _, err := db.AuditReportFile(ctx, rep.ID, &buf); err != nil || !bytes.Equal(buf.Bytes(), pdf) {
			t.Fatalf("file: %v", err)
		}
	})
}

// Rule DPA-10: the end sets the deletion deadline; reminders go out once
// each; the processor's role holder files the certificate, backups
// included, and then the agreement is closed.
func TestEndDeletionCertificateAndReminders(t *testing.T) {
	eachEngine(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		clock := lifeMovableClock(db)
		p := newDPAParties(t, db, 9)
		a := p.active(t, db)
		rec, err := db.StepAgreement(ctx, p.rules, a.ID, dpa.StepEnd, StepInput{Ending: &dpa.Ending{Reason: "Avtalen utløper.", Choice: dpa.ChoiceReturn}}, p.admin)
		if err != nil {
			t.Fatal(err)
		}
		if rec.Status != dpa.StatusEnded || !rec.Ending.DeletionDue.Equal(dpa.DeletionDue(fixedNow(), 30)) {
			t.Fatalf("ended: %+v", rec.Ending)
		}
		ended, err := db.EndedAgreements(ctx)
		if err != nil || len(ended) != 1 {
			t.Fatalf("ended agreements: %v %v", ended, err)
		}
		now := rec.Ending.DeletionDue.Add(-7*24*time.Hour + time.Minute)
		due := ended[0].RemindersDue(dpa.DefaultDeletionReminders(), ended[0].RemindedTo, now)
		if len(due) != 1 || due[0].Before != 7*24*time.Hour {
			t.Fatalf("reminders due: %+v", due)
		}
		letter := governance.Letter{Kind: "dpa.deletion", To: "per@leverandor.example", Subject: "Frist for sletting"}
		if ok, err := db.RemindDeletion(ctx, a.ID, ended[0].RemindedTo, now, []governance.Letter{letter}, "7 dager"); !ok || err != nil {
			t.Fatalf("remind: %v %v", ok, err)
		}
		if ok, _ := db.RemindDeletion(ctx, a.ID, ended[0].RemindedTo, now, []governance.Letter{letter}, "7 dager"); ok {
			t.Fatal("reminded twice")
		}
		clock.advance(time.Hour)
		cert := dpa.DeletionCertificate{What: "Alle kopier i fagsystemet", How: "Sletting og overskriving", DoneAt: clock.now().Add(-time.Minute),
			DoneBy: "Driftsavdelingen"}
		if _, err := db.StepAgreement(ctx, p.rules, a.ID, dpa.StepConfirmDeletion, StepInput{Certificate: &cert}, p.processor); !isInvalid(err) {
			t.Fatalf("certificate without backups: %v", err)
		}
		cert.BackupsIncluded = true
		if _, err := db.StepAgreement(ctx, p.rules, a.ID, dpa.StepConfirmDeletion, StepInput{Certificate: &cert}, p.procStaff); !errors.Is(err, dpa.ErrNotYourStep) {
			t.Fatalf("staff certified: %v", err)
		}
		if rec, err = db.StepAgreement(ctx, p.rules, a.ID, dpa.StepConfirmDeletion, StepInput{Certificate: &cert}, p.processor); err != nil {
			t.Fatal(err)
		}
		if rec.Status != dpa.StatusDeleted || rec.Deletion == nil || rec.Deletion.SignedBy != p.processor.actor() || rec.Overdue(now.Add(365*24*time.Hour)) {
			t.Fatalf("certificate: %+v", rec.Deletion)
		}
		if ended, _ := db.EndedAgreements(ctx); len(ended) != 0 {
			t.Fatal("a certified agreement is still reminded")
		}
	})
}

// Rule DPA-06: processing outside the EU/EEA needs the controller's
// documented instruction naming the country and the basis, checked against
// the register's country list, before the draft goes to the processor.
func TestThirdCountryNeedsInstruction(t *testing.T) {
	eachEngine(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		p := newDPAParties(t, db, 10)
		c := p.content()
		c.Annex1.Locations = []string{"Norge", "USA"}
		id, err := db.CreateAgreement(ctx, p.rules, c, p.controller)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.StepAgreement(ctx, p.rules, id, dpa.StepSend, StepInput{}, p.controller); !errors.Is(err, dpa.ErrNotReady) {
			t.Fatalf("sent without an instruction for the USA: %v", err)
		}
		c.Transfers = []dpa.Transfer{{Country: "USA", Basis: dpa.BasisSCC, SCCModule: 2}} // the USA only under the DPF (Rule AA-09)
		if _, err := db.StepAgreement(ctx, p.rules, id, dpa.StepSave, StepInput{Content: &c}, p.controller); err != nil {
			t.Fatal(err)
		}
		if _, err := db.StepAgreement(ctx, p.rules, id, dpa.StepSend, StepInput{}, p.controller); !errors.Is(err, dpa.ErrNotReady) {
			t.Fatalf("sent with SCC for the USA: %v", err)
		}
		c.Transfers = []dpa.Transfer{{Country: "USA", Basis: dpa.BasisDPF}}
		if _, err := db.StepAgreement(ctx, p.rules, id, dpa.StepSave, StepInput{Content: &c}, p.controller); err != nil {
			t.Fatal(err)
		}
		rec, err := db.StepAgreement(ctx, p.rules, id, dpa.StepSend, StepInput{}, p.controller)
		if err != nil {
			t.Fatal(err)
		}
		if tr := rec.Newest().Content.Transfers; len(tr) != 1 || tr[0].Basis != dpa.BasisDPF || rec.Newest().Status != dpa.VersionWithProcessor {
			t.Fatalf("sent: %+v", rec.Newest())
		}
	})
}

// Rule DPA-07: the processor's breach report to the controller, filed from
// the agreement, opens a case in the breach handling whose clock starts at
// the processor's awareness (Rules AV-03, AV-05) and tells the controller
// at once; the controller's people may not file it, and a report lacking
// a–f's required parts is refused with nothing stored.
func TestProcessorBreachReport(t *testing.T) {
	eachEngine(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		p := newDPAParties(t, db, 9)
		a := p.active(t, db)
		aware := fixedNow().Add(-30 * time.Hour)
		r := dpa.BreachReport{Nature: "Feilsendt e-post med arbeidsforhold.", SubjectCategories: "Arbeidstakere", RecordCategories: "Arbeidsforhold",
			Contact: "Per, per@leverandor.example", Consequences: "Opplysninger på avveie.", Measures: "E-posten er slettet hos mottaker.", AwareAt: aware}
		before, _ := db.Incidents(ctx, IncidentFilter{})
		if _, err := db.ReportProcessorBreach(ctx, a.ID, r, p.controller); !errors.Is(err, dpa.ErrNotYourStep) {
			t.Fatalf("the controller filed the processor's report: %v", err)
		}
		bad := r
		bad.Measures = ""
		if _, err := db.ReportProcessorBreach(ctx, a.ID, bad, p.procStaff); !isInvalid(err) {
			t.Fatalf("a report without e): %v", err)
		}
		if after, _ := db.Incidents(ctx, IncidentFilter{}); len(after) != len(before) {
			t.Fatal("a refused report opened a case")
		}
		id, err := db.ReportProcessorBreach(ctx, a.ID, r, p.procStaff)
		if err != nil {
			t.Fatal(err)
		}
		c, err := db.Incident(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if !c.Report.ByProcessor || !c.Report.ProcessorAwareAt.Equal(aware) || c.Report.ReportedBy.Org != p.procOrg {
			t.Fatalf("the case: %+v", c.Report)
		}
		ms, _ := db.MailTo(ctx, p.ctrlOrg, 10)
		if len(ms) == 0 || ms[0].Kind != LetterDPABreach || !strings.Contains(ms[0].Body, "etter fristen") {
			t.Fatalf("the controller was not told that the report came late: %+v", ms)
		}
		h, _ := db.AgreementHistory(ctx, a.ID)
		if last := h[len(h)-1]; last.Step != StepDPABreach || !strings.Contains(last.Note, id) {
			t.Fatalf("history: %+v", last)
		}
	})
}

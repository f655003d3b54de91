package web

import (
	"context"
	"strings"
	"testing"
	"time"

	"deling/internal/access"
	"deling/internal/dpa"
	"deling/internal/governance"
	"deling/internal/lookup"
	"deling/internal/register"
	"deling/internal/store"
	"deling/internal/token/authserver"
)

// dpaSide is a role holder of one side of an agreement, as the store takes steps.
func (h *harness) dpaRoleHolder(org string) store.DPAActor {
	h.t.Helper()
	email := h.account(governance.Rolleinnehaver, org, "")
	u, _, err := h.db.UserByEmail(context.Background(), email)
	if err != nil {
		h.t.Fatal(err)
	}
	return store.DPAActor{UserID: u.ID, Name: u.Navn}
}

func (h *harness) dpaRules() store.DPARules {
	h.t.Helper()
	cat, err := access.ParseCatalogue(access.DefaultPackages())
	if err != nil {
		h.t.Fatal(err)
	}
	return store.DPARules{Env: register.EnvTest, Cat: cat}
}

// delegate puts a data processing agreement in force between consumer and
// processor (agreement) and delegates under it what it covers (Rule
// SK-04). It returns the delegation, the agreement and the controller's role holder.
func (h *harness) delegate(consumer, processor string, packages ...string) (access.Delegation, store.AgreementRecord, store.DPAActor) {
	h.t.Helper()
	a, ctrl := h.agreement(consumer, processor, packages...)
	c := a.Current().Content
	d, err := h.db.AddDelegation(context.Background(), access.Delegation{Consumer: consumer, Processor: processor, AgreementID: a.ID, DPARef: a.ID,
		Channels: c.Channels, Packages: c.Packages, ValidFrom: h.clock.now().Add(-time.Minute)}, "test")
	if err != nil {
		h.t.Fatal(err)
	}
	return d, a, ctrl
}

// agreement puts a data processing agreement in force between consumer
// and processor, signed by a role holder of each (Rule DPA-01), covering
// the API and the web portal and packages (default: basic). It returns the
// agreement and the controller's role holder.
func (h *harness) agreement(consumer, processor string, packages ...string) (store.AgreementRecord, store.DPAActor) {
	h.t.Helper()
	if len(packages) == 0 {
		packages = basic
	}
	ctrl, proc := h.dpaRoleHolder(consumer), h.dpaRoleHolder(processor)
	c := dpa.Content{
		Controller: dpa.Party{Orgnr: consumer, Navn: "Behandlingsansvarlig"}, Processor: dpa.Party{Orgnr: processor, Navn: "Databehandler AS"},
		MainAgreement: "Driftsavtale", MainAgreementDate: "2026-01-15",
		ControllerContact: dpa.Contact{Navn: "Ada", Stilling: "Personvernrådgiver", Epost: "ada@kommune.example"},
		ProcessorContact:  dpa.Contact{Navn: "Per", Stilling: "Sikkerhetsleder", Epost: "per@leverandor.example"},
		Channels:          []access.Channel{access.ChannelAPI, access.ChannelWeb},
		Packages:          packages,
		BreachNoticeHours: 24, DeletionDays: 30,
		Annex1: dpa.Annex1{Purpose: "Saksbehandling.", Nature: "Drift.", SubjectCategories: "Søkere", DataTypes: "Arbeidsforhold",
			Locations: []string{"Norge"}},
		Annex2: dpa.Annex2{Pseudonymisation: "ikke relevant", Encryption: "TLS", Confidentiality: "Tilgangsstyring", Integrity: "Logg",
			Availability: "Backup", Resilience: "To sentre", Physical: "Adgangskontroll", Other: "ikke relevant"},
	}
	a, err := h.db.NegotiateAgreement(context.Background(), h.dpaRules(), c, ctrl, proc)
	if err != nil {
		h.t.Fatal(err)
	}
	return a, ctrl
}

// Rule DPA-11: the controller's stop order refuses the processor's next API
// call (with the token it holds) and its next token request; only the
// controller's decision to resume restores them. Rules SK-04, DPA-10: the
// end ends the delegation the same way.
func TestStopOrderRefusesProcessor(t *testing.T) {
	h := newHarness(t)
	ctx := t.Context()
	consumer, _ := h.consumer("Stansekommune", grant(basic, access.ByArbeidstaker))
	processor := string(syntheticOrg(8_100_001))
	_, a, ctrl := h.delegate(consumer, processor)
	cf := h.client(processor)
	cf.ConsumerOrg = consumer
	tok := h.token(cf)
	p := h.employed(1)[0]
	if got := h.person(tok, p.Ident, ""); got.status != 200 {
		t.Fatalf("under the agreement: %d %s", got.status, got.body)
	}
	rules := h.dpaRules()
	if _, err := h.db.StepAgreement(ctx, rules, a.ID, dpa.StepStop, store.StepInput{Reason: "Mistanke om avvik hos leverandøren."}, ctrl); err != nil {
		t.Fatal(err)
	}
	if got := h.person(tok, p.Ident, ""); got.status != 403 || got.problem().Detail != lookup.Deny(access.DenyNoDelegation).Text {
		t.Fatalf("after the stop order: %d %s", got.status, got.body)
	}
	if _, err := authserver.RequestToken(ctx, cf, h.srv.Client()); err == nil {
		t.Fatal("a token after the stop order")
	}
	if _, err := h.db.StepAgreement(ctx, rules, a.ID, dpa.StepResume, store.StepInput{Reason: "Avviket er lukket; behandlingen gjenopptas."}, ctrl); err != nil {
		t.Fatal(err)
	}
	tok = h.token(cf)
	if got := h.person(tok, p.Ident, ""); got.status != 200 {
		t.Fatalf("after resumption: %d %s", got.status, got.body)
	}
	if _, err := h.db.StepAgreement(ctx, rules, a.ID, dpa.StepEnd, store.StepInput{Ending: &dpa.Ending{Reason: "Avtalen er sagt opp.", Choice: dpa.ChoiceDelete}}, ctrl); err != nil {
		t.Fatal(err)
	}
	if got := h.person(tok, p.Ident, ""); got.status != 403 {
		t.Fatalf("after the end: %d", got.status)
	}
	if _, err := authserver.RequestToken(ctx, cf, h.srv.Client()); err == nil {
		t.Fatal("a token after the end")
	}
}

// Rules SK-04, AA-02 (minimisation): a processor gets only the packages
// both the consumer's grant and its delegation give — through the API, the
// consumer's own client sees the position details its grant gives, the
// processor delegated only the basic package does not; a delegation that
// gives none of the grant's packages gives nothing.
func TestProcessorGetsOnlyDelegatedPackages(t *testing.T) {
	h := newHarness(t)
	consumer, _ := h.consumer("Minimeringskommune", grant(detailed, access.ByArbeidstaker))
	processor := string(syntheticOrg(8_100_002))
	h.delegate(consumer, processor, basic...)
	p := h.employed(1)[0]

	own := h.token(h.client(consumer))
	if got := h.person(own, p.Ident, ""); got.status != 200 || !strings.Contains(string(got.body), "ansettelsesdetaljer") {
		t.Fatalf("the consumer's own lookup: %d %s", got.status, got.body)
	}
	cf := h.client(processor)
	cf.ConsumerOrg = consumer
	got := h.person(h.token(cf), p.Ident, "")
	if got.status != 200 || string(got.body) == "[]" || strings.Contains(string(got.body), "ansettelsesdetaljer") {
		t.Fatalf("the processor delegated the basic package only: %d %s", got.status, got.body)
	}

	// A delegation of a package the grant does not give: nothing.
	consumer2, _ := h.consumer("Minimeringskommune to", grant(basic, access.ByArbeidstaker))
	processor2 := string(syntheticOrg(8_100_003))
	h.delegate(consumer2, processor2, "permisjoner@1")
	cf2 := h.client(processor2)
	cf2.ConsumerOrg = consumer2
	if got := h.person(h.token(cf2), p.Ident, ""); got.status != 403 || got.problem().Detail != lookup.Deny(access.DenyPackageNotDelegated).Text {
		t.Fatalf("a delegation of no granted package: %d %s", got.status, got.body)
	}
}

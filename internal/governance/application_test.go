package governance

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"deling/internal/access"
	"deling/internal/ident"
	"deling/internal/register"
)

func catalogue(t *testing.T) *access.Catalogue {
	t.Helper()
	cat, err := access.ParseCatalogue(access.DefaultPackages())
	if err != nil {
		t.Fatal(err)
	}
	return cat
}

// completeForm is an application that may be submitted in the test environment.
func completeForm() ApplicationForm {
	return ApplicationForm{
		Orgnr: string(ident.SyntheticOrgnr(1234)), Navn: "Testkommune",
		Purpose:   "Saksbehandling av søknader om sosialhjelp.",
		BasisKind: BasisStatute, LegalBasis: "arbeidsmarkedsloven § 10 / aa-registerforskriften § 10",
		ProcessingLetter: "e", ProcessingLaw: "sosialtjenesteloven § 43",
		Admin:         Contact{Navn: "Ada Admin", Epost: "ada@kommune.example", Telefon: "12345678"},
		Technical:     Contact{Navn: "Tor Teknisk", Epost: "tor@kommune.example"},
		Channels:      []access.Channel{access.ChannelAPI},
		Country:       "Norge",
		Needs:         []Need{{Package: "grunnopplysninger@1", Why: "Vi må vite hvem som er ansatt hvor."}},
		QueryKinds:    []access.QueryKind{access.ByArbeidstaker},
		TermsAccepted: true,
	}
}

// Rules AA-01, AA-07, AA-09, AA-13, AA-14, SK-01, SK-02, SK-08: what an application must hold.
func TestValidateApplication(t *testing.T) {
	cat := catalogue(t)
	real := "974760673" // a real (non-synthetic) organisation number
	for _, tc := range []struct {
		name   string
		env    register.Env
		change func(f *ApplicationForm)
		field  string // the field reported; "" for none
	}{
		{"complete", register.EnvTest, func(f *ApplicationForm) {}, ""},
		{"no name", register.EnvTest, func(f *ApplicationForm) { f.Navn = " " }, FieldNavn},
		{"no orgnr", register.EnvTest, func(f *ApplicationForm) { f.Orgnr = "" }, FieldOrgnr},
		{"bad orgnr", register.EnvTest, func(f *ApplicationForm) { f.Orgnr = "123456789" }, FieldOrgnr},
		// Rule AA-14: the test environment holds synthetic data only.
		{"real orgnr in test", register.EnvTest, func(f *ApplicationForm) { f.Orgnr = real }, FieldOrgnr},
		{"real orgnr in prod", register.EnvProd, func(f *ApplicationForm) { f.Orgnr = real }, ""},
		{"no purpose", register.EnvTest, func(f *ApplicationForm) { f.Purpose = "" }, FieldPurpose},
		// Rule SK-01: a basis for obtaining the data, and one for processing it.
		{"no basis kind", register.EnvTest, func(f *ApplicationForm) { f.BasisKind = "" }, FieldBasisKind},
		{"unknown basis kind", register.EnvTest, func(f *ApplicationForm) { f.BasisKind = "magi" }, FieldBasisKind},
		{"statute without text", register.EnvTest, func(f *ApplicationForm) { f.LegalBasis = "" }, FieldLegalBasis},
		{"consent needs no statute", register.EnvTest, func(f *ApplicationForm) { f.BasisKind, f.LegalBasis = BasisConsent, "" }, ""},
		{"no processing basis", register.EnvTest, func(f *ApplicationForm) { f.ProcessingLetter = "" }, FieldLetter},
		{"unknown processing basis", register.EnvTest, func(f *ApplicationForm) { f.ProcessingLetter = "g" }, FieldLetter},
		{"letter e needs the law", register.EnvTest, func(f *ApplicationForm) { f.ProcessingLaw = "" }, FieldLaw},
		{"letter b needs no law", register.EnvTest, func(f *ApplicationForm) { f.ProcessingLetter, f.ProcessingLaw = "b", "" }, ""},
		{"no administrative contact", register.EnvTest, func(f *ApplicationForm) { f.Admin.Navn = "" }, "admin_navn"},
		{"bad administrative e-mail", register.EnvTest, func(f *ApplicationForm) { f.Admin.Epost = "ada" }, "admin_epost"},
		{"no technical contact", register.EnvTest, func(f *ApplicationForm) { f.Technical.Navn = "" }, "teknisk_navn"},
		{"no technical e-mail", register.EnvTest, func(f *ApplicationForm) { f.Technical.Epost = "" }, "teknisk_epost"},
		// Rules AA-13, SK-04: a named processor with its agreement.
		{"processor complete", register.EnvTest, func(f *ApplicationForm) {
			f.Processor = Processor{Orgnr: string(ident.SyntheticOrgnr(99)), Navn: "Leverandør AS", DPARef: "DBA-2026-1"}
		}, ""},
		{"processor bad orgnr", register.EnvTest, func(f *ApplicationForm) {
			f.Processor = Processor{Orgnr: "12", Navn: "Leverandør AS", DPARef: "DBA-2026-1"}
		}, FieldProcOrgnr},
		{"processor real orgnr in test", register.EnvTest, func(f *ApplicationForm) {
			f.Processor = Processor{Orgnr: real, Navn: "Leverandør AS", DPARef: "DBA-2026-1"}
		}, FieldProcOrgnr},
		{"processor is the consumer", register.EnvTest, func(f *ApplicationForm) {
			f.Processor = Processor{Orgnr: f.Orgnr, Navn: "Oss selv", DPARef: "x"}
		}, FieldProcOrgnr},
		{"processor without agreement", register.EnvTest, func(f *ApplicationForm) {
			f.Processor = Processor{Orgnr: string(ident.SyntheticOrgnr(99)), Navn: "Leverandør AS"}
		}, FieldProcDPA},
		{"processor without name", register.EnvTest, func(f *ApplicationForm) {
			f.Processor = Processor{Orgnr: string(ident.SyntheticOrgnr(99)), DPARef: "x"}
		}, FieldProcNavn},
		{"no channel", register.EnvTest, func(f *ApplicationForm) { f.Channels = nil }, FieldChannels},
		{"unknown channel", register.EnvTest, func(f *ApplicationForm) { f.Channels = []access.Channel{"fax"} }, FieldChannels},
		// Rule AA-09: processing location.
		{"no country", register.EnvTest, func(f *ApplicationForm) { f.Country = "" }, FieldCountry},
		{"EU country", register.EnvTest, func(f *ApplicationForm) { f.Country = "Tyskland" }, ""},
		{"adequacy country", register.EnvTest, func(f *ApplicationForm) { f.Country = "Japan" }, ""},
		{"third country refused", register.EnvTest, func(f *ApplicationForm) { f.Country = "Kina" }, FieldCountry},
		{"other refused", register.EnvTest, func(f *ApplicationForm) { f.Country = "annet" }, FieldCountry},
		{"USA without DPF refused", register.EnvTest, func(f *ApplicationForm) { f.Country = "USA" }, FieldDPF},
		{"USA with DPF", register.EnvTest, func(f *ApplicationForm) { f.Country, f.DPFConfirmed = "USA", true }, ""},
		// Rules AA-07, SK-05: the data asked for, each with why.
		{"nothing asked for", register.EnvTest, func(f *ApplicationForm) { f.Needs = nil }, FieldNeeds},
		{"no reason", register.EnvTest, func(f *ApplicationForm) { f.Needs[0].Why = "  " }, FieldWhy("grunnopplysninger@1")},
		{"unknown package", register.EnvTest, func(f *ApplicationForm) { f.Needs[0].Package = "alt@1" }, FieldNeeds},
		{"package without version", register.EnvTest, func(f *ApplicationForm) { f.Needs[0].Package = "grunnopplysninger" }, FieldNeeds},
		{"single elements", register.EnvTest, func(f *ApplicationForm) {
			f.Needs = []Need{{Package: "stillingsdetaljer@1", Elements: []string{"ansettelsesdetaljer.yrke"}, Why: "Yrke avgjør stønaden."}}
		}, ""},
		{"element of another package", register.EnvTest, func(f *ApplicationForm) {
			f.Needs = []Need{{Package: "stillingsdetaljer@1", Elements: []string{"arbeidstaker"}, Why: "x"}}
		}, FieldElements("stillingsdetaljer@1")},
		{"no query kind", register.EnvTest, func(f *ApplicationForm) { f.QueryKinds = nil }, FieldQueryKinds},
		{"unknown query kind", register.EnvTest, func(f *ApplicationForm) { f.QueryKinds = []access.QueryKind{"alle"} }, FieldQueryKinds},
		// Rule SK-08: consent covers the person who consented, so only arbeidstaker.
		{"consent and arbeidssted refused", register.EnvTest, func(f *ApplicationForm) {
			f.BasisKind, f.QueryKinds = BasisConsent, []access.QueryKind{access.ByArbeidstaker, access.ByArbeidssted}
		}, FieldQueryKinds},
		{"statute and arbeidssted", register.EnvTest, func(f *ApplicationForm) {
			f.QueryKinds = []access.QueryKind{access.ByArbeidstaker, access.ByArbeidssted, access.ByOpplysningspliktig}
		}, ""},
		// Rule SK-02: the terms are accepted.
		{"terms not accepted", register.EnvTest, func(f *ApplicationForm) { f.TermsAccepted = false }, FieldTerms},
		{"purpose too long", register.EnvTest, func(f *ApplicationForm) { f.Purpose = strings.Repeat("x", maxLong+1) }, FieldPurpose},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := completeForm()
			tc.change(&f)
			bad := f.Validate(tc.env, cat)
			if tc.field == "" {
				if len(bad) != 0 {
					t.Fatalf("got %v, want no errors", bad)
				}
				return
			}
			if bad[tc.field] == "" {
				t.Fatalf("got %v, want an error for %q", bad, tc.field)
			}
			if len(bad) != 1 {
				t.Fatalf("got %v, want only %q", bad, tc.field)
			}
		})
	}
}

func TestValidateDraft(t *testing.T) {
	cat := catalogue(t)
	// A draft may be incomplete.
	var empty ApplicationForm
	if bad := empty.ValidateDraft(cat); len(bad) != 0 {
		t.Fatalf("empty draft: %v", bad)
	}
	// But not hold what the form never offers.
	for _, f := range []ApplicationForm{
		{Channels: []access.Channel{"fax"}},
		{Needs: []Need{{Package: "ukjent@1"}}},
		{Needs: []Need{{Package: "grunnopplysninger@1"}, {Package: "grunnopplysninger@1"}}},
		{BasisKind: "x"},
		{Navn: strings.Repeat("å", maxShort+1)},
	} {
		if bad := f.ValidateDraft(cat); len(bad) == 0 {
			t.Errorf("draft %+v accepted", f)
		}
	}
}

// Rule AA-01: who may take which step in which status; only the role holder signs.
func TestTransition(t *testing.T) {
	for _, tc := range []struct {
		from AppStatus
		step Step
		role Role
		to   AppStatus
		err  error
	}{
		{"", StepSave, Administrator, AppDraft, nil},
		{AppDraft, StepSave, Administrator, AppDraft, nil},
		{AppDraft, StepSave, Utvikler, "", ErrNotYourStep},
		{AppDraft, StepSave, Saksbehandler, "", ErrNotYourStep},
		{AppDraft, StepSubmit, Administrator, AppToSign, nil},
		{AppDraft, StepSubmit, Rolleinnehaver, AppToSign, nil},
		{AppDraft, StepSubmit, Oppslagsbruker, "", ErrNotYourStep},
		{AppToSign, StepSave, Administrator, AppDraft, nil}, // a change takes it back from signing
		{AppDraft, StepSign, Rolleinnehaver, "", ErrWrongStatus},
		{AppToSign, StepSign, Rolleinnehaver, AppSubmitted, nil},
		{AppToSign, StepSign, Administrator, "", ErrNotYourStep},
		{AppToSign, StepSign, Utvikler, "", ErrNotYourStep},
		{AppToSign, StepSign, Saksbehandler, "", ErrNotYourStep},
		{AppSubmitted, StepSave, Administrator, "", ErrWrongStatus},
		{AppSubmitted, StepTake, Saksbehandler, AppInReview, nil},
		{AppSubmitted, StepTake, Personvernombud, "", ErrNotYourStep},
		{AppSubmitted, StepTake, Forvalter, "", ErrNotYourStep},
		{AppSubmitted, StepApprove, Saksbehandler, "", ErrWrongStatus},
		{AppInReview, StepAsk, Saksbehandler, AppNeedsAnswer, nil},
		{AppNeedsAnswer, StepSave, Administrator, AppNeedsAnswer, nil},
		{AppNeedsAnswer, StepAnswer, Administrator, AppSubmitted, nil},
		{AppNeedsAnswer, StepAnswer, Saksbehandler, "", ErrNotYourStep},
		{AppInReview, StepAnswer, Administrator, "", ErrWrongStatus},
		{AppInReview, StepApprove, Saksbehandler, AppApproved, nil},
		{AppInReview, StepApprove, Administrator, "", ErrNotYourStep},
		{AppInReview, StepRefuse, Saksbehandler, AppRefused, nil},
		{AppRefused, StepApprove, Saksbehandler, "", ErrWrongStatus},
		// Rule AA-03: production after the consumer's integration test.
		{AppApproved, StepApproveProd, Saksbehandler, "", ErrWrongStatus},
		{AppApproved, StepConfirmTest, Utvikler, "", ErrNotYourStep},
		{AppApproved, StepConfirmTest, Administrator, AppProdRequested, nil},
		{AppProdRequested, StepConfirmTest, Administrator, "", ErrWrongStatus},
		{AppProdRequested, StepApproveProd, Saksbehandler, AppProduction, nil},
		{AppProdRequested, StepApproveProd, Rolleinnehaver, "", ErrNotYourStep},
		// Rule AA-05: changing an approved application makes a new one.
		{AppProduction, StepAmend, Administrator, AppProduction, nil},
		{AppDraft, StepAmend, Administrator, "", ErrWrongStatus},
		{AppRefused, StepAmend, Administrator, "", ErrWrongStatus},
		{AppProduction, StepReplace, Saksbehandler, "", ErrNotYourStep}, // the platform's step
	} {
		to, err := Transition(tc.from, tc.step, tc.role)
		if to != tc.to || !errors.Is(err, tc.err) {
			t.Errorf("%s by %s in %q: got %q, %v; want %q, %v", tc.step, tc.role, tc.from, to, err, tc.to, tc.err)
		}
	}
	if to, ok := Next(AppProduction, StepReplace); !ok || to != AppReplaced {
		t.Errorf("replace: got %q, %v", to, ok)
	}
}

func TestTransitionFor(t *testing.T) {
	org := "310000001"
	ms := []Membership{{Org: org, Role: Administrator}, {Org: "310000002", Role: Rolleinnehaver}}
	May := func(from AppStatus, step Step, ms []Membership, org string) bool {
		_, err := TransitionFor(from, step, ms, org)
		return err == nil
	}
	if !May(AppDraft, StepSubmit, ms, org) {
		t.Error("administrator may not submit its organisation's application")
	}
	// Rule AA-01: a role holder of another organisation does not sign this one's.
	if May(AppToSign, StepSign, ms, org) {
		t.Error("role holder of another organisation may sign")
	}
	if !May(AppToSign, StepSign, ms, "310000002") {
		t.Error("role holder may not sign")
	}
	staff := []Membership{{Org: AuthorityOrg, Role: Saksbehandler}}
	if !May(AppSubmitted, StepTake, staff, org) {
		t.Error("case worker may not take the case")
	}
	// A "case worker" role held for a consumer organisation is nothing.
	if May(AppSubmitted, StepTake, []Membership{{Org: org, Role: Saksbehandler}}, org) {
		t.Error("a staff role held for a consumer counts")
	}
}

// Rule AA-05: what makes a change substantial.
func TestSubstantial(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(f *ApplicationForm)
		want   []string
	}{
		{"contacts and channels are not", func(f *ApplicationForm) {
			f.Technical.Navn, f.Channels = "Ny Person", []access.Channel{access.ChannelAPI, access.ChannelWeb}
		}, nil},
		{"whitespace and case are not", func(f *ApplicationForm) { f.Purpose = "  saksbehandling av  søknader om sosialhjelp. " }, nil},
		{"purpose", func(f *ApplicationForm) { f.Purpose = "Markedsføring." }, []string{"formål"}},
		{"legal basis", func(f *ApplicationForm) { f.LegalBasis = "folketrygdloven § 21-4" }, []string{"rettslig grunnlag for utlevering"}},
		{"legal basis kind", func(f *ApplicationForm) { f.BasisKind = BasisConsent }, []string{"rettslig grunnlag for utlevering"}},
		{"processing basis", func(f *ApplicationForm) { f.ProcessingLetter = "c" }, []string{"behandlingsgrunnlag"}},
		{"controller", func(f *ApplicationForm) { f.Orgnr = "310000002" }, []string{"behandlingsansvarlig virksomhet"}},
	} {
		f := completeForm()
		tc.change(&f)
		if got := Substantial(completeForm(), f); !slices.Equal(got, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
}

// Rule AA-07: a decision may narrow what was asked for, never widen it.
func TestGrantable(t *testing.T) {
	cat := catalogue(t)
	f := completeForm()
	f.Needs = append(f.Needs, Need{Package: "stillingsdetaljer@1", Elements: []string{"ansettelsesdetaljer.yrke"}, Why: "x"})
	var refs []string
	for _, p := range f.Grantable(cat) {
		refs = append(refs, p.Ref())
	}
	if !slices.Equal(refs, []string{"grunnopplysninger@1"}) {
		t.Fatalf("grantable: %v", refs)
	}
	if msg := f.CheckGrant(cat, []string{"grunnopplysninger@1"}); msg != "" {
		t.Fatal(msg)
	}
	if msg := f.CheckGrant(cat, []string{"grunnopplysninger@1", "stillingsdetaljer@1"}); msg == "" {
		t.Fatal("a package with elements not asked for was grantable")
	}
	if msg := f.CheckGrant(cat, nil); msg == "" {
		t.Fatal("an empty grant was accepted")
	}
}

func TestDecisionText(t *testing.T) {
	cat := catalogue(t)
	p, _ := cat.Resolve("grunnopplysninger@1")
	signed := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	f := completeForm()
	f.Processor = Processor{Orgnr: string(ident.SyntheticOrgnr(99)), Navn: "Leverandør AS", DPARef: "DBA-2026-1"}
	d := DecisionFacts{ID: "v1", ApplicationID: "s1", Kind: DecisionApproval, At: signed, CaseWorker: "Sara Saksbehandler",
		Application: Application{Form: f, SignedByName: "Rolf Rolleinnehaver", SignedAt: &signed},
		Packages:    []access.Package{p}, Env: register.EnvTest, ValidFrom: signed, Location: time.FixedZone("CET", 3600)}
	text := d.Text()
	for _, want := range []string{"Vedtak-ID: v1", "Søknad-ID: s1", "Testkommune, org.nr. " + f.Orgnr, "Leverandør AS", "DBA-2026-1",
		"Rolf Rolleinnehaver", f.Purpose, f.LegalBasis, "bokstav e, jf. sosialtjenesteloven § 43", "Norge",
		"API (maskin-til-maskin)", "arbeidstaker", "Grunnopplysninger om arbeidsforholdet (grunnopplysninger@1)",
		"Startdato", "inntil videre", "Sara Saksbehandler", "01.03.2026 kl. 10:00 norsk tid"} {
		if !strings.Contains(text, want) {
			t.Errorf("the decision lacks %q:\n%s", want, text)
		}
	}
	// Issue 16, item 8: labels, not JSON paths; no rule IDs; no sentence broken over lines; nothing said twice.
	for _, not := range []string{"ansettelsesperiode.startdato", "AA-", "SK-", "straks,\n", "produksjonsmiljøet\n",
		"Aa-registeret – deling av opplysninger fra arbeidsgiver- og arbeidstakerregisteret"} {
		if strings.Contains(text, not) {
			t.Errorf("the decision has %q:\n%s", not, text)
		}
	}
	d.Kind, d.Application.Form.BasisKind, d.Application.Form.LegalBasis = DecisionProduction, BasisConsent, ""
	if text := d.Text(); strings.Count(text, "Samtykke fra den registrerte") != 1 || strings.Contains(text, "Konsumenten har bekreftet at integrasjonstesten er gjennomført. Konsumenten") {
		t.Errorf("said twice:\n%s", text)
	}
	d.Kind, d.Application.Form = DecisionApproval, f
	if Digest(text) == Digest(text+" ") || len(Digest(text)) != 64 {
		t.Error("digest")
	}
	d.Kind, d.Reasons = DecisionRefusal, "Formålet gir ikke grunnlag for utlevering."
	if text := d.Text(); !strings.Contains(text, "avslått") || !strings.Contains(text, d.Reasons) || strings.Contains(text, "grunnopplysninger@1") {
		t.Errorf("refusal:\n%s", text)
	}
}

// Separation of duties: a case worker who holds any role in the applicant's
// organisation, or who signed the application, may not handle its case; the
// applicant's own steps are not affected.
func TestTransitionOnSeparationOfDuties(t *testing.T) {
	org := "310000001"
	caseWorker := Membership{Org: AuthorityOrg, Role: Saksbehandler}
	a := Application{Org: org, Status: AppSubmitted, SignedBy: "user:signer"}
	for _, tc := range []struct {
		name  string
		step  Step
		actor string
		ms    []Membership
		want  error
	}{
		{"a case worker takes the case", StepTake, "user:cw", []Membership{caseWorker}, nil},
		{"a case worker who is a developer of the applicant", StepTake, "user:cw", []Membership{caseWorker, {Org: org, Role: Utvikler}}, ErrOwnCase},
		{"a case worker who is the applicant's administrator", StepTake, "user:cw", []Membership{caseWorker, {Org: org, Role: Administrator}}, ErrOwnCase},
		{"a case worker who signed it", StepTake, "user:signer", []Membership{caseWorker}, ErrOwnCase},
		{"a role in another organisation is no conflict", StepTake, "user:cw", []Membership{caseWorker, {Org: "310000002", Role: Administrator}}, nil},
	} {
		_, err := TransitionOn(a, tc.step, tc.actor, tc.ms)
		if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
			t.Errorf("%s: err = %v, want %v", tc.name, err, tc.want)
		}
		if err != nil && !errors.Is(err, ErrNotYourStep) {
			t.Errorf("%s: %v is not ErrNotYourStep", tc.name, err)
		}
		if got := MayOn(a, tc.step, tc.actor, tc.ms); got != (tc.want == nil) {
			t.Errorf("%s: MayOn = %v", tc.name, got)
		}
	}
	inReview := a
	inReview.Status = AppInReview
	for _, step := range []Step{StepAsk, StepApprove, StepRefuse} {
		if MayOn(inReview, step, "user:cw", []Membership{caseWorker, {Org: org, Role: Rolleinnehaver}}) {
			t.Errorf("%s by a case worker holding a role in the applicant", step)
		}
	}
	// The applicant's own steps are theirs.
	if !MayOn(Application{Org: org, Status: AppToSign}, StepSign, "user:rh", []Membership{{Org: org, Role: Rolleinnehaver}}) {
		t.Error("the role holder may not sign its own organisation's application")
	}
	for _, s := range []Step{StepTake, StepAsk, StepApprove, StepRefuse, StepApproveProd} {
		if !s.HandlesCase() {
			t.Errorf("%s does not handle a case", s)
		}
	}
	for _, s := range []Step{StepSave, StepSign, StepConfirmTest, StepReplace} {
		if s.HandlesCase() {
			t.Errorf("%s handles a case", s)
		}
	}
}

// Rule AA-14, one rule per environment on forms too: the test environment
// takes synthetic organisation numbers only, production real ones only.
func TestCheckOrgnrByEnvironment(t *testing.T) {
	synthetic, real := string(ident.SyntheticOrgnr(7)), "974760673"
	for _, tc := range []struct {
		orgnr string
		env   register.Env
		ok    bool
	}{
		{synthetic, register.EnvTest, true},
		{real, register.EnvTest, false},
		{real, register.EnvProd, true},
		{synthetic, register.EnvProd, false},
		{"123456789", register.EnvProd, false},
		{"", register.EnvTest, false},
	} {
		if got := CheckOrgnr(tc.orgnr, tc.env) == ""; got != tc.ok {
			t.Errorf("CheckOrgnr(%s, %s): accepted %v, want %v (%q)", tc.orgnr, tc.env, got, tc.ok, CheckOrgnr(tc.orgnr, tc.env))
		}
	}
}

package governance

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"deling/internal/access"
	"deling/internal/ident"
	"deling/internal/register"
)

// An application (søknad) is how a consumer organisation asks for access
// (Rule AA-01: no access without an approved application). Its administrator
// fills it in, its role holder signs it, a case worker at the register
// decides it, and the decision (vedtak) creates the grants: test access
// first, production access after the consumer's integration test (AA-03).

// AppStatus is where an application stands.
type AppStatus string

// Application statuses, in the order an application usually passes them.
const (
	AppDraft         AppStatus = "utkast"             // saved by the applicant, maybe incomplete
	AppToSign        AppStatus = "til_signering"      // complete, waiting for the role holder's signature
	AppSubmitted     AppStatus = "innsendt"           // signed (Rule AA-01), in the case workers' queue
	AppInReview      AppStatus = "under_behandling"   // a case worker has taken it
	AppNeedsAnswer   AppStatus = "trenger_svar"       // the case worker asked the applicant for more
	AppApproved      AppStatus = "godkjent"           // decided: test access (Rule AA-03)
	AppProdRequested AppStatus = "produksjon_bestilt" // the consumer confirmed its integration test
	AppProduction    AppStatus = "i_produksjon"       // production access granted
	AppRefused       AppStatus = "avslatt"            // refused, with reasons
	AppReplaced      AppStatus = "erstattet"          // a newer application replaced it (Rule AA-05)
)

// AppStatuses lists every status in the order the portal shows them.
func AppStatuses() []AppStatus {
	return []AppStatus{AppDraft, AppToSign, AppSubmitted, AppInReview, AppNeedsAnswer, AppApproved,
		AppProdRequested, AppProduction, AppRefused, AppReplaced}
}

// ParseAppStatus accepts a status name.
func ParseAppStatus(s string) (AppStatus, error) {
	if st := AppStatus(s); slices.Contains(AppStatuses(), st) {
		return st, nil
	}
	return "", fmt.Errorf("unknown application status %q", s)
}

// Label is the status in the portal.
func (s AppStatus) Label() string {
	switch s {
	case AppDraft:
		return "Utkast"
	case AppToSign:
		return "Til signering"
	case AppSubmitted:
		return "Innsendt"
	case AppInReview:
		return "Under behandling"
	case AppNeedsAnswer:
		return "Trenger svar fra søker"
	case AppApproved:
		return "Godkjent – testtilgang"
	case AppProdRequested:
		return "Godkjent – produksjonstilgang bestilt"
	case AppProduction:
		return "Godkjent – produksjonstilgang"
	case AppRefused:
		return "Avslått"
	case AppReplaced:
		return "Erstattet av ny søknad"
	}
	return string(s)
}

// Color is the status tag's colour in the portal (Designsystemet data-color).
func (s AppStatus) Color() string {
	switch s {
	case AppApproved, AppProdRequested, AppProduction:
		return "success"
	case AppNeedsAnswer, AppToSign:
		return "warning"
	case AppRefused:
		return "danger"
	case AppSubmitted, AppInReview:
		return "info"
	}
	return "neutral"
}

// Approved reports whether the application has been decided in the applicant's favour and is still in force.
func (s AppStatus) Approved() bool {
	return s == AppApproved || s == AppProdRequested || s == AppProduction
}

// Editable reports whether the applicant may change the application's fields.
func (s AppStatus) Editable() bool { return s == AppDraft || s == AppToSign || s == AppNeedsAnswer }

// Open reports whether the application is still on its way to a decision.
func (s AppStatus) Open() bool {
	return s == AppDraft || s == AppToSign || s == AppSubmitted || s == AppInReview || s == AppNeedsAnswer
}

// Step is something someone does to an application.
type Step string

// Steps.
const (
	StepSave        Step = "lagre"               // create or change (applicant)
	StepSubmit      Step = "send_til_signering"  // applicant: complete, to the role holder
	StepSign        Step = "signer"              // role holder: signs and submits (Rule AA-01)
	StepTake        Step = "ta_saken"            // case worker
	StepAsk         Step = "be_om_svar"          // case worker: asks the applicant for more
	StepAnswer      Step = "svar"                // applicant answers; back in the queue
	StepApprove     Step = "godkjenn"            // case worker: decision, test access
	StepRefuse      Step = "avslaa"              // case worker: decision of refusal with reasons
	StepConfirmTest Step = "integrasjonstest"    // applicant: the integration test is done (Rule AA-03)
	StepApproveProd Step = "godkjenn_produksjon" // case worker: production access
	StepAmend       Step = "endre"               // applicant: a new application from an approved one (Rule AA-05)
	StepReplace     Step = "erstatt"             // the platform: a newer application replaced this one
)

// Label is the step as the history shows it.
func (s Step) Label() string {
	switch s {
	case StepSave:
		return "Lagret"
	case StepSubmit:
		return "Sendt til signering"
	case StepSign:
		return "Signert og sendt inn"
	case StepTake:
		return "Tatt til behandling"
	case StepAsk:
		return "Saksbehandler ba om mer informasjon"
	case StepAnswer:
		return "Søker svarte"
	case StepApprove:
		return "Godkjent: vedtak om testtilgang"
	case StepRefuse:
		return "Avslått"
	case StepConfirmTest:
		return "Integrasjonstesten bekreftet gjennomført"
	case StepApproveProd:
		return "Produksjonstilgang godkjent"
	case StepAmend:
		return "Ny søknad laget for endring"
	case StepReplace:
		return "Erstattet av ny søknad"
	}
	return string(s)
}

// Errors of Transition.
var (
	ErrWrongStatus = errors.New("the step is not possible in the application's status")
	ErrNotYourStep = errors.New("the role may not take this step")
)

// next is the state machine: from status, by step, to status.
var next = map[Step]map[AppStatus]AppStatus{
	StepSave:        {"": AppDraft, AppDraft: AppDraft, AppToSign: AppDraft, AppNeedsAnswer: AppNeedsAnswer},
	StepSubmit:      {AppDraft: AppToSign},
	StepSign:        {AppToSign: AppSubmitted},
	StepTake:        {AppSubmitted: AppInReview},
	StepAsk:         {AppInReview: AppNeedsAnswer},
	StepAnswer:      {AppNeedsAnswer: AppSubmitted},
	StepApprove:     {AppInReview: AppApproved},
	StepRefuse:      {AppInReview: AppRefused},
	StepConfirmTest: {AppApproved: AppProdRequested},
	StepApproveProd: {AppProdRequested: AppProduction},
	StepAmend:       {AppApproved: AppApproved, AppProdRequested: AppProdRequested, AppProduction: AppProduction},
	StepReplace:     {AppApproved: AppReplaced, AppProdRequested: AppReplaced, AppProduction: AppReplaced},
}

// stepRoles is who may take each step. The applicant's steps are taken by
// the organisation's people; only its role holder signs (Rule AA-01). The
// case workers' steps are the register's. StepReplace is the platform's own.
var stepRoles = map[Step][]Role{
	StepSave:        {Administrator, Rolleinnehaver},
	StepSubmit:      {Administrator, Rolleinnehaver},
	StepSign:        {Rolleinnehaver},
	StepAnswer:      {Administrator, Rolleinnehaver},
	StepConfirmTest: {Administrator, Rolleinnehaver},
	StepAmend:       {Administrator, Rolleinnehaver},
	StepTake:        {Saksbehandler},
	StepAsk:         {Saksbehandler},
	StepApprove:     {Saksbehandler},
	StepRefuse:      {Saksbehandler},
	StepApproveProd: {Saksbehandler},
}

// Next is the status step leads to from status, whoever takes it; ok is false when the step is not possible there.
func Next(from AppStatus, step Step) (to AppStatus, ok bool) {
	to, ok = next[step][from]
	return to, ok
}

// Transition is the status an application moves to when someone holding role
// takes step in status from. It fails with ErrNotYourStep when the role may
// not take the step, and ErrWrongStatus when the step is not possible now.
func Transition(from AppStatus, step Step, role Role) (AppStatus, error) {
	if !slices.Contains(stepRoles[step], role) {
		return "", fmt.Errorf("%s may not %s: %w", role, step, ErrNotYourStep)
	}
	to, ok := Next(from, step)
	if !ok {
		return "", fmt.Errorf("%s in status %q: %w", step, from, ErrWrongStatus)
	}
	return to, nil
}

// TransitionFor is Transition for a person with memberships: a case
// worker's role counts when held at the register authority, an applicant's
// when held for org, the organisation the application belongs to.
func TransitionFor(from AppStatus, step Step, ms []Membership, org string) (AppStatus, error) {
	err := fmt.Errorf("%s: %w", step, ErrNotYourStep)
	for _, role := range stepRoles[step] {
		holder := org
		if role.ForAuthority() {
			holder = AuthorityOrg
		}
		if holder != "" && Has(ms, holder, role) {
			return Transition(from, step, role)
		}
	}
	return "", err
}

// ErrOwnCase is separation of duties: nobody handles the case of an
// organisation they hold any role in, or of an application they signed. It
// is an ErrNotYourStep.
var ErrOwnCase = fmt.Errorf("separation of duties: %w", ErrNotYourStep)

// HandlesCase reports whether step is the register's handling of a case
// (taken by the authority's roles only), which separation of duties governs.
func (s Step) HandlesCase() bool {
	roles := stepRoles[s]
	return len(roles) > 0 && !slices.ContainsFunc(roles, func(r Role) bool { return !r.ForAuthority() })
}

// TransitionOn is TransitionFor for application a, with separation of
// duties: a case step by someone who holds any role in a's organisation, or
// who signed a (actor, as the log names people), fails with ErrOwnCase. The
// page that shows a step's button and the handler that takes the step both
// ask this, so they agree.
func TransitionOn(a Application, step Step, actor string, ms []Membership) (AppStatus, error) {
	if step.HandlesCase() && (slices.ContainsFunc(ms, func(m Membership) bool { return m.Org == a.Org }) || (actor != "" && a.SignedBy == actor)) {
		return "", fmt.Errorf("%s on an application of %s: %w", step, a.Org, ErrOwnCase)
	}
	return TransitionFor(a.Status, step, ms, a.Org)
}

// MayOn reports whether actor, holding ms, may take step on a now (TransitionOn).
func MayOn(a Application, step Step, actor string, ms []Membership) bool {
	_, err := TransitionOn(a, step, actor, ms)
	return err == nil
}

// LegalBasisKind is what disclosure from the register rests on (Rule SK-01).
type LegalBasisKind string

// The two legal bases for disclosure.
const (
	BasisStatute LegalBasisKind = "hjemmel"  // a statute or regulation
	BasisConsent LegalBasisKind = "samtykke" // the data subjects' consent (Rule SK-08)
)

// Label is the basis in the portal.
func (k LegalBasisKind) Label() string {
	switch k {
	case BasisStatute:
		return "Hjemmel i lov eller forskrift"
	case BasisConsent:
		return "Samtykke fra den registrerte"
	}
	return string(k)
}

// ProcessingLetter is one of the lawful bases of GDPR article 6(1).
type ProcessingLetter struct{ Letter, Label string }

// ProcessingLetters are the lawful bases of GDPR article 6(1), a–f.
func ProcessingLetters() []ProcessingLetter {
	return []ProcessingLetter{
		{"a", "a) samtykke"},
		{"b", "b) nødvendig for å oppfylle en avtale"},
		{"c", "c) nødvendig for å oppfylle en rettslig forpliktelse"},
		{"d", "d) nødvendig for å verne vitale interesser"},
		{"e", "e) nødvendig for å utføre en oppgave i allmennhetens interesse eller utøve offentlig myndighet"},
		{"f", "f) nødvendig for å ivareta en berettiget interesse"},
	}
}

// lawRequired: for c and e, article 6(3) requires the basis to be laid down in law.
func lawRequired(letter string) bool { return letter == "c" || letter == "e" }

// Processor is a data processor the consumer names in its application (Rules AA-13, SK-04).
type Processor struct {
	Orgnr  string `json:"orgnr,omitempty"`
	Navn   string `json:"navn,omitempty"`
	DPARef string `json:"databehandleravtale,omitempty"` // reference to the data processing agreement
}

// Named reports whether the application names a processor.
func (p Processor) Named() bool { return p.Orgnr != "" || p.Navn != "" || p.DPARef != "" }

// Need is data the applicant asks for from one package: the whole package or
// some of its elements, with the answer to the minimisation question
// (Rules AA-07, SK-05: "Hvorfor trenger dere disse opplysningene?").
type Need struct {
	Package  string   `json:"pakke"`              // ref "id@version"
	Elements []string `json:"elementer,omitzero"` // chosen elements of the package; none: the whole package
	Why      string   `json:"hvorfor"`
}

// Whole reports whether the need is the whole package.
func (n Need) Whole() bool { return len(n.Elements) == 0 }

// ApplicationForm is what the applicant fills in (Rule AA-01).
type ApplicationForm struct {
	Orgnr            string             `json:"orgnr"` // the contracting organisation (behandlingsansvarlig)
	Navn             string             `json:"navn"`
	Purpose          string             `json:"formaal"`
	BasisKind        LegalBasisKind     `json:"grunnlagType"`
	LegalBasis       string             `json:"hjemmel"`                // the statute, or a note on the consent
	ProcessingLetter string             `json:"behandlingsgrunnlag"`    // GDPR art. 6 nr. 1 letter a–f
	ProcessingLaw    string             `json:"behandlingsgrunnlagLov"` // the national law (art. 6 nr. 3)
	Admin            Contact            `json:"administrativKontakt"`   // Rolle is ContactAdministrative
	Technical        Contact            `json:"tekniskKontakt"`         // Rolle is ContactTechnical
	Processor        Processor          `json:"databehandler,omitzero"` // Rules AA-13, SK-04
	Channels         []access.Channel   `json:"kanaler,omitzero"`
	Country          string             `json:"land"`          // where data is processed and stored (Rule AA-09)
	DPFConfirmed     bool               `json:"dpf,omitempty"` // USA: the recipient is certified under the EU-US DPF
	LocationNote     string             `json:"behandlingssted,omitempty"`
	Needs            []Need             `json:"opplysninger,omitzero"`
	QueryKinds       []access.QueryKind `json:"oppslag,omitzero"`
	TermsAccepted    bool               `json:"vilkaarGodtatt"` // Rule SK-02: "Vi godtar bruksvilkårene"
}

// LegalBasisText is the legal basis for disclosure as a grant and a decision state it.
func (f *ApplicationForm) LegalBasisText() string {
	if f.BasisKind == BasisConsent {
		if f.LegalBasis != "" {
			return "Samtykke fra den registrerte (" + f.LegalBasis + ")"
		}
		return "Samtykke fra den registrerte"
	}
	return f.LegalBasis
}

// ProcessingBasisText is the processing basis as a grant and a decision state it.
func (f *ApplicationForm) ProcessingBasisText() string {
	s := "GDPR art. 6 nr. 1 bokstav " + f.ProcessingLetter
	if f.ProcessingLaw != "" {
		s += ", jf. " + f.ProcessingLaw
	}
	return s
}

// Need is the applicant's need of package ref, if it asks for it.
func (f *ApplicationForm) Need(ref string) (Need, bool) {
	i := slices.IndexFunc(f.Needs, func(n Need) bool { return n.Package == ref })
	if i < 0 {
		return Need{}, false
	}
	return f.Needs[i], true
}

// Limits of the form's texts.
const (
	maxShort = 300
	maxLong  = 4000
)

// Field names of the form, as the portal's inputs are named and Validate reports them.
const (
	FieldNavn         = "navn"
	FieldOrgnr        = "orgnr"
	FieldPurpose      = "formaal"
	FieldBasisKind    = "grunnlag_type"
	FieldLegalBasis   = "hjemmel"
	FieldLetter       = "behandlingsgrunnlag"
	FieldLaw          = "behandlingsgrunnlag_lov"
	FieldProcOrgnr    = "databehandler_orgnr"
	FieldProcNavn     = "databehandler_navn"
	FieldProcDPA      = "databehandler_avtale"
	FieldChannels     = "kanal"
	FieldCountry      = "land"
	FieldDPF          = "dpf"
	FieldLocationNote = "behandlingssted"
	FieldNeeds        = "pakke"
	FieldQueryKinds   = "oppslag"
	FieldTerms        = "vilkar"
)

// FieldWhy is the form field of the minimisation answer for package ref.
func FieldWhy(ref string) string { return "hvorfor_" + ref }

// FieldElements is the form field of the elements chosen from package ref.
func FieldElements(ref string) string { return "element_" + ref }

// ContactField is the form field of a contact's field: admin_navn, teknisk_epost, …
func ContactField(role ContactRole, field string) string {
	if role == ContactAdministrative {
		return "admin_" + field
	}
	return "teknisk_" + field
}

func tooLong(s string, n int) bool { return utf8.RuneCountInString(s) > n }

// Normalize trims the form's texts, drops repeated choices and puts the contact roles in place.
func (f *ApplicationForm) Normalize() {
	for _, p := range []*string{&f.Orgnr, &f.Navn, &f.Purpose, &f.LegalBasis, &f.ProcessingLaw, &f.Country, &f.LocationNote,
		&f.Processor.Orgnr, &f.Processor.Navn, &f.Processor.DPARef, &f.ProcessingLetter} {
		*p = strings.TrimSpace(*p)
	}
	for _, c := range []*Contact{&f.Admin, &f.Technical} {
		c.Navn, c.Epost, c.Telefon = strings.TrimSpace(c.Navn), strings.TrimSpace(c.Epost), strings.TrimSpace(c.Telefon)
	}
	f.Admin.Rolle, f.Technical.Rolle = ContactAdministrative, ContactTechnical
	f.Channels = compact(f.Channels)
	f.QueryKinds = compact(f.QueryKinds)
	for i := range f.Needs {
		f.Needs[i].Why = strings.TrimSpace(f.Needs[i].Why)
		f.Needs[i].Elements = compact(f.Needs[i].Elements)
	}
}

func compact[T comparable](xs []T) []T {
	var out []T
	for _, x := range xs {
		if !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	return out
}

// ValidateDraft lists what a draft may not hold even while incomplete: texts
// beyond their limits and choices the form never offers. A draft is saved
// any time otherwise.
func (f *ApplicationForm) ValidateDraft(cat *access.Catalogue) map[string]string {
	bad := map[string]string{}
	for field, v := range map[string]string{FieldNavn: f.Navn, FieldOrgnr: f.Orgnr, FieldLegalBasis: f.LegalBasis, FieldLaw: f.ProcessingLaw,
		FieldCountry: f.Country, FieldProcOrgnr: f.Processor.Orgnr, FieldProcNavn: f.Processor.Navn, FieldProcDPA: f.Processor.DPARef,
		ContactField(ContactAdministrative, "navn"): f.Admin.Navn, ContactField(ContactAdministrative, "epost"): f.Admin.Epost,
		ContactField(ContactAdministrative, "telefon"): f.Admin.Telefon, ContactField(ContactTechnical, "navn"): f.Technical.Navn,
		ContactField(ContactTechnical, "epost"): f.Technical.Epost, ContactField(ContactTechnical, "telefon"): f.Technical.Telefon} {
		if tooLong(v, maxShort) {
			bad[field] = fmt.Sprintf("Teksten er for lang (høyst %d tegn).", maxShort)
		}
	}
	for field, v := range map[string]string{FieldPurpose: f.Purpose, FieldLocationNote: f.LocationNote} {
		if tooLong(v, maxLong) {
			bad[field] = fmt.Sprintf("Teksten er for lang (høyst %d tegn).", maxLong)
		}
	}
	switch f.BasisKind {
	case "", BasisStatute, BasisConsent:
	default:
		bad[FieldBasisKind] = "Velg hjemmel eller samtykke."
	}
	if f.ProcessingLetter != "" && !slices.ContainsFunc(ProcessingLetters(), func(l ProcessingLetter) bool { return l.Letter == f.ProcessingLetter }) {
		bad[FieldLetter] = "Velg et av grunnlagene i artikkel 6 nr. 1."
	}
	for _, c := range f.Channels {
		if _, err := access.ParseChannel(string(c)); err != nil {
			bad[FieldChannels] = "Velg tilgangstyper fra listen."
		}
	}
	for _, k := range f.QueryKinds {
		if !slices.Contains(QueryKinds(), k) {
			bad[FieldQueryKinds] = "Velg oppslagstyper fra listen."
		}
	}
	seen := map[string]bool{}
	for _, n := range f.Needs {
		p, err := cat.Resolve(n.Package)
		if err != nil || !strings.Contains(n.Package, "@") || seen[n.Package] {
			bad[FieldNeeds] = "Velg opplysninger fra katalogen."
			continue
		}
		seen[n.Package] = true
		for _, e := range n.Elements {
			if !slices.Contains(p.Elements, e) {
				bad[FieldElements(n.Package)] = "Velg opplysninger som hører til pakken."
			}
		}
		if tooLong(n.Why, maxLong) {
			bad[FieldWhy(n.Package)] = fmt.Sprintf("Teksten er for lang (høyst %d tegn).", maxLong)
		}
	}
	return bad
}

// QueryKinds are the query kinds an application may ask for.
func QueryKinds() []access.QueryKind {
	return []access.QueryKind{access.ByArbeidstaker, access.ByArbeidssted, access.ByOpplysningspliktig}
}

// Validate lists what keeps the application from being submitted, by form
// field, in Norwegian; none when it is complete. env is the environment the
// portal serves: the test environment holds synthetic data only, so its
// organisations have synthetic numbers (Rule AA-14).
func (f *ApplicationForm) Validate(env register.Env, cat *access.Catalogue) map[string]string {
	f.Normalize()
	bad := f.ValidateDraft(cat)
	set := func(field, msg string) {
		if _, ok := bad[field]; !ok {
			bad[field] = msg
		}
	}
	// Rule AA-01: the contracting organisation, purpose, both legal bases (SK-01), contacts.
	if f.Navn == "" {
		set(FieldNavn, "Skriv navnet til virksomheten.")
	}
	if msg := CheckOrgnr(f.Orgnr, env); msg != "" {
		set(FieldOrgnr, msg)
	}
	if f.Purpose == "" {
		set(FieldPurpose, "Beskriv formålet: hva skal opplysningene brukes til?")
	}
	switch f.BasisKind {
	case BasisStatute:
		if f.LegalBasis == "" {
			set(FieldLegalBasis, "Oppgi hjemmelen for utlevering, for eksempel «arbeidsmarkedsloven § 10».")
		}
	case BasisConsent:
	default:
		set(FieldBasisKind, "Velg grunnlaget for utlevering: hjemmel i lov eller forskrift, eller samtykke fra den registrerte.")
	}
	if f.ProcessingLetter == "" {
		set(FieldLetter, "Velg behandlingsgrunnlag etter personvernforordningen artikkel 6 nr. 1.")
	} else if lawRequired(f.ProcessingLetter) && f.ProcessingLaw == "" {
		set(FieldLaw, "Oppgi lovbestemmelsen behandlingen bygger på (artikkel 6 nr. 3).")
	}
	for _, c := range []Contact{f.Admin, f.Technical} {
		for field, msg := range c.Validate() {
			set(ContactField(c.Rolle, field), msg)
		}
	}
	// Rules AA-13, SK-04: a data processor is named with its agreement.
	if f.Processor.Named() {
		if msg := CheckOrgnr(f.Processor.Orgnr, env); msg != "" {
			set(FieldProcOrgnr, msg)
		} else if f.Processor.Orgnr == f.Orgnr {
			set(FieldProcOrgnr, "Databehandleren må være en annen virksomhet enn dere selv.")
		}
		if f.Processor.Navn == "" {
			set(FieldProcNavn, "Skriv navnet til databehandleren.")
		}
		if f.Processor.DPARef == "" {
			set(FieldProcDPA, "Oppgi referansen til databehandleravtalen.")
		}
	}
	if len(f.Channels) == 0 {
		set(FieldChannels, "Velg minst én tilgangstype.")
	}
	// Rule AA-09: processing only in Norway, the EU/EEA, or a country with an adequacy decision.
	if msg := CheckCountry(f.Country, f.DPFConfirmed); msg != "" {
		field := FieldCountry
		if CountryKnown(f.Country) {
			field = FieldDPF
		}
		set(field, msg)
	}
	// Rules AA-07, SK-05: the data asked for, each with why it is needed.
	if len(f.Needs) == 0 {
		set(FieldNeeds, "Velg minst én pakke eller enkeltopplysning.")
	}
	for _, n := range f.Needs {
		if n.Why == "" {
			set(FieldWhy(n.Package), "Forklar hvorfor dere trenger disse opplysningene.")
		}
	}
	if len(f.QueryKinds) == 0 {
		set(FieldQueryKinds, "Velg minst én oppslagstype.")
	}
	// Rule SK-08: under consent, only the person who consented is looked up.
	if f.BasisKind == BasisConsent && slices.ContainsFunc(f.QueryKinds, func(k access.QueryKind) bool { return k != access.ByArbeidstaker }) {
		set(FieldQueryKinds, "Med samtykke som grunnlag kan dere bare slå opp på arbeidstaker, den som har samtykket.")
	}
	// Rule SK-02: the terms are accepted.
	if !f.TermsAccepted {
		set(FieldTerms, "Dere må godta bruksvilkårene for å sende søknaden.")
	}
	return bad
}

// CheckOrgnr says in Norwegian what is wrong with an organisation number on a
// form, or "": its form, and the environment's rule (Rule AA-14,
// register.Env.AdmitOrgnr) — the test environment takes synthetic numbers
// only, production real ones only.
func CheckOrgnr(s string, env register.Env) string {
	o, err := ident.ParseOrgnr(s)
	switch {
	case s == "":
		return "Skriv organisasjonsnummeret (9 siffer)."
	case err != nil:
		return "Organisasjonsnummeret er ikke gyldig. Det har 9 siffer."
	}
	switch env.AdmitOrgnr(o) {
	case register.RealInTest:
		return "Testmiljøet har bare syntetiske data: bruk et syntetisk organisasjonsnummer (det begynner på 2 eller 3)."
	case register.SyntheticInProd:
		return "Produksjonsmiljøet tar bare ekte organisasjonsnumre, ikke syntetiske."
	}
	return ""
}

// Substantial lists what changed between an approved application and a new
// one that makes the change substantial (Rule AA-05): purpose, legal basis
// (or its kind), processing basis, or the contracting organisation
// (controller). Access resting on the old application ends at once when the
// new one is signed; other changes are reported and decided as usual.
func Substantial(old, new ApplicationForm) []string {
	same := func(a, b string) bool {
		return strings.EqualFold(strings.Join(strings.Fields(a), " "), strings.Join(strings.Fields(b), " "))
	}
	var out []string
	if !same(old.Purpose, new.Purpose) {
		out = append(out, "formål")
	}
	if old.BasisKind != new.BasisKind || !same(old.LegalBasis, new.LegalBasis) {
		out = append(out, "rettslig grunnlag for utlevering")
	}
	if old.ProcessingLetter != new.ProcessingLetter || !same(old.ProcessingLaw, new.ProcessingLaw) {
		out = append(out, "behandlingsgrunnlag")
	}
	if old.Orgnr != new.Orgnr {
		out = append(out, "behandlingsansvarlig virksomhet")
	}
	return out
}

// SubstantialReason is the status reason of grants ended by a substantial change.
const SubstantialReason = "vesentlig endring i søknaden" // Rule AA-05

// AskedElements is every element the applicant asks for.
func (f *ApplicationForm) AskedElements(cat *access.Catalogue) map[string]bool {
	asked := map[string]bool{}
	for _, n := range f.Needs {
		els := n.Elements
		if n.Whole() {
			if p, err := cat.Resolve(n.Package); err == nil {
				els = p.Elements
			}
		}
		for _, e := range els {
			asked[e] = true
		}
	}
	return asked
}

// Grantable is every package of the catalogue all of whose elements the
// applicant asked for: a decision may grant these, and nothing more (Rule
// AA-07: a case worker may narrow what was asked for, never widen it).
func (f *ApplicationForm) Grantable(cat *access.Catalogue) []access.Package {
	asked := f.AskedElements(cat)
	var out []access.Package
	for _, p := range cat.Packages() {
		if !slices.ContainsFunc(p.Elements, func(e string) bool { return !asked[e] }) {
			out = append(out, p)
		}
	}
	return out
}

// CheckGrant says what is wrong with granting refs on this application, or "".
func (f *ApplicationForm) CheckGrant(cat *access.Catalogue, refs []string) string {
	if len(refs) == 0 {
		return "Velg minst én pakke å innvilge."
	}
	ok := f.Grantable(cat)
	for _, r := range refs {
		if !slices.ContainsFunc(ok, func(p access.Package) bool { return p.Ref() == r }) {
			// Rule AA-07: more data elements need a new application.
			return fmt.Sprintf("Pakken %s har opplysninger søkeren ikke har bedt om. Et vedtak kan ikke gi mer enn søknaden ber om.", r)
		}
	}
	return ""
}

// HistoryEntry is one step in an application's history.
type HistoryEntry struct {
	At    time.Time
	Actor string // as in the log: "user:<id>"
	Name  string // the person's name when the step was taken
	Step  Step
	From  AppStatus
	To    AppStatus
	Note  string // the question, the answer, the reasons, what changed
}

// Application is a consumer organisation's application and where it stands.
type Application struct {
	ID     string
	Org    string // the applicant organisation (orgnr); only its people see the application
	Status AppStatus
	Form   ApplicationForm
	// Replaces is the approved application this one changes (Rule AA-05), or "".
	Replaces string
	Question string // the case worker's latest question
	Answer   string // the applicant's latest answer
	Reasons  string // a refusal's reasons
	Granted  []string
	// SegmentID is the segment whose standard package was granted, or "" (Rule SK-06).
	SegmentID    string
	ValidTo      *time.Time // the decision's end, nil: until ended
	SignedBy     string     // actor
	SignedByName string
	SignedAt     *time.Time
	CaseWorker   string // the case worker's name
	DelegationID string // the delegation to the named processor (Rule AA-13)
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// Segment is a named standard set of packages for consumers with the same need (Rule SK-06).
type Segment struct {
	ID          string
	Navn        string
	Beskrivelse string
	Packages    []string // refs
}

// Validate lists what is wrong with a new segment, by form field.
func (s *Segment) Validate() map[string]string {
	bad := map[string]string{}
	s.Navn, s.Beskrivelse = strings.TrimSpace(s.Navn), strings.TrimSpace(s.Beskrivelse)
	if s.Navn == "" || tooLong(s.Navn, 100) {
		bad["segment_navn"] = "Gi segmentet et navn (høyst 100 tegn)."
	}
	if tooLong(s.Beskrivelse, maxLong) {
		bad["segment_beskrivelse"] = "Beskrivelsen er for lang."
	}
	if len(s.Packages) == 0 {
		bad["pakke"] = "Et segment har minst én pakke."
	}
	return bad
}

// Country is a country data may be processed and stored in (Rule AA-09).
type Country struct {
	Navn string
	// DPF: only for recipients certified under the EU-US Data Privacy Framework.
	DPF bool
}

// CountryGroup is a heading of the country list and its countries.
type CountryGroup struct {
	Label     string
	Countries []Country
	// EEA: Norway and the rest of the EU/EEA, where processing is no
	// transfer to a third country (Rule DPA-06).
	EEA bool
}

func names(ns ...string) []Country {
	out := make([]Country, len(ns))
	for i, n := range ns {
		out[i] = Country{Navn: n}
	}
	return out
}

// Countries are the countries an application may name as its processing
// location (Rule AA-09): Norway, the rest of the EU/EEA, and the third
// countries with an adequacy decision from the European Commission. Any
// other country is refused.
func Countries() []CountryGroup {
	return []CountryGroup{
		{"Norge", names("Norge"), true},
		{"EU/EØS", names("Belgia", "Bulgaria", "Danmark", "Estland", "Finland", "Frankrike", "Hellas", "Irland", "Island", "Italia",
			"Kroatia", "Kypros", "Latvia", "Liechtenstein", "Litauen", "Luxembourg", "Malta", "Nederland", "Polen", "Portugal",
			"Romania", "Slovakia", "Slovenia", "Spania", "Sverige", "Tsjekkia", "Tyskland", "Ungarn", "Østerrike"), true},
		{"Land utenfor EU/EØS med beslutning om tilstrekkelig beskyttelsesnivå", append(names("Andorra", "Argentina", "Canada",
			"Færøyene", "Guernsey", "Isle of Man", "Israel", "Japan", "Jersey", "New Zealand", "Storbritannia", "Sveits",
			"Sør-Korea"), Country{Navn: "USA", DPF: true}, Country{Navn: "Uruguay"}), false},
	}
}

func findCountry(name string) (Country, bool) {
	for _, g := range Countries() {
		for _, c := range g.Countries {
			if strings.EqualFold(c.Navn, strings.TrimSpace(name)) {
				return c, true
			}
		}
	}
	return Country{}, false
}

// CountryName is the list's spelling of name ("usa" → "USA"); ok is false when the list does not have it.
func CountryName(name string) (canonical string, ok bool) {
	c, ok := findCountry(name)
	return c.Navn, ok
}

// InEEA reports whether name is Norway or another EU/EEA country of the
// list: processing there is no transfer to a third country, and needs no
// instruction from the controller (Rule DPA-06).
func InEEA(name string) bool {
	for _, g := range Countries() {
		if g.EEA && slices.ContainsFunc(g.Countries, func(c Country) bool { return strings.EqualFold(c.Navn, strings.TrimSpace(name)) }) {
			return true
		}
	}
	return false
}

// CountryKnown reports whether name is a country the list allows (perhaps on a condition).
func CountryKnown(name string) bool { _, ok := findCountry(name); return ok }

// CheckCountry says why data may not be processed in country, or "" (Rule
// AA-09). A recipient in the USA must confirm that it is certified under the
// EU-US Data Privacy Framework, the basis of that adequacy decision.
func CheckCountry(country string, dpfConfirmed bool) string {
	if strings.TrimSpace(country) == "" {
		return "Velg landet der opplysningene skal behandles og lagres."
	}
	c, ok := findCountry(country)
	switch {
	case !ok:
		return "Opplysningene kan ikke behandles i dette landet: det er utenfor EU/EØS og har ikke en beslutning fra EU-kommisjonen om tilstrekkelig beskyttelsesnivå."
	case c.DPF && !dpfConfirmed:
		return "Bekreft at mottakeren i USA er sertifisert under EU–US Data Privacy Framework. Uten det kan opplysningene ikke behandles i USA."
	}
	return ""
}

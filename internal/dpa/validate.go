package dpa

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"deling/internal/access"
	"deling/internal/governance"
	"deling/internal/register"
)

// Limits of the texts.
const (
	maxShort = 300
	maxLong  = 4000
)

// Limits of the agreed periods.
const (
	MaxBreachNoticeHours = 72  // the controller has 72 hours towards Datatilsynet (Rule AV-05)
	MaxDeletionDays      = 365 // a year to delete or return
)

func tooLong(s string, n int) bool { return utf8.RuneCountInString(s) > n }

func tooLongMsg(n int) string { return fmt.Sprintf("Teksten er for lang (høyst %d tegn).", n) }

// Field names of the agreement's form, as the portal names its inputs and validation reports them.
const (
	FieldControllerOrgnr   = "behandlingsansvarlig_orgnr"
	FieldControllerNavn    = "behandlingsansvarlig_navn"
	FieldProcessorOrgnr    = "databehandler_orgnr"
	FieldProcessorNavn     = "databehandler_navn"
	FieldMainAgreement     = "hovedavtale"
	FieldMainAgreementDate = "hovedavtale_dato"
	FieldValidTo           = "gjelder_til"
	FieldChannels          = "kanal"
	FieldPackages          = "pakke"
	FieldBreachHours       = "varslingsfrist_timer"
	FieldDeletionDays      = "slettefrist_dager"
	FieldPurpose           = "formaal"
	FieldNature            = "art"
	FieldSubjects          = "kategorier_registrerte"
	FieldDataTypes         = "type_personopplysninger"
	FieldSpecial           = "sensitive_personopplysninger"
	FieldDeletionRules     = "sletteregler"
	FieldLocations         = "behandlingssted"
	FieldPseudonymisation  = "pseudonymisering"
	FieldEncryption        = "kryptering"
	FieldConfidentiality   = "konfidensialitet"
	FieldIntegrity         = "integritet"
	FieldAvailability      = "tilgjengelighet"
	FieldResilience        = "robusthet"
	FieldPhysical          = "fysisk_sikring"
	FieldOther             = "andre_tiltak"
	FieldSubName           = "underdatabehandler_navn"
	FieldSubOrgnr          = "underdatabehandler_orgnr"
	FieldSubCountry        = "underdatabehandler_land"
	FieldSubTask           = "underdatabehandler_oppgave"
	FieldSubReason         = "underdatabehandler_begrunnelse"
	FieldTransferCountry   = "overforing_land"
	FieldTransferRecipient = "overforing_mottaker"
	FieldTransferBasis     = "overforing_grunnlag"
	FieldTransferSCC       = "overforing_scc_modul"
)

// ContactField is the form field of a party's contact's field: kontakt_databehandler_epost, …
func ContactField(side Side, field string) string { return "kontakt_" + string(side) + "_" + field }

// Annex3Field is the form field of field in annex 3's entry i: underdatabehandler_navn_0, …
func Annex3Field(field string, i int) string { return field + "_" + strconv.Itoa(i) }

// TransferField is the form field of field in the content's transfer i.
func TransferField(field string, i int) string { return field + "_" + strconv.Itoa(i) }

// annex2Fields are annex 2's measures with their fields and headings, in the template's order.
func (a *Annex2) fields() []struct {
	Field, Heading string
	Value          *string
} {
	return []struct {
		Field, Heading string
		Value          *string
	}{
		{FieldPseudonymisation, "Pseudonymiseringstiltak", &a.Pseudonymisation},
		{FieldEncryption, "Krypteringstiltak", &a.Encryption},
		{FieldConfidentiality, "Tiltak for å sikre personopplysningenes fortrolighet (konfidensialitet)", &a.Confidentiality},
		{FieldIntegrity, "Tiltak for å sikre personopplysningenes integritet", &a.Integrity},
		{FieldAvailability, "Tiltak for å sikre tilgjengeligheten til personopplysningene", &a.Availability},
		{FieldResilience, "Tiltak for å sikre robusthet i behandlingssystemene og -tjenestene", &a.Resilience},
		{FieldPhysical, "Tiltak for fysisk sikring av lokaler hvor data behandles", &a.Physical},
		{FieldOther, "Andre datasikkerhetstiltak", &a.Other},
	}
}

// annex1Fields are annex 1's texts with their fields and headings, in the template's order.
func (a *Annex1) fields() []struct {
	Field, Heading string
	Value          *string
	Required       bool
} {
	return []struct {
		Field, Heading string
		Value          *string
		Required       bool
	}{
		{FieldPurpose, "Behandlingens formål", &a.Purpose, true},
		{FieldNature, "Behandlingens art og hensikt", &a.Nature, true},
		{FieldSubjects, "Kategorier av registrerte", &a.SubjectCategories, true},
		{FieldDataTypes, "Type personopplysninger", &a.DataTypes, true},
		{FieldSpecial, "Type sensitive personopplysninger (hvis relevant)", &a.SpecialCategories, false},
		{FieldDeletionRules, "Spesifikke sletteregler", &a.DeletionRules, false},
	}
}

// Normalize trims the texts, turns line ends into \n, puts countries in the
// list's spelling, and sorts and dedups the channels, packages and locations
// (sets, whose order means nothing), so that the same content always has the
// same hash.
func (c *Content) Normalize() {
	for _, p := range []*string{&c.Controller.Orgnr, &c.Controller.Navn, &c.Processor.Orgnr, &c.Processor.Navn,
		&c.MainAgreement, &c.MainAgreementDate, &c.ValidTo,
		&c.ControllerContact.Navn, &c.ControllerContact.Stilling, &c.ControllerContact.Epost,
		&c.ProcessorContact.Navn, &c.ProcessorContact.Stilling, &c.ProcessorContact.Epost} {
		*p = clean(*p)
	}
	for _, f := range c.Annex1.fields() {
		*f.Value = clean(*f.Value)
	}
	for _, f := range c.Annex2.fields() {
		*f.Value = clean(*f.Value)
	}
	for i := range c.Annex1.Locations {
		c.Annex1.Locations[i] = country(c.Annex1.Locations[i])
	}
	c.Annex1.Locations = set(c.Annex1.Locations)
	c.Channels = set(c.Channels)
	for i := range c.Packages {
		c.Packages[i] = clean(c.Packages[i])
	}
	c.Packages = set(c.Packages)
	for i := range c.Annex3 {
		e := &c.Annex3[i]
		e.Navn, e.Orgnr, e.ForeignID, e.Task = clean(e.Navn), clean(e.Orgnr), clean(e.ForeignID), clean(e.Task)
		e.Country = country(e.Country)
	}
	for i := range c.Transfers {
		t := &c.Transfers[i]
		t.Country, t.Recipient = country(t.Country), clean(t.Recipient)
	}
}

// clean trims s and writes its line ends as \n.
func clean(s string) string {
	return strings.TrimSpace(strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n"))
}

// country is name in the country list's spelling, or trimmed when the list lacks it.
func country(name string) string {
	if c, ok := governance.CountryName(name); ok {
		return c
	}
	return strings.TrimSpace(name)
}

// set sorts xs and drops repeats and empties.
func set[T ~string](xs []T) []T {
	var out []T
	for _, x := range xs {
		if x != "" && !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	slices.Sort(out)
	return out
}

// ValidateDraft lists what a draft may not hold even while incomplete:
// texts beyond their limits, choices the form never offers, bad dates and
// periods. A draft is saved any time otherwise.
func (c *Content) ValidateDraft(cat *access.Catalogue) map[string]string {
	c.Normalize()
	bad := map[string]string{}
	for field, v := range map[string]string{FieldControllerOrgnr: c.Controller.Orgnr, FieldControllerNavn: c.Controller.Navn,
		FieldProcessorOrgnr: c.Processor.Orgnr, FieldProcessorNavn: c.Processor.Navn, FieldMainAgreement: c.MainAgreement,
		ContactField(Controller, "navn"): c.ControllerContact.Navn, ContactField(Controller, "stilling"): c.ControllerContact.Stilling,
		ContactField(Controller, "epost"): c.ControllerContact.Epost, ContactField(Processor, "navn"): c.ProcessorContact.Navn,
		ContactField(Processor, "stilling"): c.ProcessorContact.Stilling, ContactField(Processor, "epost"): c.ProcessorContact.Epost} {
		if tooLong(v, maxShort) {
			bad[field] = tooLongMsg(maxShort)
		}
	}
	for _, f := range c.Annex1.fields() {
		if tooLong(*f.Value, maxLong) {
			bad[f.Field] = tooLongMsg(maxLong)
		}
	}
	for _, f := range c.Annex2.fields() {
		if tooLong(*f.Value, maxLong) {
			bad[f.Field] = tooLongMsg(maxLong)
		}
	}
	for field, v := range map[string]string{FieldMainAgreementDate: c.MainAgreementDate, FieldValidTo: c.ValidTo} {
		if _, err := time.Parse(dateLayout, v); v != "" && err != nil {
			bad[field] = "Skriv datoen som ÅÅÅÅ-MM-DD."
		}
	}
	for _, ch := range c.Channels {
		if _, err := access.ParseChannel(string(ch)); err != nil {
			bad[FieldChannels] = "Velg tilgangstyper fra listen."
		}
	}
	for _, ref := range c.Packages {
		if _, err := cat.Resolve(ref); err != nil || !strings.Contains(ref, "@") {
			bad[FieldPackages] = "Velg rettighetspakker fra katalogen."
		}
	}
	if c.BreachNoticeHours < 0 || c.BreachNoticeHours > MaxBreachNoticeHours {
		bad[FieldBreachHours] = fmt.Sprintf("Varslingsfristen er mellom 1 og %d timer.", MaxBreachNoticeHours)
	}
	if c.DeletionDays < 0 || c.DeletionDays > MaxDeletionDays {
		bad[FieldDeletionDays] = fmt.Sprintf("Slettefristen er mellom 1 og %d dager.", MaxDeletionDays)
	}
	for i, e := range c.Annex3 {
		for field, v := range map[string]string{FieldSubName: e.Navn, FieldSubOrgnr: e.Orgnr + e.ForeignID} {
			if tooLong(v, maxShort) {
				bad[Annex3Field(field, i)] = tooLongMsg(maxShort)
			}
		}
		if tooLong(e.Task, maxLong) {
			bad[Annex3Field(FieldSubTask, i)] = tooLongMsg(maxLong)
		}
	}
	return bad
}

// ValidateController lists what keeps the controller from sending the
// draft to the processor, by form field, in Norwegian: the parties, the main
// agreement, what of the register the processor handles, the agreed periods
// and annex 1 (Rule DPA-01). env is the environment the portal serves: the
// test environment has synthetic organisations only (Rule AA-14).
func (c *Content) ValidateController(env register.Env, cat *access.Catalogue) map[string]string {
	bad := c.ValidateDraft(cat)
	put := setter(bad)
	if msg := governance.CheckOrgnr(c.Controller.Orgnr, env); msg != "" {
		put(FieldControllerOrgnr, msg)
	}
	if c.Controller.Navn == "" {
		put(FieldControllerNavn, "Skriv navnet til behandlingsansvarlig.")
	}
	if msg := governance.CheckOrgnr(c.Processor.Orgnr, env); msg != "" {
		put(FieldProcessorOrgnr, msg)
	} else if c.Processor.Orgnr == c.Controller.Orgnr {
		put(FieldProcessorOrgnr, "Databehandleren må være en annen virksomhet enn behandlingsansvarlig.")
	}
	if c.Processor.Navn == "" {
		put(FieldProcessorNavn, "Skriv navnet til databehandleren.")
	}
	if c.MainAgreement == "" {
		put(FieldMainAgreement, "Oppgi hovedavtalen databehandleravtalen er en del av.")
	}
	if c.MainAgreementDate == "" {
		put(FieldMainAgreementDate, "Oppgi datoen hovedavtalen ble inngått.")
	}
	if c.ValidTo != "" && c.MainAgreementDate != "" && c.ValidTo < c.MainAgreementDate {
		put(FieldValidTo, "Avtalen kan ikke gjelde til en dato før hovedavtalen ble inngått.")
	}
	checkContact(put, Controller, c.ControllerContact)
	// Rule SK-04: the agreement says what of the register the processor handles.
	if len(c.Channels) == 0 {
		put(FieldChannels, "Velg minst én tilgangstype databehandleren skal bruke.")
	}
	if len(c.Packages) == 0 {
		put(FieldPackages, "Velg minst én rettighetspakke databehandleren skal behandle.")
	}
	if c.BreachNoticeHours == 0 {
		put(FieldBreachHours, "Oppgi fristen i timer for databehandlerens melding om brudd (vanligvis 24).")
	}
	if c.DeletionDays == 0 {
		put(FieldDeletionDays, "Oppgi hvor mange dager databehandleren har til å slette eller tilbakelevere opplysningene etter avtalens opphør.")
	}
	// Rule DPA-01: annex 1 is always filled in.
	for _, f := range c.Annex1.fields() {
		if f.Required && *f.Value == "" {
			put(f.Field, "Fyll ut «"+f.Heading+"».")
		}
	}
	// Rule DPA-06: where the processor itself processes, each outside the EU/EEA on an instruction.
	if len(c.Annex1.Locations) == 0 {
		put(FieldLocations, "Velg landet eller landene der databehandleren behandler og lagrer opplysningene.")
	}
	for _, l := range c.Annex1.Locations {
		if msg := CheckTransfer(l, "", c.Transfers); msg != "" {
			put(FieldLocations, msg)
		}
	}
	for i := range c.Transfers {
		for field, msg := range c.Transfers[i].Validate() {
			put(TransferField(field, i), msg)
		}
	}
	return bad
}

// ValidateProcessor lists what keeps the processor from completing the
// version, by form field, in Norwegian: every measure of annex 2 described
// (or "ikke relevant"), its contact, and each proposed sub-processor named,
// identified, placed and described (Rules DPA-01, DPA-05).
func (c *Content) ValidateProcessor(env register.Env, cat *access.Catalogue) map[string]string {
	bad := c.ValidateDraft(cat)
	put := setter(bad)
	for _, f := range c.Annex2.fields() {
		if *f.Value == "" {
			put(f.Field, "Beskriv tiltaket, eller skriv «ikke relevant».")
		}
	}
	checkContact(put, Processor, c.ProcessorContact)
	seen := map[string]bool{}
	for i, e := range c.Annex3 {
		for field, msg := range e.validate(env) {
			put(Annex3Field(field, i), msg)
		}
		if seen[e.Key()] {
			put(Annex3Field(FieldSubName, i), "Underdatabehandleren står allerede i listen.")
		}
		seen[e.Key()] = true
	}
	return bad
}

// Validate lists what keeps the version from being signed, by form field,
// in Norwegian; none when it is complete (Rule DPA-01): both parts, and each
// sub-processor outside the EU/EEA on the controller's instruction (Rule
// DPA-06).
func (c *Content) Validate(env register.Env, cat *access.Catalogue) map[string]string {
	bad := c.ValidateController(env, cat)
	put := setter(bad)
	for field, msg := range c.ValidateProcessor(env, cat) {
		put(field, msg)
	}
	for i, e := range c.Annex3 {
		if msg := CheckTransfer(e.Country, e.Navn, c.Transfers); msg != "" && e.Country != "" {
			put(Annex3Field(FieldSubCountry, i), msg)
		}
	}
	return bad
}

// setter sets a field's message unless it already has one.
func setter(bad map[string]string) func(field, msg string) {
	return func(field, msg string) {
		if _, ok := bad[field]; !ok {
			bad[field] = msg
		}
	}
}

func checkContact(put func(string, string), side Side, c Contact) {
	if c.Navn == "" {
		put(ContactField(side, "navn"), "Skriv navnet til kontaktpersonen.")
	}
	if c.Epost == "" {
		put(ContactField(side, "epost"), "Skriv e-postadressen til kontaktpersonen.")
	} else if at := strings.Index(c.Epost, "@"); at < 1 || at == len(c.Epost)-1 || strings.ContainsAny(c.Epost, " <>") {
		put(ContactField(side, "epost"), "E-postadressen er ikke gyldig.")
	}
}

// validate says what is wrong with a sub-processor entry, by field (without its index).
func (e SubProcessorEntry) validate(env register.Env) map[string]string {
	bad := map[string]string{}
	if e.Navn == "" {
		bad[FieldSubName] = "Skriv navnet til underdatabehandleren."
	}
	switch {
	case e.Orgnr == "" && e.ForeignID == "":
		bad[FieldSubOrgnr] = "Oppgi organisasjonsnummer, eller utenlandsk registreringsnummer for en utenlandsk virksomhet."
	case e.Orgnr != "":
		if msg := governance.CheckOrgnr(e.Orgnr, env); msg != "" {
			bad[FieldSubOrgnr] = msg
		}
	}
	if e.Country == "" {
		bad[FieldSubCountry] = "Velg landet der underdatabehandleren behandler opplysningene."
	} else if !governance.CountryKnown(e.Country) {
		// Rule AA-09: the register's list, as for applications.
		bad[FieldSubCountry] = CheckLocation(e.Country, false)
	}
	if e.Task == "" {
		bad[FieldSubTask] = "Beskriv hva underdatabehandleren gjør."
	}
	return bad
}

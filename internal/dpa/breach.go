package dpa

import (
	"time"

	"deling/internal/incident"
)

// BreachReport is the processor's written report of a personal-data breach
// to the controller (Rule DPA-07; template § 10), content a–f. It is due
// within the agreement's hours (24 unless agreed otherwise) of the
// processor becoming aware, so that the controller can notify Datatilsynet
// within its 72 hours. Information may come in phases; b and f may follow.
// Only the controller notifies Datatilsynet and the persons (Rule DPA-08).
type BreachReport struct {
	AgreementID string
	// a: the nature of the breach, with the categories and approximate
	// numbers of persons and of records affected.
	Nature            string
	SubjectCategories string
	Subjects          incident.Approx
	RecordCategories  string
	Records           incident.Approx
	Identities        string // b: who the persons affected are, as far as known
	Contact           string // c: the DPO or another contact point at the processor
	Consequences      string // d: likely consequences
	Measures          string // e: measures taken or proposed, incl. to limit harm
	Other             string // f: anything else the controller needs
	AwareAt           time.Time
	ReportedBy        string // actor: the processor's staff
	ReportedByName    string
	ReportedAt        time.Time
}

// Field names of the breach report form.
const (
	FieldBreachNature       = "a_art"
	FieldBreachSubjectCats  = "a_kategorier_registrerte"
	FieldBreachSubjects     = "a_antall_registrerte"
	FieldBreachRecordCats   = "a_kategorier_poster"
	FieldBreachRecords      = "a_antall_poster"
	FieldBreachIdentities   = "b_identitet"
	FieldBreachContact      = "c_kontaktpunkt"
	FieldBreachConsequences = "d_konsekvenser"
	FieldBreachMeasures     = "e_tiltak"
	FieldBreachOther        = "f_annet"
	FieldBreachAwareAt      = "kjent"
)

// Validate lists what keeps the report from being sent, by form field, in
// Norwegian; now is the time of sending. The nature, the contact point, the
// likely consequences and the measures are required (art. 33(3) asks for
// them; the controller cannot assess without them); numbers may be
// approximate or unknown; identities and other information may follow.
func (r *BreachReport) Validate(now time.Time) map[string]string {
	for _, p := range []*string{&r.Nature, &r.SubjectCategories, &r.RecordCategories, &r.Identities, &r.Contact,
		&r.Consequences, &r.Measures, &r.Other} {
		*p = clean(*p)
	}
	bad := map[string]string{}
	required := []struct {
		field, value, msg string
	}{
		{FieldBreachNature, r.Nature, "a) Beskriv hva bruddet består i."},
		{FieldBreachSubjectCats, r.SubjectCategories, "a) Oppgi hvilke kategorier registrerte som er berørt, eller «ukjent»."},
		{FieldBreachRecordCats, r.RecordCategories, "a) Oppgi hvilke kategorier personopplysninger som er berørt, eller «ukjent»."},
		{FieldBreachContact, r.Contact, "c) Oppgi navn og kontaktinformasjon til personvernombudet eller et annet kontaktpunkt hos databehandleren."},
		{FieldBreachConsequences, r.Consequences, "d) Beskriv de sannsynlige konsekvensene av bruddet."},
		{FieldBreachMeasures, r.Measures, "e) Beskriv tiltakene som er truffet eller foreslått for å håndtere bruddet."},
	}
	for _, f := range required {
		if f.value == "" {
			bad[f.field] = f.msg
		}
	}
	for field, v := range map[string]string{FieldBreachNature: r.Nature, FieldBreachSubjectCats: r.SubjectCategories,
		FieldBreachRecordCats: r.RecordCategories, FieldBreachIdentities: r.Identities, FieldBreachContact: r.Contact,
		FieldBreachConsequences: r.Consequences, FieldBreachMeasures: r.Measures, FieldBreachOther: r.Other} {
		if tooLong(v, maxLong) {
			bad[field] = tooLongMsg(maxLong)
		}
	}
	for field, n := range map[string]incident.Approx{FieldBreachSubjects: r.Subjects, FieldBreachRecords: r.Records} {
		if !n.Valid() {
			bad[field] = "Oppgi et antall, et intervall som «100–500», eller «ukjent»."
		}
	}
	switch {
	case r.AwareAt.IsZero():
		bad[FieldBreachAwareAt] = "Oppgi når databehandleren ble oppmerksom på bruddet."
	case r.AwareAt.After(now):
		bad[FieldBreachAwareAt] = "Tidspunktet kan ikke være frem i tid."
	}
	return bad
}

// BreachDeadline is the last instant for the processor's report to the
// controller: the agreement's hours after the processor became aware
// (Rule DPA-07; incident.ProcessorDeadline, 24 hours when none is agreed).
func BreachDeadline(c Content, aware time.Time) time.Time {
	return incident.ProcessorDeadline(aware, c.BreachNoticeHours)
}

// Late reports whether the report reached the controller after the deadline (Rule DPA-07).
func (r *BreachReport) Late(c Content) bool { return r.ReportedAt.After(BreachDeadline(c, r.AwareAt)) }

// IncidentReport is the report as the breach handling receives it
// (internal/incident): a processor's report, whose clock starts at the
// processor's awareness (Rules AV-03, DPA-07).
func (r *BreachReport) IncidentReport(by incident.Actor) incident.Report {
	what := r.Nature
	for _, part := range []struct{ label, text string }{
		{"Berørte registrerte", r.SubjectCategories + " (" + r.Subjects.String() + ")"},
		{"Berørte opplysninger", r.RecordCategories + " (" + r.Records.String() + ")"},
		{"De registrertes identitet", r.Identities},
		{"Kontaktpunkt hos databehandler", r.Contact},
		{"Annet", r.Other},
	} {
		if part.text != "" && part.text != " ()" {
			what += "\n\n" + part.label + ": " + part.text
		}
	}
	return incident.Report{
		What:             what,
		DiscoveredAt:     r.AwareAt,
		DiscoveredBy:     r.ReportedByName,
		Damage:           r.Consequences,
		ImmediateAction:  r.Measures,
		ByProcessor:      true,
		ProcessorAwareAt: r.AwareAt,
		ReportedBy:       by,
		ReportedAt:       r.ReportedAt,
	}
}

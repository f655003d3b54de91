package incident

import (
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"
)

// Contact is the contact point a notice names: the data protection officer
// or another (art. 33(3)(b), 34(2)).
type Contact struct {
	Name  string
	Email string
	Phone string
}

// Content is what a notice to Datatilsynet holds (art. 33(3), Rule AV-05).
type Content struct {
	Nature            string   // (a) what happened
	SubjectCategories []string // (a) categories of persons, e.g. "arbeidstakere"
	Subjects          Approx   // (a) approximate number of persons
	RecordCategories  []string // (a) categories of personal data records
	Records           Approx   // (a) approximate number of records
	Contact           Contact  // (b)
	Consequences      string   // (c) likely consequences
	Measures          string   // (d) measures taken or proposed, incl. to mitigate
}

// Phase is a notice's place in a phased notification (art. 33(4)).
type Phase string

// Phases.
const (
	PhaseInitial    Phase = "forste"  // the first notice; says whether more will follow
	PhaseSupplement Phase = "tillegg" // a supplement to the first
)

// Filing is one notice sent to Datatilsynet, kept with its time and exact content.
type Filing struct {
	Phase        Phase
	MoreToFollow bool // the initial notice says more will follow (Rule AV-05)
	Content      Content
	LateReason   string // why the initial notice came after the 72 hours (Rule AV-05)
	Channel      string // altinn, e-post, brev
	Reference    string // Datatilsynet's case number, once known
	// FirstAt links a supplement to the initial notice it supplements (art.
	// 33(4)): the initial notice's time; zero on the initial notice itself.
	FirstAt time.Time
	By      Actor
	At      time.Time
}

// Field names of the notice form.
const (
	FieldNature            = "art"
	FieldSubjectCategories = "kategorier_registrerte"
	FieldSubjects          = "antall_registrerte"
	FieldRecordCategories  = "kategorier_opplysninger"
	FieldRecords           = "antall_opplysninger"
	FieldContactName       = "kontakt_navn"
	FieldContactEmail      = "kontakt_epost"
	FieldConsequences      = "konsekvenser"
	FieldMeasures          = "tiltak_beskrivelse"
	FieldLateReason        = "begrunnelse_forsinkelse"
	FieldPhase             = "fase"
)

// ErrNotController is the answer when anyone but the register's staff
// would file: only the controller notifies Datatilsynet and the persons
// (Rule DPA-08); a processor's report never files for the register.
var ErrNotController = errors.New("only the controller notifies Datatilsynet and the persons affected")

// MayFile checks that the actor files as the controller (Rule DPA-08).
func MayFile(a Actor) error {
	if !a.Staff() {
		return fmt.Errorf("%s for %q: %w", a.Role, a.Org, ErrNotController)
	}
	return nil
}

// Validate lists what keeps the filing from being sent, by field, in
// Norwegian. prior are the filings already sent for the case, aware is when
// the register became aware (see Awareness). An initial notice that cannot
// give everything says more will follow and gives what it has; art.
// 33(3)(a)–(d) must then be complete by the last supplement. (a) and (b) are
// needed from the start. A late initial notice gives its reason (Rule AV-05).
func (f *Filing) Validate(prior []Filing, aware time.Time) map[string]string {
	c := &f.Content
	c.Nature, c.Consequences, c.Measures = strings.TrimSpace(c.Nature), strings.TrimSpace(c.Consequences), strings.TrimSpace(c.Measures)
	c.Contact.Name, c.Contact.Email, c.Contact.Phone = strings.TrimSpace(c.Contact.Name), strings.TrimSpace(c.Contact.Email), strings.TrimSpace(c.Contact.Phone)
	f.LateReason = strings.TrimSpace(f.LateReason)
	bad := map[string]string{}
	hasInitial := len(prior) > 0
	switch f.Phase {
	case PhaseInitial:
		if hasInitial {
			bad[FieldPhase] = "Første melding er allerede sendt; send en tilleggsmelding."
		}
	case PhaseSupplement:
		if !hasInitial {
			bad[FieldPhase] = "Send første melding før en tilleggsmelding."
		}
	default:
		bad[FieldPhase] = "Velg første melding eller tilleggsmelding."
	}
	if f.Phase == PhaseInitial {
		if c.Nature == "" {
			bad[FieldNature] = "Beskriv avviket."
		}
		if c.Contact.Name == "" {
			bad[FieldContactName] = "Oppgi personvernombudet eller et annet kontaktpunkt."
		}
		if !f.MoreToFollow {
			// Complete at once: every point of art. 33(3).
			if len(c.SubjectCategories) == 0 {
				bad[FieldSubjectCategories] = "Oppgi hvilke grupper av registrerte som er berørt."
			}
			if len(c.RecordCategories) == 0 {
				bad[FieldRecordCategories] = "Oppgi hvilke typer personopplysninger som er berørt."
			}
			if c.Consequences == "" {
				bad[FieldConsequences] = "Beskriv de sannsynlige konsekvensene."
			}
			if c.Measures == "" {
				bad[FieldMeasures] = "Beskriv tiltakene som er truffet eller foreslås."
			}
		}
		if LateReasonRequired(aware, f.At) && f.LateReason == "" {
			bad[FieldLateReason] = "Meldingen sendes etter fristen på 72 timer: oppgi årsaken til forsinkelsen."
		}
	}
	if f.Phase == PhaseSupplement && c.Nature == "" && c.Consequences == "" && c.Measures == "" &&
		len(c.SubjectCategories) == 0 && len(c.RecordCategories) == 0 && c.Subjects == (Approx{}) && c.Records == (Approx{}) {
		bad[FieldNature] = "En tilleggsmelding må inneholde ny informasjon."
	}
	for field, a := range map[string]Approx{FieldSubjects: c.Subjects, FieldRecords: c.Records} {
		if !a.Valid() {
			bad[field] = "Oppgi et tall, et intervall (100–500) eller «ukjent»."
		}
	}
	if c.Contact.Email != "" {
		if _, err := mail.ParseAddress(c.Contact.Email); err != nil {
			bad[FieldContactEmail] = "Skriv en gyldig e-postadresse."
		}
	}
	for k, v := range map[string]string{FieldNature: c.Nature, FieldConsequences: c.Consequences,
		FieldMeasures: c.Measures, FieldLateReason: f.LateReason} {
		if tooLong(v, maxLong) {
			bad[k] = tooLongMsg(maxLong)
		}
	}
	return bad
}

// Merged is what Datatilsynet has been told so far: each filing's non-empty
// fields over the earlier ones, in order. The downloadable document shows it.
func Merged(filings []Filing) Content {
	var m Content
	for _, f := range filings {
		c := f.Content
		if c.Nature != "" {
			m.Nature = c.Nature
		}
		if len(c.SubjectCategories) > 0 {
			m.SubjectCategories = c.SubjectCategories
		}
		if c.Subjects != (Approx{}) {
			m.Subjects = c.Subjects
		}
		if len(c.RecordCategories) > 0 {
			m.RecordCategories = c.RecordCategories
		}
		if c.Records != (Approx{}) {
			m.Records = c.Records
		}
		if c.Contact != (Contact{}) {
			m.Contact = c.Contact
		}
		if c.Consequences != "" {
			m.Consequences = c.Consequences
		}
		if c.Measures != "" {
			m.Measures = c.Measures
		}
	}
	return m
}

// Complete reports whether the filings together give every point of art.
// 33(3); until then the case owes Datatilsynet a supplement.
func Complete(filings []Filing) bool {
	m := Merged(filings)
	return m.Nature != "" && len(m.SubjectCategories) > 0 && len(m.RecordCategories) > 0 &&
		m.Contact.Name != "" && m.Consequences != "" && m.Measures != ""
}

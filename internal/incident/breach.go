package incident

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Kind is what the breach did to the data (Rule AV-09); several may apply.
type Kind string

// Kinds, as the seed names them (konfidensialitets-, integritets-, tilgangsavvik).
const (
	Confidentiality Kind = "konfidensialitet" // unauthorised or accidental disclosure or access
	Integrity       Kind = "integritet"       // unauthorised or accidental alteration
	Availability    Kind = "tilgjengelighet"  // loss of access or destruction
)

// Kinds lists every kind in order.
func Kinds() []Kind { return []Kind{Confidentiality, Integrity, Availability} }

// Label is the kind in the portal.
func (k Kind) Label() string {
	switch k {
	case Confidentiality:
		return "Konfidensialitetsbrudd"
	case Integrity:
		return "Integritetsbrudd"
	case Availability:
		return "Tilgjengelighetsbrudd"
	}
	return string(k)
}

// Cause is what brought the breach about (Rule AV-09).
type Cause string

// Causes.
const (
	CauseTechnical Cause = "teknisk"     // e.g. a database open to the world
	CauseHuman     Cause = "menneskelig" // e.g. data sent to the wrong recipient
	CauseExternal  Cause = "ekstern"     // a threat actor: hackers, other states
)

// Causes lists every cause in order.
func Causes() []Cause { return []Cause{CauseTechnical, CauseHuman, CauseExternal} }

// Label is the cause in the portal.
func (c Cause) Label() string {
	switch c {
	case CauseTechnical:
		return "Teknisk feil"
	case CauseHuman:
		return "Menneskelig feil"
	case CauseExternal:
		return "Ekstern trusselaktør"
	}
	return string(c)
}

// Report is a breach report as the reporter gives it (Rule AV-01). Anyone
// may report; a processor also says when it became aware, which starts the
// register's clock (Rule AV-03); a consumer that has already notified
// Datatilsynet says so, and the register's DPO is told (Rule AA-21).
type Report struct {
	What            string    // what happened and how
	DiscoveredAt    time.Time // when it was discovered
	DiscoveredBy    string    // by whom
	System          string    // which system
	Damage          string    // damage that has or may have occurred
	ImmediateAction string    // what was done at once to stop or limit it
	Kinds           []Kind    // Rule AV-09; may be empty when the reporter cannot tell
	Cause           Cause     // Rule AV-09; "" when unknown
	// ByProcessor is set when a data processor reports a breach in its own
	// processing; ProcessorAwareAt is then required (Rules AV-03, DPA-07).
	ByProcessor      bool
	ProcessorAwareAt time.Time
	// Controller is, for a processor's report under a data processing
	// agreement (Rule DPA-07), the agreement's controller: the consumer, not
	// the register, is then the controller who assesses and notifies
	// Datatilsynet, and its administrator and role holder see the case
	// (CanSeeAsController). "" for every other report.
	Controller string `json:",omitempty"`
	// ConsumerNotifiedDT is set when the reporting consumer has itself
	// notified Datatilsynet, with when (Rule AA-21).
	ConsumerNotifiedDT   bool
	ConsumerNotifiedDTAt time.Time
	ReportedBy           Actor
	ReportedAt           time.Time
}

// Field names of the report form, as the portal names its inputs and Validate reports them.
const (
	FieldWhat             = "hva"
	FieldDiscoveredAt     = "oppdaget"
	FieldDiscoveredBy     = "oppdaget_av"
	FieldSystem           = "system"
	FieldDamage           = "skade"
	FieldImmediateAction  = "strakstiltak"
	FieldKinds            = "type"
	FieldCause            = "aarsak"
	FieldProcessorAwareAt = "databehandler_kjent"
	FieldConsumerDTAt     = "meldt_datatilsynet"
)

// Limits of the texts.
const (
	maxShort = 300
	maxLong  = 8000
)

func tooLong(s string, n int) bool { return utf8.RuneCountInString(s) > n }

func tooLongMsg(n int) string { return fmt.Sprintf("Teksten er for lang (høyst %d tegn).", n) }

// Normalize trims the texts and drops repeated kinds.
func (r *Report) Normalize() {
	for _, p := range []*string{&r.What, &r.DiscoveredBy, &r.System, &r.Damage, &r.ImmediateAction} {
		*p = strings.TrimSpace(*p)
	}
	var kinds []Kind
	for _, k := range r.Kinds {
		if !slices.Contains(kinds, k) {
			kinds = append(kinds, k)
		}
	}
	r.Kinds = kinds
}

// Validate lists what keeps the report from being received, by form field,
// in Norwegian; none when it may be received. now is the time of receipt:
// no instant may lie after it. A report is kept short on purpose (a breach
// is reported in a minute), so only what happened and when are required.
func (r *Report) Validate(now time.Time) map[string]string {
	r.Normalize()
	bad := map[string]string{}
	// Rule AV-01: what happened and how, and when it was discovered.
	if r.What == "" {
		bad[FieldWhat] = "Beskriv hva som har skjedd og hvordan."
	}
	switch {
	case r.DiscoveredAt.IsZero():
		bad[FieldDiscoveredAt] = "Oppgi når avviket ble oppdaget."
	case r.DiscoveredAt.After(now):
		bad[FieldDiscoveredAt] = "Tidspunktet kan ikke være frem i tid."
	}
	for field, v := range map[string]string{FieldDiscoveredBy: r.DiscoveredBy, FieldSystem: r.System} {
		if tooLong(v, maxShort) {
			bad[field] = tooLongMsg(maxShort)
		}
	}
	for field, v := range map[string]string{FieldWhat: r.What, FieldDamage: r.Damage, FieldImmediateAction: r.ImmediateAction} {
		if tooLong(v, maxLong) {
			bad[field] = tooLongMsg(maxLong)
		}
	}
	for _, k := range r.Kinds {
		if !slices.Contains(Kinds(), k) {
			bad[FieldKinds] = "Velg type avvik fra listen."
		}
	}
	if r.Cause != "" && !slices.Contains(Causes(), r.Cause) {
		bad[FieldCause] = "Velg årsak fra listen."
	}
	// Rule AV-03: a processor's report says when the processor became aware.
	if r.ByProcessor {
		switch {
		case r.ProcessorAwareAt.IsZero():
			bad[FieldProcessorAwareAt] = "Oppgi når databehandleren fikk kjennskap til avviket."
		case r.ProcessorAwareAt.After(now):
			bad[FieldProcessorAwareAt] = "Tidspunktet kan ikke være frem i tid."
		}
	}
	// Rule AA-21: a consumer that notified Datatilsynet says when.
	if r.ConsumerNotifiedDT {
		switch {
		case r.ConsumerNotifiedDTAt.IsZero():
			bad[FieldConsumerDTAt] = "Oppgi når dere meldte avviket til Datatilsynet."
		case r.ConsumerNotifiedDTAt.After(now):
			bad[FieldConsumerDTAt] = "Tidspunktet kan ikke være frem i tid."
		}
	}
	return bad
}

// TellDPO reports whether the register's data protection officer must be
// told of the report at once: a consumer has notified Datatilsynet itself (Rule AA-21).
func (r *Report) TellDPO() bool { return r.ConsumerNotifiedDT }

// Breach is a breach case (avvik): the report and everything the register
// records about it, notified or not (Rule AV-07). The store keeps it; this
// package decides what may change and when things are due.
type Breach struct {
	ID       string
	Report   Report
	Status   Status
	Owner    string    // the case worker responsible; gets the reminders
	AwareAt  time.Time // when the register became aware: a recorded decision (WP250), not the report's time
	AwareBy  Actor
	Measures []Measure
	Risk     *Assessment
	Decision *Decision
	Filings  []Filing
	// Affected are the computations of who was affected, from the lookup log, oldest first.
	Affected []AffectedCount
	FollowUp []FollowUpItem
	// Lessons is the follow-up's summary of what was learnt, and ReviewAt
	// when the register reviews whether the measures worked (Rule AV-08).
	Lessons  string
	ReviewAt time.Time
	// PersonsNotified is how many persons a notice was recorded for (Rule AV-06).
	PersonsNotified int
	// Notices is how far the persons and consumers were told, for closing (CloseMissing).
	Notices NoticeState
	// ProcessorNoticeHours is the processor's duty to the controller from
	// the data processing agreement; 0 means DefaultProcessorNoticeHours (Rule DPA-07).
	ProcessorNoticeHours int
}

package incident

import (
	"slices"
	"strings"
	"time"
)

// MeasureKind is one of the immediate measures the seed says to consider at
// once (Rule AV-02). Recording them, with who and when, is part of the
// documentation every breach needs (Rule AV-07).
type MeasureKind string

// Measure kinds, in the seed's order.
const (
	MeasureMapEvents      MeasureKind = "kartlegge"        // map the course of events
	MeasureLimitDamage    MeasureKind = "begrense"         // find out how damage can be limited
	MeasureShutDown       MeasureKind = "sla_av"           // shut down systems that caused or may cause it
	MeasureStopAccess     MeasureKind = "stanse_tilgang"   // stop further access: passwords, profiles, clients
	MeasureRestore        MeasureKind = "gjenopprette"     // restore lost data
	MeasurePoliceReport   MeasureKind = "politianmeldelse" // report to the police if criminal
	MeasureSecureEvidence MeasureKind = "sikre_bevis"      // secure evidence for an investigation
)

// MeasureKinds lists every kind in order.
func MeasureKinds() []MeasureKind {
	return []MeasureKind{MeasureMapEvents, MeasureLimitDamage, MeasureShutDown, MeasureStopAccess,
		MeasureRestore, MeasurePoliceReport, MeasureSecureEvidence}
}

// Label is the measure in the portal.
func (k MeasureKind) Label() string {
	switch k {
	case MeasureMapEvents:
		return "Kartlegge hendelsesforløpet"
	case MeasureLimitDamage:
		return "Begrense skaden"
	case MeasureShutDown:
		return "Slå av systemer"
	case MeasureStopAccess:
		return "Stanse ytterligere tilgang"
	case MeasureRestore:
		return "Gjenopprette data"
	case MeasurePoliceReport:
		return "Varsle eller anmelde til politiet"
	case MeasureSecureEvidence:
		return "Sikre bevis"
	}
	return string(k)
}

// Measure is one immediate measure, done or considered and set aside
// (Rule AV-02: "vurderes umiddelbart" — considering is itself recorded).
// Target names what a stop-access measure suspended (a consumer's orgnr or a
// client id); the store carries out the suspension in the same transaction.
type Measure struct {
	Kind   MeasureKind
	Done   bool   // false: considered and not done, Note says why
	Note   string // what was done, or why not
	Target string // MeasureStopAccess: the consumer or client suspended
	By     Actor
	At     time.Time
}

// Field names of the measure form.
const (
	FieldMeasureKind = "tiltak"
	FieldMeasureNote = "tiltak_merknad"
	FieldMeasureAt   = "tiltak_tidspunkt"
)

// Validate lists what keeps the measure from being recorded, by field, in Norwegian.
func (m *Measure) Validate(now time.Time) map[string]string {
	m.Note, m.Target = strings.TrimSpace(m.Note), strings.TrimSpace(m.Target)
	bad := map[string]string{}
	if !slices.Contains(MeasureKinds(), m.Kind) {
		bad[FieldMeasureKind] = "Velg tiltak fra listen."
	}
	switch {
	case m.Note == "" && !m.Done:
		bad[FieldMeasureNote] = "Skriv hvorfor tiltaket ikke ble gjennomført."
	case m.Note == "":
		bad[FieldMeasureNote] = "Beskriv hva som ble gjort."
	case tooLong(m.Note, maxLong):
		bad[FieldMeasureNote] = tooLongMsg(maxLong)
	}
	switch {
	case m.At.IsZero():
		bad[FieldMeasureAt] = "Oppgi når tiltaket ble gjort."
	case m.At.After(now):
		bad[FieldMeasureAt] = "Tidspunktet kan ikke være frem i tid."
	}
	return bad
}

// Considered lists the measure kinds not yet recorded on a case, for the
// checklist the case worker goes through (Rule AV-02).
func Considered(ms []Measure) (missing []MeasureKind) {
	for _, k := range MeasureKinds() {
		if !slices.ContainsFunc(ms, func(m Measure) bool { return m.Kind == k }) {
			missing = append(missing, k)
		}
	}
	return missing
}

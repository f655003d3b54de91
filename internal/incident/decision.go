package incident

import (
	"slices"
	"strings"
	"time"
)

// Decision is the documented decision on notifying Datatilsynet and the
// persons affected (Rules AV-04, AV-06). Deciding not to notify needs a
// written reason: the register carries the burden of proving there was no
// risk (seed, punkt 2.1).
type Decision struct {
	NotifyDT bool
	Reason   string // why, either way; required when not notifying
	Persons  PersonsChoice
	// PersonsReason says why the persons are or are not told; for an
	// exemption it is how its condition is met (art. 34(3), Rule AV-06).
	PersonsReason string
	Exemption     Exemption // when Persons is PersonsExempt
	PublicNotice  string    // the public notice's text, for ExemptDisproportionate
	By            Actor
	At            time.Time
}

// PersonsChoice is the decision on telling the persons affected (art. 34).
type PersonsChoice string

// Choices.
const (
	PersonsNotify      PersonsChoice = "varsle"   // high risk: tell each person directly
	PersonsNotRequired PersonsChoice = "ikke_hoy" // the risk is not likely high
	PersonsExempt      PersonsChoice = "unntak"   // high risk, but an art. 34(3) exception applies
)

// Exemption is one of the art. 34(3) exceptions to telling the persons (Rule AV-06).
type Exemption string

// Exemptions.
const (
	ExemptEncrypted        Exemption = "a_kryptert"        // (a) data unintelligible, e.g. encrypted
	ExemptRiskRemoved      Exemption = "b_risiko_fjernet"  // (b) later measures remove the high risk
	ExemptDisproportionate Exemption = "c_uforholdsmessig" // (c) disproportionate effort: public notice instead
)

// Exemptions lists the exceptions in the article's order.
func Exemptions() []Exemption {
	return []Exemption{ExemptEncrypted, ExemptRiskRemoved, ExemptDisproportionate}
}

// Label is the exemption in the portal.
func (e Exemption) Label() string {
	switch e {
	case ExemptEncrypted:
		return "Art. 34 nr. 3 a: opplysningene er uleselige for uvedkommende (f.eks. kryptert)"
	case ExemptRiskRemoved:
		return "Art. 34 nr. 3 b: etterfølgende tiltak gjør at den høye risikoen ikke lenger er sannsynlig"
	case ExemptDisproportionate:
		return "Art. 34 nr. 3 c: uforholdsmessig stor innsats – allmennheten underrettes i stedet"
	}
	return string(e)
}

// Field names of the decision form.
const (
	FieldNotifyDT      = "melde_datatilsynet"
	FieldReason        = "begrunnelse"
	FieldPersons       = "varsle_berorte"
	FieldPersonsReason = "begrunnelse_berorte"
	FieldExemption     = "unntak"
	FieldPublicNotice  = "offentlig_kunngjoring"
)

// Validate lists what keeps the decision from being recorded, by field, in Norwegian.
func (d *Decision) Validate() map[string]string {
	d.Reason, d.PersonsReason, d.PublicNotice = strings.TrimSpace(d.Reason), strings.TrimSpace(d.PersonsReason), strings.TrimSpace(d.PublicNotice)
	bad := map[string]string{}
	// Rule AV-04: not notifying needs a documented reason.
	if !d.NotifyDT && d.Reason == "" {
		bad[FieldReason] = "Skriv hvorfor avviket ikke meldes til Datatilsynet."
	}
	if tooLong(d.Reason, maxLong) {
		bad[FieldReason] = tooLongMsg(maxLong)
	}
	switch d.Persons {
	case PersonsNotify:
		if d.Exemption != "" {
			bad[FieldExemption] = "Et unntak passer ikke når de berørte skal varsles."
		}
	case PersonsNotRequired:
		if d.PersonsReason == "" {
			bad[FieldPersonsReason] = "Skriv hvorfor risikoen for de berørte ikke er høy."
		}
	case PersonsExempt:
		// Rule AV-06: an exception is documented — which one and how it is met.
		if !slices.Contains(Exemptions(), d.Exemption) {
			bad[FieldExemption] = "Velg hvilket unntak i artikkel 34 nr. 3 som gjelder."
		}
		if d.PersonsReason == "" {
			bad[FieldPersonsReason] = "Dokumenter hvordan vilkåret for unntaket er oppfylt."
		}
		if d.Exemption == ExemptDisproportionate && d.PublicNotice == "" {
			bad[FieldPublicNotice] = "Skriv den offentlige kunngjøringen som erstatter varsel til hver enkelt."
		}
	default:
		bad[FieldPersons] = "Velg om de berørte skal varsles."
	}
	if d.Exemption != ExemptDisproportionate && d.PublicNotice != "" {
		bad[FieldPublicNotice] = "Offentlig kunngjøring brukes bare ved unntaket for uforholdsmessig innsats."
	}
	if d.Persons != PersonsNotRequired && !d.NotifyDT && d.Persons != "" {
		// High risk to persons is always a risk: Datatilsynet is notified too.
		bad[FieldNotifyDT] = "Når risikoen for de berørte er høy, skal avviket også meldes til Datatilsynet."
	}
	for k, v := range map[string]string{FieldPersonsReason: d.PersonsReason, FieldPublicNotice: d.PublicNotice} {
		if tooLong(v, maxLong) {
			bad[k] = tooLongMsg(maxLong)
		}
	}
	return bad
}

// Step is the case step that records the decision.
func (d *Decision) Step() Step {
	if d.NotifyDT {
		return StepDecideNotify
	}
	return StepDecideNoNotif
}

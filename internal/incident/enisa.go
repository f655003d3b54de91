package incident

import (
	"fmt"
	"slices"
	"strings"
)

// The severity of a breach by ENISA's method (Recommendations for a
// methodology of the assessment of severity of personal data breaches,
// v1.0, December 2013): SE = DPC × EI + CB. The inputs and a reason for
// each are kept, not only the score, because the score is an aid to a
// documented judgement (Rule AV-04), and a reader must see how it came about.

// DataCategory is ENISA's base category of the breached data; it gives the
// Data Processing Context's base score.
type DataCategory string

// Data categories and their base scores (ENISA §2.1).
const (
	DataSimple     DataCategory = "enkle"      // 1: name, contact details, education, family life, work history
	DataBehavioral DataCategory = "atferd"     // 2: location, traffic data, preferences and habits
	DataFinancial  DataCategory = "okonomiske" // 3: income, transactions, balances, cards, social welfare
	DataSensitive  DataCategory = "sensitive"  // 4: health, politics, sexual life (art. 9 data)
)

// DataCategories lists every category in order of base score.
func DataCategories() []DataCategory {
	return []DataCategory{DataSimple, DataBehavioral, DataFinancial, DataSensitive}
}

// Base is the category's base score, 0 for an unknown category.
func (c DataCategory) Base() int {
	return slices.Index(DataCategories(), c) + 1
}

// Label is the category in the portal.
func (c DataCategory) Label() string {
	switch c {
	case DataSimple:
		return "Enkle opplysninger"
	case DataBehavioral:
		return "Atferdsopplysninger"
	case DataFinancial:
		return "Økonomiske opplysninger"
	case DataSensitive:
		return "Særlige kategorier (sensitive opplysninger)"
	}
	return string(c)
}

// Adjustment moves a category's score up or down for its context (ENISA
// Annex A2: volume per person, what the controller's nature implies,
// vulnerable persons → up; outdated, public, or less revealing data → down).
type Adjustment struct {
	Delta  int // -3..+3
	Reason string
}

// DataScore is one breached category with its adjustments. ENISA scores
// each category breached and takes the highest.
type DataScore struct {
	Category    DataCategory
	Reason      string // why this category: what data were breached
	Adjustments []Adjustment
}

// Score is the category's DPC: base plus adjustments, kept within 1..4.
func (d DataScore) Score() int {
	s := d.Category.Base()
	for _, a := range d.Adjustments {
		s += a.Delta
	}
	return min(max(s, 1), 4)
}

// EI is ENISA's Ease of Identification: how easily the breached data name a person.
type EI string

// Ease of identification levels (ENISA §2.2).
const (
	EINegligible  EI = "ubetydelig" // 0.25
	EILimited     EI = "begrenset"  // 0.5
	EISignificant EI = "betydelig"  // 0.75
	EIMaximum     EI = "maksimal"   // 1
)

// EILevels lists every level in order.
func EILevels() []EI { return []EI{EINegligible, EILimited, EISignificant, EIMaximum} }

// Value is the level's factor, 0 for an unknown level.
func (e EI) Value() float64 { return float64(slices.Index(EILevels(), e)+1) * 0.25 }

// Label is the level in the portal.
func (e EI) Label() string {
	switch e {
	case EINegligible:
		return "Ubetydelig – svært vanskelig å knytte til en person"
	case EILimited:
		return "Begrenset – mulig, men krever innsats"
	case EISignificant:
		return "Betydelig – relativt enkelt"
	case EIMaximum:
		return "Maksimal – direkte identifiserbar"
	}
	return string(e)
}

// CBLevel is one Circumstance of the Breach (loss of confidentiality,
// integrity or availability) on ENISA's three steps.
type CBLevel int

// Circumstance levels (ENISA §2.3): 0, +0.25, +0.5.
const (
	CB0 CBLevel = iota // not affected, or affected without evidence of harm (restored, recoverable without difficulty)
	CB1                // confidentiality: known recipients; integrity: misused, recoverable; availability: temporary
	CB2                // confidentiality: unknown recipients; integrity: misused, not recoverable; availability: full loss
)

// Value is the level's addition to the score.
func (l CBLevel) Value() float64 { return float64(l) * 0.25 }

// Circumstance is one CB element with its reason.
type Circumstance struct {
	Level  CBLevel
	Reason string
}

// Assessment is a breach's risk assessment: ENISA's inputs with reasons,
// and the seed's further factors (Rule AV-04).
type Assessment struct {
	Data            []DataScore
	EI              EI
	EIReason        string
	Confidentiality Circumstance
	Integrity       Circumstance
	Availability    Circumstance
	Malicious       bool // +0.5: theft, hacking, sale of data, intent to harm
	MaliciousReason string
	Factors         Factors
}

// DPC is the Data Processing Context: the highest score of the breached categories.
func (a *Assessment) DPC() int {
	dpc := 0
	for _, d := range a.Data {
		dpc = max(dpc, d.Score())
	}
	return dpc
}

// CB is the Circumstances of the Breach: the sum of the three elements and malice, 0..2.
func (a *Assessment) CB() float64 {
	cb := a.Confidentiality.Level.Value() + a.Integrity.Level.Value() + a.Availability.Level.Value()
	if a.Malicious {
		cb += 0.5
	}
	return cb
}

// Score is SE = DPC × EI + CB. All values are multiples of 1/16, exact in a float64.
func (a *Assessment) Score() float64 { return float64(a.DPC())*a.EI.Value() + a.CB() }

// Band is ENISA's severity level for the score.
func (a *Assessment) Band() Band { return BandOf(a.Score()) }

// Band is ENISA's severity level.
type Band string

// Bands (ENISA §2.4).
const (
	BandLow      Band = "lav"        // SE < 2
	BandMedium   Band = "middels"    // 2 ≤ SE < 3
	BandHigh     Band = "hoy"        // 3 ≤ SE < 4
	BandVeryHigh Band = "svaert_hoy" // SE ≥ 4
)

// BandOf is the band of a score.
func BandOf(se float64) Band {
	switch {
	case se < 2:
		return BandLow
	case se < 3:
		return BandMedium
	case se < 4:
		return BandHigh
	}
	return BandVeryHigh
}

// Label is the band in the portal, with ENISA's meaning.
func (b Band) Label() string {
	switch b {
	case BandLow:
		return "Lav – de berørte merker lite eller får ulemper de lett kommer over"
	case BandMedium:
		return "Middels – betydelige ulemper de kommer over med noen vanskeligheter"
	case BandHigh:
		return "Høy – betydelige konsekvenser de kommer over med alvorlige vanskeligheter"
	case BandVeryHigh:
		return "Svært høy – betydelige eller varige konsekvenser de kanskje ikke kommer over"
	}
	return string(b)
}

// Suggestion is what the band suggests. It is deling's own mapping, not
// ENISA's or the EDPB's (research §2): low → document only; medium →
// notify Datatilsynet; high and very high → notify Datatilsynet and
// consider notifying the persons. The decision stays a person's (Rule AV-04).
type Suggestion struct {
	NotifyDT        bool
	ConsiderPersons bool
}

// Suggest is the band's suggestion.
func (b Band) Suggest() Suggestion {
	return Suggestion{NotifyDT: b != BandLow, ConsiderPersons: b == BandHigh || b == BandVeryHigh}
}

// Field names of the assessment form.
const (
	FieldData            = "dpc"
	FieldEI              = "ei"
	FieldConfidentiality = "cb_konfidensialitet"
	FieldIntegrity       = "cb_integritet"
	FieldAvailability    = "cb_tilgjengelighet"
	FieldMalicious       = "cb_ondsinnet"
)

// FieldDataReason is the field of the reason for breached category i.
func FieldDataReason(i int) string { return fmt.Sprintf("dpc_%d_begrunnelse", i) }

// FieldAdjustment is the field of adjustment j of breached category i.
func FieldAdjustment(i, j int) string { return fmt.Sprintf("dpc_%d_justering_%d", i, j) }

// Validate lists what keeps the assessment from being recorded, by field,
// in Norwegian. Every input carries a reason: a score without its reasons
// is no documentation (Rules AV-04, AV-07).
func (a *Assessment) Validate() map[string]string {
	bad := map[string]string{}
	if len(a.Data) == 0 {
		bad[FieldData] = "Velg minst én kategori av opplysninger som er berørt."
	}
	for i := range a.Data {
		d := &a.Data[i]
		d.Reason = strings.TrimSpace(d.Reason)
		switch {
		case d.Category.Base() == 0:
			bad[FieldData] = "Velg kategori fra listen."
		case d.Reason == "":
			bad[FieldDataReason(i)] = "Skriv hvilke opplysninger det gjelder."
		case tooLong(d.Reason, maxLong):
			bad[FieldDataReason(i)] = tooLongMsg(maxLong)
		}
		for j := range d.Adjustments {
			adj := &d.Adjustments[j]
			adj.Reason = strings.TrimSpace(adj.Reason)
			switch {
			case adj.Delta == 0 || adj.Delta < -3 || adj.Delta > 3:
				bad[FieldAdjustment(i, j)] = "En justering er fra −3 til +3, og ikke 0."
			case adj.Reason == "":
				bad[FieldAdjustment(i, j)] = "Begrunn justeringen."
			}
		}
	}
	a.EIReason = strings.TrimSpace(a.EIReason)
	switch {
	case a.EI.Value() == 0:
		bad[FieldEI] = "Velg hvor lett de berørte kan identifiseres."
	case a.EIReason == "":
		bad[FieldEI] = "Begrunn hvor lett de berørte kan identifiseres."
	}
	for field, c := range map[string]*Circumstance{FieldConfidentiality: &a.Confidentiality,
		FieldIntegrity: &a.Integrity, FieldAvailability: &a.Availability} {
		c.Reason = strings.TrimSpace(c.Reason)
		switch {
		case c.Level < CB0 || c.Level > CB2:
			bad[field] = "Velg et nivå fra listen."
		case c.Level > CB0 && c.Reason == "":
			bad[field] = "Begrunn nivået."
		}
	}
	a.MaliciousReason = strings.TrimSpace(a.MaliciousReason)
	if a.Malicious && a.MaliciousReason == "" {
		bad[FieldMalicious] = "Begrunn hvorfor avviket var ondsinnet."
	}
	for k, v := range a.Factors.validate() {
		bad[k] = v
	}
	return bad
}

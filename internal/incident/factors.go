package incident

import "strings"

// Factor is one of the seed's risk factors with the assessor's reason (Rule AV-04).
type Factor struct {
	Present bool
	Reason  string
}

// Factors are the seed's questions for deciding whether to notify
// Datatilsynet (punkt 2.1), beside ENISA's score (Rule AV-04).
type Factors struct {
	SpecialCategories Factor // art. 9 data or ordinary data
	Persons           Approx // how many persons are affected
	ReputationalLoss  Factor
	IdentityTheft     Factor
	FinancialLoss     Factor
	Security          Factor // a security risk for those affected
	NeedsMeasures     Factor // whether measures to reduce the effects are important
	CauseNote         string // what caused the breach
	WhoGotAccess      string // who got or may have got access to the data
	// Unintelligible is set when the data were unintelligible to whoever got
	// them (strong encryption, key not compromised); ENISA flags it beside
	// the score, and it is the art. 34(3)(a) exception.
	Unintelligible Factor
}

// ManyPersonsThreshold is where ENISA's calculators flag the number of
// persons beside the score.
const ManyPersonsThreshold = 100

// Field names of the factors.
const (
	FieldSpecialCategories = "saerlige_kategorier"
	FieldPersonsCount      = "antall_personer"
	FieldReputationalLoss  = "omdommetap"
	FieldIdentityTheft     = "identitetstyveri"
	FieldFinancialLoss     = "okonomisk_tap"
	FieldSecurity          = "sikkerhetsrisiko"
	FieldNeedsMeasures     = "behov_for_tiltak"
	FieldCauseNote         = "arsak_vurdering"
	FieldWhoGotAccess      = "hvem_fikk_tilgang"
	FieldUnintelligible    = "uleselig"
)

// Flags are the notes ENISA puts beside the score, in Norwegian.
func (f Factors) Flags() []string {
	var out []string
	if f.Persons.Unknown || f.Persons.Max > ManyPersonsThreshold {
		out = append(out, "Mange berørte eller ukjent antall: vurder alvorlighetsgraden opp.")
	}
	if f.Unintelligible.Present {
		out = append(out, "Opplysningene var uleselige for uvedkommende: risikoen kan være lav.")
	}
	if f.SpecialCategories.Present {
		out = append(out, "Særlige kategorier av personopplysninger er berørt.")
	}
	return out
}

func (f *Factors) validate() map[string]string {
	bad := map[string]string{}
	for field, x := range map[string]*Factor{FieldSpecialCategories: &f.SpecialCategories,
		FieldReputationalLoss: &f.ReputationalLoss, FieldIdentityTheft: &f.IdentityTheft,
		FieldFinancialLoss: &f.FinancialLoss, FieldSecurity: &f.Security,
		FieldNeedsMeasures: &f.NeedsMeasures, FieldUnintelligible: &f.Unintelligible} {
		x.Reason = strings.TrimSpace(x.Reason)
		switch {
		case x.Reason == "":
			bad[field] = "Begrunn vurderingen."
		case tooLong(x.Reason, maxLong):
			bad[field] = tooLongMsg(maxLong)
		}
	}
	if !f.Persons.Valid() {
		bad[FieldPersonsCount] = "Oppgi et tall, et intervall (100–500) eller «ukjent»."
	}
	f.CauseNote, f.WhoGotAccess = strings.TrimSpace(f.CauseNote), strings.TrimSpace(f.WhoGotAccess)
	if f.CauseNote == "" {
		bad[FieldCauseNote] = "Beskriv hva som forårsaket avviket."
	}
	if f.WhoGotAccess == "" {
		bad[FieldWhoGotAccess] = "Beskriv hvem som har fått eller kan ha fått tilgang."
	}
	return bad
}

package register

import (
	_ "embed"
	"encoding/json"
	"fmt"
)

// Names of the embedded kodeverk, as NAV names its code lists where it has a name.
const (
	KodeverkArbeidsforholdstyper    = "Arbeidsforholdstyper"
	KodeverkRapporteringsordninger  = "Rapporteringsordninger"
	KodeverkArbeidstidsordninger    = "Arbeidstidsordninger"
	KodeverkAnsettelsesformer       = "Ansettelsesformer"
	KodeverkYrker                   = "Yrker"
	KodeverkSluttaarsaker           = "Sluttaarsaker"
	KodeverkPermisjonOgPermittering = "PermisjonsOgPermitteringsBeskrivelse"
	KodeverkLandkoder               = "LandkoderISO2"
	KodeverkFartsomraader           = "Fartsomraader"
	KodeverkSkipsregistre           = "Skipsregistre"
	KodeverkSkipstyper              = "Skipstyper"
	KodeverkVarslingskoder          = "Varslingskoder"
	KodeverkOrganisasjonsformer     = "Organisasjonsformer"
)

// Arbeidsforholdstyper codes.
const (
	TypeOrdinaer  = "ordinaertArbeidsforhold"
	TypeMaritim   = "maritimtArbeidsforhold"
	TypeForenklet = "forenkletOppgjoersordning"
	TypeFrilanser = "frilanserOppdragstakerHonorarPersonerMm"
)

// Rapporteringsordninger codes.
const (
	AOrdningen     = "A_ORDNINGEN"
	FoerAOrdningen = "FOER_A_ORDNINGEN"
)

//go:embed kodeverk.json
var kodeverkJSON []byte

// KodeverkSet is a read-only collection of named code lists.
type KodeverkSet struct {
	lists map[string][]Kode
	index map[string]map[string]string // list → kode → beskrivelse
}

// Kodeverk is the embedded code lists: a small subset of NAV's kodeverk with
// the values in research/aareg-api.md §2.4. It is parsed once and never changed.
var Kodeverk = mustParseKodeverk(kodeverkJSON)

func mustParseKodeverk(b []byte) *KodeverkSet {
	k, err := ParseKodeverk(b)
	if err != nil {
		panic(fmt.Sprintf("embedded kodeverk: %v", err))
	}
	return k
}

// ParseKodeverk reads code lists from JSON: {"ListName": [{"kode": …, "beskrivelse": …}, …], …}.
func ParseKodeverk(b []byte) (*KodeverkSet, error) {
	var lists map[string][]Kode
	if err := json.Unmarshal(b, &lists); err != nil {
		return nil, err
	}
	k := &KodeverkSet{lists: lists, index: make(map[string]map[string]string, len(lists))}
	for name, codes := range lists {
		m := make(map[string]string, len(codes))
		for _, c := range codes {
			if c.Kode == "" {
				return nil, fmt.Errorf("%s: empty kode", name)
			}
			if _, dup := m[c.Kode]; dup {
				return nil, fmt.Errorf("%s: kode %q twice", name, c.Kode)
			}
			m[c.Kode] = c.Beskrivelse
		}
		k.index[name] = m
	}
	return k, nil
}

// Lookup gives the code with its description, and whether the list has it.
func (k *KodeverkSet) Lookup(list, kode string) (Kode, bool) {
	b, ok := k.index[list][kode]
	return Kode{Kode: kode, Beskrivelse: b}, ok
}

// Values is the codes of a list, in file order. The caller must not change the slice.
func (k *KodeverkSet) Values(list string) []Kode { return k.lists[list] }

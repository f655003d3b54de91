package post

import (
	"fmt"
	"slices"
)

// Category is one of the ten service categories of digital post to
// businesses (Rule DPV-02); every message is sent in one. Its resource id
// is what a request names in correspondence.resourceId.
type Category string

// The ten categories (DPV terms §3; Altinn 2 service code 4255, editions 10 and 1–9).
const (
	CatAdministration Category = "administrasjon"
	CatPlanning       Category = "plan-bygg-geodata"
	CatHealth         Category = "helse-sosial-omsorg"
	CatEducation      Category = "oppvekst-utdanning"
	CatCulture        Category = "kultur-idrett-fritid"
	CatTransport      Category = "trafikk-reiser-samferdsel"
	CatEnvironment    Category = "natur-miljo"
	CatBusiness       Category = "naeringsutvikling"
	CatTaxes          Category = "skatter-avgifter"
	CatTechnical      Category = "tekniske-tjenester"
)

// ResourcePrefix begins every category's resource id: "dpv-administrasjon".
const ResourcePrefix = "dpv-"

// Categories lists the ten in the terms' order.
func Categories() []Category {
	return []Category{CatAdministration, CatPlanning, CatHealth, CatEducation, CatCulture, CatTransport,
		CatEnvironment, CatBusiness, CatTaxes, CatTechnical}
}

// ResourceID is the category's resource id in requests.
func (c Category) ResourceID() string { return ResourcePrefix + string(c) }

// ServiceEdition is the Altinn 2 service code and edition, "4255/10" for administration.
func (c Category) ServiceEdition() string {
	i := slices.Index(Categories(), c)
	if i == 0 {
		return "4255/10"
	}
	return fmt.Sprintf("4255/%d", i)
}

// Label is the category as the terms name it.
func (c Category) Label() string {
	names := map[Category]string{
		CatAdministration: "administrasjon", CatPlanning: "plan, bygg og geodata", CatHealth: "helse, sosial og omsorg",
		CatEducation: "oppvekst og utdanning", CatCulture: "kultur, idrett og fritid",
		CatTransport: "trafikk, reiser og samferdsel", CatEnvironment: "natur og miljø", CatBusiness: "næringsutvikling",
		CatTaxes: "skatter og avgifter", CatTechnical: "tekniske tjenester"}
	if n, ok := names[c]; ok {
		return "Post fra det offentlige innenfor " + n
	}
	return string(c)
}

// ParseCategory accepts a category's resource id ("dpv-administrasjon"),
// its name ("administrasjon") or its Altinn 2 service code ("4255/10").
func ParseCategory(s string) (Category, *Problem) {
	for _, c := range Categories() {
		if s == c.ResourceID() || s == string(c) || s == c.ServiceEdition() {
			return c, nil
		}
	}
	return "", problem(0, "correspondence.resourceId", fmt.Sprintf("Unknown resource %q: use one of the ten dpv-… categories", s),
		"Ukjent tjeneste: velg en av de ti meldingskategoriene.")
}

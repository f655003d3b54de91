package register

// Adressebeskyttelse grades, as Folkeregisteret names them. A person graded
// fortrolig ("kode 7") or strengtFortrolig ("kode 6") is never delivered to a
// consumer (Rule AA-11); the grade itself is confidential.
const (
	Ugradert         = "ugradert"
	Fortrolig        = "fortrolig"
	StrengtFortrolig = "strengtFortrolig"
)

// Person statuses, as Folkeregisteret names them (a subset).
var personStatuses = []string{"bosatt", "utflyttet", "doed", "forsvunnet", "opphoert", "inaktiv", "midlertidig", "ikkeBosatt"}

// Person is what the register keeps of a person: identity, name, protection and status.
// The real register takes these from Folkeregisteret.
type Person struct {
	Ident              string `json:"ident"`
	Fornavn            string `json:"fornavn"`
	Mellomnavn         string `json:"mellomnavn,omitempty"`
	Etternavn          string `json:"etternavn"`
	Adressebeskyttelse string `json:"adressebeskyttelse"`
	Status             string `json:"status"`
}

// Protected reports whether the person has a protected address and so must never be delivered (Rule AA-11).
func (p *Person) Protected() bool {
	return p.Adressebeskyttelse != Ugradert && p.Adressebeskyttelse != ""
}

// Navn is the full name.
func (p *Person) Navn() string {
	if p.Mellomnavn == "" {
		return p.Fornavn + " " + p.Etternavn
	}
	return p.Fornavn + " " + p.Mellomnavn + " " + p.Etternavn
}

package register

// Organisation is a unit of Enhetsregisteret: a Hovedenhet (the legal entity,
// opplysningspliktig in the register) or an Underenhet (a business unit, the
// arbeidssted) belonging to one Hovedenhet. JSON names follow Enhetsregisteret's
// open data.
type Organisation struct {
	Organisasjonsnummer string `json:"organisasjonsnummer"`
	Navn                string `json:"navn"`
	// Enhetstype is EnhetHovedenhet or EnhetUnderenhet.
	Enhetstype        string `json:"enhetstype"`
	Organisasjonsform *Kode  `json:"organisasjonsform,omitempty"`
	// OverordnetEnhet is the hovedenhet of an underenhet.
	OverordnetEnhet string `json:"overordnetEnhet,omitempty"`
	// Slettedato is the date the unit ceased; nil while it is active.
	Slettedato *Date `json:"slettedato,omitempty"`
}

// ActiveAt reports whether the organisation exists on the date.
func (o *Organisation) ActiveAt(at Date) bool {
	return o.Slettedato == nil || *o.Slettedato > at
}

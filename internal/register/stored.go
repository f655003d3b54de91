package register

// Doc is an arbeidsforhold as it is stored: its JSON bytes (without the code
// descriptions the kodeverk gives), with the identities it is about. The
// lookup paths project these bytes straight into an answer without decoding
// them, so the row travels as bytes from the store to the projection.
type Doc struct {
	UUID, Arbeidstaker, Arbeidssted, Opplysningspliktig string
	// PersonEmployer: the arbeidssted is a person (a private employer), whom screening checks too.
	PersonEmployer bool
	Doc            []byte
}

// DocPage is one page of stored documents, with the keyset cursor of the next
// page ("" on the last).
type DocPage struct {
	Docs []Doc
	Next string
}

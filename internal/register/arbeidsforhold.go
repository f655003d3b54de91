package register

// The arbeidsforhold model follows Aa-registeret's v2 model (research/aareg-api.md
// §2.1 and §2.2). JSON names are the real system's names, unchanged. Dates are
// kept as their wire strings: ISO dates sort and compare as strings, and
// Validate checks their form on the way in.

// Date is a calendar date, "yyyy-MM-dd".
type Date string

// YearMonth is a month, "yyyy-MM".
type YearMonth string

// DateTime is a local timestamp without zone, "yyyy-MM-ddTHH:mm:ss[.fff]", as the register writes it.
type DateTime string

// Kode is a code with its description (Kodeverksentitet).
type Kode struct {
	Kode        string `json:"kode"`
	Beskrivelse string `json:"beskrivelse,omitempty"`
}

// Ident types of Aa-registeret.
const (
	IdenttypeFolkeregisterident  = "FOLKEREGISTERIDENT"
	IdenttypeOrganisasjonsnummer = "ORGANISASJONSNUMMER"
	IdenttypeAktorID             = "AKTORID"
)

// Enhet types (the JSON discriminator "type" of arbeidssted and opplysningspliktig).
const (
	EnhetUnderenhet = "Underenhet"
	EnhetHovedenhet = "Hovedenhet"
	EnhetPerson     = "Person"
)

// Ident is one identifier of a person or an organisation.
type Ident struct {
	Type      string `json:"type"`
	Ident     string `json:"ident"`
	Gjeldende *bool  `json:"gjeldende,omitempty"`
}

// Arbeidstaker is the employee.
type Arbeidstaker struct {
	Identer []Ident `json:"identer"`
}

// Enhet is an arbeidssted (Underenhet or Person) or an opplysningspliktig (Hovedenhet or Person).
type Enhet struct {
	Type    string  `json:"type"`
	Identer []Ident `json:"identer"`
}

// Sporingsinformasjon is the technical trace of who created and changed a record.
type Sporingsinformasjon struct {
	OpprettetTidspunkt      DateTime `json:"opprettetTidspunkt,omitempty"`
	OpprettetAv             string   `json:"opprettetAv,omitempty"`
	OpprettetKilde          string   `json:"opprettetKilde,omitempty"`
	OpprettetKildereferanse string   `json:"opprettetKildereferanse,omitempty"`
	EndretTidspunkt         DateTime `json:"endretTidspunkt,omitempty"`
	EndretAv                string   `json:"endretAv,omitempty"`
	EndretKilde             string   `json:"endretKilde,omitempty"`
	EndretKildereferanse    string   `json:"endretKildereferanse,omitempty"`
}

// Ansettelsesperiode is the business period of the employment.
type Ansettelsesperiode struct {
	Startdato           Date                 `json:"startdato"`
	Sluttdato           *Date                `json:"sluttdato,omitempty"`
	Sluttaarsak         *Kode                `json:"sluttaarsak,omitempty"`
	Varsling            *Kode                `json:"varsling,omitempty"`
	Sporingsinformasjon *Sporingsinformasjon `json:"sporingsinformasjon,omitempty"`
}

// Rapporteringsmaaneder is the months an ansettelsesdetaljer version was reported for; Til nil means current.
type Rapporteringsmaaneder struct {
	Fra YearMonth  `json:"fra"`
	Til *YearMonth `json:"til"`
}

// Ansettelsesdetaljer types (polymorphic on "type").
const (
	DetaljerOrdinaer  = "Ordinaer"
	DetaljerMaritim   = "Maritim"
	DetaljerForenklet = "Forenklet"
	DetaljerFrilanser = "Frilanser"
)

// Ansettelsesdetaljer is one version of the position details, valid for some reporting months.
type Ansettelsesdetaljer struct {
	Type                         string                `json:"type"`
	Arbeidstidsordning           *Kode                 `json:"arbeidstidsordning,omitempty"`
	Ansettelsesform              *Kode                 `json:"ansettelsesform,omitempty"`
	Yrke                         *Kode                 `json:"yrke,omitempty"`
	AntallTimerPrUke             *float64              `json:"antallTimerPrUke,omitempty"`
	AvtaltStillingsprosent       *float64              `json:"avtaltStillingsprosent,omitempty"`
	SisteStillingsprosentendring *Date                 `json:"sisteStillingsprosentendring,omitempty"`
	SisteLoennsendring           *Date                 `json:"sisteLoennsendring,omitempty"`
	Rapporteringsmaaneder        Rapporteringsmaaneder `json:"rapporteringsmaaneder"`
	// Maritime only.
	Fartsomraade        *Kode                `json:"fartsomraade,omitempty"`
	Skipsregister       *Kode                `json:"skipsregister,omitempty"`
	Fartoeystype        *Kode                `json:"fartoeystype,omitempty"`
	Sporingsinformasjon *Sporingsinformasjon `json:"sporingsinformasjon,omitempty"`
}

// Bruksperiode is a technical validity period.
type Bruksperiode struct {
	Fom DateTime  `json:"fom"`
	Tom *DateTime `json:"tom,omitempty"`
}

// IDHistorikk is an earlier employer-side id of a merged record.
type IDHistorikk struct {
	ID           string        `json:"id"`
	Bruksperiode *Bruksperiode `json:"bruksperiode,omitempty"`
}

// Permisjon is a leave (permisjon) or a lay-off (permittering); both have this shape.
type Permisjon struct {
	ID                  string               `json:"id,omitempty"`
	Type                Kode                 `json:"type"`
	Startdato           Date                 `json:"startdato"`
	Sluttdato           *Date                `json:"sluttdato,omitempty"`
	Prosent             float64              `json:"prosent"`
	Varsling            *Kode                `json:"varsling,omitempty"`
	IDHistorikk         []IDHistorikk        `json:"idHistorikk,omitempty"`
	Sporingsinformasjon *Sporingsinformasjon `json:"sporingsinformasjon,omitempty"`
}

// TimerMedTimeloenn is hours paid by the hour in one reporting month.
type TimerMedTimeloenn struct {
	Antall              float64              `json:"antall"`
	Startdato           *Date                `json:"startdato,omitempty"`
	Sluttdato           *Date                `json:"sluttdato,omitempty"`
	Rapporteringsmaaned YearMonth            `json:"rapporteringsmaaned"`
	Sporingsinformasjon *Sporingsinformasjon `json:"sporingsinformasjon,omitempty"`
}

// Utenlandsopphold is a stay abroad reported for a month.
type Utenlandsopphold struct {
	Land                Kode                 `json:"land"`
	Startdato           *Date                `json:"startdato,omitempty"`
	Sluttdato           *Date                `json:"sluttdato,omitempty"`
	Rapporteringsmaaned YearMonth            `json:"rapporteringsmaaned"`
	Sporingsinformasjon *Sporingsinformasjon `json:"sporingsinformasjon,omitempty"`
}

// Varsel is a notice NAV attached to a part of the record.
type Varsel struct {
	Entitet  string `json:"entitet"`
	Varsling Kode   `json:"varsling"`
}

// Arbeidsforhold is one employment relationship. UUID is the external id.
type Arbeidsforhold struct {
	ID                   string                `json:"id,omitempty"`
	UUID                 string                `json:"uuid"`
	Type                 Kode                  `json:"type"`
	Arbeidstaker         Arbeidstaker          `json:"arbeidstaker"`
	Arbeidssted          Enhet                 `json:"arbeidssted"`
	Opplysningspliktig   Enhet                 `json:"opplysningspliktig"`
	Ansettelsesperiode   Ansettelsesperiode    `json:"ansettelsesperiode"`
	Ansettelsesdetaljer  []Ansettelsesdetaljer `json:"ansettelsesdetaljer"`
	Permisjoner          []Permisjon           `json:"permisjoner,omitempty"`
	Permitteringer       []Permisjon           `json:"permitteringer,omitempty"`
	TimerMedTimeloenn    []TimerMedTimeloenn   `json:"timerMedTimeloenn,omitempty"`
	Utenlandsopphold     []Utenlandsopphold    `json:"utenlandsopphold,omitempty"`
	IDHistorikk          []IDHistorikk         `json:"idHistorikk,omitempty"`
	Varsler              []Varsel              `json:"varsler,omitempty"`
	Rapporteringsordning Kode                  `json:"rapporteringsordning"`
	Opprettet            DateTime              `json:"opprettet"`
	SistBekreftet        DateTime              `json:"sistBekreftet"`
	SistEndret           DateTime              `json:"sistEndret,omitempty"`
	Sporingsinformasjon  *Sporingsinformasjon  `json:"sporingsinformasjon,omitempty"`
}

// ArbeidstakerIdent is the current folkeregisterident of the employee ("" if none).
func (a *Arbeidsforhold) ArbeidstakerIdent() string { return currentIdent(a.Arbeidstaker.Identer) }

// ArbeidsstedIdent is the arbeidssted's current identifier (orgnr, or a person's ident).
func (a *Arbeidsforhold) ArbeidsstedIdent() string { return currentIdent(a.Arbeidssted.Identer) }

// OpplysningspliktigIdent is the opplysningspliktig's current identifier.
func (a *Arbeidsforhold) OpplysningspliktigIdent() string {
	return currentIdent(a.Opplysningspliktig.Identer)
}

// currentIdent picks the identifier a lookup matches on: the current
// FOLKEREGISTERIDENT or ORGANISASJONSNUMMER; an AKTORID is never used outside NAV.
func currentIdent(ids []Ident) string {
	found := ""
	for _, id := range ids {
		if id.Type == IdenttypeAktorID {
			continue
		}
		if id.Gjeldende == nil || *id.Gjeldende {
			return id.Ident
		}
		if found == "" {
			found = id.Ident
		}
	}
	return found
}

// GjeldendeDetaljer is the current ansettelsesdetaljer version: the one whose
// rapporteringsmaaneder has no end, else the one reported most recently.
func (a *Arbeidsforhold) GjeldendeDetaljer() *Ansettelsesdetaljer {
	var best *Ansettelsesdetaljer
	for i := range a.Ansettelsesdetaljer {
		d := &a.Ansettelsesdetaljer[i]
		if d.Rapporteringsmaaneder.Til == nil {
			return d
		}
		if best == nil || d.Rapporteringsmaaneder.Fra > best.Rapporteringsmaaneder.Fra {
			best = d
		}
	}
	return best
}

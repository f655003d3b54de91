package register

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"deling/internal/ident"
)

// Env is the kind of instance: a test environment holds synthetic data only
// (Rule AA-14); production holds real data.
type Env string

// The two environments.
const (
	EnvTest Env = "test"
	EnvProd Env = "prod"
)

// ParseEnv accepts "test" or "prod".
func ParseEnv(s string) (Env, error) {
	switch e := Env(s); e {
	case EnvTest, EnvProd:
		return e, nil
	}
	return "", fmt.Errorf("unknown environment %q (want test or prod)", s)
}

// Refusal says why an environment does not take an identifier (Rule AA-14),
// or Admitted. It is the one rule for both environments, used wherever an
// identifier arrives (the API, the portal, extracts, import):
//   - a test environment takes synthetic identities and organisation numbers only;
//   - production takes real ones only: no synthetic number of either style
//     (Tenor, month + 80; NAV, month + 40 — in production a month + 40 number
//     is an H-nummer), no FH-nummer, no synthetic organisation number.
type Refusal int

// The refusals.
const (
	Admitted        Refusal = iota
	RealInTest              // a real identity or organisation number in a test environment
	SyntheticInProd         // a synthetic identity or organisation number in production
	HNummerInProd           // an H-nummer (FH-nummer) in production: never a register identity
)

// AdmitPerson applies the environment's rule to a person identity.
func (e Env) AdmitPerson(p ident.Person) Refusal {
	switch {
	case e == EnvTest && !p.IsSynthetic():
		return RealInTest
	case e == EnvProd && p.Kind() == ident.KindHNummer:
		return HNummerInProd
	case e == EnvProd && p.IsSynthetic():
		return SyntheticInProd
	}
	return Admitted
}

// AdmitOrgnr applies the environment's rule to an organisation number.
func (e Env) AdmitOrgnr(o ident.Orgnr) Refusal {
	switch {
	case e == EnvTest && !o.IsSynthetic():
		return RealInTest
	case e == EnvProd && o.IsSynthetic():
		return SyntheticInProd
	}
	return Admitted
}

// Problem is one thing wrong with a record: the JSON path of the field and why.
// Reasons never repeat an identifier's value, so problems are safe to log.
type Problem struct {
	Field  string `json:"field"`
	Reason string `json:"reason"`
}

// ValidationError lists every problem found in one record.
type ValidationError struct {
	Problems []Problem
}

func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		parts[i] = p.Field + ": " + p.Reason
	}
	return strings.Join(parts, "; ")
}

// checker collects problems while a record is walked.
type checker struct {
	env      Env
	problems []Problem
}

func (c *checker) add(field, format string, args ...any) {
	c.problems = append(c.problems, Problem{Field: field, Reason: fmt.Sprintf(format, args...)})
}

func (c *checker) err() error {
	if len(c.problems) == 0 {
		return nil
	}
	return &ValidationError{Problems: c.problems}
}

// person checks a person identifier by the environment's rule (Env.AdmitPerson, Rule AA-14).
func (c *checker) person(field, s string) {
	p, err := ident.ParsePerson(s)
	switch {
	case err != nil:
		c.add(field, "%s", strings.TrimPrefix(err.Error(), "ident: "))
	default:
		switch c.env.AdmitPerson(p) {
		case RealInTest:
			c.add(field, "not a synthetic identity; a test environment holds synthetic data only (AA-14)")
		case SyntheticInProd:
			c.add(field, "a synthetic identity (or, month + 40, an H-nummer); production holds real identities only (AA-14)")
		case HNummerInProd:
			c.add(field, "an H-nummer is not a register identity")
		}
	}
}

// orgnr checks an organisation number (or, where legacy is true, an employer number from before a-ordningen).
func (c *checker) orgnr(field, s string, legacy bool) {
	o, err := ident.ParseOrgnr(s)
	if err != nil {
		if legacy {
			if _, lerr := ident.ParseLegacyEmployer(s); lerr == nil {
				return
			}
		}
		c.add(field, "%s", strings.TrimPrefix(err.Error(), "ident: "))
		return
	}
	switch c.env.AdmitOrgnr(o) {
	case RealInTest:
		c.add(field, "not a synthetic organisation number; a test environment holds synthetic data only (AA-14)")
	case SyntheticInProd:
		if _, lerr := ident.ParseLegacyEmployer(s); legacy && lerr == nil {
			return // a legacy employer number that happens to pass the check digit
		}
		c.add(field, "a synthetic organisation number; production holds real data only (AA-14)")
	}
}

func (c *checker) date(field string, d Date) {
	if err := checkDate(d); err != nil {
		c.add(field, "%v", err)
	}
}

func (c *checker) optDate(field string, d *Date) {
	if d != nil {
		c.date(field, *d)
	}
}

func (c *checker) month(field string, m YearMonth) {
	if _, err := time.Parse("2006-01", string(m)); err != nil || len(m) != 7 {
		c.add(field, "want a month yyyy-MM")
	}
}

func (c *checker) dateTime(field string, d DateTime, required bool) {
	if d == "" {
		if required {
			c.add(field, "required")
		}
		return
	}
	if _, err := ParseDateTime(d); err != nil {
		c.add(field, "want a timestamp yyyy-MM-ddTHH:mm:ss")
	}
}

// kode checks a code against its kodeverk and fills in the description.
func (c *checker) kode(field, list string, k *Kode) {
	if k == nil {
		return
	}
	known, ok := Kodeverk.Lookup(list, k.Kode)
	if !ok {
		c.add(field, "unknown code %q in %s", k.Kode, list)
		return
	}
	if k.Beskrivelse == "" {
		k.Beskrivelse = known.Beskrivelse
	}
}

func (c *checker) percent(field string, p *float64) {
	if p != nil && (*p < 0 || *p > 100) {
		c.add(field, "%g out of range 0-100", *p)
	}
}

func (c *checker) period(field string, start Date, end *Date) {
	if end != nil && *end < start && checkDate(start) == nil && checkDate(*end) == nil {
		c.add(field, "sluttdato is before startdato")
	}
}

func (c *checker) text(field, s string, required bool, max int) {
	switch {
	case required && strings.TrimSpace(s) == "":
		c.add(field, "required")
	case len(s) > max:
		c.add(field, "longer than %d bytes", max)
	}
}

func checkDate(d Date) error {
	if len(d) != 10 {
		return fmt.Errorf("want a date yyyy-MM-dd")
	}
	if _, err := time.Parse(time.DateOnly, string(d)); err != nil {
		return fmt.Errorf("want a valid date yyyy-MM-dd")
	}
	return nil
}

// ParseDateTime reads the register's local timestamps (no zone, optional fraction).
func ParseDateTime(d DateTime) (time.Time, error) {
	return time.Parse("2006-01-02T15:04:05.999999999", string(d))
}

// detaljerTypeFor is the ansettelsesdetaljer type each arbeidsforholdtype carries.
var detaljerTypeFor = map[string]string{
	TypeOrdinaer:  DetaljerOrdinaer,
	TypeMaritim:   DetaljerMaritim,
	TypeForenklet: DetaljerForenklet,
	TypeFrilanser: DetaljerFrilanser,
}

// Validate checks every field of the arbeidsforhold, fills in code descriptions
// from the kodeverk and normalises the uuid. It returns a *ValidationError
// listing every problem, or nil.
func (a *Arbeidsforhold) Validate(env Env) error {
	c := &checker{env: env}
	if u, err := uuid.Parse(a.UUID); err != nil || len(a.UUID) != 36 {
		c.add("uuid", "want a UUID like 3f1c…-…")
	} else {
		a.UUID = u.String()
	}
	c.text("id", a.ID, false, 100)
	c.kode("type", KodeverkArbeidsforholdstyper, &a.Type)
	c.kode("rapporteringsordning", KodeverkRapporteringsordninger, &a.Rapporteringsordning)
	legacy := a.Rapporteringsordning.Kode == FoerAOrdningen

	if len(a.Arbeidstaker.Identer) == 0 {
		c.add("arbeidstaker.identer", "required")
	}
	for i, id := range a.Arbeidstaker.Identer {
		f := fmt.Sprintf("arbeidstaker.identer[%d]", i)
		if id.Type != IdenttypeFolkeregisterident {
			c.add(f+".type", "want %s", IdenttypeFolkeregisterident)
			continue
		}
		c.person(f+".ident", id.Ident)
	}
	c.enhet("arbeidssted", a.Arbeidssted, EnhetUnderenhet, legacy)
	c.enhet("opplysningspliktig", a.Opplysningspliktig, EnhetHovedenhet, legacy)
	if a.Type.Kode == TypeForenklet && a.Arbeidssted.Type != EnhetPerson {
		c.add("arbeidssted.type", "forenklet oppgjørsordning has a person as arbeidssted")
	}

	p := &a.Ansettelsesperiode
	c.date("ansettelsesperiode.startdato", p.Startdato)
	c.optDate("ansettelsesperiode.sluttdato", p.Sluttdato)
	c.period("ansettelsesperiode", p.Startdato, p.Sluttdato)
	c.kode("ansettelsesperiode.sluttaarsak", KodeverkSluttaarsaker, p.Sluttaarsak)
	c.kode("ansettelsesperiode.varsling", KodeverkVarslingskoder, p.Varsling)
	if p.Sluttaarsak != nil && p.Sluttdato == nil {
		c.add("ansettelsesperiode.sluttaarsak", "given without sluttdato")
	}

	if len(a.Ansettelsesdetaljer) == 0 {
		c.add("ansettelsesdetaljer", "at least one is required")
	}
	open := 0
	wantType := detaljerTypeFor[a.Type.Kode]
	for i := range a.Ansettelsesdetaljer {
		d := &a.Ansettelsesdetaljer[i]
		f := fmt.Sprintf("ansettelsesdetaljer[%d]", i)
		if wantType != "" && d.Type != wantType {
			c.add(f+".type", "want %s for %s", wantType, a.Type.Kode)
		}
		c.kode(f+".arbeidstidsordning", KodeverkArbeidstidsordninger, d.Arbeidstidsordning)
		c.kode(f+".ansettelsesform", KodeverkAnsettelsesformer, d.Ansettelsesform)
		if d.Yrke != nil {
			if !isDigits(d.Yrke.Kode, 7) {
				c.add(f+".yrke", "want a 7-digit yrkeskode")
			} else if known, ok := Kodeverk.Lookup(KodeverkYrker, d.Yrke.Kode); ok && d.Yrke.Beskrivelse == "" {
				d.Yrke.Beskrivelse = known.Beskrivelse
			}
		}
		c.percent(f+".avtaltStillingsprosent", d.AvtaltStillingsprosent)
		if d.AntallTimerPrUke != nil && (*d.AntallTimerPrUke < 0 || *d.AntallTimerPrUke > 168) {
			c.add(f+".antallTimerPrUke", "%g out of range 0-168", *d.AntallTimerPrUke)
		}
		c.optDate(f+".sisteStillingsprosentendring", d.SisteStillingsprosentendring)
		c.optDate(f+".sisteLoennsendring", d.SisteLoennsendring)
		r := d.Rapporteringsmaaneder
		c.month(f+".rapporteringsmaaneder.fra", r.Fra)
		if r.Til == nil {
			open++
		} else {
			c.month(f+".rapporteringsmaaneder.til", *r.Til)
			if *r.Til < r.Fra {
				c.add(f+".rapporteringsmaaneder", "til is before fra")
			}
		}
		maritime := d.Fartsomraade != nil || d.Skipsregister != nil || d.Fartoeystype != nil
		switch {
		case d.Type == DetaljerMaritim && (d.Fartsomraade == nil || d.Skipsregister == nil || d.Fartoeystype == nil):
			c.add(f, "a maritime arbeidsforhold needs fartsomraade, skipsregister and fartoeystype")
		case d.Type != DetaljerMaritim && maritime:
			c.add(f, "maritime fields on a %s arbeidsforhold", d.Type)
		}
		c.kode(f+".fartsomraade", KodeverkFartsomraader, d.Fartsomraade)
		c.kode(f+".skipsregister", KodeverkSkipsregistre, d.Skipsregister)
		c.kode(f+".fartoeystype", KodeverkSkipstyper, d.Fartoeystype)
	}
	if open > 1 {
		c.add("ansettelsesdetaljer", "%d versions have no rapporteringsmaaneder.til; at most one is current", open)
	}

	for _, l := range []struct {
		name string
		list []Permisjon
	}{{"permisjoner", a.Permisjoner}, {"permitteringer", a.Permitteringer}} {
		for i := range l.list {
			pm := &l.list[i]
			f := fmt.Sprintf("%s[%d]", l.name, i)
			c.kode(f+".type", KodeverkPermisjonOgPermittering, &pm.Type)
			c.date(f+".startdato", pm.Startdato)
			c.optDate(f+".sluttdato", pm.Sluttdato)
			c.period(f, pm.Startdato, pm.Sluttdato)
			c.percent(f+".prosent", &pm.Prosent)
			c.kode(f+".varsling", KodeverkVarslingskoder, pm.Varsling)
		}
	}
	for i, t := range a.TimerMedTimeloenn {
		f := fmt.Sprintf("timerMedTimeloenn[%d]", i)
		if t.Antall < 0 || t.Antall > 744 {
			c.add(f+".antall", "%g out of range 0-744", t.Antall)
		}
		c.month(f+".rapporteringsmaaned", t.Rapporteringsmaaned)
		c.optDate(f+".startdato", t.Startdato)
		c.optDate(f+".sluttdato", t.Sluttdato)
	}
	for i := range a.Utenlandsopphold {
		u := &a.Utenlandsopphold[i]
		f := fmt.Sprintf("utenlandsopphold[%d]", i)
		c.kode(f+".land", KodeverkLandkoder, &u.Land)
		c.month(f+".rapporteringsmaaned", u.Rapporteringsmaaned)
		c.optDate(f+".startdato", u.Startdato)
		c.optDate(f+".sluttdato", u.Sluttdato)
	}
	for i := range a.Varsler {
		v := &a.Varsler[i]
		f := fmt.Sprintf("varsler[%d]", i)
		switch v.Entitet {
		case "Arbeidsforhold", "Ansettelsesperiode", "Permisjon", "Permittering":
		default:
			c.add(f+".entitet", "want Arbeidsforhold, Ansettelsesperiode, Permisjon or Permittering")
		}
		c.kode(f+".varsling", KodeverkVarslingskoder, &v.Varsling)
	}
	for i, h := range a.IDHistorikk {
		c.text(fmt.Sprintf("idHistorikk[%d].id", i), h.ID, true, 100)
	}
	c.dateTime("opprettet", a.Opprettet, true)
	c.dateTime("sistBekreftet", a.SistBekreftet, true)
	c.dateTime("sistEndret", a.SistEndret, false)
	return c.err()
}

func (c *checker) enhet(field string, e Enhet, orgType string, legacy bool) {
	if len(e.Identer) == 0 {
		c.add(field+".identer", "required")
		return
	}
	for i, id := range e.Identer {
		f := fmt.Sprintf("%s.identer[%d]", field, i)
		switch {
		case e.Type == orgType && id.Type == IdenttypeOrganisasjonsnummer:
			c.orgnr(f+".ident", id.Ident, legacy)
		case e.Type == EnhetPerson && id.Type == IdenttypeFolkeregisterident:
			c.person(f+".ident", id.Ident)
		case e.Type != orgType && e.Type != EnhetPerson:
			c.add(field+".type", "want %s or %s", orgType, EnhetPerson)
			return
		default:
			c.add(f+".type", "an identifier of type %q does not fit a %s", id.Type, e.Type)
		}
	}
}

// Validate checks a person and fills in defaults (ugradert, bosatt).
func (p *Person) Validate(env Env) error {
	c := &checker{env: env}
	c.person("ident", p.Ident)
	c.text("fornavn", p.Fornavn, true, 200)
	c.text("mellomnavn", p.Mellomnavn, false, 200)
	c.text("etternavn", p.Etternavn, true, 200)
	switch p.Adressebeskyttelse {
	case "":
		p.Adressebeskyttelse = Ugradert
	case Ugradert, Fortrolig, StrengtFortrolig:
	default:
		c.add("adressebeskyttelse", "want ugradert, fortrolig or strengtFortrolig")
	}
	if p.Status == "" {
		p.Status = "bosatt"
	} else if !slices.Contains(personStatuses, p.Status) {
		c.add("status", "unknown personstatus %q", p.Status)
	}
	return c.err()
}

// Validate checks an organisation and fills in code descriptions.
func (o *Organisation) Validate(env Env) error {
	c := &checker{env: env}
	c.orgnr("organisasjonsnummer", o.Organisasjonsnummer, false)
	c.text("navn", o.Navn, true, 500)
	switch o.Enhetstype {
	case EnhetHovedenhet:
		if o.OverordnetEnhet != "" {
			c.add("overordnetEnhet", "a hovedenhet has no overordnet enhet")
		}
	case EnhetUnderenhet:
		if o.OverordnetEnhet == "" {
			c.add("overordnetEnhet", "an underenhet belongs to a hovedenhet")
		} else {
			c.orgnr("overordnetEnhet", o.OverordnetEnhet, false)
		}
	default:
		c.add("enhetstype", "want Hovedenhet or Underenhet")
	}
	c.kode("organisasjonsform", KodeverkOrganisasjonsformer, o.Organisasjonsform)
	c.optDate("slettedato", o.Slettedato)
	return c.err()
}

func isDigits(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

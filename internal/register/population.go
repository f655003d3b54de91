package register

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"time"

	"deling/internal/ident"
)

// PopulationConfig sets the size and randomness of a synthetic population.
type PopulationConfig struct {
	Persons int
	Seed    uint64
	// AsOf is the population's "today": what is current, ended or future is
	// relative to it. The same (Persons, Seed, AsOf) always gives the same data.
	AsOf Date
}

// Population is a deterministic synthetic register: organisations of every
// size, and for each person index the person and their arbeidsforhold. Only
// synthetic identities are used (Tenor style, month+80; Rule AA-14). Persons are
// generated independently of each other from (Seed, index), so callers can
// generate them in parallel and in any order, with memory bounded by the
// organisation table (about one organisation per 15 persons).
type Population struct {
	cfg       PopulationConfig
	asOf      time.Time
	orgs      []Organisation
	employers []employer // underenheter that employ
	cum       []float64  // cumulative weights over employers
	maritime  []int      // indexes into employers of shipping companies
	birthDays int
}

type employer struct {
	orgnr, parent string
	ceased        *time.Time
}

// Earliest and latest birth dates of the synthetic persons.
var (
	firstBirth = time.Date(1950, 1, 1, 0, 0, 0, 0, time.UTC)
	lastBirth  = time.Date(2007, 12, 31, 0, 0, 0, 0, time.UTC)
	aOrdningen = time.Date(2015, 1, 1, 0, 0, 0, 0, time.UTC)
)

// NewPopulation builds the organisation table for a population.
func NewPopulation(cfg PopulationConfig) (*Population, error) {
	if cfg.Persons < 1 {
		return nil, fmt.Errorf("persons must be at least 1, got %d", cfg.Persons)
	}
	if cfg.Persons > 8_000_000 {
		return nil, fmt.Errorf("persons must be at most 8,000,000 (synthetic numbers per birth date run out), got %d", cfg.Persons)
	}
	asOf, err := time.Parse(time.DateOnly, string(cfg.AsOf))
	if err != nil {
		return nil, fmt.Errorf("as-of date: want yyyy-MM-dd")
	}
	p := &Population{cfg: cfg, asOf: asOf}
	p.birthDays = int(lastBirth.Sub(firstBirth).Hours()/24) + 1
	p.buildOrganisations()
	return p, nil
}

// Persons is the number of persons.
func (p *Population) Persons() int { return p.cfg.Persons }

// Organisations is every hovedenhet and underenhet. The caller must not change it.
func (p *Population) Organisations() []Organisation { return p.orgs }

// Expected arbeidsforhold per person (see afCount) and mean employer weight
// (see sizeClass); they set how many employers a population has.
const (
	meanAFPerPerson = 1.4
	meanWeight      = 33.6
)

func (p *Population) buildOrganisations() {
	rng := rand.New(rand.NewPCG(p.cfg.Seed, 0x6f7267)) // "org"
	persons := p.cfg.Persons
	huge := persons / 100_000 // employers with 10,000+ arbeidsforhold
	total := float64(persons) * meanAFPerPerson
	target := max(3, int((total-float64(huge)*15_000)/meanWeight))

	n := 0 // SyntheticOrgnr counter
	next := func() string { n++; return string(ident.SyntheticOrgnr(n)) }
	var weights []float64
	addHoved := func(units int, shipping bool, bigWeight float64) {
		form := []string{"AS", "AS", "AS", "ASA", "ENK", "KOMM", "STAT", "ORGL", "SA", "STI"}[rng.IntN(10)]
		if shipping {
			form = "AS"
		}
		h := Organisation{
			Organisasjonsnummer: next(),
			Navn:                companyName(rng, shipping),
			Enhetstype:          EnhetHovedenhet,
			Organisasjonsform:   &Kode{Kode: form},
		}
		var ceased *time.Time
		if rng.Float64() < 0.04 { // ceased companies, and their units with them
			c := time.Date(2010, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, rng.IntN(int(p.asOf.Sub(time.Date(2010, 2, 1, 0, 0, 0, 0, time.UTC)).Hours()/24)))
			ceased = &c
			d := Date(c.Format(time.DateOnly))
			h.Slettedato = &d
		}
		h.Organisasjonsform, _ = ptr(Kodeverk.Lookup(KodeverkOrganisasjonsformer, form))
		p.orgs = append(p.orgs, h)
		for u := 0; u < units; u++ {
			sub := Organisation{
				Organisasjonsnummer: next(),
				Navn:                h.Navn + " " + unitSuffix[rng.IntN(len(unitSuffix))],
				Enhetstype:          EnhetUnderenhet,
				OverordnetEnhet:     h.Organisasjonsnummer,
				Slettedato:          h.Slettedato,
			}
			sub.Organisasjonsform, _ = ptr(Kodeverk.Lookup(KodeverkOrganisasjonsformer, "BEDR"))
			uc := ceased
			if uc == nil && rng.Float64() < 0.02 { // a unit closed down on its own
				c := p.asOf.AddDate(0, 0, -30-rng.IntN(3000))
				uc = &c
				d := Date(c.Format(time.DateOnly))
				sub.Slettedato = &d
			}
			p.orgs = append(p.orgs, sub)
			w := bigWeight
			if w == 0 || u > 0 {
				w = sizeClass(rng)
			}
			if shipping {
				p.maritime = append(p.maritime, len(p.employers))
			}
			p.employers = append(p.employers, employer{orgnr: sub.Organisasjonsnummer, parent: h.Organisasjonsnummer, ceased: uc})
			weights = append(weights, w)
		}
	}
	for i := 0; i < huge; i++ {
		// A large public employer: one huge unit and a few ordinary ones; never ceased.
		before := len(p.orgs)
		addHoved(1+rng.IntN(4), false, float64(12_000+rng.IntN(8_000)))
		p.orgs[before].Slettedato = nil
		p.orgs[before].Navn = kommuneName(i)
		p.orgs[before].Organisasjonsform, _ = ptr(Kodeverk.Lookup(KodeverkOrganisasjonsformer, "KOMM"))
		for j := before + 1; j < len(p.orgs); j++ {
			p.orgs[j].Slettedato = nil
			p.orgs[j].Navn = p.orgs[before].Navn + " " + unitSuffix[(j-before)%len(unitSuffix)]
			p.employers[len(p.employers)-(len(p.orgs)-j)].ceased = nil
		}
	}
	for len(p.employers) < target+huge || len(p.maritime) < 2 {
		units := 1
		switch r := rng.Float64(); {
		case r < 0.02:
			units = 6 + rng.IntN(30)
		case r < 0.20:
			units = 2 + rng.IntN(4)
		}
		addHoved(units, len(p.maritime) < 2 || rng.Float64() < 0.01, 0)
	}
	p.cum = make([]float64, len(weights))
	sum := 0.0
	for i, w := range weights {
		sum += w
		p.cum[i] = sum
	}
}

// sizeClass draws an employer's weight: its expected number of arbeidsforhold.
// Many employers have 1–4 (Rule AA-10 is about exactly these), a few have thousands.
func sizeClass(rng *rand.Rand) float64 {
	switch r := rng.Float64(); {
	case r < 0.55:
		return float64(1 + rng.IntN(4))
	case r < 0.85:
		return float64(5 + rng.IntN(15))
	case r < 0.97:
		return float64(20 + rng.IntN(80))
	case r < 0.998:
		return float64(100 + rng.IntN(900))
	default:
		return float64(1000 + rng.IntN(4000))
	}
}

func ptr(k Kode, ok bool) (*Kode, bool) { return &k, ok }

func (p *Population) pick(rng *rand.Rand, maritime bool) employer {
	if maritime {
		return p.employers[p.maritime[rng.IntN(len(p.maritime))]]
	}
	x := rng.Float64() * p.cum[len(p.cum)-1]
	return p.employers[sort.SearchFloat64s(p.cum, x)]
}

// personRand is the random source of person i: independent of every other person.
func (p *Population) personRand(i int) *rand.Rand {
	return rand.New(rand.NewPCG(p.cfg.Seed, uint64(i)*0x9E3779B97F4A7C15+1))
}

// PersonIdent is the synthetic identity of person i, without generating the person.
// About 4 % of persons have a D-nummer.
func (p *Population) PersonIdent(i int) string {
	birth := firstBirth.AddDate(0, 0, i%p.birthDays)
	d := (uint64(i)*0x2545F4914F6CDD1D+p.cfg.Seed)%100 < 4
	id, err := ident.SyntheticPerson(birth, i/p.birthDays, ident.SyntheticTenor, d)
	if err != nil {
		panic(fmt.Sprintf("synthetic identity %d: %v", i, err)) // NewPopulation bounds Persons so this cannot happen
	}
	return id.String()
}

// Person generates person i (0 ≤ i < Persons) and their arbeidsforhold.
func (p *Population) Person(i int) (Person, []Arbeidsforhold) {
	rng := p.personRand(i)
	birth := firstBirth.AddDate(0, 0, i%p.birthDays)
	per := Person{
		Ident:              p.PersonIdent(i),
		Fornavn:            firstNames[rng.IntN(len(firstNames))],
		Etternavn:          lastNames[rng.IntN(len(lastNames))],
		Adressebeskyttelse: Ugradert,
		Status:             "bosatt",
	}
	if rng.IntN(5) == 0 {
		per.Mellomnavn = lastNames[rng.IntN(len(lastNames))]
	}
	switch r := rng.Float64(); { // Rule AA-11: about 0.5 % have a protected address
	case r < 0.004:
		per.Adressebeskyttelse = Fortrolig
	case r < 0.005:
		per.Adressebeskyttelse = StrengtFortrolig
	}
	dead := false
	switch r := rng.Float64(); {
	case r < 0.005:
		per.Status, dead = "doed", true
	case r < 0.015:
		per.Status = "utflyttet"
	}

	earliest := birth.AddDate(16, 0, 0)
	if earliest.Before(time.Date(1995, 1, 1, 0, 0, 0, 0, time.UTC)) {
		earliest = time.Date(1995, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, rng.IntN(2000))
	}
	if !earliest.Before(p.asOf) {
		return per, nil
	}
	k := afCount(rng)
	var afs []Arbeidsforhold
	cursor := earliest
	for j := 0; j < k; j++ {
		start := cursor.AddDate(0, 0, rng.IntN(900))
		if j > 0 && rng.Float64() < 0.2 && len(afs) > 0 { // a second job alongside an earlier one
			prev := afs[len(afs)-1]
			s, _ := time.Parse(time.DateOnly, string(prev.Ansettelsesperiode.Startdato))
			start = s.AddDate(0, 0, 30+rng.IntN(300))
		}
		if !start.Before(p.asOf) {
			break
		}
		var end *time.Time
		last := j == k-1
		if !last || dead || rng.Float64() < 0.15 {
			e := start.AddDate(0, 0, 60+rng.IntN(2000))
			if e.After(p.asOf) {
				e = p.asOf.AddDate(0, 0, -1-rng.IntN(30))
			}
			if e.Before(start) {
				e = start
			}
			end = &e
			cursor = e.AddDate(0, 0, rng.IntN(180))
		} else {
			cursor = start
		}
		af, ok := p.arbeidsforhold(rng, i, per.Ident, start, end)
		if ok {
			afs = append(afs, af)
		}
	}
	if !dead && len(afs) > 0 && afs[len(afs)-1].Ansettelsesperiode.Sluttdato == nil && rng.Float64() < 0.08 {
		// A second job held at the same time as the current one.
		start := p.asOf.AddDate(0, 0, -1-rng.IntN(1500))
		if start.Before(earliest) {
			start = earliest
		}
		if af, ok := p.arbeidsforhold(rng, i, per.Ident, start, nil); ok {
			afs = append(afs, af)
		}
	}
	if !dead && rng.Float64() < 0.02 { // a job that has not started yet
		start := p.asOf.AddDate(0, 0, 1+rng.IntN(90))
		if af, ok := p.arbeidsforhold(rng, i, per.Ident, start, nil); ok {
			afs = append(afs, af)
		}
	}
	return per, afs
}

// afCount draws how many arbeidsforhold a person has had (mean about 1.4).
func afCount(rng *rand.Rand) int {
	switch r := rng.Float64(); {
	case r < 0.12:
		return 0
	case r < 0.62:
		return 1
	case r < 0.87:
		return 2
	case r < 0.97:
		return 3
	default:
		return 4
	}
}

func day(t time.Time) Date        { return Date(t.Format(time.DateOnly)) }
func month(t time.Time) YearMonth { return YearMonth(t.Format("2006-01")) }
func stamp(t time.Time) DateTime  { return DateTime(t.Format("2006-01-02T15:04:05")) }

func kode(list, k string) Kode {
	c, ok := Kodeverk.Lookup(list, k)
	if !ok {
		panic("synthetic population uses unknown code " + list + "/" + k)
	}
	return c
}

func kodeP(list, k string) *Kode { c := kode(list, k); return &c }

var (
	yrkerOrdinaer  = []string{"2223101", "5321101", "2512102", "2330101", "2341101", "5223102", "7126101", "7411101", "8322101", "8332101", "3313101", "4110101", "2411101", "5120101", "9112101", "7115101", "1120101", "5311101", "2635101", "1210147"}
	yrkerMaritim   = []string{"3152101", "8350101", "3151101"}
	yrkerFrilanser = []string{"0110101", "3412101"}
	sluttaarsaker  = []string{"arbeidsgiverHarSagtOppArbeidstaker", "arbeidstakerHarSagtOppSelv", "kontraktEngasjementEllerVikariatErUtloept", "endringIOrganisasjonsstrukturEllerByttetJobbInternt", "byttetLoenssystemEllerRegnskapsfoerer"}
	landkoder      = []string{"SE", "DK", "DE", "PL", "GB", "US", "ES", "SG"}
)

// arbeidsforhold makes one record for person i from start to end (nil: open).
func (p *Population) arbeidsforhold(rng *rand.Rand, i int, person string, start time.Time, end *time.Time) (Arbeidsforhold, bool) {
	typ := TypeOrdinaer
	switch r := rng.Float64(); {
	case r < 0.03:
		typ = TypeMaritim
	case r < 0.10:
		typ = TypeFrilanser
	case r < 0.11:
		typ = TypeForenklet
	}
	a := Arbeidsforhold{
		Type:         kode(KodeverkArbeidsforholdstyper, typ),
		Arbeidstaker: Arbeidstaker{Identer: []Ident{{Type: IdenttypeFolkeregisterident, Ident: person}}},
	}
	var forced bool // the end date was set because the employer ceased
	if typ == TypeForenklet {
		// A private household employs (forenklet oppgjørsordning): the employer is a person.
		j := rng.IntN(p.cfg.Persons)
		if j == i {
			j = (j + 1) % p.cfg.Persons
		}
		if j == i {
			return a, false
		}
		emp := p.PersonIdent(j)
		a.Arbeidssted = Enhet{Type: EnhetPerson, Identer: []Ident{{Type: IdenttypeFolkeregisterident, Ident: emp}}}
		a.Opplysningspliktig = a.Arbeidssted
	} else {
		e := p.pick(rng, typ == TypeMaritim)
		if e.ceased != nil {
			if !start.Before(*e.ceased) {
				s := e.ceased.AddDate(0, 0, -30-rng.IntN(2000))
				if s.Before(firstBirth.AddDate(16, 0, 0)) {
					return a, false
				}
				start = s
			}
			if end == nil || end.After(*e.ceased) {
				c := *e.ceased
				end, forced = &c, true
			}
		}
		a.Arbeidssted = Enhet{Type: EnhetUnderenhet, Identer: []Ident{{Type: IdenttypeOrganisasjonsnummer, Ident: e.orgnr}}}
		a.Opplysningspliktig = Enhet{Type: EnhetHovedenhet, Identer: []Ident{{Type: IdenttypeOrganisasjonsnummer, Ident: e.parent}}}
	}
	if start.Before(aOrdningen) && (end == nil || !end.Before(aOrdningen)) {
		// Still running when a-ordningen came: reported through it from January 2015.
		a.Rapporteringsordning = kode(KodeverkRapporteringsordninger, AOrdningen)
	} else if start.Before(aOrdningen) {
		a.Rapporteringsordning = kode(KodeverkRapporteringsordninger, FoerAOrdningen)
	} else {
		a.Rapporteringsordning = kode(KodeverkRapporteringsordninger, AOrdningen)
	}
	a.UUID = randomUUID(rng)
	a.ID = randomID(rng)
	a.Ansettelsesperiode.Startdato = day(start)
	if end != nil {
		d := day(*end)
		a.Ansettelsesperiode.Sluttdato = &d
		if forced {
			a.Ansettelsesperiode.Varsling = kodeP(KodeverkVarslingskoder, "EROPPH")
			a.Varsler = append(a.Varsler, Varsel{Entitet: "Ansettelsesperiode", Varsling: kode(KodeverkVarslingskoder, "EROPPH")})
		} else {
			a.Ansettelsesperiode.Sluttaarsak = kodeP(KodeverkSluttaarsaker, sluttaarsaker[rng.IntN(len(sluttaarsaker))])
		}
	}

	// Position details, one version per change, reported month by month.
	detType := detaljerTypeFor[typ]
	fromM := start
	if a.Rapporteringsordning.Kode == AOrdningen && fromM.Before(aOrdningen) {
		fromM = aOrdningen
	}
	toM := p.asOf
	if end != nil {
		toM = *end
	}
	if toM.Before(fromM) {
		toM = fromM
	}
	months := (toM.Year()-fromM.Year())*12 + int(toM.Month()-fromM.Month()) + 1
	versions := 1
	if months > 12 && rng.Float64() < 0.4 {
		versions += 1 + rng.IntN(2)
	}
	yrke := yrkerOrdinaer[rng.IntN(len(yrkerOrdinaer))]
	switch typ {
	case TypeMaritim:
		yrke = yrkerMaritim[rng.IntN(len(yrkerMaritim))]
	case TypeFrilanser:
		yrke = yrkerFrilanser[rng.IntN(len(yrkerFrilanser))]
	}
	pct := []float64{100, 100, 100, 100, 100, 100, 80, 80, 50, 20, 0, 0}[rng.IntN(12)]
	if typ == TypeFrilanser || typ == TypeForenklet {
		pct = 0
	}
	hourly := pct == 0 && typ != TypeFrilanser
	form := "fast"
	if rng.Float64() < 0.2 || hourly {
		form = "midlertidig"
	}
	segStart := fromM
	for v := 0; v < versions; v++ {
		segMonths := months / versions
		if v == versions-1 {
			segMonths = months - segMonths*(versions-1)
		}
		segEnd := time.Date(segStart.Year(), segStart.Month()+time.Month(segMonths-1), 1, 0, 0, 0, 0, time.UTC)
		d := Ansettelsesdetaljer{
			Type:                  detType,
			Yrke:                  kodeP(KodeverkYrker, yrke),
			Rapporteringsmaaneder: Rapporteringsmaaneder{Fra: month(segStart)},
		}
		if v < versions-1 || end != nil {
			t := month(segEnd)
			d.Rapporteringsmaaneder.Til = &t
		}
		if typ != TypeFrilanser {
			d.Arbeidstidsordning = kodeP(KodeverkArbeidstidsordninger, "ikkeSkift")
			if rng.Float64() < 0.1 {
				d.Arbeidstidsordning = kodeP(KodeverkArbeidstidsordninger, "doegnkontinuerligSkiftOgTurnus355")
			}
			d.Ansettelsesform = kodeP(KodeverkAnsettelsesformer, form)
			pc, hours := pct, 37.5*pct/100
			d.AvtaltStillingsprosent, d.AntallTimerPrUke = &pc, &hours
			change := day(segStart)
			d.SisteStillingsprosentendring = &change
			if rng.IntN(2) == 0 {
				d.SisteLoennsendring = &change
			}
		}
		if typ == TypeMaritim {
			d.Fartsomraade = kodeP(KodeverkFartsomraader, []string{"innenriks", "utenriks"}[rng.IntN(2)])
			d.Skipsregister = kodeP(KodeverkSkipsregistre, []string{"nor", "nis", "utl"}[rng.IntN(3)])
			d.Fartoeystype = kodeP(KodeverkSkipstyper, []string{"skip", "turist", "annet"}[rng.IntN(3)])
		}
		a.Ansettelsesdetaljer = append(a.Ansettelsesdetaljer, d)
		if pct < 100 && pct > 0 && rng.IntN(2) == 0 {
			pct += 20
		}
		segStart = segEnd.AddDate(0, 1, 0)
	}
	// Newest version first, as the real API lists them.
	for l, r := 0, len(a.Ansettelsesdetaljer)-1; l < r; l, r = l+1, r-1 {
		a.Ansettelsesdetaljer[l], a.Ansettelsesdetaljer[r] = a.Ansettelsesdetaljer[r], a.Ansettelsesdetaljer[l]
	}

	span := max(1, int(toM.Sub(start).Hours()/24))
	if hourly {
		for m := 0; m < 3 && m < months; m++ {
			rm := time.Date(toM.Year(), toM.Month()-time.Month(m), 1, 0, 0, 0, 0, time.UTC)
			a.TimerMedTimeloenn = append(a.TimerMedTimeloenn, TimerMedTimeloenn{Antall: float64(5 + rng.IntN(120)), Rapporteringsmaaned: month(rm)})
		}
	}
	if typ != TypeFrilanser && span > 120 {
		if rng.Float64() < 0.06 {
			s := start.AddDate(0, 0, rng.IntN(span-90))
			e := day(s.AddDate(0, 3+rng.IntN(8), 0))
			a.Permisjoner = append(a.Permisjoner, Permisjon{ID: randomID(rng)[:8], Type: kode(KodeverkPermisjonOgPermittering, "permisjonMedForeldrepenger"), Startdato: day(s), Sluttdato: &e, Prosent: 100})
		}
		if rng.Float64() < 0.02 {
			s := start.AddDate(0, 0, rng.IntN(span-90))
			e := day(s.AddDate(0, 1+rng.IntN(5), 0))
			a.Permitteringer = append(a.Permitteringer, Permisjon{ID: randomID(rng)[:8], Type: kode(KodeverkPermisjonOgPermittering, "permittering"), Startdato: day(s), Sluttdato: &e, Prosent: float64(50 + 10*rng.IntN(6))})
		}
		if rng.Float64() < 0.01 {
			s := start.AddDate(0, 0, rng.IntN(span-30))
			e := day(s.AddDate(0, 0, 7+rng.IntN(20)))
			sd := day(s)
			a.Utenlandsopphold = append(a.Utenlandsopphold, Utenlandsopphold{Land: kode(KodeverkLandkoder, landkoder[rng.IntN(len(landkoder))]), Startdato: &sd, Sluttdato: &e, Rapporteringsmaaned: month(s)})
		}
	}
	if rng.Float64() < 0.01 {
		a.IDHistorikk = []IDHistorikk{{ID: randomID(rng)}}
		a.Varsler = append(a.Varsler, Varsel{Entitet: "Arbeidsforhold", Varsling: kode(KodeverkVarslingskoder, "MATCH")})
	} else if rng.Float64() < 0.01 {
		a.Varsler = append(a.Varsler, Varsel{Entitet: "Arbeidsforhold", Varsling: kode(KodeverkVarslingskoder, "NAVEND")})
	}

	created := start.Add(time.Duration(rng.IntN(86400)) * time.Second)
	if created.Before(aOrdningen) {
		created = aOrdningen.Add(time.Duration(rng.IntN(86400*30)) * time.Second)
	}
	if created.After(p.asOf) {
		created = p.asOf.Add(-time.Duration(1+rng.IntN(86400)) * time.Second)
	}
	confirmed := toM
	if confirmed.Before(created) {
		confirmed = created
	}
	confirmed = confirmed.Add(time.Duration(rng.IntN(3600)) * time.Second)
	a.Opprettet, a.SistBekreftet, a.SistEndret = stamp(created), stamp(confirmed), stamp(confirmed)
	a.Sporingsinformasjon = &Sporingsinformasjon{
		OpprettetTidspunkt: stamp(created), OpprettetAv: "srvappserver", OpprettetKilde: "EDAG",
		EndretTidspunkt: stamp(confirmed), EndretAv: "srvappserver", EndretKilde: "EDAG",
	}
	return a, true
}

const hexDigits = "0123456789abcdef"

// randomUUID is a version 4 UUID from the person's random source, so it is deterministic.
func randomUUID(rng *rand.Rand) string {
	var b [16]byte
	hi, lo := rng.Uint64(), rng.Uint64()
	for k := 0; k < 8; k++ {
		b[k], b[8+k] = byte(hi>>(8*k)), byte(lo>>(8*k))
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	out := make([]byte, 0, 36)
	for k, x := range b {
		if k == 4 || k == 6 || k == 8 || k == 10 {
			out = append(out, '-')
		}
		out = append(out, hexDigits[x>>4], hexDigits[x&0xf])
	}
	return string(out)
}

const idChars = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789"

// randomID is an employer-side arbeidsforhold id like the a-melding's.
func randomID(rng *rand.Rand) string {
	b := make([]byte, 16)
	for k := range b {
		b[k] = idChars[rng.IntN(len(idChars))]
	}
	return string(b)
}

var firstNames = []string{"Kari", "Ola", "Ingrid", "Per", "Anne", "Lars", "Marit", "Knut", "Sigrid", "Nils", "Astrid", "Jon", "Liv", "Hans", "Solveig", "Erik", "Ragnhild", "Bjørn", "Nora", "Emil", "Sofie", "Jakob", "Ella", "Filip", "Maja", "Aksel", "Leah", "Noah", "Ida", "Oskar", "Frida", "Magnus", "Tuva", "Henrik", "Hedda", "Sander", "Amalie", "Mohammed", "Aisha", "Piotr", "Anna", "Tomasz", "Fatima", "Ahmed", "Linnea", "Vetle", "Ronja", "Tiril", "Eirik", "Synnøve"}
var lastNames = []string{"Hansen", "Johansen", "Olsen", "Larsen", "Andersen", "Pedersen", "Nilsen", "Kristiansen", "Jensen", "Karlsen", "Johnsen", "Pettersen", "Eriksen", "Berg", "Haugen", "Hagen", "Johannessen", "Andreassen", "Jacobsen", "Dahl", "Jørgensen", "Halvorsen", "Henriksen", "Lund", "Sørensen", "Jakobsen", "Moen", "Gundersen", "Iversen", "Strand", "Solberg", "Svendsen", "Eide", "Knutsen", "Martinsen", "Paulsen", "Bakken", "Kristoffersen", "Mathisen", "Lie", "Nowak", "Kowalski", "Ali", "Ahmadi", "Nguyen", "Bakke", "Rønning", "Aasen", "Fjeld", "Vik"}

var companyWords = []string{"Nord", "Fjord", "Vest", "Bergen", "Trønder", "Polar", "Midt", "Lofoten", "Agder", "Viken", "Glåma", "Dovre", "Hardanger", "Sogn", "Telemark", "Finnmark", "Oslo", "Stavanger", "Bodø", "Tromsø"}
var companyTrades = []string{"Bygg", "Elektro", "Regnskap", "Transport", "Data", "Helse", "Rør", "Maskin", "Handel", "Eiendom", "Rådgivning", "Renhold", "Mat", "Barnehage", "Verksted", "Fisk", "Energi", "Design", "Consult", "Logistikk"}
var unitSuffix = []string{"avd. sentrum", "avd. nord", "avd. sør", "lager", "verksted", "kontor", "butikk", "avd. vest", "avd. øst", "filial"}
var kommuner = []string{"Oslo", "Bergen", "Trondheim", "Stavanger", "Kristiansand", "Drammen", "Fredrikstad", "Sandnes", "Tromsø", "Bærum", "Asker", "Lillestrøm", "Skien", "Bodø", "Ålesund"}

func companyName(rng *rand.Rand, shipping bool) string {
	w := companyWords[rng.IntN(len(companyWords))]
	if shipping {
		return w + " Rederi AS"
	}
	return w + " " + companyTrades[rng.IntN(len(companyTrades))] + " AS"
}

func kommuneName(i int) string {
	if i < len(kommuner) {
		return kommuner[i] + " kommune"
	}
	return fmt.Sprintf("%s kommune %d", kommuner[i%len(kommuner)], i/len(kommuner)+1)
}

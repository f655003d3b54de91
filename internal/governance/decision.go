package governance

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"

	"deling/internal/access"
	"deling/internal/register"
)

// DecisionKind is what a decision (vedtak) decides.
type DecisionKind string

// Decision kinds.
const (
	DecisionApproval   DecisionKind = "godkjent"   // the application is approved: test access (Rule AA-03)
	DecisionProduction DecisionKind = "produksjon" // production access after the integration test
	DecisionRefusal    DecisionKind = "avslag"     // refused, with reasons
)

// Label is the decision's title in the portal.
func (k DecisionKind) Label() string {
	switch k {
	case DecisionApproval:
		return "Vedtak om tilgang – testmiljø"
	case DecisionProduction:
		return "Vedtak om tilgang – produksjonsmiljø"
	case DecisionRefusal:
		return "Vedtak om avslag"
	}
	return string(k)
}

// Decision is a decision document: frozen text, stored once and never
// changed, whose SHA-256 the log keeps, so that what was decided can be
// proved afterwards.
type Decision struct {
	ID            string
	ApplicationID string
	Org           string
	Kind          DecisionKind
	Text          string
	SHA256        string
	CreatedAt     time.Time
	CreatedBy     string // the case worker's name
}

// Filename is the name a downloaded copy gets.
func (d Decision) Filename() string { return "vedtak-" + d.ID + ".txt" }

// Paragraphs are the text's paragraphs, each as its lines, for showing it as HTML.
func (d Decision) Paragraphs() [][]string {
	var out [][]string
	for _, p := range Paragraphs(d.Text) {
		out = append(out, strings.Split(p, "\n"))
	}
	return out
}

// DecisionFacts is what a decision states. The store fills in ID and At when it stores the decision.
type DecisionFacts struct {
	ID            string
	ApplicationID string
	Kind          DecisionKind
	At            time.Time
	Location      *time.Location // for dates in the text; nil: UTC
	CaseWorker    string
	Application   Application
	Packages      []access.Package // granted
	Segment       string           // the segment's name, if its standard package was granted (Rule SK-06)
	Env           register.Env
	ValidFrom     time.Time
	ValidTo       *time.Time
	Reasons       string // a refusal's
	// Delegation is what an approval delegated to the named data processor
	// under its agreement; nil when it delegated nothing (Rule SK-04).
	Delegation *DelegationFacts
}

// DelegationFacts are a delegation an approval made to the data processor
// the application names (Rules AA-13, SK-04).
type DelegationFacts struct {
	ID          string
	AgreementID string
	Channels    []access.Channel
	Packages    []string // refs
	LeftOut     []string // granted channels and package refs the agreement does not cover
}

// Digest is the SHA-256 of a decision's text, in hex.
func Digest(text string) string {
	sum := sha256.Sum256([]byte(text))
	return hex.EncodeToString(sum[:])
}

// Text is the decision document: every fact of the decision, in Norwegian,
// as the consumer reads and downloads it.
func (d DecisionFacts) Text() string {
	loc := d.Location
	if loc == nil {
		loc = time.UTC
	}
	date := func(t time.Time) string { return t.In(loc).Format("02.01.2006") }
	stamp := func(t time.Time) string { return t.In(loc).Format("02.01.2006 kl. 15:04") + " norsk tid" }
	f := d.Application.Form
	var b strings.Builder
	line := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	section := func(title string) { line("\n%s", strings.ToUpper(title)) }

	line("%s", strings.ToUpper(d.Kind.Label()))
	line("Arbeidsgiver- og arbeidstakerregisteret (Aa-registeret): deling av opplysninger")
	line("")
	line("Vedtak-ID: %s", d.ID)
	line("Søknad-ID: %s", d.ApplicationID)
	line("Vedtaksdato: %s", stamp(d.At))
	line("Saksbehandler: %s", d.CaseWorker)

	section("Parter")
	line("Registerforvalter: Aa-registeret")
	line("Konsument (behandlingsansvarlig): %s, org.nr. %s", f.Navn, f.Orgnr)
	if f.Processor.Named() {
		line("Databehandler: %s, org.nr. %s, databehandleravtale: %s", f.Processor.Navn, f.Processor.Orgnr, f.Processor.DPARef)
	}
	if a := d.Application; a.SignedAt != nil {
		line("Søknaden er signert av %s %s.", a.SignedByName, stamp(*a.SignedAt))
	}

	section("Vedtak")
	switch d.Kind {
	case DecisionRefusal:
		line("Søknaden er avslått.")
		section("Begrunnelse")
		line("%s", d.Reasons)
		line("")
		line("Konsumenten får ingen tilgang på grunnlag av søknaden. Konsumenten kan sende en ny søknad.")
	case DecisionApproval:
		line("Søknaden er innvilget. Konsumenten får tilgang i testmiljøet, som bare har syntetiske data.")
		line("Tilgang i produksjonsmiljøet gis når konsumenten har bekreftet at integrasjonstesten er gjennomført.")
	case DecisionProduction:
		line("Integrasjonstesten er gjennomført, og konsumenten får tilgang i produksjonsmiljøet med det samme innholdet som testtilgangen.")
	}

	section("Formål")
	line("%s", f.Purpose)
	section("Rettslig grunnlag for utlevering")
	if f.BasisKind == BasisConsent {
		line("%s.", f.LegalBasisText()) // it names the basis itself
		line("Opplysninger om en person utleveres bare mens personen har et gyldig samtykke til konsumenten for dette formålet.")
	} else {
		line("%s: %s", f.BasisKind.Label(), f.LegalBasisText())
	}
	section("Behandlingsgrunnlag")
	line("%s", f.ProcessingBasisText())
	section("Behandlingssted")
	where := f.Country
	if f.LocationNote != "" {
		where += " – " + f.LocationNote
	}
	line("%s", where)

	if d.Kind != DecisionRefusal {
		section("Tilgang")
		line("Miljø: %s", EnvLabel(d.Env))
		var chans []string
		for _, c := range f.Channels {
			chans = append(chans, ChannelLabel(c))
		}
		line("Tilgangstyper: %s", strings.Join(chans, ", "))
		var kinds []string
		for _, k := range f.QueryKinds {
			kinds = append(kinds, QueryKindLabel(k))
		}
		line("Oppslag på: %s", strings.Join(kinds, ", "))
		valid := "fra " + date(d.ValidFrom) + " og inntil videre"
		if d.ValidTo != nil {
			valid = "fra " + date(d.ValidFrom) + " til " + date(*d.ValidTo)
		}
		line("Gyldighet: %s", valid)
		if d.Segment != "" {
			line("Segment: %s (standardpakke for konsumenter med samme behov)", d.Segment)
		}
		section("Opplysninger (rettighetspakker)")
		pkgs := slices.Clone(d.Packages)
		slices.SortFunc(pkgs, func(a, b access.Package) int { return strings.Compare(a.Ref(), b.Ref()) })
		for _, p := range pkgs {
			labels := make([]string, len(p.Elements))
			for i, e := range p.Elements {
				labels[i] = p.Label(e)
			}
			line("- %s (%s): %s", p.Navn, p.Ref(), strings.Join(labels, ", "))
		}

		section("Vilkår")
		// Rules SK-02, AA-02, AA-07, AA-05, AA-09, AA-06, AA-13, in words: the
		// consumer reads the decision, and the rule IDs are the register's own.
		line("- Bruksvilkårene for Aa-registeret gjelder, og konsumenten har godtatt dem i søknaden.")
		line("- Konsumenten får bare de opplysningene, tilgangstypene og oppslagene vedtaket gir.")
		line("- Flere opplysninger krever ny søknad. Bruk utover vedtaket kan føre til at tilgangen stenges straks.")
		line("- Endres formål, rettslig grunnlag, behandlingsgrunnlag eller behandlingsansvarlig, opphører tilgangen straks, og konsumenten må søke på nytt. Andre endringer meldes i portalen.")
		line("- Opplysningene behandles og lagres bare der søknaden oppgir.")
		line("- Kontaktpersonene holdes oppdatert i portalen.")
		if f.Processor.Named() {
			line("- Databehandlerens tilgang bygger på konsumentens og opphører med den.")
		}
		if f.Processor.Named() && d.Kind == DecisionApproval {
			section("Databehandler")
			switch dl := d.Delegation; {
			case dl == nil:
				line("Databehandleren får ikke tilgang nå: ingen aktiv databehandleravtale signert av begge parter dekker tilgangen.")
				line("Tilgangen kan delegeres når en slik avtale er på plass.")
			default:
				var chans []string
				for _, c := range dl.Channels {
					chans = append(chans, ChannelLabel(c))
				}
				line("Databehandleren får tilgang på vegne av konsumenten etter databehandleravtale %s.", dl.AgreementID)
				line("Tilgangstyper: %s", strings.Join(chans, ", "))
				line("Rettighetspakker: %s", strings.Join(dl.Packages, ", "))
				if len(dl.LeftOut) > 0 {
					line("Ikke delegert, fordi databehandleravtalen ikke dekker det: %s", strings.Join(dl.LeftOut, ", "))
				}
			}
		}
	}
	return b.String()
}

// EnvLabel is an environment's name in the portal.
func EnvLabel(e register.Env) string {
	if e == register.EnvProd {
		return "produksjon"
	}
	return "test (syntetiske data)"
}

// ChannelLabel is a channel's name in the portal.
func ChannelLabel(c access.Channel) string {
	switch c {
	case access.ChannelAPI:
		return "API (maskin-til-maskin)"
	case access.ChannelWeb:
		return "Nettoppslag i portalen"
	case access.ChannelExtract:
		return "Uttrekk (masseleveranse)"
	}
	return string(c)
}

// QueryKindLabel is a query kind's name in the portal.
func QueryKindLabel(k access.QueryKind) string {
	switch k {
	case access.ByArbeidstaker:
		return "arbeidstaker (person)"
	case access.ByArbeidssted:
		return "arbeidssted (underenhet)"
	case access.ByOpplysningspliktig:
		return "opplysningspliktig (hovedenhet)"
	case access.Antall:
		return "antall arbeidsforhold"
	}
	return string(k)
}

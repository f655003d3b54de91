package dpa

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"deling/internal/governance"
)

// TransferBasis is what a transfer outside the EU/EEA rests on (GDPR ch. V; Rule DPA-06).
type TransferBasis string

// Transfer bases.
const (
	BasisAdequacy TransferBasis = "adekvans" // the Commission's adequacy decision (art. 45)
	BasisSCC      TransferBasis = "scc"      // standard contractual clauses 2021/914, module 1–4 (art. 46(2)(c))
	BasisDPF      TransferBasis = "dpf"      // USA: the recipient is certified under the EU-US Data Privacy Framework
)

// TransferBases lists the bases in the order the form offers them.
func TransferBases() []TransferBasis { return []TransferBasis{BasisAdequacy, BasisSCC, BasisDPF} }

// Label is the basis in the portal and the document.
func (b TransferBasis) Label() string {
	switch b {
	case BasisAdequacy:
		return "Beslutning om tilstrekkelig beskyttelsesnivå (art. 45)"
	case BasisSCC:
		return "EUs standard personvernbestemmelser 2021/914 (art. 46 nr. 2 bokstav c)"
	case BasisDPF:
		return "Sertifisering under EU–US Data Privacy Framework"
	}
	return string(b)
}

// Transfer is the controller's documented instruction that data may be
// processed in a country outside the EU/EEA by the processor itself or by
// one sub-processor, on a basis (Rule DPA-06; template § 9).
type Transfer struct {
	Country   string        `json:"land"`
	Recipient string        `json:"mottaker,omitempty"` // "" the processor itself; else the sub-processor's name as in annex 3
	Basis     TransferBasis `json:"grunnlag"`
	SCCModule int           `json:"sccModul,omitempty"` // 1–4 with BasisSCC
}

// Text is the transfer as the document states it.
func (t Transfer) Text() string {
	who := "Databehandleren selv"
	if t.Recipient != "" {
		who = t.Recipient
	}
	basis := t.Basis.Label()
	if t.Basis == BasisSCC {
		basis += fmt.Sprintf(", modul %d", t.SCCModule)
	}
	return fmt.Sprintf("%s – %s: %s", t.Country, who, basis)
}

// names a transfer for country and recipient.
func (t Transfer) names(country, recipient string) bool {
	return strings.EqualFold(strings.TrimSpace(t.Country), strings.TrimSpace(country)) &&
		strings.EqualFold(strings.TrimSpace(t.Recipient), strings.TrimSpace(recipient))
}

func containsTransfer(ts []Transfer, t Transfer) bool {
	return slices.ContainsFunc(ts, func(u Transfer) bool { return u.names(t.Country, t.Recipient) && u.Basis == t.Basis })
}

// TransferNeeded reports whether processing in country needs the
// controller's instruction: it is a country of the register's list outside
// Norway and the EU/EEA (Rules DPA-06, AA-09).
func TransferNeeded(country string) bool {
	return governance.CountryKnown(country) && !governance.InEEA(country)
}

// CheckLocation says why data may not be processed in country at all, or
// "": the same check applications get (Rule AA-09, governance.CheckCountry),
// with the USA allowed only to a recipient certified under the DPF.
func CheckLocation(country string, dpf bool) string { return governance.CheckCountry(country, dpf) }

// Validate says what is wrong with the instruction, by form field, in
// Norwegian: the country must be one the register allows and outside the
// EU/EEA, and the basis must fit it — an adequacy decision for a country
// that has one, the DPF for the USA (its adequacy decision covers certified
// recipients only), or standard clauses with their module.
func (t *Transfer) Validate() map[string]string {
	t.Country, t.Recipient = strings.TrimSpace(t.Country), strings.TrimSpace(t.Recipient)
	bad := map[string]string{}
	if name, ok := governance.CountryName(t.Country); ok {
		t.Country = name
	}
	if t.Country == "" {
		bad[FieldTransferCountry] = "Velg landet overføringen gjelder."
	} else if msg := CheckLocation(t.Country, t.Basis == BasisDPF); msg != "" && !governance.CountryKnown(t.Country) {
		bad[FieldTransferCountry] = msg
	} else if governance.InEEA(t.Country) {
		bad[FieldTransferCountry] = "Land i EU/EØS er ikke tredjeland og trenger ingen instruks om overføring."
	}
	if tooLong(t.Recipient, maxShort) {
		bad[FieldTransferRecipient] = tooLongMsg(maxShort)
	}
	usa := strings.EqualFold(t.Country, "USA")
	switch t.Basis {
	case BasisAdequacy:
		if usa {
			bad[FieldTransferBasis] = "For USA gjelder beslutningen om tilstrekkelig beskyttelsesnivå bare mottakere sertifisert under EU–US Data Privacy Framework. Velg DPF."
		}
	case BasisDPF:
		if !usa && t.Country != "" {
			bad[FieldTransferBasis] = "EU–US Data Privacy Framework gjelder bare mottakere i USA."
		}
	case BasisSCC:
		if t.SCCModule < 1 || t.SCCModule > 4 {
			bad[FieldTransferSCC] = "Velg modul 1, 2, 3 eller 4 av standardbestemmelsene."
		}
		if usa {
			// Rule AA-09: the register's list allows the USA only under the DPF.
			bad[FieldTransferBasis] = governance.CheckCountry("USA", false)
		}
	case "":
		bad[FieldTransferBasis] = "Velg grunnlaget for overføringen."
	default:
		bad[FieldTransferBasis] = "Velg grunnlag fra listen."
	}
	if t.Basis != BasisSCC && t.SCCModule != 0 {
		bad[FieldTransferSCC] = "Modul oppgis bare for standardbestemmelser."
	}
	return bad
}

// CheckTransfer says why country may not receive data for recipient ("" the
// processor itself) under the instructions ts, or "" when it may: Norway and
// the EU/EEA need none; a country off the register's list never may; any
// other needs a valid instruction naming that country and that recipient
// (Rule DPA-06).
func CheckTransfer(country, recipient string, ts []Transfer) string {
	switch {
	case strings.TrimSpace(country) == "":
		return "Oppgi landet der opplysningene behandles."
	case governance.InEEA(country):
		return ""
	case !governance.CountryKnown(country):
		return CheckLocation(country, false)
	}
	for _, t := range ts {
		if t.names(country, recipient) && len(t.Validate()) == 0 {
			return ""
		}
	}
	who := "databehandleren"
	if recipient != "" {
		who = recipient
	}
	return fmt.Sprintf("Behandling i %s (%s) krever en dokumentert instruks fra behandlingsansvarlig som navngir landet og overføringsgrunnlaget.", country, who)
}

// TransfersAt are the instructions in force at t for agreement a: those the
// version in force carries, and those given with sub-processors approved at
// or before t and not removed (Rules DPA-05, DPA-06).
func TransfersAt(a *Agreement, subs []SubProcessor, t time.Time) []Transfer {
	var out []Transfer
	if v := a.InForce(t); v != nil {
		out = append(out, v.Content.Transfers...)
	}
	for _, s := range subs {
		if s.Transfer != nil && s.approvedAt(t) && !containsTransfer(out, *s.Transfer) {
			out = append(out, *s.Transfer)
		}
	}
	return out
}

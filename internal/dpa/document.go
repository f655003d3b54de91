package dpa

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	"deling/internal/governance"
)

// Document is the readable text of a version, in Markdown, in the order of
// the template (seed 001): the parties and the main agreement, what of the
// register it covers, the breach notice, duration and end, the contacts,
// and annexes 1, 2 and 3 in turn; last the content hash the parties sign.
// It is deterministic: the same version gives the same bytes, so its
// SHA-256 (DocumentDigest) is stable and goes into the lookup log. The
// parties' texts are escaped, so that none of them can pose as a heading.
func Document(v *Version) string {
	c := v.Content.clone()
	c.Normalize()
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	text := func(s, none string) string {
		if s == "" {
			return none
		}
		return md(s)
	}
	party := func(pt Party) string { return fmt.Sprintf("%s (org.nr. %s)", md(pt.Navn), md(pt.Orgnr)) }

	p("# Databehandleravtale\n\nVersjon %d\n\n", v.Number)
	p("## 1 Formålet med denne databehandleravtalen\n\n")
	p("Denne avtalen («Databehandleravtalen») er en del av %s («Hovedavtalen») datert %s mellom %s («Behandlingsansvarlig») og %s («Databehandler»).\n\n",
		text(c.MainAgreement, "[hovedavtalen]"), text(c.MainAgreementDate, "[dato]"), party(c.Controller), party(c.Processor))
	p("Databehandleravtalen har tre vedlegg, som er en del av avtalen: vedlegg 1 beskriver behandlingens omfang, vedlegg 2 de tekniske og organisatoriske sikkerhetstiltakene og vedlegg 3 de godkjente underdatabehandlerne.\n\n")

	p("## Opplysninger fra registeret\n\n")
	var chans []string
	for _, ch := range c.Channels {
		chans = append(chans, governance.ChannelLabel(ch))
	}
	p("- Tilgangstyper: %s\n", text(strings.Join(chans, ", "), "ingen"))
	p("- Rettighetspakker: %s\n\n", text(strings.Join(c.Packages, ", "), "ingen"))

	p("## 10 Melding om brudd på personopplysningssikkerheten\n\n")
	p("Databehandler gir skriftlig melding til Behandlingsansvarlig uten unødvendig forsinkelse og senest innen %d timer etter at Databehandler ble oppmerksom på bruddet.\n\n", c.BreachNoticeHours)

	p("## 12 Varighet og opphør\n\n")
	if c.ValidTo != "" {
		p("Databehandleravtalen gjelder fra den er signert med begge parters underskrift, til %s.\n\n", md(c.ValidTo))
	} else {
		p("Databehandleravtalen gjelder fra den er signert med begge parters underskrift, og så lenge Databehandler behandler personopplysninger på vegne av Behandlingsansvarlig i forbindelse med Hovedavtalen.\n\n")
	}
	p("Ved opphør sletter eller tilbakeleverer Databehandler alle personopplysningene, også sikkerhetskopier, og bekrefter slettingen skriftlig innen %d dager etter opphøret.\n\n", c.DeletionDays)

	p("## 14 Kontaktpersoner\n\n")
	for _, ct := range []struct {
		who string
		c   Contact
	}{{"Hos Behandlingsansvarlig", c.ControllerContact}, {"Hos Databehandler", c.ProcessorContact}} {
		p("%s: %s, %s, %s\n\n", ct.who, text(ct.c.Navn, "[navn]"), text(ct.c.Stilling, "[stilling]"), text(ct.c.Epost, "[e-post]"))
	}

	p("## Vedlegg 1 Databehandlingens omfang\n\n")
	for _, f := range c.Annex1.fields() {
		p("### %s\n\n%s\n\n", f.Heading, text(*f.Value, "Ikke relevant."))
	}
	p("### Behandlingssted\n\n%s\n\n", text(strings.Join(c.Annex1.Locations, ", "), "Ikke oppgitt."))

	p("## Vedlegg 2 Tekniske og organisatoriske sikkerhetstiltak\n\n")
	for _, f := range c.Annex2.fields() {
		p("### %s\n\n%s\n\n", f.Heading, text(*f.Value, "Ikke oppgitt."))
	}

	p("## Vedlegg 3 Godkjente underdatabehandlere\n\n")
	if len(c.Annex3) == 0 {
		p("Ingen.\n\n")
	}
	for i, e := range c.Annex3 {
		id := "org.nr. " + md(e.Orgnr)
		if e.Orgnr == "" {
			id = "utenlandsk reg.nr. " + md(e.ForeignID)
		}
		p("%d. %s (%s), %s: %s\n", i+1, md(e.Navn), id, md(e.Country), md(e.Task))
	}
	if len(c.Annex3) > 0 {
		p("\n")
	}
	p("### Instrukser om overføring til tredjeland\n\n")
	if len(c.Transfers) == 0 {
		p("Ingen. Opplysningene behandles bare i Norge og EU/EØS.\n\n")
	}
	for _, t := range c.Transfers {
		p("- %s\n", md(t.Text()))
	}
	if len(c.Transfers) > 0 {
		p("\n")
	}
	p("---\n\nInnholdets SHA-256: %s\n", Hash(c))
	return b.String()
}

// DocumentDigest is the SHA-256 of a version's document, in hex: the value the lookup log holds.
func DocumentDigest(v *Version) string {
	sum := sha256.Sum256([]byte(Document(v)))
	return hex.EncodeToString(sum[:])
}

// Filename is the document's file name for agreement id.
func Filename(id string, v *Version) string {
	return fmt.Sprintf("databehandleravtale-%s-v%d.md", id, v.Number)
}

// md escapes Markdown's punctuation in a party's text, so that it reads as
// written and never becomes a heading, a link or HTML.
func md(s string) string {
	var b strings.Builder
	for _, line := range strings.Split(s, "\n") {
		if b.Len() > 0 {
			b.WriteString("  \n") // a hard line break keeps the party's lines
		}
		for i, r := range line {
			switch {
			case strings.ContainsRune("\\`*_[]<>#|!", r):
				b.WriteByte('\\')
			case i == 0 && strings.ContainsRune("-+=", r):
				b.WriteByte('\\')
			}
			b.WriteRune(r)
		}
	}
	return b.String()
}

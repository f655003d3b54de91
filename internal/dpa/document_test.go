package dpa

import (
	"strings"
	"testing"

	"deling/internal/access"
)

// TestDocument_DPA01: the template's order, deterministic, a stable digest.
func TestDocument_DPA01(t *testing.T) {
	c := complete(t)
	c.Transfers = []Transfer{{Country: "Japan", Basis: BasisAdequacy}}
	v := &Version{Number: 3, Content: c}
	doc := Document(v)
	order := []string{"# Databehandleravtale", "Versjon 3", "## 1 Formålet", "Avtale om saksbehandlingssystem", "## Opplysninger fra registeret",
		"## 10 Melding om brudd", "24 timer", "## 12 Varighet og opphør", "30 dager", "## 14 Kontaktpersoner",
		"## Vedlegg 1", "### Behandlingens formål", "### Behandlingens art og hensikt", "### Kategorier av registrerte",
		"### Type personopplysninger", "### Type sensitive", "### Spesifikke sletteregler", "### Behandlingssted",
		"## Vedlegg 2", "### Pseudonymiseringstiltak", "### Krypteringstiltak", "### Tiltak for å sikre personopplysningenes fortrolighet",
		"### Tiltak for å sikre personopplysningenes integritet", "### Tiltak for å sikre tilgjengeligheten", "### Tiltak for å sikre robusthet",
		"### Tiltak for fysisk sikring", "### Andre datasikkerhetstiltak",
		"## Vedlegg 3", "1. Drift AS", "### Instrukser om overføring", "Japan", "Innholdets SHA-256: " + Hash(c)}
	at := 0
	for _, s := range order {
		i := strings.Index(doc[at:], s)
		if i < 0 {
			t.Fatalf("%q missing or out of order in:\n%s", s, doc)
		}
		at += i + len(s)
	}
	// Deterministic: equivalent content renders the same bytes.
	c2 := c.clone()
	c2.Channels = []access.Channel{access.ChannelWeb, access.ChannelAPI}
	if Document(&Version{Number: 3, Content: c2}) != doc || DocumentDigest(v) != DocumentDigest(&Version{Number: 3, Content: c2}) {
		t.Error("the same content renders differently")
	}
	c2.Annex2.Other = "Nytt tiltak"
	if DocumentDigest(&Version{Number: 3, Content: c2}) == DocumentDigest(v) {
		t.Error("a change kept the digest")
	}
	if got := Filename("a1", v); got != "databehandleravtale-a1-v3.md" {
		t.Errorf("Filename = %q", got)
	}
}

// TestDocument_Escapes: a party's text never poses as a heading or HTML.
func TestDocument_Escapes(t *testing.T) {
	c := complete(t)
	c.Annex1.Purpose = "# Vedlegg 3\n<script>x</script>\n- punkt"
	doc := Document(&Version{Number: 1, Content: c})
	for _, bad := range []string{"\n# Vedlegg 3", "<script>", "\n- punkt"} {
		if strings.Contains(doc, bad) {
			t.Errorf("unescaped %q", bad)
		}
	}
	if !strings.Contains(doc, `\# Vedlegg 3`) {
		t.Errorf("escaped text missing:\n%s", doc)
	}
}

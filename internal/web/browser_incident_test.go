package web

import (
	"testing"
	"time"

	"deling/internal/access"
	"deling/internal/governance"
)

// Issue 12's walk in Chromium, each page checked for accessibility: a
// processor's staff reports a breach on the form (Rules AV-01, AV-03), the
// case worker finds it on the list, takes it, stops the consumer's access in
// one step (Rules AV-02, AA-25), assesses it with ENISA's method (Rule AV-04),
// decides to notify and files the initial notice (Rules AV-05, DPA-08); the
// public form and the follow page work without an account.
func TestBrowserIncident(t *testing.T) {
	h := newHarness(t)
	b := newBrowser(t, h.srv.URL)
	consumer, _ := h.consumer("Nettleserkommune", grant([]string{"grunndata@1"}, access.ByArbeidstaker))
	processorOrg := string(syntheticOrg(8_100_002))
	proc := h.account(governance.Databehandler, processorOrg, "")
	// The processor acts for the consumer under an agreement, so the case may stop the consumer's access.
	h.delegate(consumer, processorOrg)
	cw := h.account(governance.Saksbehandler, governance.AuthorityOrg, "")
	now := h.clock.now()

	b.open("/avvik")
	b.sees("Meld avvik", "Du melder uten å logge inn")
	b.open("/avvik/folg")

	b.signIn(proc)
	b.press("Avvik")
	b.press("Meld avvik")
	b.fill("f-hva", "Uttrekk sendt til feil mottaker")
	b.choose("f-oppdaget", formTime(now.Add(-3*time.Hour)))
	b.choose("f-databehandler_kjent", formTime(now.Add(-2*time.Hour)))
	b.tick("f-type-konfidensialitet")
	b.press("Send meldingen")
	b.sees("Avviket er meldt", "Uttrekk sendt til feil mottaker")
	b.signOut()

	b.signIn(cw)
	b.press("Avvik")
	b.sees("Melding til Datatilsynet", "t ")
	b.press("Uttrekk sendt til feil mottaker")
	b.press("Ta saken")
	b.sees("Du har tatt saken")
	b.choose("f-tiltak", "stanse_tilgang")
	b.fill("f-tiltak_merknad", "Stanset tilgangen")
	b.choose("f-konsument", consumer)
	b.press("Registrer tiltaket")
	b.sees("Tilgangen er suspendert (1 vedtak)")
	b.choose("f-dpc", "okonomiske")
	b.fill("f-dpc_0_begrunnelse", "Inntekt")
	b.choose("f-ei", "maksimal")
	b.fill("f-ei_begrunnelse", "Fødselsnummer")
	b.choose("f-cb_konfidensialitet", "1")
	b.fill("f-cb_konfidensialitet_begrunnelse", "Én kjent mottaker")
	for _, f := range []string{"saerlige_kategorier", "omdommetap", "identitetstyveri", "okonomisk_tap", "sikkerhetsrisiko", "behov_for_tiltak", "uleselig"} {
		b.fill("f-"+f+"_begrunnelse", "Vurdert")
	}
	b.fill("f-antall_personer", "40")
	b.fill("f-arsak_vurdering", "Feil adresse")
	b.fill("f-hvem_fikk_tilgang", "En annen kommune")
	b.press("Registrer risikovurderingen")
	b.sees("3,25")
	b.tick("f-melde-ja")
	b.fill("f-begrunnelse", "Høy alvorlighetsgrad")
	b.tick("f-berorte-ikke_hoy")
	b.fill("f-begrunnelse_berorte", "Mottakeren har slettet")
	b.press("Registrer beslutningen")
	b.tick("f-mer")
	b.fill("f-kontakt_navn", "Personvernombudet")
	b.press("Registrer meldingen")
	b.sees("Første melding til Datatilsynet er registrert", "Last ned meldingen")
	b.screenshot("avvik")
}

package web

import (
	"context"
	"testing"
	"time"

	"deling/internal/access"
	"deling/internal/dpa"
	"deling/internal/governance"
)

// Issue 13's "Done when" in Chromium, each page checked for accessibility:
// the consumer's administrator drafts an agreement with a processor → the
// processor completes annex 2 and proposes a sub-processor → both role
// holders sign (Rule DPA-01) → the case worker can now delegate (Rule
// SK-04) → the processor's client gets a token and data → the processor
// proposes a second sub-processor, which has no effect until the controller
// approves (Rule DPA-05) → the controller orders a stop: the processor's
// next API call is refused (Rule DPA-11) → the agreement ends → the
// processor's role holder files a deletion certificate (Rule DPA-10).
func TestBrowserDPA(t *testing.T) {
	h := newHarness(t)
	b := newBrowser(t, h.srv.URL)
	ctx := context.Background()
	consumer, _ := h.consumer("Nettleserkommune", grant(basic, access.ByArbeidstaker))
	processor := string(syntheticOrg(8_300_001))
	admin := h.account(governance.Administrator, consumer, "")
	ctrlRH := h.account(governance.Rolleinnehaver, consumer, "")
	staff := h.account(governance.Databehandler, processor, "")
	procRH := h.account(governance.Rolleinnehaver, processor, "")
	worker := h.account(governance.Saksbehandler, governance.AuthorityOrg, "")

	// The consumer's administrator drafts: main agreement, date, annex 1.
	b.signIn(admin)
	b.press("Databehandleravtaler")
	b.press("Ny databehandleravtale")
	b.fill("f-databehandler_orgnr", processor)
	b.fill("f-databehandler_navn", "Leverandør AS")
	b.fill("f-hovedavtale", "Avtale om fagsystem")
	b.choose("f-hovedavtale_dato", "2026-01-15")
	b.fill("f-kontakt_behandlingsansvarlig_navn", "Ada")
	b.fill("f-kontakt_behandlingsansvarlig_epost", "ada@kommune.example")
	b.tick("f-kanal-api")
	b.tick("f-pakke-" + basic[0])
	b.fill("f-formaal", "Saksbehandling av søknader.")
	b.fill("f-art", "Drift av fagsystem.")
	b.fill("f-kategorier_registrerte", "Søkere")
	b.fill("f-type_personopplysninger", "Arbeidsforhold")
	b.press("Lagre")
	b.sees("Utkastet er lagret", "Vedlegg 1")
	b.press("Send til databehandleren")
	b.sees("Til utfylling hos databehandler")
	b.signOut()

	// The processor completes annex 2 and proposes a sub-processor in annex 3.
	b.signIn(staff)
	b.press("Databehandleravtaler")
	b.press("Avtale om fagsystem")
	b.press("Rediger versjon 1")
	b.fill("f-kontakt_databehandler_navn", "Per")
	b.fill("f-kontakt_databehandler_epost", "per@leverandor.example")
	for id, text := range map[string]string{"pseudonymisering": "ikke relevant", "kryptering": "TLS 1.3", "konfidensialitet": "Tilgangsstyring",
		"integritet": "Endringslogg", "tilgjengelighet": "Daglig backup", "robusthet": "To datasentre", "fysisk_sikring": "Adgangskontroll", "andre_tiltak": "ikke relevant"} {
		b.fill("f-"+id, text)
	}
	b.fill("f-ud-navn-0", "Drift AS")
	b.fill("f-ud-orgnr-0", string(syntheticOrg(8_300_002)))
	b.choose("f-ud-land-0", "Norge")
	b.fill("f-ud-oppgave-0", "Drift av servere")
	b.press("Lagre")
	b.sees("Endringene er lagret", "Drift AS")
	b.press("Fullfør – klar til signering")
	b.sees("Til signering")
	b.signOut()

	// Both role holders sign exactly the version shown.
	b.signIn(ctrlRH)
	b.press("Databehandleravtaler")
	b.press("Avtale om fagsystem")
	b.press("Signer versjon 1")
	b.sees("Du har signert versjonen for behandlingsansvarlig")
	b.signOut()
	b.signIn(procRH)
	b.press("Databehandleravtaler")
	b.press("Avtale om fagsystem")
	b.press("Signer versjon 1")
	b.sees("Du har signert versjonen for databehandleren", "Aktiv")
	b.screenshot("databehandleravtale")
	b.signOut()

	// The case worker can now delegate under it (Rule SK-04).
	as, err := h.db.Agreements(ctx, consumer)
	if err != nil || len(as) != 1 {
		t.Fatalf("agreements: %v %d", err, len(as))
	}
	id := as[0].ID
	b.signIn(worker)
	b.press("Databehandleravtaler")
	b.press("Delegeringer til databehandlere")
	b.choose("f-avtale", id)
	b.tick("f-kanal-api")
	b.tick("f-pakke-" + basic[0])
	b.press("Deleger")
	b.sees("Delegeringen er opprettet")
	b.signOut()

	// The processor's client gets a token and data.
	cf := h.client(processor)
	cf.ConsumerOrg = consumer
	tok := h.token(cf)
	p := h.employed(1)[0]
	if got := h.person(tok, p.Ident, ""); got.status != 200 || string(got.body) == "[]" {
		t.Fatalf("the processor's lookup under the agreement: %d %s", got.status, got.body)
	}

	// A second sub-processor has no effect until the controller approves it (Rule DPA-05).
	b.signIn(staff)
	b.open("/portal/databehandleravtaler/" + id)
	b.fill("f-underdatabehandler_navn", "Backup AB")
	b.fill("f-underdatabehandler_orgnr", "SE556677-8899")
	b.choose("f-underdatabehandler_land", "Sverige")
	b.fill("f-underdatabehandler_oppgave", "Sikkerhetskopier")
	b.press("Foreslå")
	b.sees("Foreslått – venter på godkjenning")
	b.signOut()
	annex3 := func() int {
		a, _ := h.db.Agreement(ctx, id)
		subs, _ := h.db.SubProcessors(ctx, id)
		return len(dpa.Annex3At(&a.Agreement, subs, h.clock.now()))
	}
	if n := annex3(); n != 1 {
		t.Fatalf("annex 3 with a pending proposal: %d", n)
	}
	b.signIn(admin)
	b.open("/portal/databehandleravtaler/" + id)
	b.press("Godkjenn skriftlig")
	b.sees("Underdatabehandleren er godkjent", "Backup AB")
	if n := annex3(); n != 2 {
		t.Fatalf("annex 3 after approval: %d", n)
	}

	// The controller orders a stop: the processor's next API call is refused (Rule DPA-11).
	b.fill("f-stans_begrunnelse", "Mistanke om avvik hos leverandøren.")
	b.press("Stans behandlingen")
	b.sees("Behandlingen er stanset", "Stanset av behandlingsansvarlig")
	if got := h.person(tok, p.Ident, ""); got.status != 403 {
		t.Fatalf("the processor's call after the stop order: %d", got.status)
	}

	// The agreement ends (Rule DPA-10).
	b.fill("f-avslutt_begrunnelse", "Tjenesten er sagt opp.")
	b.tick("f-valg-slette")
	b.press("Avslutt avtalen")
	b.sees("Avtalen er avsluttet", "Frist for sletting")
	b.signOut()

	// The processor's role holder files the deletion certificate.
	h.clock.advance(2 * time.Minute) // the certificate cannot predate the end; the form gives minutes
	b.signIn(procRH)
	b.open("/portal/databehandleravtaler/" + id)
	b.fill("f-sletting_hva", "Alle arbeidsforhold i fagsystemet og i sikkerhetskopiene")
	b.fill("f-sletting_hvordan", "Slettet og overskrevet")
	b.choose("f-sletting_tidspunkt", formTime(h.clock.now()))
	b.fill("f-sletting_utfort_av", "Driftsleder")
	b.tick("f-backup")
	b.press("Signer slettebekreftelsen")
	b.sees("Slettebekreftelsen er arkivert", "Sletting bekreftet")
	b.screenshot("databehandleravtale-slettet")
	if a, _ := h.db.Agreement(ctx, id); a.Status != dpa.StatusDeleted || a.Deletion == nil {
		t.Fatalf("after the certificate: %s", a.Status)
	}
}

package web

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"deling/internal/access"
	"deling/internal/governance"
	"deling/internal/incident"
	"deling/internal/store"
)

// Issue 12's "Done when" in Chromium, each page checked for accessibility:
// a processor's staff reports a breach at 16:50 on the Thursday before
// Easter 2026 (Rules AV-01, AV-03); the case worker sees the 72-hour clock
// run from the processor's awareness (16:00) over Easter — hand-computed:
// Easter Sunday 5 April 2026 at 16:00 (Rule AV-05) — and the processor's own
// 24 hours (Rule DPA-07); stops the
// consumer's API client from the case (Rule AV-02); computes who was
// affected from the lookup log; assesses with ENISA (Rule AV-04); decides to
// notify Datatilsynet and the persons; files the initial notice at hour 70
// with 2 hours left, a supplement after the deadline (art. 33(4)); writes
// the notice for the persons, previews it and starts the job that notifies
// those the log lists (Rule AV-06), one of whom reads it on their own page;
// publishes the public notice for the one without an address and writes to
// the consumer (Rule AA-22); closes, and follows up with lessons, a review date and an action
// with an owner and a due date until done (Rule AV-08). Every step is in
// the lookup log (Rule AV-07).
func TestBrowserIncidentEaster(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	b := newBrowser(t, h.srv.URL)
	consumer, _ := h.consumer("Påskekommune", grant(basic, access.ByArbeidstaker))
	processorOrg := string(syntheticOrg(8_100_004))
	client := h.client(consumer)
	tok := h.token(client)
	ps := h.employed(2)
	for _, p := range ps {
		if r := h.person(tok, p.Ident, ""); r.status != http.StatusOK {
			t.Fatalf("lookup: %d", r.status)
		}
	}
	person := h.account(governance.Person, "", ps[0].Ident)
	proc := h.account(governance.Databehandler, processorOrg, "")
	cw := h.account(governance.Saksbehandler, governance.AuthorityOrg, "")
	h.checkpoint()

	// 16:50 on Maundy Thursday 2026, Oslo. The lookups above were made at the real time, after it: the
	// computation of who was affected has no window, only the consumer. (The clock goes back, not
	// forward: the portal's sessions expire by the real clock.)
	at := func(y int, m time.Month, d, hh, mm int) time.Time { return time.Date(y, m, d, hh, mm, 0, 0, oslo) }
	reportAt := at(2026, 4, 2, 16, 50)
	h.clock.advance(reportAt.Sub(h.clock.now()))
	h.delegate(consumer, processorOrg) // the processor acts for the consumer: the case may stop the consumer's client
	aware := at(2026, 4, 2, 16, 0)

	b.signIn(proc)
	b.press("Avvik")
	b.press("Meld avvik")
	b.fill("f-hva", "Klientnøkkel hos databehandleren kom på avveie")
	b.choose("f-oppdaget", formTime(at(2026, 4, 2, 15, 30)))
	b.choose("f-databehandler_kjent", formTime(aware))
	b.tick("f-type-konfidensialitet")
	b.press("Send meldingen")
	b.sees("Avviket er meldt")
	b.signOut()

	// Hand-computed: 72 elapsed hours from 16:00 on Maundy Thursday is 16:00 on Easter Sunday, holidays or not;
	// the processor's 24 hours end at 16:00 on Good Friday.
	deadline, processorDeadline := "05.04.2026 kl. 16:00", "03.04.2026 kl. 16:00"
	if got := incident.NotifyDeadline(aware).In(oslo).Format("02.01.2006 kl. 15:04"); got != deadline {
		t.Fatalf("the domain's deadline %s, hand-computed %s", got, deadline)
	}
	b.signIn(cw)
	b.press("Avvik")
	b.sees("Klientnøkkel hos databehandleren", deadline, "71 t ") // 71 h 10 min less the seconds the walk took
	b.press("Klientnøkkel hos databehandleren kom på avveie")
	b.sees(deadline, processorDeadline)
	b.press("Ta saken")
	b.sees("Du har tatt saken", deadline)
	b.choose("f-tiltak", "stanse_tilgang")
	b.fill("f-tiltak_merknad", "Stanset klienten med nøkkelen")
	b.choose("f-konsument", "") // the client only, not the whole consumer
	b.fill("f-klient", client.ClientID)
	b.press("Registrer tiltaket")
	b.sees("Tiltaket er registrert", "klient "+client.ClientID, "Gjenoppta klienten "+client.ClientID)
	b.fill("f-berort_konsument", consumer)
	b.press("Beregn berørte")
	b.sees("Berørte personer er beregnet")
	b.press("Tilbake til saken")
	b.choose("f-dpc", "okonomiske")
	b.fill("f-dpc_0_begrunnelse", "Inntekt")
	b.choose("f-ei", "maksimal")
	b.fill("f-ei_begrunnelse", "Fødselsnummer")
	b.choose("f-cb_konfidensialitet", "1")
	b.fill("f-cb_konfidensialitet_begrunnelse", "Ukjent mottaker")
	for _, f := range []string{"saerlige_kategorier", "omdommetap", "identitetstyveri", "okonomisk_tap", "sikkerhetsrisiko", "behov_for_tiltak", "uleselig"} {
		b.fill("f-"+f+"_begrunnelse", "Vurdert")
	}
	b.fill("f-arsak_vurdering", "Nøkkel i kode")
	b.fill("f-hvem_fikk_tilgang", "Ukjent")
	b.press("Registrer risikovurderingen")
	b.sees("3,25")
	b.tick("f-melde-ja")
	b.fill("f-begrunnelse", "Høy alvorlighetsgrad")
	b.tick("f-berorte-varsle")
	b.fill("f-begrunnelse_berorte", "Inntekt kan misbrukes")
	b.press("Registrer beslutningen")
	b.sees("Beslutningen er registrert")
	b.signOut()

	// Hour 70 after the processor's awareness: 14:00 on Easter Sunday, 2 hours left (30 seconds
	// more, for the real time the next pages take: the clock runs).
	h.clock.advance(aware.Add(70*time.Hour - 30*time.Second).Sub(h.clock.now()))
	b.signIn(cw)
	b.press("Avvik")
	b.sees(deadline, "2 t 0 min igjen")
	b.press("Klientnøkkel hos databehandleren kom på avveie")
	b.tick("f-mer")
	b.fill("f-art", "En API-klients nøkkel kom på avveie hos databehandleren")
	b.fill("f-kontakt_navn", "Personvernombudet")
	b.press("Registrer meldingen")
	b.sees("Første melding til Datatilsynet er registrert", "Mer informasjon følger")
	b.signOut()

	// Tuesday after Easter: the supplement completes the notice; it names the first.
	h.clock.advance(at(2026, 4, 7, 10, 0).Sub(h.clock.now()))
	b.signIn(cw)
	b.press("Avvik")
	b.press("Klientnøkkel hos databehandleren kom på avveie")
	b.fill("f-kategorier_registrerte", "arbeidstakere")
	b.fill("f-kategorier_opplysninger", "arbeidsforhold, inntekt")
	b.fill("f-konsekvenser", "Uvedkommende kan ha hentet arbeidsforhold")
	b.fill("f-tiltak_beskrivelse", "Klienten ble stanset og nøkkelen byttet")
	b.press("Registrer meldingen")
	b.sees("Tilleggsmelding til Datatilsynet er registrert", "Tillegg til første melding sendt 05.04.2026 kl. 1")
	// The persons the log lists: the notice written for them, previewed as they will see it, sent
	// each by itself by the job (serve runs it on the leading node; here, directly).
	b.fill("f-varsel_hva", "En nøkkel som ga tilgang til arbeidsforholdet ditt, kom på avveie hos en leverandør.")
	b.fill("f-varsel_konsekvenser", "Noen kan ha sett hvor du jobber og hva du tjener.")
	b.fill("f-varsel_tiltak", "Klienten ble stanset og nøkkelen byttet")
	b.fill("f-varsel_rad", "Vær oppmerksom på henvendelser om arbeidsforholdet ditt.")
	b.press("Forhåndsvis varselet")
	b.sees("Forhåndsvisning av varselet", "Hva kan du gjøre?", "Hvem kan du kontakte?", "Personvernombudet")
	b.press("Start varslingen")
	b.sees("Varslingen av 2 berørte personer er startet", "0 av 2 varslet (0 nye, 0 allerede varslet), pågår", "Før saken kan lukkes")
	if _, err := h.db.RunIncidentNotices(ctx, store.NotifyBatch, 0); err != nil {
		t.Fatal(err)
	}
	b.press("Avvik")
	b.press("Klientnøkkel hos databehandleren kom på avveie")
	b.sees("2 av 2 varslet (2 nye, 0 allerede varslet), ferdig", "Varslet: 1 på e-post, 1 bare i portalen", "1 berørte har ingen adresse i portalen")
	// Rule AV-06: the person without an address is reached by a public notice (art. 34(3)(c)).
	b.fill("f-kunngjoring", "Har du vært ansatt i Påskekommune, kan opplysninger om arbeidsforholdet ditt ha kommet på avveie.")
	b.press("Publiser kunngjøringen")
	b.sees("Kunngjøringen er publisert")
	// Rule AA-22: the consumer the processor acts for gets the letter.
	b.fill("f-brevtekst", "Bytt nøklene til klientene deres.")
	b.press("Send brev til konsumentene")
	b.sees("Brevet er sendt til kontaktpersonene hos 1 konsumenter.")
	b.press("Lukk saken")
	b.sees("Saken er lukket", "Læring og oppfølging")
	b.fill("f-laerdom", "Nøkler skal aldri ligge i kode")
	b.choose("f-evaluering", formTime(at(2026, 6, 1, 10, 0)))
	b.press("Lagre læring og evaluering")
	b.sees("Læringen og evalueringsdatoen er registrert")
	b.choose("f-omrade", "systemer")
	b.fill("f-funn", "Nøkkelen lå i et offentlig repo")
	b.fill("f-oppfolgingstiltak", "Hemmelighetsskanning i CI")
	b.fill("f-ansvarlig", "IT-sjefen")
	b.choose("f-frist", formTime(at(2026, 4, 30, 12, 0)))
	b.press("Legg til tiltaket")
	b.sees("Oppfølgingstiltaket er registrert", "IT-sjefen", "30.04.2026 kl. 12:00")
	b.press("Merk som utført")
	b.sees("Tiltaket er merket som utført", incident.StatusFollowedUp.Label())
	b.screenshot("avvik-oppfolging")
	b.signOut()

	// The person reads the notice on their own page.
	b.signIn(person)
	b.press("Varsler om avvik")
	b.sees("Brudd på sikkerheten rundt personopplysninger om deg", "Hva har vi gjort?", "Klienten ble stanset og nøkkelen byttet")
	b.signOut()

	// Every step in the log, in order.
	cases, _ := h.db.Incidents(ctx, store.IncidentFilter{All: true})
	want := "meld,vurder,tiltak,berorte,risikovurdering,besluttet_melde,send_forste_melding,send_tilleggsmelding,varsle_berorte,varsling_fullfort,offentlig_kunngjoring,brev_konsumenter,lukk,oppfolging,oppfolging,oppfolging_fullfort"
	if len(cases) != 1 || strings.Join(h.incidentSteps(cases[0].ID), ",") != want {
		t.Fatalf("log steps %v", h.incidentSteps(cases[0].ID))
	}
}

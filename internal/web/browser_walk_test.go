package web

import (
	"net/http"
	"testing"
	"time"

	"deling/internal/governance"
	"deling/internal/ident"
	"deling/internal/register"
)

// Issue 5's walk in real Chromium, as the people would do it: an
// organisation applies, the case worker asks for more, the applicant answers,
// the case worker approves (test access first, AA-03), the consumer confirms
// its integration test and gets production access, the register publishes new
// terms, the consumer objects and the objection is met (AA-24), the register
// suspends access with a written notice (AA-25) and resumes it, and the
// consumer ends its access (AA-26). At each step the consumer's API client
// checks what it gets, in the test and the production environment.
// DELING_SCREENSHOTS=docs/screenshots saves the main pages.
func TestBrowserWalk(t *testing.T) {
	h := newHarness(t)
	b := newBrowser(t, h.srv.URL)
	prod := h.instance(register.EnvProd)
	test := &instance{h: h, srv: h.srv, issuer: h.issuer}

	orgSeq++
	org := string(ident.SyntheticOrgnr(9_200_000 + orgSeq))
	admin := h.account(governance.Administrator, org, "")
	leder := h.account(governance.Rolleinnehaver, org, "")
	saksbehandler := h.account(governance.Saksbehandler, governance.AuthorityOrg, "")
	forvalter := h.account(governance.Forvalter, governance.AuthorityOrg, "")
	cf := h.client(org) // the organisation's API client, registered before it has any access
	person := h.employed(1)[0].Ident

	// api is what the consumer's API calls get now, in the test and the production
	// environment: with a new token where the token server gives one, else with the last one.
	api := func(wantTest, wantProd int) {
		t.Helper()
		if got := test.lookup(cf, person); got != wantTest {
			t.Fatalf("%s: the test API answered %d, want %d", b.location(), got, wantTest)
		}
		if got := prod.lookup(cf, realPerson); got != wantProd {
			t.Fatalf("%s: the production API answered %d, want %d", b.location(), got, wantProd)
		}
	}
	as := func(email string) {
		t.Helper()
		if b.location() != "about:blank" && eval[bool](b, `document.querySelector("form[action='/logg-ut']") !== null`) {
			b.signOut()
		}
		b.signIn(email)
	}
	const none = http.StatusUnauthorized // no grant in the environment: the token server refuses the scope

	// 1. The administrator applies.
	api(none, none)
	as(admin)
	b.press("Søknader")
	b.press("Ny søknad")
	b.press("Send til signering") // empty: refused with the errors listed
	b.sees("Virksomhetens navn", "må fylles ut")
	b.fill("f-navn", "Testkommune NAV-kontor")
	b.fill("f-formaal", "Saksbehandling av søknader om økonomisk sosialhjelp")
	b.tick("f-grunnlag_type-hjemmel")
	b.fill("f-hjemmel", "sosialtjenesteloven § 33 / aa-registerforskriften § 10")
	b.choose("f-behandlingsgrunnlag", "e")
	b.fill("f-behandlingsgrunnlag_lov", "sosialtjenesteloven § 43")
	b.fill("f-admin_navn", "Anne Admin")
	b.fill("f-admin_epost", "anne@testkommune.example")
	b.fill("f-admin_telefon", "22 22 22 22")
	b.fill("f-teknisk_navn", "Tore Tekniker")
	b.fill("f-teknisk_epost", "tore@testkommune.example")
	b.fill("f-teknisk_telefon", "22 22 22 23")
	b.tick("f-kanal-api")
	b.choose("f-land", "Norge")
	b.fill("f-behandlingssted", "Kommunens eget driftssenter")
	b.tick("f-pakke-grunnopplysninger@1")
	b.fill("f-hvorfor_grunnopplysninger@1", "Vi må vite hvem søkeren arbeider for og i hvilken periode.")
	b.tick("f-oppslag-arbeidstaker")
	b.tick("f-vilkar")
	b.screenshot("soknad-skjema")
	b.press("Send til signering")
	b.sees("signering")

	// 2. The role holder signs (Rule AA-01).
	as(leder)
	b.press("Søknader")
	b.press("Saksbehandling av søknader om økonomisk sosialhjelp")
	b.press("Signer og send inn")
	b.sees("Innsendt")

	// 3. The case worker asks for more.
	as(saksbehandler)
	b.press("Saksbehandling")
	b.screenshot("saksbehandling")
	b.press("Testkommune NAV-kontor (" + org + ")")
	b.press("Ta saken")
	b.fill("f-sporsmal", "Hvor lenge lagrer dere opplysningene?")
	b.press("Be om mer informasjon")
	api(none, none)

	// 4. The applicant answers.
	as(admin)
	b.press("Søknader")
	b.press("Saksbehandling av søknader om økonomisk sosialhjelp")
	b.sees("Hvor lenge lagrer dere opplysningene?")
	b.fill("f-svar", "I saken og i ti år etter vedtaket, som arkivloven krever.")
	b.press("Send svar til saksbehandler")

	// 5. The case worker approves: test access first (Rule AA-03).
	as(saksbehandler)
	b.press("Saksbehandling")
	b.press("Testkommune NAV-kontor (" + org + ")")
	b.sees("I saken og i ti år etter vedtaket")
	if eval[bool](b, `[...document.querySelectorAll("button")].some(x => x.textContent.trim() === "Ta saken")`) {
		b.press("Ta saken")
	}
	b.tick("f-pakke-grunnopplysninger@1")
	b.screenshot("sak")
	b.press("Godkjenn og gi testtilgang")
	b.sees("Søknaden er godkjent", "Vedtak om tilgang")
	api(http.StatusOK, none)

	// 6. The consumer confirms its integration test; the case worker gives production access.
	as(admin)
	b.press("Tilganger")
	b.press("Integrasjonstesten er gjennomført")
	api(http.StatusOK, none)
	as(saksbehandler)
	b.press("Saksbehandling")
	b.press("Testkommune NAV-kontor (" + org + ")")
	b.press("Godkjenn produksjonstilgang")
	api(http.StatusOK, http.StatusOK)
	as(admin)
	b.press("Tilganger")
	b.sees("prod")
	b.screenshot("tilganger")
	b.press("Se søknaden")
	b.press("Vedtak om tilgang – produksjonsmiljø")
	b.sees("Vedtak", "sosialtjenesteloven § 33")
	b.screenshot("vedtak")

	// 7. The register publishes new terms: the first version applies at once, the next one in 30 days (Rule AA-24).
	as(forvalter)
	b.press("Vilkår")
	b.choose("f-type", string(governance.Bruksvilkar))
	b.fill("f-tittel", "Bruksvilkår for Aa-registeret")
	b.fill("f-tekst", "Opplysningene skal bare brukes til formålet i vedtaket.")
	b.press("Publiser og varsle")
	b.choose("f-type", string(governance.Bruksvilkar))
	b.fill("f-tittel", "Bruksvilkår for Aa-registeret, versjon 2")
	b.fill("f-tekst", "Opplysningene skal bare brukes til formålet i vedtaket.\n\nLoggen over oppslag skal kontrolleres hver måned.")
	b.choose("f-gjelder_fra", time.Now().AddDate(0, 0, 40).Format(time.DateOnly))
	b.press("Publiser og varsle")
	b.screenshot("vilkar-forvalter")
	api(http.StatusOK, http.StatusOK)

	// 8. The consumer objects; the case worker meets the objection, and access goes on.
	as(admin)
	b.press("Vilkår")
	b.sees("versjon 2")
	b.screenshot("vilkar-konsument")
	b.press("Meld innsigelse")
	b.fill("f-begrunnelse", "Vi kan ikke kontrollere loggen hver måned før systemet vårt er endret.")
	b.press("Send innsigelsen")
	as(saksbehandler)
	b.press("Innsigelser")
	b.press("Behandle innsigelsen fra Testkommune NAV-kontor")
	b.tick("f-utfall")
	b.fill("f-notat", "Kontroll hvert kvartal godtas til systemet er endret.")
	b.press("Send svaret")
	api(http.StatusOK, http.StatusOK)

	// 9. The register suspends access with a written notice (Rule AA-25), then resumes it.
	b.press("Konsumenter")
	b.press("Testkommune NAV-kontor")
	b.fill("f-brudd", "Oppslag uten sak i strid med bruksvilkårene punkt 3.")
	b.press("Suspender tilgangen")
	b.screenshot("konsument")
	api(http.StatusForbidden, http.StatusForbidden)
	as(admin)
	b.press("Brev")
	// The written notice went to the contact persons named in the application (Rules AA-06, AA-25);
	// its text is read in the inbox with Post/Arkiv, not on this page (Rule DPV-03).
	b.sees("Varsel: tilgangen til Aa-registeret er suspendert", "anne@testkommune.example", "tore@testkommune.example")
	b.screenshot("brev")
	as(saksbehandler)
	b.press("Konsumenter")
	b.press("Testkommune NAV-kontor")
	b.press("Gjenoppta tilgangen")
	api(http.StatusOK, http.StatusOK)

	// 10. The consumer ends its access (Rule AA-26).
	as(leder)
	b.open("/portal/avslutt")
	b.tick("f-bekreft")
	b.screenshot("avslutt")
	b.press("Avslutt all tilgang")
	api(http.StatusForbidden, http.StatusForbidden)
}

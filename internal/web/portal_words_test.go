package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"deling/internal/access"
	"deling/internal/audit"
	"deling/internal/governance"
)

// Issue 16, items 8–11: the portal speaks Norwegian to people — no codes, no
// English, no JSON paths, no rule IDs; times in Norwegian time with the zone
// named; organisations by name; only the columns the grant gives.
func TestPortalWords(t *testing.T) {
	h := newHarness(t)

	t.Run("web lookup: Norwegian reasons, only the grant's columns", func(t *testing.T) {
		basicOrg, _ := h.consumer("Grunnkommune", webGrant(access.ByArbeidstaker, access.ByArbeidssted))
		more := webGrant(access.ByArbeidstaker, access.ByArbeidssted)
		more.Packages = []string{"grunnopplysninger@1", "stillingsdetaljer@1"}
		moreOrg, _ := h.consumer("Stillingskommune", more)
		sted, _ := h.busiestArbeidssted()
		search := func(org string, form url.Values) page {
			u := h.signIn(h.account(governance.Oppslagsbruker, org, ""))
			u.post("/portal/oppslag/vilkar", url.Values{"bekreft": {"ja"}})
			return u.post("/portal/oppslag", form)
		}
		p := h.employed(1)[0]
		bad := []byte(p.Ident)
		bad[10] = '0' + (bad[10]-'0'+1)%10
		pg := search(basicOrg, url.Values{"sok": {"person"}, "ident": {string(bad)}})
		if pg.status != http.StatusBadRequest || !pg.has("det andre kontrollsifferet stemmer ikke") || pg.has("check digit") {
			t.Errorf("a wrong check digit: %d\n%s", pg.status, pg.body)
		}
		pg = search(basicOrg, url.Values{"sok": {"arbeidssted"}, "ident": {sted}})
		if pg.status != http.StatusOK || !pg.has(`<th scope="col">Periode</th>`) || pg.has(`<th scope="col">Yrke</th>`) || pg.has(`<th scope="col">Stilling</th>`) {
			t.Errorf("grunnopplysninger only: the columns are wrong\n%s", pg.body)
		}
		pg = search(moreOrg, url.Values{"sok": {"arbeidssted"}, "ident": {sted}})
		if pg.status != http.StatusOK || !pg.has(`<th scope="col">Yrke</th>`) || !pg.has(`<th scope="col">Stilling</th>`) {
			t.Errorf("with stillingsdetaljer: Yrke and Stilling are missing\n%s", pg.body)
		}
		if strings.Contains(pg.body, "-01-") || strings.Contains(pg.body, "permisjon(er)") {
			t.Error("a date as yyyy-mm-dd, or a plural in brackets")
		}
	})

	privat, _ := h.consumer("Pensjonsselskap", grant(basic, access.ByArbeidstaker))
	h.db.UpsertConsumer(t.Context(), access.Consumer{Orgnr: privat, Navn: "Pensjonsselskap", Status: access.Active, Category: "privat"}, "test")
	p := h.employed(1)[0]
	tok := h.token(h.client(privat))
	h.person(tok, p.Ident, "")
	h.person(tok, "12345678901", "") // refused: invalid-request
	var lookups []audit.Record
	for _, r := range h.records(privat) {
		if r.Kind == audit.KindLookup {
			lookups = append(lookups, r)
		}
	}
	if len(lookups) != 2 {
		t.Fatalf("lookups logged: %d", len(lookups))
	}
	shown := lookups[0].Time.In(oslo).Format("02.01.2006 kl. 15:04:05") + " norsk tid"

	t.Run("the consumer's log in words and Norwegian time", func(t *testing.T) {
		admin := h.signIn(h.account(governance.Administrator, privat, ""))
		pg := admin.get("/portal/oppslagslogg")
		for _, want := range []string{"Tillatt", "Avvist: ugyldig forespørsel", "API (maskin-til-maskin)", shown, "<td>Arbeidsforholdene til en arbeidstaker</td>"} {
			if !pg.has(want) {
				t.Errorf("the log lacks %q", want)
			}
		}
		// The route in words, not in code (issue 16, item 8).
		for _, not := range []string{"permit", "deny", "invalid-request", "<td>api</td>", "GET /api", "<code>GET"} {
			if pg.has(not) {
				t.Errorf("the log shows %q", not)
			}
		}
	})

	t.Run("a person's insight in words and Norwegian time", func(t *testing.T) {
		me := h.signIn(h.account(governance.Person, "", p.Ident))
		pg := me.get("/portal/innsyn")
		if !pg.has("API (maskin-til-maskin)") || pg.has("<td>api</td>") || pg.has(">api<") || !pg.has(shown) || !pg.has("Pensjonsselskap (org.nr. "+privat+")") {
			t.Errorf("insight:\n%s", pg.body)
		}
	})

	t.Run("organisations by name, never the number twice", func(t *testing.T) {
		// An organisation that is not (yet) a consumer: its name comes from the register.
		orgnr := h.afs[0].OpplysningspliktigIdent()
		o, err := h.db.Organisation(t.Context(), orgnr)
		if err != nil {
			t.Fatal(err)
		}
		admin := h.signIn(h.account(governance.Administrator, orgnr, ""))
		pg := admin.get("/portal")
		if !pg.has("Administrator for "+o.Navn+" (org.nr. "+orgnr+")") || pg.has(orgnr+" ("+orgnr+")") {
			t.Errorf("home page:\n%s", pg.body)
		}
	})

	t.Run("package elements by their labels, no rule IDs", func(t *testing.T) {
		admin := h.signIn(h.account(governance.Administrator, privat, ""))
		pg := admin.get("/portal/soknader/ny")
		if pg.status != http.StatusOK || !pg.has("Avtalt stillingsprosent") || pg.has(">ansettelsesdetaljer.avtaltStillingsprosent<") || pg.has("(AA-") || pg.has("(SK-") {
			t.Errorf("the application form: %d\n%s", pg.status, pg.body)
		}
		if pg.has("et berettiget interesse") || !pg.has("en berettiget interesse") {
			t.Error("the grammar of letter f")
		}
	})
}

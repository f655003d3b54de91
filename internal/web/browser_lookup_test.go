package web

import (
	"testing"

	"deling/internal/access"
	"deling/internal/governance"
)

// Issue 6's walk in the browser: sign in, refused before ticking the terms
// (AA-04), search a person, page through an employer with names, never a
// protected person (AA-11), and a removed user is signed out at the next click (AA-27).
func TestBrowserWebLookup(t *testing.T) {
	h := newHarness(t)
	b := newBrowser(t, h.srv.URL)
	org, _ := h.consumer("Nettkommune", webGrant(access.ByArbeidstaker, access.ByArbeidssted))
	email := h.account(governance.Oppslagsbruker, org, "")
	p := h.employed(1)[0]
	var protectedNames []string
	for _, q := range h.persons {
		if q.Protected() {
			protectedNames = append(protectedNames, q.Navn())
		}
	}

	b.signIn(email)
	b.press("Oppslag")
	b.sees("kjenner taushetsplikten")
	b.press("Bekreft og gå videre") // without the tick
	b.sees("Du må bekrefte at du har lest vilkårene")
	b.screenshot("oppslag-vilkaar")
	b.tick("bekreft")
	b.press("Bekreft og gå videre")
	b.tick("sok-person")
	b.fill("ident", p.Ident)
	b.press("Søk")
	b.sees(p.Navn())
	b.doesNotSee(protectedNames...)

	sted, _ := h.busiestArbeidssted()
	b.tick("sok-arbeidssted")
	b.fill("ident", sted)
	b.press("Søk")
	b.sees("Arbeidsforhold")
	b.doesNotSee(protectedNames...)
	b.screenshot("oppslag-arbeidssted")
	b.press("Neste side")
	b.sees("side 2")
	b.doesNotSee(protectedNames...)

	// The organisation's administrator removes the user; the next click signs them out.
	u, _, err := h.db.UserByEmail(t.Context(), email)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.db.RemoveMembership(t.Context(), u.ID, org, governance.Oppslagsbruker, "test"); err != nil {
		t.Fatal(err)
	}
	b.press("Neste side")
	b.sees("Logg inn")
	b.doesNotSee(protectedNames...)
}

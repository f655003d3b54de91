package web

import (
	"testing"

	"deling/internal/access"
	"deling/internal/governance"
)

// Issue 16, item 6 ("Done when": a browser test signs in through the test
// OpenID Connect provider): in Chromium, a person presses "Logg inn med
// ID-porten", comes back signed in and reads their insight; a member of
// staff nobody linked is refused in Norwegian; a linked one gets in.
func TestBrowserOpenIDSignIn(t *testing.T) {
	o := newOpenIDPortal(t)
	h := o.h
	b := newBrowser(t, o.srv.URL)
	privat, _ := h.consumer("Pensjonsselskap", grant(basic, access.ByArbeidstaker))
	h.db.UpsertConsumer(t.Context(), access.Consumer{Orgnr: privat, Navn: "Pensjonsselskap", Status: access.Active, Category: "privat"}, "test")
	p := h.employed(1)
	h.person(h.token(h.client(privat)), p[0].Ident, "")
	h.checkpoint()

	o.idporten.next(idWho{sub: "pairwise-browser", claims: map[string]any{"pid": p[0].Ident, "acr": "idporten-loa-high", "amr": []string{"BankID"}}})
	b.open("/logg-inn")
	b.sees("Logg inn med ID-porten", "Logg inn med Entra ID", "E-postadresse")
	b.screenshot("logg-inn-oidc")
	b.press("Logg inn med ID-porten")
	b.sees("Min side")
	b.open("/portal/innsyn")
	b.sees("Pensjonsselskap")
	b.doesNotSee(p[0].Ident)
	b.signOut()

	o.staff.next(idWho{sub: "entra-browser", claims: map[string]any{"email": "ukjent@register.example", "email_verified": true}})
	b.press("Logg inn med Entra ID")
	b.sees("Du er ikke registrert som ansatt i registeret", "entra-browser")
	b.screenshot("logg-inn-oidc-avvist")
	b.open("/portal")
	b.sees("Logg inn")

	cw := h.account(governance.Saksbehandler, governance.AuthorityOrg, "")
	o.staff.next(idWho{sub: "entra-browser-cw", claims: map[string]any{"email": cw, "email_verified": true}})
	b.open("/logg-inn")
	b.press("Logg inn med Entra ID")
	b.sees("Min side", "Saksbehandling")
}

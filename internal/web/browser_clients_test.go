package web

import (
	"net/http"
	"testing"

	"deling/internal/access"
	"deling/internal/governance"
	"deling/internal/token"
)

// Issue 16, item 5 in the browser: a developer registers an API client by its
// public key, reads the client id off the page, and the client gets a token
// and data with it.
func TestBrowserRegisterClient(t *testing.T) {
	h := newHarness(t)
	b := newBrowser(t, h.srv.URL)
	org, _ := h.consumer("Utviklerkommune", grant(basic, access.ByArbeidstaker))
	priv, kid, jwk, err := token.NewClientKey("ES256")
	if err != nil {
		t.Fatal(err)
	}
	p := h.employed(1)[0]

	b.signIn(h.account(governance.Utvikler, org, ""))
	b.press("API-klienter")
	b.sees("Registrer en ny klient")
	b.tick("type-jwk")
	b.fill("f-nokkel", string(jwk))
	b.fill("f-beskrivelse", "Fagsystemet")
	b.press("Registrer klienten")
	b.sees("Klienten er registrert", "Fagsystemet", "Aktiv")
	b.screenshot("klienter")
	id := eval[string](b, `document.getElementById("ny-klient-id").textContent`)

	pemText, err := token.EncodePrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	cf := token.ClientFile{ClientID: id, KID: kid, PrivateKeyPEM: pemText, TokenEndpoint: h.issuer + "token", Audience: h.issuer, Scope: DefaultAPIScope}
	if a := h.person(h.token(cf), p.Ident, ""); a.status != http.StatusOK {
		t.Fatalf("lookup with the client registered in the browser: %d", a.status)
	}
}

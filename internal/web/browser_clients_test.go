package web

import (
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"

	"deling/internal/access"
	"deling/internal/governance"
	"deling/internal/token"
)

// Issue 16, item 5 in the browser: a developer registers an API client by its
// public key, reads the client id off the page, and the client gets a token
// and data with it; then a second client by a key file uploaded (a JWKS).
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

	// A second client by a key uploaded as a file (a JWKS with one key), as a developer's browser sends it.
	priv2, kid2, jwk2, err := token.NewClientKey("RS256")
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "klient.jwks")
	if err := os.WriteFile(file, []byte(`{"keys":[`+string(jwk2)+`]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	b.run(chromedp.SetUploadFiles(byID("f-fil"), []string{file}))
	b.fill("f-beskrivelse", "Fra fil")
	b.press("Registrer klienten")
	b.sees("Klienten er registrert", "Fra fil")
	id2 := eval[string](b, `document.getElementById("ny-klient-id").textContent`)
	pem2, err := token.EncodePrivateKey(priv2)
	if err != nil {
		t.Fatal(err)
	}
	cf2 := token.ClientFile{ClientID: id2, KID: kid2, PrivateKeyPEM: pem2, TokenEndpoint: h.issuer + "token", Audience: h.issuer, Scope: DefaultAPIScope}
	if id2 == id || h.person(h.token(cf2), p.Ident, "").status != http.StatusOK {
		t.Fatalf("lookup with the client registered by a file: %s", id2)
	}
}

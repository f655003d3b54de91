package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"deling/internal/access"
	"deling/internal/governance"
	"deling/internal/token"
	"deling/internal/token/authserver"
)

// Issue 16, item 5: a developer of an organisation with access registers an
// API client in the portal by its public key, sees its client id, gets a token
// and data with it, and revokes it; nobody else may touch it, and an
// organisation without access registers none (deny by default).
func TestPortalClients(t *testing.T) {
	h := newHarness(t)
	org, _ := h.consumer("Klientkommune", grant(basic, access.ByArbeidstaker))
	other, _ := h.consumer("Annen kommune", grant(basic, access.ByArbeidstaker))
	dev := h.signIn(h.account(governance.Utvikler, org, ""))
	p := h.employed(1)[0]

	priv, kid, jwk, err := token.NewClientKey("RS256")
	if err != nil {
		t.Fatal(err)
	}
	before, _ := h.db.Clients(t.Context(), org)

	// A private key, and a certificate that is not one, are refused, with nothing stored.
	private := strings.Replace(string(jwk), "{", `{"d":"AQAB",`, 1)
	if pg := dev.post("/portal/klienter", url.Values{"type": {"jwk"}, "nokkel": {private}}); pg.status != http.StatusBadRequest || !pg.has("uten den private nøkkelen") || !pg.has(`href="#f-nokkel"`) {
		t.Fatalf("a private JWK: %d", pg.status)
	}
	if pg := dev.post("/portal/klienter", url.Values{"type": {"sertifikat"}, "nokkel": {"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----"}}); pg.status != http.StatusBadRequest || !pg.has("kunne ikke leses") {
		t.Fatalf("a bad certificate: %d", pg.status)
	}
	if cs, _ := h.db.Clients(t.Context(), org); len(cs) != len(before) {
		t.Fatalf("a refused key was stored: %d clients", len(cs))
	}

	pg := dev.post("/portal/klienter", url.Values{"type": {"jwk"}, "nokkel": {string(jwk)}, "beskrivelse": {"Saksbehandlingssystemet"}})
	u, err := url.Parse(pg.url)
	if err != nil || pg.status != http.StatusOK || u.Path != "/portal/klienter" {
		t.Fatalf("register: %d %s", pg.status, pg.url)
	}
	id := u.Query().Get("ny")
	if id == "" || !pg.has(`<code id="ny-klient-id">`+id+`</code>`) || !pg.has("Saksbehandlingssystemet") {
		t.Fatalf("the client id is not shown: %q\n%s", id, pg.body)
	}

	// The client gets a token with its own key and the data its grant gives.
	pemText, err := token.EncodePrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	cf := token.ClientFile{ClientID: id, KID: kid, PrivateKeyPEM: pemText, TokenEndpoint: h.issuer + "token", Audience: h.issuer, Scope: DefaultAPIScope}
	if a := h.person(h.token(cf), p.Ident, ""); a.status != http.StatusOK {
		t.Fatalf("lookup with the registered client: %d", a.status)
	}

	// Another organisation's developer cannot revoke it: the same answer as for no client at all.
	stranger := h.signIn(h.account(governance.Utvikler, other, ""))
	if pg := stranger.post("/portal/klienter/"+id+"/trekk-tilbake", nil); pg.status != http.StatusNotFound {
		t.Fatalf("another organisation revoking: %d", pg.status)
	}
	if pg := stranger.get("/portal/klienter"); pg.has(id) {
		t.Fatal("another organisation sees the client")
	}
	if c, err := h.db.Client(t.Context(), id); err != nil || !c.Active {
		t.Fatalf("the client after a stranger's try: %+v %v", c, err)
	}

	// Rotation: a new key replaces the old at once; a bad one changes nothing; a stranger's try is not found.
	priv2, kid2, jwk2, err := token.NewClientKey("ES256")
	if err != nil {
		t.Fatal(err)
	}
	if pg := stranger.post("/portal/klienter/"+id+"/ny-nokkel", url.Values{"type": {"jwk"}, "nokkel": {string(jwk2)}}); pg.status != http.StatusNotFound {
		t.Fatalf("another organisation rotating: %d", pg.status)
	}
	if pg := dev.post("/portal/klienter/"+id+"/ny-nokkel", url.Values{"type": {"jwk"}, "nokkel": {private}}); pg.status != http.StatusBadRequest || !pg.has(`href="#f-nokkel-`+id+`"`) {
		t.Fatalf("rotating to a private key: %d", pg.status)
	}
	h.token(cf) // the old key still works after the refused rotation
	if pg := dev.post("/portal/klienter/"+id+"/ny-nokkel", url.Values{"type": {"jwk"}, "nokkel": {string(jwk2)}}); pg.status != http.StatusOK || !pg.has("ny nøkkel") {
		t.Fatalf("rotate: %d", pg.status)
	}
	if _, err := authserver.RequestToken(context.Background(), cf, h.srv.Client()); err == nil {
		t.Fatal("the old key got a token after rotation")
	}
	pem2, err := token.EncodePrivateKey(priv2)
	if err != nil {
		t.Fatal(err)
	}
	cf.KID, cf.PrivateKeyPEM = kid2, pem2
	if a := h.person(h.token(cf), p.Ident, ""); a.status != http.StatusOK {
		t.Fatalf("lookup with the new key: %d", a.status)
	}

	if pg := dev.post("/portal/klienter/"+id+"/trekk-tilbake", nil); pg.status != http.StatusOK || !pg.has("Trukket tilbake") {
		t.Fatalf("revoke: %d", pg.status)
	}
	if _, err := authserver.RequestToken(context.Background(), cf, h.srv.Client()); err == nil {
		t.Fatal("a revoked client got a token")
	}

	// An organisation without access registers no client.
	applicant := h.signIn(h.account(governance.Administrator, h.afs[0].OpplysningspliktigIdent(), ""))
	if pg := applicant.get("/portal/klienter"); pg.status != http.StatusOK || !pg.has("må ha fått tilgang") || pg.has("Registrer klienten") {
		t.Fatalf("an organisation without access: %d", pg.status)
	}
	if pg := applicant.post("/portal/klienter", url.Values{"type": {"jwk"}, "nokkel": {string(jwk)}}); pg.status != http.StatusForbidden {
		t.Fatalf("an organisation without access registering: %d", pg.status)
	}
	// A web-lookup user is no developer.
	if pg := h.signIn(h.account(governance.Oppslagsbruker, org, "")).get("/portal/klienter"); pg.status != http.StatusForbidden {
		t.Fatalf("a lookup user: %d", pg.status)
	}
}

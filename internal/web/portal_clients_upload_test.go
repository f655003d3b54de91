package web

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"html"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"deling/internal/access"
	"deling/internal/governance"
	"deling/internal/token"
)

// postFile sends a multipart form with a file "fil" as a browser would (same-origin unless headers say otherwise).
func (b *browserless) postFile(path string, fields url.Values, name string, content []byte, headers ...string) page {
	b.h.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for k, vs := range fields {
		for _, v := range vs {
			mw.WriteField(k, v)
		}
	}
	fw, _ := mw.CreateFormFile("fil", name)
	fw.Write(content)
	mw.Close()
	req, _ := http.NewRequest("POST", b.url()+path, &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Origin", b.url())
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := b.client.Do(req)
	if err != nil {
		b.h.t.Fatal(err)
	}
	return readPage(b.h.t, resp)
}

// Issue 16, item 5: a client's public key uploaded as a file — a JWKS with
// one key, a PEM public key — registers a client that gets a token and data;
// a rotation takes a file too; bad files get a clear Norwegian message and
// store nothing; a cross-site upload is refused.
func TestPortalClientKeyFile(t *testing.T) {
	h := newHarness(t)
	ctx := t.Context()
	org, _ := h.consumer("Filkommune", grant(basic, access.ByArbeidstaker))
	dev := h.signIn(h.account(governance.Utvikler, org, ""))
	p := h.employed(1)[0]
	count := func() int {
		cs, err := h.db.Clients(ctx, org)
		if err != nil {
			t.Fatal(err)
		}
		return len(cs)
	}

	priv, kid, jwk, err := token.NewClientKey("ES256")
	if err != nil {
		t.Fatal(err)
	}
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.MarshalPKIXPublicKey(&ec.PublicKey)
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	pkcs8, _ := x509.MarshalPKCS8PrivateKey(ec)

	// Bad files: a message by the file field, nothing stored.
	for _, c := range []struct {
		name string
		file []byte
		msg  string
	}{
		{"to.jwks", []byte(`{"keys":[` + string(jwk) + `,` + string(jwk) + `]}`), "med 2 nøkler"},
		{"privat.pem", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8}), "inneholder en privat nøkkel"},
		{"bilde.png", []byte("\x89PNG\r\n\x1a\n"), "verken en offentlig nøkkel"},
		{"stor.json", bytes.Repeat([]byte(" "), 40<<10), "Filen er for stor"},
		{"svaer.json", bytes.Repeat([]byte(" "), 100<<10), "Filen er for stor"}, // over the form's limit: refused while read
		{"tom.jwk", nil, "Filen er tom"},
	} {
		pg := dev.postFile("/portal/klienter", url.Values{"type": {"jwk"}}, c.name, c.file)
		if pg.status != http.StatusBadRequest || !pg.has(html.EscapeString(c.msg)) || !pg.has(`href="#f-fil"`) {
			t.Fatalf("%s: %d\n%s", c.name, pg.status, pg.body)
		}
	}
	if pg := dev.postFile("/portal/klienter", url.Values{"type": {"jwk"}, "nokkel": {string(jwk)}}, "k.jwk", jwk); pg.status != http.StatusBadRequest || !pg.has("ikke begge") {
		t.Fatalf("a file and a pasted key: %d", pg.status)
	}
	jwks := []byte(`{"keys":[` + string(jwk) + `]}`)
	if pg := dev.postFile("/portal/klienter", nil, "k.jwks", jwks, "Origin", "https://angriper.test", "Sec-Fetch-Site", "cross-site"); pg.status != http.StatusForbidden {
		t.Fatalf("a cross-site upload: %d", pg.status)
	}
	if n := count(); n != 0 {
		t.Fatalf("bad uploads stored %d clients", n)
	}

	// A JWKS of one key: registered, and its client gets a token and data.
	pg := dev.postFile("/portal/klienter", url.Values{"beskrivelse": {"Fra fil"}}, "k.jwks", jwks)
	u, _ := url.Parse(pg.url)
	id := u.Query().Get("ny")
	if pg.status != http.StatusOK || id == "" || !pg.has("Fra fil") {
		t.Fatalf("upload a JWKS: %d %s\n%s", pg.status, pg.url, pg.body)
	}
	pemText, _ := token.EncodePrivateKey(priv)
	cf := token.ClientFile{ClientID: id, KID: kid, PrivateKeyPEM: pemText, TokenEndpoint: h.issuer + "token", Audience: h.issuer, Scope: DefaultAPIScope}
	if a := h.person(h.token(cf), p.Ident, ""); a.status != http.StatusOK {
		t.Fatalf("lookup with the uploaded key: %d", a.status)
	}

	// Rotation to a PEM public key: the page names the kid it got, the thumbprint, and the client signs with it.
	thumb, _ := token.Thumbprint(&ec.PublicKey)
	if pg := dev.postFile("/portal/klienter/"+id+"/ny-nokkel", nil, "ny.pem", pemKey); pg.status != http.StatusOK || !pg.has("nøkkel-id (kid) "+thumb) {
		t.Fatalf("rotate by a PEM file: %d\n%s", pg.status, pg.body)
	}
	ecPEM, _ := token.EncodePrivateKey(ec)
	cf.KID, cf.PrivateKeyPEM = thumb, ecPEM
	if a := h.person(h.token(cf), p.Ident, ""); a.status != http.StatusOK {
		t.Fatalf("lookup with the rotated key: %d", a.status)
	}
	// A bad file on rotation: the message by that client's file field, the key unchanged.
	if pg := dev.postFile("/portal/klienter/"+id+"/ny-nokkel", nil, "x.pem", []byte("tull")); pg.status != http.StatusBadRequest || !pg.has(`href="#f-fil-`+id+`"`) {
		t.Fatalf("rotate by a bad file: %d", pg.status)
	}
	h.token(cf)
	if strings.Contains(pg.body, "PRIVATE") {
		t.Fatal("a key's private part on the page")
	}
}

package web

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"html"
	"math/big"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"deling/internal/access"
	"deling/internal/governance"
)

// enterpriseCert is a certificate issued to orgnr (SEID 2), valid until notAfter, with its key.
func enterpriseCert(t *testing.T, orgnr, cn string, notAfter time.Time) ([]byte, *ecdsa.PrivateKey) {
	t.Helper()
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), NotBefore: notAfter.Add(-365 * 24 * time.Hour), NotAfter: notAfter,
		Subject: pkix.Name{CommonName: cn, ExtraNames: []pkix.AttributeTypeAndValue{{Type: asn1.ObjectIdentifier{2, 5, 4, 97}, Value: "NTRNO-" + orgnr}}}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), k
}

// A certificate bundle that also holds the private key — uploaded or pasted —
// is refused and nothing with PRIVATE KEY reaches the database; a
// certificate of another organisation, an expired one and a too long paste
// are refused with their own message; a chain registers, and the page says
// which certificate is the client's.
func TestPortalClientCertificateChecks(t *testing.T) {
	h := newHarness(t)
	ctx := t.Context()
	org, _ := h.consumer("Sertifikatkommune", grant(basic, access.ByArbeidstaker))
	dev := h.signIn(h.account(governance.Utvikler, org, ""))
	now := time.Now()
	leaf, key := enterpriseCert(t, org, "Sertifikatkommune klient", now.Add(90*24*time.Hour))
	ca, _ := enterpriseCert(t, org, "Test-CA", now.Add(900*24*time.Hour))
	der, _ := x509.MarshalPKCS8PrivateKey(key)
	bundle := append(append([]byte{}, leaf...), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})...)
	other, _ := enterpriseCert(t, "999999999", "Annen", now.Add(time.Hour))
	expired, _ := enterpriseCert(t, org, "Gammel", now.Add(-time.Hour))

	if pg := dev.postFile("/portal/klienter", url.Values{"type": {"jwk"}}, "bundle.pem", bundle); pg.status != http.StatusBadRequest || !pg.has("inneholder en privat nøkkel") {
		t.Fatalf("an uploaded bundle with a private key: %d", pg.status)
	}
	for _, c := range []struct {
		name, text, msg string
	}{
		{"a pasted bundle with a private key", string(bundle), "inneholder en privat nøkkel"},
		{"another organisation's certificate", string(other), "ikke utstedt til virksomheten"},
		{"an expired certificate", string(expired), "utløpt"},
		{"a 60 KiB paste", strings.Repeat("A", 60<<10), "Nøkkelen er for lang"},
	} {
		if pg := dev.post("/portal/klienter", url.Values{"type": {"sertifikat"}, "nokkel": {c.text}}); pg.status != http.StatusBadRequest || !pg.has(html.EscapeString(c.msg)) {
			t.Fatalf("%s: %d\n%s", c.name, pg.status, pg.body)
		}
	}
	if cs, err := h.db.Clients(ctx, org); err != nil || len(cs) != 0 {
		t.Fatalf("refused certificates stored %d clients (%v)", len(cs), err)
	}

	pg := dev.post("/portal/klienter", url.Values{"type": {"sertifikat"}, "nokkel": {"Bag Attributes\n" + string(leaf) + string(ca)}})
	if pg.status != http.StatusOK || !pg.has("Kjeden har 2 sertifikater. Klientens sertifikat er det første (Sertifikatkommune klient") {
		t.Fatalf("a chain: %d\n%s", pg.status, pg.body)
	}
	u, _ := url.Parse(pg.url)
	c, err := h.db.Client(ctx, u.Query().Get("ny"))
	if err != nil || len(c.Certificates) != 1 || c.Certificates[0].Subject.CommonName != "Sertifikatkommune klient" {
		t.Fatalf("the registered client: %v", err)
	}

	// The client's private key is in none of the database's files (the WAL
	// included); the token server's own signing keys are, so look for this key's text.
	privText := strings.Split(string(bundle[len(leaf):]), "\n")[1]
	h.db.Close()
	files, _ := filepath.Glob(filepath.Join(h.dataDir, "*"))
	if len(files) == 0 {
		t.Fatal("no database files")
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err == nil && bytes.Contains(b, []byte(privText)) {
			t.Fatalf("%s holds a private key", f)
		}
	}
}

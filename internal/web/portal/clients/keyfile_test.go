package clients

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"strings"
	"testing"
	"time"

	"deling/internal/token"
)

// keyFiles are a key pair's public key as the files a developer uploads.
type keyFiles struct {
	JWK, JWKS, JWKS2, PEMKey, PKCS1, Cert, Private []byte
	// Bundle is Cert followed by Private; ECBundle Cert, EC PARAMETERS and an EC PRIVATE KEY.
	Bundle, ECBundle []byte
	KID              string
}

func makeKeyFiles(t testing.TB) keyFiles {
	t.Helper()
	_, kid, jwk, err := token.NewClientKey("ES256")
	if err != nil {
		t.Fatal(err)
	}
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.MarshalPKIXPublicKey(&ec.PublicKey)
	rk, _ := rsa.GenerateKey(rand.Reader, 2048)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Testvirksomhet"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	cert, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &rk.PublicKey, rk)
	if err != nil {
		t.Fatal(err)
	}
	priv, _ := x509.MarshalPKCS8PrivateKey(ec)
	ecDER, _ := x509.MarshalECPrivateKey(ec)
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert})
	privPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: priv})
	return keyFiles{
		Bundle: append(append([]byte{}, certPEM...), privPEM...),
		ECBundle: append(append(append([]byte{}, certPEM...), pem.EncodeToMemory(&pem.Block{Type: "EC PARAMETERS", Bytes: []byte{6, 8, 42, 134, 72, 206, 61, 3, 1, 7}})...),
			pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: ecDER})...),
		JWK: jwk, KID: kid,
		JWKS:    []byte(`{"keys":[` + string(jwk) + `]}`),
		JWKS2:   []byte(`{"keys":[` + string(jwk) + `,` + string(jwk) + `]}`),
		PEMKey:  pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}),
		PKCS1:   pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(&rk.PublicKey)}),
		Cert:    pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert}),
		Private: pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: priv}),
	}
}

// Issue 16, item 5: a key uploaded as a file — JWK, JWKS with one key, PEM
// certificate or public key — is read as the form takes it; anything else
// gets a message saying what is wrong.
func TestKeyFile(t *testing.T) {
	k := makeKeyFiles(t)
	for _, c := range []struct {
		name      string
		file      []byte
		kind, msg string
	}{
		{"jwk", k.JWK, kindJWK, ""},
		{"jwks of one", k.JWKS, kindJWK, ""},
		{"pem public key", k.PEMKey, kindJWK, ""},
		{"pkcs1 public key", k.PKCS1, kindJWK, ""},
		{"certificate", k.Cert, kindCertificate, ""},
		{"certificate with a byte-order mark", append([]byte("\xef\xbb\xbf"), k.Cert...), kindCertificate, ""},
		{"jwks of two", k.JWKS2, "", "med 2 nøkler"},
		{"empty jwks", []byte(`{"keys":[]}`), "", "med 0 nøkler"},
		{"private pem", k.Private, "", "privat nøkkel"},
		{"certificate then private key", k.Bundle, "", "privat nøkkel"},
		{"certificate, EC parameters, private key", k.ECBundle, "", "privat nøkkel"},
		{"private jwk", []byte(strings.Replace(string(k.JWK), "{", `{"d":"AQAB",`, 1)), "", "privat nøkkel"},
		{"jwk without kid", []byte(`{"kty":"EC","crv":"P-256","x":"AA","y":"AA"}`), "", "gyldig offentlig nøkkel"},
		{"empty", []byte(" \n"), "", "tom"},
		{"too large", []byte("{" + strings.Repeat(" ", maxKeyFile) + "}"), "", "for stor"},
		{"binary", []byte{0x30, 0x82, 0x01, 0x0a}, "", "verken"},
		{"bad certificate", []byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"), "", "kunne ikke leses"},
		{"small rsa", pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(&rsa.PublicKey{N: big.NewInt(1<<62 + 1), E: 65537})}), "", "kan ikke brukes"},
	} {
		kind, material, kid, msg := keyFile(c.file)
		if kind != c.kind || (c.msg == "") != (msg == "") || !strings.Contains(msg, c.msg) {
			t.Errorf("%s: kind %q, message %q", c.name, kind, msg)
			continue
		}
		if msg != "" {
			continue
		}
		// What the file gives is what the form accepts (the pasted path), and a PEM key's kid is its thumbprint.
		f := form{Kind: kind, Key: material, Bad: map[string]string{}}
		if key := f.key("id"); len(f.Bad) > 0 || key.Material == "" {
			t.Errorf("%s: the form refuses the file's key: %v", c.name, f.Bad)
		}
		if c.name == "jwk" && kid != "" || strings.HasPrefix(c.name, "pem") && (kid == "" || !strings.Contains(material, kid)) {
			t.Errorf("%s: kid %q", c.name, kid)
		}
	}
}

// FuzzKeyFile: no file makes the reader panic, and a file it accepts is one
// the form accepts too.
func FuzzKeyFile(f *testing.F) {
	k := makeKeyFiles(f)
	for _, b := range [][]byte{k.JWK, k.JWKS, k.JWKS2, k.PEMKey, k.PKCS1, k.Cert, k.Private, k.Bundle, k.ECBundle, []byte(`{"keys":null}`), []byte("-----BEGIN X-----\n-----END X-----")} {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		kind, material, _, msg := keyFile(b)
		if msg != "" {
			if kind != "" || material != "" {
				t.Fatalf("a refused file gave a key: %q", kind)
			}
			return
		}
		if strings.Contains(material, "PRIVATE KEY") {
			t.Fatalf("accepted as %s with a private key", kind)
		}
		fm := form{Kind: kind, Key: strings.TrimSpace(material), Bad: map[string]string{}}
		if fm.key("id"); len(fm.Bad) > 0 {
			t.Fatalf("accepted as %s, refused by the form: %v", kind, fm.Bad)
		}
	})
}

// The pasted path refuses a certificate bundle with a private key as the file path does.
func TestPastedBundleRefused(t *testing.T) {
	k := makeKeyFiles(t)
	for _, b := range [][]byte{k.Bundle, k.ECBundle} {
		f := form{Kind: kindCertificate, Key: string(b), Bad: map[string]string{}}
		if key := f.key("id"); key.Material != "" || !strings.Contains(f.Bad["nokkel"], "privat nøkkel") {
			t.Errorf("a pasted bundle: %q", f.Bad)
		}
	}
}

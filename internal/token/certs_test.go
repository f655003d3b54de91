package token

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"
)

func testCert(t testing.TB, orgnr string, notAfter time.Time) ([]byte, *ecdsa.PrivateKey) {
	t.Helper()
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), NotBefore: notAfter.Add(-48 * time.Hour), NotAfter: notAfter,
		Subject: pkix.Name{CommonName: "Test", ExtraNames: []pkix.AttributeTypeAndValue{{Type: asn1.ObjectIdentifier{2, 5, 4, 97}, Value: "NTRNO-" + orgnr}}}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), k
}

// A certificate bundle that also holds a private key, in any block, is
// refused whole; the certificates alone come back re-encoded, the client's first.
func TestParseCertificates(t *testing.T) {
	now := time.Now()
	leaf, k := testCert(t, "310000019", now.Add(time.Hour))
	ca, _ := testCert(t, "310000027", now.Add(time.Hour))
	der, _ := x509.MarshalECPrivateKey(k)
	ecPriv := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der})
	ecParams := pem.EncodeToMemory(&pem.Block{Type: "EC PARAMETERS", Bytes: []byte{6, 8, 42, 134, 72, 206, 61, 3, 1, 7}})
	for name, text := range map[string]string{
		"cert then private key":                  string(leaf) + string(ecPriv),
		"cert, EC parameters, private key":       string(leaf) + string(ecParams) + string(ecPriv),
		"cert then a broken private key block":   string(leaf) + "-----BEGIN PRIVATE KEY-----\n!!\n-----END PRIVATE KEY-----\n",
		"chain then private key between the two": string(leaf) + string(ecPriv) + string(ca),
	} {
		if _, _, err := ParseCertificates([]byte(text)); !errors.Is(err, ErrPrivateKey) {
			t.Errorf("%s: %v", name, err)
		}
	}
	for name, text := range map[string]string{
		"none":              "hello",
		"EC parameters":     string(leaf) + string(ecParams),
		"text after":        string(leaf) + "trailing",
		"a public key only": string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: []byte{1}})),
	} {
		if _, _, err := ParseCertificates([]byte(text)); err == nil || errors.Is(err, ErrPrivateKey) {
			t.Errorf("%s: %v", name, err)
		}
	}
	certs, text, err := ParseCertificates([]byte("Bag Attributes\n" + string(leaf) + "\n" + string(ca)))
	if err != nil || len(certs) != 2 || string(text) != string(leaf)+string(ca) || strings.Contains(string(text), "Bag") {
		t.Fatalf("a chain: %d certificates, %v\n%s", len(certs), err, text)
	}
	if CheckCertificate(certs[0], "310000019", now) != nil {
		t.Fatal("the client's own certificate refused")
	}
}

// A certificate is checked at registration as at each assertion: its key,
// its validity, the organisation it was issued to.
func TestCheckCertificate(t *testing.T) {
	now := time.Now()
	parse := func(b []byte) *x509.Certificate {
		certs, _, err := ParseCertificates(b)
		if err != nil {
			t.Fatal(err)
		}
		return certs[0]
	}
	good, _ := testCert(t, "310000019", now.Add(time.Hour))
	old, _ := testCert(t, "310000019", now.Add(-time.Hour))
	if err := CheckCertificate(parse(good), "310000027", now); !errors.Is(err, ErrCertificateOrgnr) {
		t.Errorf("another organisation's certificate: %v", err)
	}
	if err := CheckCertificate(parse(old), "310000019", now); !errors.Is(err, ErrCertificateExpired) {
		t.Errorf("an expired certificate: %v", err)
	}
	c := parse(good)
	rk, _ := rsa.GenerateKey(rand.Reader, 2048)
	c.PublicKey = &rsa.PublicKey{N: rk.N, E: 3}
	if err := CheckCertificate(c, "310000019", now); !errors.Is(err, ErrCertificateKey) {
		t.Errorf("an RSA key with exponent 3: %v", err)
	}
}

// Weak RSA public exponents are refused (1 makes a "signature" the message itself).
func TestCheckKeyExponent(t *testing.T) {
	rk, _ := rsa.GenerateKey(rand.Reader, 2048)
	for _, e := range []int{1, 3, 65536, 65538} {
		if CheckKey(&rsa.PublicKey{N: rk.N, E: e}) == nil {
			t.Errorf("exponent %d accepted", e)
		}
	}
	if err := CheckKey(&rk.PublicKey); err != nil {
		t.Errorf("exponent 65537: %v", err)
	}
}

// FuzzParseCertificates: no text makes the parser panic; text it accepts
// gives certificates only, which parse again to the same ones.
func FuzzParseCertificates(f *testing.F) {
	leaf, k := testCert(f, "310000019", time.Now().Add(time.Hour))
	der, _ := x509.MarshalECPrivateKey(k)
	f.Add(leaf)
	f.Add(append(append([]byte{}, leaf...), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der})...))
	f.Add([]byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		certs, text, err := ParseCertificates(b)
		if err != nil {
			return
		}
		if strings.Contains(string(text), "PRIVATE KEY") || len(certs) == 0 {
			t.Fatalf("accepted %d certificates with %q", len(certs), text)
		}
		again, _, err := ParseCertificates(text)
		if err != nil || len(again) != len(certs) {
			t.Fatalf("the stored text does not parse again: %v", err)
		}
	})
}

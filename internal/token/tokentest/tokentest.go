// Package tokentest holds the keys, certificates, clients and in-memory
// stores that the tests of package token and its server and verifier
// share, as net/http/httptest does for HTTP. It is imported only by tests.
package tokentest

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	_ "embed"
	"encoding/asn1"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"deling/internal/token"
)

// Organisations of the test world.
const (
	OrgA = "310000001" // a consumer with its own clients
	OrgB = "310000002" // a data processor
	OrgC = "310000003" // a consumer that has delegated to OrgB
	OrgD = "310000004" // a consumer that has not delegated to anyone

	ScopeLookup  = "deling:oppslag"
	ScopeExtract = "deling:uttrekk"
)

// Clients is an in-memory client source, as authserver.ClientSource.
type Clients map[string]token.Client

func (m Clients) Client(_ context.Context, id string) (token.Client, error) {
	c, ok := m[id]
	if !ok {
		return token.Client{}, fmt.Errorf("client %q: %w", id, token.ErrUnknownClient)
	}
	return c, nil
}

// JTIs is an in-memory authserver.JTIStore.
type JTIs struct {
	mu   sync.Mutex
	used map[string]time.Time
}

func (m *JTIs) Use(_ context.Context, clientID, jti string, exp time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.used == nil {
		m.used = map[string]time.Time{}
	}
	k := clientID + "\x00" + jti
	if _, ok := m.used[k]; ok {
		return fmt.Errorf("jti: %w", token.ErrReplay)
	}
	m.used[k] = exp
	return nil
}

// Authz is an in-memory authserver.Authorizer: grants per consumer, delegations
// from consumer to processor.
type Authz struct {
	grants      map[string][]string
	delegations map[[2]string]bool // {consumer, processor}
}

func (m Authz) Scopes(_ context.Context, consumer, asker string) ([]string, error) {
	if consumer != asker && !m.delegations[[2]string{consumer, asker}] {
		return nil, fmt.Errorf("%s for %s: %w", asker, consumer, token.ErrNotDelegated)
	}
	return m.grants[consumer], nil
}

// World holds the keys, certificates, clients and grants of the tests.
type World struct {
	RSAKey, RSAKey2, OtherRSA *rsa.PrivateKey
	ECKey                     *ecdsa.PrivateKey
	RSAKID, RSAKID2, ECKID    string

	SelfSigned      *x509.Certificate // RSAKey2, serialNumber OrgA
	Unregistered    *x509.Certificate // RSAKey2, serialNumber OrgA, not registered
	WrongOrg        *x509.Certificate // RSAKey2, serialNumber OrgD
	Root, OtherRoot *x509.Certificate
	Chained         *x509.Certificate // RSAKey2, organizationIdentifier NTRNO-OrgA, issued by Root
	Untrusted       *x509.Certificate // RSAKey2, issued by OtherRoot

	Signing    [2]token.SigningKey // our keys
	SigningRSA [2]*rsa.PrivateKey  // the private keys of Signing

	Clients Clients
	Authz   Authz
}

// Shared is the one World of a test binary, made on first use.
var Shared = sync.OnceValue(func() *World {
	must := func(err error) {
		if err != nil {
			panic(err)
		}
	}
	w := &World{}
	keys := rsaKeys()
	w.RSAKey, w.RSAKey2, w.OtherRSA = keys[0], keys[1], keys[2]
	var err error
	w.ECKey, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(err)
	for i := range w.Signing {
		der, err := x509.MarshalPKCS8PrivateKey(keys[3+i])
		must(err)
		kid, err := token.Thumbprint(&keys[3+i].PublicKey)
		must(err)
		w.SigningRSA[i] = keys[3+i]
		w.Signing[i] = token.SigningKey{KID: kid, PrivatePEM: pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), Created: time.Now()}
	}
	w.RSAKID, err = token.Thumbprint(&w.RSAKey.PublicKey)
	must(err)
	w.RSAKID2, err = token.Thumbprint(&w.RSAKey2.PublicKey)
	must(err)
	w.ECKID, err = token.Thumbprint(&w.ECKey.PublicKey)
	must(err)

	w.SelfSigned = MakeCert(w.RSAKey2, pkix.Name{CommonName: "A AS", SerialNumber: OrgA}, nil, nil, false)
	w.Unregistered = MakeCert(w.RSAKey2, pkix.Name{CommonName: "A AS other", SerialNumber: OrgA}, nil, nil, false)
	w.WrongOrg = MakeCert(w.RSAKey2, pkix.Name{CommonName: "D AS", SerialNumber: OrgD}, nil, nil, false)
	rootKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(err)
	w.Root = MakeCert(rootKey, pkix.Name{CommonName: "Test Root CA"}, nil, nil, true)
	otherRootKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(err)
	w.OtherRoot = MakeCert(otherRootKey, pkix.Name{CommonName: "Other Root CA"}, nil, nil, true)
	seid2 := pkix.Name{CommonName: "A AS", ExtraNames: []pkix.AttributeTypeAndValue{
		{Type: asn1.ObjectIdentifier{2, 5, 4, 97}, Value: "NTRNO-" + OrgA},
	}}
	w.Chained = MakeCert(w.RSAKey2, seid2, w.Root, rootKey, false)
	w.Untrusted = MakeCert(w.RSAKey2, seid2, w.OtherRoot, otherRootKey, false)

	rsaPub := token.PublicKey{KID: w.RSAKID, Key: &w.RSAKey.PublicKey}
	ecPub := token.PublicKey{KID: w.ECKID, Key: &w.ECKey.PublicKey}
	w.Clients = Clients{
		"rs-client":       {ID: "rs-client", Orgnr: OrgA, Keys: []token.PublicKey{rsaPub}, Active: true},
		"es-client":       {ID: "es-client", Orgnr: OrgA, Keys: []token.PublicKey{ecPub}, Active: true},
		"pinned-client":   {ID: "pinned-client", Orgnr: OrgA, Keys: []token.PublicKey{{KID: w.RSAKID, Alg: "RS512", Key: &w.RSAKey.PublicKey}}, Active: true},
		"cert-client":     {ID: "cert-client", Orgnr: OrgA, Certificates: []*x509.Certificate{w.SelfSigned}, Active: true},
		"chain-client":    {ID: "chain-client", Orgnr: OrgA, Certificates: []*x509.Certificate{w.Chained, w.Untrusted}, Active: true},
		"wrongorg-client": {ID: "wrongorg-client", Orgnr: OrgA, Certificates: []*x509.Certificate{w.WrongOrg}, Active: true},
		"inactive-client": {ID: "inactive-client", Orgnr: OrgA, Keys: []token.PublicKey{rsaPub}, Active: false},
		"processor":       {ID: "processor", Orgnr: OrgB, Keys: []token.PublicKey{rsaPub}, Active: true},
	}
	w.Authz = Authz{
		grants: map[string][]string{
			OrgA: {ScopeLookup, ScopeExtract},
			OrgB: {ScopeLookup},
			OrgC: {ScopeLookup},
			OrgD: {ScopeLookup},
		},
		delegations: map[[2]string]bool{{OrgC, OrgB}: true},
	}
	return w
})

//go:embed testdata/rsa-test-keys.pem
var rsaTestKeys []byte

// rsaKeys reads the five RSA keys of testdata/rsa-test-keys.pem.
// They are made once, as generating RSA keys takes long, above all in
// every fuzz worker.
func rsaKeys() []*rsa.PrivateKey {
	b := rsaTestKeys
	var keys []*rsa.PrivateKey
	for {
		var block *pem.Block
		block, b = pem.Decode(b)
		if block == nil {
			break
		}
		k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			panic(err)
		}
		keys = append(keys, k.(*rsa.PrivateKey))
	}
	if len(keys) != 5 {
		panic(fmt.Sprintf("testdata/rsa-test-keys.pem: %d keys, want 5", len(keys)))
	}
	return keys
}

// MakeCert makes a certificate for key, self-signed when parent is nil.
func MakeCert(key crypto.Signer, subject pkix.Name, parent *x509.Certificate, parentKey crypto.Signer, ca bool) *x509.Certificate {
	serial, err := rand.Int(rand.Reader, big.NewInt(1<<62))
	if err != nil {
		panic(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      subject,
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	if ca {
		tmpl.IsCA, tmpl.BasicConstraintsValid = true, true
		tmpl.KeyUsage |= x509.KeyUsageCertSign
	}
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, key.Public(), parentKey)
	if err != nil {
		panic(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		panic(err)
	}
	return cert
}

// CertPEM encodes certificates as PEM, in order.
func CertPEM(certs ...*x509.Certificate) string {
	var b strings.Builder
	for _, c := range certs {
		b.Write(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw}))
	}
	return b.String()
}

// X5C is the x5c header value of a chain.
func X5C(certs ...*x509.Certificate) []string {
	var out []string
	for _, c := range certs {
		out = append(out, base64.StdEncoding.EncodeToString(c.Raw))
	}
	return out
}

// PrivPEM encodes a private key as PEM PKCS#8.
func PrivPEM(t testing.TB, k crypto.Signer) string {
	t.Helper()
	s, err := token.EncodePrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Payload decodes the claims of a JWT without checking it.
func Payload(t testing.TB, raw string) map[string]any {
	t.Helper()
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWS: %d parts", len(parts))
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// SameSet reports whether a and b hold the same strings, in any order.
func SameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// Sign makes a JWT with the given header parameters (besides alg and typ).
func Sign(t testing.TB, m jwt.SigningMethod, key any, header map[string]any, claims jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(m, claims)
	for k, v := range header {
		tok.Header[k] = v
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// RootPool trusts the World's Root.
func RootPool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(Shared().Root)
	return p
}

// Clock is a settable clock for tests.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock is a Clock at the present time.
func NewClock() *Clock { return &Clock{t: time.Now()} }

// Now is the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Add moves the clock by d.
func (c *Clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// PrivateJWKMembers are the JWK members that carry private key material
// (RFC 7518 §6.2.2, §6.3.2, §6.4.1): a published JWKS must have none.
var PrivateJWKMembers = []string{"d", "p", "q", "dp", "dq", "qi", "oth", "k"}

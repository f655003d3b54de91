package token

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Organisations of the test world.
const (
	orgA = "310000001" // a consumer with its own clients
	orgB = "310000002" // a data processor
	orgC = "310000003" // a consumer that has delegated to orgB
	orgD = "310000004" // a consumer that has not delegated to anyone

	scopeLookup  = "deling:oppslag"
	scopeExtract = "deling:uttrekk"
)

// memClients is an in-memory ClientSource.
type memClients map[string]Client

func (m memClients) Client(_ context.Context, id string) (Client, error) {
	c, ok := m[id]
	if !ok {
		return Client{}, fmt.Errorf("client %q: %w", id, ErrUnknownClient)
	}
	return c, nil
}

// memJTIs is an in-memory JTIStore.
type memJTIs struct {
	mu   sync.Mutex
	used map[string]time.Time
}

func (m *memJTIs) Use(_ context.Context, clientID, jti string, exp time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.used == nil {
		m.used = map[string]time.Time{}
	}
	k := clientID + "\x00" + jti
	if _, ok := m.used[k]; ok {
		return fmt.Errorf("jti: %w", ErrReplay)
	}
	m.used[k] = exp
	return nil
}

// memAuthz is an in-memory Authorizer: grants per consumer, delegations
// from consumer to processor.
type memAuthz struct {
	grants      map[string][]string
	delegations map[[2]string]bool // {consumer, processor}
}

func (m memAuthz) Scopes(_ context.Context, consumer, asker string) ([]string, error) {
	if consumer != asker && !m.delegations[[2]string{consumer, asker}] {
		return nil, fmt.Errorf("%s for %s: %w", asker, consumer, ErrNotDelegated)
	}
	return m.grants[consumer], nil
}

// testWorld holds the keys, certificates, clients and grants of the tests.
type testWorld struct {
	rsaKey, rsaKey2, otherRSA *rsa.PrivateKey
	ecKey                     *ecdsa.PrivateKey
	rsaKID, rsaKID2, ecKID    string

	selfSigned      *x509.Certificate // rsaKey2, serialNumber orgA
	unregistered    *x509.Certificate // rsaKey2, serialNumber orgA, not registered
	wrongOrg        *x509.Certificate // rsaKey2, serialNumber orgD
	root, otherRoot *x509.Certificate
	chained         *x509.Certificate // rsaKey2, organizationIdentifier NTRNO-orgA, issued by root
	untrusted       *x509.Certificate // rsaKey2, issued by otherRoot

	signing [2]SigningKey // our keys

	clients memClients
	authz   memAuthz
}

var world = sync.OnceValue(func() *testWorld {
	must := func(err error) {
		if err != nil {
			panic(err)
		}
	}
	w := &testWorld{}
	keys := testRSAKeys()
	w.rsaKey, w.rsaKey2, w.otherRSA = keys[0], keys[1], keys[2]
	var err error
	w.ecKey, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(err)
	for i := range w.signing {
		der, err := x509.MarshalPKCS8PrivateKey(keys[3+i])
		must(err)
		kid, err := Thumbprint(&keys[3+i].PublicKey)
		must(err)
		w.signing[i] = SigningKey{KID: kid, PrivatePEM: pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), Created: time.Now()}
	}
	w.rsaKID, err = Thumbprint(&w.rsaKey.PublicKey)
	must(err)
	w.rsaKID2, err = Thumbprint(&w.rsaKey2.PublicKey)
	must(err)
	w.ecKID, err = Thumbprint(&w.ecKey.PublicKey)
	must(err)

	w.selfSigned = makeCert(w.rsaKey2, pkix.Name{CommonName: "A AS", SerialNumber: orgA}, nil, nil, false)
	w.unregistered = makeCert(w.rsaKey2, pkix.Name{CommonName: "A AS other", SerialNumber: orgA}, nil, nil, false)
	w.wrongOrg = makeCert(w.rsaKey2, pkix.Name{CommonName: "D AS", SerialNumber: orgD}, nil, nil, false)
	rootKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(err)
	w.root = makeCert(rootKey, pkix.Name{CommonName: "Test Root CA"}, nil, nil, true)
	otherRootKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(err)
	w.otherRoot = makeCert(otherRootKey, pkix.Name{CommonName: "Other Root CA"}, nil, nil, true)
	seid2 := pkix.Name{CommonName: "A AS", ExtraNames: []pkix.AttributeTypeAndValue{
		{Type: asn1.ObjectIdentifier{2, 5, 4, 97}, Value: "NTRNO-" + orgA},
	}}
	w.chained = makeCert(w.rsaKey2, seid2, w.root, rootKey, false)
	w.untrusted = makeCert(w.rsaKey2, seid2, w.otherRoot, otherRootKey, false)

	rsaPub := PublicKey{KID: w.rsaKID, Key: &w.rsaKey.PublicKey}
	ecPub := PublicKey{KID: w.ecKID, Key: &w.ecKey.PublicKey}
	w.clients = memClients{
		"rs-client":       {ID: "rs-client", Orgnr: orgA, Keys: []PublicKey{rsaPub}, Active: true},
		"es-client":       {ID: "es-client", Orgnr: orgA, Keys: []PublicKey{ecPub}, Active: true},
		"pinned-client":   {ID: "pinned-client", Orgnr: orgA, Keys: []PublicKey{{KID: w.rsaKID, Alg: "RS512", Key: &w.rsaKey.PublicKey}}, Active: true},
		"cert-client":     {ID: "cert-client", Orgnr: orgA, Certificates: []*x509.Certificate{w.selfSigned}, Active: true},
		"chain-client":    {ID: "chain-client", Orgnr: orgA, Certificates: []*x509.Certificate{w.chained, w.untrusted}, Active: true},
		"wrongorg-client": {ID: "wrongorg-client", Orgnr: orgA, Certificates: []*x509.Certificate{w.wrongOrg}, Active: true},
		"inactive-client": {ID: "inactive-client", Orgnr: orgA, Keys: []PublicKey{rsaPub}, Active: false},
		"processor":       {ID: "processor", Orgnr: orgB, Keys: []PublicKey{rsaPub}, Active: true},
	}
	w.authz = memAuthz{
		grants: map[string][]string{
			orgA: {scopeLookup, scopeExtract},
			orgB: {scopeLookup},
			orgC: {scopeLookup},
			orgD: {scopeLookup},
		},
		delegations: map[[2]string]bool{{orgC, orgB}: true},
	}
	return w
})

// testRSAKeys reads the five RSA keys of testdata/rsa-test-keys.pem.
// They are made once, as generating RSA keys takes long, above all in
// every fuzz worker.
func testRSAKeys() []*rsa.PrivateKey {
	b, err := os.ReadFile("testdata/rsa-test-keys.pem")
	if err != nil {
		panic(err)
	}
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

func makeCert(key crypto.Signer, subject pkix.Name, parent *x509.Certificate, parentKey crypto.Signer, ca bool) *x509.Certificate {
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

func certPEM(certs ...*x509.Certificate) string {
	var b strings.Builder
	for _, c := range certs {
		b.Write(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw}))
	}
	return b.String()
}

func x5c(certs ...*x509.Certificate) []string {
	var out []string
	for _, c := range certs {
		out = append(out, base64.StdEncoding.EncodeToString(c.Raw))
	}
	return out
}

func privPEM(t testing.TB, k crypto.Signer) string {
	t.Helper()
	s, err := EncodePrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// fixture is a running token server with a verifier for its tokens.
type fixture struct {
	issuer   string
	keys     *KeySet
	server   *Server
	http     *httptest.Server
	jtis     *memJTIs
	verifier *Verifier
}

func newFixture(t testing.TB, roots *x509.CertPool) *fixture {
	t.Helper()
	w := world()
	ks, err := NewKeySet([]SigningKey{w.signing[0]}, nil)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{keys: ks, jtis: &memJTIs{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) { f.server.Token(w, r) })
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, r *http.Request) { f.server.JWKS(w, r) })
	mux.HandleFunc("GET /.well-known/oauth-authorization-server", func(w http.ResponseWriter, r *http.Request) { f.server.Metadata(w, r) })
	f.http = httptest.NewServer(mux)
	t.Cleanup(f.http.Close)
	f.issuer = f.http.URL + "/"
	f.server, err = NewServer(Config{
		Issuer: f.issuer, Clients: w.clients, JTIs: f.jtis, Authorizer: w.authz, Keys: ks,
		TrustedRoots:    roots,
		ScopesSupported: func() []string { return []string{scopeLookup, scopeExtract} },
	})
	if err != nil {
		t.Fatal(err)
	}
	f.verifier, err = NewVerifier(t.Context(), VerifierConfig{Keys: ks, Issuer: f.issuer})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func rootPool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(world().root)
	return p
}

// clientFile is a ClientFile for a client of the test world.
func (f *fixture) clientFile(t testing.TB, clientID string, key crypto.Signer, kid string) ClientFile {
	return ClientFile{
		ClientID: clientID, KID: kid, PrivateKeyPEM: privPEM(t, key),
		TokenEndpoint: f.issuer + "token", Audience: f.issuer, Scope: scopeLookup,
	}
}

// claims are assertion claims valid now for rs-client.
func (f *fixture) claims(iss string) jwt.MapClaims {
	now := time.Now()
	return jwt.MapClaims{
		"aud": f.issuer, "iss": iss, "iat": now.Unix(), "exp": now.Add(100 * time.Second).Unix(),
		"jti": rand.Text(), "scope": scopeLookup,
	}
}

// sign makes a JWT with the given header parameters (besides alg and typ).
func sign(t testing.TB, m jwt.SigningMethod, key any, header map[string]any, claims jwt.MapClaims) string {
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

// oauthReply is a decoded token endpoint answer.
type oauthReply struct {
	status      int
	Error       string `json:"error"`
	Description string `json:"error_description"`
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int    `json:"expires_in"`
	Scope       string `json:"scope"`
	header      http.Header
}

func (f *fixture) post(t testing.TB, contentType string, body string) oauthReply {
	t.Helper()
	resp, err := f.http.Client().Post(f.issuer+"token", contentType, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	r := oauthReply{status: resp.StatusCode, header: resp.Header}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		t.Fatalf("decode reply (HTTP %d): %v", resp.StatusCode, err)
	}
	return r
}

func (f *fixture) postAssertion(t testing.TB, assertion string) oauthReply {
	t.Helper()
	form := url.Values{"grant_type": {grantTypeJWTBearer}, "assertion": {assertion}}
	return f.post(t, "application/x-www-form-urlencoded", form.Encode())
}

// payload decodes the claims of a JWT without checking it.
func payload(t testing.TB, raw string) map[string]any {
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

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

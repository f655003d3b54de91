package authserver

import (
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"deling/internal/token"
	"deling/internal/token/bearer"
	"deling/internal/token/tokentest"
)

// The test world of package tokentest, under the short names the tests use.
const (
	orgA         = tokentest.OrgA
	orgB         = tokentest.OrgB
	orgC         = tokentest.OrgC
	orgD         = tokentest.OrgD
	scopeLookup  = tokentest.ScopeLookup
	scopeExtract = tokentest.ScopeExtract

	testIssuer = "https://deling.test/"
)

type memJTIs = tokentest.JTIs

var (
	world    = tokentest.Shared
	sign     = tokentest.Sign
	x5c      = tokentest.X5C
	certPEM  = tokentest.CertPEM
	privPEM  = tokentest.PrivPEM
	payload  = tokentest.Payload
	sameSet  = tokentest.SameSet
	rootPool = tokentest.RootPool
	makeCert = tokentest.MakeCert
	newClock = tokentest.NewClock
)

// fixture is a running token server with a verifier for its tokens.
type fixture struct {
	issuer   string
	keys     *token.KeySet
	server   *Server
	http     *httptest.Server
	jtis     *memJTIs
	verifier *bearer.Verifier
}

func newFixture(t testing.TB, roots *x509.CertPool) *fixture {
	t.Helper()
	w := world()
	ks, err := token.NewKeySet([]token.SigningKey{w.Signing[0]}, nil)
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
	f.server, err = New(Config{
		Issuer: f.issuer, Clients: w.Clients, JTIs: f.jtis, Authorizer: w.Authz, Keys: ks,
		TrustedRoots:    roots,
		ScopesSupported: func() []string { return []string{scopeLookup, scopeExtract} },
	})
	if err != nil {
		t.Fatal(err)
	}
	f.verifier, err = bearer.NewVerifier(t.Context(), bearer.Config{Keys: ks, Issuer: f.issuer})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// clientFile is a ClientFile for a client of the test world.
func (f *fixture) clientFile(t testing.TB, clientID string, key crypto.Signer, kid string) token.ClientFile {
	return token.ClientFile{
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

package web

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// testProvider is a small OpenID Connect provider on loopback for the
// sign-in tests: discovery, an authorization endpoint that signs in whoever
// the test says (who), a token endpoint that checks the client's secret,
// the code, its redirect URI and the PKCE verifier (S256) and answers with
// a signed ID token, and its keys. Knobs in who make tokens a real provider
// would not: another audience, expired, a wrong nonce, another key.
type testProvider struct {
	t        *testing.T
	srv      *httptest.Server
	clientID string
	secret   string
	key      *rsa.PrivateKey
	otherKey *rsa.PrivateKey // not published: a token signed with it must be refused

	mu    sync.Mutex
	who   idWho
	codes map[string]issuedCode
	// seen are the authorization requests' query strings, for the test to check.
	seen []url.Values
}

// idWho is whom the provider signs in next, and how the token is made.
type idWho struct {
	sub    string
	claims map[string]any // pid, acr, amr, email, email_verified, …
	// Knobs: aud replaces the client id; expired makes exp an hour ago;
	// nonce replaces the request's; otherKey signs with a key not published.
	aud      string
	expired  bool
	nonce    string
	otherKey bool
}

type issuedCode struct {
	who                             idWho
	nonce, challenge, redirect, aud string
}

func newTestProvider(t *testing.T) *testProvider {
	t.Helper()
	p := &testProvider{t: t, clientID: "deling-test", secret: "s3cret-not-logged", codes: map[string]issuedCode{}}
	var err error
	if p.key, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		t.Fatal(err)
	}
	if p.otherKey, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", p.discovery)
	mux.HandleFunc("GET /authorize", p.authorize)
	mux.HandleFunc("POST /token", p.token)
	mux.HandleFunc("GET /jwks", p.jwks)
	p.srv = httptest.NewServer(mux)
	t.Cleanup(p.srv.Close)
	return p
}

func (p *testProvider) issuer() string { return p.srv.URL }

func (p *testProvider) next(w idWho) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.who = w
}

func (p *testProvider) discovery(w http.ResponseWriter, r *http.Request) {
	json.NewEncoder(w).Encode(map[string]any{
		"issuer": p.issuer(), "authorization_endpoint": p.issuer() + "/authorize", "token_endpoint": p.issuer() + "/token",
		"jwks_uri": p.issuer() + "/jwks", "response_types_supported": []string{"code"}, "subject_types_supported": []string{"pairwise"},
		"id_token_signing_alg_values_supported": []string{"RS256"}, "code_challenge_methods_supported": []string{"S256"},
	})
}

func (p *testProvider) jwks(w http.ResponseWriter, r *http.Request) {
	json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &p.key.PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig"}}})
}

func (p *testProvider) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.seen = append(p.seen, q)
	if q.Get("client_id") != p.clientID || q.Get("response_type") != "code" || q.Get("code_challenge_method") != "S256" ||
		q.Get("code_challenge") == "" || q.Get("state") == "" || q.Get("nonce") == "" {
		http.Error(w, "bad authorization request", http.StatusBadRequest)
		return
	}
	code := rand.Text()
	p.codes[code] = issuedCode{who: p.who, nonce: q.Get("nonce"), challenge: q.Get("code_challenge"), redirect: q.Get("redirect_uri")}
	to, _ := url.Parse(q.Get("redirect_uri"))
	back := to.Query()
	back.Set("code", code)
	back.Set("state", q.Get("state"))
	to.RawQuery = back.Encode()
	http.Redirect(w, r, to.String(), http.StatusFound)
}

func (p *testProvider) token(w http.ResponseWriter, r *http.Request) {
	id, secret, ok := r.BasicAuth()
	if !ok {
		id, secret = r.PostFormValue("client_id"), r.PostFormValue("client_secret")
	}
	if id != p.clientID || secret != p.secret {
		http.Error(w, `{"error":"invalid_client"}`, http.StatusUnauthorized)
		return
	}
	p.mu.Lock()
	c, found := p.codes[r.PostFormValue("code")]
	delete(p.codes, r.PostFormValue("code")) // a code is used once
	p.mu.Unlock()
	sum := sha256.Sum256([]byte(r.PostFormValue("code_verifier")))
	if !found || r.PostFormValue("grant_type") != "authorization_code" || r.PostFormValue("redirect_uri") != c.redirect ||
		base64.RawURLEncoding.EncodeToString(sum[:]) != c.challenge {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		w.Write([]byte(`{"error":"invalid_grant"}`))
		return
	}
	now := time.Now()
	cl := map[string]any{"iss": p.issuer(), "sub": c.who.sub, "aud": p.clientID, "iat": now.Unix(), "exp": now.Add(2 * time.Minute).Unix(), "nonce": c.nonce}
	if c.who.aud != "" {
		cl["aud"] = c.who.aud
	}
	if c.who.expired {
		cl["iat"], cl["exp"] = now.Add(-2*time.Hour).Unix(), now.Add(-time.Hour).Unix()
	}
	if c.who.nonce != "" {
		cl["nonce"] = c.who.nonce
	}
	for k, v := range c.who.claims {
		cl[k] = v
	}
	key := p.key
	if c.who.otherKey {
		key = p.otherKey
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key}, (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", "k1"))
	if err != nil {
		p.t.Error(err)
		return
	}
	payload, _ := json.Marshal(cl)
	jws, err := signer.Sign(payload)
	if err != nil {
		p.t.Error(err)
		return
	}
	idToken, _ := jws.CompactSerialize()
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"access_token": rand.Text(), "token_type": "Bearer", "expires_in": 120, "id_token": idToken})
}

package authserver

import (
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"deling/internal/token"
	"deling/internal/token/bearer"
	"deling/internal/token/tokentest"

	"github.com/MicahParks/jwkset"
	"github.com/golang-jwt/jwt/v5"
)

// TestTokenFlow gets tokens the way a Maskinporten client does and checks
// them with the Verifier.
func TestTokenFlow(t *testing.T) {
	w := world()
	plain, rooted := newFixture(t, nil), newFixture(t, rootPool())
	tests := []struct {
		name string
		f    *fixture
		file func(f *fixture) token.ClientFile
	}{
		{"RS256 kid", plain, func(f *fixture) token.ClientFile { return f.clientFile(t, "rs-client", w.RSAKey, w.RSAKID) }},
		{"ES256 kid", plain, func(f *fixture) token.ClientFile { return f.clientFile(t, "es-client", w.ECKey, w.ECKID) }},
		{"x5c self-signed registered certificate", plain, func(f *fixture) token.ClientFile {
			c := f.clientFile(t, "cert-client", w.RSAKey2, "")
			c.Certificate = certPEM(w.SelfSigned)
			return c
		}},
		{"x5c chain to a trusted root", rooted, func(f *fixture) token.ClientFile {
			c := f.clientFile(t, "chain-client", w.RSAKey2, "")
			c.Certificate = certPEM(w.Chained, w.Root)
			return c
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cf := tt.file(tt.f)
			cf.Scope = scopeLookup + " " + scopeExtract
			raw, err := RequestToken(t.Context(), cf, tt.f.http.Client())
			if err != nil {
				t.Fatalf("RequestToken: %v", err)
			}
			c, err := tt.f.verifier.Verify(raw)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if got, want := c.Consumer, orgA; got != want {
				t.Errorf("Consumer = %q, want %q", got, want)
			}
			if got, want := c.Supplier, ""; got != want {
				t.Errorf("Supplier = %q, want %q", got, want)
			}
			if got, want := c.Scopes, []string{scopeLookup, scopeExtract}; !slices.Equal(got, want) {
				t.Errorf("Scopes = %q, want %q", got, want)
			}
			if !c.HasScope(scopeExtract) || c.HasScope("deling:annet") {
				t.Errorf("HasScope wrong for %q", c.Scopes)
			}
			if got, want := c.ClientID, cf.ClientID; got != want {
				t.Errorf("ClientID = %q, want %q", got, want)
			}
			if got, want := c.Issuer, tt.f.issuer; got != want {
				t.Errorf("Issuer = %q, want %q", got, want)
			}
			if d := time.Until(c.Expiry); d <= 100*time.Second || d > 121*time.Second {
				t.Errorf("Expiry in %v, want about 120 s", d)
			}
		})
	}
}

// TestTokenResponse checks the response and access-token shape against
// Maskinporten's.
func TestTokenResponse(t *testing.T) {
	f := newFixture(t, nil)
	r := f.postAssertion(t, sign(t, jwt.SigningMethodRS256, world().RSAKey, map[string]any{"kid": world().RSAKID}, f.claims("rs-client")))
	if r.status != http.StatusOK {
		t.Fatalf("status %d %s: %s", r.status, r.Error, r.Description)
	}
	if got, want := r.header.Get("Cache-Control"), "no-store"; got != want {
		t.Errorf("Cache-Control = %q, want %q", got, want)
	}
	if got, want := r.header.Get("Content-Type"), "application/json"; got != want {
		t.Errorf("Content-Type = %q, want %q", got, want)
	}
	if r.TokenType != "Bearer" || r.ExpiresIn != 120 || r.Scope != scopeLookup {
		t.Errorf("got token_type %q, expires_in %d, scope %q; want Bearer, 120, %q", r.TokenType, r.ExpiresIn, r.Scope, scopeLookup)
	}
	tok, _, err := jwt.NewParser().ParseUnverified(r.AccessToken, jwt.MapClaims{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := tok.Header["alg"], "RS256"; got != want {
		t.Errorf("alg = %v, want %v", got, want)
	}
	if kid, _ := tok.Header["kid"].(string); kid == "" {
		t.Error("no kid in header")
	}
	p := payload(t, r.AccessToken)
	for _, k := range []string{"iss", "client_id", "scope", "consumer", "iat", "exp", "jti"} {
		if _, ok := p[k]; !ok {
			t.Errorf("access token lacks %q", k)
		}
	}
	for _, k := range []string{"token_type", "supplier"} {
		if _, ok := p[k]; ok {
			t.Errorf("access token has %q", k)
		}
	}
	consumer, _ := json.Marshal(p["consumer"])
	if got, want := string(consumer), `{"ID":"0192:`+orgA+`","authority":"iso6523-actorid-upis"}`; got != want {
		t.Errorf("consumer = %s, want %s", got, want)
	}
}

// TestTokenRefused covers every check of the token request and assertion.
func TestTokenRefused(t *testing.T) {
	w := world()
	plain, rooted := newFixture(t, nil), newFixture(t, rootPool())
	rsKID := map[string]any{"kid": w.RSAKID}
	now := time.Now()
	pubDER, err := x509.MarshalPKIXPublicKey(&w.RSAKey.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})

	tests := []struct {
		name      string
		f         *fixture
		assertion func(f *fixture) string
		code      string
		why       string // in error_description
	}{
		{"wrong aud", plain, func(f *fixture) string {
			c := f.claims("rs-client")
			c["aud"] = "https://maskinporten.no/"
			return sign(t, jwt.SigningMethodRS256, w.RSAKey, rsKID, c)
		}, "invalid_grant", "aud must be"},
		{"aud array of two", plain, func(f *fixture) string {
			c := f.claims("rs-client")
			c["aud"] = []string{f.issuer, "https://other/"}
			return sign(t, jwt.SigningMethodRS256, w.RSAKey, rsKID, c)
		}, "invalid_grant", "aud must be"},
		{"no aud", plain, func(f *fixture) string {
			c := f.claims("rs-client")
			delete(c, "aud")
			return sign(t, jwt.SigningMethodRS256, w.RSAKey, rsKID, c)
		}, "invalid_grant", "aud must be"},
		{"unknown iss", plain, func(f *fixture) string {
			return sign(t, jwt.SigningMethodRS256, w.RSAKey, rsKID, f.claims("nobody"))
		}, "invalid_grant", "client authentication failed"},
		{"no iss", plain, func(f *fixture) string {
			c := f.claims("rs-client")
			delete(c, "iss")
			return sign(t, jwt.SigningMethodRS256, w.RSAKey, rsKID, c)
		}, "invalid_grant", "iss (the client_id) is required"},
		{"inactive client", plain, func(f *fixture) string {
			return sign(t, jwt.SigningMethodRS256, w.RSAKey, rsKID, f.claims("inactive-client"))
		}, "invalid_grant", "client authentication failed"},
		{"exp − iat over 120 s", plain, func(f *fixture) string {
			c := f.claims("rs-client")
			c["iat"], c["exp"] = now.Unix(), now.Add(121*time.Second).Unix()
			return sign(t, jwt.SigningMethodRS256, w.RSAKey, rsKID, c)
		}, "invalid_grant", "exp − iat is more than 120 s"},
		{"expired", plain, func(f *fixture) string {
			c := f.claims("rs-client")
			c["iat"], c["exp"] = now.Add(-100*time.Second).Unix(), now.Add(-20*time.Second).Unix()
			return sign(t, jwt.SigningMethodRS256, w.RSAKey, rsKID, c)
		}, "invalid_grant", "has expired"},
		{"iat in the future", plain, func(f *fixture) string {
			c := f.claims("rs-client")
			c["iat"], c["exp"] = now.Add(30*time.Second).Unix(), now.Add(60*time.Second).Unix()
			return sign(t, jwt.SigningMethodRS256, w.RSAKey, rsKID, c)
		}, "invalid_grant", "iat is in the future"},
		{"nbf in the future", plain, func(f *fixture) string {
			c := f.claims("rs-client")
			c["nbf"] = now.Add(60 * time.Second).Unix()
			return sign(t, jwt.SigningMethodRS256, w.RSAKey, rsKID, c)
		}, "invalid_grant", "nbf"},
		{"no iat", plain, func(f *fixture) string {
			c := f.claims("rs-client")
			delete(c, "iat")
			return sign(t, jwt.SigningMethodRS256, w.RSAKey, rsKID, c)
		}, "invalid_grant", "iat is required"},
		{"exp a string", plain, func(f *fixture) string {
			c := f.claims("rs-client")
			c["exp"] = "tomorrow"
			return sign(t, jwt.SigningMethodRS256, w.RSAKey, rsKID, c)
		}, "invalid_grant", "exp is required"},
		{"no jti", plain, func(f *fixture) string {
			c := f.claims("rs-client")
			delete(c, "jti")
			return sign(t, jwt.SigningMethodRS256, w.RSAKey, rsKID, c)
		}, "invalid_grant", "jti is required"},
		{"unknown claim", plain, func(f *fixture) string {
			c := f.claims("rs-client")
			c["sub"] = "someone"
			return sign(t, jwt.SigningMethodRS256, w.RSAKey, rsKID, c)
		}, "invalid_request", "unknown claim"},
		{"alg none", plain, func(f *fixture) string {
			return sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, rsKID, f.claims("rs-client"))
		}, "invalid_grant", "alg must be one of"},
		{"HS256 keyed with the client's public key (alg confusion)", plain, func(f *fixture) string {
			return sign(t, jwt.SigningMethodHS256, pubPEM, rsKID, f.claims("rs-client"))
		}, "invalid_grant", "alg must be one of"},
		{"PS256", plain, func(f *fixture) string {
			return sign(t, jwt.SigningMethodPS256, w.RSAKey, rsKID, f.claims("rs-client"))
		}, "invalid_grant", "alg must be one of"},
		{"RS256 header naming an EC key", plain, func(f *fixture) string {
			return sign(t, jwt.SigningMethodRS256, w.RSAKey, map[string]any{"kid": w.ECKID}, f.claims("es-client"))
		}, "invalid_grant", "client authentication failed"},
		{"ES256 header naming an RSA key", plain, func(f *fixture) string {
			return sign(t, jwt.SigningMethodES256, w.ECKey, rsKID, f.claims("rs-client"))
		}, "invalid_grant", "client authentication failed"},
		{"RS256 with a key pinned to RS512", plain, func(f *fixture) string {
			return sign(t, jwt.SigningMethodRS256, w.RSAKey, rsKID, f.claims("pinned-client"))
		}, "invalid_grant", "client authentication failed"},
		{"signed by another key", plain, func(f *fixture) string {
			return sign(t, jwt.SigningMethodRS256, w.OtherRSA, rsKID, f.claims("rs-client"))
		}, "invalid_grant", "client authentication failed"},
		{"unregistered kid", plain, func(f *fixture) string {
			return sign(t, jwt.SigningMethodRS256, w.RSAKey, map[string]any{"kid": "nope"}, f.claims("rs-client"))
		}, "invalid_grant", "client authentication failed"},
		{"neither kid nor x5c", plain, func(f *fixture) string {
			return sign(t, jwt.SigningMethodRS256, w.RSAKey, nil, f.claims("rs-client"))
		}, "invalid_grant", "exactly one of kid and x5c"},
		{"both kid and x5c", plain, func(f *fixture) string {
			return sign(t, jwt.SigningMethodRS256, w.RSAKey2, map[string]any{"kid": w.RSAKID, "x5c": x5c(w.SelfSigned)}, f.claims("cert-client"))
		}, "invalid_grant", "exactly one of kid and x5c"},
		{"crit header", plain, func(f *fixture) string {
			return sign(t, jwt.SigningMethodRS256, w.RSAKey, map[string]any{"kid": w.RSAKID, "crit": []string{"exp"}}, f.claims("rs-client"))
		}, "invalid_grant", "crit"},
		{"x5c with an unregistered certificate", plain, func(f *fixture) string {
			return sign(t, jwt.SigningMethodRS256, w.RSAKey2, map[string]any{"x5c": x5c(w.Unregistered)}, f.claims("cert-client"))
		}, "invalid_grant", "client authentication failed"},
		{"x5c of another client", plain, func(f *fixture) string {
			return sign(t, jwt.SigningMethodRS256, w.RSAKey2, map[string]any{"x5c": x5c(w.SelfSigned)}, f.claims("chain-client"))
		}, "invalid_grant", "client authentication failed"},
		{"x5c not base64", plain, func(f *fixture) string {
			return sign(t, jwt.SigningMethodRS256, w.RSAKey2, map[string]any{"x5c": []string{"!!"}}, f.claims("cert-client"))
		}, "invalid_grant", "x5c must be an array"},
		{"x5c a string", plain, func(f *fixture) string {
			return sign(t, jwt.SigningMethodRS256, w.RSAKey2, map[string]any{"x5c": x5c(w.SelfSigned)[0]}, f.claims("cert-client"))
		}, "invalid_grant", "x5c must be an array"},
		{"x5c certificate of another organisation", plain, func(f *fixture) string {
			return sign(t, jwt.SigningMethodRS256, w.RSAKey2, map[string]any{"x5c": x5c(w.WrongOrg)}, f.claims("wrongorg-client"))
		}, "invalid_grant", "does not carry the client's organisation number"},
		{"x5c signed with a key other than the certificate's", plain, func(f *fixture) string {
			return sign(t, jwt.SigningMethodRS256, w.RSAKey, map[string]any{"x5c": x5c(w.SelfSigned)}, f.claims("cert-client"))
		}, "invalid_grant", "client authentication failed"},
		{"x5c registered but self-signed when roots are required", rooted, func(f *fixture) string {
			return sign(t, jwt.SigningMethodRS256, w.RSAKey2, map[string]any{"x5c": x5c(w.SelfSigned)}, f.claims("cert-client"))
		}, "invalid_grant", "trusted root"},
		{"x5c registered but chained to an untrusted root", rooted, func(f *fixture) string {
			return sign(t, jwt.SigningMethodRS256, w.RSAKey2, map[string]any{"x5c": x5c(w.Untrusted, w.OtherRoot)}, f.claims("chain-client"))
		}, "invalid_grant", "trusted root"},
		{"scope not granted", plain, func(f *fixture) string {
			c := f.claims("processor")
			c["scope"] = scopeExtract
			return sign(t, jwt.SigningMethodRS256, w.RSAKey, rsKID, c)
		}, "invalid_scope", "scope deling:uttrekk is not granted"},
		{"one of two scopes not granted", plain, func(f *fixture) string {
			c := f.claims("processor")
			c["scope"] = scopeLookup + " " + scopeExtract
			return sign(t, jwt.SigningMethodRS256, w.RSAKey, rsKID, c)
		}, "invalid_scope", "scope deling:uttrekk is not granted"},
		{"no scope", plain, func(f *fixture) string {
			c := f.claims("rs-client")
			delete(c, "scope")
			return sign(t, jwt.SigningMethodRS256, w.RSAKey, rsKID, c)
		}, "invalid_scope", "scope is required"},
		{"malformed scope", plain, func(f *fixture) string {
			c := f.claims("rs-client")
			c["scope"] = "deling:\"oppslag\""
			return sign(t, jwt.SigningMethodRS256, w.RSAKey, rsKID, c)
		}, "invalid_scope", "scope is malformed"},
		// Rules AA-13, SK-04: a data processor gets a token for a consumer
		// only when that consumer has delegated to it.
		{"consumer_org without delegation", plain, func(f *fixture) string {
			c := f.claims("processor")
			c["consumer_org"] = orgD
			return sign(t, jwt.SigningMethodRS256, w.RSAKey, rsKID, c)
		}, "invalid_grant", "has not delegated"},
		{"consumer_org not an orgnr", plain, func(f *fixture) string {
			c := f.claims("processor")
			c["consumer_org"] = "0192:" + orgC
			return sign(t, jwt.SigningMethodRS256, w.RSAKey, rsKID, c)
		}, "invalid_grant", "consumer_org must be an organisation number"},
		{"not a JWT", plain, func(f *fixture) string { return "not.a.jwt" }, "invalid_grant", "not a well-formed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := tt.assertion(tt.f)
			r := tt.f.postAssertion(t, a)
			if got, want := r.status, http.StatusBadRequest; got != want {
				t.Errorf("status = %d, want %d", got, want)
			}
			if got, want := r.Error, tt.code; got != want {
				t.Errorf("error = %q (%s), want %q", got, r.Description, want)
			}
			if !strings.Contains(r.Description, tt.why) {
				t.Errorf("error_description = %q, want it to say %q", r.Description, tt.why)
			}
			if strings.Contains(r.Description, a) || r.AccessToken != "" {
				t.Errorf("error_description %q: want a description without the assertion, and no token", r.Description)
			}
			if got, want := r.header.Get("Cache-Control"), "no-store"; got != want {
				t.Errorf("Cache-Control = %q, want %q", got, want)
			}
		})
	}
}

// TestTokenRequestForm covers the form around the assertion.
func TestTokenRequestForm(t *testing.T) {
	f := newFixture(t, nil)
	tests := []struct {
		name, contentType, body string
		status                  int
		code                    string
	}{
		{"no grant_type", "application/x-www-form-urlencoded", "assertion=x", 400, "invalid_request"},
		{"other grant_type", "application/x-www-form-urlencoded", "grant_type=client_credentials", 400, "unsupported_grant_type"},
		{"no assertion", "application/x-www-form-urlencoded", "grant_type=" + grantTypeJWTBearer, 400, "invalid_request"},
		{"repeated assertion", "application/x-www-form-urlencoded", "grant_type=" + grantTypeJWTBearer + "&assertion=a&assertion=b", 400, "invalid_request"},
		{"JSON body", "application/json", `{"grant_type":"` + grantTypeJWTBearer + `"}`, 400, "invalid_request"},
		{"bad escape", "application/x-www-form-urlencoded", "grant_type=%zz", 400, "invalid_request"},
		{"body over 64 KiB", "application/x-www-form-urlencoded", "grant_type=" + grantTypeJWTBearer + "&assertion=" + strings.Repeat("a", 70<<10), 400, "invalid_request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := f.post(t, tt.contentType, tt.body)
			if r.status != tt.status || r.Error != tt.code {
				t.Errorf("got %d %q (%s), want %d %q", r.status, r.Error, r.Description, tt.status, tt.code)
			}
		})
	}
	resp, err := f.http.Client().Get(f.issuer + "token")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got, want := resp.StatusCode, http.StatusMethodNotAllowed; got != want {
		t.Errorf("GET /token: status %d, want %d", got, want)
	}
}

func TestReplayRefused(t *testing.T) {
	f := newFixture(t, nil)
	a := sign(t, jwt.SigningMethodRS256, world().RSAKey, map[string]any{"kid": world().RSAKID}, f.claims("rs-client"))
	for i, want := range []int{http.StatusOK, http.StatusBadRequest, http.StatusBadRequest} {
		if got := f.postAssertion(t, a); got.status != want {
			t.Errorf("use %d: status %d (%s), want %d", i+1, got.status, got.Description, want)
		}
	}
}

// TestRefusalDoesNotUseJTI: an assertion refused for its scope may be
// corrected without a new jti being the reason for a second refusal.
func TestRefusalDoesNotUseJTI(t *testing.T) {
	f := newFixture(t, nil)
	c := f.claims("processor")
	c["scope"] = scopeExtract
	if r := f.postAssertion(t, sign(t, jwt.SigningMethodRS256, world().RSAKey, map[string]any{"kid": world().RSAKID}, c)); r.Error != "invalid_scope" {
		t.Fatalf("got %q, want invalid_scope", r.Error)
	}
	c["scope"] = scopeLookup
	if r := f.postAssertion(t, sign(t, jwt.SigningMethodRS256, world().RSAKey, map[string]any{"kid": world().RSAKID}, c)); r.status != http.StatusOK {
		t.Fatalf("got %d %q, want 200", r.status, r.Description)
	}
}

// TestDelegatedToken: Rules AA-13, SK-04. A data processor asking for a
// consumer that has delegated to it gets a token naming both.
func TestDelegatedToken(t *testing.T) {
	f := newFixture(t, nil)
	cf := f.clientFile(t, "processor", world().RSAKey, world().RSAKID)
	cf.ConsumerOrg = orgC
	raw, err := RequestToken(t.Context(), cf, f.http.Client())
	if err != nil {
		t.Fatal(err)
	}
	c, err := f.verifier.Verify(raw)
	if err != nil {
		t.Fatal(err)
	}
	if c.Consumer != orgC || c.Supplier != orgB {
		t.Errorf("consumer, supplier = %q, %q; want %q, %q", c.Consumer, c.Supplier, orgC, orgB)
	}
	p := payload(t, raw)
	supplier, _ := json.Marshal(p["supplier"])
	if got, want := string(supplier), `{"ID":"0192:`+orgB+`","authority":"iso6523-actorid-upis"}`; got != want {
		t.Errorf("supplier = %s, want %s", got, want)
	}

	// Rules AA-13, SK-04: without a delegation, RequestToken reports the OAuth error.
	cf.ConsumerOrg = orgD
	_, err = RequestToken(t.Context(), cf, f.http.Client())
	var oe *OAuthError
	if !errors.As(err, &oe) || oe.Code != "invalid_grant" || oe.Status != http.StatusBadRequest {
		t.Fatalf("got %v, want an invalid_grant OAuthError", err)
	}
}

func TestMetadata(t *testing.T) {
	f := newFixture(t, nil)
	resp, err := f.http.Client().Get(f.issuer + ".well-known/oauth-authorization-server")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"issuer":                                f.issuer,
		"token_endpoint":                        f.issuer + "token",
		"jwks_uri":                              f.issuer + "jwks",
		"grant_types_supported":                 []any{grantTypeJWTBearer},
		"token_endpoint_auth_methods_supported": []any{"private_key_jwt"},
		"scopes_supported":                      []any{scopeLookup, scopeExtract},
		"response_types_supported":              []any{},
	}
	for k, v := range want {
		got, _ := json.Marshal(m[k])
		w, _ := json.Marshal(v)
		if string(got) != string(w) {
			t.Errorf("%s = %s, want %s", k, got, w)
		}
	}
	if got, want := resp.Header.Get("Content-Type"), "application/json"; got != want {
		t.Errorf("Content-Type = %q, want %q", got, want)
	}
}

func TestJWKSEndpoint(t *testing.T) {
	f := newFixture(t, nil)
	resp, err := f.http.Client().Get(f.issuer + "jwks")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var set struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.Unmarshal(b, &set); err != nil {
		t.Fatal(err)
	}
	if got, want := len(set.Keys), 1; got != want {
		t.Fatalf("%d keys, want %d", got, want)
	}
	k := set.Keys[0]
	for _, m := range []string{"kty", "kid", "n", "e"} {
		if _, ok := k[m]; !ok {
			t.Errorf("key lacks %q", m)
		}
	}
	for _, m := range tokentest.PrivateJWKMembers {
		if _, ok := k[m]; ok {
			t.Errorf("JWKS key has private member %q", m)
		}
	}
	if k["kty"] != "RSA" || k["alg"] != "RS256" || k["use"] != "sig" {
		t.Errorf("kty, alg, use = %v, %v, %v; want RSA, RS256, sig", k["kty"], k["alg"], k["use"])
	}
}

// TestTokenAccepted covers the variants Maskinporten clients send.
func TestTokenAccepted(t *testing.T) {
	w := world()
	f := newFixture(t, nil)
	rsKID := map[string]any{"kid": w.RSAKID}
	tests := []struct {
		name         string
		method       jwt.SigningMethod
		iss          string
		edit         func(c jwt.MapClaims)
		wantConsumer string
	}{
		{"aud without trailing slash", jwt.SigningMethodRS256, "rs-client", func(c jwt.MapClaims) { c["aud"] = strings.TrimSuffix(f.issuer, "/") }, orgA},
		{"aud as a one-element array", jwt.SigningMethodRS256, "rs-client", func(c jwt.MapClaims) { c["aud"] = []string{f.issuer} }, orgA},
		{"RS384", jwt.SigningMethodRS384, "rs-client", func(jwt.MapClaims) {}, orgA},
		{"RS512 with a key pinned to it", jwt.SigningMethodRS512, "pinned-client", func(jwt.MapClaims) {}, orgA},
		{"exp − iat exactly 120 s, nbf and resource", jwt.SigningMethodRS256, "rs-client", func(c jwt.MapClaims) {
			now := time.Now()
			c["iat"], c["exp"], c["nbf"], c["resource"] = now.Unix(), now.Add(120*time.Second).Unix(), now.Unix(), "https://deling.test/api"
		}, orgA},
		{"fractional iat and exp", jwt.SigningMethodRS256, "rs-client", func(c jwt.MapClaims) {
			now := float64(time.Now().UnixMilli()) / 1000
			c["iat"], c["exp"] = now, now+60.5
		}, orgA},
		{"consumer_org is the client's own organisation", jwt.SigningMethodRS256, "rs-client", func(c jwt.MapClaims) { c["consumer_org"] = orgA }, orgA},
		{"repeated scope", jwt.SigningMethodRS256, "rs-client", func(c jwt.MapClaims) { c["scope"] = scopeLookup + "  " + scopeLookup }, orgA},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := f.claims(tt.iss)
			tt.edit(c)
			r := f.postAssertion(t, sign(t, tt.method, w.RSAKey, rsKID, c))
			if r.status != http.StatusOK {
				t.Fatalf("status %d %s: %s", r.status, r.Error, r.Description)
			}
			if got, want := r.Scope, scopeLookup; got != want {
				t.Errorf("scope = %q, want %q", got, want)
			}
			claims, err := f.verifier.Verify(r.AccessToken)
			if err != nil {
				t.Fatal(err)
			}
			if claims.Consumer != tt.wantConsumer || claims.Supplier != "" {
				t.Errorf("consumer, supplier = %q, %q; want %q, \"\"", claims.Consumer, claims.Supplier, tt.wantConsumer)
			}
		})
	}
}

// TestKeyRotation: a new key signs and verifies at once; the old one keeps
// verifying through the grace period and stops after it, cached or not.
func TestKeyRotation(t *testing.T) {
	clk := newClock()
	k1, err := token.NewSigningKey(clk.Now().Add(-48 * time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	ks, err := token.NewKeySet([]token.SigningKey{k1}, clk.Now)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := New(Config{Issuer: testIssuer, Clients: world().Clients, JTIs: &memJTIs{}, Authorizer: world().Authz, Keys: ks, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	v, err := bearer.NewVerifier(t.Context(), bearer.Config{Keys: ks, Issuer: testIssuer, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	issue := func() string {
		resp, err := srv.issue(grant{client: world().Clients["rs-client"], scopes: []string{scopeLookup}, consumer: orgA, asker: orgA})
		if err != nil {
			t.Fatal(err)
		}
		return resp.AccessToken
	}
	kidOf := func(raw string) string {
		tok, _, err := jwt.NewParser().ParseUnverified(raw, jwt.MapClaims{})
		if err != nil {
			t.Fatal(err)
		}
		return tok.Header["kid"].(string)
	}
	jwksKIDs := func() []string {
		b, err := ks.JWKS()
		if err != nil {
			t.Fatal(err)
		}
		var set jwkset.JWKSMarshal
		if err := json.Unmarshal(b, &set); err != nil {
			t.Fatal(err)
		}
		var kids []string
		for _, k := range set.Keys {
			kids = append(kids, k.KID)
		}
		return kids
	}

	old := issue()
	if _, err := v.Verify(old); err != nil { // now cached
		t.Fatal(err)
	}
	k2, err := token.NewSigningKey(clk.Now())
	if err != nil {
		t.Fatal(err)
	}
	retired := clk.Now()
	k1.Retired = &retired
	if err := ks.Replace([]token.SigningKey{k1, k2}); err != nil {
		t.Fatal(err)
	}
	fresh := issue()
	if got, want := kidOf(fresh), k2.KID; got != want {
		t.Errorf("new token signed by %s, want %s", got, want)
	}
	for _, raw := range []string{old, fresh} {
		if _, err := v.Verify(raw); err != nil {
			t.Errorf("in grace period: %v", err)
		}
	}
	if got, want := jwksKIDs(), []string{k2.KID, k1.KID}; !slices.Equal(got, want) {
		t.Errorf("JWKS kids = %q, want %q", got, want)
	}

	longAgo := clk.Now().Add(-token.RetiredKeyGrace - time.Hour)
	k1.Retired = &longAgo
	if err := ks.Replace([]token.SigningKey{k1, k2}); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(old); !errors.Is(err, token.ErrInvalidToken) {
		t.Errorf("token of a key retired beyond grace: got %v, want ErrInvalidToken", err)
	}
	if _, err := v.Verify(fresh); err != nil {
		t.Errorf("token of the new key: %v", err)
	}
	if got, want := jwksKIDs(), []string{k2.KID}; !slices.Equal(got, want) {
		t.Errorf("JWKS kids = %q, want %q", got, want)
	}

	// A failed Replace leaves the KeySet as it was.
	if err := ks.Replace([]token.SigningKey{k1}); err == nil {
		t.Error("Replace with only retired keys: want an error")
	}
	if got, want := kidOf(issue()), k2.KID; got != want {
		t.Errorf("after failed Replace, signed by %s, want %s", got, want)
	}
}

package authserver

import (
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"deling/internal/token"

	"github.com/golang-jwt/jwt/v5"
)

// FuzzTokenRequest posts arbitrary bodies and assertions to the token
// handler: it must never panic or answer 5xx, and without a valid
// assertion it must refuse with an OAuth error.
func FuzzTokenRequest(f *testing.F) {
	w := world()
	const iss = "https://deling.test/"
	ks, err := token.NewKeySet([]token.SigningKey{w.Signing[0]}, nil)
	if err != nil {
		f.Fatal(err)
	}
	s, err := New(Config{Issuer: iss, Clients: w.Clients, JTIs: &memJTIs{}, Authorizer: w.Authz, Keys: ks, TrustedRoots: rootPool()})
	if err != nil {
		f.Fatal(err)
	}
	now := time.Now()
	claims := func(iss string) jwt.MapClaims {
		return jwt.MapClaims{"aud": "https://other.test/", "iss": iss, "iat": now.Unix(), "exp": now.Add(time.Minute).Unix(), "jti": "j", "scope": scopeLookup}
	}
	// Well-formed and signed, but refused: aud is not ours.
	seeds := []string{
		sign(f, jwt.SigningMethodRS256, w.RSAKey, map[string]any{"kid": w.RSAKID}, claims("rs-client")),
		sign(f, jwt.SigningMethodES256, w.ECKey, map[string]any{"kid": w.ECKID}, claims("es-client")),
		sign(f, jwt.SigningMethodRS256, w.RSAKey2, map[string]any{"x5c": x5c(w.Chained, w.Root)}, claims("chain-client")),
		sign(f, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, map[string]any{"kid": w.RSAKID}, claims("rs-client")),
		"", "a.b.c", "eyJhbGciOiJSUzI1NiJ9.e30.",
	}
	for _, a := range seeds {
		form := url.Values{"grant_type": {grantTypeJWTBearer}, "assertion": {a}}.Encode()
		f.Add([]byte(form), a)
	}
	f.Add([]byte("grant_type=%zz&assertion="), "x")
	f.Add([]byte("grant_type=client_credentials"), "")

	f.Fuzz(func(t *testing.T, body []byte, assertion string) {
		form := url.Values{"grant_type": {grantTypeJWTBearer}, "assertion": {assertion}}.Encode()
		for _, b := range [][]byte{body, []byte(form)} {
			req := httptest.NewRequest("POST", "/token", bytes.NewReader(b))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			rec := httptest.NewRecorder()
			s.Token(rec, req)
			if rec.Code != 400 && rec.Code != 401 {
				t.Fatalf("status %d for body %q: %s", rec.Code, b, rec.Body)
			}
			var e struct {
				Error       string `json:"error"`
				Description string `json:"error_description"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Error == "" || e.Description == "" {
				t.Fatalf("reply %q is not an OAuth error: %v", rec.Body, err)
			}
		}
	})
}

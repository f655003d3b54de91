package authserver

import (
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"deling/internal/token"

	"github.com/golang-jwt/jwt/v5"
)

// BenchmarkIssueToken runs the whole POST /token handler with a fresh RS256
// assertion each time, made before the timer starts.
func BenchmarkIssueToken(b *testing.B) {
	w := world()
	const iss = "https://deling.test/"
	ks, err := token.NewKeySet([]token.SigningKey{w.Signing[0]}, nil)
	if err != nil {
		b.Fatal(err)
	}
	s, err := New(Config{Issuer: iss, Clients: w.Clients, JTIs: &memJTIs{}, Authorizer: w.Authz, Keys: ks})
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	bodies := make([]string, b.N)
	for i := range bodies {
		a := sign(b, jwt.SigningMethodRS256, w.RSAKey, map[string]any{"kid": w.RSAKID}, jwt.MapClaims{
			"aud": iss, "iss": "rs-client", "iat": now.Unix(), "exp": now.Add(110 * time.Second).Unix(),
			"jti": "bench-" + strconv.Itoa(i), "scope": scopeLookup,
		})
		bodies[i] = url.Values{"grant_type": {grantTypeJWTBearer}, "assertion": {a}}.Encode()
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		req := httptest.NewRequest("POST", "/token", strings.NewReader(bodies[i]))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		s.Token(rec, req)
		if rec.Code != 200 {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	}
}

package token

import (
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func benchToken(b *testing.B) (*KeySet, string) {
	ks, err := NewKeySet([]SigningKey{world().signing[0]}, nil)
	if err != nil {
		b.Fatal(err)
	}
	raw, err := ks.sign(ourClaims(time.Now()))
	if err != nil {
		b.Fatal(err)
	}
	return ks, raw
}

func BenchmarkVerifyCached(b *testing.B) {
	ks, raw := benchToken(b)
	v := newVerifier(b, VerifierConfig{Keys: ks, Issuer: testIssuer})
	for b.Loop() {
		if _, err := v.Verify(raw); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyCachedParallel(b *testing.B) {
	ks, raw := benchToken(b)
	v := newVerifier(b, VerifierConfig{Keys: ks, Issuer: testIssuer})
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := v.Verify(raw); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkVerifyUncached(b *testing.B) {
	ks, raw := benchToken(b)
	v := newVerifier(b, VerifierConfig{Keys: ks, Issuer: testIssuer, CacheSize: -1})
	for b.Loop() {
		if _, err := v.Verify(raw); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkIssueToken runs the whole POST /token handler with a fresh RS256
// assertion each time, made before the timer starts.
func BenchmarkIssueToken(b *testing.B) {
	w := world()
	const iss = "https://deling.test/"
	ks, err := NewKeySet([]SigningKey{w.signing[0]}, nil)
	if err != nil {
		b.Fatal(err)
	}
	s, err := NewServer(Config{Issuer: iss, Clients: w.clients, JTIs: &memJTIs{}, Authorizer: w.authz, Keys: ks})
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	bodies := make([]string, b.N)
	for i := range bodies {
		a := sign(b, jwt.SigningMethodRS256, w.rsaKey, map[string]any{"kid": w.rsaKID}, jwt.MapClaims{
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

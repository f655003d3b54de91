package bearer

import (
	"context"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"deling/internal/token"

	"github.com/MicahParks/jwkset"
	"github.com/golang-jwt/jwt/v5"
)

const testIssuer = "https://deling.test/"

// ourClaims are valid access-token claims of testIssuer.
func ourClaims(now time.Time) jwt.MapClaims {
	return jwt.MapClaims{
		"iss": testIssuer, "client_id": "rs-client", "scope": scopeLookup,
		"consumer": map[string]any{"authority": "iso6523-actorid-upis", "ID": "0192:" + orgA},
		"iat":      now.Unix(), "exp": now.Add(120 * time.Second).Unix(), "jti": "j1",
	}
}

// newKeySet makes a KeySet of one of the world's signing keys (0 or 1).
func newKeySet(t testing.TB, now func() time.Time, which int) *token.KeySet {
	t.Helper()
	ks, err := token.NewKeySet([]token.SigningKey{world().Signing[which]}, now)
	if err != nil {
		t.Fatal(err)
	}
	return ks
}

func newVerifier(t testing.TB, cfg Config) *Verifier {
	t.Helper()
	v, err := NewVerifier(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestVerifyRefused(t *testing.T) {
	ks := newKeySet(t, time.Now, 0)
	other := newKeySet(t, time.Now, 1)
	v := newVerifier(t, Config{Keys: ks, Issuer: testIssuer})
	now := time.Now()
	good, err := ks.Sign(ourClaims(now))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(good); err != nil {
		t.Fatalf("valid token: %v", err)
	}
	kid := map[string]any{"kid": world().Signing[0].KID}
	ourPriv := world().SigningRSA[0]
	edited := func(edit func(c jwt.MapClaims)) string {
		c := ourClaims(now)
		edit(c)
		s, err := ks.Sign(c)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	parts := strings.Split(good, ".")
	sig := []byte(parts[2])
	if sig[len(sig)/2] == 'A' {
		sig[len(sig)/2] = 'B'
	} else {
		sig[len(sig)/2] = 'A'
	}
	tampered := parts[0] + "." + parts[1] + "." + string(sig)
	otherPayload := strings.Split(edited(func(c jwt.MapClaims) { c["consumer"].(map[string]any)["ID"] = "0192:" + orgD }), ".")[1]

	tests := []struct {
		name, raw, why string
	}{
		{"empty", "", "malformed"},
		{"garbage", "garbage", "malformed"},
		{"three dots", "a.b.c", "malformed"},
		{"tampered signature", tampered, "signature"},
		{"payload of another token", parts[0] + "." + otherPayload + "." + parts[2], "signature"},
		{"signed by a key not in the KeySet", func() string {
			s, err := other.Sign(ourClaims(now))
			if err != nil {
				t.Fatal(err)
			}
			return s
		}(), "unknown key"},
		{"other issuer", edited(func(c jwt.MapClaims) { c["iss"] = "https://other.test/" }), "issuer is not trusted"},
		{"no issuer", edited(func(c jwt.MapClaims) { delete(c, "iss") }), "issuer is not trusted"},
		{"expired beyond 10 s", edited(func(c jwt.MapClaims) { c["exp"] = now.Add(-11 * time.Second).Unix() }), "expired"},
		{"iat in the future", edited(func(c jwt.MapClaims) { c["iat"] = now.Add(time.Minute).Unix() }), "not valid yet"},
		{"no exp", edited(func(c jwt.MapClaims) { delete(c, "exp") }), "no exp"},
		{"no consumer", edited(func(c jwt.MapClaims) { delete(c, "consumer") }), "consumer"},
		{"consumer a string", edited(func(c jwt.MapClaims) { c["consumer"] = orgA }), "malformed"},
		{"consumer ID without 0192", edited(func(c jwt.MapClaims) { c["consumer"] = map[string]any{"authority": "iso6523-actorid-upis", "ID": orgA} }), "consumer"},
		{"consumer ID of 8 digits", edited(func(c jwt.MapClaims) {
			c["consumer"] = map[string]any{"authority": "iso6523-actorid-upis", "ID": "0192:31000000"}
		}), "consumer"},
		{"consumer of another authority", edited(func(c jwt.MapClaims) { c["consumer"] = map[string]any{"authority": "x", "ID": "0192:" + orgA} }), "consumer"},
		{"bad supplier", edited(func(c jwt.MapClaims) {
			c["supplier"] = map[string]any{"authority": "iso6523-actorid-upis", "ID": "0192:abc"}
		}), "supplier"},
		{"alg none", sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, kid, ourClaims(now)), "signature or alg"},
		{"HS256 keyed with our public key", func() string {
			b, err := ks.JWKS()
			if err != nil {
				t.Fatal(err)
			}
			var set jwkset.JWKSMarshal
			if err := json.Unmarshal(b, &set); err != nil {
				t.Fatal(err)
			}
			pub, err := json.Marshal(set.Keys[0])
			if err != nil {
				t.Fatal(err)
			}
			return sign(t, jwt.SigningMethodHS256, pub, kid, ourClaims(now))
		}(), "signature or alg"},
		{"RS512 with our key", sign(t, jwt.SigningMethodRS512, ourPriv, kid, ourClaims(now)), "alg does not fit"},
		{"over 16 KiB", good + strings.Repeat("A", 16<<10), "malformed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for range 2 { // the second time would hit the cache if the first had succeeded
				c, err := v.Verify(tt.raw)
				if !errors.Is(err, token.ErrInvalidToken) {
					t.Fatalf("got %+v, %v; want token.ErrInvalidToken", c, err)
				}
				if !strings.Contains(err.Error(), tt.why) {
					t.Errorf("error %q, want it to say %q", err, tt.why)
				}
			}
		})
	}
}

// TestVerifyCacheExpiry: a cached verification ends when the token does.
func TestVerifyCacheExpiry(t *testing.T) {
	clk := newClock()
	ks := newKeySet(t, clk.Now, 0)
	v := newVerifier(t, Config{Keys: ks, Issuer: testIssuer, Now: clk.Now})
	raw, err := ks.Sign(ourClaims(clk.Now()))
	if err != nil {
		t.Fatal(err)
	}
	for _, step := range []struct {
		advance time.Duration
		ok      bool
	}{
		{0, true},
		{0, true}, // from the cache
		{125 * time.Second, true},
		{5 * time.Second, false}, // 130 s: exp + 10 s
		{-5 * time.Second, true}, // re-verified, not a stale "expired"
	} {
		clk.Add(step.advance)
		_, err := v.Verify(raw)
		if got := err == nil; got != step.ok {
			t.Fatalf("at %v after issue: err = %v, want ok %v", clk.Now().Sub(time.Unix(ourClaims(time.Now())["iat"].(int64), 0)).Round(time.Second), err, step.ok)
		}
	}
	if _, ok := v.cache.get(sha256Key(raw)); !ok {
		t.Error("token not cached")
	}
}

func TestVerifyScopesNotShared(t *testing.T) {
	ks := newKeySet(t, time.Now, 0)
	v := newVerifier(t, Config{Keys: ks, Issuer: testIssuer})
	raw, err := ks.Sign(ourClaims(time.Now()))
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		c, err := v.Verify(raw)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := c.Scopes, []string{scopeLookup}; !slices.Equal(got, want) {
			t.Fatalf("Scopes = %q, want %q", got, want)
		}
		c.Scopes[0] = "changed"
	}
}

func TestVerifyCacheBounded(t *testing.T) {
	ks := newKeySet(t, time.Now, 0)
	v := newVerifier(t, Config{Keys: ks, Issuer: testIssuer, CacheSize: 8})
	var raws []string
	for i := range 40 {
		c := ourClaims(time.Now())
		c["jti"] = string(rune('a' + i))
		raw, err := ks.Sign(c)
		if err != nil {
			t.Fatal(err)
		}
		raws = append(raws, raw)
	}
	for range 2 {
		for _, raw := range raws {
			if _, err := v.Verify(raw); err != nil {
				t.Fatal(err)
			}
		}
	}
	v.cache.mu.RLock()
	n := len(v.cache.entries)
	v.cache.mu.RUnlock()
	if n > 8 {
		t.Errorf("cache holds %d entries, want at most 8", n)
	}
}

// jwksServer serves a JWKS that the test may change.
type jwksServer struct {
	mu   sync.Mutex
	keys []jwkset.JWKMarshal
}

func (s *jwksServer) add(t testing.TB, kid string, key *rsa.PrivateKey) {
	t.Helper()
	j, err := jwkset.NewJWKFromKey(&key.PublicKey, jwkset.JWKOptions{Metadata: jwkset.JWKMetadataOptions{ALG: jwkset.AlgRS256, KID: kid, USE: jwkset.UseSig}})
	if err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	s.keys = append(s.keys, j.Marshal())
	s.mu.Unlock()
}

func (s *jwksServer) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(jwkset.JWKSMarshal{Keys: s.keys})
}

// TestExternalIssuer: tokens of a configured issuer such as Maskinporten
// verify with its JWKS, fetched by keyfunc; other issuers are refused.
func TestExternalIssuer(t *testing.T) {
	const ext = "https://maskinporten.test/"
	w := world()
	js := &jwksServer{}
	js.add(t, "ext-1", w.OtherRSA)
	hs := httptest.NewServer(js)
	t.Cleanup(hs.Close)
	ks := newKeySet(t, time.Now, 0)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	v, err := NewVerifier(ctx, Config{Keys: ks, Issuer: testIssuer, External: []ExternalIssuer{{Issuer: ext, JWKSURL: hs.URL + "/jwk"}}})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	extClaims := func(iss string) jwt.MapClaims {
		c := ourClaims(now)
		c["iss"] = iss
		return c
	}
	ourKID := map[string]any{"kid": world().Signing[0].KID}
	tests := []struct {
		name string
		raw  string
		ok   bool
	}{
		{"external issuer's token", sign(t, jwt.SigningMethodRS256, w.OtherRSA, map[string]any{"kid": "ext-1"}, extClaims(ext)), true},
		{"without kid", sign(t, jwt.SigningMethodRS256, w.OtherRSA, nil, extClaims(ext)), true},
		{"unknown issuer", sign(t, jwt.SigningMethodRS256, w.OtherRSA, map[string]any{"kid": "ext-1"}, extClaims("https://evil.test/")), false},
		{"external iss, signed by another key", sign(t, jwt.SigningMethodRS256, w.RSAKey, map[string]any{"kid": "ext-1"}, extClaims(ext)), false},
		{"external iss, our key", sign(t, jwt.SigningMethodRS256, world().SigningRSA[0], ourKID, extClaims(ext)), false},
		{"our iss, external key", sign(t, jwt.SigningMethodRS256, w.OtherRSA, map[string]any{"kid": "ext-1"}, extClaims(testIssuer)), false},
		{"external iss, RS512 against an RS256 JWK", sign(t, jwt.SigningMethodRS512, w.OtherRSA, map[string]any{"kid": "ext-1"}, extClaims(ext)), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := v.Verify(tt.raw)
			if got := err == nil; got != tt.ok {
				t.Fatalf("err = %v, want ok %v", err, tt.ok)
			}
			if err != nil && !errors.Is(err, token.ErrInvalidToken) {
				t.Errorf("err = %v, want token.ErrInvalidToken", err)
			}
			if tt.ok && (c.Issuer != ext || c.Consumer != orgA) {
				t.Errorf("issuer, consumer = %q, %q; want %q, %q", c.Issuer, c.Consumer, ext, orgA)
			}
		})
	}

	// The issuer rotates: a token with a new kid verifies after keyfunc
	// refreshes on the unknown kid. (A fresh Verifier: the unknown kids
	// above used up the refresh allowance, one per 5 minutes.)
	vr := newVerifier(t, Config{External: []ExternalIssuer{{Issuer: ext, JWKSURL: hs.URL + "/jwk"}}})
	if _, err := vr.Verify(sign(t, jwt.SigningMethodRS256, w.OtherRSA, map[string]any{"kid": "ext-1"}, extClaims(ext))); err != nil {
		t.Fatal(err)
	}
	js.add(t, "ext-2", w.RSAKey2)
	if _, err := vr.Verify(sign(t, jwt.SigningMethodRS256, w.RSAKey2, map[string]any{"kid": "ext-2"}, extClaims(ext))); err != nil {
		t.Errorf("token with the issuer's new key: %v", err)
	}

	// With Audience set, aud must name us.
	va := newVerifier(t, Config{External: []ExternalIssuer{{Issuer: ext, JWKSURL: hs.URL + "/jwk", Audience: "https://deling.test/api"}}})
	for _, tt := range []struct {
		aud any
		ok  bool
	}{{nil, false}, {"https://other.test/api", false}, {"https://deling.test/api", true}, {[]string{"x", "https://deling.test/api"}, true}} {
		c := extClaims(ext)
		if tt.aud != nil {
			c["aud"] = tt.aud
		}
		_, err := va.Verify(sign(t, jwt.SigningMethodRS256, w.OtherRSA, map[string]any{"kid": "ext-1"}, c))
		if got := err == nil; got != tt.ok {
			t.Errorf("aud %v: err = %v, want ok %v", tt.aud, err, tt.ok)
		}
	}
}

func TestNewConfig(t *testing.T) {
	ks := newKeySet(t, time.Now, 0)
	for _, cfg := range []Config{
		{},
		{Keys: ks},
		{Keys: ks, Issuer: testIssuer, External: []ExternalIssuer{{Issuer: testIssuer, JWKSURL: "http://x/"}}},
		{External: []ExternalIssuer{{Issuer: "a"}}},
		{External: []ExternalIssuer{{Issuer: "a", JWKSURL: "http://x/"}, {Issuer: "a", JWKSURL: "http://y/"}}},
	} {
		if _, err := NewVerifier(t.Context(), cfg); err == nil {
			t.Errorf("NewVerifier(%+v): want an error", cfg)
		}
	}
}

package token_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"strings"
	"testing"
	"time"

	"deling/internal/token"
	"deling/internal/token/tokentest"

	"github.com/MicahParks/jwkset"
	"github.com/golang-jwt/jwt/v5"
)

// TestThumbprint uses the example of RFC 7638 §3.1.
func TestThumbprint(t *testing.T) {
	n, err := base64.RawURLEncoding.DecodeString("0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw")
	if err != nil {
		t.Fatal(err)
	}
	got, err := token.Thumbprint(&rsa.PublicKey{N: new(big.Int).SetBytes(n), E: 65537})
	if err != nil {
		t.Fatal(err)
	}
	if want := "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"; got != want {
		t.Errorf("token.Thumbprint = %q, want %q", got, want)
	}
}

func TestNewKeySet(t *testing.T) {
	w := world()
	now := time.Now()
	past := now.Add(-time.Hour)
	retired := func(k token.SigningKey, at time.Time) token.SigningKey { k.Retired = &at; return k }
	older := w.Signing[1]
	older.Created = now.Add(-time.Hour)
	tests := []struct {
		name    string
		keys    []token.SigningKey
		signer  string   // kid that signs; "" when token.NewKeySet fails
		publish []string // kids in the JWKS
	}{
		{"none", nil, "", nil},
		{"only retired", []token.SigningKey{retired(w.Signing[0], past)}, "", nil},
		{"same kid twice", []token.SigningKey{w.Signing[0], w.Signing[0]}, "", nil},
		{"no kid", []token.SigningKey{{PrivatePEM: w.Signing[0].PrivatePEM}}, "", nil},
		{"not PEM", []token.SigningKey{{KID: "x", PrivatePEM: []byte("x")}}, "", nil},
		{"EC key", []token.SigningKey{{KID: "x", PrivatePEM: []byte(privPEM(t, w.ECKey))}}, "", nil},
		{"one", []token.SigningKey{w.Signing[0]}, w.Signing[0].KID, []string{w.Signing[0].KID}},
		{"newest signs", []token.SigningKey{older, w.Signing[0]}, w.Signing[0].KID, []string{w.Signing[0].KID, older.KID}},
		{"newest retired", []token.SigningKey{older, retired(w.Signing[0], past)}, older.KID, []string{w.Signing[0].KID, older.KID}},
		{"retirement ahead", []token.SigningKey{older, retired(w.Signing[0], now.Add(time.Hour))}, w.Signing[0].KID, []string{w.Signing[0].KID, older.KID}},
		{"retired beyond grace", []token.SigningKey{older, retired(w.Signing[0], now.Add(-token.RetiredKeyGrace))}, older.KID, []string{older.KID}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ks, err := token.NewKeySet(tt.keys, func() time.Time { return now })
			if tt.signer == "" {
				if err == nil {
					t.Fatal("want an error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			raw, err := ks.Sign(jwt.MapClaims{"x": 1})
			if err != nil {
				t.Fatal(err)
			}
			tok, _, err := jwt.NewParser().ParseUnverified(raw, jwt.MapClaims{})
			if err != nil {
				t.Fatal(err)
			}
			if got := tok.Header["kid"]; got != tt.signer {
				t.Errorf("signed by %v, want %v", got, tt.signer)
			}
			b, err := ks.JWKS()
			if err != nil {
				t.Fatal(err)
			}
			var set struct {
				Keys []map[string]any `json:"keys"`
			}
			if err := json.Unmarshal(b, &set); err != nil {
				t.Fatal(err)
			}
			var kids []string
			for _, k := range set.Keys {
				kids = append(kids, k["kid"].(string))
				for _, m := range tokentest.PrivateJWKMembers {
					if _, ok := k[m]; ok {
						t.Errorf("JWKS has private member %q", m)
					}
				}
			}
			if got, want := strings.Join(kids, " "), strings.Join(tt.publish, " "); got != want {
				t.Errorf("JWKS kids = %q, want %q", got, want)
			}
		})
	}
}

func TestNewClientKey(t *testing.T) {
	for _, alg := range []string{"RS256", "ES256"} {
		t.Run(alg, func(t *testing.T) {
			priv, kid, pub, err := token.NewClientKey(alg)
			if err != nil {
				t.Fatal(err)
			}
			if want, _ := token.Thumbprint(priv.Public()); kid != want {
				t.Errorf("kid = %q, want the thumbprint %q", kid, want)
			}
			var m map[string]any
			if err := json.Unmarshal(pub, &m); err != nil {
				t.Fatal(err)
			}
			if m["kid"] != kid || m["alg"] != alg || m["use"] != "sig" || m["d"] != nil {
				t.Errorf("JWK %s: want kid %s, alg %s, use sig and no d", pub, kid, alg)
			}
			k, err := token.ParsePublicJWK(pub)
			if err != nil {
				t.Fatal(err)
			}
			if k.KID != kid || k.Alg != alg || !priv.Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(k.Key) {
				t.Errorf("token.ParsePublicJWK gives %+v, want the generated key", k)
			}
		})
	}
	if _, _, _, err := token.NewClientKey("HS256"); err == nil {
		t.Error("HS256: want an error")
	}
}

func TestParsePublicJWK(t *testing.T) {
	w := world()
	jwk := func(key any, meta jwkset.JWKMetadataOptions, private bool) string {
		j, err := jwkset.NewJWKFromKey(key, jwkset.JWKOptions{Metadata: meta, Marshal: jwkset.JWKMarshalOptions{Private: private}})
		if err != nil {
			t.Fatal(err)
		}
		b, err := json.Marshal(j.Marshal())
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	k1 := jwkset.JWKMetadataOptions{KID: "k1"}
	tests := []struct {
		name, in string
		ok       bool
	}{
		{"RSA", jwk(&w.RSAKey.PublicKey, k1, false), true},
		{"RSA with alg RS512", jwk(&w.RSAKey.PublicKey, jwkset.JWKMetadataOptions{KID: "k1", ALG: jwkset.AlgRS512, USE: jwkset.UseSig}, false), true},
		{"EC P-256", jwk(&w.ECKey.PublicKey, k1, false), true},
		{"RSA private", jwk(w.RSAKey, k1, true), false},
		{"EC private", jwk(w.ECKey, k1, true), false},
		{"no kid", jwk(&w.RSAKey.PublicKey, jwkset.JWKMetadataOptions{}, false), false},
		{"RSA 1024", jwk(&small.PublicKey, k1, false), false},
		{"EC P-384", jwk(&p384.PublicKey, k1, false), false},
		{"RSA with alg ES256", jwk(&w.RSAKey.PublicKey, jwkset.JWKMetadataOptions{KID: "k1", ALG: jwkset.AlgES256}, false), false},
		{"EC with alg RS256", jwk(&w.ECKey.PublicKey, jwkset.JWKMetadataOptions{KID: "k1", ALG: jwkset.AlgRS256}, false), false},
		{"use enc", jwk(&w.RSAKey.PublicKey, jwkset.JWKMetadataOptions{KID: "k1", USE: jwkset.UseEnc}, false), false},
		{"symmetric", `{"kty":"oct","kid":"k1","k":"c2VjcmV0"}`, false},
		{"not JSON", `RSA`, false},
		{"array", `[]`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := token.ParsePublicJWK([]byte(tt.in))
			if got := err == nil; got != tt.ok {
				t.Fatalf("err = %v, want ok %v", err, tt.ok)
			}
			if tt.ok {
				back, err := k.JWK()
				if err != nil {
					t.Fatal(err)
				}
				again, err := token.ParsePublicJWK(back)
				if err != nil || again.KID != k.KID || again.Alg != k.Alg {
					t.Errorf("JWK round trip: %+v, %v", again, err)
				}
			}
		})
	}
}

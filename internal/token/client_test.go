package token_test

import (
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"deling/internal/token"

	"github.com/golang-jwt/jwt/v5"
)

func TestClientFileWriteLoad(t *testing.T) {
	w := world()
	want := token.ClientFile{
		ClientID: "rs-client", KID: w.RSAKID, PrivateKeyPEM: privPEM(t, w.RSAKey),
		TokenEndpoint: "http://localhost:8080/token", Audience: "http://localhost:8080/", Scope: scopeLookup, ConsumerOrg: orgC,
	}
	path := filepath.Join(t.TempDir(), "client.json")
	if err := want.Write(path); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got, wantMode := fi.Mode().Perm(), os.FileMode(0o600); got != wantMode {
		t.Errorf("mode %v, want %v", got, wantMode)
	}
	got, err := token.LoadClientFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("token.LoadClientFile = %+v, want %+v", got, want)
	}

	bad := []struct {
		name, json string
	}{
		{"not JSON", `x`},
		{"no client_id", `{"kid":"k","private_key_pem":"x","token_endpoint":"e","audience":"a","scope":"s"}`},
		{"no kid or certificate", `{"client_id":"c","private_key_pem":"x","token_endpoint":"e","audience":"a","scope":"s"}`},
		{"bad key", `{"client_id":"c","kid":"k","private_key_pem":"x","token_endpoint":"e","audience":"a","scope":"s"}`},
	}
	for _, tt := range bad {
		p := filepath.Join(t.TempDir(), "bad.json")
		if err := os.WriteFile(p, []byte(tt.json), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := token.LoadClientFile(p); err == nil {
			t.Errorf("%s: want an error", tt.name)
		}
	}
	if _, err := token.LoadClientFile(filepath.Join(t.TempDir(), "missing.json")); err == nil {
		t.Error("missing file: want an error")
	}
}

func TestAssertion(t *testing.T) {
	w := world()
	pkcs1 := string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(w.RSAKey)}))
	sec1DER, err := x509.MarshalECPrivateKey(w.ECKey)
	if err != nil {
		t.Fatal(err)
	}
	sec1 := string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: sec1DER}))
	now := time.Unix(1_800_000_000, 0)
	tests := []struct {
		name      string
		file      token.ClientFile
		alg       string
		header    map[string]any
		wantClaim map[string]any
	}{
		{"RSA PKCS#8 kid", token.ClientFile{ClientID: "c", KID: "k", PrivateKeyPEM: privPEM(t, w.RSAKey), Audience: "aud", Scope: "s1 s2"},
			"RS256", map[string]any{"kid": "k"}, map[string]any{"iss": "c", "aud": "aud", "scope": "s1 s2"}},
		{"RSA PKCS#1", token.ClientFile{ClientID: "c", KID: "k", PrivateKeyPEM: pkcs1, Audience: "aud", Scope: "s"},
			"RS256", map[string]any{"kid": "k"}, map[string]any{"iss": "c"}},
		{"EC SEC 1 with consumer_org", token.ClientFile{ClientID: "c", KID: "k", PrivateKeyPEM: sec1, Audience: "aud", Scope: "s", ConsumerOrg: orgC},
			"ES256", map[string]any{"kid": "k"}, map[string]any{"consumer_org": orgC}},
		{"certificate chain as x5c", token.ClientFile{ClientID: "c", KID: "ignored", PrivateKeyPEM: privPEM(t, w.RSAKey2), Audience: "aud", Scope: "s", Certificate: certPEM(w.Chained, w.Root)},
			"RS256", map[string]any{"x5c": []any{base64.StdEncoding.EncodeToString(w.Chained.Raw), base64.StdEncoding.EncodeToString(w.Root.Raw)}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw, err := tt.file.Assertion(now)
			if err != nil {
				t.Fatal(err)
			}
			tok, _, err := jwt.NewParser().ParseUnverified(raw, jwt.MapClaims{})
			if err != nil {
				t.Fatal(err)
			}
			if got := tok.Header["alg"]; got != tt.alg {
				t.Errorf("alg = %v, want %v", got, tt.alg)
			}
			for k, v := range tt.header {
				if got := tok.Header[k]; !reflect.DeepEqual(got, v) {
					t.Errorf("header %s = %v, want %v", k, got, v)
				}
			}
			if _, both := tok.Header["kid"]; both && tok.Header["x5c"] != nil {
				t.Error("both kid and x5c")
			}
			c := tok.Claims.(jwt.MapClaims)
			if c["iat"] != float64(now.Unix()) || c["exp"] != float64(now.Unix()+120) || c["jti"] == "" || c["jti"] == nil {
				t.Errorf("iat, exp, jti = %v, %v, %v; want %d, %d and a jti", c["iat"], c["exp"], c["jti"], now.Unix(), now.Unix()+120)
			}
			for k, v := range tt.wantClaim {
				if c[k] != v {
					t.Errorf("claim %s = %v, want %v", k, c[k], v)
				}
			}
			if _, ok := c["consumer_org"]; ok != (tt.file.ConsumerOrg != "") {
				t.Errorf("consumer_org present %v, want %v", ok, tt.file.ConsumerOrg != "")
			}
		})
	}
	again, _ := tests[0].file.Assertion(now)
	first, _ := tests[0].file.Assertion(now)
	if payload(t, again)["jti"] == payload(t, first)["jti"] {
		t.Error("two assertions share a jti")
	}
}

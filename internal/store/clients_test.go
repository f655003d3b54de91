package store

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"math/big"
	"testing"
	"time"

	"deling/internal/audit"
	"deling/internal/token"
)

func testClientKey(t *testing.T) ClientKey {
	t.Helper()
	_, kid, jwk, err := token.NewClientKey("ES256")
	if err != nil {
		t.Fatal(err)
	}
	return ClientKey{KID: kid, Kind: KeyJWK, Material: string(jwk)}
}

// Issue 16, item 5: an organisation rotates its client's key and revokes the
// client, each with its event in the log; another organisation's client, or a
// revoked one, is not found; a bad key changes nothing.
func TestRotateAndRevokeClient(t *testing.T) {
	eachEngine(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		const org, other = "310000019", "310000027"
		first := testClientKey(t)
		if err := db.AddClient(ctx, ClientInfo{ID: "k1", Orgnr: org, Keys: []ClientKey{first}}, "user:a"); err != nil {
			t.Fatal(err)
		}
		keys := func() []string {
			c, err := db.Client(ctx, "k1")
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, k := range c.Keys {
				out = append(out, k.KID)
			}
			return out
		}
		second := testClientKey(t)
		if err := db.RotateClientKey(ctx, other, "k1", second, "user:b"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("another organisation rotating: %v", err)
		}
		if err := db.RotateClientKey(ctx, org, "k1", ClientKey{KID: "x", Kind: KeyJWK, Material: "{}"}, "user:a"); err == nil {
			t.Fatal("a bad key was taken")
		}
		if got := keys(); len(got) != 1 || got[0] != first.KID {
			t.Fatalf("keys after refused rotations: %v", got)
		}
		if err := db.RotateClientKey(ctx, org, "k1", second, "user:a"); err != nil {
			t.Fatal(err)
		}
		if got := keys(); len(got) != 1 || got[0] != second.KID {
			t.Fatalf("keys after rotation: %v, want only %s", got, second.KID)
		}

		if err := db.RevokeClient(ctx, other, "k1", "user:b"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("another organisation revoking: %v", err)
		}
		if c, _ := db.Client(ctx, "k1"); !c.Active {
			t.Fatal("revoked by another organisation")
		}
		if err := db.RevokeClient(ctx, org, "k1", "user:a"); err != nil {
			t.Fatal(err)
		}
		if c, _ := db.Client(ctx, "k1"); c.Active {
			t.Fatal("still active after revocation")
		}
		if err := db.RevokeClient(ctx, org, "k1", "user:a"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("revoking twice: %v", err)
		}
		if err := db.RotateClientKey(ctx, org, "k1", testClientKey(t), "user:a"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("rotating a revoked client: %v", err)
		}
		ev := events(t, db, org, audit.KindClientChanged)
		if len(ev) != 2 || ev[0]["change"] != "key_rotated" || ev[0]["kid"] != second.KID || ev[1]["change"] != "revoked" {
			t.Fatalf("events: %v", ev)
		}
	})
}

// A certificate bundle that also holds a private key after the certificate
// is refused whole by the store too: no private key reaches client_keys.
func TestAddClientRefusesBundleWithPrivateKey(t *testing.T) {
	eachEngine(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
		if err != nil {
			t.Fatal(err)
		}
		priv, _ := x509.MarshalPKCS8PrivateKey(k)
		cert := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
		bundle := cert + string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: priv}))
		err = db.AddClient(ctx, ClientInfo{ID: "b1", Orgnr: "310000019", Keys: []ClientKey{{KID: "cert-b1", Kind: KeyCertificate, Material: bundle}}}, "user:a")
		if !errors.Is(err, token.ErrPrivateKey) {
			t.Fatalf("a bundle with a private key: %v", err)
		}
		var n int
		if err := db.write.QueryRowContext(ctx, `SELECT COUNT(*) FROM client_keys WHERE material LIKE '%PRIVATE KEY%'`).Scan(&n); err != nil || n != 0 {
			t.Fatalf("%d private keys stored (%v)", n, err)
		}
		if err := db.AddClient(ctx, ClientInfo{ID: "b2", Orgnr: "310000019", Keys: []ClientKey{{KID: "cert-b2", Kind: KeyCertificate, Material: cert}}}, "user:a"); err != nil {
			t.Fatal(err)
		}
		if err := db.RotateClientKey(ctx, "310000019", "b2", ClientKey{KID: "cert-b3", Kind: KeyCertificate, Material: bundle}, "user:a"); !errors.Is(err, token.ErrPrivateKey) {
			t.Fatalf("a rotation to a bundle with a private key: %v", err)
		}
	})
}

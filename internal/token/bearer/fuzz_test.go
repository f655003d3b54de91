package bearer

import (
	"testing"
	"time"

	"deling/internal/token"
)

// FuzzVerify gives Verify arbitrary strings: it must never panic and must
// accept only the one valid token among the seeds.
func FuzzVerify(f *testing.F) {
	now := time.Now()
	clock := func() time.Time { return now }
	ks, err := token.NewKeySet([]token.SigningKey{world().Signing[0]}, clock)
	if err != nil {
		f.Fatal(err)
	}
	v, err := NewVerifier(f.Context(), Config{Keys: ks, Issuer: testIssuer, Now: clock, CacheSize: 64})
	if err != nil {
		f.Fatal(err)
	}
	good, err := ks.Sign(ourClaims(now))
	if err != nil {
		f.Fatal(err)
	}
	if _, err := v.Verify(good); err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add(good[:len(good)-1] + "A")
	f.Add("")
	f.Add("a.b.c")
	f.Add("eyJhbGciOiJub25lIn0.eyJpc3MiOiJodHRwczovL2RlbGluZy50ZXN0LyJ9.")
	f.Fuzz(func(t *testing.T, raw string) {
		c, err := v.Verify(raw)
		if err == nil && raw != good {
			t.Fatalf("Verify accepted a token that is not the valid one: %+v", c)
		}
	})
}

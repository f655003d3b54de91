package bearer

import (
	"testing"
	"time"

	"deling/internal/token"
)

func benchToken(b *testing.B) (*token.KeySet, string) {
	ks, err := token.NewKeySet([]token.SigningKey{world().Signing[0]}, nil)
	if err != nil {
		b.Fatal(err)
	}
	raw, err := ks.Sign(ourClaims(time.Now()))
	if err != nil {
		b.Fatal(err)
	}
	return ks, raw
}

func BenchmarkVerifyCached(b *testing.B) {
	ks, raw := benchToken(b)
	v := newVerifier(b, Config{Keys: ks, Issuer: testIssuer})
	for b.Loop() {
		if _, err := v.Verify(raw); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyCachedParallel(b *testing.B) {
	ks, raw := benchToken(b)
	v := newVerifier(b, Config{Keys: ks, Issuer: testIssuer})
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
	v := newVerifier(b, Config{Keys: ks, Issuer: testIssuer, CacheSize: -1})
	for b.Loop() {
		if _, err := v.Verify(raw); err != nil {
			b.Fatal(err)
		}
	}
}

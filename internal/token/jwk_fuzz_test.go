package token

import (
	"encoding/json"
	"testing"
)

// FuzzParsePublicJWK: the portal takes a JWK pasted by a developer (issue 16,
// item 5). Whatever the input, parsing never panics, and a key it accepts is
// a public key with a kid: never one with a private member.
func FuzzParsePublicJWK(f *testing.F) {
	for _, alg := range []string{"RS256", "ES256"} {
		_, _, jwk, err := NewClientKey(alg)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(jwk)
	}
	f.Add([]byte(`{"kty":"EC","crv":"P-256","x":"","y":"","d":"AQAB"}`))
	f.Add([]byte(`{"kty":"oct","k":"c2VjcmV0"}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		k, err := ParsePublicJWK(b)
		if err != nil {
			return
		}
		if k.KID == "" || k.Key == nil {
			t.Fatalf("accepted a key without kid or key: %+v", k)
		}
		var members map[string]json.RawMessage
		if json.Unmarshal(b, &members) != nil {
			t.Fatal("accepted what is not a JSON object")
		}
		for _, m := range privateMembers {
			if _, ok := members[m]; ok {
				t.Fatalf("accepted a key with the private member %q", m)
			}
		}
	})
}

package openid

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

// The claims deling reads of a verified ID token: the forms providers send
// are taken, anything of the wrong type refused (issue 16, item 6).
func TestParseClaims(t *testing.T) {
	for _, tt := range []struct {
		in      string
		want    claims
		refused bool
	}{
		{in: `{"pid":"01010112345","acr":"idporten-loa-high","amr":["BankID"]}`, want: claims{PID: "01010112345", ACR: "idporten-loa-high", AMR: []string{"BankID"}}},
		{in: `{"amr":"pwd","email":" a@b.no ","email_verified":"true"}`, want: claims{AMR: []string{"pwd"}, Email: "a@b.no", EmailVerified: true}},
		{in: `{"email":"a@b.no","email_verified":false}`, want: claims{Email: "a@b.no"}},
		{in: `{"email_verified":null,"amr":null}`, want: claims{}},
		{in: `{"EMAIL_VERIFIED":true,"Pid":"01010112345"}`, want: claims{}}, // by exact name only
		{in: `{"email_verified":"yes"}`, refused: true},
		{in: `{"email_verified":1}`, refused: true},
		{in: `{"amr":7}`, refused: true},
		{in: `{"pid":12345678901}`, refused: true},
		{in: `{"acr":"` + strings.Repeat("a", 201) + `"}`, refused: true},
		{in: `[]`, refused: true},
		{in: `{"pad":"` + strings.Repeat("a", maxClaims) + `"}`, refused: true},
	} {
		got, err := parseClaims([]byte(tt.in))
		if tt.refused {
			if err == nil {
				t.Errorf("%.60s: accepted as %+v", tt.in, got)
			}
			continue
		}
		if err != nil || got.PID != tt.want.PID || got.ACR != tt.want.ACR || !slices.Equal(got.AMR, tt.want.AMR) ||
			got.Email != tt.want.Email || got.EmailVerified != tt.want.EmailVerified {
			t.Errorf("%s: %+v %v, want %+v", tt.in, got, err, tt.want)
		}
	}
}

// FuzzParseClaims: any payload is parsed or refused without a panic; what
// is accepted is within its bounds, and an e-mail address is only ever
// verified when the payload said so.
func FuzzParseClaims(f *testing.F) {
	for _, s := range []string{`{"pid":"01010112345","acr":"idporten-loa-high","amr":["BankID"]}`, `{"amr":"pwd","email_verified":"true"}`,
		`{"email_verified":true,"email":"x@y.no"}`, `{}`, `null`, `{"amr":[1]}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := parseClaims(b)
		if err != nil {
			return
		}
		if len(c.ACR) > 200 || len(c.AMR) > 20 {
			t.Fatalf("out of bounds: %+v", c)
		}
		if c.EmailVerified {
			var raw map[string]json.RawMessage
			if json.Unmarshal(b, &raw) != nil || (string(raw["email_verified"]) != "true" && string(raw["email_verified"]) != `"true"`) {
				t.Fatalf("verified without email_verified true: %s", b)
			}
		}
	})
}

package web

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"

	"deling/internal/access"
)

// FuzzSearchBody: the search endpoint's parser of outside input. Whatever the
// body, the answer is a 200 or a problem the caller caused (400, 403) — never a
// 5xx, never a panic — and a bad body never returns data.
func FuzzSearchBody(f *testing.F) {
	h := newHarness(f)
	g := grant(detailed, access.ByArbeidstaker, access.ByArbeidssted, access.ByOpplysningspliktig)
	g.RateLimit = 1_000_000
	org, _ := h.consumer("Fuzz", g)
	tok := h.token(h.client(org))
	p := h.employed(1)[0]
	for _, s := range []string{
		`{"arbeidstakerId":"` + p.Ident + `","arbeidsforholdtype":["ordinaertArbeidsforhold"],"rapporteringsordning":["A_ORDNINGEN"],"arbeidsforholdstatus":["AKTIV"]}`,
		`{"arbeidsstedId":"300000029","arbeidsforholdtype":["ordinaertArbeidsforhold"],"rapporteringsordning":["A_ORDNINGEN"],"arbeidsforholdstatus":["AKTIV"],"sidestoerrelse":2,"side":"MDAwMDAwMDAtMDAwMC00MDAwLTgwMDAtMDAwMDAwMDAwMDAw"}`,
		`{"opplysningspliktigId":"300000010","arbeidsforholdtype":[],"rapporteringsordning":["X"],"arbeidsforholdstatus":null}`,
		`{"arbeidstakerId":12345678901}`, `[]`, `null`, ``, `{"side":"` + string(make([]byte, 100)) + `"}`,
		`{"arbeidstakerId":"` + p.Ident + `","ansettelsesdetaljerhistorikk":true,"arbeidsforholdtype":["ordinaertArbeidsforhold"],"rapporteringsordning":["A_ORDNINGEN"],"arbeidsforholdstatus":["AKTIV","FREMTIDIG","AVSLUTTET"]}`,
	} {
		f.Add([]byte(s))
	}
	handler := h.srv.Config.Handler
	f.Fuzz(func(t *testing.T, body []byte) {
		req := httptest.NewRequest("POST", "/api/v2/arbeidsforhold/sok", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		switch rec.Code {
		case http.StatusOK:
		case http.StatusBadRequest, http.StatusForbidden:
			if bytes.Contains(rec.Body.Bytes(), []byte(`"uuid"`)) {
				t.Fatalf("a refusal carries data: %s", rec.Body.Bytes())
			}
		default:
			t.Fatalf("status %d for %q: %s", rec.Code, body, rec.Body.Bytes())
		}
	})
}

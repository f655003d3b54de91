package web

import (
	"net/http/httptest"
	"testing"

	"deling/internal/access"
)

// BenchmarkLookup is one whole person lookup through the HTTP handler
// (token check, decision, query, projection, durable log append), without the network.
func BenchmarkLookup(b *testing.B) {
	h := newHarness(b)
	g := grant(detailed, access.ByArbeidstaker)
	g.RateLimit = 1_000_000_000
	org, _ := h.consumer("Bench", g)
	tok := h.token(h.client(org))
	people := h.employed(50)
	handler := h.srv.Config.Handler
	i := 0
	for b.Loop() {
		req := httptest.NewRequest("GET", "/api/v2/arbeidstaker/arbeidsforhold", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set(headerPerson, people[i%len(people)].Ident)
		i++
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		if rec.Code != 200 {
			b.Fatalf("%d %s", rec.Code, rec.Body.Bytes())
		}
	}
}

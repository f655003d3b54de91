package web

import (
	"net/http/httptest"
	"sync/atomic"
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

// BenchmarkLookupParallel is many concurrent lookups, so that log appends share commits.
func BenchmarkLookupParallel(b *testing.B) {
	h := newHarness(b)
	g := grant(detailed, access.ByArbeidstaker)
	g.RateLimit = 1_000_000_000
	org, _ := h.consumer("Bench", g)
	tok := h.token(h.client(org))
	people := h.employed(50)
	handler := h.srv.Config.Handler
	var n atomic.Int64
	b.SetParallelism(64)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			req := httptest.NewRequest("GET", "/api/v2/arbeidstaker/arbeidsforhold", nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			req.Header.Set(headerPerson, people[int(i)%len(people)].Ident)
			rec := httptest.NewRecorder()
			handler.ServeHTTP(rec, req)
			if rec.Code != 200 {
				b.Fatalf("%d %s", rec.Code, rec.Body.Bytes())
			}
		}
	})
}

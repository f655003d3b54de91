package web

import (
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"deling/internal/access"
	"deling/internal/register"
	"deling/internal/web/machineapi"
)

// benchSetup is a harness with a consumer that is never throttled, its token and persons to look up.
func benchSetup(b *testing.B) (http.Handler, string, []register.Person) {
	h := newHarness(b)
	g := grant(detailed, access.ByArbeidstaker)
	g.RateLimit = 1_000_000_000
	org, _ := h.consumer("Bench", g)
	return h.srv.Config.Handler, h.token(h.client(org)), h.employed(50)
}

// BenchmarkLookup is one whole person lookup through the HTTP handler
// (token check, decision, query, projection, durable log append), without the network.
func BenchmarkLookup(b *testing.B) {
	handler, tok, people := benchSetup(b)
	i := 0
	for b.Loop() {
		req := httptest.NewRequest("GET", "/api/v2/arbeidstaker/arbeidsforhold", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set(machineapi.HeaderPerson, people[i%len(people)].Ident)
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
	handler, tok, people := benchSetup(b)
	var n atomic.Int64
	b.SetParallelism(64)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			req := httptest.NewRequest("GET", "/api/v2/arbeidstaker/arbeidsforhold", nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			req.Header.Set(machineapi.HeaderPerson, people[int(i)%len(people)].Ident)
			rec := httptest.NewRecorder()
			handler.ServeHTTP(rec, req)
			if rec.Code != 200 {
				b.Fatalf("%d %s", rec.Code, rec.Body.Bytes())
			}
		}
	})
}

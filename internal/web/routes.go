package web

import "net/http"

// route is one line of the route table.
type route struct {
	pattern string
	handler http.Handler
}

// routeTable is every route deling serves.
func (s *Server) routeTable() []route {
	f := func(p string, h http.HandlerFunc) route { return route{p, h} }
	table := []route{
		f("GET /{$}", s.start),
		f("GET /static/", s.static),
		f("GET /healthz", s.healthz),
		f("GET /readyz", s.readyz),
		{"GET /metrics", s.metrics()},

		// The register API (identifiers in headers and bodies, never in the URL).
		f("GET /api/v2/arbeidstaker/arbeidsforhold", s.arbeidstaker),
		f("POST /api/v2/arbeidsforhold/sok", s.search),
		f("GET /api/v2/arbeidsforhold/{uuid}", s.byUUID),
		f("POST /api/v2/arbeidssted/antall", s.count),
		f("GET /api/openapi.json", s.openAPI),

		// The lookup log: checkpoints and proofs are public (hashes only); insight needs the admin token.
		f("GET /audit/checkpoint", s.checkpoint),
		f("GET /audit/key", s.logKey),
		f("GET /audit/proof/inclusion", s.inclusion),
		f("GET /audit/proof/consistency", s.consistency),
		f("GET /api/innsyn/person", s.personInsight),
		f("GET /api/innsyn/konsument/{orgnr}/oppslag", s.consumerLog),
	}
	// Extracts (uttrekk): asynchronous jobs, results fetched in batches (extract.go).
	table = append(table, s.extractRoutes()...)
	// The portal (portal.go and a file per feature).
	table = append(table, s.portalRoutes()...)
	// The Maskinporten-compatible authorisation server.
	if s.tokens != nil {
		table = append(table,
			f("POST /token", s.tokens.Token),
			f("GET /jwks", s.tokens.JWKS),
			f("GET /.well-known/oauth-authorization-server", s.tokens.Metadata))
	}
	return table
}

// routes builds the mux from the route table.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	for _, rt := range s.routeTable() {
		h := rt.handler
		mux.Handle(rt.pattern, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if m, ok := r.Context().Value(routeKey).(*matchedRoute); ok {
				m.pattern = r.Pattern
			}
			h.ServeHTTP(w, r)
		}))
	}
	return problemsForUnmatched(mux)
}

// problemsForUnmatched turns the mux's plain-text 404 and 405 answers into problem+json.
func problemsForUnmatched(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mux.ServeHTTP(&unmatchedWriter{ResponseWriter: w, r: r}, r)
	})
}

type unmatchedWriter struct {
	http.ResponseWriter
	r         *http.Request
	swallowed bool
}

func (w *unmatchedWriter) WriteHeader(code int) {
	if w.r.Pattern == "" && (code == http.StatusNotFound || code == http.StatusMethodNotAllowed) {
		detail := "Fant ikke ressursen."
		if code == http.StatusMethodNotAllowed {
			detail = "Metoden er ikke tillatt for ressursen."
		}
		w.swallowed = true
		writeProblem(w.ResponseWriter, w.r, code, "", detail)
		return
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *unmatchedWriter) Write(b []byte) (int, error) {
	if w.swallowed {
		return len(b), nil
	}
	return w.ResponseWriter.Write(b)
}

func (w *unmatchedWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

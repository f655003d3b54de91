package web

import "net/http"

// routes is the whole route table.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /readyz", s.readyz)
	mux.Handle("GET /metrics", s.metrics())

	// The register API (identifiers in headers and bodies, never in the URL).
	mux.HandleFunc("GET /api/v2/arbeidstaker/arbeidsforhold", s.arbeidstaker)
	mux.HandleFunc("POST /api/v2/arbeidsforhold/sok", s.search)
	mux.HandleFunc("GET /api/v2/arbeidsforhold/{uuid}", s.byUUID)
	mux.HandleFunc("POST /api/v2/arbeidssted/antall", s.count)
	mux.HandleFunc("GET /api/openapi.json", s.openAPI)

	// The lookup log: checkpoints and proofs are public (hashes only); insight needs the admin token.
	mux.HandleFunc("GET /audit/checkpoint", s.checkpoint)
	mux.HandleFunc("GET /audit/key", s.logKey)
	mux.HandleFunc("GET /audit/proof/inclusion", s.inclusion)
	mux.HandleFunc("GET /audit/proof/consistency", s.consistency)
	mux.HandleFunc("GET /api/innsyn/person", s.personInsight)
	mux.HandleFunc("GET /api/innsyn/konsument/{orgnr}/oppslag", s.consumerLog)

	// The Maskinporten-compatible authorisation server.
	if s.tokens != nil {
		mux.HandleFunc("POST /token", s.tokens.Token)
		mux.HandleFunc("GET /jwks", s.tokens.JWKS)
		mux.HandleFunc("GET /.well-known/oauth-authorization-server", s.tokens.Metadata)
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

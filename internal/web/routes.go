package web

import (
	"net/http"

	"deling/internal/web/httperr"
)

// routes builds the one mux: the server's own routes (below), the token
// server's, the machine API's (machineapi/routes.go) and the portal's
// (portal/routes.go), every handler recording the pattern it matched for
// the metrics and the access log.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	record := func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if m, ok := r.Context().Value(routeKey).(*matchedRoute); ok {
				m.pattern = r.Pattern
			}
			h.ServeHTTP(w, r)
		})
	}
	own := map[string]http.Handler{
		"GET /healthz": http.HandlerFunc(s.healthz),
		"GET /readyz":  http.HandlerFunc(s.readyz),
		// No /metrics here: it is served on its own listener (deling serve --metrics-addr).
	}
	// The Maskinporten-compatible authorisation server: no sessions, no cross-origin check.
	if s.tokens != nil {
		own["POST /token"] = http.HandlerFunc(s.tokens.Token)
		own["GET /jwks"] = http.HandlerFunc(s.tokens.JWKS)
		own["GET /.well-known/oauth-authorization-server"] = http.HandlerFunc(s.tokens.Metadata)
	}
	for p, h := range own {
		mux.Handle(p, record(h))
	}
	s.api.Register(mux, record)
	s.post.Register(mux, record) // digital post: /correspondence/api/v1/… (correspondence/server.go)
	s.portal.Register(mux, record)
	return s.unmatched(mux)
}

// unmatched answers what the mux does not route itself (404 and 405): with
// problem+json for programs (under /api/ and /audit/, or asking for JSON),
// with the portal's HTML page for browsers.
func (s *Server) unmatched(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mux.ServeHTTP(&unmatchedWriter{ResponseWriter: w, r: r, s: s}, r)
	})
}

type unmatchedWriter struct {
	http.ResponseWriter
	r         *http.Request
	s         *Server
	swallowed bool
}

func (w *unmatchedWriter) WriteHeader(code int) {
	if w.r.Pattern == "" && (code == http.StatusNotFound || code == http.StatusMethodNotAllowed) {
		w.swallowed = true
		if !httperr.WantsJSON(w.r) {
			w.s.portal.ErrorPage(w.ResponseWriter, w.r, code)
			return
		}
		detail := "Fant ikke ressursen."
		if code == http.StatusMethodNotAllowed {
			detail = "Metoden er ikke tillatt for ressursen."
		}
		httperr.Write(w.ResponseWriter, w.r, code, "", detail)
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

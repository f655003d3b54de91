package machineapi

import "net/http"

// route is one line of the route table.
type route struct {
	pattern string
	handler http.HandlerFunc
}

// routeTable is every route of the machine API. Identifiers travel in
// headers and bodies, never in the URL.
func (s *Server) routeTable() []route {
	return []route{
		// The register API (api.go).
		{"GET /api/v2/arbeidstaker/arbeidsforhold", s.arbeidstaker},
		{"POST /api/v2/arbeidsforhold/sok", s.search},
		{"GET /api/v2/arbeidsforhold/{uuid}", s.byUUID},
		{"POST /api/v2/arbeidssted/antall", s.count},
		{"GET /api/openapi.json", s.openAPI},

		// Extracts (uttrekk): asynchronous jobs, results fetched in batches (extract.go).
		{"POST /api/v2/uttrekk", s.extractCreate},
		{"GET /api/v2/uttrekk/{jobbid}", s.extractStatus},
		{"GET /api/v2/uttrekk/{jobbid}/batch/{n}", s.extractBatch},
		{"DELETE /api/v2/uttrekk/{jobbid}", s.extractDelete},

		// The lookup log (logapi.go): checkpoints and proofs are public (hashes only); insight needs the admin token.
		{"GET /audit/checkpoint", s.checkpoint}, // also C2SP tlog-tiles' checkpoint, beside its tiles
		{"GET /audit/tile/{path...}", s.tile},
		{"GET /audit/checkpoint/cosigned", s.cosignedCheckpoint}, // witnessapi.go
		{"GET /audit/key", s.logKey},
		{"GET /audit/proof/inclusion", s.inclusion},
		{"GET /audit/proof/consistency", s.consistency},
		{"GET /api/innsyn/person", s.personInsight},
		{"GET /api/innsyn/konsument/{orgnr}/oppslag", s.consumerLog},
	}
}

// Register adds every route of the machine API to mux, each through wrap
// (the server's per-route middleware; nil for none).
func (s *Server) Register(mux *http.ServeMux, wrap func(http.Handler) http.Handler) {
	for _, rt := range s.routeTable() {
		var h http.Handler = rt.handler
		if wrap != nil {
			h = wrap(h)
		}
		mux.Handle(rt.pattern, h)
	}
}

// Patterns are the route table's patterns, for the OpenAPI check.
func (s *Server) Patterns() []string {
	var out []string
	for _, rt := range s.routeTable() {
		out = append(out, rt.pattern)
	}
	return out
}

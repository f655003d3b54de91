package machineapi

import (
	_ "embed"
	"net/http"
)

// openAPIDocument describes the register API; a test checks it against the route table.
//
//go:embed openapi.json
var openAPIDocument []byte

func (s *Server) openAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Write(openAPIDocument)
}

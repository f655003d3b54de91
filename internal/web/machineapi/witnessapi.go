package machineapi

import (
	"net/http"
)

// cosignedCheckpoint answers GET /audit/checkpoint/cosigned: the newest
// checkpoint that a witness cosigned, with the log's signature and every
// witness's cosignature lines (c2sp.org/tlog-cosignature). Rule AA-16: whoever
// keeps it can later prove that the log was not truncated or forked
// (`deling audit verify --trusted FILE --witness-key VKEY`).
func (s *Server) cosignedCheckpoint(w http.ResponseWriter, r *http.Request) {
	s.serveCheckpoint(w, r, s.db.CosignedCheckpoint, "Ingen vitner har kosignert et sjekkpunkt ennå.")
}

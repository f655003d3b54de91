package machineapi

import (
	"errors"
	"net/http"

	"deling/internal/store"
	"deling/internal/web/httperr"
)

// cosignedCheckpoint answers GET /audit/checkpoint/cosigned: the newest
// checkpoint that a witness cosigned, with the log's signature and every
// witness's cosignature lines (c2sp.org/tlog-cosignature). Rule AA-16: whoever
// keeps it can later prove that the log was not truncated or forked
// (`deling audit verify --trusted FILE --witness-key VKEY`).
func (s *Server) cosignedCheckpoint(w http.ResponseWriter, r *http.Request) {
	_, signed, err := s.db.CosignedCheckpoint(r.Context())
	if errors.Is(err, store.ErrNotFound) {
		httperr.Write(w, r, http.StatusNotFound, "", "Ingen vitner har kosignert et sjekkpunkt ennå.")
		return
	}
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	w.Write(signed)
}

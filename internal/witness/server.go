package witness

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"

	"golang.org/x/mod/sumdb/note"

	"deling/internal/audit"
)

// maxBody bounds an add-checkpoint request: 63 proof lines and a checkpoint
// with a few signatures fit well within it.
const maxBody = 64 << 10

// Server answers c2sp.org/tlog-witness add-checkpoint requests.
type Server struct {
	logs   map[string]note.Verifier // origin → the log's verifier key
	signer note.Signer              // the witness's cosignature/v1 key
	state  *State
	log    *slog.Logger
}

// NewServer makes a witness for logs (origin → verifier) that cosigns with signer.
func NewServer(logs map[string]note.Verifier, signer note.Signer, state *State, log *slog.Logger) *Server {
	return &Server{logs: logs, signer: signer, state: state, log: log}
}

// Handler is the witness's HTTP interface; the submission prefix is its root.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /add-checkpoint", s.addCheckpoint)
	return mux
}

func (s *Server) addCheckpoint(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		http.Error(w, "request too large or unreadable", http.StatusBadRequest)
		return
	}
	req, err := audit.ParseAddCheckpoint(body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	cp, n, err := audit.OpenForWitness(req.Checkpoint, s.logs)
	if err != nil {
		s.refuse(w, r, audit.Checkpoint{}, nil, err)
		return
	}
	var cosig []byte
	err = s.state.Advance(r.Context(), cp, func(latest audit.Checkpoint) ([]byte, error) {
		if err := audit.CheckAdd(req, cp, latest); err != nil {
			return nil, err
		}
		var err error
		if cosig, err = audit.Cosign(n.Text, s.signer); err != nil {
			return nil, err
		}
		// Keep the checkpoint with the log's verified signature and ours only.
		stored := append([]byte(n.Text+"\n"), audit.SignatureLines(n.Sigs)...)
		return append(stored, cosig...), nil
	})
	if err != nil {
		s.refuse(w, r, cp, req.Checkpoint, err)
		return
	}
	s.log.Info("cosigned", "origin", cp.Origin, "size", cp.Size, "old", req.OldSize)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write(cosig)
}

// refuse answers with the status c2sp.org/tlog-witness names for err, and
// keeps a refused checkpoint that the log did sign.
func (s *Server) refuse(w http.ResponseWriter, r *http.Request, cp audit.Checkpoint, signed []byte, err error) {
	var conflict *audit.ConflictError
	status := http.StatusInternalServerError
	switch {
	case errors.As(err, &conflict):
		status = http.StatusConflict
	case errors.Is(err, audit.ErrUnknownLog):
		status = http.StatusNotFound
	case errors.Is(err, audit.ErrNotLogSigned):
		status = http.StatusForbidden
	case errors.Is(err, audit.ErrBadRequest):
		status = http.StatusBadRequest
	case errors.Is(err, audit.ErrBadProof):
		status = http.StatusUnprocessableEntity
	}
	if status == http.StatusInternalServerError {
		s.log.Error("add-checkpoint", "err", err)
		http.Error(w, "internal error", status)
		return
	}
	if signed != nil && (status == http.StatusConflict || status == http.StatusUnprocessableEntity) {
		// A rolled-back or forked checkpoint under the log's signature is evidence; keep it.
		if conflict == nil || conflict.Evidence {
			if err := s.state.Refuse(r.Context(), cp, signed, err.Error()); err != nil {
				s.log.Error("keep refused checkpoint", "err", err)
			}
		}
		s.log.Warn("refused a checkpoint", "origin", cp.Origin, "size", cp.Size, "reason", err.Error())
	}
	if conflict != nil {
		w.Header().Set("Content-Type", "text/x.tlog.size")
		w.WriteHeader(http.StatusConflict)
		fmt.Fprintf(w, "%d\n", conflict.Size)
		return
	}
	http.Error(w, err.Error(), status)
}

package machineapi

import (
	"context"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"deling/internal/audit"
	"deling/internal/store"
	"deling/internal/web/channel"
	"deling/internal/web/httperr"
)

// checkpoint answers GET /audit/checkpoint: the newest signed checkpoint (C2SP tlog-checkpoint).
func (s *Server) checkpoint(w http.ResponseWriter, r *http.Request) {
	s.serveCheckpoint(w, r, s.db.LatestCheckpoint, "Loggen har ikke noe signert sjekkpunkt ennå.")
}

// serveCheckpoint answers with the signed note load gives, or 404 with none yet.
func (s *Server) serveCheckpoint(w http.ResponseWriter, r *http.Request, load func(context.Context) (uint64, []byte, error), none string) {
	_, signed, err := load(r.Context())
	if errors.Is(err, store.ErrNotFound) {
		httperr.Write(w, r, http.StatusNotFound, "", none)
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

// tile answers GET /audit/tile/{path...}: a hash tile of the log's tree in
// C2SP tlog-tiles (L/N, or L/N.p/W for a partial one), so that any
// tlog-tiles client can follow the log and check proofs against its signed
// checkpoints (GET /audit/checkpoint) (Rule AA-16). Hashes only: the entry bundles
// (tile/entries/…) are not served, for the records are not public (Rule AA-17).
func (s *Server) tile(w http.ResponseWriter, r *http.Request) {
	level, index, width, err := audit.ParseTilePath(r.PathValue("path"))
	if err != nil {
		httperr.Write(w, r, http.StatusNotFound, "", "Ingen slik flis: oppgi L/N eller L/N.p/W som i C2SP tlog-tiles (postene selv utleveres ikke).")
		return
	}
	b, err := s.db.Tile(r.Context(), level, index, width)
	if errors.Is(err, store.ErrNotFound) {
		httperr.Write(w, r, http.StatusNotFound, "", "Treet har ikke denne flisen ennå.")
		return
	}
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	// A tile of a given width never changes: the tree only grows to the right.
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	w.Write(b)
}

// logKey answers GET /audit/key: the verifier key that checks checkpoints and receipts.
func (s *Server) logKey(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write([]byte(s.logVerifierKey + "\n"))
}

// ProofAnswer is an inclusion or consistency proof.
type ProofAnswer struct {
	Index  *uint64  `json:"index,omitempty"`
	Size   uint64   `json:"size,omitempty"`
	From   uint64   `json:"from,omitempty"`
	To     uint64   `json:"to,omitempty"`
	Hashes []string `json:"hashes"`
}

func b64s(hs [][]byte) []string {
	out := make([]string, len(hs))
	for i, h := range hs {
		out[i] = base64.StdEncoding.EncodeToString(h)
	}
	return out
}

func uintParam(r *http.Request, name string) (uint64, bool) {
	n, err := strconv.ParseUint(r.URL.Query().Get(name), 10, 64)
	return n, err == nil
}

// inclusion answers GET /audit/proof/inclusion?index=N&size=M.
func (s *Server) inclusion(w http.ResponseWriter, r *http.Request) {
	index, ok1 := uintParam(r, "index")
	size, ok2 := uintParam(r, "size")
	if !ok1 || !ok2 {
		httperr.Write(w, r, http.StatusBadRequest, httperr.CodeInvalid, "Oppgi index og size som heltall.")
		return
	}
	hashes, err := s.db.InclusionProof(r.Context(), index, size)
	if errors.Is(err, store.ErrNotFound) {
		httperr.Write(w, r, http.StatusNotFound, "", "Ingen slik post eller trestørrelse i loggen.")
		return
	}
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	writeJSON(w, ProofAnswer{Index: &index, Size: size, Hashes: b64s(hashes)})
}

// consistency answers GET /audit/proof/consistency?from=A&to=B.
func (s *Server) consistency(w http.ResponseWriter, r *http.Request) {
	from, ok1 := uintParam(r, "from")
	to, ok2 := uintParam(r, "to")
	if !ok1 || !ok2 {
		httperr.Write(w, r, http.StatusBadRequest, httperr.CodeInvalid, "Oppgi from og to som heltall.")
		return
	}
	hashes, err := s.db.ConsistencyProof(r.Context(), from, to)
	if errors.Is(err, store.ErrNotFound) {
		httperr.Write(w, r, http.StatusNotFound, "", "Ingen slike trestørrelser i loggen.")
		return
	}
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	writeJSON(w, ProofAnswer{From: from, To: to, Hashes: b64s(hashes)})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	json.NewEncoder(w).Encode(v)
}

// admin checks the register staff's token. Until people sign in through the
// portal, insight into the log is for the register's own staff.
func (s *Server) admin(w http.ResponseWriter, r *http.Request) bool {
	raw, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || s.adminToken == "" || subtle.ConstantTimeCompare([]byte(strings.TrimSpace(raw)), []byte(s.adminToken)) != 1 {
		w.Header().Set("WWW-Authenticate", `Bearer realm="deling-admin"`)
		httperr.Write(w, r, http.StatusUnauthorized, "", "Krever registerets administrasjonstoken.")
		return false
	}
	return true
}

// insightRecord logs a read of the log itself: staff looking at what was looked up is a lookup too.
func (s *Server) insightRecord(r *http.Request, subject string, request any) error {
	return s.InsightRecordBy(r, "admin", "admin-token", "", subject, request)
}

// personInsight answers GET /api/innsyn/person (Rule AA-17): the consumers
// with access to the register, with purpose and legal basis; and, for
// consumers in the categories the register's policy names, the lookups on the
// person (header Nav-Personident), each with a receipt that checks offline.
func (s *Server) personInsight(w http.ResponseWriter, r *http.Request) {
	if !s.admin(w, r) {
		return
	}
	ident, why, ok := s.ParsePerson(r.Header.Get(HeaderPerson))
	if !ok {
		httperr.Write(w, r, http.StatusBadRequest, httperr.CodeArbeidstaker, "Validering av "+HeaderPerson+" feilet: "+why+".")
		return
	}
	out, err := s.PersonInsightFor(r, ident)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	if err := s.insightRecord(r, ident, map[string]string{"innsyn": "person"}); err != nil {
		s.log.Error("audit append failed", "err", err)
		httperr.Write(w, r, http.StatusServiceUnavailable, "", "Innsynet kunne ikke logges, og blir derfor ikke gitt.")
		return
	}
	// A lookup not yet under a signed checkpoint has its receipt later: say when to ask again.
	if slices.ContainsFunc(out.Oppslag, func(l channel.LookupSeen) bool { return l.KvitteringKommer }) {
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(s.receiptsWithin.Seconds()))))
	}
	writeJSON(w, out)
}

// consumerLog answers GET /api/innsyn/konsument/{orgnr}/oppslag (Rule AA-17):
// a consumer's own lookups, filtered by time (fra, til: RFC 3339), paged
// (side, antall), or all of them as JSON lines with format=jsonl.
func (s *Server) consumerLog(w http.ResponseWriter, r *http.Request) {
	if !s.admin(w, r) {
		return
	}
	q := store.RecordQuery{Consumer: r.PathValue("orgnr"), Limit: 100}
	v := r.URL.Query()
	for key := range v {
		switch key {
		case "fra", "til", "side", "antall", "format":
		default:
			httperr.Write(w, r, http.StatusBadRequest, httperr.CodeInvalid, "Ukjent parameter "+strconv.Quote(key)+".")
			return
		}
	}
	for name, dst := range map[string]*int64{"fra": &q.From, "til": &q.To} {
		if t := v.Get(name); t != "" {
			parsed, err := time.Parse(time.RFC3339, t)
			if err != nil {
				httperr.Write(w, r, http.StatusBadRequest, httperr.CodeInvalid, name+" må være et tidspunkt i RFC 3339-format.")
				return
			}
			*dst = parsed.UnixMicro()
		}
	}
	if side := v.Get("side"); side != "" {
		// 63 bits: the store compares seq as a signed integer, where a larger value would wrap to the first page.
		n, err := strconv.ParseUint(side, 10, 63)
		if err != nil {
			httperr.Write(w, r, http.StatusBadRequest, httperr.CodeInvalid, "Ugyldig side.")
			return
		}
		q.After, q.AfterSet = n, true
	}
	switch v.Get("format") {
	case "", "json", "jsonl":
	default:
		httperr.Write(w, r, http.StatusBadRequest, httperr.CodeEnum, "Ukjent format "+strconv.Quote(v.Get("format"))+" (json eller jsonl).")
		return
	}
	if a := v.Get("antall"); a != "" {
		n, err := strconv.Atoi(a)
		if err != nil || n < 1 || n > 1000 {
			httperr.Write(w, r, http.StatusBadRequest, httperr.CodeInvalid, "antall må være mellom 1 og 1000.")
			return
		}
		q.Limit = n
	}
	if err := s.insightRecord(r, "", map[string]string{"consumer": q.Consumer, "fra": v.Get("fra"), "til": v.Get("til")}); err != nil {
		httperr.Write(w, r, http.StatusServiceUnavailable, "", "Innsynet kunne ikke logges, og blir derfor ikke gitt.")
		return
	}
	if v.Get("format") == "jsonl" {
		s.ExportLookups(w, r, q)
		return
	}
	recs, err := s.db.StoredRecords(r.Context(), q)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	out := struct {
		Oppslag   []audit.Record `json:"oppslag"`
		NesteSide string         `json:"nesteSide,omitempty"`
	}{Oppslag: []audit.Record{}}
	for _, sr := range recs {
		if sr.Record.Kind == audit.KindLookup {
			out.Oppslag = append(out.Oppslag, sr.Record)
		}
	}
	if len(recs) == q.Limit {
		out.NesteSide = strconv.FormatUint(recs[len(recs)-1].Seq, 10)
	}
	writeJSON(w, out)
}

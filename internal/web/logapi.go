package web

import (
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"deling/internal/access"
	"deling/internal/audit"
	"deling/internal/store"
)

// checkpoint answers GET /audit/checkpoint: the newest signed checkpoint (C2SP tlog-checkpoint).
func (s *Server) checkpoint(w http.ResponseWriter, r *http.Request) {
	_, signed, err := s.db.LatestCheckpoint(r.Context())
	if errors.Is(err, store.ErrNotFound) {
		writeProblem(w, r, http.StatusNotFound, "", "Loggen har ikke noe signert sjekkpunkt ennå.")
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

// logKey answers GET /audit/key: the verifier key that checks checkpoints and receipts.
func (s *Server) logKey(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write([]byte(s.logVerifierKey + "\n"))
}

// proofAnswer is an inclusion or consistency proof.
type proofAnswer struct {
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
		writeProblem(w, r, http.StatusBadRequest, codeInvalid, "Oppgi index og size som heltall.")
		return
	}
	hashes, err := s.db.InclusionProof(r.Context(), index, size)
	if errors.Is(err, store.ErrNotFound) {
		writeProblem(w, r, http.StatusNotFound, "", "Ingen slik post eller trestørrelse i loggen.")
		return
	}
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	writeJSON(w, proofAnswer{Index: &index, Size: size, Hashes: b64s(hashes)})
}

// consistency answers GET /audit/proof/consistency?from=A&to=B.
func (s *Server) consistency(w http.ResponseWriter, r *http.Request) {
	from, ok1 := uintParam(r, "from")
	to, ok2 := uintParam(r, "to")
	if !ok1 || !ok2 {
		writeProblem(w, r, http.StatusBadRequest, codeInvalid, "Oppgi from og to som heltall.")
		return
	}
	hashes, err := s.db.ConsistencyProof(r.Context(), from, to)
	if errors.Is(err, store.ErrNotFound) {
		writeProblem(w, r, http.StatusNotFound, "", "Ingen slike trestørrelser i loggen.")
		return
	}
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	writeJSON(w, proofAnswer{From: from, To: to, Hashes: b64s(hashes)})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	json.NewEncoder(w).Encode(v)
}

func (s *Server) serverError(w http.ResponseWriter, r *http.Request, err error) {
	s.log.Error("request failed", "err", err, "route", r.Pattern, "correlation_id", CorrelationID(r.Context()))
	writeProblem(w, r, http.StatusInternalServerError, "AA-000", "Det oppsto en feil. Oppgi correlation-id ved henvendelse.")
}

// admin checks the register staff's token. Until people sign in through the
// portal, insight into the log is for the register's own staff.
func (s *Server) admin(w http.ResponseWriter, r *http.Request) bool {
	raw, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || s.adminToken == "" || subtle.ConstantTimeCompare([]byte(strings.TrimSpace(raw)), []byte(s.adminToken)) != 1 {
		w.Header().Set("WWW-Authenticate", `Bearer realm="deling-admin"`)
		writeProblem(w, r, http.StatusUnauthorized, "", "Krever registerets administrasjonstoken.")
		return false
	}
	return true
}

// insightRecord logs a read of the log itself: staff looking at what was looked up is a lookup too.
func (s *Server) insightRecord(r *http.Request, subject string, request any) error {
	return s.insightRecordBy(r, "admin", "admin-token", "", subject, request)
}

// insightRecordBy logs a read of the log by someone on a channel ("admin", "portal"), for a consumer or none.
func (s *Server) insightRecordBy(r *http.Request, channel, endUser, consumer, subject string, request any) error {
	b, _ := json.Marshal(request)
	rec := &audit.Record{Kind: audit.KindInsight, Channel: channel, EndUser: endUser, Consumer: consumer, CorrelationID: CorrelationID(r.Context()),
		Operation: r.Pattern, Request: b, Decision: audit.Permit}
	if subject != "" {
		rec.Returned = []string{subject}
	}
	return s.audit.Append(r.Context(), rec)
}

// consumerAccess is one consumer with access, as a person sees it.
type consumerAccess struct {
	Orgnr               string   `json:"organisasjonsnummer"`
	Navn                string   `json:"navn"`
	Formaal             string   `json:"formaal"`
	Hjemmel             string   `json:"hjemmel"`
	Behandlingsgrunnlag string   `json:"behandlingsgrunnlag"`
	Kanaler             []string `json:"kanaler"`
}

// lookupSeen is one lookup on a person, with its receipt.
type lookupSeen struct {
	Tidspunkt     time.Time        `json:"tidspunkt"`
	Konsument     string           `json:"konsument"`
	KonsumentNavn string           `json:"konsumentNavn,omitempty"`
	Databehandler string           `json:"databehandler,omitempty"`
	Kanal         string           `json:"kanal"`
	Grunnlag      []audit.GrantRef `json:"grunnlag,omitempty"`
	Kvittering    *audit.Receipt   `json:"kvittering,omitempty"`
	// KvitteringKommer is set when no signed checkpoint covers the record yet.
	KvitteringKommer bool `json:"kvitteringKommer,omitempty"`
	seq              uint64
}

// personInsight answers GET /api/innsyn/person (Rule AA-17): the consumers
// with access to the register, with purpose and legal basis; and, for
// consumers in the categories the register's policy names, the lookups on the
// person (header Nav-Personident), each with a receipt that checks offline.
func (s *Server) personInsight(w http.ResponseWriter, r *http.Request) {
	if !s.admin(w, r) {
		return
	}
	ident, why, ok := s.parsePerson(r.Header.Get(headerPerson))
	if !ok {
		writeProblem(w, r, http.StatusBadRequest, codeArbeidstaker, "Validering av "+headerPerson+" feilet: "+why+".")
		return
	}
	out, err := s.personInsightFor(r, ident)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	if err := s.insightRecord(r, ident, map[string]string{"innsyn": "person"}); err != nil {
		s.log.Error("audit append failed", "err", err)
		writeProblem(w, r, http.StatusServiceUnavailable, "", "Innsynet kunne ikke logges, og blir derfor ikke gitt.")
		return
	}
	writeJSON(w, out)
}

// personInsight is what a person is shown (Rule AA-17).
type personInsight struct {
	Konsumenter []consumerAccess `json:"konsumenter"`
	Oppslag     []lookupSeen     `json:"oppslag"`
	// OppslagVises says which consumer categories' lookups are shown, by the register's policy.
	OppslagVises []string `json:"oppslagVisesForKategorier"`
}

// personInsightFor gathers the consumers with access to the register, and the
// lookups on the person by consumers of the categories the policy names, each
// with its receipt (or a note that it comes with the next checkpoint).
func (s *Server) personInsightFor(r *http.Request, ident string) (personInsight, error) {
	ctx := r.Context()
	out := personInsight{Konsumenter: []consumerAccess{}, Oppslag: []lookupSeen{}, OppslagVises: s.insightCategories}
	consumers, err := s.db.Consumers(ctx)
	if err != nil {
		return out, err
	}
	grants, err := s.db.Grants(ctx, "")
	if err != nil {
		return out, err
	}
	byOrg := map[string]access.Consumer{}
	for _, c := range consumers {
		byOrg[c.Orgnr] = c
	}
	now := s.now()
	seen := map[string]int{}
	for _, g := range grants {
		c, ok := byOrg[g.Consumer]
		if !ok || c.Status != access.Active || !g.ActiveAt(now) || g.Env != s.env {
			continue
		}
		key := g.Consumer + "\x00" + g.Purpose + "\x00" + g.LegalBasis
		if i, ok := seen[key]; ok {
			if !slices.Contains(out.Konsumenter[i].Kanaler, string(g.Channel)) {
				out.Konsumenter[i].Kanaler = append(out.Konsumenter[i].Kanaler, string(g.Channel))
			}
			continue
		}
		seen[key] = len(out.Konsumenter)
		out.Konsumenter = append(out.Konsumenter, consumerAccess{Orgnr: c.Orgnr, Navn: c.Navn, Formaal: g.Purpose,
			Hjemmel: g.LegalBasis, Behandlingsgrunnlag: g.ProcessingBasis, Kanaler: []string{string(g.Channel)}})
	}
	if len(s.insightCategories) == 0 {
		return out, nil
	}
	recs, err := s.db.StoredRecords(ctx, store.RecordQuery{Subject: ident, Limit: 1000})
	if err != nil {
		return out, err
	}
	for _, sr := range recs {
		rec := sr.Record
		c := byOrg[rec.Consumer]
		if rec.Kind != audit.KindLookup || rec.Decision != audit.Permit || !slices.Contains(s.insightCategories, c.Category) {
			continue
		}
		l := lookupSeen{Tidspunkt: rec.Time, Konsument: rec.Consumer, KonsumentNavn: c.Navn, Databehandler: rec.Processor, Kanal: rec.Channel, Grunnlag: rec.Grants, seq: sr.Seq}
		if receipt, err := s.receipt(r, sr); err == nil {
			l.Kvittering = receipt
		} else if errors.Is(err, store.ErrNotFound) {
			l.KvitteringKommer = true
		} else {
			return out, err
		}
		out.Oppslag = append(out.Oppslag, l)
	}
	return out, nil
}

// exportLookups streams every lookup record q selects as JSON lines, page by page from the store.
func (s *Server) exportLookups(w http.ResponseWriter, r *http.Request, q store.RecordQuery) {
	w.Header().Set("Content-Type", "application/jsonl")
	w.Header().Set("Content-Disposition", `attachment; filename="oppslag-`+q.Consumer+`.jsonl"`)
	enc := json.NewEncoder(w)
	q.Limit = 1000
	for {
		recs, err := s.db.StoredRecords(r.Context(), q)
		if err != nil {
			s.log.Error("export failed midway", "err", err, "correlation_id", CorrelationID(r.Context()))
			return
		}
		for _, sr := range recs {
			if sr.Record.Kind == audit.KindLookup {
				enc.Encode(sr.Record)
			}
		}
		if len(recs) < q.Limit {
			return
		}
		q.After, q.AfterSet = recs[len(recs)-1].Seq, true
	}
}

// receipt proves a record's inclusion under the first signed checkpoint that covers it.
func (s *Server) receipt(r *http.Request, sr store.StoredRecord) (*audit.Receipt, error) {
	size, signed, err := s.db.CheckpointAtLeast(r.Context(), sr.Seq)
	if err != nil {
		return nil, err
	}
	hashes, err := s.db.InclusionProof(r.Context(), sr.Seq, size)
	if err != nil {
		return nil, err
	}
	return &audit.Receipt{Record: sr.Canonical, Salt: sr.Salt, Index: sr.Seq, Proof: audit.TLogProof(sr.Seq, hashes, signed)}, nil
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
			writeProblem(w, r, http.StatusBadRequest, codeInvalid, "Ukjent parameter "+strconv.Quote(key)+".")
			return
		}
	}
	for name, dst := range map[string]*int64{"fra": &q.From, "til": &q.To} {
		if t := v.Get(name); t != "" {
			parsed, err := time.Parse(time.RFC3339, t)
			if err != nil {
				writeProblem(w, r, http.StatusBadRequest, codeInvalid, name+" må være et tidspunkt i RFC 3339-format.")
				return
			}
			*dst = parsed.UnixMicro()
		}
	}
	if side := v.Get("side"); side != "" {
		n, err := strconv.ParseUint(side, 10, 64)
		if err != nil {
			writeProblem(w, r, http.StatusBadRequest, codeInvalid, "Ugyldig side.")
			return
		}
		q.After, q.AfterSet = n, true
	}
	if a := v.Get("antall"); a != "" {
		n, err := strconv.Atoi(a)
		if err != nil || n < 1 || n > 1000 {
			writeProblem(w, r, http.StatusBadRequest, codeInvalid, "antall må være mellom 1 og 1000.")
			return
		}
		q.Limit = n
	}
	if err := s.insightRecord(r, "", map[string]string{"consumer": q.Consumer, "fra": v.Get("fra"), "til": v.Get("til")}); err != nil {
		writeProblem(w, r, http.StatusServiceUnavailable, "", "Innsynet kunne ikke logges, og blir derfor ikke gitt.")
		return
	}
	if v.Get("format") == "jsonl" {
		s.exportLookups(w, r, q)
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

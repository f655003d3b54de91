package machineapi

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"deling/internal/access"
	"deling/internal/audit"
	"deling/internal/lookup"
	"deling/internal/register"
	"deling/internal/token"
	"deling/internal/web/httperr"
)

// Headers that carry identifiers, so that they never reach a URL or an access log.
const (
	HeaderPerson             = "Nav-Personident"
	HeaderArbeidssted        = "Nav-Arbeidsstedident"
	HeaderOpplysningspliktig = "Nav-Opplysningspliktigident"
)

// maxBody is the largest API request body accepted.
const maxBody = 64 << 10

// call is one API request on its way through authentication, decision,
// lookup and logging. Every answer after authentication is logged (Rule AA-16).
type call struct {
	s      *Server
	w      http.ResponseWriter
	r      *http.Request // with the call's own context (begin), not the client's
	claims token.Claims
	in     access.Inputs
	rec    audit.Record
	cancel context.CancelFunc
}

// callTimeout bounds an authenticated call's work once it is detached from
// the client's connection (begin).
const callTimeout = 15 * time.Second

// ctx is the call's context: detached from the client, bounded by callTimeout.
func (c *call) ctx() context.Context { return c.r.Context() }

// done releases the call's context; every handler defers it after begin.
func (c *call) done() { c.cancel() }

// begin authenticates the caller and applies its rate limit. It answers and
// returns false when the request goes no further.
func (s *Server) begin(w http.ResponseWriter, r *http.Request) (*call, bool) {
	raw, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		w.Header().Set("WWW-Authenticate", `Bearer realm="deling"`)
		httperr.Write(w, r, http.StatusUnauthorized, "", "Mangler tilgangstoken (Authorization: Bearer …).")
		return nil, false
	}
	claims, err := s.verifier.Verify(strings.TrimSpace(raw))
	if err != nil {
		w.Header().Set("WWW-Authenticate", `Bearer realm="deling", error="invalid_token"`)
		httperr.Write(w, r, http.StatusUnauthorized, "", "Ugyldig eller utløpt tilgangstoken.")
		return nil, false
	}
	// From here on every answer is logged, so the work does not stop when the
	// client closes its side of the connection (a half-close cancels the
	// request's context): a decided answer is always appended. It has its own
	// bound instead.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), callTimeout)
	c := &call{s: s, w: w, r: r.WithContext(ctx), cancel: cancel, claims: claims, rec: lookup.Caller{Channel: access.ChannelAPI,
		Consumer: claims.Consumer, Processor: claims.Supplier, ClientID: claims.ClientID, CorrelationID: httperr.CorrelationID(r.Context()),
		Operation: r.Pattern}.Record(nil)}
	if !claims.HasScope(s.apiScope) {
		c.fail(http.StatusForbidden, "", "missing-scope", "Tilgangstokenet mangler scope "+s.apiScope+".")
		c.done()
		return nil, false
	}
	// Loaded fresh for every request: a suspension or an ending takes effect on the next one (Rules AA-25, AA-26).
	if c.in, err = s.db.AccessInputs(ctx, claims.Consumer, claims.Supplier); err != nil {
		s.log.Error("load access inputs", "err", err, "correlation_id", c.rec.CorrelationID)
		httperr.Write(w, r, http.StatusServiceUnavailable, "", "Tjenesten er midlertidig utilgjengelig.")
		c.done()
		return nil, false
	}
	// Rule AV-02: a client stopped from a breach case is refused from its next call, whatever tokens it holds.
	if active, err := s.db.ClientActive(ctx, claims.ClientID); err != nil || !active {
		if err != nil {
			s.log.Error("load client", "err", err, "correlation_id", c.rec.CorrelationID)
			httperr.Write(w, r, http.StatusServiceUnavailable, "", "Tjenesten er midlertidig utilgjengelig.")
			c.done()
			return nil, false
		}
		c.fail(http.StatusForbidden, "", "client-stopped", "Klienten er stanset av registerforvalteren.")
		c.done()
		return nil, false
	}
	c.in.Catalogue = s.catalogue
	// Rules AA-13, AA-15: a data processor acting for this consumer without
	// an active delegation (a token outlives its delegation) is counted in a
	// bucket of its own, so that its calls can neither use up the consumer's
	// limit nor get the consumer blocked (on every node, blocks being the
	// cluster's); the handler's decision refuses and logs each of them.
	rateKey := claims.Consumer
	if !delegatedAny(c.in.Delegations, claims.Consumer, claims.Supplier, s.now()) {
		rateKey = claims.Consumer + "/" + claims.Supplier
	}
	// Rule AA-15: the consumer's rate limit, with a block for one that keeps exceeding it.
	v := s.limits.allow(ctx, rateKey, access.RateLimit(c.in.Grants, access.ChannelAPI, s.now()), s.now())
	if v.err != nil {
		s.log.Error("rate limit", "err", v.err, "correlation_id", c.rec.CorrelationID)
		httperr.Write(w, r, http.StatusServiceUnavailable, "", "Tjenesten er midlertidig utilgjengelig.")
		c.done()
		return nil, false
	}
	if !v.ok {
		s.rateLimited.WithLabelValues(claims.Consumer).Inc()
		if v.newlyBlocked {
			s.rateBlocked.WithLabelValues(claims.Consumer).Inc()
			s.log.Warn("consumer blocked for exceeding its rate limit", "consumer", claims.Consumer, "processor", claims.Supplier, "for", s.rateBlockFor)
		}
		if v.blockErr != nil {
			s.log.Error("rate limit: the block is this node's only", "err", v.blockErr, "consumer", claims.Consumer)
		}
		w.Header().Set("Retry-After", strconv.Itoa(max(1, int((v.retryAfter+time.Second-1)/time.Second))))
		httperr.Write(w, r, http.StatusTooManyRequests, "", "For mange forespørsler. Prøv igjen senere.")
		c.done()
		return nil, false
	}
	return c, true
}

// delegatedAny says whether processor acts for consumer under an active
// delegation for a channel of this API (lookups or extracts); which of them a
// route may use is the handler's decision.
func delegatedAny(delegations []access.Delegation, consumer, processor string, now time.Time) bool {
	for _, ch := range []access.Channel{access.ChannelAPI, access.ChannelExtract} {
		if ok, _, _ := access.Delegated(delegations, consumer, processor, ch, now); ok {
			return true
		}
	}
	return false
}

// criteria records what the caller asked for.
func (c *call) criteria(v any) {
	b, err := json.Marshal(v)
	if err == nil {
		c.rec.Request = b
	}
}

// body decodes the JSON request body into req and records it as the criteria;
// a bad body is answered (and logged) here.
func (c *call) body(req any) bool {
	if err := decodeBody(c.r, req); err != nil {
		c.fail(http.StatusBadRequest, httperr.CodeInvalid, "invalid-request", "Ugyldig forespørsel: "+err.Error()+".")
		return false
	}
	c.criteria(req)
	return true
}

// fail logs a refusal and answers with a problem. If the log cannot take the
// record the caller gets 503 instead: no answer leaves unlogged.
func (c *call) fail(status int, code, reason, detail string) {
	if err := c.s.Lookup.Refuse(c.ctx(), c.rec, status, reason); err != nil {
		c.notLogged(err)
		return
	}
	httperr.Write(c.w, c.r, status, code, detail)
}

// deny answers a denied decision (logged).
func (c *call) deny(d access.Decision) {
	c.fail(http.StatusForbidden, "", string(d.Reason), lookup.Deny(d.Reason).Text)
}

// ok logs a permitted answer that is not a lookup of arbeidsforhold (counts,
// extract status and batches) and sends it.
func (c *call) ok(d access.Decision, body []byte, returned []string, count int) {
	c.send(func() error { return c.s.Lookup.Deliver(c.ctx(), c.rec, d, body, returned, count) }, body)
}

// notLogged answers 503: the lookup's record could not be written (fail closed).
func (c *call) notLogged(err error) {
	c.s.log.Error("audit append failed; answering 503", "err", err, "correlation_id", c.rec.CorrelationID)
	httperr.Write(c.w, c.r, http.StatusServiceUnavailable, "", "Oppslaget kunne ikke logges, og blir derfor ikke besvart.")
}

// failed answers a lookup the pipeline refused or could not run; the
// pipeline has logged it already.
func (c *call) failed(err error) {
	var denied *lookup.Denied
	switch {
	case errors.As(err, &denied):
		httperr.Write(c.w, c.r, http.StatusForbidden, "", denied.Text)
	case errors.Is(err, lookup.ErrNotLogged):
		c.notLogged(err)
	case errors.Is(err, register.ErrUnavailable):
		c.s.log.Error("register unavailable", "err", err, "correlation_id", c.rec.CorrelationID)
		unavailable(c.w, c.r)
	default:
		c.s.log.Error("lookup failed", "err", err, "correlation_id", c.rec.CorrelationID)
		httperr.Write(c.w, c.r, http.StatusInternalServerError, httperr.CodeInternal, internalText)
	}
}

const internalText = "Det oppsto en feil under behandlingen av forespørselen. Oppgi correlation-id ved henvendelse."

// unavailable answers 503 for a register that cannot be read now (a read
// replica down or too far behind): no data, and try again shortly.
func unavailable(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Retry-After", "5")
	httperr.Write(w, r, http.StatusServiceUnavailable, "", "Registeret er midlertidig utilgjengelig. Prøv igjen om litt.")
}

// send delivers body: its record is appended first (Rule AA-16), and only
// then does a byte leave.
func (c *call) send(deliver func() error, body []byte) {
	if err := deliver(); err != nil {
		c.notLogged(err)
		return
	}
	c.w.Header().Set("Content-Type", "application/json")
	c.w.Header().Set("Cache-Control", "no-store")
	c.w.Write(body)
}

// lookup runs the lookup pipeline (package lookup) and returns the answer
// with its items as a JSON array. It answers a denial or a failure itself
// and then returns nil.
func (c *call) lookup(kind access.QueryKind, history bool, q register.Query) (*lookup.Answer, []byte) {
	a, err := c.s.Lookup.Lookup(c.ctx(), c.in, c.rec, lookup.Query{Kind: kind, History: history, Register: q})
	if err != nil {
		c.failed(err)
		return nil, nil
	}
	n := 2
	for _, it := range a.Items {
		n += len(it.JSON) + 1
	}
	list := make([]byte, 0, n)
	list = append(list, '[')
	for i, it := range a.Items {
		if i > 0 {
			list = append(list, ',')
		}
		list = append(list, it.JSON...)
	}
	return a, append(list, ']')
}

// internal answers a failure outside the pipeline, logged: 503 when the
// register could not be read.
func (c *call) internal(err error) {
	c.s.log.Error("lookup failed", "err", err, "correlation_id", c.rec.CorrelationID)
	if errors.Is(err, register.ErrUnavailable) {
		if lerr := c.s.Lookup.RefuseFailed(c.ctx(), c.rec, err); lerr != nil {
			c.notLogged(lerr)
			return
		}
		unavailable(c.w, c.r)
		return
	}
	c.fail(http.StatusInternalServerError, httperr.CodeInternal, lookup.ReasonError, internalText)
}

// filters are the three filter lists of a search, with the real API's codes for empty lists.
type filters struct {
	Types     []string `json:"arbeidsforholdtype"`
	Ordninger []string `json:"rapporteringsordning"`
	Statuses  []string `json:"arbeidsforholdstatus"`
	Historikk bool     `json:"ansettelsesdetaljerhistorikk,omitempty"`
}

// validate checks the lists' values against the kodeverk; it returns the problem code and detail.
func (f *filters) apply(q *register.Query) (string, string) {
	for _, t := range f.Types {
		if _, ok := register.Kodeverk.Lookup(register.KodeverkArbeidsforholdstyper, t); !ok {
			return httperr.CodeEnum, fmt.Sprintf("Ukjent arbeidsforholdtype %q.", t)
		}
	}
	for _, o := range f.Ordninger {
		if _, ok := register.Kodeverk.Lookup(register.KodeverkRapporteringsordninger, o); !ok {
			return httperr.CodeEnum, fmt.Sprintf("Ukjent rapporteringsordning %q.", o)
		}
	}
	for _, st := range f.Statuses {
		s, err := register.ParseStatus(st)
		if err != nil {
			return httperr.CodeEnum, fmt.Sprintf("Ukjent arbeidsforholdstatus %q.", st)
		}
		q.Statuses = append(q.Statuses, s)
	}
	q.Types, q.Rapporteringsordninger = f.Types, f.Ordninger
	return "", ""
}

var (
	allTypes     = []string{register.TypeOrdinaer, register.TypeMaritim, register.TypeForenklet, register.TypeFrilanser}
	allOrdninger = []string{register.AOrdningen, register.FoerAOrdningen}
	allStatuses  = []string{string(register.StatusAktiv), string(register.StatusAvsluttet), string(register.StatusFremtidig)}
)

// arbeidstaker answers GET /api/v2/arbeidstaker/arbeidsforhold: a person's
// arbeidsforhold, the person given in the Nav-Personident header.
func (s *Server) arbeidstaker(w http.ResponseWriter, r *http.Request) {
	c, ok := s.begin(w, r)
	if !ok {
		return
	}
	defer c.done()
	type criteria struct {
		ArbeidstakerID string `json:"arbeidstakerId"`
		ArbeidsstedID  string `json:"arbeidsstedId,omitempty"`
		filters
	}
	crit := criteria{ArbeidstakerID: r.Header.Get(HeaderPerson), ArbeidsstedID: r.Header.Get(HeaderArbeidssted)}
	f := filters{Types: allTypes, Ordninger: allOrdninger, Statuses: allStatuses}
	q := r.URL.Query()
	for key, vals := range q {
		list := strings.Split(strings.Join(vals, ","), ",")
		if len(vals) == 1 && vals[0] == "" {
			list = nil
		}
		switch key {
		case "arbeidsforholdtype":
			f.Types = list
		case "rapporteringsordning":
			f.Ordninger = list
		case "arbeidsforholdstatus":
			f.Statuses = list
		case "historikk":
			b, err := strconv.ParseBool(q.Get(key))
			if err != nil {
				c.criteria(crit)
				c.fail(http.StatusBadRequest, httperr.CodeInvalid, "invalid-request", "historikk må være true eller false.")
				return
			}
			f.Historikk = b
		default:
			// Identifiers never travel in the URL; refuse what we do not know rather than ignore it.
			c.fail(http.StatusBadRequest, httperr.CodeInvalid, "invalid-request", fmt.Sprintf("Ukjent parameter %q. Identifikatorer sendes i headere, aldri i URL-en.", key))
			return
		}
	}
	crit.filters = f
	c.criteria(crit)
	query := register.Query{Limit: register.MaxPageSize, Screened: true, At: s.Today()}
	if code, detail := s.checkFilters(&f, &query); code != "" {
		c.fail(http.StatusBadRequest, code, "invalid-request", detail)
		return
	}
	if crit.ArbeidstakerID == "" {
		c.fail(http.StatusBadRequest, httperr.CodeNoID, "invalid-request", "Mangler "+HeaderPerson+".")
		return
	}
	var why string
	if query.Arbeidstaker, why, ok = s.ParsePerson(crit.ArbeidstakerID); !ok {
		c.fail(http.StatusBadRequest, httperr.CodeArbeidstaker, "invalid-request", "Validering av arbeidstakerId feilet: "+why+".")
		return
	}
	if crit.ArbeidsstedID != "" {
		if query.Arbeidssted, why, ok = s.ParseEmployer(crit.ArbeidsstedID); !ok {
			c.fail(http.StatusBadRequest, httperr.CodeArbeidssted, "invalid-request", "Validering av arbeidsstedId feilet: "+why+".")
			return
		}
	}
	if a, body := c.lookup(access.ByArbeidstaker, f.Historikk, query); a != nil {
		c.send(func() error { return a.Deliver(c.ctx(), body) }, body)
	}
}

// checkFilters requires non-empty lists (AA-201–203) with known values (AA-207).
func (s *Server) checkFilters(f *filters, q *register.Query) (string, string) {
	switch {
	case len(f.Types) == 0:
		return httperr.CodeNoTypes, "arbeidsforholdtype må ha minst én verdi."
	case len(f.Ordninger) == 0:
		return httperr.CodeNoOrdninger, "rapporteringsordning må ha minst én verdi."
	case len(f.Statuses) == 0:
		return httperr.CodeNoStatuses, "arbeidsforholdstatus må ha minst én verdi."
	}
	return f.apply(q)
}

// searchRequest is the body of POST /api/v2/arbeidsforhold/sok: the real
// API's finnArbeidsforhold variables, with keyset paging.
type searchRequest struct {
	ArbeidstakerID       string `json:"arbeidstakerId,omitempty"`
	ArbeidsstedID        string `json:"arbeidsstedId,omitempty"`
	OpplysningspliktigID string `json:"opplysningspliktigId,omitempty"`
	filters
	Side           string `json:"side,omitempty"`
	Sidestoerrelse int    `json:"sidestoerrelse,omitempty"`
}

// SearchResponse is one page of results.
type SearchResponse struct {
	Arbeidsforhold json.RawMessage `json:"arbeidsforhold"`
	NesteSide      string          `json:"nesteSide,omitempty"`
}

// decodeBody reads a JSON body strictly: one object, no unknown fields, at most maxBody bytes.
func decodeBody(r *http.Request, v any) error { return decodeBodyLimit(r, v, maxBody) }

// decodeBodyLimit is decodeBody with another size limit.
func decodeBodyLimit(r *http.Request, v any, limit int64) error {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		return errors.New("Content-Type må være application/json")
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		return errors.New("kunne ikke lese forespørselen")
	}
	if int64(len(b)) > limit {
		return fmt.Errorf("forespørselen er større enn %d byte", limit)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonProblem(err)
	}
	if dec.More() {
		return errors.New("data etter JSON-objektet")
	}
	return nil
}

// jsonProblem describes a JSON error without quoting the input, which may hold identifiers.
func jsonProblem(err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fmt.Errorf("ugyldig JSON ved byte %d", syn.Offset)
	case errors.As(err, &typ) && typ.Field != "":
		return fmt.Errorf("feltet %s har feil type (ventet %s)", typ.Field, typ.Type)
	case errors.As(err, &typ):
		return errors.New("forventet et JSON-objekt")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return fmt.Errorf("ukjent felt %s", strings.TrimPrefix(err.Error(), "json: unknown field "))
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return errors.New("ufullstendig JSON")
	}
	return errors.New("ugyldig JSON")
}

// Page tokens are opaque to the caller: the last uuid of the page, encoded.
func pageToken(uuid string) string {
	if uuid == "" {
		return ""
	}
	return base64.RawURLEncoding.EncodeToString([]byte(uuid))
}

// parsePageToken takes back a token pageToken made: the canonical form of a
// uuid other than the nil one. Anything else — a page number, a token made up
// to point before the first record — is refused rather than answered with
// the first page.
func parsePageToken(tok string) (string, bool) {
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return "", false
	}
	u, err := uuid.Parse(string(b))
	if err != nil || u == uuid.Nil || u.String() != string(b) {
		return "", false
	}
	return u.String(), true
}

// search answers POST /api/v2/arbeidsforhold/sok.
func (s *Server) search(w http.ResponseWriter, r *http.Request) {
	c, ok := s.begin(w, r)
	if !ok {
		return
	}
	defer c.done()
	var req searchRequest
	if !c.body(&req) {
		return
	}
	query := register.Query{Screened: true, At: s.Today(), Limit: register.DefaultPageSize}
	if code, detail := s.checkFilters(&req.filters, &query); code != "" {
		c.fail(http.StatusBadRequest, code, "invalid-request", detail)
		return
	}
	var why string
	kind := access.ByArbeidstaker
	switch {
	case req.ArbeidstakerID == "" && req.ArbeidsstedID == "" && req.OpplysningspliktigID == "":
		c.fail(http.StatusBadRequest, httperr.CodeNoID, "invalid-request", "Oppgi minst én av arbeidstakerId, arbeidsstedId og opplysningspliktigId.")
		return
	case req.ArbeidsstedID != "" && req.ArbeidstakerID == "":
		kind = access.ByArbeidssted
	case req.ArbeidstakerID == "":
		kind = access.ByOpplysningspliktig
	}
	if req.ArbeidstakerID != "" {
		if query.Arbeidstaker, why, ok = s.ParsePerson(req.ArbeidstakerID); !ok {
			c.fail(http.StatusBadRequest, httperr.CodeArbeidstaker, "invalid-request", "Validering av arbeidstakerId feilet: "+why+".")
			return
		}
	}
	if req.ArbeidsstedID != "" {
		if query.Arbeidssted, why, ok = s.ParseEmployer(req.ArbeidsstedID); !ok {
			c.fail(http.StatusBadRequest, httperr.CodeArbeidssted, "invalid-request", "Validering av arbeidsstedId feilet: "+why+".")
			return
		}
	}
	if req.OpplysningspliktigID != "" {
		if query.Opplysningspliktig, why, ok = s.ParseEmployer(req.OpplysningspliktigID); !ok {
			c.fail(http.StatusBadRequest, httperr.CodeOpplysningspliktig, "invalid-request", "Validering av opplysningspliktigId feilet: "+why+".")
			return
		}
	}
	if req.Side != "" {
		if query.After, ok = parsePageToken(req.Side); !ok {
			c.fail(http.StatusBadRequest, httperr.CodeInvalid, "invalid-request", "Ugyldig side.")
			return
		}
	}
	switch {
	case req.Sidestoerrelse < 0 || req.Sidestoerrelse > register.MaxPageSize:
		c.fail(http.StatusBadRequest, httperr.CodeInvalid, "invalid-request", fmt.Sprintf("sidestoerrelse må være mellom 1 og %d.", register.MaxPageSize))
		return
	case req.Sidestoerrelse > 0:
		query.Limit = req.Sidestoerrelse
	}
	a, list := c.lookup(kind, req.Historikk, query)
	if a == nil {
		return
	}
	body, err := json.Marshal(SearchResponse{Arbeidsforhold: list, NesteSide: pageToken(a.Next)})
	if err != nil {
		c.internal(err)
		return
	}
	c.send(func() error { return a.Deliver(c.ctx(), body) }, body)
}

// byUUID answers GET /api/v2/arbeidsforhold/{uuid}. A record the caller may
// not see answers exactly as one that does not exist.
func (s *Server) byUUID(w http.ResponseWriter, r *http.Request) {
	c, ok := s.begin(w, r)
	if !ok {
		return
	}
	defer c.done()
	id := r.PathValue("uuid")
	c.criteria(map[string]string{"uuid": id})
	u, err := uuid.Parse(id)
	if err != nil || len(id) != 36 {
		c.fail(http.StatusBadRequest, httperr.CodeInvalid, "invalid-request", "Ugyldig uuid.")
		return
	}
	historikk := false
	for key := range r.URL.Query() {
		if key != "historikk" {
			c.fail(http.StatusBadRequest, httperr.CodeInvalid, "invalid-request", fmt.Sprintf("Ukjent parameter %q.", key))
			return
		}
		if historikk, err = strconv.ParseBool(r.URL.Query().Get(key)); err != nil {
			c.fail(http.StatusBadRequest, httperr.CodeInvalid, "invalid-request", "historikk må være true eller false.")
			return
		}
	}
	// Looking up one record reveals the person it is about: it needs the person query kind.
	a, list := c.lookup(access.ByArbeidstaker, historikk, register.Query{UUID: u.String(), Screened: true, Limit: 1})
	switch {
	case a == nil:
	case len(a.Items) == 0:
		// Not there, screened (Rule AA-11), or not consented to (Rule SK-08): the same answer.
		c.fail(http.StatusNotFound, "", "not-found", "Fant ikke arbeidsforholdet.")
	default:
		body := list[1 : len(list)-1] // the object inside "[…]"
		c.send(func() error { return a.Deliver(c.ctx(), body) }, body)
	}
}

// countRequest is the body of POST /api/v2/arbeidssted/antall.
type countRequest struct {
	ArbeidsstedIDs []string `json:"arbeidsstedIds"`
}

type CountAnswer struct {
	ArbeidsstedID string          `json:"arbeidsstedId"`
	Antall        access.Interval `json:"antall"`
}

// maxCountUnits is how many underenheter one count request may name.
const maxCountUnits = 100

// count answers POST /api/v2/arbeidssted/antall: active arbeidsforhold today
// per underenhet. Rule AA-10: counts from 1 to 4 are given as the band 1-4.
// The endpoint takes no filters and counts only per unit, so no combination
// of questions can be subtracted to recover a small count.
func (s *Server) count(w http.ResponseWriter, r *http.Request) {
	c, ok := s.begin(w, r)
	if !ok {
		return
	}
	defer c.done()
	var req countRequest
	if !c.body(&req) {
		return
	}
	if len(req.ArbeidsstedIDs) == 0 || len(req.ArbeidsstedIDs) > maxCountUnits {
		c.fail(http.StatusBadRequest, httperr.CodeNoID, "invalid-request", fmt.Sprintf("Oppgi fra 1 til %d arbeidsstedIds.", maxCountUnits))
		return
	}
	units := make([]string, 0, len(req.ArbeidsstedIDs))
	for _, id := range req.ArbeidsstedIDs {
		o, why, ok := s.ParseOrgnr(id)
		if !ok {
			c.fail(http.StatusBadRequest, httperr.CodeArbeidssted, "invalid-request", "Validering av arbeidsstedId feilet: "+why+".")
			return
		}
		if !slices.Contains(units, o) {
			units = append(units, o)
		}
	}
	plan, err := s.Lookup.Decide(c.ctx(), c.in, c.rec, access.Antall, false, "")
	if err != nil {
		c.failed(err)
		return
	}
	d := plan.Decision()
	counts, err := s.db.CountActive(c.ctx(), units, s.Today())
	if err != nil {
		c.internal(err)
		return
	}
	out := struct {
		Antall []CountAnswer `json:"antall"`
	}{Antall: make([]CountAnswer, 0, len(units))}
	for _, u := range units {
		out.Antall = append(out.Antall, CountAnswer{ArbeidsstedID: u, Antall: access.Band(counts[u])})
	}
	body, err := json.Marshal(out)
	if err != nil {
		c.internal(err)
		return
	}
	c.ok(d, body, nil, len(units))
}

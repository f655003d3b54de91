package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"deling/internal/access"
	"deling/internal/audit"
	"deling/internal/extract"
	"deling/internal/governance"
	"deling/internal/register"
	"deling/internal/store"
)

// Extracts (uttrekk): a consumer with an extract grant orders an asynchronous
// job — the arbeidsforhold of a list of persons, or of given employers, with
// type, status and period filters — follows its progress, and fetches the
// result in batches, as JSON lines or CSV minimised to the grant's elements
// (Rules AA-02, AA-07). Folkeregisteret's pattern (research/aareg-api.md §4.2):
// a job id; a batch not ready answers 404; after the last batch comes an empty
// answer marked with the header Uttrekk-Slutt; at most 10 jobs under way per
// organisation, then 429. Package extract runs the jobs.
//
// Every answer of the API after authentication is logged, as every lookup
// (Rule AA-16): the order with its criteria, each status read, each batch
// fetched. The runner logs when the job starts (the query) and, per batch,
// every person in it. Identifiers travel in the POST body only.

// headerExtractEnd marks the empty answer after the last batch.
const headerExtractEnd = "Uttrekk-Slutt"

func (s *Server) extractRoutes() []route {
	f := func(p string, h http.HandlerFunc) route { return route{p, h} }
	g := member(governance.Administrator, governance.Utvikler)
	return []route{
		f("POST /api/v2/uttrekk", s.extractCreate),
		f("GET /api/v2/uttrekk/{jobbid}", s.extractStatus),
		f("GET /api/v2/uttrekk/{jobbid}/batch/{n}", s.extractBatch),
		f("DELETE /api/v2/uttrekk/{jobbid}", s.extractDelete),
		// The consumer's page for its extract jobs (issue 6, item 3).
		f("GET /portal/uttrekk", s.signedIn(g, s.extractPage)),
		f("GET /portal/uttrekk/jobber", s.signedIn(g, s.extractJobsFragment)),
		f("POST /portal/uttrekk", s.signedIn(g, s.extractOrder)),
		f("GET /portal/uttrekk/{jobbid}/batch/{n}", s.signedIn(g, s.extractPortalBatch)),
		f("POST /portal/uttrekk/{jobbid}/slett", s.signedIn(g, s.extractPortalDelete)),
	}
}

// extractRequest is the body of POST /api/v2/uttrekk. Exactly one of the three
// lists names what the extract is of.
type extractRequest struct {
	Arbeidstakere       []string `json:"arbeidstakere,omitempty"`
	Arbeidssteder       []string `json:"arbeidssteder,omitempty"`
	Opplysningspliktige []string `json:"opplysningspliktige,omitempty"`
	Typer               []string `json:"arbeidsforholdtyper,omitempty"`
	Statuser            []string `json:"arbeidsforholdstatuser,omitempty"`
	AnsattFraOgMed      string   `json:"ansattFraOgMed,omitempty"`
	AnsattTilOgMed      string   `json:"ansattTilOgMed,omitempty"`
	Format              string   `json:"format,omitempty"`
	Historikk           bool     `json:"historikk,omitempty"`
}

// extractCriteria is what the log records of an order: the request and the job it made.
type extractCriteria struct {
	JobbID string `json:"jobbid,omitempty"`
	extractRequest
}

// extractProblem is a request that cannot be an extract: the API's code, the field, and why.
type extractProblem struct {
	code, field, detail string
	index               int    // of the bad value in the list, -1 if none
	why                 string // what is wrong with it
}

// maxExtractUnits is how many persons or employers one extract may name.
func (s *Server) maxExtractUnits() int {
	if s.extractMax > 0 {
		return s.extractMax
	}
	return extract.DefaultMaxUnits
}

// maxExtractBody bounds an order's body: room for the largest list of persons.
func (s *Server) maxExtractBody() int64 { return 64<<10 + 32*int64(s.maxExtractUnits()) }

// parseExtract checks an order and turns it into the job's query kind, query and format.
func (s *Server) parseExtract(req *extractRequest) (access.QueryKind, extract.Query, string, *extractProblem) {
	var q extract.Query
	bad := func(code, field, format string, args ...any) (access.QueryKind, extract.Query, string, *extractProblem) {
		return "", q, "", &extractProblem{code: code, field: field, detail: fmt.Sprintf(format, args...), index: -1}
	}
	given := 0
	for _, l := range [][]string{req.Arbeidstakere, req.Arbeidssteder, req.Opplysningspliktige} {
		if l != nil {
			given++
		}
	}
	if given != 1 {
		return bad(codeNoID, "", "Oppgi nøyaktig én av arbeidstakere, arbeidssteder og opplysningspliktige.")
	}
	var (
		kind  access.QueryKind
		list  []string
		field string
		code  string
	)
	switch {
	case req.Arbeidstakere != nil:
		kind, list, field, code = access.ByArbeidstaker, req.Arbeidstakere, "arbeidstakere", codeArbeidstaker
	case req.Arbeidssteder != nil:
		kind, list, field, code = access.ByArbeidssted, req.Arbeidssteder, "arbeidssteder", codeArbeidssted
	default:
		kind, list, field, code = access.ByOpplysningspliktig, req.Opplysningspliktige, "opplysningspliktige", codeOpplysningspliktig
	}
	switch {
	case len(list) == 0:
		return bad(codeNoID, field, "%s må ha minst én verdi.", field)
	case len(list) > s.maxExtractUnits():
		return bad(codeInvalid, field, "Et uttrekk kan gjelde høyst %d %s; denne forespørselen har %d.", s.maxExtractUnits(), field, len(list))
	}
	units := make([]string, 0, len(list))
	for i, v := range list {
		var (
			id, why string
			ok      bool
		)
		if kind == access.ByArbeidstaker {
			id, why, ok = s.parsePerson(v)
		} else {
			id, why, ok = s.parseEmployer(v)
		}
		if !ok {
			// The index, never the value: it may be an identifier.
			_, _, _, p := bad(code, field, "Validering av %s[%d] feilet: %s.", field, i, why)
			p.index, p.why = i, why
			return "", q, "", p
		}
		units = append(units, id)
	}
	slices.Sort(units)
	q.Units = slices.Compact(units)

	if req.Typer != nil {
		if len(req.Typer) == 0 {
			return bad(codeNoTypes, "arbeidsforholdtyper", "arbeidsforholdtyper må ha minst én verdi, eller utelates.")
		}
		for _, t := range req.Typer {
			if _, ok := register.Kodeverk.Lookup(register.KodeverkArbeidsforholdstyper, t); !ok {
				return bad(codeEnum, "arbeidsforholdtyper", "Ukjent arbeidsforholdtype %q.", t)
			}
			if !slices.Contains(q.Types, t) {
				q.Types = append(q.Types, t)
			}
		}
	}
	if req.Statuser != nil {
		if len(req.Statuser) == 0 {
			return bad(codeNoStatuses, "arbeidsforholdstatuser", "arbeidsforholdstatuser må ha minst én verdi, eller utelates.")
		}
		for _, v := range req.Statuser {
			st, err := register.ParseStatus(v)
			if err != nil {
				return bad(codeEnum, "arbeidsforholdstatuser", "Ukjent arbeidsforholdstatus %q.", v)
			}
			if !slices.Contains(q.Statuses, st) {
				q.Statuses = append(q.Statuses, st)
			}
		}
		q.At = s.today()
	}
	for _, d := range []struct {
		v     string
		field string
		dst   *register.Date
	}{{req.AnsattFraOgMed, "ansattFraOgMed", &q.From}, {req.AnsattTilOgMed, "ansattTilOgMed", &q.To}} {
		if d.v == "" {
			continue
		}
		if _, err := time.Parse(time.DateOnly, d.v); err != nil {
			return bad(codeInvalid, d.field, "%s må være en dato på formen åååå-mm-dd.", d.field)
		}
		*d.dst = register.Date(d.v)
	}
	if q.From != "" && q.To != "" && q.To < q.From {
		return bad(codeInvalid, "ansattTilOgMed", "ansattTilOgMed er før ansattFraOgMed.")
	}
	format := req.Format
	if format == "" {
		format = extract.FormatJSONL
	}
	if !extract.ValidFormat(format) {
		return bad(codeEnum, "format", "Ukjent format %q (jsonl eller csv).", format)
	}
	return kind, q, format, nil
}

// decideExtract is the access decision for an extract (channel extract).
func (s *Server) decideExtract(in access.Inputs, consumer, processor string, kind access.QueryKind, history bool) access.Decision {
	in.Catalogue = s.catalogue
	return access.Decide(access.Request{Consumer: consumer, Processor: processor, Channel: access.ChannelExtract,
		Env: s.env, Kind: kind, History: history}, in, s.now())
}

// packagesOf is the definitions of the packages a decision rests on: the job
// keeps them, so that its runner projects exactly these elements.
func (s *Server) packagesOf(refs []string) []access.Package {
	var out []access.Package
	for _, r := range refs {
		if p, err := s.catalogue.Resolve(r); err == nil && strings.Contains(r, "@") {
			out = append(out, p)
		}
	}
	return out
}

// newJob makes the job an order describes, with a fresh id.
func (s *Server) newJob(consumer, processor string, d access.Decision, kind access.QueryKind, q extract.Query, format string) extract.Job {
	return extract.Job{ID: uuid.Must(uuid.NewV7()).String(), Consumer: consumer, Processor: processor, Env: s.env, Kind: kind,
		Query: q, Format: format, History: d.History, Packages: s.packagesOf(d.Packages)}
}

// extractCreate answers POST /api/v2/uttrekk: 202 with the job id, and the job's URL in Location.
func (s *Server) extractCreate(w http.ResponseWriter, r *http.Request) {
	c, ok := s.begin(w, r)
	if !ok {
		return
	}
	c.rec.Channel = string(access.ChannelExtract)
	var req extractRequest
	if err := decodeBodyLimit(r, &req, s.maxExtractBody()); err != nil {
		c.fail(http.StatusBadRequest, codeInvalid, "invalid-request", "Ugyldig forespørsel: "+err.Error()+".")
		return
	}
	c.criteria(req)
	if s.extractDir == "" {
		c.fail(http.StatusServiceUnavailable, "", "extracts-off", "Uttrekk er ikke slått på i denne instansen.")
		return
	}
	kind, q, format, p := s.parseExtract(&req)
	if p != nil {
		c.fail(http.StatusBadRequest, p.code, "invalid-request", p.detail)
		return
	}
	d := s.decideExtract(c.in, c.claims.Consumer, c.claims.Supplier, kind, req.Historikk)
	if !d.Permit {
		c.deny(d)
		return
	}
	job := s.newJob(c.claims.Consumer, c.claims.Supplier, d, kind, q, format)
	job.ClientID, job.CorrelationID = c.claims.ClientID, c.rec.CorrelationID
	c.criteria(extractCriteria{JobbID: job.ID, extractRequest: req})
	// The order and its record are stored together: no job runs that the log does not show (Rule AA-16).
	rec := c.rec
	rec.Decision, rec.Status, rec.Grants = audit.Permit, http.StatusAccepted, d.GrantRefs()
	job, err := s.db.CreateExtract(r.Context(), job, extract.MaxActive, &rec)
	switch {
	case errors.Is(err, extract.ErrTooMany):
		w.Header().Set("Retry-After", "60")
		c.fail(http.StatusTooManyRequests, "", "too-many-extracts",
			fmt.Sprintf("Virksomheten har allerede %d uttrekk som venter eller kjører. Prøv igjen når ett av dem er ferdig.", extract.MaxActive))
		return
	case err != nil:
		c.internal(err)
		return
	}
	w.Header().Set("Location", "/api/v2/uttrekk/"+job.ID)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusAccepted)
	json.NewEncoder(w).Encode(map[string]string{"jobbid": job.ID, "status": statusText(job, s.now())})
}

// ownExtract loads a job the caller may see: its own organisation's, and a
// data processor only the jobs it ordered. Anything else answers as a job
// that does not exist.
func (s *Server) ownExtract(ctx context.Context, id, consumer, processor string) (extract.Job, bool, error) {
	if u, err := uuid.Parse(id); err != nil || u.String() != id {
		return extract.Job{}, false, nil
	}
	j, err := s.db.Extract(ctx, id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return j, false, nil
	case err != nil:
		return j, false, err
	}
	if j.Consumer != consumer || (processor != "" && j.Processor != processor) {
		return j, false, nil
	}
	return j, true, nil
}

// apiExtract is the job named in the path, for the token's organisation; it
// answers 404 itself when there is none.
func (c *call) apiExtract(extra map[string]any) (extract.Job, bool) {
	id := c.r.PathValue("jobbid")
	crit := map[string]any{"jobbid": id}
	for k, v := range extra {
		crit[k] = v
	}
	c.rec.Channel = string(access.ChannelExtract)
	c.criteria(crit)
	j, ok, err := c.s.ownExtract(c.r.Context(), id, c.claims.Consumer, c.claims.Supplier)
	switch {
	case err != nil:
		c.internal(err)
		return j, false
	case !ok:
		c.fail(http.StatusNotFound, "", "not-found", "Fant ikke uttrekket.")
		return j, false
	}
	return j, true
}

// extractAccess makes the access decision for the caller's job again, right
// after the ownership check and before anything of the job is told: a
// suspended or ended grant stops status, batches and deletion alike
// (Rules AA-25, AA-26). On a denial it answers (403, logged) itself.
func (c *call) extractAccess(j extract.Job) (access.Decision, bool) {
	d := c.s.decideExtract(c.in, c.claims.Consumer, c.claims.Supplier, j.Kind, j.History)
	if !d.Permit {
		c.deny(d)
		return d, false
	}
	c.rec.Grants = d.GrantRefs()
	return d, true
}

// extractStatusDoc is a job's status as the API gives it.
type extractStatusDoc struct {
	JobbID    string             `json:"jobbid"`
	Status    string             `json:"status"`
	Format    string             `json:"format"`
	Opprettet time.Time          `json:"opprettet"`
	Startet   *time.Time         `json:"startet,omitempty"`
	Avsluttet *time.Time         `json:"avsluttet,omitempty"`
	Utloeper  *time.Time         `json:"utloeper,omitempty"`
	Fremdrift extractProgressDoc `json:"fremdrift"`
	Batcher   int                `json:"batcher"`
	Feil      string             `json:"feil,omitempty"`
}

// extractProgressDoc: arbeidsforhold in the batches ready, and persons or employers done of the total.
// The counts are of what the consumer receives; screened persons are never counted (Rules AA-10, AA-11).
type extractProgressDoc struct {
	Arbeidsforhold int64  `json:"arbeidsforhold"`
	Enhet          string `json:"enhet"`
	Ferdig         int    `json:"ferdig"`
	Totalt         int    `json:"totalt"`
}

// Status names on the wire.
var statusNames = map[extract.Status]string{
	extract.StatusQueued: "venter", extract.StatusRunning: "kjører", extract.StatusDone: "ferdig",
	extract.StatusFailed: "feilet", extract.StatusExpired: "utløpt",
}

func statusText(j extract.Job, now time.Time) string {
	if j.Expired(now) {
		return statusNames[extract.StatusExpired]
	}
	return statusNames[j.Status]
}

var unitNames = map[access.QueryKind]string{
	access.ByArbeidstaker: "arbeidstakere", access.ByArbeidssted: "arbeidssteder", access.ByOpplysningspliktig: "opplysningspliktige",
}

func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func statusDoc(j extract.Job, now time.Time) extractStatusDoc {
	d := extractStatusDoc{JobbID: j.ID, Status: statusText(j, now), Format: j.Format, Opprettet: j.CreatedAt,
		Startet: optTime(j.StartedAt), Avsluttet: optTime(j.FinishedAt), Utloeper: optTime(j.ExpiresAt), Batcher: j.Batches, Feil: j.Error,
		Fremdrift: extractProgressDoc{Arbeidsforhold: j.Written, Enhet: unitNames[j.Kind], Ferdig: j.UnitsDone, Totalt: j.UnitsTotal}}
	if j.Expired(now) {
		d.Batcher = 0
	}
	return d
}

// extractStatus answers GET /api/v2/uttrekk/{jobbid}.
func (s *Server) extractStatus(w http.ResponseWriter, r *http.Request) {
	c, ok := s.begin(w, r)
	if !ok {
		return
	}
	j, ok := c.apiExtract(nil)
	if !ok {
		return
	}
	if _, ok := c.extractAccess(j); !ok { // the record names its grants
		return
	}
	body, err := json.Marshal(statusDoc(j, s.now()))
	if err != nil {
		c.internal(err)
		return
	}
	c.ok(access.Decision{}, body, nil, 0)
}

// batchState is what a request for batch n of a job gets.
type batchState int

const (
	batchReady    batchState = iota
	batchEnd                 // the job is done and n is past its last batch
	batchNotReady            // not written yet
	batchExpired
	batchFailed
)

func batchStateOf(j extract.Job, n int, now time.Time) batchState {
	switch {
	case j.Expired(now):
		return batchExpired
	case j.Status == extract.StatusFailed:
		return batchFailed
	case n < j.Batches:
		return batchReady
	case j.Status == extract.StatusDone:
		return batchEnd
	}
	return batchNotReady
}

func parseBatchNumber(v string) (int, bool) {
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 || n > 100_000_000 || strconv.Itoa(n) != v {
		return 0, false
	}
	return n, true
}

// extractBatch answers GET /api/v2/uttrekk/{jobbid}/batch/{n}: batch n
// (from 0); 404 while it is not written; after the last, an empty 200 with
// Uttrekk-Slutt: true. Each fetch is logged before the batch leaves, with the
// batch's digest (Rule AA-16); the access decision is made again, so a
// suspended or ended grant stops the downloads too.
func (s *Server) extractBatch(w http.ResponseWriter, r *http.Request) {
	c, ok := s.begin(w, r)
	if !ok {
		return
	}
	j, ok := c.apiExtract(map[string]any{"batch": r.PathValue("n")})
	if !ok {
		return
	}
	if _, ok := c.extractAccess(j); !ok {
		return
	}
	n, ok := parseBatchNumber(r.PathValue("n"))
	if !ok {
		c.fail(http.StatusBadRequest, codeInvalid, "invalid-request", "Batchnummeret må være et heltall fra 0.")
		return
	}
	switch batchStateOf(j, n, s.now()) {
	case batchExpired:
		c.fail(http.StatusGone, "", "expired", "Uttrekket er utløpt, og resultatet er slettet.")
		return
	case batchFailed:
		c.fail(http.StatusConflict, "", "failed", "Uttrekket feilet: "+j.Error)
		return
	case batchNotReady:
		w.Header().Set("Retry-After", "5")
		c.fail(http.StatusNotFound, "", "not-ready", fmt.Sprintf("Batch %d er ikke klar ennå. Prøv igjen senere.", n))
		return
	}
	c.rec.Decision = audit.Permit
	if batchStateOf(j, n, s.now()) == batchEnd {
		c.rec.Status = http.StatusOK
		if !c.append() {
			return
		}
		w.Header().Set(headerExtractEnd, "true")
		w.Header().Set("Content-Type", extract.ContentType(j.Format))
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusOK)
		return
	}
	f, b, err := s.openBatch(r.Context(), j, n)
	if err != nil {
		c.internal(err)
		return
	}
	defer f.Close()
	c.rec.Status, c.rec.ResultCount, c.rec.ResponseHash = http.StatusOK, b.Records, b.SHA256
	if !c.append() {
		return
	}
	s.sendBatch(w, j, b, f)
}

// openBatch opens a whole batch's file.
func (s *Server) openBatch(ctx context.Context, j extract.Job, n int) (*os.File, extract.Batch, error) {
	b, err := s.db.ExtractBatchInfo(ctx, j.ID, n)
	if err != nil {
		return nil, b, err
	}
	// Exactly the file the batch's row names: the committing runner's own.
	path, ok := extract.CommittedFile(s.extractDir, j.ID, n, j.Format, b.File)
	if !ok {
		return nil, b, fmt.Errorf("extract %s batch %d: bad file name %q", j.ID, n, b.File)
	}
	f, err := os.Open(path)
	return f, b, err
}

// sendBatch streams a batch file, after its fetch was logged.
func (s *Server) sendBatch(w http.ResponseWriter, j extract.Job, b extract.Batch, f *os.File) {
	w.Header().Set("Content-Type", extract.ContentType(j.Format))
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="uttrekk-%s-%d.%s"`, j.ID, b.N, j.Format))
	if fi, err := f.Stat(); err == nil {
		w.Header().Set("Content-Length", strconv.FormatInt(fi.Size(), 10))
	}
	w.WriteHeader(http.StatusOK)
	io.Copy(w, f)
}

// extractDelete answers DELETE /api/v2/uttrekk/{jobbid}: the job stops and its result is deleted.
func (s *Server) extractDelete(w http.ResponseWriter, r *http.Request) {
	c, ok := s.begin(w, r)
	if !ok {
		return
	}
	j, ok := c.apiExtract(nil)
	if !ok {
		return
	}
	if _, ok := c.extractAccess(j); !ok {
		return
	}
	rec := c.rec
	rec.Decision, rec.Status = audit.Permit, http.StatusNoContent
	if !s.deleteExtract(r.Context(), j, &rec, func(err error) { c.internal(err) }) {
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusNoContent)
}

// deleteExtract removes a job with its record, then its files.
func (s *Server) deleteExtract(ctx context.Context, j extract.Job, rec *audit.Record, failed func(error)) bool {
	if err := s.db.DeleteExtract(ctx, j.ID, rec); err != nil {
		failed(err)
		return false
	}
	if s.extractDir != "" {
		if err := extract.RemoveJob(s.extractDir, j.ID); err != nil {
			s.log.Error("remove deleted extract's files", "job", j.ID, "err", err) // the expiry job removes them later
		}
	}
	return true
}

// The portal page (issue 6, item 3).

// extractForm is the order form's values, kept when it is shown again.
type extractForm struct {
	Enhetstype string // arbeidssted or opplysningspliktig
	Orgnumre   string
	Format     string
	Statuser   []string
	Fra, Til   string
}

func (f extractForm) HasStatus(s string) bool { return slices.Contains(f.Statuser, s) }

// formError is one field's error, shown beside the field and in the summary.
type formError struct {
	Field, Message string
}

type extractPageData struct {
	frame
	Enabled bool
	Jobs    extractJobsData
	Form    extractForm
	Errors  []formError
	Denied  string
	TTLDays int
}

// extractJobsData is the job table; the fragment polls itself while a job is under way.
type extractJobsData struct {
	Rows    []extractRow
	Running bool
}

type extractRow struct {
	ID, Status, Format, Created, Expires, Error string
	Enhet                                       string
	Written                                     int64
	UnitsDone, UnitsTotal                       int
	Batches                                     []int
	Done, Active                                bool
}

func (p extractPageData) ErrorFor(field string) string {
	for _, e := range p.Errors {
		if e.Field == field {
			return e.Message
		}
	}
	return ""
}

func (s *Server) extractJobs(ctx context.Context, org string) (extractJobsData, error) {
	jobs, err := s.db.Extracts(ctx, org, 50)
	if err != nil {
		return extractJobsData{}, err
	}
	now := s.now()
	var out extractJobsData
	for _, j := range jobs {
		row := extractRow{ID: j.ID, Status: statusText(j, now), Format: j.Format, Created: j.CreatedAt.In(s.oslo).Format("02.01.2006 15:04"),
			Error: j.Error, Enhet: unitNames[j.Kind], Written: j.Written, UnitsDone: j.UnitsDone, UnitsTotal: j.UnitsTotal,
			Done: j.Status == extract.StatusDone && !j.Expired(now), Active: j.Status.Active()}
		if !j.ExpiresAt.IsZero() && !j.Expired(now) {
			row.Expires = j.ExpiresAt.In(s.oslo).Format("02.01.2006 15:04")
		}
		if batchStateOf(j, 0, now) == batchReady {
			for n := range j.Batches {
				row.Batches = append(row.Batches, n)
			}
		}
		out.Running = out.Running || row.Active
		out.Rows = append(out.Rows, row)
	}
	return out, nil
}

func (s *Server) renderExtractPage(w http.ResponseWriter, r *http.Request, v *visitor, p extractPageData, status int) {
	var err error
	if p.Jobs, err = s.extractJobs(r.Context(), v.Org); err != nil {
		s.pageError(w, r, err)
		return
	}
	p.frame, p.Enabled, p.TTLDays = s.frame(r, v, "Uttrekk"), s.extractDir != "", int(s.extractTTL/(24*time.Hour))
	if p.Form.Format == "" {
		p.Form.Format = extract.FormatJSONL
	}
	if p.Form.Enhetstype == "" {
		p.Form.Enhetstype = string(access.ByOpplysningspliktig)
	}
	if status != http.StatusOK {
		w.WriteHeader(status)
	}
	s.render(w, r, "uttrekk.html", p)
}

func (s *Server) extractPage(w http.ResponseWriter, r *http.Request, v *visitor) {
	s.renderExtractPage(w, r, v, extractPageData{}, http.StatusOK)
}

// extractJobsFragment is the job table alone, for htmx to poll while a job runs.
func (s *Server) extractJobsFragment(w http.ResponseWriter, r *http.Request, v *visitor) {
	jobs, err := s.extractJobs(r.Context(), v.Org)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	s.render(w, r, "uttrekk-jobber", jobs)
}

// formFields maps the API's field names to the form's.
var formFields = map[string]string{
	"arbeidssteder": "orgnumre", "opplysningspliktige": "orgnumre", "arbeidsforholdstatuser": "statuser",
	"ansattFraOgMed": "fra", "ansattTilOgMed": "til", "format": "format", "": "orgnumre",
}

// extractOrder starts an extract from the page, for the organisation acted
// for, under the same access decision as the API (channel extract).
func (s *Server) extractOrder(w http.ResponseWriter, r *http.Request, v *visitor) {
	form := extractForm{Enhetstype: r.PostFormValue("enhetstype"), Orgnumre: r.PostFormValue("orgnumre"), Format: r.PostFormValue("format"),
		Statuser: r.PostForm["statuser"], Fra: strings.TrimSpace(r.PostFormValue("fra")), Til: strings.TrimSpace(r.PostFormValue("til"))}
	p := extractPageData{Form: form}
	if len(form.Orgnumre) > 64<<10 {
		p.Errors = append(p.Errors, formError{"orgnumre", "Listen er for lang."})
		s.renderExtractPage(w, r, v, p, http.StatusBadRequest)
		return
	}
	units := strings.FieldsFunc(form.Orgnumre, func(c rune) bool { return c == ',' || c == ';' || c == ' ' || c == '\n' || c == '\r' || c == '\t' })
	if units == nil {
		units = []string{}
	}
	req := extractRequest{Format: form.Format, AnsattFraOgMed: form.Fra, AnsattTilOgMed: form.Til}
	if len(form.Statuser) > 0 {
		req.Statuser = form.Statuser
	}
	switch form.Enhetstype {
	case string(access.ByArbeidssted):
		req.Arbeidssteder = units
	case string(access.ByOpplysningspliktig):
		req.Opplysningspliktige = units
	default:
		p.Errors = append(p.Errors, formError{"enhetstype", "Velg om uttrekket gjelder arbeidssteder eller opplysningspliktige."})
		s.renderExtractPage(w, r, v, p, http.StatusBadRequest)
		return
	}
	if s.extractDir == "" {
		p.Denied = "Uttrekk er ikke slått på i denne instansen."
		s.renderExtractPage(w, r, v, p, http.StatusServiceUnavailable)
		return
	}
	kind, q, format, prob := s.parseExtract(&req)
	if prob != nil {
		msg := prob.detail
		switch {
		case prob.index >= 0:
			msg = fmt.Sprintf("Nummer %d i listen er ikke gyldig: %s.", prob.index+1, prob.why)
		case prob.code == codeNoID:
			msg = "Skriv minst ett organisasjonsnummer."
		}
		p.Errors = append(p.Errors, formError{formFields[prob.field], msg})
		s.renderExtractPage(w, r, v, p, http.StatusBadRequest)
		return
	}
	in, err := s.db.AccessInputs(r.Context(), v.Org, "")
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	d := s.decideExtract(in, v.Org, "", kind, false)
	if !d.Permit {
		p.Denied = denyText[d.Reason]
		if d.Reason == access.DenyNoGrant {
			p.Denied = "Virksomheten har ikke vedtak om uttrekk i dette miljøet."
		}
		s.renderExtractPage(w, r, v, p, http.StatusForbidden)
		return
	}
	job := s.newJob(v.Org, "", d, kind, q, format)
	job.EndUser, job.CorrelationID = v.Actor(), CorrelationID(r.Context())
	crit, _ := json.Marshal(extractCriteria{JobbID: job.ID, extractRequest: req})
	rec := s.portalExtractRecord(r, v, crit)
	rec.Status, rec.Grants = http.StatusSeeOther, d.GrantRefs()
	switch _, err := s.db.CreateExtract(r.Context(), job, extract.MaxActive, rec); {
	case errors.Is(err, extract.ErrTooMany):
		p.Denied = fmt.Sprintf("Virksomheten har allerede %d uttrekk som venter eller kjører. Vent til ett av dem er ferdig, eller slett et.", extract.MaxActive)
		s.renderExtractPage(w, r, v, p, http.StatusTooManyRequests)
		return
	case err != nil:
		s.pageError(w, r, err)
		return
	}
	s.flash(r, "Uttrekket er bestilt. Siden viser fremdriften; batchene kan lastes ned etter hvert som de blir klare.")
	redirect(w, r, "/portal/uttrekk")
}

// portalExtractRecord is a log record of something the signed-in user did with an extract (Rule AA-16).
func (s *Server) portalExtractRecord(r *http.Request, v *visitor, crit []byte) *audit.Record {
	return &audit.Record{Kind: audit.KindLookup, Channel: string(access.ChannelExtract), Consumer: v.Org, EndUser: v.Actor(),
		CorrelationID: CorrelationID(r.Context()), Operation: r.Pattern, Request: crit, Decision: audit.Permit}
}

// extractPortalBatch downloads a batch from the page, through the same
// checks as the API: the organisation's own job, a whole batch, the access
// decision made again, and the fetch logged before the batch leaves.
func (s *Server) extractPortalBatch(w http.ResponseWriter, r *http.Request, v *visitor) {
	j, ok, err := s.ownExtract(r.Context(), r.PathValue("jobbid"), v.Org, "")
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	n, nok := parseBatchNumber(r.PathValue("n"))
	if !ok || !nok || batchStateOf(j, n, s.now()) != batchReady {
		s.notFound(w, r, v)
		return
	}
	in, err := s.db.AccessInputs(r.Context(), v.Org, "")
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	d := s.decideExtract(in, v.Org, "", j.Kind, j.History)
	if !d.Permit {
		w.WriteHeader(http.StatusForbidden)
		s.render(w, r, "forbidden.html", s.frame(r, v, "Ingen tilgang"))
		return
	}
	f, b, err := s.openBatch(r.Context(), j, n)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	defer f.Close()
	crit, _ := json.Marshal(map[string]any{"jobbid": j.ID, "batch": n})
	rec := s.portalExtractRecord(r, v, crit)
	rec.Status, rec.Grants, rec.ResultCount, rec.ResponseHash = http.StatusOK, d.GrantRefs(), b.Records, b.SHA256
	if err := s.audit.Append(r.Context(), rec); err != nil {
		s.pageError(w, r, err) // fail closed: nothing leaves unlogged
		return
	}
	s.sendBatch(w, j, b, f)
}

// extractPortalDelete deletes a job from the page.
func (s *Server) extractPortalDelete(w http.ResponseWriter, r *http.Request, v *visitor) {
	j, ok, err := s.ownExtract(r.Context(), r.PathValue("jobbid"), v.Org, "")
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	if !ok {
		s.notFound(w, r, v)
		return
	}
	crit, _ := json.Marshal(map[string]string{"jobbid": j.ID})
	rec := s.portalExtractRecord(r, v, crit)
	rec.Status = http.StatusSeeOther
	if !s.deleteExtract(r.Context(), j, rec, func(err error) {
		if errors.Is(err, store.ErrNotFound) { // deleted meanwhile, e.g. in another tab
			s.notFound(w, r, v)
			return
		}
		s.pageError(w, r, err)
	}) {
		return
	}
	s.flash(r, "Uttrekket er slettet.")
	redirect(w, r, "/portal/uttrekk")
}

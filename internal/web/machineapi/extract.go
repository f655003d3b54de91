package machineapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"deling/internal/access"
	"deling/internal/audit"
	"deling/internal/extract"
	"deling/internal/web/channel"
	"deling/internal/web/httperr"
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

// HeaderExtractEnd marks the empty answer after the last batch.
const HeaderExtractEnd = "Uttrekk-Slutt"

// extractCreate answers POST /api/v2/uttrekk: 202 with the job id, and the job's URL in Location.
func (s *Server) extractCreate(w http.ResponseWriter, r *http.Request) {
	c, ok := s.begin(w, r)
	if !ok {
		return
	}
	defer c.done()
	c.rec.Channel = string(access.ChannelExtract)
	var req channel.ExtractRequest
	if err := decodeBodyLimit(r, &req, s.MaxExtractBody()); err != nil {
		c.fail(http.StatusBadRequest, httperr.CodeInvalid, "invalid-request", "Ugyldig forespørsel: "+err.Error()+".")
		return
	}
	// Until the order is validated the log records only its size and
	// SHA-256: an unchecked body of megabytes is no record (Rule AA-16).
	c.criteria(channel.DigestExtract(&req))
	if !s.ExtractsOn() {
		c.fail(http.StatusServiceUnavailable, "", "extracts-off", "Uttrekk er ikke slått på i denne instansen.")
		return
	}
	kind, q, format, p := s.ParseExtract(&req)
	if p != nil {
		c.fail(http.StatusBadRequest, p.Code, "invalid-request", p.Detail)
		return
	}
	c.criteria(req)
	d := s.DecideExtract(c.in, c.claims.Consumer, c.claims.Supplier, kind, req.Historikk)
	if !d.Permit {
		c.deny(d)
		return
	}
	job := s.NewJob(c.claims.Consumer, c.claims.Supplier, d, kind, q, format)
	job.ClientID, job.CorrelationID = c.claims.ClientID, c.rec.CorrelationID
	c.criteria(channel.ExtractCriteria{JobbID: job.ID, ExtractRequest: req})
	// The order and its record are stored together: no job runs that the log does not show (Rule AA-16).
	rec := c.rec
	rec.Decision, rec.Status, rec.Grants = audit.Permit, http.StatusAccepted, d.GrantRefs()
	job, err := s.db.CreateExtract(c.ctx(), job, extract.MaxActive, &rec)
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
	json.NewEncoder(w).Encode(map[string]string{"jobbid": job.ID, "status": channel.StatusText(job, s.now())})
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
	j, ok, err := c.s.OwnExtract(c.ctx(), id, c.claims.Consumer, c.claims.Supplier)
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
	d := c.s.DecideExtract(c.in, c.claims.Consumer, c.claims.Supplier, j.Kind, j.History)
	if !d.Permit {
		c.deny(d)
		return d, false
	}
	c.rec.Grants = d.GrantRefs()
	return d, true
}

// ExtractStatusDoc is a job's status as the API gives it.
type ExtractStatusDoc struct {
	JobbID    string             `json:"jobbid"`
	Status    string             `json:"status"`
	Format    string             `json:"format"`
	Opprettet time.Time          `json:"opprettet"`
	Startet   *time.Time         `json:"startet,omitempty"`
	Avsluttet *time.Time         `json:"avsluttet,omitempty"`
	Utloeper  *time.Time         `json:"utloeper,omitempty"`
	Fremdrift ExtractProgressDoc `json:"fremdrift"`
	Batcher   int                `json:"batcher"`
	Feil      string             `json:"feil,omitempty"`
}

// ExtractProgressDoc: arbeidsforhold in the batches ready, and persons or employers done of the total.
// The counts are of what the consumer receives; screened persons are never counted (Rules AA-10, AA-11).
type ExtractProgressDoc struct {
	Arbeidsforhold int64  `json:"arbeidsforhold"`
	Enhet          string `json:"enhet"`
	Ferdig         int    `json:"ferdig"`
	Totalt         int    `json:"totalt"`
}

func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func statusDoc(j extract.Job, now time.Time) ExtractStatusDoc {
	d := ExtractStatusDoc{JobbID: j.ID, Status: channel.StatusText(j, now), Format: j.Format, Opprettet: j.CreatedAt,
		Startet: optTime(j.StartedAt), Avsluttet: optTime(j.FinishedAt), Utloeper: optTime(j.ExpiresAt), Batcher: j.Batches, Feil: j.Error,
		Fremdrift: ExtractProgressDoc{Arbeidsforhold: j.Written, Enhet: channel.UnitNames[j.Kind], Ferdig: j.UnitsDone, Totalt: j.UnitsTotal}}
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
	defer c.done()
	j, ok := c.apiExtract(nil)
	if !ok {
		return
	}
	d, ok := c.extractAccess(j)
	if !ok {
		return
	}
	body, err := json.Marshal(statusDoc(j, s.now()))
	if err != nil {
		c.internal(err)
		return
	}
	c.ok(d, body, nil, 0) // the record names the grants the status is told under
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
	defer c.done()
	j, ok := c.apiExtract(map[string]any{"batch": r.PathValue("n")})
	if !ok {
		return
	}
	if _, ok := c.extractAccess(j); !ok {
		return
	}
	n, ok := channel.ParseBatchNumber(r.PathValue("n"))
	if !ok {
		c.fail(http.StatusBadRequest, httperr.CodeInvalid, "invalid-request", "Batchnummeret må være et heltall fra 0.")
		return
	}
	switch channel.BatchStateOf(j, n, s.now()) {
	case channel.BatchExpired:
		c.fail(http.StatusGone, "", "expired", "Uttrekket er utløpt, og resultatet er slettet.")
		return
	case channel.BatchFailed:
		c.fail(http.StatusConflict, "", "failed", "Uttrekket feilet: "+j.Error)
		return
	case channel.BatchNotReady:
		w.Header().Set("Retry-After", "5")
		c.fail(http.StatusNotFound, "", "not-ready", fmt.Sprintf("Batch %d er ikke klar ennå. Prøv igjen senere.", n))
		return
	}
	c.rec.Decision = audit.Permit
	if channel.BatchStateOf(j, n, s.now()) == channel.BatchEnd {
		c.rec.Status = http.StatusOK
		if err := c.s.Lookup.Append(c.ctx(), &c.rec); err != nil {
			c.notLogged(err)
			return
		}
		w.Header().Set(HeaderExtractEnd, "true")
		w.Header().Set("Content-Type", extract.ContentType(j.Format))
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusOK)
		return
	}
	f, b, err := s.OpenBatch(c.ctx(), j, n)
	if err != nil {
		c.internal(err)
		return
	}
	defer f.Close()
	c.rec.Status, c.rec.ResultCount, c.rec.ResponseHash = http.StatusOK, b.Records, b.SHA256
	if err := c.s.Lookup.Append(c.ctx(), &c.rec); err != nil {
		c.notLogged(err)
		return
	}
	s.SendBatch(w, j, b, f)
}

// extractDelete answers DELETE /api/v2/uttrekk/{jobbid}: the job stops and its result is deleted.
func (s *Server) extractDelete(w http.ResponseWriter, r *http.Request) {
	c, ok := s.begin(w, r)
	if !ok {
		return
	}
	defer c.done()
	j, ok := c.apiExtract(nil)
	if !ok {
		return
	}
	if _, ok := c.extractAccess(j); !ok {
		return
	}
	rec := c.rec
	rec.Decision, rec.Status = audit.Permit, http.StatusNoContent
	if !s.DeleteExtract(c.ctx(), j, &rec, func(err error) { c.internal(err) }) {
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusNoContent)
}

// The portal page (issue 6, item 3).

package portal

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"deling/internal/access"
	"deling/internal/audit"
	"deling/internal/extract"
	"deling/internal/lookup"
	"deling/internal/store"
	"deling/internal/web/channel"
	"deling/internal/web/httperr"
	"deling/internal/web/portal/site"
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
	site.Frame
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

// formatLabels name an extract's file format for people (issue 16, item 8: no codes).
var formatLabels = map[string]string{"jsonl": "JSON lines", "csv": "CSV"}

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
	jobs, err := s.DB.Extracts(ctx, org, 50)
	if err != nil {
		return extractJobsData{}, err
	}
	now := s.Now()
	var out extractJobsData
	for _, j := range jobs {
		row := extractRow{ID: j.ID, Status: channel.StatusText(j, now), Format: formatLabels[j.Format], Created: s.OsloTime(j.CreatedAt),
			Error: j.Error, Enhet: channel.UnitNames[j.Kind], Written: j.Written, UnitsDone: j.UnitsDone, UnitsTotal: j.UnitsTotal,
			Done: j.Status == extract.StatusDone && !j.Expired(now), Active: j.Status.Active()}
		if !j.ExpiresAt.IsZero() && !j.Expired(now) {
			row.Expires = s.OsloTime(j.ExpiresAt)
		}
		if channel.BatchStateOf(j, 0, now) == channel.BatchReady {
			for n := range j.Batches {
				row.Batches = append(row.Batches, n)
			}
		}
		out.Running = out.Running || row.Active
		out.Rows = append(out.Rows, row)
	}
	return out, nil
}

func (s *Server) renderExtractPage(w http.ResponseWriter, r *http.Request, v *site.Visitor, p extractPageData, status int) {
	var err error
	if p.Jobs, err = s.extractJobs(r.Context(), v.Org); err != nil {
		s.PageError(w, r, err)
		return
	}
	p.Frame, p.Enabled, p.TTLDays = s.Frame(r, v, "Uttrekk"), s.ExtractsOn(), int(s.extractTTL/(24*time.Hour))
	if p.Form.Format == "" {
		p.Form.Format = extract.FormatJSONL
	}
	if p.Form.Enhetstype == "" {
		p.Form.Enhetstype = string(access.ByOpplysningspliktig)
	}
	if status != http.StatusOK {
		w.WriteHeader(status)
	}
	s.Render(w, r, "uttrekk.html", p)
}

func (s *Server) extractPage(w http.ResponseWriter, r *http.Request, v *site.Visitor) error {
	s.renderExtractPage(w, r, v, extractPageData{}, http.StatusOK)
	return nil
}

// extractJobsFragment is the job table alone, for htmx to poll while a job runs.
func (s *Server) extractJobsFragment(w http.ResponseWriter, r *http.Request, v *site.Visitor) error {
	jobs, err := s.extractJobs(r.Context(), v.Org)
	if err != nil {
		return err
	}
	s.Render(w, r, "uttrekk-jobber", jobs)
	return nil
}

// formFields maps the API's field names to the form's.
var formFields = map[string]string{
	"arbeidssteder": "orgnumre", "opplysningspliktige": "orgnumre", "arbeidsforholdstatuser": "statuser",
	"ansattFraOgMed": "fra", "ansattTilOgMed": "til", "format": "format", "": "orgnumre",
}

// extractOrder starts an extract from the page, for the organisation acted
// for, under the same access decision as the API (channel extract).
func (s *Server) extractOrder(w http.ResponseWriter, r *http.Request, v *site.Visitor) error {
	form := extractForm{Enhetstype: r.PostFormValue("enhetstype"), Orgnumre: r.PostFormValue("orgnumre"), Format: r.PostFormValue("format"),
		Statuser: r.PostForm["statuser"], Fra: strings.TrimSpace(r.PostFormValue("fra")), Til: strings.TrimSpace(r.PostFormValue("til"))}
	p := extractPageData{Form: form}
	if len(form.Orgnumre) > 64<<10 {
		p.Errors = append(p.Errors, formError{"orgnumre", "Listen er for lang."})
		s.renderExtractPage(w, r, v, p, http.StatusBadRequest)
		return nil
	}
	units := strings.FieldsFunc(form.Orgnumre, func(c rune) bool { return c == ',' || c == ';' || c == ' ' || c == '\n' || c == '\r' || c == '\t' })
	if units == nil {
		units = []string{}
	}
	req := channel.ExtractRequest{Format: form.Format, AnsattFraOgMed: form.Fra, AnsattTilOgMed: form.Til}
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
		return nil
	}
	if !s.ExtractsOn() {
		p.Denied = "Uttrekk er ikke slått på i denne instansen."
		s.renderExtractPage(w, r, v, p, http.StatusServiceUnavailable)
		return nil
	}
	kind, q, format, prob := s.ParseExtract(&req)
	if prob != nil {
		msg := prob.Detail
		switch {
		case prob.Index >= 0:
			msg = fmt.Sprintf("Nummer %d i listen er ikke gyldig: %s.", prob.Index+1, prob.Why)
		case prob.Code == httperr.CodeNoID:
			msg = "Skriv minst ett organisasjonsnummer."
		}
		p.Errors = append(p.Errors, formError{formFields[prob.Field], msg})
		s.renderExtractPage(w, r, v, p, http.StatusBadRequest)
		return nil
	}
	in, err := s.DB.AccessInputs(r.Context(), v.Org, "")
	if err != nil {
		return err
	}
	d := s.DecideExtract(in, v.Org, "", kind, false)
	if !d.Permit {
		p.Denied = lookup.Deny(d.Reason).Text
		if d.Reason == access.DenyNoGrant {
			p.Denied = "Virksomheten har ikke vedtak om uttrekk i dette miljøet."
		}
		s.renderExtractPage(w, r, v, p, http.StatusForbidden)
		return nil
	}
	job := s.NewJob(v.Org, "", d, kind, q, format)
	job.EndUser, job.CorrelationID = v.Actor(), httperr.CorrelationID(r.Context())
	crit, _ := json.Marshal(channel.ExtractCriteria{JobbID: job.ID, ExtractRequest: req})
	rec := s.portalExtractRecord(r, v, crit)
	rec.Status, rec.Grants = http.StatusSeeOther, d.GrantRefs()
	switch _, err := s.DB.CreateExtract(r.Context(), job, extract.MaxActive, rec); {
	case errors.Is(err, extract.ErrTooMany):
		p.Denied = fmt.Sprintf("Virksomheten har allerede %d uttrekk som venter eller kjører. Vent til ett av dem er ferdig, eller slett et.", extract.MaxActive)
		s.renderExtractPage(w, r, v, p, http.StatusTooManyRequests)
		return nil
	case err != nil:
		return err
	}
	s.Flash(r, "Uttrekket er bestilt. Siden viser fremdriften; batchene kan lastes ned etter hvert som de blir klare.")
	site.Redirect(w, r, "/portal/uttrekk")
	return nil
}

// portalExtractRecord is a log record of something the signed-in user did with an extract (Rule AA-16).
func (s *Server) portalExtractRecord(r *http.Request, v *site.Visitor, crit []byte) *audit.Record {
	return &audit.Record{Kind: audit.KindLookup, Channel: string(access.ChannelExtract), Consumer: v.Org, EndUser: v.Actor(),
		CorrelationID: httperr.CorrelationID(r.Context()), Operation: r.Pattern, Request: crit, Decision: audit.Permit}
}

// extractPortalBatch downloads a batch from the page, through the same
// checks as the API: the organisation's own job, a whole batch, the access
// decision made again, and the fetch logged before the batch leaves.
func (s *Server) extractPortalBatch(w http.ResponseWriter, r *http.Request, v *site.Visitor) error {
	j, ok, err := s.OwnExtract(r.Context(), r.PathValue("jobbid"), v.Org, "")
	if err != nil {
		return err
	}
	n, nok := channel.ParseBatchNumber(r.PathValue("n"))
	if !ok || !nok || channel.BatchStateOf(j, n, s.Now()) != channel.BatchReady {
		return httperr.ErrNotFound
	}
	in, err := s.DB.AccessInputs(r.Context(), v.Org, "")
	if err != nil {
		return err
	}
	d := s.DecideExtract(in, v.Org, "", j.Kind, j.History)
	if !d.Permit {
		s.Forbidden(w, r, v)
		return nil
	}
	f, b, err := s.OpenBatch(r.Context(), j, n)
	if err != nil {
		return err
	}
	defer f.Close()
	crit, _ := json.Marshal(map[string]any{"jobbid": j.ID, "batch": n})
	rec := s.portalExtractRecord(r, v, crit)
	rec.Status, rec.Grants, rec.ResultCount, rec.ResponseHash = http.StatusOK, d.GrantRefs(), b.Records, b.SHA256
	if err := s.audit.Append(r.Context(), rec); err != nil {
		return err // fail closed: nothing leaves unlogged
	}
	s.SendBatch(w, j, b, f)
	return nil
}

// extractPortalDelete deletes a job from the page.
func (s *Server) extractPortalDelete(w http.ResponseWriter, r *http.Request, v *site.Visitor) error {
	j, ok, err := s.OwnExtract(r.Context(), r.PathValue("jobbid"), v.Org, "")
	if err != nil {
		return err
	}
	if !ok {
		return httperr.ErrNotFound
	}
	crit, _ := json.Marshal(map[string]string{"jobbid": j.ID})
	rec := s.portalExtractRecord(r, v, crit)
	rec.Status = http.StatusSeeOther
	if !s.DeleteExtract(r.Context(), j, rec, func(err error) {
		if errors.Is(err, store.ErrNotFound) { // deleted meanwhile, e.g. in another tab
			s.NotFound(w, r, v)
			return
		}
		s.PageError(w, r, err)
	}) {
		return nil
	}
	s.Flash(r, "Uttrekket er slettet.")
	site.Redirect(w, r, "/portal/uttrekk")
	return nil
}

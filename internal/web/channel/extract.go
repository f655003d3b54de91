package channel

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
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

	"deling/internal/access"
	"deling/internal/audit"
	"deling/internal/extract"
	"deling/internal/register"
	"deling/internal/store"
	"deling/internal/web/httperr"

	"github.com/google/uuid"
)

// ExtractRequest is the body of POST /api/v2/uttrekk. Exactly one of the three
// lists names what the extract is of.
type ExtractRequest struct {
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

// ExtractCriteria is what the log records of an order: the request and the job it made.
type ExtractCriteria struct {
	JobbID string `json:"jobbid,omitempty"`
	ExtractRequest
}

// ExtractOrderDigest is what the log records of an order that has not been
// validated (refused as invalid, or with extracts off): its size and SHA-256
// as compact JSON, never its lists. An unchecked order may hold megabytes of
// anything; the record of a validated one names at most MaxExtractUnits
// checked values (each identity a commitment), which keeps every record
// within audit.MaxRecordSize.
type ExtractOrderDigest struct {
	Bytes  int    `json:"bytes"`
	SHA256 string `json:"sha256"`
}

// DigestExtract is req's ExtractOrderDigest.
func DigestExtract(req *ExtractRequest) ExtractOrderDigest {
	b, _ := json.Marshal(req)
	sum := sha256.Sum256(b)
	return ExtractOrderDigest{Bytes: len(b), SHA256: hex.EncodeToString(sum[:])}
}

// ExtractProblem is a request that cannot be an extract: the API's code, the field, and why.
type ExtractProblem struct {
	Code, Field, Detail string
	Index               int    // of the bad value in the list, -1 if none
	Why                 string // what is wrong with it
}

// MaxExtractUnits is how many persons or employers one extract may name.
func (s *Shared) MaxExtractUnits() int {
	if s.extractMax > 0 {
		return s.extractMax
	}
	return extract.DefaultMaxUnits
}

// MaxExtractBody bounds an order's body: room for the largest list of persons.
func (s *Shared) MaxExtractBody() int64 { return 64<<10 + 32*int64(s.MaxExtractUnits()) }

// ParseExtract checks an order and turns it into the job's query kind, query and format.
func (s *Shared) ParseExtract(req *ExtractRequest) (access.QueryKind, extract.Query, string, *ExtractProblem) {
	var q extract.Query
	bad := func(code, field, format string, args ...any) (access.QueryKind, extract.Query, string, *ExtractProblem) {
		return "", q, "", &ExtractProblem{Code: code, Field: field, Detail: fmt.Sprintf(format, args...), Index: -1}
	}
	given := 0
	for _, l := range [][]string{req.Arbeidstakere, req.Arbeidssteder, req.Opplysningspliktige} {
		if l != nil {
			given++
		}
	}
	if given != 1 {
		return bad(httperr.CodeNoID, "", "Oppgi nøyaktig én av arbeidstakere, arbeidssteder og opplysningspliktige.")
	}
	var (
		kind  access.QueryKind
		list  []string
		field string
		code  string
	)
	switch {
	case req.Arbeidstakere != nil:
		kind, list, field, code = access.ByArbeidstaker, req.Arbeidstakere, "arbeidstakere", httperr.CodeArbeidstaker
	case req.Arbeidssteder != nil:
		kind, list, field, code = access.ByArbeidssted, req.Arbeidssteder, "arbeidssteder", httperr.CodeArbeidssted
	default:
		kind, list, field, code = access.ByOpplysningspliktig, req.Opplysningspliktige, "opplysningspliktige", httperr.CodeOpplysningspliktig
	}
	switch {
	case len(list) == 0:
		return bad(httperr.CodeNoID, field, "%s må ha minst én verdi.", field)
	case len(list) > s.MaxExtractUnits():
		return bad(httperr.CodeInvalid, field, "Et uttrekk kan gjelde høyst %d %s; denne forespørselen har %d.", s.MaxExtractUnits(), field, len(list))
	}
	units := make([]string, 0, len(list))
	for i, v := range list {
		var (
			id, why string
			ok      bool
		)
		if kind == access.ByArbeidstaker {
			id, why, ok = s.ParsePerson(v)
		} else {
			id, why, ok = s.ParseEmployer(v)
		}
		if !ok {
			// The index, never the value: it may be an identifier.
			_, _, _, p := bad(code, field, "Validering av %s[%d] feilet: %s.", field, i, why)
			p.Index, p.Why = i, why
			return "", q, "", p
		}
		units = append(units, id)
	}
	slices.Sort(units)
	q.Units = slices.Compact(units)

	if req.Typer != nil {
		if len(req.Typer) == 0 {
			return bad(httperr.CodeNoTypes, "arbeidsforholdtyper", "arbeidsforholdtyper må ha minst én verdi, eller utelates.")
		}
		for _, t := range req.Typer {
			if _, ok := register.Kodeverk.Lookup(register.KodeverkArbeidsforholdstyper, t); !ok {
				return bad(httperr.CodeEnum, "arbeidsforholdtyper", "Ukjent arbeidsforholdtype %q.", t)
			}
			if !slices.Contains(q.Types, t) {
				q.Types = append(q.Types, t)
			}
		}
	}
	if req.Statuser != nil {
		if len(req.Statuser) == 0 {
			return bad(httperr.CodeNoStatuses, "arbeidsforholdstatuser", "arbeidsforholdstatuser må ha minst én verdi, eller utelates.")
		}
		for _, v := range req.Statuser {
			st, err := register.ParseStatus(v)
			if err != nil {
				return bad(httperr.CodeEnum, "arbeidsforholdstatuser", "Ukjent arbeidsforholdstatus %q.", v)
			}
			if !slices.Contains(q.Statuses, st) {
				q.Statuses = append(q.Statuses, st)
			}
		}
		q.At = s.Today()
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
			return bad(httperr.CodeInvalid, d.field, "%s må være en dato på formen åååå-mm-dd.", d.field)
		}
		*d.dst = register.Date(d.v)
	}
	if q.From != "" && q.To != "" && q.To < q.From {
		return bad(httperr.CodeInvalid, "ansattTilOgMed", "ansattTilOgMed er før ansattFraOgMed.")
	}
	format := req.Format
	if format == "" {
		format = extract.FormatJSONL
	}
	if !extract.ValidFormat(format) {
		return bad(httperr.CodeEnum, "format", "Ukjent format %q (jsonl eller csv).", format)
	}
	return kind, q, format, nil
}

// DecideExtract is the access decision for an extract (channel extract).
func (s *Shared) DecideExtract(in access.Inputs, consumer, processor string, kind access.QueryKind, history bool) access.Decision {
	in.Catalogue = s.catalogue
	req := access.Request{Consumer: consumer, Processor: processor, Channel: access.ChannelExtract, Env: s.env, Kind: kind, History: history}
	d := access.Decide(req, in, s.now())
	// Rule SK-08: on consent alone, an extract names persons, never employers (lookup.Plan.KeyedOn).
	if d.Permit && kind != access.ByArbeidstaker && access.PlanConsent(req, in, d, s.now()).PersonByPerson() {
		return access.Decision{Reason: access.DenyConsentPerPerson}
	}
	return d
}

// PackagesOf is the definitions of the packages a decision rests on: the job
// keeps them, so that its runner projects exactly these elements.
func (s *Shared) PackagesOf(refs []string) []access.Package {
	var out []access.Package
	for _, r := range refs {
		if p, err := s.catalogue.Resolve(r); err == nil && strings.Contains(r, "@") {
			out = append(out, p)
		}
	}
	return out
}

// NewJob makes the job an order describes, with a fresh id.
func (s *Shared) NewJob(consumer, processor string, d access.Decision, kind access.QueryKind, q extract.Query, format string) extract.Job {
	return extract.Job{ID: uuid.Must(uuid.NewV7()).String(), Consumer: consumer, Processor: processor, Env: s.env, Kind: kind,
		Query: q, Format: format, History: d.History, Packages: s.PackagesOf(d.Packages)}
}

// OwnExtract loads a job the caller may see: its own organisation's, and a
// data processor only the jobs it ordered. Anything else answers as a job
// that does not exist.
func (s *Shared) OwnExtract(ctx context.Context, id, consumer, processor string) (extract.Job, bool, error) {
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

// Status names on the wire.
var StatusNames = map[extract.Status]string{
	extract.StatusQueued: "venter", extract.StatusRunning: "kjører", extract.StatusDone: "ferdig",
	extract.StatusFailed: "feilet", extract.StatusExpired: "utløpt",
}

func StatusText(j extract.Job, now time.Time) string {
	if j.Expired(now) {
		return StatusNames[extract.StatusExpired]
	}
	return StatusNames[j.Status]
}

var UnitNames = map[access.QueryKind]string{
	access.ByArbeidstaker: "arbeidstakere", access.ByArbeidssted: "arbeidssteder", access.ByOpplysningspliktig: "opplysningspliktige",
}

// BatchState is what a request for batch n of a job gets.
type BatchState int

const (
	BatchReady    BatchState = iota
	BatchEnd                 // the job is done and n is past its last batch
	BatchNotReady            // not written yet
	BatchExpired
	BatchFailed
)

func BatchStateOf(j extract.Job, n int, now time.Time) BatchState {
	switch {
	case j.Expired(now):
		return BatchExpired
	case j.Status == extract.StatusFailed:
		return BatchFailed
	case n < j.Batches:
		return BatchReady
	case j.Status == extract.StatusDone:
		return BatchEnd
	}
	return BatchNotReady
}

func ParseBatchNumber(v string) (int, bool) {
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 || n > 100_000_000 || strconv.Itoa(n) != v {
		return 0, false
	}
	return n, true
}

// OpenBatch opens a whole batch's file.
func (s *Shared) OpenBatch(ctx context.Context, j extract.Job, n int) (*os.File, extract.Batch, error) {
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

// SendBatch streams a batch file, after its fetch was logged.
func (s *Shared) SendBatch(w http.ResponseWriter, j extract.Job, b extract.Batch, f *os.File) {
	w.Header().Set("Content-Type", extract.ContentType(j.Format))
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="uttrekk-%s-%d.%s"`, j.ID, b.N, j.Format))
	if fi, err := f.Stat(); err == nil {
		w.Header().Set("Content-Length", strconv.FormatInt(fi.Size(), 10))
	}
	w.WriteHeader(http.StatusOK)
	io.Copy(w, f)
}

// DeleteExtract removes a job with its record, then its files.
func (s *Shared) DeleteExtract(ctx context.Context, j extract.Job, rec *audit.Record, failed func(error)) bool {
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

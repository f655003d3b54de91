package extract

import (
	"errors"
	"time"

	"deling/internal/access"
	"deling/internal/register"
)

// Status is where a job is; stored in ASCII, shown in Norwegian by the web.
type Status string

// The statuses of an extract job.
const (
	StatusQueued  Status = "venter"
	StatusRunning Status = "kjorer"
	StatusDone    Status = "ferdig"
	StatusFailed  Status = "feilet"
	StatusExpired Status = "utlopt"
)

// Active reports whether the job counts against its organisation's limit of running jobs.
func (s Status) Active() bool { return s == StatusQueued || s == StatusRunning }

// ErrTooMany is returned when an organisation that already has MaxActive
// jobs queued or running orders one more (as Folkeregisteret's extracts: 429).
var ErrTooMany = errors.New("too many extract jobs under way")

// ErrLostClaim is returned when a runner's claim on a job is gone: another
// runner took the job over, or it was deleted. The runner stops.
var ErrLostClaim = errors.New("extract job claim lost")

// ErrNotFound is returned for a job (or a batch) that is not there. A Store
// returns it so that the runner can tell "gone" from a failure without
// knowing the store's own errors.
var ErrNotFound = errors.New("extract job not found")

// Query is what an extract contains: the arbeidsforhold of the units
// (persons, arbeidssteder or opplysningspliktige, by the job's kind) that pass
// the filters. Empty filters let everything through.
type Query struct {
	Units    []string          `json:"enheter"`
	Types    []string          `json:"arbeidsforholdtyper,omitempty"`
	Statuses []register.Status `json:"arbeidsforholdstatuser,omitempty"`
	// At is the date the statuses are evaluated at (the job's creation date).
	At register.Date `json:"statusdato,omitempty"`
	// From and To: only arbeidsforhold whose ansettelsesperiode overlaps [From, To]; "" is open.
	From register.Date `json:"ansattFraOgMed,omitempty"`
	To   register.Date `json:"ansattTilOgMed,omitempty"`
}

// Job is one extract. Query.Units is loaded only when a runner claims the
// job (the list may hold 100,000 identities, which listings and status never
// need).
type Job struct {
	ID            string
	Consumer      string // orgnr the extract is for
	Processor     string // data processor that ordered it for the consumer, or ""
	ClientID      string // API client, or "" from the portal
	EndUser       string // portal user ("user:<id>"), or "" from the API
	CorrelationID string
	Env           register.Env
	Kind          access.QueryKind
	Query         Query
	Format        string // jsonl or csv
	History       bool
	// Packages are the definitions of the packages the decision rested on when the job was made.
	Packages []access.Package
	Status   Status
	Error    string // why a job failed, in Norwegian

	UnitsTotal, UnitsDone int
	Written               int64 // arbeidsforhold in the whole batches
	Batches               int   // whole batches, numbered 0…Batches-1
	ResumeUnit            int   // where the next batch starts: the unit's index …
	ResumeAfter           string
	Claim                 string

	CreatedAt                                     time.Time
	StartedAt, FinishedAt, ExpiresAt, HeartbeatAt time.Time // zero: not yet
}

// Expired reports whether the job's result is gone or past its time at now.
func (j *Job) Expired(now time.Time) bool {
	return j.Status == StatusExpired || (!j.ExpiresAt.IsZero() && !now.Before(j.ExpiresAt))
}

// Batch is one whole batch of a job's result.
type Batch struct {
	N       int
	Records int
	SHA256  string // of the batch file
	// File is the batch file's name in the job's directory; "" for a batch
	// written before files were named with the runner's claim (then <n>.<format>).
	File string
}

// Progress is where a runner is after a batch.
type Progress struct {
	UnitsDone   int
	Written     int64
	ResumeUnit  int
	ResumeAfter string
}

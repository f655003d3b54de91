package extract

import (
	"context"
	"time"

	"deling/internal/access"
	"deling/internal/audit"
	"deling/internal/register"
)

// Store is what a Runner needs of the database: the jobs, the access inputs
// and consents it decides with, and the lookup log. *store.DB is one; this
// package does not import store, so the runner's rules stay apart from SQL.
type Store interface {
	// ClaimExtract takes the oldest queued job, or a running one whose runner
	// has not been heard from since staleBefore, for the runner holding
	// claim; false when there is none. Two runners never hold one job.
	ClaimExtract(ctx context.Context, claim string, staleBefore time.Time) (Job, bool, error)
	// ExtractHeartbeat says the runner holding claim is alive; ErrLostClaim: stop.
	ExtractHeartbeat(ctx context.Context, id, claim string, unitsDone int) error
	// FinishExtract ends a running job as done or failed, with its log record.
	FinishExtract(ctx context.Context, id, claim string, status Status, reason string, unitsDone int, expires time.Time, rec *audit.Record) error
	// ReleaseExtract puts a running job back in the queue, keeping its progress.
	ReleaseExtract(ctx context.Context, id, claim string) error
	// ExtractSession opens the connections a runner uses for one job.
	ExtractSession() (Session, error)
	// Extract loads a job without its units; ErrNotFound if there is none.
	Extract(ctx context.Context, id string) (Job, error)
	// DueExtracts lists finished or failed jobs whose result expired at now.
	DueExtracts(ctx context.Context, now time.Time, limit int) ([]Job, error)
	// ExpireExtract marks a job's result as deleted once its files are gone.
	ExpireExtract(ctx context.Context, id string) error

	// AccessInputs are the consumer's grants and agreements as they are now.
	AccessInputs(ctx context.Context, consumer, processor string) (access.Inputs, error)
	// HasValidConsent reports whether person has a valid consent to consumer for one of purposes.
	HasValidConsent(ctx context.Context, person, consumer string, purposes []string, now time.Time) (bool, error)
	// Protected reports whether a person has a protected address (Rule AA-11).
	Protected(ctx context.Context, person string) (bool, error)
	// Append writes a record to the lookup log.
	Append(ctx context.Context, rec *audit.Record) error
	// RegisterReady reports whether the register can be read now; an error
	// wrapping register.ErrUnavailable while it cannot (a read replica down
	// or behind). It reads nothing.
	RegisterReady() error
}

// Session is a runner's connections for one job: it streams the register's
// arbeidsforhold and commits whole batches. Close it when done.
type Session interface {
	// Docs reads the next page of one unit's arbeidsforhold that pass q: those
	// after the uuid after, in uuid order, at most limit, appended to dst[:0].
	// Persons with protected address are screened out (Rule AA-11).
	Docs(ctx context.Context, kind access.QueryKind, q Query, unit, after string, limit int, dst []register.Doc) ([]register.Doc, error)
	// CommitBatch records a whole batch, the point the next one starts from,
	// and its log record, together; ErrLostClaim if the claim is gone.
	CommitBatch(ctx context.Context, id, claim string, b Batch, p Progress, rec *audit.Record) error
	Close() error
}

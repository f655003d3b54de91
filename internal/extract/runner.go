package extract

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"deling/internal/access"
	"deling/internal/audit"
	"deling/internal/lookup"
	"deling/internal/register"
)

// Runner executes queued extract jobs. Several runners, in one process or on
// several nodes sharing one PostgreSQL and one result directory, may run at
// once: a job is claimed by a compare-and-set on its row, and every later
// step checks the claim.
type Runner struct {
	DB  Store
	Dir string // where batch files are written
	// BatchSize is arbeidsforhold per batch (default DefaultBatchSize).
	BatchSize int
	// PageSize is rows read from the register per query (default 1,000).
	PageSize int
	// TTL is how long a finished result is kept (default DefaultTTL).
	TTL time.Duration
	// StaleAfter: a running job whose runner has been silent this long is taken over (default DefaultStaleAfter).
	StaleAfter time.Duration
	// HeartbeatEvery is how often a runner says it is alive and records progress (default 5 s).
	HeartbeatEvery time.Duration
	Now            func() time.Time
	Log            *slog.Logger

	afterCommit func(n int) // tests: called after batch n is committed
}

func (r Runner) withDefaults() Runner {
	if r.BatchSize <= 0 {
		r.BatchSize = DefaultBatchSize
	}
	if r.PageSize <= 0 {
		r.PageSize = 1000
	}
	if r.TTL <= 0 {
		r.TTL = DefaultTTL
	}
	if r.StaleAfter <= 0 {
		r.StaleAfter = DefaultStaleAfter
	}
	if r.HeartbeatEvery <= 0 {
		r.HeartbeatEvery = 5 * time.Second
	}
	if r.Now == nil {
		r.Now = time.Now
	}
	if r.Log == nil {
		r.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return r
}

// RunOnce claims one job (queued, or running with a silent runner) and runs
// it to its end. It reports false when there was none, or when the register
// cannot be read now (a read replica down or behind): then no job is
// claimed, and the worker's next round asks again. A job that fails is
// marked failed with its reason; the error is for the caller's log.
func (r *Runner) RunOnce(ctx context.Context) (bool, error) {
	cfg := r.withDefaults()
	if cfg.DB == nil || cfg.Dir == "" {
		return false, errors.New("extract: runner needs a database and a result directory")
	}
	// Rule AA-16: a job started while the register cannot be read would log
	// an "extract start" (or "resume") it cannot follow with any data, at
	// every round of the outage. The replica's monitor logs the outage.
	if cfg.DB.RegisterReady() != nil {
		return false, nil
	}
	claim := uuid.NewString()
	job, ok, err := cfg.DB.ClaimExtract(ctx, claim, cfg.Now().Add(-cfg.StaleAfter))
	if err != nil || !ok {
		return false, err
	}
	return true, cfg.run(ctx, job, claim)
}

// RunAll runs jobs until none is waiting.
func (r *Runner) RunAll(ctx context.Context) error {
	for {
		ok, err := r.RunOnce(ctx)
		if err != nil || !ok {
			return err
		}
	}
}

// deniedError: the consumer may no longer have the extract.
type deniedError struct {
	reason access.Reason
	detail string
}

func (e *deniedError) Error() string { return "extract denied: " + string(e.reason) }

// jobRun is one runner's pass over one job.
type jobRun struct {
	r     Runner
	job   Job
	claim string
	cat   *access.Catalogue
	paths []string // the projection's element paths, as the job was ordered
	// plan is the access decision with consent planned (Rule SK-08), made
	// again for every batch by the lookup pipeline's rules.
	plan *lookup.Plan
	cols csvColumns
	sess Session
	// screened counts person units withheld for a protected address (Rule AA-11).
	screened int

	// The batch being written.
	f        *os.File
	tmp      string
	bw       *bufio.Writer
	cw       *csv.Writer
	sum      hash.Hash
	count    int
	persons  map[string]struct{}
	n        int
	written  int64
	subjects []string
	line     []byte
	cells    []string
	lastBeat time.Time
}

func (r Runner) run(ctx context.Context, job Job, claim string) error {
	jr := &jobRun{r: r, job: job, claim: claim, n: job.Batches, written: job.Written, persons: map[string]struct{}{}}
	r.Log.Info("extract job started", "job", job.ID, "consumer", job.Consumer, "resumed_at_batch", job.Batches)
	start := time.Now()
	err := jr.run(ctx)
	jr.closeTemp()
	var denied *deniedError
	switch {
	case err == nil:
		r.Log.Info("extract job done", "job", job.ID, "consumer", job.Consumer, "batches", jr.n, "bytes", jr.written, "took", time.Since(start).Round(time.Millisecond))
		return nil
	case errors.Is(err, ErrLostClaim):
		// Deleted, or taken over by another runner: that one carries on.
		r.Log.Info("extract job claim lost; stopping", "job", job.ID)
		return nil
	case ctx.Err() != nil, errors.Is(err, register.ErrUnavailable):
		// Shutting down, or the register cannot be read now (a read replica
		// down or behind): back in the queue, to resume from the last whole
		// batch; RunAll stops on the latter's error and tries at its next round.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if rerr := r.DB.ReleaseExtract(rctx, job.ID, claim); rerr != nil && !errors.Is(rerr, ErrLostClaim) {
			return fmt.Errorf("release extract %s: %w", job.ID, rerr)
		}
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("extract job %s back in the queue: %w", job.ID, err)
	case errors.As(err, &denied):
		return jr.fail(ctx, denied.detail, audit.Deny, string(denied.reason))
	}
	r.Log.Error("extract job failed", "job", job.ID, "err", err)
	if ferr := jr.fail(ctx, "Uttrekket feilet på grunn av en intern feil. Oppgi jobb-id-en ved henvendelse.", audit.Permit, "error"); ferr != nil {
		return errors.Join(err, ferr)
	}
	return err
}

// fail ends the job as failed. Its files are deleted at once: a failed
// extract is never served, and nothing is kept that no one may fetch. Only
// once the job is marked failed under this runner's claim: a runner that lost
// the job (another took it over, or it was deleted) removes only its own
// unfinished batch, never the batches another runner committed.
func (jr *jobRun) fail(ctx context.Context, why, decision, reason string) error {
	ctx = context.WithoutCancel(ctx)
	rec := jr.record("extract failed", map[string]any{"jobbid": jr.job.ID, "feil": why})
	rec.Decision, rec.Reason = decision, reason
	err := jr.r.DB.FinishExtract(ctx, jr.job.ID, jr.claim, StatusFailed, why, jr.job.UnitsDone, jr.r.Now().Add(jr.r.TTL), rec)
	if errors.Is(err, ErrLostClaim) {
		jr.closeTemp()
		jr.r.Log.Info("extract job claim lost while failing; its files are left to the job's runner", "job", jr.job.ID)
		return nil
	}
	if err != nil {
		return err
	}
	if err := RemoveJob(jr.r.Dir, jr.job.ID); err != nil {
		jr.r.Log.Error("remove failed extract's files", "job", jr.job.ID, "err", err)
	}
	return nil
}

// catalogueOf makes a catalogue of the package definitions the job was ordered under.
func catalogueOf(pkgs []access.Package) (*access.Catalogue, error) {
	b, err := json.Marshal(map[string]any{"packages": pkgs})
	if err != nil {
		return nil, err
	}
	return access.ParseCatalogue(b)
}

// decide runs the access decision again, with the consumer's grants as they
// are now: a suspension or an ending stops a running extract at its next
// batch (Rules AA-25, AA-26). The elements are those of the packages the job
// was ordered under that the consumer still has; if they changed, the job
// fails rather than mix batches of different content (Rules AA-02, AA-07).
// Consent (Rule SK-08) is planned as for every lookup, and consents are read
// afresh in every batch: one withdrawn while a long job runs is no longer
// honoured from the next batch on.
func (jr *jobRun) decide(ctx context.Context) error {
	in, err := jr.r.DB.AccessInputs(ctx, jr.job.Consumer, jr.job.Processor)
	if err != nil {
		return err
	}
	req := access.Request{Consumer: jr.job.Consumer, Processor: jr.job.Processor, Channel: access.ChannelExtract,
		Env: jr.job.Env, Kind: jr.job.Kind, History: jr.job.History}
	plan, err := lookup.NewPlan(req, in, jr.cat, jr.r.Now(), func(ctx context.Context, person string, purposes []string) (bool, error) {
		return jr.r.DB.HasValidConsent(ctx, person, jr.job.Consumer, purposes, jr.r.Now())
	})
	var denied *lookup.Denied
	switch {
	case errors.As(err, &denied):
		return &deniedError{reason: denied.Reason, detail: "Tilgangen til uttrekket gjelder ikke lenger (" + string(denied.Reason) + ")."}
	case err != nil:
		return err
	}
	if jr.job.Kind != access.ByArbeidstaker {
		// Rule SK-08: on consent alone, only persons, one by one.
		if err := plan.KeyedOn(""); errors.As(err, &denied) {
			return &deniedError{reason: denied.Reason, detail: denied.Text}
		}
	}
	if !slices.Equal(plan.Full().Projection.Paths(), jr.paths) {
		return &deniedError{reason: "grant-changed", detail: "Vedtaket er endret siden uttrekket ble bestilt; bestill uttrekket på nytt."}
	}
	jr.plan = plan
	return nil
}

// record is a lookup-log record of this job (Rule AA-16).
func (jr *jobRun) record(op string, req any) *audit.Record {
	b, _ := json.Marshal(req)
	rec := &audit.Record{Kind: audit.KindLookup, Channel: string(access.ChannelExtract), Consumer: jr.job.Consumer, Processor: jr.job.Processor,
		ClientID: jr.job.ClientID, EndUser: jr.job.EndUser, CorrelationID: jr.job.CorrelationID, Operation: op, Request: b, Decision: audit.Permit}
	if jr.plan != nil { // nil: denied before the job was ever planned
		rec.Grants = jr.plan.Decision().GrantRefs()
	}
	return rec
}

// LogQuery is how the log records what an extract contains.
type LogQuery struct {
	JobbID    string           `json:"jobbid"`
	Type      access.QueryKind `json:"type"`
	Kriterier Query            `json:"kriterier"`
	Format    string           `json:"format"`
	Historikk bool             `json:"historikk,omitempty"`
}

func (jr *jobRun) run(ctx context.Context) error {
	var err error
	if jr.cat, err = catalogueOf(jr.job.Packages); err != nil {
		return &deniedError{reason: access.DenyNoGrant, detail: "Uttrekket har ingen rettighetspakker."}
	}
	all := make([]string, 0, len(jr.job.Packages))
	for _, p := range jr.job.Packages {
		all = append(all, p.Ref())
	}
	full, err := jr.cat.Projection(all)
	if err != nil {
		return err
	}
	jr.paths = full.Paths()
	jr.cols = newCSVColumns(jr.paths)
	if err := jr.decide(ctx); err != nil {
		return err
	}
	if err := os.MkdirAll(JobDir(jr.r.Dir, jr.job.ID), 0o700); err != nil {
		return err
	}
	jr.removeOthersTemp()
	// Rule AA-16: what the extract contains, and when, before any of it is written.
	op := "extract start"
	if jr.job.Batches > 0 || jr.job.ResumeUnit > 0 || jr.job.ResumeAfter != "" {
		op = "extract resume"
	}
	start := jr.record(op, LogQuery{JobbID: jr.job.ID, Type: jr.job.Kind, Kriterier: jr.job.Query, Format: jr.job.Format, Historikk: jr.job.History})
	if err := jr.r.DB.RegisterReady(); err != nil {
		return err // unavailable since the claim: back in the queue, nothing logged
	}
	if err := jr.r.DB.Append(ctx, start); err != nil {
		return err
	}
	sess, err := jr.r.DB.ExtractSession()
	if err != nil {
		return err
	}
	defer sess.Close()
	jr.sess = sess
	jr.lastBeat = jr.r.Now()
	units := jr.job.Query.Units
	unit, after := jr.job.ResumeUnit, jr.job.ResumeAfter
	var docs []register.Doc
	found := 0 // the unit's arbeidsforhold found so far
	for unit < len(units) {
		// A person the plan gives nothing of (Rule SK-08) is not read at all,
		// as in every lookup keyed on a person; nor is it screened.
		withheld := false
		if jr.job.Kind == access.ByArbeidstaker && after == "" {
			_, ok, err := jr.plan.View(ctx, units[unit])
			if err != nil {
				return err
			}
			withheld = !ok
		}
		if withheld {
			docs = docs[:0]
		} else if docs, err = sess.Docs(ctx, jr.job.Kind, jr.job.Query, units[unit], after, jr.r.PageSize, docs); err != nil {
			return err
		}
		found += len(docs)
		for i := range docs {
			doc := &docs[i]
			after = doc.UUID
			v, ok, err := jr.plan.View(ctx, doc.Arbeidstaker)
			if err != nil {
				return err
			}
			if !ok {
				continue // Rule SK-08: no consent, and nothing without it
			}
			if err := jr.write(doc, v); err != nil {
				return err
			}
			if jr.count == jr.r.BatchSize {
				if err := jr.commit(ctx, unit, after); err != nil {
					return err
				}
			}
		}
		if len(docs) < jr.r.PageSize {
			if jr.job.Kind == access.ByArbeidstaker && found == 0 && !withheld {
				screened, err := lookup.Screened(ctx, jr.r.DB, units[unit])
				if err != nil {
					return err
				}
				if screened {
					jr.screened++
				}
			}
			unit, after, found = unit+1, "", 0
		}
		if now := jr.r.Now(); now.Sub(jr.lastBeat) >= jr.r.HeartbeatEvery {
			if err := jr.r.DB.ExtractHeartbeat(ctx, jr.job.ID, jr.claim, unit); err != nil {
				return err
			}
			jr.lastBeat = now
		}
	}
	if jr.count > 0 {
		if err := jr.commit(ctx, len(units), ""); err != nil {
			return err
		}
	}
	jr.job.UnitsDone = len(units)
	done := jr.record("extract done", map[string]any{"jobbid": jr.job.ID, "batcher": jr.n, "arbeidsforhold": jr.written})
	if jr.screened > 0 {
		// Rule AA-11: persons named in the extract were withheld; the log alone says so, as for every lookup.
		done.Decision = audit.Screened
	}
	done.ResultCount = int(jr.written)
	return jr.r.DB.FinishExtract(ctx, jr.job.ID, jr.claim, StatusDone, "", len(units), jr.r.Now().Add(jr.r.TTL), done)
}

// write adds one arbeidsforhold, minimised to the grant's elements with the
// API's projection (Rules AA-02, AA-07), to the batch being written.
func (jr *jobRun) write(doc *register.Doc, v lookup.View) error {
	if jr.f == nil {
		if err := jr.open(); err != nil {
			return err
		}
	}
	var err error
	if jr.line, err = v.Projection.Append(jr.line[:0], doc.Doc, v.Options()); err != nil {
		return fmt.Errorf("project %s: %w", doc.UUID, err)
	}
	if jr.job.Format == FormatCSV {
		if jr.cells, err = jr.cols.row(jr.line, jr.cells); err != nil {
			return err
		}
		if err := jr.cw.Write(jr.cells); err != nil {
			return err
		}
	} else {
		jr.line = append(jr.line, '\n')
		if _, err := jr.bw.Write(jr.line); err != nil {
			return err
		}
	}
	jr.count++
	jr.subjects = lookup.AppendSubjects(jr.subjects[:0], doc)
	for _, id := range jr.subjects {
		jr.persons[id] = struct{}{}
	}
	return nil
}

// open starts a batch file under a temporary name of this runner's own.
func (jr *jobRun) open() error {
	jr.tmp = filepath.Join(JobDir(jr.r.Dir, jr.job.ID), strconv.Itoa(jr.n)+"."+jr.claim+".tmp")
	f, err := os.OpenFile(jr.tmp, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	jr.f, jr.sum = f, sha256.New()
	jr.bw = bufio.NewWriterSize(io.MultiWriter(f, jr.sum), 256<<10)
	if jr.job.Format == FormatCSV {
		jr.cw = csv.NewWriter(jr.bw)
		return jr.cw.Write(jr.cols.header)
	}
	return nil
}

// commit makes the batch whole: flushed and synced, the access decision
// checked again, renamed into place, and then recorded in the database with
// its log record naming every person in it (Rule AA-16) — only from that
// commit on is the batch served. The next batch starts at (unit, after).
func (jr *jobRun) commit(ctx context.Context, unit int, after string) error {
	if jr.cw != nil {
		jr.cw.Flush()
		if err := jr.cw.Error(); err != nil {
			return err
		}
	}
	if err := jr.bw.Flush(); err != nil {
		return err
	}
	if err := jr.f.Sync(); err != nil {
		return err
	}
	if err := jr.f.Close(); err != nil {
		return err
	}
	jr.f = nil
	if err := jr.decide(ctx); err != nil {
		return err
	}
	// The final name is this runner's own (it holds the claim): were the claim
	// lost, the rename cannot touch a batch another runner committed. Until
	// the commit below succeeds the file is still ours to remove (closeTemp).
	name := BatchName(jr.n, jr.claim, jr.job.Format)
	final := filepath.Join(JobDir(jr.r.Dir, jr.job.ID), name)
	if err := os.Rename(jr.tmp, final); err != nil {
		return err
	}
	jr.tmp = final
	persons := make([]string, 0, len(jr.persons))
	for p := range jr.persons {
		persons = append(persons, p)
	}
	slices.Sort(persons)
	sum := hex.EncodeToString(jr.sum.Sum(nil))
	rec := jr.record("extract batch", map[string]any{"jobbid": jr.job.ID, "batch": jr.n})
	rec.Returned, rec.ResultCount, rec.ResponseHash = persons, jr.count, sum
	p := Progress{UnitsDone: unit, Written: jr.written + int64(jr.count), ResumeUnit: unit, ResumeAfter: after}
	if err := jr.sess.CommitBatch(ctx, jr.job.ID, jr.claim, Batch{N: jr.n, Records: jr.count, SHA256: sum, File: name}, p, rec); err != nil {
		return err
	}
	jr.tmp = ""
	jr.job.UnitsDone = unit
	jr.n, jr.written, jr.count = jr.n+1, jr.written+int64(jr.count), 0
	clear(jr.persons)
	jr.lastBeat = jr.r.Now()
	if jr.r.afterCommit != nil {
		jr.r.afterCommit(jr.n - 1)
	}
	return nil
}

// closeTemp closes and removes a batch that was not made whole.
func (jr *jobRun) closeTemp() {
	if jr.f != nil {
		jr.f.Close()
		jr.f = nil
	}
	if jr.tmp != "" {
		os.Remove(jr.tmp)
		jr.tmp = ""
	}
}

// removeOthersTemp removes half-written batches of earlier runners of this
// job (they died), and batches they renamed into place but never committed
// (numbered from the job's first uncommitted batch on). Committed batches stay.
func (jr *jobRun) removeOthersTemp() {
	entries, err := os.ReadDir(JobDir(jr.r.Dir, jr.job.ID))
	if err != nil {
		return
	}
	for _, e := range entries {
		name := e.Name()
		if strings.Contains(name, jr.claim) {
			continue
		}
		uncommitted := strings.HasSuffix(name, ".tmp")
		if num, _, ok := strings.Cut(name, "."); ok && !uncommitted {
			n, err := strconv.Atoi(num)
			uncommitted = err == nil && n >= jr.job.Batches
		}
		if uncommitted {
			os.Remove(filepath.Join(JobDir(jr.r.Dir, jr.job.ID), name))
		}
	}
}

// Expire deletes the files of results past their time and marks their jobs
// expired, and deletes directories no job owns any more (a job deleted while
// it ran). It returns how many jobs expired.
func (r *Runner) Expire(ctx context.Context) (int, error) {
	cfg := r.withDefaults()
	n := 0
	for {
		due, err := cfg.DB.DueExtracts(ctx, cfg.Now(), 100)
		if err != nil {
			return n, err
		}
		for _, j := range due {
			if err := RemoveJob(cfg.Dir, j.ID); err != nil {
				return n, err
			}
			if err := cfg.DB.ExpireExtract(ctx, j.ID); err != nil {
				return n, err
			}
			n++
		}
		if len(due) < 100 {
			break
		}
	}
	entries, err := os.ReadDir(cfg.Dir)
	if errors.Is(err, os.ErrNotExist) {
		return n, nil
	}
	if err != nil {
		return n, err
	}
	for _, e := range entries {
		// Only canonical job directories: uuid.Parse also takes other spellings of an id.
		if u, perr := uuid.Parse(e.Name()); !e.IsDir() || perr != nil || u.String() != e.Name() {
			continue
		}
		j, err := cfg.DB.Extract(ctx, e.Name())
		switch {
		case errors.Is(err, ErrNotFound) || (err == nil && j.Status == StatusExpired):
			if err := RemoveJob(cfg.Dir, e.Name()); err != nil {
				return n, err
			}
		case err != nil:
			return n, err
		}
	}
	return n, nil
}

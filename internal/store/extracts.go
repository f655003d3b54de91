package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"deling/internal/access"
	"deling/internal/audit"
	"deling/internal/extract"
	"deling/internal/register"
)

// Extracts (uttrekk): a consumer's asynchronous job that writes the
// arbeidsforhold of many persons or employers to batch files. This file keeps
// the jobs and reads the register for them; package extract defines the jobs
// and runs them.

// *DB is the store an extract runner needs.
var _ extract.Store = (*DB)(nil)

// extractNotFound is an extract job or batch that is not there: ErrNotFound,
// as store's callers expect, and extract.ErrNotFound, as the runner (which
// does not import store) expects.
type extractNotFound struct{}

func (extractNotFound) Error() string   { return ErrNotFound.Error() }
func (extractNotFound) Unwrap() []error { return []error{ErrNotFound, extract.ErrNotFound} }

const extractColumns = `id, consumer, processor, client_id, end_user, correlation_id, env, kind, format, history, packages,
	status, error, units_total, units_done, written, batches, resume_unit, resume_after, claim,
	heartbeat_at, created_at, started_at, finished_at, expires_at`

func scanExtract(sc interface{ Scan(...any) error }, extra ...any) (extract.Job, error) {
	var (
		j                                          extract.Job
		env, kind, status, packages                string
		unitsTotal, unitsDone, batches, resumeUnit int64
		created                                    int64
		heartbeat, started, finished, expires      sql.NullInt64
	)
	dst := []any{&j.ID, &j.Consumer, &j.Processor, &j.ClientID, &j.EndUser, &j.CorrelationID, &env, &kind, &j.Format, &j.History, &packages,
		&status, &j.Error, &unitsTotal, &unitsDone, &j.Written, &batches, &resumeUnit, &j.ResumeAfter, &j.Claim,
		&heartbeat, &created, &started, &finished, &expires}
	if err := sc.Scan(append(dst, extra...)...); err != nil {
		return j, err
	}
	j.Env, j.Kind, j.Status = register.Env(env), access.QueryKind(kind), extract.Status(status)
	j.UnitsTotal, j.UnitsDone, j.Batches, j.ResumeUnit = int(unitsTotal), int(unitsDone), int(batches), int(resumeUnit)
	j.CreatedAt = fromMicros(created)
	for _, t := range []struct {
		dst *time.Time
		v   sql.NullInt64
	}{{&j.HeartbeatAt, heartbeat}, {&j.StartedAt, started}, {&j.FinishedAt, finished}, {&j.ExpiresAt, expires}} {
		if t.v.Valid {
			*t.dst = fromMicros(t.v.Int64)
		}
	}
	if err := json.Unmarshal([]byte(packages), &j.Packages); err != nil {
		return j, fmt.Errorf("extract %s: packages: %w", j.ID, err)
	}
	return j, nil
}

// appendInTx writes a lookup-log record in the caller's transaction, so that
// a change and its record are stored together or not at all (Rule AA-16).
func (db *DB) appendInTx(ctx context.Context, tx *sql.Tx, rec *audit.Record) error {
	if rec == nil {
		return nil
	}
	if rec.ID == "" {
		rec.ID = newID()
	}
	if rec.Time.IsZero() {
		rec.Time = db.now().UTC()
	}
	e, err := audit.NewEntry(rec)
	if err != nil {
		return err
	}
	return db.appendEntries(ctx, tx, []audit.Entry{e})
}

// CreateExtract stores a new queued job and its log record in one
// transaction. An organisation has at most maxActive jobs queued or running
// at once; one more gives extract.ErrTooMany and stores nothing. j.ID may be
// set by the caller (so that rec can name it); it is made if empty.
func (db *DB) CreateExtract(ctx context.Context, j extract.Job, maxActive int, rec *audit.Record) (extract.Job, error) {
	if j.ID == "" {
		j.ID = newID()
	}
	if j.Query.Units == nil {
		j.Query.Units = []string{}
	}
	query, err := json.Marshal(j.Query)
	if err != nil {
		return j, err
	}
	packages, err := json.Marshal(j.Packages)
	if err != nil {
		return j, err
	}
	j.Status, j.CreatedAt, j.UnitsTotal = extract.StatusQueued, db.now().UTC(), len(j.Query.Units)
	err = db.inTx(ctx, func(tx *sql.Tx) error {
		// Two nodes creating jobs for one organisation take turns, so the limit holds.
		if err := db.takeTurns(ctx, tx, "extract:"+j.Consumer); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM extract_jobs WHERE consumer = $1 AND status IN ('venter', 'kjorer')`, j.Consumer).Scan(&n); err != nil {
			return err
		}
		if n >= maxActive {
			return extract.ErrTooMany
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO extract_jobs (id, consumer, processor, client_id, end_user, correlation_id, env, kind, query,
			format, history, packages, status, units_total, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
			j.ID, j.Consumer, j.Processor, j.ClientID, j.EndUser, j.CorrelationID, string(j.Env), string(j.Kind), string(query),
			j.Format, j.History, string(packages), string(j.Status), int64(j.UnitsTotal), micros(j.CreatedAt)); err != nil {
			return fmt.Errorf("insert extract: %w", err)
		}
		return db.appendInTx(ctx, tx, rec)
	})
	if err != nil {
		if errors.Is(err, extract.ErrTooMany) {
			return j, err
		}
		return j, fmt.Errorf("create extract: %w", err)
	}
	return j, nil
}

// Extract loads a job (without its list of units); ErrNotFound if there is none.
func (db *DB) Extract(ctx context.Context, id string) (extract.Job, error) {
	j, err := scanExtract(db.read.queryRow(ctx, `SELECT `+extractColumns+` FROM extract_jobs WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return j, fmt.Errorf("extract %s: %w", id, extractNotFound{})
	}
	if err != nil {
		return j, fmt.Errorf("load extract %s: %w", id, err)
	}
	return j, nil
}

// Extracts lists an organisation's jobs, newest first, at most limit.
func (db *DB) Extracts(ctx context.Context, consumer string, limit int) ([]extract.Job, error) {
	return db.extracts(ctx, `SELECT `+extractColumns+` FROM extract_jobs WHERE consumer = $1 ORDER BY created_at DESC, id DESC LIMIT $2`, consumer, limit)
}

// extracts lists the jobs a query selects.
func (db *DB) extracts(ctx context.Context, query string, args ...any) ([]extract.Job, error) {
	rows, err := db.read.query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("list extracts: %w", err)
	}
	defer rows.Close()
	var out []extract.Job
	for rows.Next() {
		j, err := scanExtract(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, j)
	}
	return out, rows.Err()
}

// ClaimExtract takes the oldest queued job, or a running one whose runner has
// not been heard from since staleBefore (it crashed: the job resumes), for the
// runner holding claim. It returns false when there is none. The claim is a
// compare-and-set on the row, so two runners on one database never hold the
// same job.
func (db *DB) ClaimExtract(ctx context.Context, claim string, staleBefore time.Time) (extract.Job, bool, error) {
	now := micros(db.now())
	for range 5 {
		var id, old string
		err := db.read.queryRow(ctx, `SELECT id, claim FROM extract_jobs
			WHERE status = 'venter' OR (status = 'kjorer' AND heartbeat_at < $1) ORDER BY created_at, id LIMIT 1`, micros(staleBefore)).Scan(&id, &old)
		if errors.Is(err, sql.ErrNoRows) {
			return extract.Job{}, false, nil
		}
		if err != nil {
			return extract.Job{}, false, fmt.Errorf("find extract to run: %w", err)
		}
		res, err := db.write.ExecContext(ctx, `UPDATE extract_jobs SET status = 'kjorer', claim = $1, heartbeat_at = $2, started_at = COALESCE(started_at, $2)
			WHERE id = $3 AND claim = $4 AND (status = 'venter' OR (status = 'kjorer' AND heartbeat_at < $5))`,
			claim, now, id, old, micros(staleBefore))
		if err != nil {
			return extract.Job{}, false, fmt.Errorf("claim extract %s: %w", id, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			continue // another runner was first; look again
		}
		var query string
		j, err := scanExtract(db.write.QueryRowContext(ctx, `SELECT `+extractColumns+`, query FROM extract_jobs WHERE id = $1`, id), &query)
		if err != nil {
			return j, false, fmt.Errorf("load extract %s: %w", id, err)
		}
		if err := json.Unmarshal([]byte(query), &j.Query); err != nil {
			return j, false, fmt.Errorf("extract %s: query: %w", id, err)
		}
		return j, true, nil
	}
	return extract.Job{}, false, nil
}

// claimed runs fn in a transaction after checking that claim still holds the running job.
func (db *DB) claimed(ctx context.Context, id, claim string, set string, args []any, fn func(tx *sql.Tx) error) error {
	return db.claimedOn(ctx, db.write, id, claim, set, args, fn)
}

func (db *DB) claimedOn(ctx context.Context, w *pool, id, claim string, set string, args []any, fn func(tx *sql.Tx) error) error {
	return w.inTx(ctx, func(tx *sql.Tx) error {
		args = append(args, id, claim)
		n := len(args)
		res, err := tx.ExecContext(ctx, `UPDATE extract_jobs SET `+set+fmt.Sprintf(` WHERE id = $%d AND claim = $%d AND status = 'kjorer'`, n-1, n), args...)
		if err != nil {
			return fmt.Errorf("update extract %s: %w", id, err)
		}
		if k, _ := res.RowsAffected(); k == 0 {
			return fmt.Errorf("extract %s: %w", id, extract.ErrLostClaim)
		}
		if fn != nil {
			return fn(tx)
		}
		return nil
	})
}

// ExtractHeartbeat tells other runners that the job's runner is alive, and
// records progress for display. extract.ErrLostClaim: stop.
func (db *DB) ExtractHeartbeat(ctx context.Context, id, claim string, unitsDone int) error {
	return db.claimed(ctx, id, claim, `heartbeat_at = $1, units_done = $2`, []any{micros(db.now()), int64(unitsDone)}, nil)
}

// CommitExtractBatch records a whole batch (its file already in place), the
// point the next batch starts from, and the batch's log record, in one
// transaction: a batch is served only once this has committed, and never
// without its record.
func (db *DB) CommitExtractBatch(ctx context.Context, id, claim string, b extract.Batch, p extract.Progress, rec *audit.Record) error {
	return db.commitExtractBatch(ctx, db.write, id, claim, b, p, rec)
}

func (db *DB) commitExtractBatch(ctx context.Context, w *pool, id, claim string, b extract.Batch, p extract.Progress, rec *audit.Record) error {
	return db.claimedOn(ctx, w, id, claim, `heartbeat_at = $1, units_done = $2, written = $3, batches = $4, resume_unit = $5, resume_after = $6`,
		[]any{micros(db.now()), int64(p.UnitsDone), p.Written, int64(b.N + 1), int64(p.ResumeUnit), p.ResumeAfter},
		func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, `INSERT INTO extract_batches (job_id, n, records, sha256, file) VALUES ($1, $2, $3, $4, $5)
				ON CONFLICT (job_id, n) DO UPDATE SET records = excluded.records, sha256 = excluded.sha256, file = excluded.file`,
				id, int64(b.N), int64(b.Records), b.SHA256, b.File); err != nil {
				return fmt.Errorf("insert extract batch: %w", err)
			}
			return db.appendInTx(ctx, tx, rec)
		})
}

// FinishExtract ends a running job as done or failed, with its log record.
// The result is kept until expires. A failed job's batches are forgotten at
// once: a failed extract is never served (the runner deletes its files).
func (db *DB) FinishExtract(ctx context.Context, id, claim string, status extract.Status, reason string, unitsDone int, expires time.Time, rec *audit.Record) error {
	now := micros(db.now())
	return db.claimed(ctx, id, claim, `status = $1, error = $2, units_done = $3, finished_at = $4, heartbeat_at = $4, expires_at = $5, claim = ''`,
		[]any{string(status), reason, int64(unitsDone), now, micros(expires)},
		func(tx *sql.Tx) error {
			if status == extract.StatusFailed {
				if _, err := tx.ExecContext(ctx, `DELETE FROM extract_batches WHERE job_id = $1`, id); err != nil {
					return fmt.Errorf("delete extract batches: %w", err)
				}
			}
			return db.appendInTx(ctx, tx, rec)
		})
}

// ReleaseExtract puts a running job back in the queue, keeping its progress
// (the runner is stopping); the next runner resumes it.
func (db *DB) ReleaseExtract(ctx context.Context, id, claim string) error {
	return db.claimed(ctx, id, claim, `status = 'venter', claim = ''`, nil, nil)
}

// ExtractBatchInfo is a whole batch of a job; ErrNotFound if it is not (yet) whole.
func (db *DB) ExtractBatchInfo(ctx context.Context, id string, n int) (extract.Batch, error) {
	b := extract.Batch{N: n}
	var records int64
	err := db.read.queryRow(ctx, `SELECT records, sha256, file FROM extract_batches WHERE job_id = $1 AND n = $2`, id, int64(n)).Scan(&records, &b.SHA256, &b.File)
	if errors.Is(err, sql.ErrNoRows) {
		return b, fmt.Errorf("extract %s batch %d: %w", id, n, extractNotFound{})
	}
	if err != nil {
		return b, fmt.Errorf("load extract batch: %w", err)
	}
	b.Records = int(records)
	return b, nil
}

// DeleteExtract removes a job (a running one's runner stops at its next
// step) and writes rec, in one transaction; ErrNotFound if there is none.
// The caller deletes the files.
func (db *DB) DeleteExtract(ctx context.Context, id string, rec *audit.Record) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM extract_jobs WHERE id = $1`, id)
		if err != nil {
			return fmt.Errorf("delete extract: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("extract %s: %w", id, extractNotFound{})
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM extract_batches WHERE job_id = $1`, id); err != nil {
			return fmt.Errorf("delete extract batches: %w", err)
		}
		return db.appendInTx(ctx, tx, rec)
	})
}

// DueExtracts lists finished or failed jobs whose result expired at now, at most limit.
func (db *DB) DueExtracts(ctx context.Context, now time.Time, limit int) ([]extract.Job, error) {
	return db.extracts(ctx, `SELECT `+extractColumns+` FROM extract_jobs
		WHERE status IN ('ferdig', 'feilet') AND expires_at <= $1 ORDER BY expires_at LIMIT $2`, micros(now), limit)
}

// ExpireExtract marks a job's result as deleted (the caller deleted the
// files) and forgets the persons and employers it named: the log keeps the query.
func (db *DB) ExpireExtract(ctx context.Context, id string) error {
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE extract_jobs SET status = 'utlopt', query = '{"enheter":[]}', claim = '' WHERE id = $1 AND status IN ('ferdig', 'feilet')`, id)
		if err != nil {
			return err
		}
		if k, _ := res.RowsAffected(); k == 0 {
			return nil
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM extract_batches WHERE job_id = $1`, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("expire extract %s: %w", id, err)
	}
	return nil
}

// extractColumn is the arbeidsforhold column a query kind selects on.
func extractColumn(kind access.QueryKind) (string, error) {
	switch kind {
	case access.ByArbeidstaker:
		return "arbeidstaker", nil
	case access.ByArbeidssted:
		return "arbeidssted", nil
	case access.ByOpplysningspliktig:
		return "opplysningspliktig", nil
	}
	return "", fmt.Errorf("extract: query kind %q selects no arbeidsforhold", kind)
}

// extractSession is a runner's connections for one job, an extract.Session.
// On SQLite they are its own: a reader of the register without memory-mapped
// I/O, whose small page cache is emptied as it streams (shrink), and a
// writer for the job's batches and their log records. An extract reads much of the register once
// and writes a log record naming every person it delivers; through the shared
// pools, the register's pages would be mapped into the process and the log
// writer's cache filled with the extract's index pages, all counted as
// resident memory. Measured on an extract of 1,000,000 arbeidsforhold
// (docs/EXTRACTS.md): 2.3 GB peak through the shared reader's mmap, 0.5 GB
// through the shared writer, 0.25 GB with connections of its own that keep
// their pages, under 0.1 GB as it is. The session's writes also leave the
// lookup log's hot cache alone. Its writer takes SQLite's write lock like the
// shared one (BEGIN IMMEDIATE, waiting up to 10 s), so the log's appends stay
// serialised. On PostgreSQL the session uses the shared pools. Close it when
// done.
type extractSession struct {
	db          *DB
	read, write *pool
	own         bool
	unshrunk    int       // rows read since the reader's cache was last emptied
	restarted   time.Time // when the writer last started deling.db's WAL over
}

// ExtractSession opens a session for an extract job. It returns the
// interface so that *DB is an extract.Store.
func (db *DB) ExtractSession() (extract.Session, error) {
	if db.engine != SQLite {
		return &extractSession{db: db, read: db.regRead, write: db.write}, nil
	}
	r, w, err := openExtractSQLite(db.dir)
	if err != nil {
		return nil, err
	}
	return &extractSession{db: db, read: r, write: w, own: true, restarted: time.Now()}, nil
}

// Close releases the session's connections.
func (s *extractSession) Close() error {
	if !s.own {
		return nil
	}
	var err error
	for _, p := range []*pool{s.read, s.write} {
		p.stmts.Range(func(_, v any) bool { v.(*sql.Stmt).Close(); return true })
		err = errors.Join(err, p.Close())
	}
	return err
}

// CommitBatch is CommitExtractBatch on the session's writer.
func (s *extractSession) CommitBatch(ctx context.Context, id, claim string, b extract.Batch, p extract.Progress, rec *audit.Record) error {
	if err := s.db.commitExtractBatch(ctx, s.write, id, claim, b, p, rec); err != nil {
		return err
	}
	s.restartWAL()
	return nil
}

// Docs reads the next page of one unit's arbeidsforhold for an
// extract: those after the uuid after, in uuid order, at most limit,
// appended to dst[:0]. Keyset paging, so a job streams any number of rows
// with memory bounded by the page. Rule AA-11: protected persons are
// screened out in SQL, exactly as for API lookups (screenedSQL).
func (s *extractSession) Docs(ctx context.Context, kind access.QueryKind, q extract.Query, unit, after string, limit int, dst []register.Doc) ([]register.Doc, error) {
	col, err := extractColumn(kind)
	if err != nil {
		return nil, err
	}
	rq := register.Query{Types: q.Types, Statuses: q.Statuses, At: q.At, After: after, Screened: true}
	switch col {
	case "arbeidstaker":
		rq.Arbeidstaker = unit
	case "arbeidssted":
		rq.Arbeidssted = unit
	default:
		rq.Opplysningspliktig = unit
	}
	where, args, err := whereArbeidsforhold(rq)
	if err != nil {
		return nil, err
	}
	// Period overlap, as the OTP API's ansattFraMaaned/ansattTilMaaned: the ansettelsesperiode meets [From, To].
	if q.To != "" {
		args = append(args, string(q.To))
		where += fmt.Sprintf(" AND startdato <= $%d", len(args))
	}
	if q.From != "" {
		args = append(args, string(q.From))
		where += fmt.Sprintf(" AND (sluttdato IS NULL OR sluttdato >= $%d)", len(args))
	}
	args = append(args, limit)
	query := fmt.Sprintf(`SELECT uuid, arbeidstaker, arbeidssted, opplysningspliktig, person_employer, doc
		FROM arbeidsforhold WHERE %s ORDER BY uuid LIMIT $%d`, where, len(args))
	var rows interface {
		Next() bool
		Scan(...any) error
		Err() error
		Close() error
	}
	if s.own {
		rows, err = s.read.query(ctx, query, args...)
	} else {
		rows, err = s.db.regRows(ctx, replicaPageTimeout, query, args...) // the shared pools: the read replica's when there is one
	}
	if err != nil {
		return nil, fmt.Errorf("extract arbeidsforhold: %w", err)
	}
	defer rows.Close()
	dst = dst[:0]
	for rows.Next() {
		var d register.Doc
		if err := rows.Scan(&d.UUID, &d.Arbeidstaker, &d.Arbeidssted, &d.Opplysningspliktig, &d.PersonEmployer, &d.Doc); err != nil {
			return nil, fmt.Errorf("extract arbeidsforhold: %w", s.db.regErr(err))
		}
		dst = append(dst, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("extract arbeidsforhold: %w", s.db.regErr(err))
	}
	rows.Close()
	s.unshrunk += len(dst) + 1
	return dst, s.shrink(ctx)
}

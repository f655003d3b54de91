package store

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"deling/internal/audit"
	"deling/internal/governance"
	"deling/internal/incident"
)

// Notifying the persons a breach affected (Rule AV-06) as a job. The case
// worker starts it with the notice's text (StartIncidentNotify), a step on
// the case; a single-run job of serve (RunIncidentNotices) computes the list
// again from the lookup log at the computation's checkpoint and sends the
// notice to each person in batches, each batch one transaction that records
// the persons' notices and moves the job's progress on. A restart resumes
// where the last committed batch ended; a person has at most one notice a
// case (incident_person_notices is unique per case and person), so nobody is
// notified twice whatever happens. No identity is stored on the job.

// NotifyBatch is how many persons one transaction of a notification job notifies.
const NotifyBatch = 500

// States of a notification job.
const (
	NotifyRunning  = "running"
	NotifyFinished = "finished"
	// NotifyFailed: the log no longer gives the computation's list (records
	// erased since, or another checkpoint root); a new computation and job are needed.
	NotifyFailed = "failed"
)

// Steps of the history for notifying.
const (
	StepPersonsDone  = "varsling_fullfort"     // a notification job notified its whole list (Rule AV-06)
	StepPublicNotice = "offentlig_kunngjoring" // the case's public notice published (art. 34(3)(c), Rule AV-06)
)

// ErrAffectedChanged is AffectedPersons's error when the log no longer gives
// the list a computation counted.
var ErrAffectedChanged = errors.New("the lookup log no longer gives the computed list")

// IncidentNotifyJob is a job notifying the persons of one computation of who was affected.
type IncidentNotifyJob struct {
	ID, Incident, Computation string
	Subject, Body             string // the notice, as previewed
	Total, Done, Failures     int
	Fresh                     int // of Done, the persons this job gave a notice; the rest had one already (Rule AV-06)
	State, LastError          string
	StartedBy                 string // the actor's name as shown
	StartedAt, FinishedAt     time.Time
}

// AffectedPersons is the list of identities of computation a, computed again
// from the lookup log at its checkpoint, sorted by identity; it fails with
// ErrAffectedChanged when the checkpoint's root or the counts differ from
// when it was computed.
func (db *DB) AffectedPersons(ctx context.Context, a incident.AffectedCount) (audit.AffectedList, error) {
	root, err := db.CheckpointRoot(ctx, a.CheckpointSize)
	if err != nil {
		return audit.AffectedList{}, err
	}
	if base64.StdEncoding.EncodeToString(root) != a.CheckpointRoot {
		return audit.AffectedList{}, fmt.Errorf("affected %s: checkpoint %d has another root than when computed: %w", a.ID, a.CheckpointSize, ErrAffectedChanged)
	}
	l, err := db.Affected(ctx, AffectedScope(a))
	if err != nil {
		return audit.AffectedList{}, err
	}
	if len(l.Persons) != a.Persons || l.Records != a.Records {
		return audit.AffectedList{}, fmt.Errorf("affected %s: the log at checkpoint %d now gives %d persons in %d records, not %d in %d (records erased since?): %w",
			a.ID, a.CheckpointSize, len(l.Persons), l.Records, a.Persons, a.Records, ErrAffectedChanged)
	}
	return l, nil
}

// AffectedScope is the scope computation a was made for.
func AffectedScope(a incident.AffectedCount) audit.Scope {
	return audit.Scope{Consumer: a.Consumer, ClientID: a.ClientID, EndUser: a.EndUser, From: a.From, To: a.To, Size: a.CheckpointSize}
}

// StartIncidentNotify starts job j on case id, which must still be at
// version (else ErrConflict), as a step: the job, the history entry and the
// event in the log in one transaction. A case has one running job at a time
// (else ErrConflict). It returns the job's id.
func (db *DB) StartIncidentNotify(ctx context.Context, id string, version int, j IncidentNotifyJob, actor string) (string, error) {
	j.ID, j.Incident, j.State = newID(), id, NotifyRunning
	now := db.now()
	content, err := json.Marshal(struct {
		Job, Computation, Subject, Body string
		Total                           int
	}{j.ID, j.Computation, j.Subject, j.Body, j.Total})
	if err != nil {
		return "", err
	}
	err = db.inTx(ctx, func(tx *sql.Tx) error {
		var status string
		if err := tx.QueryRowContext(ctx, `UPDATE incidents SET version = version + 1, updated_at = $1 WHERE id = $2 AND version = $3 RETURNING status`,
			micros(now), id, version).Scan(&status); errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("incident %s changed since version %d: %w", id, version, ErrConflict)
		} else if err != nil {
			return err
		}
		var running int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM incident_notify_jobs WHERE incident = $1 AND state = $2`, id, NotifyRunning).Scan(&running); err != nil {
			return err
		}
		if running > 0 {
			return fmt.Errorf("incident %s: a notification job runs already: %w", id, ErrConflict)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO incident_notify_jobs (id, incident, computation, subject, body, total, state, started_at, started_by)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, j.ID, id, j.Computation, j.Subject, j.Body, j.Total, j.State, micros(now), j.StartedBy); err != nil {
			return fmt.Errorf("notify job: %w", err)
		}
		if err := db.incidentHistory(ctx, tx, id, StepPersons, incident.Status(status), j.StartedBy,
			fmt.Sprintf("Varsling av %d personer fra beregning %s startet", j.Total, j.Computation)); err != nil {
			return err
		}
		return db.appendEvent(ctx, tx, audit.KindIncident, "", actor, incidentEvent(id, StepPersons, incident.Status(status), content, 0))
	})
	if err != nil {
		return "", fmt.Errorf("start notifying persons of %s: %w", id, err)
	}
	return j.ID, nil
}

const notifyJobColumns = `id, incident, computation, subject, body, total, done, state, started_at, started_by, finished_at, failures, last_error, fresh`

func scanNotifyJob(row interface{ Scan(...any) error }) (IncidentNotifyJob, error) {
	var (
		j                         IncidentNotifyJob
		total, done, fails, start int64
		fresh                     int64
		finished                  sql.NullInt64
	)
	if err := row.Scan(&j.ID, &j.Incident, &j.Computation, &j.Subject, &j.Body, &total, &done, &j.State, &start, &j.StartedBy, &finished, &fails, &j.LastError, &fresh); err != nil {
		return j, err
	}
	j.Total, j.Done, j.Failures, j.Fresh, j.StartedAt = int(total), int(done), int(fails), int(fresh), fromMicros(start)
	if finished.Valid {
		j.FinishedAt = fromMicros(finished.Int64)
	}
	return j, nil
}

func (db *DB) notifyJobs(ctx context.Context, q string, args ...any) ([]IncidentNotifyJob, error) {
	rows, err := db.read.query(ctx, `SELECT `+notifyJobColumns+` FROM incident_notify_jobs WHERE `+q, args...)
	if err != nil {
		return nil, fmt.Errorf("notify jobs: %w", err)
	}
	defer rows.Close()
	var out []IncidentNotifyJob
	for rows.Next() {
		j, err := scanNotifyJob(rows)
		if err != nil {
			return nil, fmt.Errorf("notify jobs: %w", err)
		}
		out = append(out, j)
	}
	return out, rows.Err()
}

// IncidentNotifyJobs are case id's notification jobs, newest first.
func (db *DB) IncidentNotifyJobs(ctx context.Context, id string) ([]IncidentNotifyJob, error) {
	return db.notifyJobs(ctx, `incident = $1 ORDER BY started_at DESC, id DESC`, id)
}

// RunIncidentNotices carries the running notification jobs on, oldest
// first, batch persons a transaction, at most maxBatches transactions in
// all (0: no limit), and returns how many persons of the jobs' lists it
// went through (each now has the notice). It stops
// between batches when ctx ends. A run that fails is counted on its job
// with the reason; a job whose list the log no longer gives fails for good
// (NotifyFailed). Run by one node at a time (a Single job); were two to run
// at once, a batch whose progress moved meanwhile is rolled back (ErrConflict).
func (db *DB) RunIncidentNotices(ctx context.Context, batch, maxBatches int) (int, error) {
	if batch <= 0 {
		batch = NotifyBatch
	}
	jobs, err := db.notifyJobs(ctx, `state = $1 ORDER BY started_at, id`, NotifyRunning)
	if err != nil {
		return 0, err
	}
	sent := 0
	var errs []error
	for _, j := range jobs {
		n, batches, err := db.runNotifyJob(ctx, j, batch, maxBatches)
		sent += n
		if err != nil && ctx.Err() != nil {
			break // stopped (shutdown, or no longer leading): not the job's failure; the next run resumes
		}
		if err != nil {
			if ferr := db.notifyJobFailed(ctx, j.ID, err); ferr != nil {
				err = errors.Join(err, ferr)
			}
			errs = append(errs, err)
		}
		if maxBatches > 0 {
			if maxBatches -= batches; maxBatches <= 0 {
				break
			}
		}
		if ctx.Err() != nil {
			break
		}
	}
	return sent, errors.Join(errs...)
}

// runNotifyJob notifies j's persons from where it stopped; it returns the
// persons notified and the batches committed.
func (db *DB) runNotifyJob(ctx context.Context, j IncidentNotifyJob, batch, maxBatches int) (int, int, error) {
	c, err := db.Incident(ctx, j.Incident)
	if err != nil {
		return 0, 0, err
	}
	var a *incident.AffectedCount
	for i := range c.Affected {
		if c.Affected[i].ID == j.Computation {
			a = &c.Affected[i]
		}
	}
	if a == nil {
		return 0, 0, fmt.Errorf("notify job %s: computation %s is not on the case: %w", j.ID, j.Computation, ErrAffectedChanged)
	}
	l, err := db.AffectedPersons(ctx, *a)
	if err != nil {
		return 0, 0, err
	}
	if len(l.Persons) != j.Total {
		return 0, 0, fmt.Errorf("notify job %s: %d persons, not %d: %w", j.ID, len(l.Persons), j.Total, ErrAffectedChanged)
	}
	sent, batches := 0, 0
	for done := j.Done; done < j.Total && (maxBatches <= 0 || batches < maxBatches); batches++ {
		if err := ctx.Err(); err != nil {
			return sent, batches, nil // stopped between batches; the next run resumes
		}
		end := min(done+batch, j.Total)
		if err := db.notifyBatch(ctx, j, c.Status, l.Persons[done:end], done, end); err != nil {
			return sent, batches, err
		}
		sent += end - done
		done = end
	}
	return sent, batches, nil
}

// notifyBatch records the notices to persons (the job's list from index
// from up to to) and moves the job's progress from from to to, in one
// transaction; the last batch finishes the job with its history entry and
// its event in the log. A person already notified on the case is skipped
// (incidentPersonNotice).
func (db *DB) notifyBatch(ctx context.Context, j IncidentNotifyJob, status incident.Status, persons []audit.AffectedPerson, from, to int) error {
	now := db.now()
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		fresh := 0
		for _, p := range persons {
			_, isNew, err := db.incidentPersonNotice(ctx, tx, j.Incident, IncidentPersonNotice{PID: p.Ident, Subject: j.Subject, Body: j.Body}, now)
			if err != nil {
				return err
			}
			if isNew {
				fresh++
			}
		}
		state, finished := NotifyRunning, any(nil)
		if to == j.Total {
			state, finished = NotifyFinished, micros(now)
		}
		r, err := tx.ExecContext(ctx, `UPDATE incident_notify_jobs SET done = $1, state = $2, finished_at = $3, fresh = fresh + $7 WHERE id = $4 AND done = $5 AND state = $6`,
			to, state, finished, j.ID, from, NotifyRunning, fresh)
		if err != nil {
			return fmt.Errorf("notify job progress: %w", err)
		}
		if k, _ := r.RowsAffected(); k == 0 {
			return fmt.Errorf("notify job %s moved on meanwhile: %w", j.ID, ErrConflict)
		}
		if state != NotifyFinished {
			return nil
		}
		// Rule AV-06: what this job did, not what the case had: n new, m told before (by an earlier job).
		var total int64
		if err := tx.QueryRowContext(ctx, `SELECT fresh FROM incident_notify_jobs WHERE id = $1`, j.ID).Scan(&total); err != nil {
			return err
		}
		note := fmt.Sprintf("Varslingen fra beregning %s er ferdig: %d nye, %d allerede varslet", j.Computation, total, j.Total-int(total))
		if err := db.incidentHistory(ctx, tx, j.Incident, StepPersonsDone, status, "deling", note); err != nil {
			return err
		}
		return db.appendEvent(ctx, tx, audit.KindIncident, "", "deling", incidentEvent(j.Incident, StepPersonsDone, status, []byte(j.ID+"\n"+note), 0))
	})
	if err != nil {
		return fmt.Errorf("notify batch %d–%d of job %s: %w", from, to, j.ID, err)
	}
	return nil
}

// notifyJobFailed counts a failed run on job id with its reason; a list the
// log no longer gives fails the job for good.
func (db *DB) notifyJobFailed(ctx context.Context, id string, cause error) error {
	state := NotifyRunning
	if errors.Is(cause, ErrAffectedChanged) {
		state = NotifyFailed
	}
	if _, err := db.write.ExecContext(ctx, `UPDATE incident_notify_jobs SET failures = failures + 1, last_error = $1, state = $2 WHERE id = $3 AND state = $4`,
		truncate(cause.Error(), 500), state, id, NotifyRunning); err != nil {
		return fmt.Errorf("notify job %s failure: %w", id, err)
	}
	return nil
}

// PublishIncidentPublicNotice publishes case id's public notice on the
// public notices page (art. 34(3)(c), Rule AV-06) — the notice, its letter
// to subscribing contacts, the history entry and the event in one
// transaction. A case has one public notice: a second is ErrConflict.
func (db *DB) PublishIncidentPublicNotice(ctx context.Context, id string, n governance.Notice, by, actor string) (governance.Notice, error) {
	n.Kind = governance.NoticeNews
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		var status string
		if err := tx.QueryRowContext(ctx, `SELECT status FROM incidents WHERE id = $1`, id).Scan(&status); errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		} else if err != nil {
			return err
		}
		n.ID = newID()
		r, err := tx.ExecContext(ctx, `INSERT INTO incident_public_notices (incident, notice, at) VALUES ($1, $2, $3) ON CONFLICT (incident) DO NOTHING`,
			id, n.ID, micros(db.now()))
		if err != nil {
			return fmt.Errorf("public notice: %w", err)
		}
		if k, _ := r.RowsAffected(); k == 0 {
			return fmt.Errorf("case %s has a public notice: %w", id, ErrConflict)
		}
		if n, err = db.publishNotice(ctx, tx, n, governance.Letter{Subject: n.Title, Body: n.Body}, actor); err != nil {
			return err
		}
		if err := db.incidentHistory(ctx, tx, id, StepPublicNotice, incident.Status(status), by, n.Title); err != nil {
			return err
		}
		return db.appendEvent(ctx, tx, audit.KindIncident, "", actor, incidentEvent(id, StepPublicNotice, incident.Status(status), []byte(n.Title+"\n"+n.Body), 0))
	})
	if err != nil {
		return governance.Notice{}, fmt.Errorf("public notice of %s: %w", id, err)
	}
	return n, nil
}

// incidentNotices fills what the close guard needs to know of the case's
// notices (incident.NoticeState): the newest job and the newest of each
// computation, the persons told on their page only, the public notice, the
// consumers written to, the names of the consumers named and those of them
// not yet written to that no letter can reach (Rule AA-22).
func (db *DB) incidentNotices(ctx context.Context, c *IncidentCase) error {
	var s incident.NoticeState
	jobs, err := db.notifyJobs(ctx, `incident = $1 ORDER BY started_at DESC, id DESC`, c.ID)
	if err != nil {
		return err
	}
	for i, j := range jobs {
		p := incident.NotifyProgress{Computation: j.Computation, Total: j.Total, Done: j.Done,
			Finished: j.State == NotifyFinished, Failed: j.State == NotifyFailed}
		if i == 0 {
			s.Job = &p
		}
		if s.Jobs == nil {
			s.Jobs = map[string]incident.NotifyProgress{}
		}
		if _, ok := s.Jobs[j.Computation]; !ok {
			s.Jobs[j.Computation] = p
		}
	}
	var portal, public int64
	if err := db.read.queryRow(ctx, `SELECT
		(SELECT COUNT(*) FROM incident_person_notices WHERE incident = $1 AND delivery = $2),
		(SELECT COUNT(*) FROM incident_public_notices WHERE incident = $1)`, c.ID, DeliveryPortal).Scan(&portal, &public); err != nil {
		return fmt.Errorf("incident notices: %w", err)
	}
	s.PortalOnly, s.PublicNotice = int(portal), public > 0
	err = db.read.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		if s.Lettered, err = idsIn(ctx, tx, `SELECT DISTINCT consumer FROM incident_consumer_letters WHERE incident = $1 ORDER BY consumer`, c.ID); err != nil {
			return fmt.Errorf("incident letters: %w", err)
		}
		for _, a := range c.Affected {
			for _, orgnr := range a.Consumers {
				if _, ok := s.Names[orgnr]; ok {
					continue
				}
				if s.Names == nil {
					s.Names = map[string]string{}
				}
				var navn string
				if err := tx.QueryRowContext(ctx, `SELECT navn FROM consumers WHERE orgnr = $1`, orgnr).Scan(&navn); err != nil && !errors.Is(err, sql.ErrNoRows) {
					return fmt.Errorf("incident consumer %s: %w", orgnr, err)
				}
				s.Names[orgnr] = navn
			}
		}
		c.Notices = s
		for _, orgnr := range c.UnletteredConsumers() {
			to, err := letterRecipients(ctx, tx, orgnr)
			if err != nil {
				return err
			}
			if len(to) == 0 {
				s.NoRecipients = append(s.NoRecipients, orgnr)
			}
		}
		return nil
	})
	c.Notices = s
	return err
}

package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"deling/internal/access"
	"deling/internal/audit"
	"deling/internal/governance"
	"deling/internal/incident"
)

// Breach cases (avvik; issue 12). internal/incident decides what may happen
// to a case and when things are due; this file keeps the case and carries out
// each step in one transaction with its history entry, its event in the
// lookup log (audit.KindIncident, Rule AV-07) and whatever letters and
// suspension go with it.

// IncidentCase is a breach case as stored.
type IncidentCase struct {
	incident.Breach
	Version    int // changes with every step; a step on an older version is refused (ErrConflict)
	UpdatedAt  time.Time
	RemindedTo time.Time      // the deadline reminders are sent up to here
	History    []IncidentStep // oldest first; only Incident fills it
}

// IncidentStep is one entry of a case's history: who did what, when.
type IncidentStep struct {
	At     time.Time
	Step   string
	Status incident.Status
	By     string // the actor's name as shown
	Note   string
}

// Steps of the history beside incident's transitions.
const (
	StepMeasure  = "tiltak"           // an immediate measure recorded (Rule AV-02)
	StepRisk     = "risikovurdering"  // the risk assessment recorded (Rule AV-04)
	StepDecision = "beslutning"       // the decision on notifying recorded (Rules AV-04, AV-06)
	StepReminder = "paminnelse"       // a deadline reminder sent (Rule AV-05)
	StepAffected = "berorte"          // who was affected computed from the lookup log (issue 12 item 6)
	StepResume   = "gjenoppta"        // a client stopped from the case resumed (Rule AV-02)
	StepPersons  = "varsle_berorte"   // notices to the persons affected (Rule AV-06)
	StepLetters  = "brev_konsumenter" // letters to the consumers affected (Rule AA-22)
	StepFollowUp = "oppfolging"       // the learning follow-up recorded or changed (Rule AV-08)
)

// IncidentFollowUp is a closed case's learning follow-up as stored (Rule AV-08).
type IncidentFollowUp struct {
	Lessons  string
	ReviewAt time.Time
	Items    []incident.FollowUpItem
}

// IncidentPersonNotice is the notice to one person affected (Rule AV-06),
// sent by itself: the store e-mails it to the address the person has in the
// portal (delivery "epost") or, without one, keeps it for the person's own
// page only (delivery "portal"); a person already notified on the case is skipped.
type IncidentPersonNotice struct {
	PID           string
	Subject, Body string
	// Set when read back.
	Incident, Delivery string
	At                 time.Time
}

// Deliveries of a person notice.
const (
	DeliveryEmail  = "epost"
	DeliveryPortal = "portal"
)

// LetterPersonNotice is the kind of the e-mail of a notice to a person (Rule AV-06).
const LetterPersonNotice = "incident.person"

// IncidentFilter says which cases to list.
type IncidentFilter struct {
	All       bool   // every case: the register's staff
	User, Org string // else the reports User made and those of Org (never the controller's own org)
	// Controller adds the processors' reports under agreements where this
	// organisation is the controller (Rule DPA-07): for its administrator and role holder.
	Controller string
	Open       bool // only cases whose Datatilsynet clock runs (incident.Status.Open)
}

const incidentColumns = `id, status, reported_at, aware_at, owner, report, risk, decision, reminded_to, version, updated_at, followup,
	(SELECT COUNT(*) FROM incident_person_notices n WHERE n.incident = incidents.id)`

func scanIncident(row interface{ Scan(...any) error }) (IncidentCase, error) {
	var (
		c                       IncidentCase
		reported, reminded, upd int64
		aware                   sql.NullInt64
		report                  string
		risk, decision, follow  sql.NullString
		status                  string
		notified                int64
	)
	if err := row.Scan(&c.ID, &status, &reported, &aware, &c.Owner, &report, &risk, &decision, &reminded, &c.Version, &upd, &follow, &notified); err != nil {
		return c, err
	}
	c.PersonsNotified = int(notified)
	if follow.Valid {
		var f IncidentFollowUp
		if err := json.Unmarshal([]byte(follow.String), &f); err != nil {
			return c, fmt.Errorf("incident %s follow-up: %w", c.ID, err)
		}
		c.FollowUp, c.Lessons, c.ReviewAt = f.Items, f.Lessons, f.ReviewAt
	}
	c.Status = incident.Status(status)
	if err := json.Unmarshal([]byte(report), &c.Report); err != nil {
		return c, fmt.Errorf("incident %s report: %w", c.ID, err)
	}
	c.Report.ReportedAt = fromMicros(reported)
	if aware.Valid {
		c.AwareAt = fromMicros(aware.Int64)
	}
	if risk.Valid {
		c.Risk = new(incident.Assessment)
		if err := json.Unmarshal([]byte(risk.String), c.Risk); err != nil {
			return c, fmt.Errorf("incident %s risk: %w", c.ID, err)
		}
	}
	if decision.Valid {
		c.Decision = new(incident.Decision)
		if err := json.Unmarshal([]byte(decision.String), c.Decision); err != nil {
			return c, fmt.Errorf("incident %s decision: %w", c.ID, err)
		}
	}
	if reminded > 0 {
		c.RemindedTo = fromMicros(reminded)
	}
	c.UpdatedAt = fromMicros(upd)
	return c, nil
}

// ReportIncident stores a new report (Rule AV-01) as a case in status
// incident.StatusReported, with its history entry and its event in the log,
// and queues letters (the DPO's notice, Rule AA-21) in the same transaction.
// refHash is the SHA-256 of a public report's reference (see
// IncidentReferenceHash), "" for a signed-in report. It returns the case's id.
func (db *DB) ReportIncident(ctx context.Context, r incident.Report, refHash string, letters []governance.Letter, actor string) (string, error) {
	var id string
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		id, err = db.reportIncident(ctx, tx, r, refHash, letters, actor)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("report incident: %w", err)
	}
	return id, nil
}

// reportIncident is ReportIncident in tx.
func (db *DB) reportIncident(ctx context.Context, tx *sql.Tx, r incident.Report, refHash string, letters []governance.Letter, actor string) (string, error) {
	id := newID()
	body, err := json.Marshal(r)
	if err != nil {
		return "", err
	}
	var ref any
	if refHash != "" {
		ref = refHash
	}
	now := db.now()
	if _, err := tx.ExecContext(ctx, `INSERT INTO incidents (id, ref_hash, status, reporter_user, reporter_org, controller_org, reported_at, report, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		id, ref, string(incident.StatusReported), r.ReportedBy.UserID, r.ReportedBy.Org, r.Controller, micros(r.ReportedAt), string(body), micros(now)); err != nil {
		return "", fmt.Errorf("insert incident: %w", err)
	}
	if err := db.incidentHistory(ctx, tx, id, string(incident.StepReport), incident.StatusReported, r.ReportedBy.Name, ""); err != nil {
		return "", err
	}
	if err := queueMail(ctx, tx, now, letters...); err != nil {
		return "", err
	}
	return id, db.appendEvent(ctx, tx, audit.KindIncident, "", actor, incidentEvent(id, string(incident.StepReport), incident.StatusReported, body, len(letters)))
}

// incidentEvent is a step's event in the log: the case, the step, the status
// after it, and the SHA-256 of what the step recorded, so that the log
// proves the content without holding it.
func incidentEvent(id, step string, status incident.Status, content []byte, letters int) map[string]any {
	sum := sha256.Sum256(content)
	ev := map[string]any{"incident": id, "step": step, "status": status, "sha256": hex.EncodeToString(sum[:])}
	if letters > 0 {
		ev["letters"] = letters
	}
	return ev
}

func (db *DB) incidentHistory(ctx context.Context, tx *sql.Tx, id, step string, status incident.Status, by, note string) error {
	if _, err := tx.ExecContext(ctx, `INSERT INTO incident_history (id, incident, at, step, status, actor, note) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		newID(), id, micros(db.now()), step, string(status), by, truncate(note, 2000)); err != nil {
		return fmt.Errorf("incident history: %w", err)
	}
	return nil
}

// Incidents lists cases as f says, without their measures, filings and history.
func (db *DB) Incidents(ctx context.Context, f IncidentFilter) ([]IncidentCase, error) {
	q := `SELECT ` + incidentColumns + ` FROM incidents`
	var args []any
	switch {
	case f.All:
		q += ` WHERE 1 = 1`
	default:
		q += ` WHERE (reporter_user = $1 AND reporter_user <> '' OR reporter_org = $2 AND reporter_org <> '' AND reporter_org <> $3
			OR controller_org = $4 AND controller_org <> '' AND controller_org <> $3)`
		args = append(args, f.User, f.Org, incident.ControllerOrg, f.Controller)
	}
	if f.Open {
		q += fmt.Sprintf(` AND status IN ($%d, $%d, $%d)`, len(args)+1, len(args)+2, len(args)+3)
		args = append(args, string(incident.StatusReported), string(incident.StatusAssessing), string(incident.StatusDecidedNotify))
	}
	rows, err := db.read.query(ctx, q+` ORDER BY reported_at, id`, args...)
	if err != nil {
		return nil, fmt.Errorf("incidents: %w", err)
	}
	defer rows.Close()
	var out []IncidentCase
	for rows.Next() {
		c, err := scanIncident(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// Incident is one case with its measures, filings and history. ErrNotFound when there is none.
func (db *DB) Incident(ctx context.Context, id string) (IncidentCase, error) {
	return db.incident(ctx, `SELECT `+incidentColumns+` FROM incidents WHERE id = $1`, id)
}

// IncidentByReference is the case a public report's reference names, by its
// hash. ErrNotFound when none does.
func (db *DB) IncidentByReference(ctx context.Context, refHash string) (IncidentCase, error) {
	return db.incident(ctx, `SELECT `+incidentColumns+` FROM incidents WHERE ref_hash = $1`, refHash)
}

func (db *DB) incident(ctx context.Context, q string, arg string) (IncidentCase, error) {
	c, err := scanIncident(db.read.queryRow(ctx, q, arg))
	if errors.Is(err, sql.ErrNoRows) {
		return c, fmt.Errorf("incident: %w", ErrNotFound)
	}
	if err != nil {
		return c, fmt.Errorf("incident: %w", err)
	}
	if err := db.incidentEntries(ctx, `SELECT body FROM incident_measures WHERE incident = $1 ORDER BY at, id`, c.ID, func() any {
		c.Measures = append(c.Measures, incident.Measure{})
		return &c.Measures[len(c.Measures)-1]
	}); err != nil {
		return c, err
	}
	if err := db.incidentEntries(ctx, `SELECT body FROM incident_filings WHERE incident = $1 ORDER BY at, id`, c.ID, func() any {
		c.Filings = append(c.Filings, incident.Filing{})
		return &c.Filings[len(c.Filings)-1]
	}); err != nil {
		return c, err
	}
	if err := db.incidentEntries(ctx, `SELECT body FROM incident_affected WHERE incident = $1 ORDER BY at, id`, c.ID, func() any {
		c.Affected = append(c.Affected, incident.AffectedCount{})
		return &c.Affected[len(c.Affected)-1]
	}); err != nil {
		return c, err
	}
	if err := db.incidentNotices(ctx, &c); err != nil {
		return c, err
	}
	rows, err := db.read.query(ctx, `SELECT at, step, status, actor, note FROM incident_history WHERE incident = $1 ORDER BY at, id`, c.ID)
	if err != nil {
		return c, fmt.Errorf("incident history: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			h      IncidentStep
			at     int64
			status string
		)
		if err := rows.Scan(&at, &h.Step, &status, &h.By, &h.Note); err != nil {
			return c, err
		}
		h.At, h.Status = fromMicros(at), incident.Status(status)
		c.History = append(c.History, h)
	}
	return c, rows.Err()
}

func (db *DB) incidentEntries(ctx context.Context, q, id string, next func() any) error {
	rows, err := db.read.query(ctx, q, id)
	if err != nil {
		return fmt.Errorf("incident entries: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var body string
		if err := rows.Scan(&body); err != nil {
			return err
		}
		if err := json.Unmarshal([]byte(body), next()); err != nil {
			return fmt.Errorf("incident entry: %w", err)
		}
	}
	return rows.Err()
}

// IncidentChange is one step on a case: the case's fields after it, and
// what the step adds. The caller decides with internal/incident that the
// step may be taken; ChangeIncident carries it out.
type IncidentChange struct {
	Step     string // an incident.Step or one of the Step… constants here
	Status   incident.Status
	Owner    string
	AwareAt  time.Time
	Risk     *incident.Assessment
	Decision *incident.Decision
	Measure  *incident.Measure // appended (Rule AV-02)
	Filing   *incident.Filing  // appended (Rule AV-05)
	// Affected is a computation of who was affected, from the lookup log,
	// appended: its counts and checkpoint, never the identities.
	Affected *incident.AffectedCount
	By       string // the actor's name, for the history
	Note     string // for the history
	// Suspend, when set, suspends the consumer's access in the same
	// transaction (a stop-access measure, Rule AV-02, with its written notice, Rule AA-25).
	Suspend *IncidentSuspension
	// StopClient, when set, stops one API client of one of the
	// organisations in StopClientOrgs (a stop-access measure, Rule AV-02):
	// the token server refuses it and the API refuses its tokens from the
	// next request. ResumeClient resumes a client so stopped. Either fails
	// with ErrConflict when the client is not in that state.
	StopClient, ResumeClient string
	StopClientOrgs           []string
	// ResumeConsumer releases this case's hold of the consumer's suspension
	// (a stop-access measure, Suspend) and resumes the consumer when no
	// other holder is left (Rule AV-04); res.StillHeld counts the others.
	ResumeConsumer string
	// AccessLetter is the written notice to the organisation when its client
	// stops or resumes, or when the consumer resumes (Rule AA-25); its kind is set here.
	AccessLetter governance.Letter
	// FollowUp, when set, replaces the case's follow-up (Rule AV-08).
	FollowUp *IncidentFollowUp
	// Persons are notices to the persons affected (Rule AV-06); a person
	// already notified on the case is skipped.
	Persons []IncidentPersonNotice
	// ConsumerLetters go to the contact persons of the consumer each names
	// (an empty To), and are among its letters in the portal (Rule AA-22):
	// once per case, consumer and LetterPhase; a consumer written to in the
	// phase already is skipped, and ErrExists (nothing changed) when every
	// one was.
	ConsumerLetters []governance.Letter
	LetterPhase     string
	Letters         []governance.Letter
}

// IncidentSuspension is the consumer a stop-access measure suspends, why, and the written notice.
type IncidentSuspension struct {
	Consumer, Reason string
	Letter           governance.Letter
}

// ChangeIncident carries out one step on case id, which must still be at
// version (else ErrConflict: someone else changed it since the page was
// read): the case's fields, the measure or filing it adds, a suspension, the
// letters, the history entry and the event in the log, in one transaction.
func (db *DB) ChangeIncident(ctx context.Context, id string, version int, ch IncidentChange, actor string) (LifeResult, error) {
	var res LifeResult
	risk, err := optJSON(ch.Risk)
	if err != nil {
		return res, err
	}
	decision, err := optJSON(ch.Decision)
	if err != nil {
		return res, err
	}
	content, err := json.Marshal(struct {
		Status   incident.Status
		Owner    string
		AwareAt  time.Time
		Risk     *incident.Assessment
		Decision *incident.Decision
		Measure  *incident.Measure
		Filing   *incident.Filing
		Affected *incident.AffectedCount `json:",omitempty"`
		Client   string                  `json:",omitempty"`
		FollowUp *IncidentFollowUp       `json:",omitempty"`
		Persons  int                     `json:",omitempty"`
		Note     string
	}{ch.Status, ch.Owner, ch.AwareAt, ch.Risk, ch.Decision, ch.Measure, ch.Filing, ch.Affected, ch.StopClient + ch.ResumeClient, ch.FollowUp, len(ch.Persons), ch.Note})
	if err != nil {
		return res, err
	}
	var aware, follow any
	if !ch.AwareAt.IsZero() {
		aware = micros(ch.AwareAt)
	}
	if ch.FollowUp != nil {
		b, err := json.Marshal(ch.FollowUp)
		if err != nil {
			return res, err
		}
		follow = string(b)
	}
	now := db.now()
	letters := len(ch.Letters)
	err = db.inTx(ctx, func(tx *sql.Tx) error {
		r, err := tx.ExecContext(ctx, `UPDATE incidents SET status = $1, owner = $2, aware_at = $3, risk = $4, decision = $5,
			version = version + 1, updated_at = $6, followup = COALESCE($9, followup) WHERE id = $7 AND version = $8`,
			string(ch.Status), ch.Owner, aware, risk, decision, micros(now), id, version, follow)
		if err != nil {
			return fmt.Errorf("update incident: %w", err)
		}
		if n, _ := r.RowsAffected(); n == 0 {
			return fmt.Errorf("incident %s changed since version %d: %w", id, version, ErrConflict)
		}
		if m := ch.Measure; m != nil {
			b, err := json.Marshal(m)
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO incident_measures (id, incident, at, body) VALUES ($1, $2, $3, $4)`,
				newID(), id, micros(m.At), string(b)); err != nil {
				return fmt.Errorf("incident measure: %w", err)
			}
		}
		if f := ch.Filing; f != nil {
			b, err := json.Marshal(f)
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO incident_filings (id, incident, phase, at, body) VALUES ($1, $2, $3, $4, $5)`,
				newID(), id, string(f.Phase), micros(f.At), string(b)); err != nil {
				return fmt.Errorf("incident filing: %w", err)
			}
		}
		if a := ch.Affected; a != nil {
			if a.ID == "" {
				a.ID = newID()
			}
			b, err := json.Marshal(a)
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO incident_affected (id, incident, at, body) VALUES ($1, $2, $3, $4)`,
				a.ID, id, micros(a.At), string(b)); err != nil {
				return fmt.Errorf("incident affected: %w", err)
			}
		}
		if err := db.incidentConsumer(ctx, tx, id, ch, actor, &res); err != nil {
			return err
		}
		if err := db.incidentClient(ctx, tx, id, ch, actor, &res); err != nil {
			return err
		}
		for _, p := range ch.Persons {
			n, err := db.incidentPersonNotice(ctx, tx, id, p, now)
			if err != nil {
				return err
			}
			letters += n
		}
		sent := 0
		for _, l := range ch.ConsumerLetters {
			// Rule AA-22: once per case, consumer and phase; a form sent twice sends nothing again.
			r, err := tx.ExecContext(ctx, `INSERT INTO incident_consumer_letters (incident, consumer, phase, at) VALUES ($1, $2, $3, $4)
				ON CONFLICT DO NOTHING`, id, l.Consumer, ch.LetterPhase, micros(now))
			if err != nil {
				return fmt.Errorf("consumer letter: %w", err)
			}
			if k, _ := r.RowsAffected(); k == 0 {
				continue
			}
			sent++
			n, err := db.queueLetters(ctx, tx, l.Consumer, actor, l)
			if err != nil {
				return err
			}
			letters += n
			res.Letters += n
		}
		if len(ch.ConsumerLetters) > 0 && sent == 0 {
			return fmt.Errorf("the letters of phase %q were sent already: %w", ch.LetterPhase, ErrExists)
		}
		if err := queueMail(ctx, tx, now, ch.Letters...); err != nil {
			return err
		}
		if err := db.incidentHistory(ctx, tx, id, ch.Step, ch.Status, ch.By, ch.Note); err != nil {
			return err
		}
		return db.appendEvent(ctx, tx, audit.KindIncident, "", actor, incidentEvent(id, ch.Step, ch.Status, content, letters))
	})
	if err != nil {
		return LifeResult{}, fmt.Errorf("change incident %s (%s): %w", id, ch.Step, err)
	}
	return res, nil
}

// incidentConsumer suspends the consumer ch.Suspend names, or resumes the
// one ch.ResumeConsumer names, for case id, which holds the suspension it
// makes (Rule AV-04): a consumer suspended already by another holder is
// held by this case too, without a second letter; resuming releases this
// case's hold and resumes the consumer, with its letter (Rule AA-25), only
// when no other holder is left.
func (db *DB) incidentConsumer(ctx context.Context, tx *sql.Tx, id string, ch IncidentChange, actor string, res *LifeResult) error {
	orgnr := ch.ResumeConsumer
	if s := ch.Suspend; s != nil {
		orgnr = s.Consumer
	}
	if orgnr == "" {
		return nil
	}
	if err := lockConsumer(ctx, db, tx, orgnr); err != nil {
		return err
	}
	target := consumerStopTarget(orgnr)
	if s := ch.Suspend; s != nil {
		held, err := holdStop(ctx, tx, target, incidentHolder(id), actor, db.now())
		if err != nil {
			return err
		}
		if !held {
			return fmt.Errorf("consumer %s is suspended by this case already: %w", orgnr, ErrConflict)
		}
		r, err := db.suspendConsumer(ctx, tx, orgnr, s.Reason, s.Letter, actor)
		if errors.Is(err, ErrNoActiveGrant) {
			if n, cerr := countRegisterSuspended(ctx, tx, orgnr); cerr != nil || n > 0 {
				return cerr // suspended already, by another holder: this case holds it too
			}
		}
		*res = r
		return err
	}
	others, err := releaseStop(ctx, tx, target, incidentHolder(id))
	if err != nil {
		return err
	}
	if res.StillHeld = others; others > 0 {
		return nil // Rule AV-04: another holder keeps it suspended
	}
	r, err := db.resumeConsumer(ctx, tx, orgnr, ch.AccessLetter, actor)
	*res = r
	return err
}

// incidentClient stops or resumes the API client ch names (Rule AV-02) for
// case id, which holds the stop it makes. Rule AV-04: a stop is held per
// case; resuming releases only this case's hold, and the client is active
// again only when no holder is left (res.StillHeld counts the others). A
// client already stopped by another case takes this case's hold too. The
// client's organisation gets the written notice (Rule AA-25) when the client
// actually stops and when it actually resumes.
func (db *DB) incidentClient(ctx context.Context, tx *sql.Tx, id string, ch IncidentChange, actor string, res *LifeResult) error {
	client, stop := ch.StopClient, ch.StopClient != ""
	if !stop {
		client = ch.ResumeClient
	}
	if client == "" {
		return nil
	}
	var org, status string
	err := tx.QueryRowContext(ctx, db.forUpdate(`SELECT orgnr, status FROM clients WHERE client_id = $1`), client).Scan(&org, &status)
	if errors.Is(err, sql.ErrNoRows) || err == nil && stop && !slices.Contains(ch.StopClientOrgs, org) {
		// Only a client of the organisations the case may stop.
		return fmt.Errorf("client %s: not one this case may stop: %w", client, ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("client %s: %w", client, err)
	}
	target, holder := clientStopTarget(client), incidentHolder(id)
	if stop {
		if access.Status(status) == access.Ended {
			return fmt.Errorf("client %s has ended: %w", client, ErrConflict)
		}
		held, err := holdStop(ctx, tx, target, holder, actor, db.now())
		if err != nil {
			return err
		}
		if !held {
			return fmt.Errorf("client %s is stopped by this case already: %w", client, ErrConflict)
		}
		if access.Status(status) == access.Suspended {
			return nil // stopped already, by another holder: this case holds it too
		}
	} else {
		if access.Status(status) != access.Suspended {
			return fmt.Errorf("client %s is not stopped: %w", client, ErrConflict)
		}
		others, err := releaseStop(ctx, tx, target, holder)
		if err != nil {
			return err
		}
		if res.StillHeld = others; others > 0 {
			return nil // Rule AV-04: another holder keeps it stopped
		}
	}
	to := access.Active
	if stop {
		to = access.Suspended
	}
	if _, err := tx.ExecContext(ctx, `UPDATE clients SET status = $1 WHERE client_id = $2`, string(to), client); err != nil {
		return fmt.Errorf("client %s: %w", client, err)
	}
	if ch.AccessLetter.Subject != "" {
		// Rule AA-25: the written notice, as for a suspended consumer.
		l := ch.AccessLetter
		l.Kind = governance.LetterResumption
		if stop {
			l.Kind = governance.LetterSuspension
		}
		n, err := db.queueLetters(ctx, tx, org, actor, l)
		if err != nil {
			return err
		}
		res.Letters += n
	}
	return bumpAccess(ctx, tx) // every node's next request sees it (ClientActive)
}

// incidentPersonNotice records the notice to one person, unless the person
// has one on the case already, and e-mails it to the person's address in
// the portal if there is one; it returns the letters queued.
func (db *DB) incidentPersonNotice(ctx context.Context, tx *sql.Tx, id string, p IncidentPersonNotice, now time.Time) (int, error) {
	var email string
	err := tx.QueryRowContext(ctx, `SELECT email FROM users WHERE pid = $1 AND pid <> '' AND disabled_at IS NULL AND email NOT LIKE $2 ORDER BY created_at LIMIT 1`,
		p.PID, "%"+NoEmailDomain).Scan(&email) // an account made at sign-in with ID-porten has no address
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("person notice address: %w", err)
	}
	delivery := DeliveryPortal
	if email != "" {
		delivery = DeliveryEmail
	}
	r, err := tx.ExecContext(ctx, `INSERT INTO incident_person_notices (id, incident, person_pid, at, delivery, subject, body)
		VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (incident, person_pid) DO NOTHING`,
		newID(), id, p.PID, micros(now), delivery, p.Subject, p.Body)
	if err != nil {
		return 0, fmt.Errorf("person notice: %w", err)
	}
	if n, _ := r.RowsAffected(); n == 0 || email == "" {
		return 0, nil
	}
	return 1, queueMail(ctx, tx, now, governance.Letter{Kind: LetterPersonNotice, To: email, Subject: p.Subject, Body: p.Body})
}

// IncidentPersonNotices are the notices to the person pid about breaches,
// newest first, for the person's own page (Rule AV-06).
func (db *DB) IncidentPersonNotices(ctx context.Context, pid string) ([]IncidentPersonNotice, error) {
	rows, err := db.read.query(ctx, `SELECT incident, at, delivery, subject, body FROM incident_person_notices
		WHERE person_pid = $1 ORDER BY at DESC, id`, pid)
	if err != nil {
		return nil, fmt.Errorf("person notices: %w", err)
	}
	defer rows.Close()
	var out []IncidentPersonNotice
	for rows.Next() {
		var (
			n  IncidentPersonNotice
			at int64
		)
		if err := rows.Scan(&n.Incident, &at, &n.Delivery, &n.Subject, &n.Body); err != nil {
			return nil, err
		}
		n.At = fromMicros(at)
		out = append(out, n)
	}
	return out, rows.Err()
}

// IncidentNoticeCounts is how many persons of case id were notified, by delivery (Rule AV-06).
func (db *DB) IncidentNoticeCounts(ctx context.Context, id string) (map[string]int, error) {
	rows, err := db.read.query(ctx, `SELECT delivery, COUNT(*) FROM incident_person_notices WHERE incident = $1 GROUP BY delivery`, id)
	if err != nil {
		return nil, fmt.Errorf("notice counts: %w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var (
			d string
			n int64
		)
		if err := rows.Scan(&d, &n); err != nil {
			return nil, err
		}
		out[d] = int(n)
	}
	return out, rows.Err()
}

func optJSON(v any) (any, error) {
	switch x := v.(type) {
	case *incident.Assessment:
		if x == nil {
			return nil, nil
		}
	case *incident.Decision:
		if x == nil {
			return nil, nil
		}
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return string(b), nil
}

// RemindIncident records that case id's deadline reminders are sent up to
// now, queues the letters and writes the history entry and the event, in one
// transaction — only if the reminders were still sent up to sentUpTo, so that
// two nodes never both remind. It reports whether it did.
func (db *DB) RemindIncident(ctx context.Context, id string, sentUpTo, now time.Time, letters []governance.Letter, note string) (bool, error) {
	done := false
	var prev int64
	if !sentUpTo.IsZero() {
		prev = micros(sentUpTo)
	}
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		r, err := tx.ExecContext(ctx, `UPDATE incidents SET reminded_to = $1 WHERE id = $2 AND reminded_to = $3`, micros(now), id, prev)
		if err != nil {
			return err
		}
		if n, _ := r.RowsAffected(); n == 0 {
			return nil
		}
		var status string
		if err := tx.QueryRowContext(ctx, `SELECT status FROM incidents WHERE id = $1`, id).Scan(&status); err != nil {
			return err
		}
		if err := queueMail(ctx, tx, db.now(), letters...); err != nil {
			return err
		}
		if err := db.incidentHistory(ctx, tx, id, StepReminder, incident.Status(status), "deling", note); err != nil {
			return err
		}
		done = true
		return db.appendEvent(ctx, tx, audit.KindIncident, "", "deling", incidentEvent(id, StepReminder, incident.Status(status), []byte(note), len(letters)))
	})
	if err != nil {
		return false, fmt.Errorf("remind incident %s: %w", id, err)
	}
	return done, nil
}

// IncidentReferenceHash is what is stored of a public report's reference: its SHA-256.
func IncidentReferenceHash(ref string) string {
	sum := sha256.Sum256([]byte(ref))
	return hex.EncodeToString(sum[:])
}

// CountIncidentAttempt counts one use of the public report form or of the
// reference look-up (kind) from source at now, in a fixed window, and
// returns the count in the window so far, this one included. Only a hash of
// kind and source is stored.
func (db *DB) CountIncidentAttempt(ctx context.Context, kind, source string, now time.Time, window time.Duration) (int, error) {
	var n int64
	err := db.write.QueryRowContext(ctx, `INSERT INTO incident_throttle (key, count, since) VALUES ($1, 1, $2)
		ON CONFLICT (key) DO UPDATE SET
			count = CASE WHEN incident_throttle.since < $3 THEN 1 ELSE incident_throttle.count + 1 END,
			since = CASE WHEN incident_throttle.since < $3 THEN excluded.since ELSE incident_throttle.since END
		RETURNING count`, throttleKey("incident", kind, source), micros(now), micros(now.Add(-window))).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count incident attempt: %w", err)
	}
	return int(n), nil
}

// PurgeIncidentThrottle forgets counts whose window began before before.
func (db *DB) PurgeIncidentThrottle(ctx context.Context, before time.Time) error {
	if _, err := db.write.ExecContext(ctx, `DELETE FROM incident_throttle WHERE since < $1`, micros(before)); err != nil {
		return fmt.Errorf("purge incident throttle: %w", err)
	}
	return nil
}

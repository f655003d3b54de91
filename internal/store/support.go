package store

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"deling/internal/audit"
	"deling/internal/governance"
	"deling/internal/incident"
)

// The support channel and service incidents (issue 12 items 1 and 8; Rules
// AA-18, AA-19). A consumer's user asks for help with a fault or a change
// request; a fault becomes a service incident in the same transaction. The
// register records service incidents with priority A, B or C; every status
// update is published as an operational notice (the notices page, its feed
// and the subscribers' e-mail), the first of them being the first notice
// the priority's clock asks for. Each step is an event in the lookup log.

// Kinds of support case.
const (
	SupportFault  = "feil"
	SupportChange = "endring"
)

// SupportCase is a question to the register's support (Rule AA-18).
type SupportCase struct {
	ID, Kind, Title, Description string
	ReporterUser, ReporterName   string
	ReporterOrg                  string
	ReportedAt                   time.Time
	Answer                       string
	AnsweredAt                   *time.Time
	ServiceIncident              string // the service incident a fault became
}

// ServiceIncidentRecord is a service incident as stored, with its status updates.
type ServiceIncidentRecord struct {
	incident.ServiceIncident
	Consumers []string // the consumers affected; none means every consumer
	Version   int
	Updates   []ServiceUpdate // oldest first; only ServiceIncident fills it
	// Priorities are the changes of priority, oldest first; only ServiceIncident fills it (Rule AA-19).
	Priorities []PriorityChange
}

// PriorityChange is one change of a service incident's priority: who, when, from what to what (Rule AA-19).
type PriorityChange struct {
	At       time.Time
	By       string
	Old, New incident.Priority
}

// ServiceUpdate is one status update, published as an operational notice.
type ServiceUpdate struct {
	At     time.Time
	By     string
	Body   string
	Notice string // the notice's id
}

// VisibleTo reports whether org's users see the incident: it is theirs, or
// affects every consumer, or them (Rule AA-19).
func (s ServiceIncidentRecord) VisibleTo(org string) bool {
	return org != "" && (s.ReportedBy.Org == org || len(s.Consumers) == 0 || slices.Contains(s.Consumers, org))
}

// ReportSupport stores a support case; a fault is also a new service
// incident without a priority (the register sets it), whose clocks run from
// the report (Rules AA-18, AA-19). It returns the case's id.
func (db *DB) ReportSupport(ctx context.Context, sc SupportCase, actor string) (string, error) {
	sc.ID = newID()
	now := db.now()
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		var svc any
		if sc.Kind == SupportFault {
			id := newID()
			consumers := "[]"
			if sc.ReporterOrg != "" {
				b, _ := json.Marshal([]string{sc.ReporterOrg})
				consumers = string(b)
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO service_incidents (id, title, description, reporter_user, reporter_name, reporter_org, consumers, reported_at)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, id, sc.Title, sc.Description, sc.ReporterUser, sc.ReporterName, sc.ReporterOrg, consumers, micros(now)); err != nil {
				return fmt.Errorf("insert service incident: %w", err)
			}
			svc = id
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO support_cases (id, kind, title, description, reporter_user, reporter_name, reporter_org, reported_at, service_incident)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, sc.ID, sc.Kind, sc.Title, sc.Description, sc.ReporterUser, sc.ReporterName, sc.ReporterOrg, micros(now), svc); err != nil {
			return fmt.Errorf("insert support case: %w", err)
		}
		ev := map[string]any{"support": sc.ID, "step": "meld", "kind": sc.Kind}
		if svc != nil {
			ev["service"] = svc
		}
		return db.appendEvent(ctx, tx, audit.KindIncident, sc.ReporterOrg, actor, ev)
	})
	if err != nil {
		return "", fmt.Errorf("report support: %w", err)
	}
	return sc.ID, nil
}

const supportColumns = `id, kind, title, description, reporter_user, reporter_name, reporter_org, reported_at, answer, answered_at, service_incident`

// SupportCases lists support cases, newest first: org's ("" for every case: the register's staff).
func (db *DB) SupportCases(ctx context.Context, org string) ([]SupportCase, error) {
	q, args := `SELECT `+supportColumns+` FROM support_cases ORDER BY reported_at DESC, id DESC`, []any(nil)
	if org != "" {
		q, args = `SELECT `+supportColumns+` FROM support_cases WHERE reporter_org = $1 ORDER BY reported_at DESC, id DESC`, []any{org}
	}
	rows, err := db.read.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("support cases: %w", err)
	}
	defer rows.Close()
	var out []SupportCase
	for rows.Next() {
		var (
			sc       SupportCase
			reported int64
			answered sql.NullInt64
			svc      sql.NullString
		)
		if err := rows.Scan(&sc.ID, &sc.Kind, &sc.Title, &sc.Description, &sc.ReporterUser, &sc.ReporterName, &sc.ReporterOrg, &reported, &sc.Answer, &answered, &svc); err != nil {
			return nil, err
		}
		sc.ReportedAt, sc.AnsweredAt, sc.ServiceIncident = fromMicros(reported), optTime(answered), svc.String
		out = append(out, sc)
	}
	return out, rows.Err()
}

// LetterSupportAnswer is the kind of the e-mail of the register's answer to a support case's reporter (Rule AA-18).
const LetterSupportAnswer = "support.answer"

// AnswerSupport records the register's answer to support case id, once: an
// answer is never overwritten (ErrExists, nothing changed); ErrNotFound when
// there is no such case. The reporter, if their account has an address,
// gets the answer by e-mail, the case's title in its subject and link (where
// to read it) below it, queued in the same transaction (Rule AA-18).
func (db *DB) AnswerSupport(ctx context.Context, id, answer, link, actor string) error {
	now := db.now()
	return db.inTx(ctx, func(tx *sql.Tx) error {
		r, err := tx.ExecContext(ctx, `UPDATE support_cases SET answer = $1, answered_at = $2 WHERE id = $3 AND answered_at IS NULL`, answer, micros(now), id)
		if err != nil {
			return fmt.Errorf("answer support: %w", err)
		}
		if n, _ := r.RowsAffected(); n == 0 {
			var one int
			err := tx.QueryRowContext(ctx, `SELECT 1 FROM support_cases WHERE id = $1`, id).Scan(&one)
			if errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("support case %s: %w", id, ErrNotFound)
			}
			if err != nil {
				return fmt.Errorf("answer support: %w", err)
			}
			return fmt.Errorf("support case %s is answered already: %w", id, ErrExists)
		}
		var email, title string
		err = tx.QueryRowContext(ctx, `SELECT u.email, c.title FROM support_cases c JOIN users u ON u.id = c.reporter_user
			WHERE c.id = $1 AND u.disabled_at IS NULL`, id).Scan(&email, &title)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("support reporter's address: %w", err)
		}
		mailed := email != ""
		if mailed {
			letter := governance.Letter{Kind: LetterSupportAnswer, To: email, Subject: "Svar fra brukerstøtten: " + title,
				Body: "Registerforvalteren har svart på henvendelsen din «" + title + "»:\n\n" + answer + "\n\n" + link + "\n"}
			if err := queueMail(ctx, tx, now, letter); err != nil {
				return err
			}
		}
		return db.appendEvent(ctx, tx, audit.KindIncident, "", actor, map[string]any{"support": id, "step": "svar", "mailed": mailed})
	})
}

// RecordServiceIncident stores a service incident the register records
// itself, with its priority (Rule AA-19). It returns its id.
func (db *DB) RecordServiceIncident(ctx context.Context, s ServiceIncidentRecord, actor string) (string, error) {
	id := newID()
	consumers, err := json.Marshal(append([]string{}, s.Consumers...))
	if err != nil {
		return "", err
	}
	err = db.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO service_incidents (id, title, description, priority, reporter_user, reporter_name, reporter_org, consumers, reported_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, id, s.Title, s.Description, string(s.Priority), s.ReportedBy.UserID, s.ReportedBy.Name,
			s.ReportedBy.Org, string(consumers), micros(db.now())); err != nil {
			return fmt.Errorf("insert service incident: %w", err)
		}
		return db.appendEvent(ctx, tx, audit.KindIncident, "", actor, map[string]any{"service": id, "step": "registrert", "priority": s.Priority})
	})
	if err != nil {
		return "", fmt.Errorf("record service incident: %w", err)
	}
	return id, nil
}

const serviceColumns = `id, title, description, priority, reporter_user, reporter_name, reporter_org, consumers, reported_at, first_notice_at, reacted_at, resolved_at, version,
	first_notice_priority, reacted_priority`

func scanService(row interface{ Scan(...any) error }) (ServiceIncidentRecord, error) {
	var (
		s                        ServiceIncidentRecord
		priority, consumers      string
		firstPrio, reactedPrio   string
		reported                 int64
		first, reacted, resolved sql.NullInt64
	)
	if err := row.Scan(&s.ID, &s.Title, &s.Description, &priority, &s.ReportedBy.UserID, &s.ReportedBy.Name, &s.ReportedBy.Org,
		&consumers, &reported, &first, &reacted, &resolved, &s.Version, &firstPrio, &reactedPrio); err != nil {
		return s, err
	}
	s.FirstNoticePriority, s.ReactedPriority = incident.Priority(firstPrio), incident.Priority(reactedPrio)
	s.Priority, s.ReportedAt = incident.Priority(priority), fromMicros(reported)
	for _, x := range []struct {
		n  sql.NullInt64
		to *time.Time
	}{{first, &s.FirstNoticeAt}, {reacted, &s.ReactedAt}, {resolved, &s.ResolvedAt}} {
		if x.n.Valid {
			*x.to = fromMicros(x.n.Int64)
		}
	}
	if err := json.Unmarshal([]byte(consumers), &s.Consumers); err != nil {
		return s, fmt.Errorf("service incident %s consumers: %w", s.ID, err)
	}
	return s, nil
}

// ServiceIncidents lists every service incident, newest first; the caller
// keeps those the visitor may see (ServiceIncidentRecord.VisibleTo).
func (db *DB) ServiceIncidents(ctx context.Context) ([]ServiceIncidentRecord, error) {
	rows, err := db.read.query(ctx, `SELECT `+serviceColumns+` FROM service_incidents ORDER BY reported_at DESC, id DESC`)
	if err != nil {
		return nil, fmt.Errorf("service incidents: %w", err)
	}
	defer rows.Close()
	var out []ServiceIncidentRecord
	for rows.Next() {
		s, err := scanService(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// ServiceIncident is one service incident with its updates; ErrNotFound when there is none.
func (db *DB) ServiceIncident(ctx context.Context, id string) (ServiceIncidentRecord, error) {
	s, err := scanService(db.read.queryRow(ctx, `SELECT `+serviceColumns+` FROM service_incidents WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return s, fmt.Errorf("service incident: %w", ErrNotFound)
	}
	if err != nil {
		return s, fmt.Errorf("service incident: %w", err)
	}
	rows, err := db.read.query(ctx, `SELECT at, actor, body, notice FROM service_incident_updates WHERE incident = $1 ORDER BY at, id`, id)
	if err != nil {
		return s, fmt.Errorf("service incident updates: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			u  ServiceUpdate
			at int64
		)
		if err := rows.Scan(&at, &u.By, &u.Body, &u.Notice); err != nil {
			return s, err
		}
		u.At = fromMicros(at)
		s.Updates = append(s.Updates, u)
	}
	if err := rows.Err(); err != nil {
		return s, err
	}
	prows, err := db.read.query(ctx, `SELECT at, actor, old, new FROM service_incident_priorities WHERE incident = $1 ORDER BY at, id`, id)
	if err != nil {
		return s, fmt.Errorf("service incident priorities: %w", err)
	}
	defer prows.Close()
	for prows.Next() {
		var (
			pc       PriorityChange
			at       int64
			old, new string
		)
		if err := prows.Scan(&at, &pc.By, &old, &new); err != nil {
			return s, err
		}
		pc.At, pc.Old, pc.New = fromMicros(at), incident.Priority(old), incident.Priority(new)
		s.Priorities = append(s.Priorities, pc)
	}
	return s, prows.Err()
}

// ServiceChange is one step on a service incident (Rule AA-19).
type ServiceChange struct {
	Priority incident.Priority // set or changed when not ""
	// Notice, when set, is a status update, the first of them the first
	// notice. For an incident that affects every consumer it is published as
	// an operational notice with Letter to the subscribers; for one that
	// affects some consumers (a fault one reported) it is never public: it
	// goes as Letter to those consumers' addresses only.
	Notice   *governance.Notice
	Letter   governance.Letter
	Reacted  bool // someone is working on it (the reaction; once)
	Resolved bool
	By       string // the actor's name, for the update
}

// ChangeServiceIncident carries out ch on incident id, which must still be
// at version (else ErrConflict), with its event in the log and the notice
// in one transaction. The first notice, the reaction and the resolution are
// each recorded once, at the time they first happen.
func (db *DB) ChangeServiceIncident(ctx context.Context, id string, version int, ch ServiceChange, actor string) error {
	now := db.now()
	at := func(yes bool) any {
		if yes {
			return micros(now)
		}
		return nil
	}
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		var old string
		err := tx.QueryRowContext(ctx, db.forUpdate(`SELECT priority FROM service_incidents WHERE id = $1 AND version = $2`), id, version).Scan(&old)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("service incident %s changed since version %d: %w", id, version, ErrConflict)
		}
		if err != nil {
			return fmt.Errorf("service incident: %w", err)
		}
		priority := cmp.Or(string(ch.Priority), old)
		// Rule AA-19: a clock that stops now is measured under the priority in
		// force now (first_notice_priority, reacted_priority), and a later
		// change of priority does not rewrite it.
		r, err := tx.ExecContext(ctx, `UPDATE service_incidents SET priority = $1,
			first_notice_priority = CASE WHEN first_notice_at IS NULL AND $2 <> 0 THEN $1 ELSE first_notice_priority END,
			reacted_priority = CASE WHEN reacted_at IS NULL AND $3 <> 0 THEN $1 ELSE reacted_priority END,
			first_notice_at = COALESCE(first_notice_at, $4), reacted_at = COALESCE(reacted_at, $5), resolved_at = COALESCE(resolved_at, $6),
			version = version + 1 WHERE id = $7 AND version = $8`,
			priority, boolInt(ch.Notice != nil), boolInt(ch.Reacted), at(ch.Notice != nil), at(ch.Reacted), at(ch.Resolved), id, version)
		if err != nil {
			return fmt.Errorf("update service incident: %w", err)
		}
		if n, _ := r.RowsAffected(); n == 0 {
			return fmt.Errorf("service incident %s changed since version %d: %w", id, version, ErrConflict)
		}
		if priority != old {
			// Rule AA-19: the change is kept — old, new, who, when.
			if _, err := tx.ExecContext(ctx, `INSERT INTO service_incident_priorities (id, incident, at, actor, old, new) VALUES ($1, $2, $3, $4, $5, $6)`,
				newID(), id, micros(now), ch.By, old, priority); err != nil {
				return fmt.Errorf("service incident priority: %w", err)
			}
		}
		ev := map[string]any{"service": id, "step": "endret", "priority": ch.Priority, "reacted": ch.Reacted, "resolved": ch.Resolved}
		if priority != old {
			ev["old_priority"] = old
		}
		if ch.Notice != nil {
			var consumersJSON string
			if err := tx.QueryRowContext(ctx, `SELECT consumers FROM service_incidents WHERE id = $1`, id).Scan(&consumersJSON); err != nil {
				return fmt.Errorf("service incident consumers: %w", err)
			}
			var consumers []string
			if err := json.Unmarshal([]byte(consumersJSON), &consumers); err != nil {
				return fmt.Errorf("service incident %s consumers: %w", id, err)
			}
			body, noticeID := ch.Notice.Body, ""
			if len(consumers) == 0 {
				n, err := db.publishNotice(ctx, tx, *ch.Notice, ch.Letter, actor)
				if err != nil {
					return err
				}
				body, noticeID = n.Body, n.ID
				ev["notice"] = n.ID
			} else {
				// Rule AA-19 with AA-17's spirit: one consumer's fault is told to
				// the consumers it affects, never on the public notices page.
				l := ch.Letter
				l.Kind = governance.LetterServiceIncident
				for _, c := range consumers {
					if _, err := db.queueLetters(ctx, tx, c, actor, l); err != nil {
						return err
					}
				}
				ev["letters"] = len(consumers)
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO service_incident_updates (id, incident, at, actor, body, notice) VALUES ($1, $2, $3, $4, $5, $6)`,
				newID(), id, micros(now), ch.By, body, noticeID); err != nil {
				return fmt.Errorf("service incident update: %w", err)
			}
		}
		return db.appendEvent(ctx, tx, audit.KindIncident, "", actor, ev)
	})
	if err != nil {
		return fmt.Errorf("change service incident %s: %w", id, err)
	}
	return nil
}

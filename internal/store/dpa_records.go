package store

// The records kept with a data processing agreement (issue 13): the
// sub-processors the processor proposes and the controller approves or
// refuses (Rules DPA-05, DPA-06), the authority requests the processor
// records (Rule DPA-09) and the audit reports either party files (Rule
// DPA-09). Each is stored with its history entry and its event in the log
// (dpa.go's dpaStep), in one transaction.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"deling/internal/dpa"
	"deling/internal/governance"
	"deling/internal/incident"
)

// subProcessors are agreement id's proposals, oldest first.
func subProcessors(ctx context.Context, q queryer, id string) ([]dpa.SubProcessor, error) {
	rows, err := q.QueryContext(ctx, `SELECT body FROM dpa_subprocessors WHERE agreement = $1 ORDER BY proposed_at, id`, id)
	if err != nil {
		return nil, fmt.Errorf("sub-processors of %s: %w", id, err)
	}
	defer rows.Close()
	var out []dpa.SubProcessor
	for rows.Next() {
		var body string
		if err := rows.Scan(&body); err != nil {
			return nil, err
		}
		var s dpa.SubProcessor
		if err := json.Unmarshal([]byte(body), &s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// SubProcessors lists agreement id's sub-processor proposals, oldest first
// (Rule DPA-05): annex 3 at a date is dpa.Annex3At over them.
func (db *DB) SubProcessors(ctx context.Context, id string) ([]dpa.SubProcessor, error) {
	return subProcessors(ctx, db.read, id)
}

// ProposeSubProcessor records the processor's proposal of a sub-processor
// under agreement id (Rule DPA-05): it has no effect until the controller
// approves it. Letters go with it (the controller's notice). It returns the proposal's id.
func (db *DB) ProposeSubProcessor(ctx context.Context, rules DPARules, id string, e dpa.SubProcessorEntry, letters []governance.Letter, by DPAActor) (string, error) {
	s := dpa.SubProcessor{ID: newID(), AgreementID: id, Entry: e, ProposedBy: by.actor(), ProposedAt: db.now()}
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		rec, err := db.loadAgreement(ctx, tx, id, true)
		if err != nil {
			return err
		}
		ms, err := memberships(ctx, tx, by)
		if err != nil {
			return err
		}
		if s.Status, err = dpa.TransitionSub(&rec.Agreement, &s, dpa.SubStepPropose, ms); err != nil {
			return err
		}
		if err := invalid(s.Validate(rules.Env)); err != nil {
			return err
		}
		body, err := json.Marshal(s)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO dpa_subprocessors (id, agreement, status, body, proposed_at) VALUES ($1, $2, $3, $4, $5)`,
			s.ID, id, string(s.Status), string(body), micros(s.ProposedAt)); err != nil {
			return err
		}
		if _, err := db.queueLettersTo(ctx, tx, by, letters); err != nil {
			return err
		}
		return db.dpaStep(ctx, tx, &rec.Agreement, StepDPASubProcessor, dpa.SubStepPropose.Label()+": "+s.Entry.Navn, body, by, nil,
			map[string]any{"subProcessor": s.ID, "subStatus": s.Status})
	})
	if err != nil {
		return "", fmt.Errorf("propose sub-processor: %w", err)
	}
	return s.ID, nil
}

// DecideSubProcessor takes step (approve, refuse, remove) on proposal subID
// (Rule DPA-05): the controller approves in writing — outside the EU/EEA
// with its documented transfer instruction (Rule DPA-06, dpa.ReadyToApprove)
// — or refuses with reasons. Letters go with it (the processor's notice).
func (db *DB) DecideSubProcessor(ctx context.Context, rules DPARules, subID string, step dpa.SubStep, transfer *dpa.Transfer, reason string,
	letters []governance.Letter, by DPAActor) (dpa.SubProcessor, error) {
	var s dpa.SubProcessor
	now := db.now()
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		var agreement string
		err := tx.QueryRowContext(ctx, `SELECT agreement FROM dpa_subprocessors WHERE id = $1`, subID).Scan(&agreement)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("sub-processor %s: %w", subID, ErrNotFound)
		}
		if err != nil {
			return err
		}
		rec, err := db.loadAgreement(ctx, tx, agreement, true)
		if err != nil {
			return err
		}
		subs, err := subProcessors(ctx, tx, agreement)
		if err != nil {
			return err
		}
		i := slices.IndexFunc(subs, func(x dpa.SubProcessor) bool { return x.ID == subID })
		s = subs[i]
		ms, err := memberships(ctx, tx, by)
		if err != nil {
			return err
		}
		to, err := dpa.TransitionSub(&rec.Agreement, &s, step, ms)
		if err != nil {
			return err
		}
		switch step {
		case dpa.SubStepApprove:
			s.Transfer = transfer
			if err := invalid(dpa.ReadyToApprove(&rec.Agreement, subs, &s, rules.Env, now)); err != nil {
				return err
			}
			s.ApprovedBy, s.ApprovedByName, s.ApprovedAt = by.actor(), by.Name, now
		case dpa.SubStepRefuse:
			if err := invalid(dpa.CheckRefusal(reason)); err != nil {
				return err
			}
			s.RefusedBy, s.RefusedAt, s.Reason = by.actor(), now, strings.TrimSpace(reason)
		case dpa.SubStepRemove:
			s.RemovedBy, s.RemovedAt = by.actor(), now
		}
		s.Status = to
		body, err := json.Marshal(s)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE dpa_subprocessors SET status = $1, body = $2 WHERE id = $3`, string(s.Status), string(body), s.ID); err != nil {
			return err
		}
		if _, err := db.queueLettersTo(ctx, tx, by, letters); err != nil {
			return err
		}
		return db.dpaStep(ctx, tx, &rec.Agreement, StepDPASubProcessor, step.Label()+": "+s.Entry.Navn, body, by, nil,
			map[string]any{"subProcessor": s.ID, "subStatus": s.Status})
	})
	if err != nil {
		return s, fmt.Errorf("%s sub-processor %s: %w", step, subID, err)
	}
	return s, nil
}

// partyHat checks that by may act on a for side (either side when side is
// ""): a hat on that side, never on both (separation of parties).
func partyHat(ms []governance.Membership, a *dpa.Agreement, side dpa.Side) error {
	hats := dpa.Hats(ms, a.Controller, a.Processor)
	s := sideOf(hats)
	for _, h := range hats {
		if (h.Side == dpa.Controller || h.Side == dpa.Processor) && h.Side != s {
			return dpa.ErrBothParties
		}
	}
	if s == "" || (side != "" && s != side) {
		return dpa.ErrNotYourStep
	}
	return nil
}

// RecordAuthorityRequest records, for the processor's people, a request from
// an authority for data processed under agreement id (Rule DPA-09) and, in
// the same transaction, queues the notice to the controller's contacts at
// once — unless the law forbids the notice for now. It returns the request's id.
func (db *DB) RecordAuthorityRequest(ctx context.Context, id string, r dpa.AuthorityRequest, by DPAActor) (string, error) {
	now := db.now()
	r.ID, r.AgreementID, r.RecordedBy, r.RecordedByName, r.RecordedAt = newID(), id, by.actor(), by.Name, now
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		rec, err := db.agreementAs(ctx, tx, id, by, dpa.Processor, true)
		if err != nil {
			return err
		}
		if err := hasBeenInForce(rec); err != nil { // Rules DPA-07, DPA-09
			return err
		}
		if err := invalid(r.Validate(now)); err != nil {
			return err
		}
		body, err := json.Marshal(r)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO dpa_requests (id, agreement, body, recorded_at) VALUES ($1, $2, $3, $4)`,
			r.ID, id, string(body), micros(now)); err != nil {
			return err
		}
		step, letters := StepDPARequestWithheld, 0
		if r.NotifyNow() {
			// Rule DPA-09: the controller is told at once, through the outbox.
			step = StepDPARequest
			if letters, err = db.queueLetters(ctx, tx, rec.Controller, by.actor(), requestLetter(rec, r)); err != nil {
				return err
			}
		}
		return db.dpaStep(ctx, tx, &rec.Agreement, step, r.Authority, body, by, nil,
			map[string]any{"request": r.ID, "notified": letters})
	})
	if err != nil {
		return "", fmt.Errorf("record authority request: %w", err)
	}
	return r.ID, nil
}

// agreementAs loads agreement id (locked when lock) for by, who must wear
// the hat of side on it (any side when side is ""; partyHat).
func (db *DB) agreementAs(ctx context.Context, tx *sql.Tx, id string, by DPAActor, side dpa.Side, lock bool) (AgreementRecord, error) {
	rec, err := db.loadAgreement(ctx, tx, id, lock)
	if err != nil {
		return rec, err
	}
	ms, err := memberships(ctx, tx, by)
	if err != nil {
		return rec, err
	}
	return rec, partyHat(ms, &rec.Agreement, side)
}

// hasBeenInForce refuses records on an agreement never signed (pending) or
// discarded with ErrConflict: audit reports, authority requests and breach
// reports are kept only with an agreement that is or has been in force
// (Rules DPA-07, DPA-09).
func hasBeenInForce(rec AgreementRecord) error {
	if rec.Status == dpa.StatusPending || rec.Status == dpa.StatusDiscarded {
		return fmt.Errorf("agreement %s is %s: %w", rec.ID, rec.Status, ErrConflict)
	}
	return nil
}

// requestLetter tells the controller of authority request r (Rule DPA-09).
func requestLetter(rec AgreementRecord, r dpa.AuthorityRequest) governance.Letter {
	return governance.Letter{Kind: LetterDPARequest,
		Subject: "Databehandler har mottatt en forespørsel fra en myndighet",
		Body: fmt.Sprintf("Databehandleren (org.nr. %s) har registrert en forespørsel fra %s om opplysninger som behandles etter databehandleravtalen %s.\n\n"+
			"Mottatt: %s\nHva: %s\nHjemmel: %s\n\nDatabehandleren utleverer ikke opplysningene uten skriftlig forhåndsgodkjenning fra dere, med mindre loven krever det.\n",
			rec.Processor, r.Authority, rec.ID, governance.FormatTime(r.ReceivedAt, osloLocation()), r.What, r.LegalBasis)}
}

// NotifyAuthorityRequest is the processor's "varsle nå" on request reqID
// of agreement id, withheld because the law forbade telling the controller
// (Rule DPA-09): once the law allows it, the controller is sent the
// request's letter and sees the request from then on. A request not
// withheld is refused with ErrConflict.
func (db *DB) NotifyAuthorityRequest(ctx context.Context, id, reqID string, by DPAActor) (dpa.AuthorityRequest, error) {
	var r dpa.AuthorityRequest
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		rec, err := db.agreementAs(ctx, tx, id, by, dpa.Processor, true)
		if err != nil {
			return err
		}
		var body string
		err = tx.QueryRowContext(ctx, `SELECT body FROM dpa_requests WHERE id = $1 AND agreement = $2`, reqID, id).Scan(&body)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("request %s: %w", reqID, ErrNotFound)
		}
		if err != nil {
			return err
		}
		if err := json.Unmarshal([]byte(body), &r); err != nil {
			return err
		}
		if !r.Withheld() {
			return fmt.Errorf("request %s is not withheld: %w", reqID, ErrConflict)
		}
		r.NotifiedAt, r.NotifiedByName = db.now(), by.Name
		b, err := json.Marshal(r)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE dpa_requests SET body = $1 WHERE id = $2`, string(b), r.ID); err != nil {
			return err
		}
		letters, err := db.queueLetters(ctx, tx, rec.Controller, by.actor(), requestLetter(rec, r))
		if err != nil {
			return err
		}
		return db.dpaStep(ctx, tx, &rec.Agreement, StepDPARequestNotified, r.Authority, b, by, nil,
			map[string]any{"request": r.ID, "notified": letters})
	})
	if err != nil {
		return r, fmt.Errorf("notify authority request: %w", err)
	}
	return r, nil
}

// Letters of a stop order, a resumption and an end (Rules DPA-10, DPA-11).
const (
	LetterDPAStop   = "dpa.stop"
	LetterDPAResume = "dpa.resume"
	LetterDPAEnd    = "dpa.end"
)

// LetterDPARequest is the letter telling the controller of an authority's request (Rule DPA-09).
const LetterDPARequest = "dpa.request"

func osloLocation() *time.Location {
	if loc, err := time.LoadLocation("Europe/Oslo"); err == nil {
		return loc
	}
	return time.FixedZone("CET", 3600)
}

// AuthorityRequests lists the authority requests recorded under agreement id, oldest first.
func (db *DB) AuthorityRequests(ctx context.Context, id string) ([]dpa.AuthorityRequest, error) {
	rows, err := db.read.query(ctx, `SELECT body FROM dpa_requests WHERE agreement = $1 ORDER BY recorded_at, id`, id)
	if err != nil {
		return nil, fmt.Errorf("authority requests: %w", err)
	}
	defer rows.Close()
	var out []dpa.AuthorityRequest
	for rows.Next() {
		var body string
		if err := rows.Scan(&body); err != nil {
			return nil, err
		}
		var r dpa.AuthorityRequest
		if err := json.Unmarshal([]byte(body), &r); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// AddAuditReport files an audit report under agreement id (Rule DPA-09),
// for either party's people, while the agreement is or has been in force
// (not pending or discarded). Who may file and where the agreement stands
// are checked before r is read; then it reads at most
// dpa.MaxAuditFileSize+1 bytes of r — a longer file is refused without
// being read to its end — checks the name, the size and the type by the
// file's first bytes (dpa.CheckAuditFile) and by its whole content
// (dpa.CheckAuditContent), and, in the transaction that stores the file in
// the database, the agreement's quota (dpa.CheckAuditQuota).
func (db *DB) AddAuditReport(ctx context.Context, id, title, name string, r io.Reader, by DPAActor) (dpa.AuditReport, error) {
	mayFile := func(tx *sql.Tx, lock bool) (AgreementRecord, error) {
		rec, err := db.agreementAs(ctx, tx, id, by, "", lock)
		if err != nil {
			return rec, err
		}
		return rec, hasBeenInForce(rec)
	}
	if err := db.read.inTx(ctx, func(tx *sql.Tx) error { _, err := mayFile(tx, false); return err }); err != nil {
		return dpa.AuditReport{}, fmt.Errorf("add audit report: %w", err)
	}
	var buf bytes.Buffer
	if _, err := io.Copy(&buf, io.LimitReader(r, dpa.MaxAuditFileSize+1)); err != nil {
		return dpa.AuditReport{}, fmt.Errorf("read audit report: %w", err)
	}
	data := buf.Bytes()
	bad := dpa.ValidateTitle(title)
	clean, ft, fileBad := dpa.CheckAuditFile(name, data[:min(len(data), 512)], int64(len(data)))
	if len(fileBad) == 0 {
		fileBad = dpa.CheckAuditContent(ft, data)
	}
	maps.Copy(bad, fileBad)
	if err := invalid(bad); err != nil {
		return dpa.AuditReport{}, err
	}
	sum := sha256.Sum256(data)
	rep := dpa.AuditReport{ID: newID(), AgreementID: id, Title: strings.TrimSpace(title), Name: clean, Type: ft, Size: int64(len(data)),
		SHA256: hex.EncodeToString(sum[:]), UploadedBy: by.actor(), UploadedAt: db.now()}
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		rec, err := mayFile(tx, true)
		if err != nil {
			return err
		}
		var files int
		var total int64
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(SUM(size), 0) FROM dpa_audit_reports WHERE agreement = $1`, id).Scan(&files, &total); err != nil {
			return err
		}
		if err := invalid(dpa.CheckAuditQuota(files, total, rep.Size)); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO dpa_audit_reports (id, agreement, title, name, type, size, sha256, data, uploaded_by, uploaded_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
			rep.ID, id, rep.Title, rep.Name, string(rep.Type), rep.Size, rep.SHA256, data, rep.UploadedBy, micros(rep.UploadedAt)); err != nil {
			return err
		}
		return db.dpaStep(ctx, tx, &rec.Agreement, StepDPAAuditReport, rep.Title, data, by, nil, map[string]any{"auditReport": rep.ID})
	})
	if err != nil {
		return dpa.AuditReport{}, fmt.Errorf("add audit report: %w", err)
	}
	return rep, nil
}

const auditReportColumns = `id, agreement, title, name, type, size, sha256, uploaded_by, uploaded_at`

func scanAuditReport(row interface{ Scan(...any) error }) (dpa.AuditReport, error) {
	var r dpa.AuditReport
	var ft string
	var at int64
	err := row.Scan(&r.ID, &r.AgreementID, &r.Title, &r.Name, &ft, &r.Size, &r.SHA256, &r.UploadedBy, &at)
	r.Type, r.UploadedAt = dpa.FileType(ft), fromMicros(at)
	return r, err
}

// AuditReports lists the audit reports of agreement id (without their files), oldest first.
func (db *DB) AuditReports(ctx context.Context, id string) ([]dpa.AuditReport, error) {
	rows, err := db.read.query(ctx, `SELECT `+auditReportColumns+` FROM dpa_audit_reports WHERE agreement = $1 ORDER BY uploaded_at, id`, id)
	if err != nil {
		return nil, fmt.Errorf("audit reports: %w", err)
	}
	defer rows.Close()
	var out []dpa.AuditReport
	for rows.Next() {
		r, err := scanAuditReport(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// AuditReportFile writes audit report id's file to w and returns its record.
// The file is at most dpa.MaxAuditFileSize, as stored.
func (db *DB) AuditReportFile(ctx context.Context, id string, w io.Writer) (dpa.AuditReport, error) {
	var data []byte
	var r dpa.AuditReport
	var ft string
	var at int64
	err := db.read.queryRow(ctx, `SELECT `+auditReportColumns+`, data FROM dpa_audit_reports WHERE id = $1`, id).
		Scan(&r.ID, &r.AgreementID, &r.Title, &r.Name, &ft, &r.Size, &r.SHA256, &r.UploadedBy, &at, &data)
	if errors.Is(err, sql.ErrNoRows) {
		return r, fmt.Errorf("audit report %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return r, fmt.Errorf("audit report %s: %w", id, err)
	}
	r.Type, r.UploadedAt = dpa.FileType(ft), fromMicros(at)
	_, err = w.Write(data)
	return r, err
}

// StepDPABreach is the history step of the processor's breach report (Rule DPA-07).
const StepDPABreach = "brudd"

// LetterDPABreach is the letter telling the controller of the processor's breach report (Rule DPA-07).
const LetterDPABreach = "dpa.breach"

// breachLetter is the processor's report to the controller in full (Rule
// DPA-07, a–f): the controller, not the register, assesses it and notifies
// Datatilsynet, and reads the case (caseID) in the portal.
func breachLetter(rec AgreementRecord, r dpa.BreachReport, caseID, late string) string {
	or := func(s string) string {
		if strings.TrimSpace(s) == "" {
			return "ikke oppgitt ennå"
		}
		return s
	}
	return fmt.Sprintf("Databehandleren (org.nr. %s) har meldt et brudd på personopplysningssikkerheten etter databehandleravtalen %s.%s\n\n"+
		"Databehandleren ble kjent med bruddet: %s\n\n"+
		"a) Hva bruddet består i: %s\n   Kategorier registrerte: %s (antall: %s)\n   Kategorier personopplysninger: %s (antall poster: %s)\n"+
		"b) De registrertes identitet: %s\nc) Kontaktpunkt hos databehandleren: %s\nd) Sannsynlige konsekvenser: %s\n"+
		"e) Tiltak som er truffet eller foreslått: %s\nf) Annet: %s\n\n"+
		"Dere er behandlingsansvarlig og vurderer selv melding til Datatilsynet innen 72 timer etter at dere ble kjent med bruddet. "+
		"Saken er avvikssak %s, som dere kan lese i portalen under Avvik.\n",
		rec.Processor, rec.ID, late, governance.FormatTime(r.AwareAt, osloLocation()),
		r.Nature, or(r.SubjectCategories), r.Subjects.String(), or(r.RecordCategories), r.Records.String(),
		or(r.Identities), or(r.Contact), or(r.Consequences), or(r.Measures), or(r.Other), caseID)
}

// ReportProcessorBreach files, for the processor's people, its breach report
// to the controller under agreement id (Rule DPA-07, content a–f), in one
// transaction: it opens a case in the breach handling whose clock starts at
// the processor's awareness (Rules AV-03, AV-05; dpa.BreachReport.IncidentReport),
// tells the controller's contacts at once, and records the report in the
// agreement's history and the log. It returns the breach case's id.
func (db *DB) ReportProcessorBreach(ctx context.Context, id string, r dpa.BreachReport, by DPAActor) (string, error) {
	now := db.now()
	r.AgreementID, r.ReportedBy, r.ReportedByName, r.ReportedAt = id, by.actor(), by.Name, now
	var caseID string
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		rec, err := db.agreementAs(ctx, tx, id, by, dpa.Processor, true)
		if err != nil {
			return err
		}
		if err := hasBeenInForce(rec); err != nil { // Rules DPA-07, DPA-09
			return err
		}
		if err := invalid(r.Validate(now)); err != nil {
			return err
		}
		rep := r.IncidentReport(incident.Actor{UserID: by.UserID, Org: rec.Processor, Role: incident.Reporter, Name: by.Name})
		rep.Controller = rec.Controller // Rule DPA-07: the consumer is the controller; its people see the case
		if caseID, err = db.reportIncident(ctx, tx, rep, "", nil, by.actor()); err != nil {
			return err
		}
		late := ""
		if cur := rec.Current(); cur != nil && r.Late(cur.Content) {
			late = " Meldingen kom etter fristen i databehandleravtalen."
		}
		if _, err := db.queueLetters(ctx, tx, rec.Controller, by.actor(), governance.Letter{Kind: LetterDPABreach,
			Subject: "Databehandler melder brudd på personopplysningssikkerheten",
			Body:    breachLetter(rec, r, caseID, late)}); err != nil {
			return err
		}
		body, err := json.Marshal(r)
		if err != nil {
			return err
		}
		return db.dpaStep(ctx, tx, &rec.Agreement, StepDPABreach, "Avvikssak "+caseID, body, by, nil, map[string]any{"incident": caseID})
	})
	if err != nil {
		return "", fmt.Errorf("report processor breach: %w", err)
	}
	return caseID, nil
}

package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"deling/internal/access"
	"deling/internal/audit"
	"deling/internal/dpa"
	"deling/internal/governance"
	"deling/internal/register"
)

// Applications (søknad), their history, the decisions (vedtak) made on them
// and the grants a decision creates. Every step is one transaction that also
// writes the step into the application's history and an audit.KindApplication
// event into the log (Rule AA-01: no access without an approved application).

const applicationColumns = `id, org, status, replaces, form, question, answer, reasons, granted, segment_id, valid_to,
	signed_by, signed_by_name, signed_at, case_worker, delegation_id, created_at, updated_at`

func scanApplication(row interface{ Scan(...any) error }) (governance.Application, error) {
	var (
		a                  governance.Application
		status, form, refs string
		validTo, signedAt  sql.NullInt64
		created, updated   int64
	)
	err := row.Scan(&a.ID, &a.Org, &status, &a.Replaces, &form, &a.Question, &a.Answer, &a.Reasons, &refs, &a.SegmentID, &validTo,
		&a.SignedBy, &a.SignedByName, &signedAt, &a.CaseWorker, &a.DelegationID, &created, &updated)
	if err != nil {
		return a, err
	}
	if err := json.Unmarshal([]byte(form), &a.Form); err != nil {
		return a, fmt.Errorf("application %s: form: %w", a.ID, err)
	}
	a.Status = governance.AppStatus(status)
	if refs != "" {
		a.Granted = strings.Split(refs, ",")
	}
	a.ValidTo, a.SignedAt = optTime(validTo), optTime(signedAt)
	a.CreatedAt, a.UpdatedAt = fromMicros(created), fromMicros(updated)
	return a, nil
}

// applicationEvent is what the log keeps of a step: no free text, which the history holds.
type applicationEvent struct {
	Application string   `json:"application"`
	Step        string   `json:"step"`
	From        string   `json:"from"`
	To          string   `json:"to"`
	Decision    string   `json:"decision,omitempty"`
	SHA256      string   `json:"sha256,omitempty"`
	Packages    []string `json:"packages,omitempty"`
	Segment     string   `json:"segment,omitempty"`
	Replaces    string   `json:"replaces,omitempty"`
	Changes     []string `json:"changes,omitempty"`
}

// lockApplication loads an application in tx, locking its row on PostgreSQL
// (SQLite's write transaction holds the whole database already).
func (db *DB) lockApplication(ctx context.Context, tx *sql.Tx, id string) (governance.Application, error) {
	q := db.forUpdate(`SELECT ` + applicationColumns + ` FROM applications WHERE id = $1`)
	a, err := scanApplication(tx.QueryRowContext(ctx, q, id))
	if errors.Is(err, sql.ErrNoRows) {
		return a, fmt.Errorf("application %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return a, fmt.Errorf("load application %s: %w", id, err)
	}
	return a, nil
}

// saveApplication writes every column of a in tx.
func saveApplication(ctx context.Context, tx *sql.Tx, a governance.Application) error {
	form, err := json.Marshal(a.Form)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `UPDATE applications SET status = $1, form = $2, question = $3, answer = $4, reasons = $5, granted = $6,
		segment_id = $7, valid_to = $8, signed_by = $9, signed_by_name = $10, signed_at = $11, case_worker = $12, delegation_id = $13,
		updated_at = $14 WHERE id = $15`,
		string(a.Status), string(form), a.Question, a.Answer, a.Reasons, strings.Join(a.Granted, ","), a.SegmentID, nullMicros(a.ValidTo),
		a.SignedBy, a.SignedByName, nullMicros(a.SignedAt), a.CaseWorker, a.DelegationID, micros(a.UpdatedAt), a.ID)
	if err != nil {
		return fmt.Errorf("save application %s: %w", a.ID, err)
	}
	return nil
}

// recordStep writes a step into the application's history and the log, in tx.
func (db *DB) recordStep(ctx context.Context, tx *sql.Tx, a governance.Application, h governance.HistoryEntry, ev applicationEvent) error {
	if _, err := tx.ExecContext(ctx, `INSERT INTO application_history (id, application_id, at, actor, actor_name, step, from_status, to_status, note)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		newID(), a.ID, micros(h.At), h.Actor, h.Name, string(h.Step), string(h.From), string(h.To), h.Note); err != nil {
		return fmt.Errorf("application history: %w", err)
	}
	ev.Application, ev.Step, ev.From, ev.To = a.ID, string(h.Step), string(h.From), string(h.To)
	return db.appendEvent(ctx, tx, audit.KindApplication, a.Org, h.Actor, ev)
}

// CreateApplication stores a new draft of org's (an empty status moving to
// utkast by StepSave): saved at any time, however incomplete.
func (db *DB) CreateApplication(ctx context.Context, org string, form governance.ApplicationForm, actor, name string) (governance.Application, error) {
	now := db.now().UTC()
	a := governance.Application{ID: newID(), Org: org, Status: governance.AppDraft, Form: form, CreatedAt: now, UpdatedAt: now}
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		if err := insertApplication(ctx, tx, a); err != nil {
			return err
		}
		return db.recordStep(ctx, tx, a, governance.HistoryEntry{At: now, Actor: actor, Name: name, Step: governance.StepSave, To: a.Status}, applicationEvent{})
	})
	return a, err
}

func insertApplication(ctx context.Context, tx *sql.Tx, a governance.Application) error {
	form, err := json.Marshal(a.Form)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO applications (id, org, status, replaces, form, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $6)`,
		a.ID, a.Org, string(a.Status), a.Replaces, string(form), micros(a.CreatedAt))
	if err != nil {
		return fmt.Errorf("insert application: %w", err)
	}
	return nil
}

// AmendApplication makes a new draft from an approved application, linked to
// it (Rule AA-05): a change of an approved application is a new application.
// The terms are accepted anew. Only one change may be under way at a time.
func (db *DB) AmendApplication(ctx context.Context, id, actor, name string) (governance.Application, error) {
	now := db.now().UTC()
	var a governance.Application
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		old, err := db.lockApplication(ctx, tx, id)
		if err != nil {
			return err
		}
		if _, ok := governance.Next(old.Status, governance.StepAmend); !ok {
			return fmt.Errorf("amend application %s in status %s: %w", id, old.Status, ErrConflict)
		}
		var open int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM applications WHERE replaces = $1 AND status IN ($2, $3, $4, $5, $6)`,
			id, governance.AppDraft, governance.AppToSign, governance.AppSubmitted, governance.AppInReview, governance.AppNeedsAnswer).Scan(&open); err != nil {
			return err
		}
		if open > 0 {
			return fmt.Errorf("application %s already has a change under way: %w", id, ErrConflict)
		}
		a = governance.Application{ID: newID(), Org: old.Org, Status: governance.AppDraft, Form: old.Form, Replaces: id, CreatedAt: now, UpdatedAt: now}
		a.Form.TermsAccepted = false
		if err := insertApplication(ctx, tx, a); err != nil {
			return err
		}
		if err := db.recordStep(ctx, tx, old, governance.HistoryEntry{At: now, Actor: actor, Name: name, Step: governance.StepAmend,
			From: old.Status, To: old.Status, Note: "Ny søknad " + a.ID + " endrer denne."}, applicationEvent{}); err != nil {
			return err
		}
		return db.recordStep(ctx, tx, a, governance.HistoryEntry{At: now, Actor: actor, Name: name, Step: governance.StepSave, To: a.Status,
			Note: "Laget som endring av søknad " + id + "."}, applicationEvent{Replaces: id})
	})
	return a, err
}

// StepApplication takes one of the steps that change no access: save,
// submit, sign, take, ask, answer, and confirm the integration test. form,
// when not nil, replaces the fields (save, submit, answer); note is the
// question or the answer. The status must allow the step (ErrConflict
// otherwise); the caller has checked the actor's role and the form.
//
// Rule AA-05: when a change of an approved application is signed (or
// answered, the fields may have changed) and its purpose, legal basis,
// processing basis or controller differs from the approved one, the old
// application's access ends at once, in this transaction.
// Each of pre runs on the locked application before the step; an error from one aborts it.
func (db *DB) StepApplication(ctx context.Context, id string, step governance.Step, form *governance.ApplicationForm, note, actor, name string,
	pre ...func(governance.Application) error) (governance.Application, error) {
	switch step {
	case governance.StepSave, governance.StepSubmit, governance.StepSign, governance.StepTake, governance.StepAsk, governance.StepAnswer, governance.StepConfirmTest:
	default:
		return governance.Application{}, fmt.Errorf("step %s: not a plain step", step)
	}
	now := db.now().UTC()
	var a governance.Application
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		if a, err = db.lockApplication(ctx, tx, id); err != nil {
			return err
		}
		for _, p := range pre {
			if err := p(a); err != nil {
				return err
			}
		}
		to, ok := governance.Next(a.Status, step)
		if !ok {
			return fmt.Errorf("%s application %s in status %s: %w", step, id, a.Status, ErrConflict)
		}
		h := governance.HistoryEntry{At: now, Actor: actor, Name: name, Step: step, From: a.Status, To: to}
		var ev applicationEvent
		if form != nil && a.Status.Editable() {
			a.Form = *form
		}
		switch step {
		case governance.StepSign:
			a.SignedBy, a.SignedByName, a.SignedAt = actor, name, &now
		case governance.StepTake:
			a.CaseWorker = name
		case governance.StepAsk:
			a.Question, a.Answer, h.Note = note, "", note
		case governance.StepAnswer:
			a.Answer, h.Note = note, note
		}
		a.Status, a.UpdatedAt = to, now
		if to == governance.AppSubmitted && a.Replaces != "" {
			changes, err := db.checkChange(ctx, tx, a, now, actor, name)
			if err != nil {
				return err
			}
			ev.Replaces, ev.Changes = a.Replaces, changes
			h.Note = strings.TrimSpace(h.Note + "\n" + changeNote(a.Replaces, changes))
		}
		if err := saveApplication(ctx, tx, a); err != nil {
			return err
		}
		return db.recordStep(ctx, tx, a, h, ev)
	})
	return a, err
}

func changeNote(old string, changes []string) string {
	if len(changes) == 0 {
		return "Endring av søknad " + old + " uten vesentlige endringer. Tilgangen etter den gamle søknaden gjelder til det nye vedtaket."
	}
	return "Vesentlig endring av søknad " + old + " (" + strings.Join(changes, ", ") + "): tilgangen etter den gamle søknaden er avsluttet." // Rule AA-05
}

// checkChange compares a change with the approved application it replaces
// and, when the change is substantial, ends the old access (Rule AA-05).
func (db *DB) checkChange(ctx context.Context, tx *sql.Tx, a governance.Application, now time.Time, actor, name string) ([]string, error) {
	old, err := db.lockApplication(ctx, tx, a.Replaces)
	if err != nil {
		return nil, err
	}
	if !old.Status.Approved() {
		return nil, nil // refused, replaced already: no access to end
	}
	changes := governance.Substantial(old.Form, a.Form)
	if len(changes) == 0 {
		return nil, nil
	}
	if err := db.endApplicationAccess(ctx, tx, old, "", governance.SubstantialReason, actor, now); err != nil {
		return nil, err
	}
	return changes, db.replaceApplication(ctx, tx, old, a.ID, changeNote(old.ID, changes), actor, name, now)
}

// replaceApplication marks an approved application replaced by a newer one.
func (db *DB) replaceApplication(ctx context.Context, tx *sql.Tx, old governance.Application, by, note, actor, name string, now time.Time) error {
	to, ok := governance.Next(old.Status, governance.StepReplace)
	if !ok {
		return nil
	}
	h := governance.HistoryEntry{At: now, Actor: actor, Name: name, Step: governance.StepReplace, From: old.Status, To: to, Note: note}
	old.Status, old.UpdatedAt = to, now
	if err := saveApplication(ctx, tx, old); err != nil {
		return err
	}
	return db.recordStep(ctx, tx, old, h, applicationEvent{Replaces: by})
}

// endApplicationAccess ends the grants decided on application a (in env, or in every
// environment when env is ""), and its delegation once no grant of it is
// left: a processor's access derives from the consumer's (Rule AA-13).
func (db *DB) endApplicationAccess(ctx context.Context, tx *sql.Tx, a governance.Application, env register.Env, reason, actor string, now time.Time) error {
	q, args := `SELECT `+grantColumns+` FROM grants WHERE application_id = $1 AND status <> $2`, []any{a.ID, string(access.Ended)}
	if env != "" {
		q, args = q+` AND env = $3`, append(args, string(env))
	}
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("grants of application %s: %w", a.ID, err)
	}
	var gs []access.Grant
	for rows.Next() {
		g, err := scanGrant(rows)
		if err != nil {
			rows.Close()
			return err
		}
		gs = append(gs, g)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, g := range gs {
		if _, err := tx.ExecContext(ctx, `UPDATE grants SET status = $1, status_reason = $2, suspension = '', updated_at = $3 WHERE id = $4`,
			string(access.Ended), reason, micros(now), g.ID); err != nil {
			return err
		}
		if err := db.appendEvent(ctx, tx, audit.KindGrantStatus, g.Consumer, actor,
			map[string]string{"grant": g.ID, "status": string(access.Ended), "reason": reason}); err != nil {
			return err
		}
	}
	var left int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM grants WHERE application_id = $1 AND status <> $2`, a.ID, string(access.Ended)).Scan(&left); err != nil {
		return err
	}
	if left == 0 && a.DelegationID != "" {
		res, err := tx.ExecContext(ctx, `UPDATE delegations SET status = $1, updated_at = $2 WHERE id = $3 AND status <> $1`,
			string(access.Ended), micros(now), a.DelegationID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n > 0 {
			if err := db.appendEvent(ctx, tx, audit.KindDelegationEnded, a.Org, actor, map[string]string{"delegation": a.DelegationID, "reason": reason}); err != nil {
				return err
			}
		}
	}
	if len(gs) == 0 {
		return nil
	}
	return bumpAccess(ctx, tx)
}

// applicationGrants are the grants a decision on a creates in env: one per channel,
// with the application's bases, purpose and query kinds (Rule AA-02).
func applicationGrants(a governance.Application, env register.Env, now time.Time) []access.Grant {
	var out []access.Grant
	for _, ch := range a.Form.Channels {
		out = append(out, access.Grant{
			Consumer: a.Org, Packages: a.Granted, Channel: ch, Env: env,
			LegalBasis: a.Form.LegalBasisText(), ProcessingBasis: a.Form.ProcessingBasisText(), Purpose: a.Form.Purpose,
			QueryKinds: a.Form.QueryKinds, ValidFrom: now, ValidTo: a.ValidTo, Status: access.Active,
			// Rules SK-01, SK-08: under consent, a person's data only under that person's valid consent.
			Consent:       a.Form.BasisKind == governance.BasisConsent,
			ApplicationID: a.ID,
		})
	}
	return out
}

// Approval is a case worker's decision to approve an application.
type Approval struct {
	// Packages to grant: the caller has checked that the applicant asked for
	// every element of each (Rule AA-07, governance.ApplicationForm.CheckGrant).
	Packages []access.Package
	// SegmentID: the packages are the standard package of this segment (Rule SK-06).
	SegmentID string
	// NewSegment, when not nil, is stored as a new segment of Packages and used.
	NewSegment *governance.Segment
	ValidTo    *time.Time
	Location   *time.Location // for dates in the decision's text
}

func packageRefs(ps []access.Package) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.Ref()
	}
	return out
}

// insertDecision renders and stores a decision document in tx.
func insertDecision(ctx context.Context, tx *sql.Tx, f governance.DecisionFacts, org string) (governance.Decision, error) {
	d := governance.Decision{ID: f.ID, ApplicationID: f.ApplicationID, Org: org, Kind: f.Kind, Text: f.Text(), CreatedAt: f.At, CreatedBy: f.CaseWorker}
	d.SHA256 = governance.Digest(d.Text)
	_, err := tx.ExecContext(ctx, `INSERT INTO decisions (id, application_id, org, kind, text, sha256, created_by, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, d.ID, d.ApplicationID, d.Org, string(d.Kind), d.Text, d.SHA256, d.CreatedBy, micros(d.CreatedAt))
	if err != nil {
		return d, fmt.Errorf("store decision: %w", err)
	}
	return d, nil
}

// delegateUnderAgreement makes the delegation to the processor an approved
// application names, under the active agreement between the applicant and
// the processor that covers most of what is granted, for what it covers of
// it: the granted channels and packages the agreement names, to no later
// than its term (Rule SK-04). It returns what it delegated, nil when no
// agreement covers any of it (no agreement, no delegation — the case worker
// delegates later, once the agreement is signed), and what it left out.
func (db *DB) delegateUnderAgreement(ctx context.Context, tx *sql.Tx, a governance.Application, p governance.Processor, actor string, now time.Time) (*governance.DelegationFacts, error) {
	if p.Orgnr == "" {
		return nil, nil
	}
	var chans []access.Channel
	for _, g := range applicationGrants(a, register.EnvTest, now) {
		if !slices.Contains(chans, g.Channel) {
			chans = append(chans, g.Channel)
		}
	}
	recs, err := db.agreements(ctx, tx, a.Org, p.Orgnr)
	if err != nil {
		return nil, err
	}
	var best *dpa.Agreement
	var bestChans []access.Channel
	var bestPkgs []string
	for i := range recs {
		ag := &recs[i].Agreement
		if !ag.ActiveAt(now) {
			continue
		}
		c := ag.InForce(now).Content
		cs := slices.DeleteFunc(slices.Clone(chans), func(ch access.Channel) bool { return !slices.Contains(c.Channels, ch) })
		ps := slices.DeleteFunc(slices.Clone(a.Granted), func(p string) bool { return !slices.Contains(c.Packages, p) })
		if len(cs) == 0 || len(ps) == 0 {
			continue
		}
		if best == nil || len(cs)*len(ps) > len(bestChans)*len(bestPkgs) ||
			(len(cs)*len(ps) == len(bestChans)*len(bestPkgs) && ag.CreatedAt.After(best.CreatedAt)) {
			best, bestChans, bestPkgs = ag, cs, ps
		}
	}
	if best == nil {
		return nil, nil
	}
	dl := access.Delegation{Consumer: a.Org, Processor: p.Orgnr, DPARef: p.DPARef, AgreementID: best.ID,
		Channels: bestChans, Packages: bestPkgs, ValidFrom: now, ValidTo: a.ValidTo}
	if end, ok := best.TermEnd(now); ok && dl.ValidTo != nil && dl.ValidTo.After(end) {
		dl.ValidTo = &end
	}
	if dl, err = db.insertDelegation(ctx, tx, dl, actor, now); err != nil {
		return nil, err
	}
	out := &governance.DelegationFacts{ID: dl.ID, AgreementID: best.ID, Channels: bestChans, Packages: bestPkgs}
	for _, ch := range chans {
		if !slices.Contains(bestChans, ch) {
			out.LeftOut = append(out.LeftOut, string(ch))
		}
	}
	for _, p := range a.Granted {
		if !slices.Contains(bestPkgs, p) {
			out.LeftOut = append(out.LeftOut, p)
		}
	}
	return out, nil
}

// ApproveApplication decides an application in the applicant's favour, in
// one transaction: the consumer is registered (active), the decision
// document is stored (its SHA-256 in the log's event), test grants are
// created, one per channel (Rule AA-03: test before production), and the
// delegation to the named data processor (Rule AA-13) when an agreement
// covers it (Rule SK-04, delegateUnderAgreement). A change of an
// approved application takes over from it: the old test access ends.
func (db *DB) ApproveApplication(ctx context.Context, id string, ap Approval, actor, name string) (governance.Application, governance.Decision, error) {
	now := db.now().UTC()
	var (
		a governance.Application
		d governance.Decision
	)
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		if a, err = db.lockApplication(ctx, tx, id); err != nil {
			return err
		}
		to, ok := governance.Next(a.Status, governance.StepApprove)
		if !ok {
			return fmt.Errorf("approve application %s in status %s: %w", id, a.Status, ErrConflict)
		}
		if len(ap.Packages) == 0 {
			return fmt.Errorf("approve application %s: no packages: %w", id, ErrConflict)
		}
		if err := db.activateApplicant(ctx, tx, a, actor, now); err != nil {
			return err
		}
		segment := ""
		if ap.NewSegment != nil {
			s := *ap.NewSegment
			s.Packages = packageRefs(ap.Packages)
			if s, err = insertSegment(ctx, tx, s, name, now); err != nil {
				return err
			}
			ap.SegmentID = s.ID
		}
		if ap.SegmentID != "" {
			s, err := scanSegment(tx.QueryRowContext(ctx, `SELECT `+segmentColumns+` FROM segments WHERE id = $1`, ap.SegmentID))
			if errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("segment %s: %w", ap.SegmentID, ErrNotFound)
			}
			if err != nil {
				return err
			}
			segment = s.Navn
		}
		h := governance.HistoryEntry{At: now, Actor: actor, Name: name, Step: governance.StepApprove, From: a.Status, To: to}
		a.Status, a.UpdatedAt, a.Granted, a.SegmentID, a.ValidTo, a.CaseWorker = to, now, packageRefs(ap.Packages), ap.SegmentID, ap.ValidTo, name
		for _, g := range applicationGrants(a, register.EnvTest, now) {
			if _, err := db.insertGrant(ctx, tx, g, actor, now); err != nil {
				return err
			}
		}
		var delegated *governance.DelegationFacts
		if p := a.Form.Processor; p.Named() {
			if delegated, err = db.delegateUnderAgreement(ctx, tx, a, p, actor, now); err != nil {
				return err
			}
			if delegated != nil {
				a.DelegationID = delegated.ID
			}
		}
		// The decision states the delegation made, or that none was (Rule SK-04).
		d, err = insertDecision(ctx, tx, governance.DecisionFacts{ID: newID(), ApplicationID: a.ID, Kind: governance.DecisionApproval, At: now,
			Location: ap.Location, CaseWorker: name, Application: a, Packages: ap.Packages, Segment: segment, Env: register.EnvTest,
			ValidFrom: now, ValidTo: a.ValidTo, Delegation: delegated}, a.Org)
		if err != nil {
			return err
		}
		if err := saveApplication(ctx, tx, a); err != nil {
			return err
		}
		h.Note = "Vedtak " + d.ID + "."
		if err := db.recordStep(ctx, tx, a, h, applicationEvent{Decision: d.ID, SHA256: d.SHA256, Packages: a.Granted, Segment: a.SegmentID, Replaces: a.Replaces}); err != nil {
			return err
		}
		if a.Replaces == "" {
			return nil
		}
		// The old access lasts until this decision; in production, until production access is decided.
		old, err := db.lockApplication(ctx, tx, a.Replaces)
		if err != nil {
			return err
		}
		if err := db.endApplicationAccess(ctx, tx, old, register.EnvTest, "erstattet av nytt vedtak "+d.ID, actor, now); err != nil {
			return err
		}
		return db.replaceApplication(ctx, tx, old, a.ID, "Erstattet av søknad "+a.ID+", vedtak "+d.ID+".", actor, name, now)
	})
	return a, d, err
}

// activateApplicant registers the applicant as an active consumer, keeping its
// category. An organisation that has ceased gets no new access (Rule AA-26).
func (db *DB) activateApplicant(ctx context.Context, tx *sql.Tx, a governance.Application, actor string, now time.Time) error {
	c := access.Consumer{Orgnr: a.Org, Navn: a.Form.Navn, Status: access.Active}
	var status string
	err := tx.QueryRowContext(ctx, `SELECT status, category FROM consumers WHERE orgnr = $1`, a.Org).Scan(&status, &c.Category)
	switch {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return err
	case access.Status(status) == access.Ceased:
		return fmt.Errorf("consumer %s has ceased: %w", a.Org, ErrConflict)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO consumers (orgnr, navn, status, category, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5)
		ON CONFLICT (orgnr) DO UPDATE SET navn = excluded.navn, status = excluded.status, updated_at = excluded.updated_at`,
		c.Orgnr, c.Navn, string(c.Status), c.Category, micros(now)); err != nil {
		return fmt.Errorf("upsert consumer: %w", err)
	}
	if err := bumpAccess(ctx, tx); err != nil {
		return err
	}
	if err := db.appendEvent(ctx, tx, audit.KindConsumerChanged, c.Orgnr, actor, c); err != nil {
		return err
	}
	// The application's contact persons become the consumer's, when it has none
	// yet; from then on the consumer keeps them current itself (Rule AA-06).
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM contacts WHERE consumer = $1`, a.Org).Scan(&n); err != nil {
		return err
	}
	for _, k := range []governance.Contact{a.Form.Admin, a.Form.Technical} {
		if n > 0 || k.Epost == "" {
			continue
		}
		k.ID, k.Consumer = newID(), a.Org
		if _, err := tx.ExecContext(ctx, `INSERT INTO contacts (id, consumer, navn, epost, telefon, rolle, varsler, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)`, k.ID, k.Consumer, k.Navn, k.Epost, k.Telefon, string(k.Rolle), k.Varsler, micros(now)); err != nil {
			return fmt.Errorf("add contact: %w", err)
		}
		if err := db.appendEvent(ctx, tx, audit.KindContactChanged, a.Org, actor, map[string]any{"contact": k.ID, "rolle": k.Rolle, "from": "application"}); err != nil {
			return err
		}
	}
	return nil
}

// ApproveProduction gives production access after the consumer confirmed its
// integration test (Rule AA-03): prod grants with the test grants' content,
// and a decision document. A change of an approved application takes over
// the old production access now.
func (db *DB) ApproveProduction(ctx context.Context, id string, packages []access.Package, loc *time.Location, actor, name string) (governance.Application, governance.Decision, error) {
	now := db.now().UTC()
	var (
		a governance.Application
		d governance.Decision
	)
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		if a, err = db.lockApplication(ctx, tx, id); err != nil {
			return err
		}
		to, ok := governance.Next(a.Status, governance.StepApproveProd)
		if !ok {
			return fmt.Errorf("approve production of application %s in status %s: %w", id, a.Status, ErrConflict)
		}
		var status string
		if err := tx.QueryRowContext(ctx, `SELECT status FROM consumers WHERE orgnr = $1`, a.Org).Scan(&status); err != nil || access.Status(status) != access.Active {
			return fmt.Errorf("consumer %s is not active (%v): %w", a.Org, err, ErrConflict)
		}
		h := governance.HistoryEntry{At: now, Actor: actor, Name: name, Step: governance.StepApproveProd, From: a.Status, To: to}
		a.Status, a.UpdatedAt = to, now
		for _, g := range applicationGrants(a, register.EnvProd, now) {
			if _, err := db.insertGrant(ctx, tx, g, actor, now); err != nil {
				return err
			}
		}
		d, err = insertDecision(ctx, tx, governance.DecisionFacts{ID: newID(), ApplicationID: a.ID, Kind: governance.DecisionProduction, At: now,
			Location: loc, CaseWorker: name, Application: a, Packages: packages, Env: register.EnvProd, ValidFrom: now, ValidTo: a.ValidTo}, a.Org)
		if err != nil {
			return err
		}
		if err := saveApplication(ctx, tx, a); err != nil {
			return err
		}
		h.Note = "Vedtak " + d.ID + "."
		if err := db.recordStep(ctx, tx, a, h, applicationEvent{Decision: d.ID, SHA256: d.SHA256, Packages: a.Granted}); err != nil {
			return err
		}
		if a.Replaces == "" {
			return nil
		}
		old, err := db.lockApplication(ctx, tx, a.Replaces)
		if err != nil {
			return err
		}
		return db.endApplicationAccess(ctx, tx, old, register.EnvProd, "erstattet av nytt vedtak "+d.ID, actor, now)
	})
	return a, d, err
}

// RefuseApplication refuses an application with reasons, in a decision the consumer can read.
func (db *DB) RefuseApplication(ctx context.Context, id, reasons string, loc *time.Location, actor, name string) (governance.Application, governance.Decision, error) {
	now := db.now().UTC()
	var (
		a governance.Application
		d governance.Decision
	)
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		if a, err = db.lockApplication(ctx, tx, id); err != nil {
			return err
		}
		to, ok := governance.Next(a.Status, governance.StepRefuse)
		if !ok {
			return fmt.Errorf("refuse application %s in status %s: %w", id, a.Status, ErrConflict)
		}
		h := governance.HistoryEntry{At: now, Actor: actor, Name: name, Step: governance.StepRefuse, From: a.Status, To: to}
		a.Status, a.UpdatedAt, a.Reasons, a.CaseWorker = to, now, reasons, name
		d, err = insertDecision(ctx, tx, governance.DecisionFacts{ID: newID(), ApplicationID: a.ID, Kind: governance.DecisionRefusal, At: now,
			Location: loc, CaseWorker: name, Application: a, Reasons: reasons}, a.Org)
		if err != nil {
			return err
		}
		if err := saveApplication(ctx, tx, a); err != nil {
			return err
		}
		h.Note = reasons
		return db.recordStep(ctx, tx, a, h, applicationEvent{Decision: d.ID, SHA256: d.SHA256})
	})
	return a, d, err
}

// Application loads one application.
func (db *DB) Application(ctx context.Context, id string) (governance.Application, error) {
	a, err := scanApplication(db.read.queryRow(ctx, `SELECT `+applicationColumns+` FROM applications WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return a, fmt.Errorf("application %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return a, fmt.Errorf("load application %s: %w", id, err)
	}
	return a, nil
}

func scanApplications(rows *sql.Rows, err error) ([]governance.Application, error) {
	if err != nil {
		return nil, fmt.Errorf("applications: %w", err)
	}
	defer rows.Close()
	var out []governance.Application
	for rows.Next() {
		a, err := scanApplication(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// Applications lists an organisation's applications, newest first.
func (db *DB) Applications(ctx context.Context, org string) ([]governance.Application, error) {
	return scanApplications(db.read.query(ctx, `SELECT `+applicationColumns+` FROM applications WHERE org = $1 ORDER BY created_at DESC, id DESC`, org))
}

// ApplicationQueue lists every organisation's applications in the statuses
// (all when none), the longest waiting first: the case workers' queue.
func (db *DB) ApplicationQueue(ctx context.Context, statuses ...governance.AppStatus) ([]governance.Application, error) {
	q := `SELECT ` + applicationColumns + ` FROM applications`
	var args []any
	if len(statuses) > 0 {
		ph := make([]string, len(statuses))
		for i, s := range statuses {
			ph[i] = "$" + strconv.Itoa(i+1)
			args = append(args, string(s))
		}
		q += ` WHERE status IN (` + strings.Join(ph, ", ") + `)`
	}
	return scanApplications(db.read.query(ctx, q+` ORDER BY updated_at, id`, args...))
}

// Successors lists the applications that change application id (Rule AA-05), newest first.
func (db *DB) Successors(ctx context.Context, id string) ([]governance.Application, error) {
	return scanApplications(db.read.query(ctx, `SELECT `+applicationColumns+` FROM applications WHERE replaces = $1 ORDER BY created_at DESC, id DESC`, id))
}

// ApplicationHistory is every step of an application, in order.
func (db *DB) ApplicationHistory(ctx context.Context, id string) ([]governance.HistoryEntry, error) {
	rows, err := db.read.query(ctx, `SELECT at, actor, actor_name, step, from_status, to_status, note FROM application_history
		WHERE application_id = $1 ORDER BY at, id`, id)
	if err != nil {
		return nil, fmt.Errorf("application history: %w", err)
	}
	defer rows.Close()
	var out []governance.HistoryEntry
	for rows.Next() {
		var (
			h              governance.HistoryEntry
			at             int64
			step, from, to string
		)
		if err := rows.Scan(&at, &h.Actor, &h.Name, &step, &from, &to, &h.Note); err != nil {
			return nil, err
		}
		h.At, h.Step, h.From, h.To = fromMicros(at), governance.Step(step), governance.AppStatus(from), governance.AppStatus(to)
		out = append(out, h)
	}
	return out, rows.Err()
}

const decisionColumns = `id, application_id, org, kind, text, sha256, created_by, created_at`

func scanDecision(row interface{ Scan(...any) error }) (governance.Decision, error) {
	var (
		d    governance.Decision
		kind string
		at   int64
	)
	err := row.Scan(&d.ID, &d.ApplicationID, &d.Org, &kind, &d.Text, &d.SHA256, &d.CreatedBy, &at)
	d.Kind, d.CreatedAt = governance.DecisionKind(kind), fromMicros(at)
	return d, err
}

// Decision loads a decision document.
func (db *DB) Decision(ctx context.Context, id string) (governance.Decision, error) {
	d, err := scanDecision(db.read.queryRow(ctx, `SELECT `+decisionColumns+` FROM decisions WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return d, fmt.Errorf("decision %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return d, fmt.Errorf("load decision %s: %w", id, err)
	}
	return d, nil
}

// Decisions lists the decisions made on an application, in order.
func (db *DB) Decisions(ctx context.Context, applicationID string) ([]governance.Decision, error) {
	rows, err := db.read.query(ctx, `SELECT `+decisionColumns+` FROM decisions WHERE application_id = $1 ORDER BY created_at, id`, applicationID)
	if err != nil {
		return nil, fmt.Errorf("decisions: %w", err)
	}
	defer rows.Close()
	var out []governance.Decision
	for rows.Next() {
		d, err := scanDecision(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

const segmentColumns = `id, navn, beskrivelse, packages`

func scanSegment(row interface{ Scan(...any) error }) (governance.Segment, error) {
	var s governance.Segment
	var pkgs string
	err := row.Scan(&s.ID, &s.Navn, &s.Beskrivelse, &pkgs)
	if pkgs != "" {
		s.Packages = strings.Split(pkgs, ",")
	}
	return s, err
}

func insertSegment(ctx context.Context, tx *sql.Tx, s governance.Segment, by string, now time.Time) (governance.Segment, error) {
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM segments WHERE navn = $1`, s.Navn).Scan(&n); err != nil {
		return s, err
	}
	if n > 0 {
		return s, fmt.Errorf("segment %q: %w", s.Navn, ErrExists)
	}
	s.ID = newID()
	_, err := tx.ExecContext(ctx, `INSERT INTO segments (id, navn, beskrivelse, packages, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6)`,
		s.ID, s.Navn, s.Beskrivelse, strings.Join(s.Packages, ","), by, micros(now))
	if err != nil {
		return s, fmt.Errorf("add segment: %w", err)
	}
	return s, nil
}

// Segments lists the segments by name (Rule SK-06).
func (db *DB) Segments(ctx context.Context) ([]governance.Segment, error) {
	rows, err := db.read.query(ctx, `SELECT `+segmentColumns+` FROM segments ORDER BY navn, id`)
	if err != nil {
		return nil, fmt.Errorf("segments: %w", err)
	}
	defer rows.Close()
	var out []governance.Segment
	for rows.Next() {
		s, err := scanSegment(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// SegmentMembers counts, per segment, the organisations whose approved application was granted its standard package.
func (db *DB) SegmentMembers(ctx context.Context) (map[string]int, error) {
	rows, err := db.read.query(ctx, `SELECT segment_id, COUNT(DISTINCT org) FROM applications WHERE segment_id <> '' AND status IN ($1, $2, $3)
		GROUP BY segment_id`, governance.AppApproved, governance.AppProdRequested, governance.AppProduction)
	if err != nil {
		return nil, fmt.Errorf("segment members: %w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var id string
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			return nil, err
		}
		out[id] = n
	}
	return out, rows.Err()
}

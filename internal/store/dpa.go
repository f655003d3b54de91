package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"deling/internal/access"
	"deling/internal/dpa"
	"deling/internal/governance"
	"deling/internal/register"
)

// Data processing agreements (issue 13). internal/dpa decides what may
// happen to an agreement; this file keeps it and carries out each step in
// one transaction with its history entry, its event in the lookup log
// (KindDPA, with the SHA-256 of what the step recorded and, for a version,
// of its document), the letters that go with it, and — for a stop order, a
// resumption and an end — the change to the delegations resting on it
// (Rules SK-04, DPA-10, DPA-11). Who may take a step is decided from the
// memberships the store itself holds for the acting user, never from what
// a caller says they hold.

// KindDPA is the event of a step on a data processing agreement.
const KindDPA = "dpa.changed"

// DPAActor is the person taking a step: a portal user.
type DPAActor struct {
	UserID string
	Name   string // as shown, and as signatures record it
}

// actor is a as the log names people; the system itself is "deling".
func (a DPAActor) actor() string {
	if a.UserID == "" {
		return "deling"
	}
	return "user:" + a.UserID
}

// DPARules are what validation needs: the environment the portal serves
// (the test environment has synthetic organisations only) and the package
// catalogue an agreement's packages are checked against.
type DPARules struct {
	Env register.Env
	Cat *access.Catalogue
}

// InvalidError is bad input, by form field, in Norwegian; nothing was stored.
type InvalidError struct{ Fields map[string]string }

func (e *InvalidError) Error() string {
	keys := slices.Sorted(maps.Keys(e.Fields))
	return "invalid input: " + strings.Join(keys, ", ")
}

// invalid is an *InvalidError for bad, or nil when bad is empty.
func invalid(bad map[string]string) error {
	if len(bad) == 0 {
		return nil
	}
	return &InvalidError{Fields: bad}
}

// AgreementRecord is an agreement as stored.
type AgreementRecord struct {
	dpa.Agreement
	RemindedTo time.Time // the deletion reminders are sent up to here (Rule DPA-10)
	UpdatedAt  time.Time
}

// AgreementEntry is one entry of an agreement's history.
type AgreementEntry struct {
	At     time.Time
	Step   string
	Status dpa.Status
	Actor  string
	Name   string
	Note   string
	SHA256 string // of what the step recorded
}

// Steps of the history beside dpa's.
const (
	StepDPASubProcessor = "underdatabehandler"    // a sub-processor proposed, approved, refused or removed (Rule DPA-05)
	StepDPARequest      = "myndighetsforesporsel" // an authority's request recorded (Rule DPA-09)
	// StepDPARequestWithheld is a request recorded that the law forbids
	// telling the controller: its entry is shown to the processor and the
	// register only (Rule DPA-09).
	StepDPARequestWithheld = "myndighetsforesporsel_utsatt"
	StepDPARequestNotified = "myndighetsforesporsel_varslet" // a withheld request told to the controller (Rule DPA-09)
	StepDPAAuditReport     = "revisjonsrapport"              // an audit report filed (Rule DPA-09)
	StepDPAReminder        = "paminnelse_sletting"           // a deletion reminder sent (Rule DPA-10)
)

type queryer interface {
	QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row
}

const agreementColumns = `id, controller, processor, status, stop_order, ending, deletion, reminded_to, created_at, updated_at`

func scanAgreement(row interface{ Scan(...any) error }) (AgreementRecord, error) {
	var (
		r                      AgreementRecord
		status                 string
		stop, ending, deletion sql.NullString
		reminded, created, upd int64
	)
	if err := row.Scan(&r.ID, &r.Controller, &r.Processor, &status, &stop, &ending, &deletion, &reminded, &created, &upd); err != nil {
		return r, err
	}
	r.Status, r.CreatedAt, r.UpdatedAt = dpa.Status(status), fromMicros(created), fromMicros(upd)
	if reminded > 0 {
		r.RemindedTo = fromMicros(reminded)
	}
	for _, f := range []struct {
		s   sql.NullString
		dst any
	}{{stop, &r.Stop}, {ending, &r.Ending}, {deletion, &r.Deletion}} {
		if f.s.Valid {
			if err := json.Unmarshal([]byte(f.s.String), f.dst); err != nil {
				return r, fmt.Errorf("agreement %s: %w", r.ID, err)
			}
		}
	}
	return r, nil
}

// loadAgreement loads agreement id with its versions through q (a
// transaction locks its row on PostgreSQL when lock is set).
func (db *DB) loadAgreement(ctx context.Context, q queryer, id string, lock bool) (AgreementRecord, error) {
	sel := `SELECT ` + agreementColumns + ` FROM dpa_agreements WHERE id = $1`
	if lock {
		sel = db.forUpdate(sel)
	}
	r, err := scanAgreement(q.QueryRowContext(ctx, sel, id))
	if errors.Is(err, sql.ErrNoRows) {
		return r, fmt.Errorf("agreement %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return r, fmt.Errorf("load agreement %s: %w", id, err)
	}
	r.Versions, err = loadVersions(ctx, q, id)
	return r, err
}

func loadVersions(ctx context.Context, q queryer, id string) ([]dpa.Version, error) {
	rows, err := q.QueryContext(ctx, `SELECT number, content, status, controller_sig, processor_sig, in_force_at, note, created_at
		FROM dpa_versions WHERE agreement = $1 ORDER BY number`, id)
	if err != nil {
		return nil, fmt.Errorf("versions of %s: %w", id, err)
	}
	defer rows.Close()
	var out []dpa.Version
	for rows.Next() {
		var (
			v               dpa.Version
			content, status string
			csig, psig      sql.NullString
			inForce         sql.NullInt64
			created         int64
		)
		if err := rows.Scan(&v.Number, &content, &status, &csig, &psig, &inForce, &v.Note, &created); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(content), &v.Content); err != nil {
			return nil, fmt.Errorf("version %d of %s: %w", v.Number, id, err)
		}
		for _, s := range []struct {
			s   sql.NullString
			dst **dpa.Signature
		}{{csig, &v.ControllerSig}, {psig, &v.ProcessorSig}} {
			if s.s.Valid {
				*s.dst = new(dpa.Signature)
				if err := json.Unmarshal([]byte(s.s.String), *s.dst); err != nil {
					return nil, err
				}
			}
		}
		v.Status, v.CreatedAt = dpa.VersionStatus(status), fromMicros(created)
		if inForce.Valid {
			v.InForceAt = fromMicros(inForce.Int64)
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// ptrJSON is *p as JSON text, or NULL for a nil p.
func ptrJSON[T any](p *T) (any, error) {
	if p == nil {
		return nil, nil
	}
	return optJSON(p)
}

// saveAgreement writes the agreement's row and every version in tx.
func saveAgreement(ctx context.Context, tx *sql.Tx, a *dpa.Agreement, now time.Time) error {
	stop, err := ptrJSON(a.Stop)
	if err != nil {
		return err
	}
	ending, err := ptrJSON(a.Ending)
	if err != nil {
		return err
	}
	deletion, err := ptrJSON(a.Deletion)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE dpa_agreements SET status = $1, stop_order = $2, ending = $3, deletion = $4, updated_at = $5 WHERE id = $6`,
		string(a.Status), stop, ending, deletion, micros(now), a.ID); err != nil {
		return fmt.Errorf("save agreement %s: %w", a.ID, err)
	}
	for i := range a.Versions {
		v := &a.Versions[i]
		content, err := json.Marshal(v.Content)
		if err != nil {
			return err
		}
		csig, err := ptrJSON(v.ControllerSig)
		if err != nil {
			return err
		}
		psig, err := ptrJSON(v.ProcessorSig)
		if err != nil {
			return err
		}
		var inForce any
		if !v.InForceAt.IsZero() {
			inForce = micros(v.InForceAt)
		}
		if v.CreatedAt.IsZero() {
			v.CreatedAt = now
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO dpa_versions (agreement, number, content, status, controller_sig, processor_sig, in_force_at, note, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
			ON CONFLICT (agreement, number) DO UPDATE SET content = excluded.content, status = excluded.status,
				controller_sig = excluded.controller_sig, processor_sig = excluded.processor_sig, in_force_at = excluded.in_force_at, note = excluded.note`,
			a.ID, v.Number, string(content), string(v.Status), csig, psig, inForce, v.Note, micros(v.CreatedAt)); err != nil {
			return fmt.Errorf("save version %d of %s: %w", v.Number, a.ID, err)
		}
	}
	return nil
}

// dpaStep records a step: its history entry and its event in the log, which
// holds the SHA-256 of what the step recorded (content) and the content
// hash and document SHA-256 of the version the step concerns — v, or when
// nil (a record, a stop order, a reminder) the version in force, else the newest (Rule DPA-01).
func (db *DB) dpaStep(ctx context.Context, tx *sql.Tx, a *dpa.Agreement, step, note string, content []byte, by DPAActor, v *dpa.Version, extra map[string]any) error {
	if v == nil {
		if v = a.Current(); v == nil {
			v = a.Newest()
		}
	}
	sum := sha256.Sum256(content)
	digest := hex.EncodeToString(sum[:])
	if _, err := tx.ExecContext(ctx, `INSERT INTO dpa_history (id, agreement, at, step, status, actor, name, note, sha256) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		newID(), a.ID, micros(db.now()), step, string(a.Status), by.actor(), by.Name, note, digest); err != nil {
		return fmt.Errorf("agreement history: %w", err)
	}
	ev := map[string]any{"agreement": a.ID, "controller": a.Controller, "processor": a.Processor, "step": step,
		"status": a.Status, "sha256": digest}
	if v != nil {
		ev["version"], ev["versionStatus"] = v.Number, v.Status
		ev["contentSha256"], ev["documentSha256"] = v.Hash(), dpa.DocumentDigest(v)
	}
	maps.Copy(ev, extra)
	return db.appendEvent(ctx, tx, KindDPA, a.Controller, by.actor(), ev)
}

// memberships are the roles by holds, read in tx.
func memberships(ctx context.Context, tx *sql.Tx, by DPAActor) ([]governance.Membership, error) {
	if by.UserID == "" {
		return nil, fmt.Errorf("no user: %w", dpa.ErrNotYourStep)
	}
	return scanMemberships(tx.QueryContext(ctx, `SELECT `+membershipColumns+` FROM memberships m WHERE user_id = $1
		AND NOT EXISTS (SELECT 1 FROM users u WHERE u.id = m.user_id AND u.disabled_at IS NOT NULL) ORDER BY org, role`, by.UserID))
}

// CreateAgreement stores a new agreement drafted by the controller's
// administrator or role holder (Rule DPA-01): version 1 as a draft with
// content c, whose controller is by's organisation. It returns the id.
func (db *DB) CreateAgreement(ctx context.Context, rules DPARules, c dpa.Content, by DPAActor) (string, error) {
	now := db.now()
	a := dpa.Agreement{ID: newID(), Controller: strings.TrimSpace(c.Controller.Orgnr), Processor: strings.TrimSpace(c.Processor.Orgnr), CreatedAt: now}
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		ms, err := memberships(ctx, tx, by)
		if err != nil {
			return err
		}
		to, err := dpa.TransitionOn(&a, dpa.StepSave, by.actor(), ms)
		if err != nil {
			return err
		}
		if err := invalid(c.ValidateDraft(rules.Cat)); err != nil {
			return err
		}
		if a.Controller == "" || a.Processor == "" || a.Controller == a.Processor {
			return invalid(map[string]string{dpa.FieldProcessorOrgnr: "Oppgi en databehandler som er en annen virksomhet enn behandlingsansvarlig."})
		}
		a.Status = to.Agreement
		a.Versions = []dpa.Version{{Number: 1, Content: c, Status: to.Version, CreatedAt: now}}
		if _, err := tx.ExecContext(ctx, `INSERT INTO dpa_agreements (id, controller, processor, status, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5)`,
			a.ID, a.Controller, a.Processor, string(a.Status), micros(now)); err != nil {
			return err
		}
		if err := saveAgreement(ctx, tx, &a, now); err != nil {
			return err
		}
		return db.dpaStep(ctx, tx, &a, string(dpa.StepSave), "", dpa.Canonical(c), by, &a.Versions[0], nil)
	})
	if err != nil {
		return "", fmt.Errorf("create agreement: %w", err)
	}
	return a.ID, nil
}

// StepInput is what a step carries; each step reads its own part.
type StepInput struct {
	Content     *dpa.Content             // StepSave, StepProcessorSave
	Seen        string                   // the signing steps: the content hash the page showed (Rule DPA-01)
	Note        string                   // StepReturn, StepReopen, StepRevise, StepDiscard
	Reason      string                   // StepStop, StepResume (Rule DPA-11)
	Ending      *dpa.Ending              // StepEnd: reason and choice (Rule DPA-10)
	Certificate *dpa.DeletionCertificate // StepConfirmDeletion (Rule DPA-10)
	// Letters are queued with the step besides the notices the store sends
	// itself (a stop order, a resumption and an end tell the processor); To
	// "" goes to the contacts of the party Consumer names.
	Letters []governance.Letter
}

// StepAgreement takes step on agreement id for by, in one transaction:
// who may take it (dpa.TransitionOn, from the memberships stored for by),
// what it needs (dpa.Agreement.Ready and the Validate functions), the
// change, its history entry and event, and its letters. A stop order
// suspends the agreement's active delegations and a resumption resumes them
// (Rule DPA-11); an end ends them (Rules SK-04, DPA-10) — each bumping the
// access version, so the processor's next token request and API call see it.
// Bad input is an *InvalidError and changes nothing.
func (db *DB) StepAgreement(ctx context.Context, rules DPARules, id string, step dpa.Step, in StepInput, by DPAActor) (AgreementRecord, error) {
	var rec AgreementRecord
	now := db.now()
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		if rec, err = db.loadAgreement(ctx, tx, id, true); err != nil {
			return err
		}
		a := &rec.Agreement
		ms, err := memberships(ctx, tx, by)
		if err != nil {
			return err
		}
		to, err := dpa.TransitionOn(a, step, by.actor(), ms)
		if err != nil {
			return err
		}
		if err := a.Ready(step, rules.Env, rules.Cat); err != nil {
			return err
		}
		v := a.Newest()
		var recorded []byte
		note := in.Note
		switch step {
		case dpa.StepSave, dpa.StepProcessorSave:
			if in.Content == nil {
				return invalid(map[string]string{dpa.FieldMainAgreement: "Skjemaet mangler."})
			}
			if step == dpa.StepSave {
				v.Content = v.Content.WithControllerPart(*in.Content)
			} else {
				v.Content = v.Content.WithProcessorPart(*in.Content)
			}
			if v.Content.Controller.Orgnr != a.Controller || v.Content.Processor.Orgnr != a.Processor {
				return invalid(map[string]string{dpa.FieldProcessorOrgnr: "Partene i avtalen kan ikke endres. Opprett en ny avtale."})
			}
			if err := invalid(v.Content.ValidateDraft(rules.Cat)); err != nil {
				return err
			}
			recorded = dpa.Canonical(v.Content)
		case dpa.StepReopen, dpa.StepRevise:
			v.ControllerSig, v.ProcessorSig = nil, nil // the signatures lapse
		case dpa.StepSignController, dpa.StepSignProcessor:
			// Rule DPA-01: exactly the version shown.
			if err := v.CheckSeen(in.Seen); err != nil {
				return fmt.Errorf("%w: %w", err, ErrConflict)
			}
			sig := &dpa.Signature{Actor: by.actor(), Name: by.Name, At: now, Hash: v.Hash()}
			if step == dpa.StepSignController {
				v.ControllerSig = sig
			} else {
				v.ProcessorSig = sig
			}
			recorded = []byte(sig.Hash)
			if to.Version == dpa.VersionSigned {
				v.InForceAt = now
				for i := range a.Versions[:len(a.Versions)-1] {
					if a.Versions[i].Status == dpa.VersionSigned {
						a.Versions[i].Status = dpa.VersionSuperseded
					}
				}
			}
		case dpa.StepAmend:
			subs, err := subProcessors(ctx, tx, a.ID)
			if err != nil {
				return err
			}
			a.Versions = append(a.Versions, dpa.Version{Number: v.Number + 1, Content: a.AmendFrom(subs, now), CreatedAt: now})
			v = a.Newest()
			recorded = dpa.Canonical(v.Content)
		case dpa.StepStop:
			if err := invalid(dpa.ValidateStop(in.Reason)); err != nil {
				return err
			}
			a.Stop = &dpa.StopOrder{OrderedBy: by.actor(), OrderedByName: by.Name, OrderedAt: now, Reason: strings.TrimSpace(in.Reason)}
			note = a.Stop.Reason
			// Rule DPA-11: the processor is told at once.
			in.Letters = append(in.Letters, governance.Letter{Consumer: a.Processor, Kind: LetterDPAStop,
				Subject: "Pålegg om stans av behandlingen etter databehandleravtale",
				Body: fmt.Sprintf("Behandlingsansvarlig (org.nr. %s) har pålagt dere å stanse all behandling etter databehandleravtalen %s straks.\n\n"+
					"Begrunnelse: %s\n\nTilgangen til registeret er stanset til behandlingsansvarlig beslutter å gjenoppta behandlingen.\n",
					a.Controller, a.ID, a.Stop.Reason)})
			if err := db.setDelegations(ctx, tx, a, access.Active, access.Suspended, by, now); err != nil {
				return err
			}
		case dpa.StepResume:
			if err := invalid(dpa.ValidateResume(in.Reason)); err != nil {
				return err
			}
			if a.Stop == nil {
				return fmt.Errorf("no stop order to resume: %w", ErrConflict)
			}
			a.Stop.ResumedBy, a.Stop.ResumedAt, a.Stop.ResumeReason = by.actor(), now, strings.TrimSpace(in.Reason)
			note = a.Stop.ResumeReason
			in.Letters = append(in.Letters, governance.Letter{Consumer: a.Processor, Kind: LetterDPAResume,
				Subject: "Behandlingen etter databehandleravtale kan gjenopptas",
				Body: fmt.Sprintf("Behandlingsansvarlig (org.nr. %s) har besluttet å gjenoppta behandlingen etter databehandleravtalen %s.\n\nBeslutning: %s\n",
					a.Controller, a.ID, a.Stop.ResumeReason)})
			// Rule DPA-11: only the controller's new decision resumes, and
			// only what the stop order suspended.
			if err := db.setDelegations(ctx, tx, a, access.Suspended, access.Active, by, now); err != nil {
				return err
			}
		case dpa.StepEnd:
			if in.Ending == nil {
				return invalid(map[string]string{dpa.FieldEndReason: "Skriv hvorfor avtalen avsluttes."})
			}
			e := *in.Ending
			e.Side = sideOf(dpa.Hats(ms, a.Controller, a.Processor))
			if err := invalid(dpa.ValidateEnd(&e)); err != nil {
				return err
			}
			days := 0
			if cur := a.Current(); cur != nil {
				days = cur.Content.DeletionDays
			}
			e.EndedBy, e.EndedByName, e.EndedAt, e.Reason = by.actor(), by.Name, now, strings.TrimSpace(e.Reason)
			e.DeletionDue = dpa.DeletionDue(now, days)
			a.Ending, note = &e, e.Reason
			// Rule DPA-10: the processor is told what to do and by when; the other party that it ended.
			in.Letters = append(in.Letters, governance.Letter{Consumer: a.Processor, Kind: LetterDPAEnd,
				Subject: "Databehandleravtalen er avsluttet – frist for sletting " + governance.FormatTime(e.DeletionDue, osloLocation()),
				Body: fmt.Sprintf("Databehandleravtalen %s mellom %s og %s er avsluttet.\n\nBegrunnelse: %s\n\n"+
					"Databehandleren skal slette eller tilbakelevere alle personopplysninger, også sikkerhetskopier, og bekrefte det skriftlig innen %s.\n",
					a.ID, a.Controller, a.Processor, e.Reason, governance.FormatTime(e.DeletionDue, osloLocation()))})
			if e.Side == dpa.Processor {
				l := in.Letters[len(in.Letters)-1]
				l.Consumer = a.Controller
				in.Letters = append(in.Letters, l)
			}
			// Rules SK-04, DPA-10: the delegations end with the agreement, in this transaction.
			if err := db.setDelegations(ctx, tx, a, "", access.Ended, by, now); err != nil {
				return err
			}
		case dpa.StepConfirmDeletion:
			if in.Certificate == nil {
				return invalid(map[string]string{dpa.FieldCertWhat: "Fyll ut slettebekreftelsen."})
			}
			c := *in.Certificate
			if err := invalid(c.Validate(a.Ending.EndedAt, now)); err != nil {
				return err
			}
			c.SignedBy, c.SignedByName, c.SignedAt = by.actor(), by.Name, now
			a.Deletion = &c
			if recorded, err = json.Marshal(c); err != nil {
				return err
			}
		}
		a.Status, v.Status = to.Agreement, to.Version
		if (step == dpa.StepSignController || step == dpa.StepSignProcessor) && to.Version == dpa.VersionSigned {
			// Rule SK-04: a narrower version in force ends what it no longer covers, in this transaction.
			if err := db.recheckDelegations(ctx, tx, a, by, now); err != nil {
				return err
			}
		}
		if note != "" && step != dpa.StepStop && step != dpa.StepResume && step != dpa.StepEnd {
			v.Note = note
		}
		if recorded == nil {
			recorded = []byte(note)
		}
		if err := saveAgreement(ctx, tx, a, now); err != nil {
			return err
		}
		if step == dpa.StepStop || step == dpa.StepResume || step == dpa.StepEnd {
			if in.Letters, err = noticeContactCopy(ctx, tx, a, in.Letters); err != nil {
				return err
			}
		}
		if _, err := db.queueLettersTo(ctx, tx, by, in.Letters); err != nil {
			return err
		}
		return db.dpaStep(ctx, tx, a, string(step), note, recorded, by, v, nil)
	})
	if err != nil {
		return AgreementRecord{}, fmt.Errorf("%s agreement %s: %w", step, id, err)
	}
	return rec, nil
}

// queueLettersTo queues letters, each to the party its Consumer names.
func (db *DB) queueLettersTo(ctx context.Context, tx *sql.Tx, by DPAActor, ls []governance.Letter) (int, error) {
	n := 0
	for _, l := range ls {
		k, err := db.queueLetters(ctx, tx, l.Consumer, by.actor(), l)
		if err != nil {
			return n, err
		}
		n += k
	}
	return n, nil
}

// sideOf is the party side among hats.
func sideOf(hats []dpa.Hat) dpa.Side {
	for _, h := range hats {
		if h.Side == dpa.Controller || h.Side == dpa.Processor {
			return h.Side
		}
	}
	return ""
}

// setDelegations moves the delegations resting on a from status from ("":
// any not ended) to status to, bumping the access version, each with its
// event in the log (Rules SK-04, DPA-10, DPA-11). The delegations between
// the same two parties that name no agreement (made before agreements were
// records) go with them: a stop order or an end reaches them too. Each row
// moves only if it still has status from when the update reaches it, so a
// delegation ended at the same moment is never brought back; events are
// logged for the rows moved. A resumption moves none whose consumer or
// processor has ceased (Rule AA-26).
func (db *DB) setDelegations(ctx context.Context, tx *sql.Tx, a *dpa.Agreement, from, to access.Status, by DPAActor, now time.Time) error {
	q := `UPDATE delegations SET status = $1, updated_at = $2
		WHERE (agreement_id = $3 OR (agreement_id = '' AND consumer = $4 AND processor = $5))`
	args := []any{string(to), micros(now), a.ID, a.Controller, a.Processor}
	if from == "" {
		q += ` AND status <> $6`
		args = append(args, string(access.Ended))
	} else {
		q += ` AND status = $6`
		args = append(args, string(from))
	}
	if to == access.Active {
		// Rule AA-26: a ceased party's delegation is not resumed.
		q += ` AND NOT EXISTS (SELECT 1 FROM consumers c WHERE c.orgnr IN (delegations.consumer, delegations.processor) AND c.status = $7)`
		args = append(args, string(access.Ceased))
	}
	ids, err := idsIn(ctx, tx, q+` RETURNING id`, args...)
	if err != nil {
		return fmt.Errorf("delegations of %s: %w", a.ID, err)
	}
	slices.Sort(ids)
	for _, id := range ids {
		if err := db.appendEvent(ctx, tx, KindDelegationStatus, a.Controller, by.actor(),
			map[string]string{"delegation": id, "agreement": a.ID, "status": string(to)}); err != nil {
			return err
		}
	}
	return bumpAccess(ctx, tx)
}

// KindDelegationStatus is the event of a delegation suspended, resumed or
// ended with its agreement (Rules DPA-10, DPA-11).
const KindDelegationStatus = "delegation.status"

// Agreement loads one agreement with its versions.
func (db *DB) Agreement(ctx context.Context, id string) (AgreementRecord, error) {
	return db.loadAgreement(ctx, db.read, id, false)
}

// Agreements lists the agreements org is a party to (as controller or
// processor), or every agreement when org is "" (the register's case
// workers), oldest first, each with its versions.
func (db *DB) Agreements(ctx context.Context, org string) ([]AgreementRecord, error) {
	return db.agreements(ctx, db.read, org, "")
}

func (db *DB) agreements(ctx context.Context, q queryer, org, processor string) ([]AgreementRecord, error) {
	sel, args := `SELECT `+agreementColumns+` FROM dpa_agreements ORDER BY created_at, id`, []any(nil)
	switch {
	case processor != "":
		sel, args = `SELECT `+agreementColumns+` FROM dpa_agreements WHERE controller = $1 AND processor = $2 ORDER BY created_at, id`, []any{org, processor}
	case org != "":
		sel, args = `SELECT `+agreementColumns+` FROM dpa_agreements WHERE controller = $1 OR processor = $1 ORDER BY created_at, id`, []any{org}
	}
	rows, err := q.QueryContext(ctx, sel, args...)
	if err != nil {
		return nil, fmt.Errorf("list agreements: %w", err)
	}
	var out []AgreementRecord
	for rows.Next() {
		r, err := scanAgreement(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i := range out {
		if out[i].Versions, err = loadVersions(ctx, q, out[i].ID); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// AgreementHistory is the history of agreement id, oldest first.
func (db *DB) AgreementHistory(ctx context.Context, id string) ([]AgreementEntry, error) {
	rows, err := db.read.query(ctx, `SELECT at, step, status, actor, name, note, sha256 FROM dpa_history WHERE agreement = $1 ORDER BY at, id`, id)
	if err != nil {
		return nil, fmt.Errorf("agreement history: %w", err)
	}
	defer rows.Close()
	var out []AgreementEntry
	for rows.Next() {
		var e AgreementEntry
		var at int64
		var st string
		if err := rows.Scan(&at, &e.Step, &st, &e.Actor, &e.Name, &e.Note, &e.SHA256); err != nil {
			return nil, err
		}
		e.At, e.Status = fromMicros(at), dpa.Status(st)
		out = append(out, e)
	}
	return out, rows.Err()
}

// UncoveredDelegations lists the delegations not ended that lack a covering
// agreement at now, for the register's case workers (Rule SK-04). Those made
// before agreements were records name none: they stay in force until a case
// worker resolves them (a migration never invents the agreement they rest
// on), and each lists the agreements between its parties that would cover
// it as candidates.
func (db *DB) UncoveredDelegations(ctx context.Context, now time.Time) ([]dpa.Gap, error) {
	ds, err := db.Delegations(ctx, "")
	if err != nil {
		return nil, err
	}
	recs, err := db.agreements(ctx, db.read, "", "")
	if err != nil {
		return nil, err
	}
	as := make([]dpa.Agreement, len(recs))
	for i := range recs {
		as[i] = recs[i].Agreement
	}
	var open []dpa.Delegated
	for _, d := range ds {
		if d.Status != access.Ended {
			open = append(open, delegated(d))
		}
	}
	gaps := dpa.Uncovered(open, as, now)
	sort.SliceStable(gaps, func(i, j int) bool { return gaps[i].Delegation.Consumer < gaps[j].Delegation.Consumer })
	return gaps, nil
}

// delegated is d as dpa checks it.
func delegated(d access.Delegation) dpa.Delegated {
	return dpa.Delegated{ID: d.ID, Consumer: d.Consumer, Processor: d.Processor, Channels: d.Channels, Packages: d.Packages, AgreementID: d.AgreementID}
}

// checkCovered checks, in tx, that agreement d.AgreementID covers d at now
// (Rule SK-04), locking the agreement's row so that an end or a stop in
// another transaction waits for this one, or this one sees it. It returns
// d ending no later than the agreement's term: a d without a ValidTo gets
// the term's end; one that would outlast the term is refused.
func (db *DB) checkCovered(ctx context.Context, tx *sql.Tx, d access.Delegation, now time.Time) (access.Delegation, error) {
	if d.AgreementID == "" {
		return d, dpa.ErrNoAgreement
	}
	rec, err := db.loadAgreement(ctx, tx, d.AgreementID, true)
	if errors.Is(err, ErrNotFound) {
		return d, fmt.Errorf("agreement %s: %w", d.AgreementID, dpa.ErrNoAgreement)
	}
	if err != nil {
		return d, err
	}
	if err := dpa.Check(&rec.Agreement, delegated(d), now); err != nil {
		return d, err
	}
	if end, ok := rec.TermEnd(now); ok {
		switch {
		case d.ValidTo == nil:
			d.ValidTo = &end
		case d.ValidTo.After(end):
			return d, fmt.Errorf("agreement %s runs to %s: %w", rec.ID, end.Format(time.RFC3339), dpa.ErrBeyondTerm)
		}
	}
	return d, nil
}

// EndedAgreements lists the ended agreements whose deletion is not yet
// confirmed: those the deletion reminders look at (Rule DPA-10).
func (db *DB) EndedAgreements(ctx context.Context) ([]AgreementRecord, error) {
	rows, err := db.read.query(ctx, `SELECT `+agreementColumns+` FROM dpa_agreements WHERE status = $1 ORDER BY created_at, id`, string(dpa.StatusEnded))
	if err != nil {
		return nil, fmt.Errorf("ended agreements: %w", err)
	}
	defer rows.Close()
	var out []AgreementRecord
	for rows.Next() {
		r, err := scanAgreement(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// RemindDeletion records that agreement id's deletion reminders are sent up
// to now, queues the letters (one with an empty To goes to the contacts of
// the party its Consumer names), and writes the history entry and the event,
// in one transaction — only if the reminders were still sent up to
// sentUpTo, so that two nodes never both remind (Rule DPA-10). It reports
// whether it did.
func (db *DB) RemindDeletion(ctx context.Context, id string, sentUpTo, now time.Time, letters []governance.Letter, note string) (bool, error) {
	done := false
	var prev int64
	if !sentUpTo.IsZero() {
		prev = micros(sentUpTo)
	}
	system := DPAActor{UserID: "", Name: "deling"}
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		r, err := tx.ExecContext(ctx, `UPDATE dpa_agreements SET reminded_to = $1 WHERE id = $2 AND reminded_to = $3`, micros(now), id, prev)
		if err != nil {
			return err
		}
		if n, _ := r.RowsAffected(); n == 0 {
			return nil
		}
		rec, err := db.loadAgreement(ctx, tx, id, false)
		if err != nil {
			return err
		}
		if _, err := db.queueLettersTo(ctx, tx, system, letters); err != nil {
			return err
		}
		done = true
		return db.dpaStep(ctx, tx, &rec.Agreement, StepDPAReminder, note, []byte(note), system, nil, map[string]any{"letters": len(letters)})
	})
	if err != nil {
		return false, fmt.Errorf("remind deletion %s: %w", id, err)
	}
	return done, nil
}

// NegotiateAgreement takes an agreement with content c from draft to both
// signatures in one call, each step through StepAgreement as the portal
// takes it: the controller's role holder drafts and sends it, the
// processor's completes it, and each signs exactly the version it is shown
// (Rule DPA-01). It is for the demo and for tests that need an agreement
// in force; both people must hold the role holder's role on their side.
func (db *DB) NegotiateAgreement(ctx context.Context, rules DPARules, c dpa.Content, controller, processor DPAActor) (AgreementRecord, error) {
	id, err := db.CreateAgreement(ctx, rules, c, controller)
	if err != nil {
		return AgreementRecord{}, err
	}
	var rec AgreementRecord
	for _, s := range []struct {
		step dpa.Step
		by   DPAActor
	}{{dpa.StepSend, controller}, {dpa.StepComplete, processor}, {dpa.StepSignController, controller}, {dpa.StepSignProcessor, processor}} {
		in := StepInput{}
		if rec.ID != "" {
			in.Seen = rec.Newest().Hash()
		}
		if rec, err = db.StepAgreement(ctx, rules, id, s.step, in, s.by); err != nil {
			return rec, err
		}
	}
	return rec, nil
}

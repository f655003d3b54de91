package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"deling/internal/access"
	"deling/internal/audit"
	"deling/internal/register"
)

func newID() string { return uuid.Must(uuid.NewV7()).String() }

func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }

func nullMicros(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UnixMicro()
}

func optTime(n sql.NullInt64) *time.Time {
	if !n.Valid {
		return nil
	}
	t := fromMicros(n.Int64)
	return &t
}

// bumpAccess marks a change to who may see what, in the change's transaction.
func bumpAccess(ctx context.Context, tx *sql.Tx) error {
	_, err := tx.ExecContext(ctx, `UPDATE access_version SET version = version + 1 WHERE id = 1`)
	return err
}

// UpsertConsumer registers or renames a consumer organisation, or changes its status.
func (db *DB) UpsertConsumer(ctx context.Context, c access.Consumer, actor string) error {
	now := micros(db.now())
	return db.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO consumers (orgnr, navn, status, category, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5)
			ON CONFLICT (orgnr) DO UPDATE SET navn = excluded.navn, status = excluded.status, category = excluded.category, updated_at = excluded.updated_at`,
			c.Orgnr, c.Navn, string(c.Status), c.Category, now)
		if err != nil {
			return fmt.Errorf("upsert consumer: %w", err)
		}
		if err := bumpAccess(ctx, tx); err != nil {
			return err
		}
		return db.appendEvent(ctx, tx, audit.KindConsumerChanged, c.Orgnr, actor, c)
	})
}

// Consumer loads a consumer by orgnr.
func (db *DB) Consumer(ctx context.Context, orgnr string) (access.Consumer, error) {
	var c access.Consumer
	var status string
	err := db.read.queryRow(ctx, `SELECT orgnr, navn, status, category FROM consumers WHERE orgnr = $1`, orgnr).Scan(&c.Orgnr, &c.Navn, &status, &c.Category)
	if errors.Is(err, sql.ErrNoRows) {
		return c, fmt.Errorf("consumer %s: %w", orgnr, ErrNotFound)
	}
	if err != nil {
		return c, fmt.Errorf("load consumer %s: %w", orgnr, err)
	}
	c.Status = access.Status(status)
	return c, nil
}

// Consumers lists every consumer by orgnr.
func (db *DB) Consumers(ctx context.Context) ([]access.Consumer, error) {
	rows, err := db.read.query(ctx, `SELECT orgnr, navn, status, category FROM consumers ORDER BY orgnr`)
	if err != nil {
		return nil, fmt.Errorf("list consumers: %w", err)
	}
	defer rows.Close()
	var out []access.Consumer
	for rows.Next() {
		var c access.Consumer
		var status string
		if err := rows.Scan(&c.Orgnr, &c.Navn, &status, &c.Category); err != nil {
			return nil, err
		}
		c.Status = access.Status(status)
		out = append(out, c)
	}
	return out, rows.Err()
}

// ConsumerSummary is a consumer with its grants counted.
type ConsumerSummary struct {
	access.Consumer
	Active, Suspended, Ended int // grants by status (active: in force now)
}

// ConsumerSummaries lists every consumer with the number of its grants in force at now, suspended and ended.
func (db *DB) ConsumerSummaries(ctx context.Context, now time.Time) ([]ConsumerSummary, error) {
	cs, err := db.Consumers(ctx)
	if err != nil {
		return nil, err
	}
	grants, err := db.Grants(ctx, "")
	if err != nil {
		return nil, err
	}
	out := make([]ConsumerSummary, len(cs))
	at := map[string]int{}
	for i, c := range cs {
		out[i].Consumer = c
		at[c.Orgnr] = i
	}
	for _, g := range grants {
		i, ok := at[g.Consumer]
		if !ok {
			continue
		}
		switch {
		case g.ActiveAt(now):
			out[i].Active++
		case g.Status == access.Suspended:
			out[i].Suspended++
		case g.Status == access.Ended:
			out[i].Ended++
		}
	}
	return out, nil
}

const grantColumns = `id, consumer, packages, channel, env, legal_basis, processing_basis, purpose, query_kinds,
	valid_from, valid_to, rate_limit, status, status_reason, consent, application_id, suspension`

func scanGrant(row interface{ Scan(...any) error }) (access.Grant, error) {
	var (
		g                                 access.Grant
		packages, channel, env, kinds, st string
		suspension                        string
		from                              int64
		to                                sql.NullInt64
	)
	err := row.Scan(&g.ID, &g.Consumer, &packages, &channel, &env, &g.LegalBasis, &g.ProcessingBasis, &g.Purpose,
		&kinds, &from, &to, &g.RateLimit, &st, &g.StatusReason, &g.Consent, &g.ApplicationID, &suspension)
	if err != nil {
		return g, err
	}
	g.Packages = strings.Split(packages, ",")
	g.Channel, g.Env, g.Status = access.Channel(channel), register.Env(env), access.Status(st)
	g.Suspension = access.SuspensionCause(suspension)
	for _, k := range strings.Split(kinds, ",") {
		g.QueryKinds = append(g.QueryKinds, access.QueryKind(k))
	}
	g.ValidFrom, g.ValidTo = fromMicros(from), optTime(to)
	return g, nil
}

// AddGrant stores a new grant (giving it an id if it has none) and returns it.
func (db *DB) AddGrant(ctx context.Context, g access.Grant, actor string) (access.Grant, error) {
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		g, err = db.insertGrant(ctx, tx, g, actor, db.now())
		return err
	})
	return g, err
}

// insertGrant stores a new grant in tx, with its event in the log, and marks
// the change to access (giving the grant an id and status active if it has none).
func (db *DB) insertGrant(ctx context.Context, tx *sql.Tx, g access.Grant, actor string, now time.Time) (access.Grant, error) {
	if g.ID == "" {
		g.ID = newID()
	}
	if g.Status == "" {
		g.Status = access.Active
	}
	g.Suspension = suspensionOf(g.Status, g.Suspension, access.SuspendedByOperator)
	kinds := make([]string, len(g.QueryKinds))
	for i, k := range g.QueryKinds {
		kinds[i] = string(k)
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO grants (`+grantColumns+`, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $18)`,
		g.ID, g.Consumer, strings.Join(g.Packages, ","), string(g.Channel), string(g.Env), g.LegalBasis, g.ProcessingBasis,
		g.Purpose, strings.Join(kinds, ","), micros(g.ValidFrom), nullMicros(g.ValidTo), g.RateLimit, string(g.Status), g.StatusReason,
		g.Consent, g.ApplicationID, string(g.Suspension), micros(now))
	if err != nil {
		return g, fmt.Errorf("add grant: %w", err)
	}
	if err := bumpAccess(ctx, tx); err != nil {
		return g, err
	}
	return g, db.appendEvent(ctx, tx, audit.KindGrantAdded, g.Consumer, actor, g)
}

// Grant loads one grant.
func (db *DB) Grant(ctx context.Context, id string) (access.Grant, error) {
	g, err := scanGrant(db.read.queryRow(ctx, `SELECT `+grantColumns+` FROM grants WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return g, fmt.Errorf("grant %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return g, fmt.Errorf("load grant %s: %w", id, err)
	}
	return g, nil
}

// Grants lists a consumer's grants, or every grant when consumer is "".
func (db *DB) Grants(ctx context.Context, consumer string) ([]access.Grant, error) {
	q := `SELECT ` + grantColumns + ` FROM grants WHERE consumer = $1 ORDER BY created_at, id`
	args := []any{consumer}
	if consumer == "" {
		q, args = `SELECT `+grantColumns+` FROM grants ORDER BY consumer, created_at, id`, nil
	}
	rows, err := db.read.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list grants: %w", err)
	}
	defer rows.Close()
	var out []access.Grant
	for rows.Next() {
		g, err := scanGrant(rows)
		if err != nil {
			return nil, fmt.Errorf("list grants: %w", err)
		}
		out = append(out, g)
	}
	return out, rows.Err()
}

// SetGrantStatus suspends, resumes or ends a grant, with the reason, and logs
// the change in the same transaction. A grant whose consumer's suspension a
// breach case or the register holds (access_stops) is not resumed here:
// ErrHeld, naming the holders. An ended grant stays ended: access after
// an ending needs a new grant. A grant suspended here is suspended by an
// operator (access.SuspendedByOperator): resuming its consumer leaves it so.
func (db *DB) SetGrantStatus(ctx context.Context, id string, status access.Status, reason, actor string) (access.Grant, error) {
	var g access.Grant
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		g, err = scanGrant(tx.QueryRowContext(ctx, `SELECT `+grantColumns+` FROM grants WHERE id = $1`, id))
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("grant %s: %w", id, ErrNotFound)
		}
		if err != nil {
			return err
		}
		if g.Status == access.Ended {
			return fmt.Errorf("grant %s has ended and cannot change: %w", id, ErrConflict)
		}
		if status == access.Active && g.Status == access.Suspended {
			// Rules AV-02, AA-25: a suspension held by a breach case or the
			// register is lifted only where it is held, never grant by grant.
			holders, err := idsIn(ctx, tx, `SELECT holder FROM access_stops WHERE target = $1 ORDER BY holder`, consumerStopTarget(g.Consumer))
			if err != nil {
				return fmt.Errorf("holders of %s: %w", g.Consumer, err)
			}
			if len(holders) > 0 {
				return fmt.Errorf("grant %s: the suspension of consumer %s is held by %s; resume it there: %w",
					id, g.Consumer, holderNames(holders), ErrHeld)
			}
		}
		cause := suspensionOf(status, "", access.SuspendedByOperator)
		if _, err := tx.ExecContext(ctx, `UPDATE grants SET status = $1, status_reason = $2, suspension = $3, updated_at = $4 WHERE id = $5`,
			string(status), reason, string(cause), micros(db.now()), id); err != nil {
			return err
		}
		g.Status, g.StatusReason, g.Suspension = status, reason, cause
		if err := bumpAccess(ctx, tx); err != nil {
			return err
		}
		return db.appendEvent(ctx, tx, audit.KindGrantStatus, g.Consumer, actor,
			map[string]string{"grant": id, "status": string(status), "reason": reason})
	})
	if err != nil {
		return g, fmt.Errorf("set grant status: %w", err)
	}
	return g, nil
}

const delegationColumns = `id, consumer, processor, dpa_ref, valid_from, valid_to, status, agreement_id, channels, packages`

func scanDelegation(row interface{ Scan(...any) error }) (access.Delegation, error) {
	var (
		d               access.Delegation
		from            int64
		to              sql.NullInt64
		st, chans, pkgs string
	)
	if err := row.Scan(&d.ID, &d.Consumer, &d.Processor, &d.DPARef, &from, &to, &st, &d.AgreementID, &chans, &pkgs); err != nil {
		return d, err
	}
	d.ValidFrom, d.ValidTo, d.Status = fromMicros(from), optTime(to), access.Status(st)
	for _, c := range strings.Split(chans, ",") {
		if c != "" {
			d.Channels = append(d.Channels, access.Channel(c))
		}
	}
	if pkgs != "" {
		d.Packages = strings.Split(pkgs, ",")
	}
	return d, nil
}

// AddDelegation stores a delegation from a consumer to a data processor
// under the agreement d.AgreementID, for d.Channels and d.Packages. Rule
// SK-04: only an active agreement signed by both, between exactly these
// parties, that covers every channel and package delegated; checked in the
// transaction that inserts the delegation, with the agreement's row locked,
// so that an end or a stop order is never missed. Otherwise the error wraps
// ErrConflict and dpa's reason (dpa.ErrNoAgreement, dpa.ErrNotInForce, …).
func (db *DB) AddDelegation(ctx context.Context, d access.Delegation, actor string) (access.Delegation, error) {
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		d, err = db.insertDelegation(ctx, tx, d, actor, db.now())
		return err
	})
	return d, err
}

// insertDelegation is AddDelegation in tx.
func (db *DB) insertDelegation(ctx context.Context, tx *sql.Tx, d access.Delegation, actor string, now time.Time) (access.Delegation, error) {
	if d.ID == "" {
		d.ID = newID()
	}
	d.Status = access.Active
	// Rule SK-04: no agreement, no delegation; none beyond its term.
	d, err := db.checkCovered(ctx, tx, d, now)
	if err != nil {
		return d, fmt.Errorf("add delegation: %w: %w", ErrConflict, err)
	}
	chans := make([]string, len(d.Channels))
	for i, c := range d.Channels {
		chans[i] = string(c)
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO delegations (`+delegationColumns+`, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)`,
		d.ID, d.Consumer, d.Processor, d.DPARef, micros(d.ValidFrom), nullMicros(d.ValidTo), string(d.Status),
		d.AgreementID, strings.Join(chans, ","), strings.Join(d.Packages, ","), micros(now))
	if err != nil {
		return d, fmt.Errorf("add delegation: %w", err)
	}
	if err := bumpAccess(ctx, tx); err != nil {
		return d, err
	}
	return d, db.appendEvent(ctx, tx, audit.KindDelegationAdded, d.Consumer, actor, d)
}

// ProcessorDelegations lists the delegations in which orgnr is the data processor.
func (db *DB) ProcessorDelegations(ctx context.Context, orgnr string) ([]access.Delegation, error) {
	return db.delegations(ctx, `SELECT `+delegationColumns+` FROM delegations WHERE processor = $1 ORDER BY created_at, id`, orgnr)
}

// Delegations lists the delegations of a consumer, or all when consumer is "".
func (db *DB) Delegations(ctx context.Context, consumer string) ([]access.Delegation, error) {
	q := `SELECT ` + delegationColumns + ` FROM delegations WHERE consumer = $1 ORDER BY created_at, id`
	args := []any{consumer}
	if consumer == "" {
		q, args = `SELECT `+delegationColumns+` FROM delegations ORDER BY consumer, created_at, id`, nil
	}
	return db.delegations(ctx, q, args...)
}

// delegations lists the delegations a query selects.
func (db *DB) delegations(ctx context.Context, q string, args ...any) ([]access.Delegation, error) {
	rows, err := db.read.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list delegations: %w", err)
	}
	defer rows.Close()
	var out []access.Delegation
	for rows.Next() {
		d, err := scanDelegation(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// EndDelegation ends a delegation at once.
func (db *DB) EndDelegation(ctx context.Context, id, actor string) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		var consumer string
		err := tx.QueryRowContext(ctx, `SELECT consumer FROM delegations WHERE id = $1`, id).Scan(&consumer)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("delegation %s: %w", id, ErrNotFound)
		}
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE delegations SET status = $1, updated_at = $2 WHERE id = $3`,
			string(access.Ended), micros(db.now()), id); err != nil {
			return err
		}
		if err := bumpAccess(ctx, tx); err != nil {
			return err
		}
		return db.appendEvent(ctx, tx, audit.KindDelegationEnded, consumer, actor, map[string]string{"delegation": id})
	})
}

func (db *DB) loadAccessInputs(ctx context.Context, consumer, processor string) (access.Inputs, error) {
	var in access.Inputs
	c, err := db.Consumer(ctx, consumer)
	switch {
	case errors.Is(err, ErrNotFound):
		return in, nil
	case err != nil:
		return in, err
	}
	in.Consumer = &c
	if in.Grants, err = db.Grants(ctx, consumer); err != nil {
		return in, err
	}
	if processor != "" {
		rows, err := db.read.query(ctx, `SELECT `+delegationColumns+` FROM delegations WHERE consumer = $1 AND processor = $2`, consumer, processor)
		if err != nil {
			return in, fmt.Errorf("load delegations: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			d, err := scanDelegation(rows)
			if err != nil {
				return in, err
			}
			in.Delegations = append(in.Delegations, d)
		}
		if err := rows.Err(); err != nil {
			return in, err
		}
	}
	return in, nil
}

package store

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"deling/internal/access"
	"deling/internal/audit"
	"deling/internal/governance"
)

// Rule SK-08: where a grant rests on consent, a person's data is delivered
// only under their valid consent for that consumer and purpose. The person's
// fødselsnummer is stored to be matched, and never written into an event: the
// log names the consent's id, the consumer and the purpose.

const consentColumns = `id, person_pid, consumer, purpose, given_at, expires_at, withdrawn_at`

func scanConsents(rows *sql.Rows, err error) ([]governance.Consent, error) {
	if err != nil {
		return nil, fmt.Errorf("consents: %w", err)
	}
	defer rows.Close()
	var out []governance.Consent
	for rows.Next() {
		var c governance.Consent
		var given, expires int64
		var withdrawn sql.NullInt64
		if err := rows.Scan(&c.ID, &c.PersonPID, &c.Consumer, &c.Purpose, &given, &expires, &withdrawn); err != nil {
			return nil, err
		}
		c.GivenAt, c.ExpiresAt, c.WithdrawnAt = fromMicros(given), fromMicros(expires), optTime(withdrawn)
		out = append(out, c)
	}
	return out, rows.Err()
}

// consentEvent is what the log keeps of a consent change: never the person.
type consentEvent struct {
	Consent   string    `json:"consent"`
	Consumer  string    `json:"consumer"`
	Purpose   string    `json:"purpose"`
	Change    string    `json:"change"` // given or withdrawn
	ExpiresAt time.Time `json:"expiresAt,omitzero"`
}

// activeConsentGrant is a grant of consumer resting on consent for purpose, in force at now.
const activeConsentGrant = `SELECT COUNT(*) FROM grants g JOIN consumers c ON c.orgnr = g.consumer
	WHERE g.consumer = $1 AND g.purpose = $2 AND g.consent AND g.status = 'active' AND c.status = 'active'
	AND g.valid_from <= $3 AND (g.valid_to IS NULL OR g.valid_to > $3)`

// GiveConsent stores a person's consent, with its event, and returns it with
// its id. The consumer must have a grant in force that rests on consent for
// the purpose (ErrConflict otherwise); a person holds one valid consent per
// consumer and purpose (ErrExists).
func (db *DB) GiveConsent(ctx context.Context, c governance.Consent, actor string) (governance.Consent, error) {
	now := db.now()
	c.ID, c.GivenAt, c.WithdrawnAt = newID(), now.UTC(), nil
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, activeConsentGrant, c.Consumer, c.Purpose, micros(now)).Scan(&n); err != nil {
			return fmt.Errorf("give consent: %w", err)
		}
		if n == 0 {
			return fmt.Errorf("give consent: no grant on consent for the consumer and purpose: %w", ErrConflict)
		}
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM consents WHERE person_pid = $1 AND consumer = $2 AND purpose = $3
			AND withdrawn_at IS NULL AND expires_at > $4`, c.PersonPID, c.Consumer, c.Purpose, micros(now)).Scan(&n); err != nil {
			return fmt.Errorf("give consent: %w", err)
		}
		if n > 0 {
			return fmt.Errorf("consent: %w", ErrExists)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO consents (`+consentColumns+`) VALUES ($1, $2, $3, $4, $5, $6, NULL)`,
			c.ID, c.PersonPID, c.Consumer, c.Purpose, micros(c.GivenAt), micros(c.ExpiresAt)); err != nil {
			return fmt.Errorf("give consent: %w", err)
		}
		return db.appendEvent(ctx, tx, audit.KindConsent, c.Consumer, actor,
			consentEvent{Consent: c.ID, Consumer: c.Consumer, Purpose: c.Purpose, Change: "given", ExpiresAt: c.ExpiresAt})
	})
	return c, err
}

// WithdrawConsent withdraws one of the person's own consents at once. A
// consent that is not the person's, or already withdrawn, is ErrNotFound.
func (db *DB) WithdrawConsent(ctx context.Context, personPID, id, actor string) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		var consumer, purpose string
		err := tx.QueryRowContext(ctx, `SELECT consumer, purpose FROM consents WHERE id = $1 AND person_pid = $2 AND withdrawn_at IS NULL`,
			id, personPID).Scan(&consumer, &purpose)
		if err == sql.ErrNoRows {
			return fmt.Errorf("consent: %w", ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("withdraw consent: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE consents SET withdrawn_at = $1 WHERE id = $2`, micros(db.now()), id); err != nil {
			return fmt.Errorf("withdraw consent: %w", err)
		}
		return db.appendEvent(ctx, tx, audit.KindConsent, consumer, actor,
			consentEvent{Consent: id, Consumer: consumer, Purpose: purpose, Change: "withdrawn"})
	})
}

// Consents lists a person's consents, newest first.
func (db *DB) Consents(ctx context.Context, personPID string) ([]governance.Consent, error) {
	return scanConsents(db.read.query(ctx, `SELECT `+consentColumns+` FROM consents WHERE person_pid = $1 ORDER BY given_at DESC, id DESC`, personPID))
}

// HasValidConsent reports whether the person has a consent in force at now
// for the consumer and one of purposes (Rule SK-08). It is one query on the
// (person_pid, consumer, expires_at) index, made only for lookups that rest
// on consent.
func (db *DB) HasValidConsent(ctx context.Context, personPID, consumer string, purposes []string, now time.Time) (bool, error) {
	if personPID == "" || len(purposes) == 0 {
		return false, nil
	}
	rows, err := db.read.query(ctx, `SELECT purpose FROM consents WHERE person_pid = $1 AND consumer = $2 AND expires_at > $3
		AND given_at <= $3 AND (withdrawn_at IS NULL OR withdrawn_at > $3)`, personPID, consumer, micros(now))
	if err != nil {
		return false, fmt.Errorf("consent: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var p string
		if err := rows.Scan(&p); err != nil {
			return false, err
		}
		if slices.Contains(purposes, p) {
			return true, nil
		}
	}
	return false, rows.Err()
}

// ConsentRequests lists the consumers and purposes that ask people for
// consent: those with a grant in force resting on consent, of consumers that
// are active, by consumer name.
func (db *DB) ConsentRequests(ctx context.Context, now time.Time) ([]governance.ConsentRequest, error) {
	rows, err := db.read.query(ctx, `SELECT `+grantColumns+` FROM grants WHERE consent AND status = 'active'
		AND consumer IN (SELECT orgnr FROM consumers WHERE status = 'active') ORDER BY consumer, created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("consent requests: %w", err)
	}
	var grants []access.Grant
	for rows.Next() {
		g, err := scanGrant(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("consent requests: %w", err)
		}
		grants = append(grants, g)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := governance.ConsentRequests(grants, now)
	for i := range out {
		c, err := db.Consumer(ctx, out[i].Consumer)
		if err != nil {
			return nil, err
		}
		out[i].ConsumerName = c.Navn
	}
	slices.SortStableFunc(out, func(a, b governance.ConsentRequest) int {
		return cmp.Or(strings.Compare(a.ConsumerName, b.ConsumerName), strings.Compare(a.Purpose, b.Purpose))
	})
	return out, nil
}

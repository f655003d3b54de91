package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// Holds of a stop of access (Rules AV-02 and AA-25; migration
// 00024). A client or a consumer stopped from a breach case is held stopped
// by that case; a consumer suspended on its own page is held by the
// register's case workers outside any case. Resuming releases only the
// resumer's hold: the access comes back when no holder is left. A stop made
// before holds were kept has none, and the first resumption resumes it.

// Holders and targets of access_stops.
const (
	holderIncident = "incident:" // and the case's id
	holderRegister = "register"  // a suspension made on the consumer's page
)

func incidentHolder(id string) string        { return holderIncident + id }
func clientStopTarget(id string) string      { return "client:" + id }
func consumerStopTarget(orgnr string) string { return "consumer:" + orgnr }

// holdStop records holder's hold of target's stop, in tx; false when holder held it already.
func holdStop(ctx context.Context, tx *sql.Tx, target, holder, actor string, now time.Time) (bool, error) {
	r, err := tx.ExecContext(ctx, `INSERT INTO access_stops (target, holder, at, actor) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`,
		target, holder, micros(now), actor)
	if err != nil {
		return false, fmt.Errorf("hold %s: %w", target, err)
	}
	n, _ := r.RowsAffected()
	return n > 0, nil
}

// releaseStop removes holder's hold of target's stop, in tx, and counts the
// holds left. The caller locks the target's row first, so that two
// releases on PostgreSQL never both see the other's hold still there.
func releaseStop(ctx context.Context, tx *sql.Tx, target, holder string) (int, error) {
	if _, err := tx.ExecContext(ctx, `DELETE FROM access_stops WHERE target = $1 AND holder = $2`, target, holder); err != nil {
		return 0, fmt.Errorf("release %s: %w", target, err)
	}
	var n int64
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM access_stops WHERE target = $1`, target).Scan(&n); err != nil {
		return 0, fmt.Errorf("holders of %s: %w", target, err)
	}
	return int(n), nil
}

// stopHolders are the breach cases (by id) holding target's stop, oldest
// first, and whether the register holds it outside any case.
func (db *DB) stopHolders(ctx context.Context, target string) (cases []string, register bool, err error) {
	rows, err := db.read.query(ctx, `SELECT holder FROM access_stops WHERE target = $1 ORDER BY at, holder`, target)
	if err != nil {
		return nil, false, fmt.Errorf("holders of %s: %w", target, err)
	}
	defer rows.Close()
	for rows.Next() {
		var h string
		if err := rows.Scan(&h); err != nil {
			return nil, false, err
		}
		if c, ok := strings.CutPrefix(h, holderIncident); ok {
			cases = append(cases, c)
		} else if h == holderRegister {
			register = true
		}
	}
	return cases, register, rows.Err()
}

// ClientStopHolders are the breach cases holding client id's stop, by case id, oldest first (Rule AV-02).
func (db *DB) ClientStopHolders(ctx context.Context, id string) ([]string, error) {
	cases, _, err := db.stopHolders(ctx, clientStopTarget(id))
	return cases, err
}

// ConsumerStopHolders are the breach cases holding the consumer's
// suspension, by case id, oldest first, and whether the register holds it
// outside any case (Rule AV-02).
func (db *DB) ConsumerStopHolders(ctx context.Context, orgnr string) ([]string, bool, error) {
	return db.stopHolders(ctx, consumerStopTarget(orgnr))
}

// holderNames says who holds a stop, for an error message: "breach case X", "the register (the consumer's page)".
func holderNames(holders []string) string {
	out := make([]string, len(holders))
	for i, h := range holders {
		if id, ok := strings.CutPrefix(h, holderIncident); ok {
			out[i] = "breach case " + id
		} else {
			out[i] = "the register (the consumer's page)"
		}
	}
	return strings.Join(out, ", ")
}

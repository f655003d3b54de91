package store

import (
	"context"
	"database/sql"
	"fmt"

	"deling/internal/access"
	"deling/internal/audit"
	"deling/internal/governance"
)

// ReasonTerminated is the status reason of grants a consumer ended itself (Rule AA-26).
const ReasonTerminated = "avsluttet av konsumenten"

// ReasonCeased is the status reason of grants of an organisation that ceased in Enhetsregisteret (Rule AA-26).
const ReasonCeased = "opphørt i Enhetsregisteret"

// EndConsumerAccess ends all of a consumer's access at once (Rule AA-26):
// every grant that is active or suspended ends with reason, every delegation
// to a data processor ends (Rule AA-13: a processor's access derives from the
// consumer's), and letters are queued (an empty To: to every contact person),
// with audit.KindConsumerEnded, all in one transaction. Ending nothing is no error.
func (db *DB) EndConsumerAccess(ctx context.Context, orgnr, reason, actor string, letters ...governance.Letter) (LifeResult, error) {
	var res LifeResult
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		if res, err = db.endAccess(ctx, tx, orgnr, reason, actor, false); err != nil {
			return err
		}
		for i := range letters {
			if letters[i].Kind == "" {
				letters[i].Kind = governance.LetterTermination
			}
		}
		res.Letters, err = db.queueLetters(ctx, tx, orgnr, actor, letters...)
		return err
	})
	if err != nil {
		return LifeResult{}, fmt.Errorf("end access of %s: %w", orgnr, err)
	}
	return res, nil
}

// endAccess is EndConsumerAccess in tx; asProcessor also ends the
// delegations in which the organisation is the data processor.
func (db *DB) endAccess(ctx context.Context, tx *sql.Tx, orgnr, reason, actor string, asProcessor bool) (LifeResult, error) {
	var res LifeResult
	ids, err := grantIDs(ctx, tx, orgnr, access.Active, access.Suspended)
	if err != nil {
		return res, err
	}
	if err := db.setGrantsStatus(ctx, tx, orgnr, ids, access.Ended, "", reason, actor); err != nil {
		return res, err
	}
	// Rule AA-26: suspended delegations (a stop order, Rule DPA-11) end too,
	// so that no resumption gives a ceased party access again.
	q := `SELECT id, consumer FROM delegations WHERE consumer = $1 AND status <> 'ended' ORDER BY created_at, id`
	if asProcessor {
		q = `SELECT id, consumer FROM delegations WHERE (consumer = $1 OR processor = $1) AND status <> 'ended' ORDER BY created_at, id`
	}
	rows, err := tx.QueryContext(ctx, q, orgnr)
	if err != nil {
		return res, fmt.Errorf("delegations of %s: %w", orgnr, err)
	}
	type del struct{ id, consumer string }
	var dels []del
	for rows.Next() {
		var d del
		if err := rows.Scan(&d.id, &d.consumer); err != nil {
			rows.Close()
			return res, err
		}
		dels = append(dels, d)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return res, err
	}
	delIDs := []string{}
	for _, d := range dels {
		if _, err := tx.ExecContext(ctx, `UPDATE delegations SET status = $1, updated_at = $2 WHERE id = $3 AND status <> $1`,
			string(access.Ended), micros(db.now()), d.id); err != nil {
			return res, fmt.Errorf("end delegation %s: %w", d.id, err)
		}
		if err := db.appendEvent(ctx, tx, audit.KindDelegationEnded, d.consumer, actor, map[string]string{"delegation": d.id, "reason": reason}); err != nil {
			return res, err
		}
		delIDs = append(delIDs, d.id)
	}
	if err := bumpAccess(ctx, tx); err != nil {
		return res, err
	}
	if ids == nil {
		ids = []string{}
	}
	res.Grants, res.Delegations = len(ids), len(dels)
	return res, db.appendEvent(ctx, tx, audit.KindConsumerEnded, orgnr, actor,
		map[string]any{"reason": reason, "grants": ids, "delegations": delIDs})
}

// CeaseOrganisation records that an organisation ceased (Rule AA-26): as a
// consumer its status becomes ceased and all its access ends; as a data
// processor its delegations end. detail says what the register showed.
func (db *DB) CeaseOrganisation(ctx context.Context, orgnr, detail, actor string) (LifeResult, error) {
	var res LifeResult
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		res2, err := tx.ExecContext(ctx, `UPDATE consumers SET status = $1, updated_at = $2 WHERE orgnr = $3 AND status <> $1`,
			string(access.Ceased), micros(db.now()), orgnr)
		if err != nil {
			return fmt.Errorf("cease %s: %w", orgnr, err)
		}
		if n, _ := res2.RowsAffected(); n > 0 {
			if err := db.appendEvent(ctx, tx, audit.KindConsumerChanged, orgnr, actor,
				map[string]string{"orgnr": orgnr, "status": string(access.Ceased), "detail": detail}); err != nil {
				return err
			}
		}
		res, err = db.endAccess(ctx, tx, orgnr, ReasonCeased, actor, true)
		return err
	})
	if err != nil {
		return LifeResult{}, fmt.Errorf("cease %s: %w", orgnr, err)
	}
	return res, nil
}

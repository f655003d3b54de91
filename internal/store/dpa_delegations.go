package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"deling/internal/access"
	"deling/internal/dpa"
	"deling/internal/governance"
)

// What an agreement's steps do to the delegations resting on it beyond a
// stop, a resumption and an end (dpa.go's setDelegations): a new version in
// force re-checks them, a lapsed term ends them (Rule SK-04), and the
// notices of a stop, a resumption and an end also go to the contact the
// agreement names (Rules DPA-10, DPA-11).

// recheckDelegations runs, when a new version of a comes into force, over
// the delegations resting on a that are not ended (Rule SK-04): each that
// the version no longer covers (a channel or a package it lacks) ends, and
// each that would outlast the version's term (gjelderTil) is cut to it.
func (db *DB) recheckDelegations(ctx context.Context, tx *sql.Tx, a *dpa.Agreement, by DPAActor, now time.Time) error {
	v := a.Current()
	if v == nil {
		return nil
	}
	rows, err := tx.QueryContext(ctx, `SELECT `+delegationColumns+` FROM delegations WHERE agreement_id = $1 AND status <> $2 ORDER BY id`,
		a.ID, string(access.Ended))
	if err != nil {
		return fmt.Errorf("delegations of %s: %w", a.ID, err)
	}
	var ds []access.Delegation
	for rows.Next() {
		d, err := scanDelegation(rows)
		if err != nil {
			rows.Close()
			return err
		}
		ds = append(ds, d)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	end, hasTerm := a.TermEnd(now)
	changed := false
	for _, d := range ds {
		if lacks := v.Lacks(delegated(d)); len(lacks) > 0 {
			if _, err := tx.ExecContext(ctx, `UPDATE delegations SET status = $1, updated_at = $2 WHERE id = $3 AND status <> $1`,
				string(access.Ended), micros(now), d.ID); err != nil {
				return err
			}
			if err := db.appendEvent(ctx, tx, KindDelegationStatus, a.Controller, by.actor(), map[string]string{"delegation": d.ID,
				"agreement": a.ID, "status": string(access.Ended), "reason": "version " + fmt.Sprint(v.Number) + " lacks " + strings.Join(lacks, ", ")}); err != nil {
				return err
			}
			changed = true
			continue
		}
		if hasTerm && (d.ValidTo == nil || d.ValidTo.After(end)) {
			if _, err := tx.ExecContext(ctx, `UPDATE delegations SET valid_to = $1, updated_at = $2 WHERE id = $3`, micros(end), micros(now), d.ID); err != nil {
				return err
			}
			changed = true
		}
	}
	if !changed {
		return nil
	}
	return bumpAccess(ctx, tx)
}

// EndLapsedDelegations ends the delegations (not ended) that rest on an
// agreement whose term (gjelderTil) has run out at now, with their events,
// and returns how many it ended (Rule SK-04). A delegation made under an
// agreement with a term ends with it by its own ValidTo; this reaches
// those stored before that was so.
func (db *DB) EndLapsedDelegations(ctx context.Context, now time.Time) (int, error) {
	recs, err := db.agreements(ctx, db.read, "", "")
	if err != nil {
		return 0, err
	}
	n := 0
	for _, r := range recs {
		if end, ok := r.TermEnd(now); !ok || now.Before(end) || !r.Status.Live() {
			continue
		}
		var ids []string
		err := db.inTx(ctx, func(tx *sql.Tx) error {
			var err error
			ids, err = idsIn(ctx, tx, `UPDATE delegations SET status = $1, updated_at = $2 WHERE agreement_id = $3 AND status <> $1 RETURNING id`,
				string(access.Ended), micros(now), r.ID)
			if err != nil || len(ids) == 0 {
				return err
			}
			slices.Sort(ids)
			for _, id := range ids {
				if err := db.appendEvent(ctx, tx, KindDelegationStatus, r.Controller, "deling",
					map[string]string{"delegation": id, "agreement": r.ID, "status": string(access.Ended), "reason": "gjelderTil"}); err != nil {
					return err
				}
			}
			return bumpAccess(ctx, tx)
		})
		if err != nil {
			return n, fmt.Errorf("end lapsed delegations of %s: %w", r.ID, err)
		}
		n += len(ids)
	}
	return n, nil
}

// noticeContactCopy is ls with, for each letter to the processor's
// contacts, a copy to the processor's contact for notices that the
// agreement in force names (template § 14), unless that address is among
// them already (Rules DPA-10, DPA-11).
func noticeContactCopy(ctx context.Context, tx *sql.Tx, a *dpa.Agreement, ls []governance.Letter) ([]governance.Letter, error) {
	cur := a.Current()
	if cur == nil || strings.TrimSpace(cur.Content.ProcessorContact.Epost) == "" {
		return ls, nil
	}
	addr := strings.TrimSpace(cur.Content.ProcessorContact.Epost)
	to, err := letterRecipients(ctx, tx, a.Processor)
	if err != nil || slices.ContainsFunc(to, func(t string) bool { return strings.EqualFold(t, addr) }) {
		return ls, err
	}
	out := slices.Clone(ls)
	for _, l := range ls {
		if l.Consumer == a.Processor && l.To == "" {
			l.To = addr
			out = append(out, l)
		}
	}
	return out, nil
}

package store

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"deling/internal/access"
	"deling/internal/governance"
)

// EnhetsregisteretRun is one import of organisation status (Rule AA-26).
type EnhetsregisteretRun struct {
	ID         string
	Source     string
	StartedAt  time.Time
	FinishedAt time.Time
	Entries    int64    // entries read
	Ceased     []string // consumers and processors whose access ended
	WindingUp  []string // consumers in voluntary winding-up: access kept, reported
	Error      string   // why the import failed; nothing was changed then
}

// ImportEnhetsregisteret reads Enhetsregisteret's open data from r (plain or
// gzip JSON, streamed) and ends the access of every consumer or data
// processor it shows as ceased (governance.Enhet.Ceased), each in its own
// transaction (CeaseOrganisation). It reads the whole input first: a
// malformed or truncated file changes nothing. Every run is recorded.
func (db *DB) ImportEnhetsregisteret(ctx context.Context, r io.Reader, source, actor string) (EnhetsregisteretRun, error) {
	run := EnhetsregisteretRun{ID: newID(), Source: source, StartedAt: db.now().UTC()}
	err := db.importEnhetsregisteret(ctx, r, actor, &run)
	run.FinishedAt = db.now().UTC()
	if err != nil {
		run.Error = truncate(err.Error(), 500)
	}
	if _, rerr := db.write.ExecContext(context.WithoutCancel(ctx), `INSERT INTO enhetsregisteret_runs
		(id, source, started_at, finished_at, entries, ceased, winding_up, error) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		run.ID, source, micros(run.StartedAt), micros(run.FinishedAt), run.Entries,
		strings.Join(run.Ceased, ","), strings.Join(run.WindingUp, ","), run.Error); rerr != nil && err == nil {
		err = fmt.Errorf("record the import: %w", rerr)
	}
	return run, err
}

func (db *DB) importEnhetsregisteret(ctx context.Context, r io.Reader, actor string, run *EnhetsregisteretRun) error {
	// Who could lose access: consumers that have not ceased, and processors
	// with a delegation not ended — a suspended one could be resumed (Rule AA-26).
	watched := map[string]bool{}
	rows, err := db.read.query(ctx, `SELECT orgnr FROM consumers WHERE status <> $1
		UNION SELECT processor FROM delegations WHERE status <> 'ended'`, string(access.Ceased))
	if err != nil {
		return fmt.Errorf("enhetsregisteret: %w", err)
	}
	for rows.Next() {
		var o string
		if err := rows.Scan(&o); err != nil {
			rows.Close()
			return err
		}
		watched[o] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	ceased := map[string]string{}
	st, err := governance.ParseEnheter(r, func(e governance.Enhet) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		switch {
		case !watched[e.Organisasjonsnummer]:
		case e.Ceased():
			ceased[e.Organisasjonsnummer] = e.CeaseReason()
		case e.WindingUp():
			run.WindingUp = append(run.WindingUp, e.Organisasjonsnummer)
		}
		return nil
	})
	run.Entries = st.Read
	if err != nil {
		return err
	}
	orgs := make([]string, 0, len(ceased))
	for o := range ceased {
		orgs = append(orgs, o)
	}
	slices.Sort(orgs)
	for _, o := range orgs {
		if _, err := db.CeaseOrganisation(ctx, o, "Enhetsregisteret: "+ceased[o], actor); err != nil {
			return err
		}
		run.Ceased = append(run.Ceased, o)
	}
	return nil
}

// EnhetsregisteretRuns lists the latest imports, newest first.
func (db *DB) EnhetsregisteretRuns(ctx context.Context, limit int) ([]EnhetsregisteretRun, error) {
	rows, err := db.read.query(ctx, `SELECT id, source, started_at, finished_at, entries, ceased, winding_up, error
		FROM enhetsregisteret_runs ORDER BY started_at DESC, id DESC LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("enhetsregisteret runs: %w", err)
	}
	defer rows.Close()
	var out []EnhetsregisteretRun
	for rows.Next() {
		var r EnhetsregisteretRun
		var started, finished int64
		var ceased, winding string
		if err := rows.Scan(&r.ID, &r.Source, &started, &finished, &r.Entries, &ceased, &winding, &r.Error); err != nil {
			return nil, err
		}
		r.StartedAt, r.FinishedAt = fromMicros(started), fromMicros(finished)
		r.Ceased, r.WindingUp = splitList(ceased), splitList(winding)
		out = append(out, r)
	}
	return out, rows.Err()
}

// LastEnhetsregisteretImport is when the last import that succeeded started (zero: never).
func (db *DB) LastEnhetsregisteretImport(ctx context.Context) (time.Time, error) {
	var us sql.NullInt64
	if err := db.read.queryRow(ctx, `SELECT MAX(started_at) FROM enhetsregisteret_runs WHERE error = ''`).Scan(&us); err != nil {
		return time.Time{}, err
	}
	if !us.Valid {
		return time.Time{}, nil
	}
	return fromMicros(us.Int64), nil
}

func splitList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

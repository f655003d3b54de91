package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"deling/internal/register"
)

// UpsertArbeidsforhold inserts or replaces arbeidsforhold by uuid and returns
// how many rows were inserted or changed (an identical record is left alone, so
// a re-run import changes nothing). Records are stored without the code
// descriptions the kodeverk gives; afs is changed during the call and restored.
func (db *DB) UpsertArbeidsforhold(ctx context.Context, afs []register.Arbeidsforhold) (int64, error) {
	docs := make([]string, len(afs))
	for i := range afs {
		afs[i].StripBeskrivelser()
		b, err := json.Marshal(&afs[i])
		afs[i].FillBeskrivelser()
		if err != nil {
			return 0, fmt.Errorf("encode arbeidsforhold %s: %w", afs[i].UUID, err)
		}
		docs[i] = string(b)
	}
	now := micros(db.now())
	n, err := db.upsert(ctx,
		`INSERT INTO arbeidsforhold (uuid, arbeidstaker, arbeidssted, opplysningspliktig, type,
		 rapporteringsordning, startdato, sluttdato, doc, updated_at) VALUES `,
		` ON CONFLICT (uuid) DO UPDATE SET arbeidstaker = excluded.arbeidstaker, arbeidssted = excluded.arbeidssted,
		  opplysningspliktig = excluded.opplysningspliktig, type = excluded.type,
		  rapporteringsordning = excluded.rapporteringsordning, startdato = excluded.startdato,
		  sluttdato = excluded.sluttdato, doc = excluded.doc, updated_at = excluded.updated_at
		  WHERE arbeidsforhold.doc <> excluded.doc`,
		10, len(afs), func(i int, dst []any) []any {
			a := &afs[i]
			p := &a.Ansettelsesperiode
			return append(dst, a.UUID, a.ArbeidstakerIdent(), a.ArbeidsstedIdent(), a.OpplysningspliktigIdent(),
				a.Type.Kode, a.Rapporteringsordning.Kode, string(p.Startdato), nullDate(p.Sluttdato), docs[i], now)
		})
	if err != nil {
		return 0, fmt.Errorf("upsert arbeidsforhold: %w", err)
	}
	return n, nil
}

// ArbeidsforholdByUUID loads one arbeidsforhold by its external id.
func (db *DB) ArbeidsforholdByUUID(ctx context.Context, uuid string) (register.Arbeidsforhold, error) {
	var (
		a   register.Arbeidsforhold
		doc string
	)
	err := db.queryRow(ctx, `SELECT doc FROM arbeidsforhold WHERE uuid = $1`, uuid).Scan(&doc)
	if errors.Is(err, sql.ErrNoRows) {
		return a, fmt.Errorf("arbeidsforhold %s: %w", uuid, ErrNotFound)
	}
	if err != nil {
		return a, fmt.Errorf("load arbeidsforhold %s: %w", uuid, err)
	}
	if err := json.Unmarshal([]byte(doc), &a); err != nil {
		return a, fmt.Errorf("decode arbeidsforhold %s: %w", uuid, err)
	}
	a.FillBeskrivelser()
	return a, nil
}

// Page is one page of search results. Next is the cursor for the next page, "" on the last.
type Page struct {
	Arbeidsforhold []register.Arbeidsforhold
	Next           string
}

// FindArbeidsforhold searches by any combination of arbeidstaker, arbeidssted
// and opplysningspliktig with the query's filters, ordered by uuid, one page at
// a time (keyset paging: a page costs the same however deep it is). The query
// must have been validated.
func (db *DB) FindArbeidsforhold(ctx context.Context, q register.Query) (Page, error) {
	var (
		where []string
		args  []any
	)
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	in := func(col string, vals []string) {
		ps := make([]string, len(vals))
		for i, v := range vals {
			ps[i] = arg(v)
		}
		where = append(where, col+" IN ("+strings.Join(ps, ",")+")")
	}
	if q.Arbeidstaker != "" {
		where = append(where, "arbeidstaker = "+arg(q.Arbeidstaker))
	}
	if q.Arbeidssted != "" {
		where = append(where, "arbeidssted = "+arg(q.Arbeidssted))
	}
	if q.Opplysningspliktig != "" {
		where = append(where, "opplysningspliktig = "+arg(q.Opplysningspliktig))
	}
	if len(where) == 0 {
		return Page{}, register.ErrNoCriteria
	}
	if len(q.Types) > 0 {
		in("type", q.Types)
	}
	if len(q.Rapporteringsordninger) > 0 {
		in("rapporteringsordning", q.Rapporteringsordninger)
	}
	if len(q.Statuses) > 0 && len(q.Statuses) < 3 {
		var ors []string
		at := string(q.At)
		for _, s := range q.Statuses {
			switch s {
			case register.StatusAktiv:
				p := arg(at)
				ors = append(ors, "(startdato <= "+p+" AND (sluttdato IS NULL OR sluttdato >= "+p+"))")
			case register.StatusFremtidig:
				ors = append(ors, "startdato > "+arg(at))
			case register.StatusAvsluttet:
				ors = append(ors, "sluttdato < "+arg(at))
			}
		}
		where = append(where, "("+strings.Join(ors, " OR ")+")")
	}
	if q.After != "" {
		where = append(where, "uuid > "+arg(q.After))
	}
	limit := q.Limit
	if limit <= 0 {
		limit = register.DefaultPageSize
	}
	query := "SELECT uuid, doc FROM arbeidsforhold WHERE " + strings.Join(where, " AND ") +
		" ORDER BY uuid LIMIT " + arg(limit+1)
	rows, err := db.query(ctx, query, args...)
	if err != nil {
		return Page{}, fmt.Errorf("find arbeidsforhold: %w", err)
	}
	defer rows.Close()
	var page Page
	var uuid, doc string
	for rows.Next() {
		if err := rows.Scan(&uuid, &doc); err != nil {
			return Page{}, fmt.Errorf("find arbeidsforhold: %w", err)
		}
		if len(page.Arbeidsforhold) == limit {
			page.Next = page.Arbeidsforhold[limit-1].UUID
			break
		}
		var a register.Arbeidsforhold
		if err := json.Unmarshal([]byte(doc), &a); err != nil {
			return Page{}, fmt.Errorf("decode arbeidsforhold %s: %w", uuid, err)
		}
		a.FillBeskrivelser()
		page.Arbeidsforhold = append(page.Arbeidsforhold, a)
	}
	if err := rows.Err(); err != nil {
		return Page{}, fmt.Errorf("find arbeidsforhold: %w", err)
	}
	return page, nil
}

// Counts is how many rows each register table holds.
type Counts struct {
	Persons, Organisations, Arbeidsforhold int64
}

// Count counts the register's rows.
func (db *DB) Count(ctx context.Context) (Counts, error) {
	var c Counts
	err := db.queryRow(ctx, `SELECT
		(SELECT COUNT(*) FROM persons), (SELECT COUNT(*) FROM organisations), (SELECT COUNT(*) FROM arbeidsforhold)`).
		Scan(&c.Persons, &c.Organisations, &c.Arbeidsforhold)
	if err != nil {
		return c, fmt.Errorf("count: %w", err)
	}
	return c, nil
}

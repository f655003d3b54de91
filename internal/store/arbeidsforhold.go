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
	n, err := db.upsert(ctx, db.regWrite,
		`INSERT INTO arbeidsforhold (uuid, arbeidstaker, arbeidssted, opplysningspliktig, type,
		 rapporteringsordning, startdato, sluttdato, doc, person_employer, updated_at) VALUES `,
		` ON CONFLICT (uuid) DO UPDATE SET arbeidstaker = excluded.arbeidstaker, arbeidssted = excluded.arbeidssted,
		  opplysningspliktig = excluded.opplysningspliktig, type = excluded.type,
		  rapporteringsordning = excluded.rapporteringsordning, startdato = excluded.startdato,
		  sluttdato = excluded.sluttdato, doc = excluded.doc, person_employer = excluded.person_employer,
		  updated_at = excluded.updated_at
		  WHERE arbeidsforhold.doc <> excluded.doc`,
		11, len(afs), func(i int, dst []any) []any {
			a := &afs[i]
			p := &a.Ansettelsesperiode
			personEmployer := a.Arbeidssted.Type == register.EnhetPerson || a.Opplysningspliktig.Type == register.EnhetPerson
			return append(dst, a.UUID, a.ArbeidstakerIdent(), a.ArbeidsstedIdent(), a.OpplysningspliktigIdent(),
				a.Type.Kode, a.Rapporteringsordning.Kode, string(p.Startdato), nullDate(p.Sluttdato), docs[i], personEmployer, now)
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
	err := db.regRow(ctx, `SELECT doc FROM arbeidsforhold WHERE uuid = $1`, []any{uuid}, &doc)
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
	docs, err := db.FindDocs(ctx, q)
	if err != nil {
		return Page{}, err
	}
	page := Page{Next: docs.Next, Arbeidsforhold: make([]register.Arbeidsforhold, len(docs.Docs))}
	for i, d := range docs.Docs {
		if err := json.Unmarshal(d.Doc, &page.Arbeidsforhold[i]); err != nil {
			return Page{}, fmt.Errorf("decode arbeidsforhold %s: %w", d.UUID, err)
		}
		page.Arbeidsforhold[i].FillBeskrivelser()
	}
	return page, nil
}

// FindDocs is FindArbeidsforhold without decoding: the lookup path projects
// the stored bytes straight into the answer.
func (db *DB) FindDocs(ctx context.Context, q register.Query) (register.DocPage, error) {
	where, args, err := whereArbeidsforhold(q)
	if err != nil {
		return register.DocPage{}, err
	}
	limit := q.Limit
	if limit <= 0 {
		limit = register.DefaultPageSize
	}
	args = append(args, limit+1)
	query := fmt.Sprintf(`SELECT uuid, arbeidstaker, arbeidssted, opplysningspliktig, person_employer, doc
		FROM arbeidsforhold WHERE %s ORDER BY uuid LIMIT $%d`, where, len(args))
	rows, err := db.regRows(ctx, replicaReadTimeout, query, args...)
	if err != nil {
		return register.DocPage{}, fmt.Errorf("find arbeidsforhold: %w", err)
	}
	defer rows.Close()
	var page register.DocPage
	for rows.Next() {
		var d register.Doc
		if err := rows.Scan(&d.UUID, &d.Arbeidstaker, &d.Arbeidssted, &d.Opplysningspliktig, &d.PersonEmployer, &d.Doc); err != nil {
			return register.DocPage{}, fmt.Errorf("find arbeidsforhold: %w", db.regErr(err))
		}
		if len(page.Docs) == limit {
			page.Next = page.Docs[limit-1].UUID
			break
		}
		page.Docs = append(page.Docs, d)
	}
	if err := rows.Err(); err != nil {
		return register.DocPage{}, fmt.Errorf("find arbeidsforhold: %w", db.regErr(err))
	}
	return page, nil
}

// screenedSQL keeps rows whose persons are known and unprotected (Rule AA-11).
const screenedSQL = `EXISTS (SELECT 1 FROM persons p WHERE p.ident = arbeidsforhold.arbeidstaker AND p.adressebeskyttelse = 'ugradert')
	AND (NOT arbeidsforhold.person_employer
	     OR EXISTS (SELECT 1 FROM persons p WHERE p.ident = arbeidsforhold.arbeidssted AND p.adressebeskyttelse = 'ugradert'))
	AND NOT EXISTS (SELECT 1 FROM persons p WHERE p.ident = arbeidsforhold.opplysningspliktig AND p.adressebeskyttelse <> 'ugradert')`

// whereArbeidsforhold builds the WHERE clause of a query from fixed fragments
// (so the statement cache stays small) and its arguments.
func whereArbeidsforhold(q register.Query) (string, []any, error) {
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
	if q.UUID != "" {
		where = append(where, "uuid = "+arg(q.UUID))
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
		return "", nil, register.ErrNoCriteria
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
	if q.Screened {
		where = append(where, screenedSQL)
	}
	if q.After != "" {
		where = append(where, "uuid > "+arg(q.After))
	}
	return strings.Join(where, " AND "), args, nil
}

// CountActive counts, for each underenhet, the arbeidsforhold active on date
// at whose persons pass screening (Rule AA-11). Units without any are absent.
func (db *DB) CountActive(ctx context.Context, underenheter []string, at register.Date) (map[string]int, error) {
	out := make(map[string]int, len(underenheter))
	for _, u := range underenheter {
		var n int
		err := db.regRow(ctx, `SELECT COUNT(*) FROM arbeidsforhold WHERE arbeidssted = $1
			AND startdato <= $2 AND (sluttdato IS NULL OR sluttdato >= $2) AND `+screenedSQL, []any{u, string(at)}, &n)
		if err != nil {
			return nil, fmt.Errorf("count arbeidsforhold: %w", err)
		}
		if n > 0 {
			out[u] = n
		}
	}
	return out, nil
}

// Counts is how many rows each register table holds.
type Counts struct {
	Persons, Organisations, Arbeidsforhold int64
}

// Count counts the register's rows.
func (db *DB) Count(ctx context.Context) (Counts, error) {
	var c Counts
	err := db.regRow(ctx, `SELECT
		(SELECT COUNT(*) FROM persons), (SELECT COUNT(*) FROM organisations), (SELECT COUNT(*) FROM arbeidsforhold)`, nil,
		&c.Persons, &c.Organisations, &c.Arbeidsforhold)
	if err != nil {
		return c, fmt.Errorf("count: %w", err)
	}
	return c, nil
}

// SampleArbeidstakere lists up to n employees whose records pass screening,
// starting at a point of the uuid order: examples for the demo and load for benchmarks.
func (db *DB) SampleArbeidstakere(ctx context.Context, from string, n int) ([]string, error) {
	rows, err := db.regRows(ctx, replicaReadTimeout, `SELECT arbeidstaker FROM arbeidsforhold WHERE uuid >= $1 AND `+screenedSQL+` ORDER BY uuid LIMIT $2`, from, n)
	if err != nil {
		return nil, fmt.Errorf("sample arbeidstakere: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

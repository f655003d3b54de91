package store

import (
	"context"
	"errors"
	"os"
	"reflect"
	"slices"
	"sort"
	"testing"
	"time"

	"deling/internal/pgtest"
	"deling/internal/register"
)

var pg *pgtest.Server

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m, &pg)) }

var fixedNow = func() time.Time { return time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC) }

// eachEngine runs f against a fresh SQLite file and a fresh PostgreSQL database.
func eachEngine(t *testing.T, f func(t *testing.T, db *DB)) {
	t.Run("sqlite", func(t *testing.T) {
		db, err := Open(context.Background(), Config{DataDir: t.TempDir(), Now: fixedNow})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		f(t, db)
	})
	t.Run("postgres", func(t *testing.T) {
		if pg == nil {
			t.Skip("PostgreSQL is not installed (CI=true makes this a failure)")
		}
		dsn, err := pg.NewDatabase(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		db, err := Open(context.Background(), Config{URL: dsn, Now: fixedNow})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		f(t, db)
	})
}

// loaded is a small synthetic register, written to the database and kept in memory as the reference.
type loaded struct {
	pop     *register.Population
	persons []register.Person
	afs     []register.Arbeidsforhold
}

func load(t *testing.T, db *DB, persons int) loaded {
	t.Helper()
	ctx := context.Background()
	pop, err := register.NewPopulation(register.PopulationConfig{Persons: persons, Seed: 3, AsOf: "2026-11-01"})
	if err != nil {
		t.Fatal(err)
	}
	l := loaded{pop: pop}
	for i := 0; i < persons; i++ {
		p, afs := pop.Person(i)
		l.persons = append(l.persons, p)
		l.afs = append(l.afs, afs...)
	}
	if _, err := db.UpsertOrganisations(ctx, pop.Organisations()); err != nil {
		t.Fatal(err)
	}
	if _, err := db.UpsertPersons(ctx, l.persons); err != nil {
		t.Fatal(err)
	}
	if n, err := db.UpsertArbeidsforhold(ctx, l.afs); err != nil {
		t.Fatal(err)
	} else if n != int64(len(l.afs)) {
		t.Fatalf("first upsert: got %d rows changed, want %d", n, len(l.afs))
	}
	return l
}

func TestOpenIsIdempotent(t *testing.T) {
	dir := t.TempDir()
	for i := 0; i < 2; i++ {
		db, err := Open(context.Background(), Config{DataDir: dir})
		if err != nil {
			t.Fatalf("open %d: %v", i, err)
		}
		if err := db.Ping(context.Background()); err != nil {
			t.Fatal(err)
		}
		db.Close()
	}
	if _, err := os.Stat(dir + "/deling.db"); err != nil {
		t.Fatal(err)
	}
}

func TestOpenRefusesOtherURLs(t *testing.T) {
	_, err := Open(context.Background(), Config{URL: "mysql://x"})
	if err == nil {
		t.Fatal("mysql URL accepted")
	}
}

func TestPersonsAndOrganisations(t *testing.T) {
	eachEngine(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		l := load(t, db, 50)
		for _, want := range l.persons[:10] {
			got, err := db.Person(ctx, want.Ident)
			if err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Fatalf("person: got %+v, want %+v", got, want)
			}
		}
		if _, err := db.Person(ctx, "01010112345"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("unknown person: got %v, want ErrNotFound", err)
		}
		for _, want := range l.pop.Organisations()[:10] {
			got, err := db.Organisation(ctx, want.Organisasjonsnummer)
			if err != nil {
				t.Fatal(err)
			}
			if got.Navn != want.Navn || got.Enhetstype != want.Enhetstype || got.OverordnetEnhet != want.OverordnetEnhet ||
				(got.Slettedato == nil) != (want.Slettedato == nil) || *got.Organisasjonsform != *want.Organisasjonsform {
				t.Fatalf("organisation: got %+v, want %+v", got, want)
			}
		}
		// Re-running the same upsert changes nothing; a changed name changes one row.
		if n, err := db.UpsertPersons(ctx, l.persons); err != nil || n != 0 {
			t.Fatalf("re-upsert persons: got %d, %v; want 0 changed", n, err)
		}
		p := l.persons[3]
		p.Etternavn = "Endret"
		if n, err := db.UpsertPersons(ctx, []register.Person{p}); err != nil || n != 1 {
			t.Fatalf("changed person: got %d, %v; want 1", n, err)
		}
		if got, _ := db.Person(ctx, p.Ident); got.Etternavn != "Endret" {
			t.Fatalf("changed person: got %q", got.Etternavn)
		}
	})
}

func uuids(afs []register.Arbeidsforhold) []string {
	out := make([]string, len(afs))
	for i := range afs {
		out[i] = afs[i].UUID
	}
	return out
}

// findAll pages through a query and returns every uuid.
func findAll(t *testing.T, db *DB, q register.Query) []string {
	t.Helper()
	var all []string
	for pages := 0; ; pages++ {
		if pages > 10_000 {
			t.Fatal("paging does not end")
		}
		page, err := db.FindArbeidsforhold(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, uuids(page.Arbeidsforhold)...)
		if page.Next == "" {
			return all
		}
		q.After = page.Next
	}
}

func reference(l loaded, q register.Query) []string {
	var out []string
	for i := range l.afs {
		if q.Matches(&l.afs[i]) {
			out = append(out, l.afs[i].UUID)
		}
	}
	sort.Strings(out)
	return out
}

func TestFindArbeidsforhold(t *testing.T) {
	eachEngine(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		l := load(t, db, 400)

		// By uuid: the stored document comes back whole.
		want := l.afs[7]
		got, err := db.ArbeidsforholdByUUID(ctx, want.UUID)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("by uuid: got %+v, want %+v", got, want)
		}
		if _, err := db.ArbeidsforholdByUUID(ctx, "00000000-0000-4000-8000-000000000000"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("unknown uuid: got %v", err)
		}

		// The biggest employer, for paging.
		bySted := map[string]int{}
		for i := range l.afs {
			bySted[l.afs[i].ArbeidsstedIdent()]++
		}
		big, bigN := "", 0
		for s, n := range bySted {
			if n > bigN {
				big, bigN = s, n
			}
		}
		a := &l.afs[0]
		at := register.Date("2026-11-01")
		queries := map[string]register.Query{
			"arbeidstaker":          {Arbeidstaker: a.ArbeidstakerIdent()},
			"arbeidstaker+sted":     {Arbeidstaker: a.ArbeidstakerIdent(), Arbeidssted: a.ArbeidsstedIdent()},
			"arbeidssted paged":     {Arbeidssted: big, Limit: 3},
			"opplysningspliktig":    {Opplysningspliktig: a.OpplysningspliktigIdent(), Limit: 7},
			"aktiv":                 {Arbeidssted: big, Statuses: []register.Status{register.StatusAktiv}, At: at, Limit: 5},
			"avsluttet+fremtidig":   {Arbeidssted: big, Statuses: []register.Status{register.StatusAvsluttet, register.StatusFremtidig}, At: at},
			"all statuses":          {Arbeidssted: big, Statuses: []register.Status{register.StatusAvsluttet, register.StatusFremtidig, register.StatusAktiv}, At: at},
			"type":                  {Arbeidssted: big, Types: []string{register.TypeOrdinaer, register.TypeFrilanser}},
			"rapporteringsordning":  {Arbeidssted: big, Rapporteringsordninger: []string{register.FoerAOrdningen}},
			"unknown person":        {Arbeidstaker: "01010112345"},
			"aktiv at an old date":  {Arbeidssted: big, Statuses: []register.Status{register.StatusAktiv}, At: "2012-06-30"},
			"fremtidig at old date": {Arbeidssted: big, Statuses: []register.Status{register.StatusFremtidig}, At: "2012-06-30", Limit: 2},
		}
		for name, q := range queries {
			if err := q.Validate(); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			got, want := findAll(t, db, q), reference(l, q)
			if !slices.Equal(got, want) {
				t.Errorf("%s: got %d uuids, want %d\n got %v\nwant %v", name, len(got), len(want), got, want)
			}
		}
		if bigN < 10 {
			t.Errorf("biggest employer has %d arbeidsforhold; the paging test needs more", bigN)
		}
		if _, err := db.FindArbeidsforhold(ctx, register.Query{}); !errors.Is(err, register.ErrNoCriteria) {
			t.Errorf("empty query: got %v, want ErrNoCriteria", err)
		}
	})
}

func TestUpsertArbeidsforholdIsIdempotent(t *testing.T) {
	eachEngine(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		l := load(t, db, 60)
		if n, err := db.UpsertArbeidsforhold(ctx, l.afs); err != nil || n != 0 {
			t.Fatalf("re-upsert: got %d, %v; want 0 changed", n, err)
		}
		a := l.afs[2]
		end := register.Date("2026-10-31")
		a.Ansettelsesperiode.Sluttdato = &end
		if n, err := db.UpsertArbeidsforhold(ctx, []register.Arbeidsforhold{a}); err != nil || n != 1 {
			t.Fatalf("changed: got %d, %v; want 1", n, err)
		}
		page, err := db.FindArbeidsforhold(ctx, register.Query{Arbeidstaker: a.ArbeidstakerIdent(), Statuses: []register.Status{register.StatusAvsluttet}, At: "2026-11-01", Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Contains(uuids(page.Arbeidsforhold), a.UUID) {
			t.Fatal("the ended arbeidsforhold is not found as AVSLUTTET: the index columns were not updated")
		}
		c, err := db.Count(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if c.Arbeidsforhold != int64(len(l.afs)) || c.Persons != 60 {
			t.Fatalf("count: got %+v, want %d arbeidsforhold and 60 persons", c, len(l.afs))
		}
	})
}

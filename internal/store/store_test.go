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

	"deling/internal/access"
	"deling/internal/pgtest"
	"deling/internal/register"
	"deling/internal/tmpldir"
)

var pg *pgtest.Server

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m, &pg)) }

var fixedNow = func() time.Time { return time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC) }

// eachEngine runs f against a fresh SQLite file and a fresh PostgreSQL
// database, in parallel subtests: what f changes outside its database must be
// safe for that, and a test restores what it changed with t.Cleanup (which
// waits for the subtests), not defer (which does not).
func eachEngine(t *testing.T, f func(t *testing.T, db *DB)) {
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel() // each engine has its own database
		db, err := Open(context.Background(), Config{DataDir: newSQLiteDir(t), Now: fixedNow})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		f(t, db)
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		if pg == nil {
			t.Skip("PostgreSQL is not installed (CI=true makes this a failure)")
		}
		dsn := newPostgres(t)
		db, err := Open(context.Background(), Config{URL: dsn, Now: fixedNow})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		f(t, db)
	})
}

// newSQLiteDir returns a fresh data directory that holds the schema: a copy
// of one migrated once per test binary.
func newSQLiteDir(t testing.TB) string {
	t.Helper()
	return tmpldir.New(t, "store", func(dir string) error {
		db, err := Open(context.Background(), Config{DataDir: dir})
		if err != nil {
			return err
		}
		return db.Close()
	})
}

// newPostgres returns the DSN of a fresh PostgreSQL database that holds the
// schema: a copy of a template migrated once per test binary.
func newPostgres(t testing.TB) string {
	t.Helper()
	dsn, err := pg.NewDatabaseFrom(context.Background(), "store", func(ctx context.Context, dsn string) error {
		db, err := Open(ctx, Config{URL: dsn})
		if err != nil {
			return err
		}
		return db.Close()
	})
	if err != nil {
		t.Fatal(err)
	}
	return dsn
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
	if _, err := os.Stat(dir + "/register.db"); err != nil {
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

// Rule AA-11: a screened query never returns an arbeidsforhold of a person
// with a protected address, nor of a person the register does not know, nor
// one whose private employer is protected; counts leave them out too.
func TestScreening(t *testing.T) {
	eachEngine(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		l := load(t, db, 120)
		// Pick three persons with arbeidsforhold at employers that are organisations.
		var picked []register.Arbeidsforhold
		seen := map[string]bool{}
		for _, a := range l.afs {
			if a.Arbeidssted.Type == register.EnhetUnderenhet && !seen[a.ArbeidstakerIdent()] && a.Ansettelsesperiode.Sluttdato == nil && a.Ansettelsesperiode.Startdato <= "2026-11-01" {
				picked = append(picked, a)
				seen[a.ArbeidstakerIdent()] = true
			}
			if len(picked) == 3 {
				break
			}
		}
		if len(picked) < 3 {
			t.Fatal("population too small")
		}
		protected, unknown, open := picked[0], picked[1], picked[2]
		p, err := db.Person(ctx, protected.ArbeidstakerIdent())
		if err != nil {
			t.Fatal(err)
		}
		p.Adressebeskyttelse = register.StrengtFortrolig
		if _, err := db.UpsertPersons(ctx, []register.Person{p}); err != nil {
			t.Fatal(err)
		}
		if _, err := db.regWrite.ExecContext(ctx, `DELETE FROM persons WHERE ident = $1`, unknown.ArbeidstakerIdent()); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			a    register.Arbeidsforhold
			want bool
		}{{protected, false}, {unknown, false}, {open, true}} {
			for name, q := range map[string]register.Query{
				"by person":   {Arbeidstaker: tc.a.ArbeidstakerIdent(), Screened: true},
				"by uuid":     {UUID: tc.a.UUID, Screened: true},
				"by employer": {Arbeidssted: tc.a.ArbeidsstedIdent(), Screened: true, Limit: 1000},
			} {
				page, err := db.FindDocs(ctx, q)
				if err != nil {
					t.Fatal(err)
				}
				found := false
				for _, d := range page.Docs {
					found = found || d.UUID == tc.a.UUID
				}
				if found != tc.want {
					t.Errorf("%s: found %v, want %v", name, found, tc.want)
				}
				// Unscreened, the store still has it: screening is the query's, not a deletion.
				q.Screened = false
				if page, _ := db.FindDocs(ctx, q); len(page.Docs) == 0 {
					t.Errorf("%s unscreened: nothing found", name)
				}
			}
		}
		// Counts: the protected person's arbeidsforhold is not counted.
		sted := protected.ArbeidsstedIdent()
		counts, err := db.CountActive(ctx, []string{sted, "399999999"}, "2026-11-01")
		if err != nil {
			t.Fatal(err)
		}
		want := 0
		for _, a := range l.afs {
			if a.ArbeidsstedIdent() == sted && a.Ansettelsesperiode.StatusAt("2026-11-01") == register.StatusAktiv &&
				a.ArbeidstakerIdent() != protected.ArbeidstakerIdent() && a.ArbeidstakerIdent() != unknown.ArbeidstakerIdent() {
				if pp, err := db.Person(ctx, a.ArbeidstakerIdent()); err == nil && !pp.Protected() {
					want++
				}
			}
		}
		if counts[sted] != want {
			t.Errorf("count at %s: got %d, want %d", sted, counts[sted], want)
		}
		if _, ok := counts["399999999"]; ok {
			t.Error("a unit without arbeidsforhold has a count")
		}
	})
}

func TestGrantsAndDelegations(t *testing.T) {
	eachEngine(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		c := access.Consumer{Orgnr: "310000001", Navn: "Demo kommune", Status: access.Active}
		if err := db.UpsertConsumer(ctx, c, "test"); err != nil {
			t.Fatal(err)
		}
		to := fixedNow().Add(24 * time.Hour)
		g, err := db.AddGrant(ctx, access.Grant{Consumer: c.Orgnr, Packages: []string{"grunnopplysninger@1", "permisjoner@1"},
			Channel: access.ChannelAPI, Env: register.EnvTest, LegalBasis: "aa-registerforskriften § 10", ProcessingBasis: "art. 6(1)(e)",
			Purpose: "saksbehandling", QueryKinds: []access.QueryKind{access.ByArbeidstaker, access.Antall},
			ValidFrom: fixedNow(), ValidTo: &to, RateLimit: 50}, "test")
		if err != nil {
			t.Fatal(err)
		}
		got, err := db.Grant(ctx, g.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, g) {
			t.Fatalf("grant: got %+v, want %+v", got, g)
		}
		if _, err := db.SetGrantStatus(ctx, g.ID, access.Suspended, "brudd på vilkår", "test"); err != nil {
			t.Fatal(err)
		}
		if _, err := db.SetGrantStatus(ctx, g.ID, access.Ended, "avsluttet", "test"); err != nil {
			t.Fatal(err)
		}
		if _, err := db.SetGrantStatus(ctx, g.ID, access.Active, "", "test"); !errors.Is(err, ErrConflict) {
			t.Fatalf("resume after end: got %v, want ErrConflict", err)
		}
		// A delegation from before agreements were records (migration 00016);
		// AddDelegation's rule SK-04 is TestDelegationNeedsCoveringAgreement's.
		dID := legacyDelegation(t, db, c.Orgnr, "310000003")
		in, err := db.AccessInputs(ctx, c.Orgnr, "310000003")
		if err != nil {
			t.Fatal(err)
		}
		if in.Consumer == nil || len(in.Grants) != 1 || in.Grants[0].Status != access.Ended || len(in.Delegations) != 1 {
			t.Fatalf("inputs: %+v", in)
		}
		if err := db.EndDelegation(ctx, dID, "test"); err != nil {
			t.Fatal(err)
		}
		if in, _ := db.AccessInputs(ctx, c.Orgnr, "310000003"); in.Delegations[0].Status != access.Ended {
			t.Fatal("delegation not ended")
		}
		if in, _ := db.AccessInputs(ctx, "399999999", ""); in.Consumer != nil {
			t.Fatal("unknown consumer has inputs")
		}
		// Every change was logged, in order.
		recs, err := db.AuditRecords(ctx, c.Orgnr, 100)
		if err != nil {
			t.Fatal(err)
		}
		var kinds []string
		for _, r := range recs {
			kinds = append(kinds, r.Kind)
		}
		want := []string{"consumer.changed", "grant.added", "grant.status", "grant.status", "delegation.ended"}
		if !slices.Equal(kinds, want) {
			t.Fatalf("audit kinds: got %v, want %v", kinds, want)
		}
	})
}

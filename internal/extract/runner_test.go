package extract_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"deling/internal/access"
	"deling/internal/audit"
	"deling/internal/extract"
	"deling/internal/governance"
	"deling/internal/register"
	"deling/internal/store"
)

// testClock is a clock the test moves.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

const consumer = "310000001" // the consumer orgnr of the fixture

type fixture struct {
	db      *store.DB
	clock   *testClock
	dir     string
	afs     []register.Arbeidsforhold
	persons map[string]register.Person
	grant   access.Grant
	big     string // the arbeidssted with the most arbeidsforhold
	cat     *access.Catalogue
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{clock: &testClock{t: time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)}, dir: t.TempDir(), persons: map[string]register.Person{}}
	db, err := store.Open(ctx, store.Config{DataDir: t.TempDir(), Now: f.clock.now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	f.db = db
	pop, err := register.NewPopulation(register.PopulationConfig{Persons: 150, Seed: 5, AsOf: "2026-11-24"})
	if err != nil {
		t.Fatal(err)
	}
	var ps []register.Person
	for i := 0; i < 150; i++ {
		p, afs := pop.Person(i)
		ps = append(ps, p)
		f.persons[p.Ident] = p
		f.afs = append(f.afs, afs...)
	}
	bySted := map[string]int{}
	for i := range f.afs {
		bySted[f.afs[i].ArbeidsstedIdent()]++
	}
	for s, n := range bySted {
		if n > bySted[f.big] || (n == bySted[f.big] && s < f.big) {
			f.big = s
		}
	}
	// Rule AA-11: one of the big employer's persons has a protected address.
	for _, a := range f.afs {
		if a.ArbeidsstedIdent() == f.big {
			for i := range ps {
				if ps[i].Ident == a.ArbeidstakerIdent() {
					ps[i].Adressebeskyttelse = register.StrengtFortrolig
					f.persons[ps[i].Ident] = ps[i]
				}
			}
			break
		}
	}
	if _, err := db.UpsertOrganisations(ctx, pop.Organisations()); err != nil {
		t.Fatal(err)
	}
	if _, err := db.UpsertPersons(ctx, ps); err != nil {
		t.Fatal(err)
	}
	if _, err := db.UpsertArbeidsforhold(ctx, f.afs); err != nil {
		t.Fatal(err)
	}
	if err := db.UpsertConsumer(ctx, access.Consumer{Orgnr: consumer, Navn: "Etat", Status: access.Active}, "test"); err != nil {
		t.Fatal(err)
	}
	f.grant, err = db.AddGrant(ctx, access.Grant{Consumer: consumer, Packages: []string{"grunnopplysninger@1", "stillingsdetaljer@1"},
		Channel: access.ChannelExtract, Env: register.EnvTest, LegalBasis: "forskrift § 10", ProcessingBasis: "art. 6 e", Purpose: "kontroll",
		QueryKinds: []access.QueryKind{access.ByArbeidssted, access.ByArbeidstaker}, ValidFrom: f.clock.now().Add(-time.Hour), Status: access.Active}, "test")
	if err != nil {
		t.Fatal(err)
	}
	if f.cat, err = access.ParseCatalogue(access.DefaultPackages()); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) protected(ident string) bool {
	p := f.persons[ident]
	return p.Protected()
}

// order stores a queued job as the web does.
func (f *fixture) order(t *testing.T, kind access.QueryKind, format string, units ...string) extract.Job {
	t.Helper()
	var pkgs []access.Package
	for _, ref := range f.grant.Packages {
		p, err := f.cat.Resolve(ref)
		if err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	j, err := f.db.CreateExtract(context.Background(), extract.Job{Consumer: consumer, Env: register.EnvTest, Kind: kind, Format: format,
		Query: extract.Query{Units: units}, Packages: pkgs}, extract.MaxActive, nil)
	if err != nil {
		t.Fatal(err)
	}
	return j
}

func (f *fixture) runner(batch int) *extract.Runner {
	return &extract.Runner{DB: f.db, Dir: f.dir, BatchSize: batch, PageSize: 5, Now: f.clock.now}
}

// want is the uuids an extract of the big employer must hold: screened (Rule AA-11).
func (f *fixture) want() []string {
	var out []string
	for _, a := range f.afs {
		if a.ArbeidsstedIdent() == f.big && !f.protected(a.ArbeidstakerIdent()) {
			out = append(out, a.UUID)
		}
	}
	sort.Strings(out)
	return out
}

// result reads a job's batches in order: every line, and the files found.
func (f *fixture) result(t *testing.T, j extract.Job) (lines []string, files []string) {
	t.Helper()
	j, err := f.db.Extract(context.Background(), j.ID)
	if err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(extract.JobDir(f.dir, j.ID))
	for _, e := range entries {
		files = append(files, e.Name())
	}
	for n := 0; n < j.Batches; n++ {
		b, err := os.ReadFile(f.batchPath(t, j, n))
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(bytes.NewReader(b))
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			lines = append(lines, sc.Text())
		}
	}
	return lines, files
}

// batchPath is the file a committed batch's row names.
func (f *fixture) batchPath(t *testing.T, j extract.Job, n int) string {
	t.Helper()
	b, err := f.db.ExtractBatchInfo(context.Background(), j.ID, n)
	if err != nil {
		t.Fatal(err)
	}
	p, ok := extract.CommittedFile(f.dir, j.ID, n, j.Format, b.File)
	if !ok {
		t.Fatalf("batch %d: file %q", n, b.File)
	}
	return p
}

func uuidsOf(t *testing.T, lines []string) []string {
	t.Helper()
	var out []string
	for _, l := range lines {
		var v struct {
			UUID string `json:"uuid"`
		}
		if err := json.Unmarshal([]byte(l), &v); err != nil || v.UUID == "" {
			t.Fatalf("line %q: %v", l, err)
		}
		out = append(out, v.UUID)
	}
	return out
}

// A job streams every arbeidsforhold of the employer, minimised, into whole
// batches, and logs its query and every person included (Rule AA-16).
func TestRunnerWritesWholeBatches(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	j := f.order(t, access.ByArbeidssted, extract.FormatJSONL, f.big)
	var logged strings.Builder
	r := f.runner(7)
	r.Log = slog.New(slog.NewTextHandler(&logged, &slog.HandlerOptions{Level: slog.LevelInfo}))
	ran, err := r.RunOnce(ctx)
	if err != nil || !ran {
		t.Fatalf("run: %v %v", ran, err)
	}
	// An operator sees each job start and end at info.
	if !strings.Contains(logged.String(), `msg="extract job started" job=`+j.ID) || !strings.Contains(logged.String(), `msg="extract job done" job=`+j.ID) {
		t.Errorf("log:\n%s", logged.String())
	}
	if again, _ := f.runner(7).RunOnce(ctx); again {
		t.Fatal("a finished job ran again")
	}
	want := f.want()
	got, _ := f.db.Extract(ctx, j.ID)
	if got.Status != extract.StatusDone || got.Written != int64(len(want)) || got.Batches != (len(want)+6)/7 || got.UnitsDone != 1 ||
		!got.ExpiresAt.Equal(f.clock.now().Add(extract.DefaultTTL)) {
		t.Fatalf("job: %+v, want %d arbeidsforhold", got, len(want))
	}
	lines, files := f.result(t, j)
	if uuids := uuidsOf(t, lines); !slices.Equal(uuids, want) {
		t.Fatalf("extract holds %d uuids, want %d", len(uuids), len(want))
	}
	for _, name := range files {
		if strings.HasSuffix(name, ".tmp") {
			t.Errorf("a temporary file is left: %s", name)
		}
	}
	// Rules AA-02, AA-07: only the grant's elements; permisjoner are in no package granted.
	allowed := map[string]bool{}
	p, _ := f.cat.Projection(f.grant.Packages)
	for _, path := range p.Paths() {
		top, _, _ := strings.Cut(path, ".")
		allowed[top] = true
	}
	for _, l := range lines {
		var v map[string]json.RawMessage
		json.Unmarshal([]byte(l), &v)
		for k := range v {
			if !allowed[k] {
				t.Fatalf("element %q is not in the grant: %s", k, l)
			}
		}
	}
	// The log: the query, then one record per batch naming its persons, then the end.
	recs, err := f.db.AuditRecords(ctx, consumer, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var ops []string
	persons := map[string]bool{}
	for _, r := range recs {
		if r.Kind != audit.KindLookup {
			continue
		}
		ops = append(ops, r.Operation)
		if r.Channel != "extract" || len(r.Grants) != 1 || r.Grants[0].ID != f.grant.ID {
			t.Errorf("record %s: channel %q, grants %v", r.Operation, r.Channel, r.Grants)
		}
		switch r.Operation {
		case "extract start":
			if !bytes.Contains(r.Request, []byte(f.big)) {
				t.Errorf("the start record does not hold the query: %s", r.Request)
			}
		case "extract batch":
			for _, p := range r.Returned {
				persons[p] = true
			}
		}
	}
	if ops[0] != "extract start" || ops[len(ops)-1] != "extract done" || len(ops) != got.Batches+2 {
		t.Fatalf("records: %v", ops)
	}
	for _, a := range f.afs {
		if a.ArbeidsstedIdent() == f.big {
			if p := a.ArbeidstakerIdent(); persons[p] == f.protected(p) {
				t.Fatalf("person in batch records: %v, protected: %v", persons[p], f.protected(p))
			}
		}
	}
}

// A runner that stops (shutdown) puts the job back; the next resumes from
// the last whole batch and the result is the same as an uninterrupted run.
// A runner that died is taken over once it has been silent long enough, and
// its half-written batch is removed, never served.
func TestRunnerResumes(t *testing.T) {
	f := newFixture(t)
	straight := f.order(t, access.ByArbeidssted, extract.FormatJSONL, f.big)
	if err := f.runner(15).RunAll(context.Background()); err != nil {
		t.Fatal(err)
	}
	want, _ := f.result(t, straight)

	stopped := f.order(t, access.ByArbeidssted, extract.FormatJSONL, f.big)
	ctx, cancel := context.WithCancel(context.Background())
	r := f.runner(15)
	*extract.AfterCommit(r) = func(n int) {
		if n == 1 {
			cancel()
		}
	}
	if _, err := r.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	j, _ := f.db.Extract(context.Background(), stopped.ID)
	if j.Status != extract.StatusQueued || j.Batches != 2 {
		t.Fatalf("stopped job: status %s, %d batches; want queued with 2", j.Status, j.Batches)
	}
	if err := f.runner(15).RunAll(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got, _ := f.result(t, stopped); !slices.Equal(got, want) {
		t.Fatalf("resumed job: %d lines, want %d", len(got), len(want))
	}

	// A crash: the job is claimed, a batch half written, and the runner is gone.
	crashed := f.order(t, access.ByArbeidssted, extract.FormatJSONL, f.big)
	if _, ok, err := f.db.ClaimExtract(context.Background(), "dead", f.clock.now().Add(-time.Hour)); !ok || err != nil {
		t.Fatalf("claim: %v %v", ok, err)
	}
	os.MkdirAll(extract.JobDir(f.dir, crashed.ID), 0o700)
	half := filepath.Join(extract.JobDir(f.dir, crashed.ID), "0.dead.tmp")
	os.WriteFile(half, []byte(`{"uuid":"half`), 0o600)
	if ran, _ := f.runner(15).RunOnce(context.Background()); ran {
		t.Fatal("a job with a live runner was taken over")
	}
	f.clock.advance(extract.DefaultStaleAfter + time.Second)
	if ran, err := f.runner(15).RunOnce(context.Background()); !ran || err != nil {
		t.Fatalf("takeover: %v %v", ran, err)
	}
	if _, err := os.Stat(half); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("the dead runner's half batch is left")
	}
	if got, _ := f.result(t, crashed); !slices.Equal(got, want) {
		t.Fatalf("taken-over job: %d lines, want %d", len(got), len(want))
	}
}

// Rule AA-25: a grant suspended while a job runs stops it at the next batch;
// the job fails with the reason, and what it wrote is deleted.
func TestRunnerStopsWhenGrantSuspended(t *testing.T) {
	f := newFixture(t)
	j := f.order(t, access.ByArbeidssted, extract.FormatJSONL, f.big)
	r := f.runner(3)
	*extract.AfterCommit(r) = func(n int) {
		if n == 0 {
			if _, err := f.db.SetGrantStatus(context.Background(), f.grant.ID, access.Suspended, "brudd", "test"); err != nil {
				t.Error(err)
			}
		}
	}
	if _, err := r.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	got, _ := f.db.Extract(context.Background(), j.ID)
	if got.Status != extract.StatusFailed || !strings.Contains(got.Error, "grant-suspended") || got.Batches != 1 {
		t.Fatalf("job: status %s, error %q, %d batches", got.Status, got.Error, got.Batches)
	}
	if _, err := os.Stat(extract.JobDir(f.dir, j.ID)); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("a failed job's files are kept")
	}
	recs, _ := f.db.AuditRecords(context.Background(), consumer, 1000)
	if last := recs[len(recs)-1]; last.Operation != "extract failed" || last.Decision != audit.Deny || last.Reason != string(access.DenyGrantSuspended) {
		t.Fatalf("last record: %+v", last)
	}
}

// Results expire after the TTL: files deleted, job marked expired, the
// persons it named forgotten; a directory no job owns is deleted too.
func TestExpire(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	j := f.order(t, access.ByArbeidssted, extract.FormatCSV, f.big)
	r := f.runner(10)
	r.TTL = time.Hour
	if err := r.RunAll(ctx); err != nil {
		t.Fatal(err)
	}
	orphan := extract.JobDir(f.dir, "0193a000-0000-7000-8000-000000000000")
	os.MkdirAll(orphan, 0o700)
	// Not a job's directory: uuid.Parse takes it, but it is no canonical id.
	other := filepath.Join(f.dir, "{0193a000-0000-7000-8000-000000000000}")
	os.MkdirAll(other, 0o700)
	first := f.batchPath(t, j, 0)
	if n, err := r.Expire(ctx); err != nil || n != 0 {
		t.Fatalf("expire before the TTL: %d %v", n, err)
	}
	if _, err := os.Stat(first); err != nil {
		t.Fatal("a result was deleted before its time")
	}
	if _, err := os.Stat(orphan); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("an orphan directory is left")
	}
	if _, err := os.Stat(other); err != nil {
		t.Fatal("a directory that is not a job's was deleted")
	}
	f.clock.advance(time.Hour)
	if n, err := r.Expire(ctx); err != nil || n != 1 {
		t.Fatalf("expire: %d %v", n, err)
	}
	if _, err := os.Stat(extract.JobDir(f.dir, j.ID)); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("an expired result's files are left")
	}
	if got, _ := f.db.Extract(ctx, j.ID); got.Status != extract.StatusExpired {
		t.Fatalf("status %s", got.Status)
	}
}

// CSV: a header of the grant's element paths, one row per arbeidsforhold.
func TestRunnerCSV(t *testing.T) {
	f := newFixture(t)
	j := f.order(t, access.ByArbeidssted, extract.FormatCSV, f.big)
	if err := f.runner(1000).RunAll(context.Background()); err != nil {
		t.Fatal(err)
	}
	lines, _ := f.result(t, j)
	p, _ := f.cat.Projection(f.grant.Packages)
	if want := strings.Join(extract.Columns(p.Paths()), ","); lines[0] != want || !strings.HasPrefix(want, "uuid,") {
		t.Fatalf("header %q, want %q", lines[0], want)
	}
	if len(lines)-1 != len(f.want()) {
		t.Fatalf("%d rows, want %d", len(lines)-1, len(f.want()))
	}
}

// Rules SK-01, SK-08: when every grant the extract rests on has consent as
// its legal basis, only persons with a valid consent for its purpose are
// delivered, and an extract must name persons: one by employer would read
// through persons who never consented, so it fails.
func TestRunnerDeliversOnlyConsentedPersons(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if _, err := f.db.SetGrantStatus(ctx, f.grant.ID, access.Ended, "erstattet", "test"); err != nil {
		t.Fatal(err)
	}
	g := f.grant
	g.ID, g.Consent, g.Purpose = "", true, "pensjon"
	var err error
	if f.grant, err = f.db.AddGrant(ctx, g, "test"); err != nil {
		t.Fatal(err)
	}
	want := f.want()
	var consenting string
	for _, a := range f.afs {
		if a.UUID == want[0] {
			consenting = a.ArbeidstakerIdent()
		}
	}
	if _, err := f.db.GiveConsent(ctx, governance.Consent{PersonPID: consenting, Consumer: consumer, Purpose: "pensjon",
		ExpiresAt: f.clock.now().Add(24 * time.Hour)}, "test"); err != nil {
		t.Fatal(err)
	}
	byEmployer := f.order(t, access.ByArbeidssted, extract.FormatJSONL, f.big)
	if err := f.runner(10).RunAll(ctx); err != nil {
		t.Fatal(err)
	}
	if got, _ := f.db.Extract(ctx, byEmployer.ID); got.Status != extract.StatusFailed || got.Written != 0 {
		t.Fatalf("an extract by employer on consent alone: %s, %d written", got.Status, got.Written)
	}
	var persons []string
	for _, a := range f.afs {
		if a.ArbeidsstedIdent() == f.big {
			persons = append(persons, a.ArbeidstakerIdent())
		}
	}
	slices.Sort(persons)
	j := f.order(t, access.ByArbeidstaker, extract.FormatJSONL, slices.Compact(persons)...)
	if err := f.runner(10).RunAll(ctx); err != nil {
		t.Fatal(err)
	}
	lines, _ := f.result(t, j)
	if len(lines) == 0 {
		t.Fatal("the consenting person's arbeidsforhold are missing")
	}
	for _, l := range lines {
		if !strings.Contains(l, consenting) {
			t.Fatalf("delivered without consent: %s", l)
		}
	}
}

// lostClaim runs a job with batches of one arbeidsforhold; after its first
// commit, another runner ("B") takes the job over and commits batch 1 as its
// own. then is called at that point too. It returns the job and B's file.
func (f *fixture) lostClaim(t *testing.T, then func()) (extract.Job, string) {
	t.Helper()
	ctx := context.Background()
	j := f.order(t, access.ByArbeidssted, extract.FormatJSONL, f.big)
	name := extract.BatchName(1, "B", extract.FormatJSONL)
	bFile := filepath.Join(extract.JobDir(f.dir, j.ID), name)
	r := f.runner(1)
	*extract.AfterCommit(r) = func(n int) {
		if n != 0 {
			return
		}
		if _, ok, err := f.db.ClaimExtract(ctx, "B", f.clock.now().Add(time.Hour)); !ok || err != nil {
			t.Errorf("takeover: %v %v", ok, err)
			return
		}
		if err := os.WriteFile(bFile, []byte("B's batch\n"), 0o600); err != nil {
			t.Error(err)
		}
		if err := f.db.CommitExtractBatch(ctx, j.ID, "B", extract.Batch{N: 1, Records: 1, SHA256: "b", File: name},
			extract.Progress{UnitsDone: 0, Written: 2}, nil); err != nil {
			t.Error(err)
		}
		then()
	}
	if _, err := r.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	return j, bFile
}

// A runner that lost its claim neither overwrites the batch the new runner
// committed (its final name is its own) nor leaves its uncommitted file behind.
func TestRunnerLostClaimNeverOverwritesABatch(t *testing.T) {
	f := newFixture(t)
	j, bFile := f.lostClaim(t, func() {})
	if b, err := os.ReadFile(f.batchPath(t, j, 1)); err != nil || string(b) != "B's batch\n" {
		t.Fatalf("the committed batch 1 is %q, %v", b, err)
	}
	if p := f.batchPath(t, j, 1); p != bFile {
		t.Fatalf("batch 1 is served from %s", p)
	}
	entries, _ := os.ReadDir(extract.JobDir(f.dir, j.ID))
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "1.") && e.Name() != filepath.Base(bFile) {
			t.Fatalf("the lost runner left %s", e.Name())
		}
	}
}

// A runner that lost its claim and then fails (here: the grant was
// suspended) does not delete the job's files: they are the new runner's.
func TestRunnerLostClaimFailKeepsOthersFiles(t *testing.T) {
	f := newFixture(t)
	j, bFile := f.lostClaim(t, func() {
		if _, err := f.db.SetGrantStatus(context.Background(), f.grant.ID, access.Suspended, "brudd", "test"); err != nil {
			t.Error(err)
		}
	})
	if _, err := os.Stat(bFile); err != nil {
		t.Fatalf("the new runner's committed batch was deleted: %v", err)
	}
	if got, _ := f.db.Extract(context.Background(), j.ID); got.Status != extract.StatusRunning || got.Claim != "B" {
		t.Fatalf("the lost runner changed the job: %s %q", got.Status, got.Claim)
	}
}

// consentGrants replaces the fixture's grant by a consent-based one for all
// its packages and, if basic is set, a statute grant for grunnopplysninger alone.
func (f *fixture) consentGrants(t *testing.T, basic bool) {
	t.Helper()
	ctx := context.Background()
	if _, err := f.db.SetGrantStatus(ctx, f.grant.ID, access.Ended, "erstattet", "test"); err != nil {
		t.Fatal(err)
	}
	g := f.grant
	g.ID, g.Consent, g.Purpose = "", true, "pensjon"
	var err error
	if f.grant, err = f.db.AddGrant(ctx, g, "test"); err != nil {
		t.Fatal(err)
	}
	if basic {
		s := g
		s.Consent, s.Purpose, s.Packages = false, "kontroll", []string{"grunnopplysninger@1"}
		if _, err := f.db.AddGrant(ctx, s, "test"); err != nil {
			t.Fatal(err)
		}
	}
}

// Rule SK-08 as the API applies it: with a consent grant for more and a
// statute grant for less, a person without consent gets what the statute
// grant allows alone, never the consent grant's elements.
func TestRunnerConsentWithOtherGrants(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.consentGrants(t, true)
	want := f.want()
	var consenting string
	for _, a := range f.afs {
		if a.UUID == want[0] {
			consenting = a.ArbeidstakerIdent()
		}
	}
	if _, err := f.db.GiveConsent(ctx, governance.Consent{PersonPID: consenting, Consumer: consumer, Purpose: "pensjon",
		ExpiresAt: f.clock.now().Add(24 * time.Hour)}, "test"); err != nil {
		t.Fatal(err)
	}
	j := f.order(t, access.ByArbeidssted, extract.FormatJSONL, f.big)
	if err := f.runner(10).RunAll(ctx); err != nil {
		t.Fatal(err)
	}
	lines, _ := f.result(t, j)
	if got := uuidsOf(t, lines); !slices.Equal(got, want) {
		t.Fatalf("%d arbeidsforhold, want %d (the statute grant covers everyone)", len(got), len(want))
	}
	full, _ := f.cat.Projection([]string{"grunnopplysninger@1", "stillingsdetaljer@1"})
	basic, _ := f.cat.Projection([]string{"grunnopplysninger@1"})
	extra := map[string]bool{}
	for _, p := range full.Paths() {
		extra[strings.Split(p, ".")[0]] = true
	}
	for _, p := range basic.Paths() {
		delete(extra, strings.Split(p, ".")[0])
	}
	if len(extra) == 0 {
		t.Skip("the packages do not differ at the top level")
	}
	sawFull := false
	for _, l := range lines {
		var v map[string]json.RawMessage
		if err := json.Unmarshal([]byte(l), &v); err != nil {
			t.Fatal(err)
		}
		has := false
		for k := range v {
			has = has || extra[k]
		}
		if has && !strings.Contains(l, consenting) {
			t.Fatalf("the consent grant's elements delivered without consent: %s", l)
		}
		sawFull = sawFull || has
	}
	if !sawFull {
		t.Fatal("the consenting person did not get the consent grant's elements")
	}
}

// A consent withdrawn while a job runs is no longer honoured from the next batch on.
func TestRunnerConsentWithdrawnDuringJob(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.consentGrants(t, false)
	count := map[string]int{}
	for _, a := range f.afs {
		if a.ArbeidsstedIdent() == f.big && !f.protected(a.ArbeidstakerIdent()) {
			count[a.ArbeidstakerIdent()]++
		}
	}
	var person string
	for p, n := range count {
		if n >= 2 && (person == "" || p < person) {
			person = p
		}
	}
	if person == "" {
		t.Skip("no person with two arbeidsforhold at the employer")
	}
	c, err := f.db.GiveConsent(ctx, governance.Consent{PersonPID: person, Consumer: consumer, Purpose: "pensjon",
		ExpiresAt: f.clock.now().Add(24 * time.Hour)}, "test")
	if err != nil {
		t.Fatal(err)
	}
	j := f.order(t, access.ByArbeidstaker, extract.FormatJSONL, person)
	r := f.runner(1)
	*extract.AfterCommit(r) = func(n int) {
		if n == 0 {
			f.clock.advance(time.Second)
			if err := f.db.WithdrawConsent(ctx, person, c.ID, "test"); err != nil {
				t.Error(err)
			}
		}
	}
	if err := r.RunAll(ctx); err != nil {
		t.Fatal(err)
	}
	if lines, _ := f.result(t, j); len(lines) != 1 || !strings.Contains(lines[0], person) {
		t.Fatalf("%d arbeidsforhold delivered; want only the one before the withdrawal", len(lines))
	}
}

// Rule AA-11: an extract naming a person with a protected address delivers
// nothing of them, and its closing record says screened, as every channel's
// record of a lookup of that person does; an unprotected person is not.
func TestRunnerMarksScreenedPersons(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	var protected, open string
	for _, a := range f.afs {
		p, known := f.persons[a.ArbeidstakerIdent()]
		switch {
		case known && p.Protected():
			protected = p.Ident
		case known && open == "":
			open = p.Ident
		}
	}
	done := func(units ...string) audit.Record {
		t.Helper()
		f.order(t, access.ByArbeidstaker, extract.FormatJSONL, units...)
		if err := f.runner(10).RunAll(ctx); err != nil {
			t.Fatal(err)
		}
		recs, _ := f.db.AuditRecords(ctx, consumer, 1000)
		last := recs[len(recs)-1]
		if last.Operation != "extract done" {
			t.Fatalf("last record %q", last.Operation)
		}
		return last
	}
	if rec := done(open); rec.Decision != audit.Permit {
		t.Fatalf("unprotected person: %s", rec.Decision)
	}
	rec := done(open, protected)
	var summary map[string]any
	// The marker alone, in the decision: nothing in the request a consumer reads tells who was withheld.
	if err := json.Unmarshal(rec.Request, &summary); err != nil || rec.Decision != audit.Screened || len(summary) != 3 {
		t.Fatalf("protected person: %s %s", rec.Decision, rec.Request)
	}
}

// unavailableAfter is the fixture's store whose register reads fail as
// unavailable (a read replica down) after n pages.
type unavailableAfter struct {
	extract.Store
	n *int
}

func (u unavailableAfter) ExtractSession() (extract.Session, error) {
	s, err := u.Store.ExtractSession()
	return unavailableSession{s, u.n}, err
}

// RegisterReady is the register's state after the n pages.
func (u unavailableAfter) RegisterReady() error {
	if *u.n == 0 {
		return register.ErrUnavailable
	}
	return u.Store.RegisterReady()
}

type unavailableSession struct {
	extract.Session
	n *int
}

func (s unavailableSession) Docs(ctx context.Context, kind access.QueryKind, q extract.Query, unit, after string, limit int, dst []register.Doc) ([]register.Doc, error) {
	if *s.n == 0 {
		return nil, fmt.Errorf("extract arbeidsforhold: %w", register.ErrUnavailable)
	}
	*s.n--
	return s.Session.Docs(ctx, kind, q, unit, after, limit, dst)
}

// A register that cannot be read now (a read replica down or behind) puts the
// job back in the queue with its whole batches, not failed; RunAll stops
// rather than claim it again at once, and a later run finishes it with the
// same result as an uninterrupted one. Rounds while the register stays
// unavailable claim nothing and log no "extract resume" that no data follows
// (Rule AA-16).
func TestRunnerRegisterUnavailable(t *testing.T) {
	f := newFixture(t)
	straight := f.order(t, access.ByArbeidssted, extract.FormatJSONL, f.big)
	if err := f.runner(15).RunAll(context.Background()); err != nil {
		t.Fatal(err)
	}
	want, _ := f.result(t, straight)

	paused := f.order(t, access.ByArbeidssted, extract.FormatJSONL, f.big)
	pages := 4 // five a page, fifteen a batch: one whole batch, then the register fails
	r := f.runner(15)
	r.DB = unavailableAfter{f.db, &pages}
	if err := r.RunAll(context.Background()); !errors.Is(err, register.ErrUnavailable) {
		t.Fatalf("RunAll with the register unavailable: %v; want register.ErrUnavailable", err)
	}
	j, _ := f.db.Extract(context.Background(), paused.ID)
	if j.Status != extract.StatusQueued || j.Batches != 1 {
		t.Fatalf("job after the register failed: status %s, %d batches; want queued with 1", j.Status, j.Batches)
	}
	starts := func() int {
		recs, err := f.db.AuditRecords(context.Background(), consumer, 1000)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, rec := range recs {
			if rec.Operation == "extract start" || rec.Operation == "extract resume" {
				n++
			}
		}
		return n
	}
	before := starts()
	for range 5 { // the worker's rounds during the outage
		if err := r.RunAll(context.Background()); err != nil {
			t.Fatalf("a round with the register still unavailable: %v; want nothing done, quietly", err)
		}
	}
	if after := starts(); after != before {
		t.Fatalf("start and resume records: %d before the rounds, %d after; want none added while the register is unavailable", before, after)
	}
	if j, _ := f.db.Extract(context.Background(), paused.ID); j.Status != extract.StatusQueued || j.Batches != 1 {
		t.Fatalf("job after the rounds: status %s, %d batches; want queued with 1", j.Status, j.Batches)
	}
	if err := f.runner(15).RunAll(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got, _ := f.result(t, paused); !slices.Equal(got, want) {
		t.Fatalf("resumed job: %d lines, want %d", len(got), len(want))
	}
}

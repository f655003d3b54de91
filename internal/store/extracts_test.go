package store

import (
	"context"
	"errors"
	"slices"
	"sort"
	"testing"
	"time"

	"deling/internal/access"
	"deling/internal/audit"
	"deling/internal/extract"
	"deling/internal/register"
)

func testExtract(consumer string, units ...string) extract.Job {
	return extract.Job{Consumer: consumer, Env: register.EnvTest, Kind: access.ByArbeidssted, Format: "jsonl",
		Query:    extract.Query{Units: units, At: "2026-11-01"},
		Packages: []access.Package{{ID: "grunnopplysninger", Version: 1, Elements: []string{"uuid"}}}}
}

// The life of a job: created under the organisation's limit, claimed by one
// runner only, batches committed with their log records, finished, expired.
func TestExtractJobs(t *testing.T) {
	eachEngine(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		rec := &audit.Record{Kind: audit.KindLookup, Channel: "extract", Consumer: "310000001", Request: []byte(`{"q":1}`)}
		a, err := db.CreateExtract(ctx, testExtract("310000001", "a", "b"), 2, rec)
		if err != nil {
			t.Fatal(err)
		}
		if a.Status != extract.StatusQueued || a.UnitsTotal != 2 || a.ID == "" {
			t.Fatalf("created: %+v", a)
		}
		b, err := db.CreateExtract(ctx, testExtract("310000001", "c"), 2, nil)
		if err != nil {
			t.Fatal(err)
		}
		// The limit counts queued and running jobs of the organisation, not others'.
		if _, err := db.CreateExtract(ctx, testExtract("310000001", "d"), 2, nil); !errors.Is(err, extract.ErrTooMany) {
			t.Fatalf("third job: got %v, want extract.ErrTooMany", err)
		}
		if _, err := db.CreateExtract(ctx, testExtract("310000002", "d"), 2, nil); err != nil {
			t.Fatalf("other organisation: %v", err)
		}
		if jobs, _ := db.Extracts(ctx, "310000001", 10); len(jobs) != 2 {
			t.Fatalf("listed %d jobs, want 2", len(jobs))
		}
		if recs, _ := db.AuditRecords(ctx, "310000001", 10); !slices.ContainsFunc(recs, func(r audit.Record) bool { return string(r.Request) == `{"q":1}` }) {
			t.Fatal("the creation record is not in the log")
		}

		// Two runners: each gets a different job; the third finds none (the other organisation's is next).
		past := fixedNow().Add(-time.Hour)
		j1, ok, err := db.ClaimExtract(ctx, "r1", past)
		if err != nil || !ok || j1.ID != a.ID || !slices.Equal(j1.Query.Units, []string{"a", "b"}) || j1.Status != extract.StatusRunning {
			t.Fatalf("first claim: %+v %v %v", j1, ok, err)
		}
		j2, ok, err := db.ClaimExtract(ctx, "r2", past)
		if err != nil || !ok || j2.ID != b.ID {
			t.Fatalf("second claim: %+v %v %v", j2, ok, err)
		}
		if j, ok, _ := db.ClaimExtract(ctx, "r3", past); !ok || j.Consumer != "310000002" {
			t.Fatalf("third claim: %+v %v", j, ok)
		}
		if _, ok, _ := db.ClaimExtract(ctx, "r4", past); ok {
			t.Fatal("a running job with a live runner was claimed again")
		}
		if err := db.ExtractHeartbeat(ctx, a.ID, "r2", 1); !errors.Is(err, extract.ErrLostClaim) {
			t.Fatalf("heartbeat with another runner's claim: %v", err)
		}

		// A batch: served only once committed; its record names the persons.
		if _, err := db.ExtractBatchInfo(ctx, a.ID, 0); !errors.Is(err, ErrNotFound) {
			t.Fatalf("batch before commit: %v", err)
		}
		brec := &audit.Record{Kind: audit.KindLookup, Channel: "extract", Consumer: "310000001", Returned: []string{"22222222222"}}
		sess, err := db.ExtractSession() // the runner's own connections
		if err != nil {
			t.Fatal(err)
		}
		defer sess.Close()
		if err := sess.CommitBatch(ctx, a.ID, "r1", extract.Batch{N: 0, Records: 3, SHA256: "ab", File: "0.r1.jsonl"}, extract.Progress{UnitsDone: 1, Written: 3, ResumeUnit: 1}, brec); err != nil {
			t.Fatal(err)
		}
		if got, err := db.ExtractBatchInfo(ctx, a.ID, 0); err != nil || got.Records != 3 || got.SHA256 != "ab" || got.File != "0.r1.jsonl" {
			t.Fatalf("batch: %+v %v", got, err)
		}
		if recs, _ := db.StoredRecords(ctx, RecordQuery{Subject: "22222222222"}); len(recs) != 1 {
			t.Fatalf("a person's insight finds %d records of the batch, want 1", len(recs))
		}

		// A runner not heard from since staleBefore loses the job to another, which resumes it.
		j, ok, err := db.ClaimExtract(ctx, "r5", fixedNow().Add(time.Minute))
		if err != nil || !ok || j.ID != a.ID || j.Batches != 1 || j.ResumeUnit != 1 || j.Written != 3 {
			t.Fatalf("takeover: %+v %v %v", j, ok, err)
		}
		if err := db.CommitExtractBatch(ctx, a.ID, "r1", extract.Batch{N: 1}, extract.Progress{}, nil); !errors.Is(err, extract.ErrLostClaim) {
			t.Fatalf("commit by the runner that lost the job: %v", err)
		}
		if err := db.ReleaseExtract(ctx, a.ID, "r5"); err != nil {
			t.Fatal(err)
		}
		if j, _ := db.Extract(ctx, a.ID); j.Status != extract.StatusQueued || j.Batches != 1 {
			t.Fatalf("released: %+v", j)
		}
		j, _, _ = db.ClaimExtract(ctx, "r6", past)
		expires := fixedNow().Add(time.Hour)
		if err := db.FinishExtract(ctx, j.ID, "r6", extract.StatusDone, "", 2, expires, nil); err != nil {
			t.Fatal(err)
		}
		if j, _ := db.Extract(ctx, a.ID); j.Status != extract.StatusDone || !j.ExpiresAt.Equal(expires) || j.UnitsDone != 2 || j.Claim != "" {
			t.Fatalf("finished: %+v", j)
		}
		if due, _ := db.DueExtracts(ctx, fixedNow(), 10); len(due) != 0 {
			t.Fatalf("due before expiry: %d", len(due))
		}
		due, err := db.DueExtracts(ctx, expires, 10)
		if err != nil || len(due) != 1 || due[0].ID != a.ID {
			t.Fatalf("due: %v %v", due, err)
		}
		if err := db.ExpireExtract(ctx, a.ID); err != nil {
			t.Fatal(err)
		}
		if j, _ := db.Extract(ctx, a.ID); j.Status != extract.StatusExpired || !j.Expired(fixedNow()) {
			t.Fatalf("expired: %+v", j)
		}
		// An expired job's batches are forgotten with its files.
		if _, err := db.ExtractBatchInfo(ctx, a.ID, 0); !errors.Is(err, ErrNotFound) {
			t.Fatalf("batch of an expired job: %v", err)
		}

		// Deleting a running job takes the runner's claim away.
		if err := db.DeleteExtract(ctx, b.ID, nil); err != nil {
			t.Fatal(err)
		}
		if err := db.ExtractHeartbeat(ctx, b.ID, "r2", 0); !errors.Is(err, extract.ErrLostClaim) {
			t.Fatalf("heartbeat of a deleted job: %v", err)
		}
		if _, err := db.Extract(ctx, b.ID); !errors.Is(err, ErrNotFound) {
			t.Fatalf("deleted job: %v", err)
		}
		if err := db.DeleteExtract(ctx, b.ID, nil); !errors.Is(err, ErrNotFound) {
			t.Fatalf("delete twice: %v", err)
		}
	})
}

// An extract reader pages through a unit's arbeidsforhold with the filters, and
// Rule AA-11: never a protected person's.
func TestExtractDocs(t *testing.T) {
	eachEngine(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		l := load(t, db, 300)
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
		// Protect one of the big employer's persons.
		var protected string
		for _, a := range l.afs {
			if a.ArbeidsstedIdent() == big {
				protected = a.ArbeidstakerIdent()
				break
			}
		}
		p, _ := db.Person(ctx, protected)
		p.Adressebeskyttelse = register.Fortrolig
		if _, err := db.UpsertPersons(ctx, []register.Person{p}); err != nil {
			t.Fatal(err)
		}
		rd, err := db.ExtractSession()
		if err != nil {
			t.Fatal(err)
		}
		defer rd.Close()
		all := func(kind access.QueryKind, q extract.Query, unit string) []string {
			var out []string
			var docs []register.Doc
			after := ""
			for {
				var err error
				if docs, err = rd.Docs(ctx, kind, q, unit, after, 4, docs); err != nil {
					t.Fatal(err)
				}
				for _, d := range docs {
					if d.Arbeidstaker == protected {
						t.Fatal("a protected person's arbeidsforhold was extracted (AA-11)")
					}
					out = append(out, d.UUID)
				}
				if len(docs) < 4 {
					return out
				}
				after = docs[len(docs)-1].UUID
			}
		}
		want := func(match func(a *register.Arbeidsforhold) bool) []string {
			var out []string
			for i := range l.afs {
				a := &l.afs[i]
				if a.ArbeidstakerIdent() != protected && a.Arbeidssted.Type == register.EnhetUnderenhet && match(a) {
					out = append(out, a.UUID)
				}
			}
			sort.Strings(out)
			return out
		}
		at := register.Date("2026-11-01")
		for name, tc := range map[string]struct {
			q     extract.Query
			match func(a *register.Arbeidsforhold) bool
		}{
			"all": {extract.Query{}, func(a *register.Arbeidsforhold) bool { return a.ArbeidsstedIdent() == big }},
			"aktiv ordinaer": {extract.Query{Types: []string{register.TypeOrdinaer}, Statuses: []register.Status{register.StatusAktiv}, At: at},
				func(a *register.Arbeidsforhold) bool {
					return a.ArbeidsstedIdent() == big && a.Type.Kode == register.TypeOrdinaer && a.Ansettelsesperiode.StatusAt(at) == register.StatusAktiv
				}},
			"period 2019–2020": {extract.Query{From: "2019-01-01", To: "2020-12-31"}, func(a *register.Arbeidsforhold) bool {
				p := a.Ansettelsesperiode
				return a.ArbeidsstedIdent() == big && p.Startdato <= "2020-12-31" && (p.Sluttdato == nil || *p.Sluttdato >= "2019-01-01")
			}},
		} {
			got, want := all(access.ByArbeidssted, tc.q, big), want(tc.match)
			if !slices.Equal(got, want) {
				t.Errorf("%s: got %d uuids, want %d", name, len(got), len(want))
			}
		}
		if n := len(all(access.ByArbeidstaker, extract.Query{}, protected)); n != 0 {
			t.Errorf("the protected person's own extract gave %d arbeidsforhold", n)
		}
		if _, err := rd.Docs(ctx, access.Antall, extract.Query{}, big, "", 4, nil); err == nil {
			t.Error("a count query kind was accepted for an extract")
		}
		if bigN < 8 {
			t.Fatalf("biggest employer has %d arbeidsforhold; paging needs more", bigN)
		}
	})
}

// A failed job's batches are forgotten at once: the table does not grow for
// ever, and nothing of a failed extract is served.
func TestExtractFailedForgetsBatches(t *testing.T) {
	eachEngine(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		a, err := db.CreateExtract(ctx, testExtract("310000001", "a"), 2, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok, err := db.ClaimExtract(ctx, "r1", fixedNow().Add(-time.Hour)); !ok || err != nil {
			t.Fatalf("claim: %v %v", ok, err)
		}
		if err := db.CommitExtractBatch(ctx, a.ID, "r1", extract.Batch{N: 0, Records: 1, SHA256: "ab", File: "0.r1.csv"}, extract.Progress{}, nil); err != nil {
			t.Fatal(err)
		}
		// A runner that lost its claim cannot fail the job, nor forget its batches.
		if err := db.FinishExtract(ctx, a.ID, "r2", extract.StatusFailed, "x", 0, fixedNow(), nil); !errors.Is(err, extract.ErrLostClaim) {
			t.Fatalf("fail with another claim: %v", err)
		}
		if _, err := db.ExtractBatchInfo(ctx, a.ID, 0); err != nil {
			t.Fatalf("batch after a lost runner's failure: %v", err)
		}
		if err := db.FinishExtract(ctx, a.ID, "r1", extract.StatusFailed, "x", 0, fixedNow(), nil); err != nil {
			t.Fatal(err)
		}
		if _, err := db.ExtractBatchInfo(ctx, a.ID, 0); !errors.Is(err, ErrNotFound) {
			t.Fatalf("batch of a failed job: %v", err)
		}
	})
}

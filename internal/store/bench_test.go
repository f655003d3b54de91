package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"golang.org/x/mod/sumdb/note"

	"deling/internal/audit"
	"deling/internal/register"
)

// BenchmarkUpsertArbeidsforhold writes chunks of 1,000 persons' arbeidsforhold to SQLite, as seed does.
func BenchmarkUpsertArbeidsforhold(b *testing.B) {
	ctx := context.Background()
	db, err := Open(ctx, Config{DataDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	pop, _ := register.NewPopulation(register.PopulationConfig{Persons: 1_000_000, Seed: 1, AsOf: "2026-11-01"})
	next := 0
	rows := 0
	for b.Loop() {
		b.StopTimer()
		var afs []register.Arbeidsforhold
		var ps []register.Person
		for i := 0; i < 1000; i++ {
			p, a := pop.Person(next)
			next++
			afs = append(afs, a...)
			ps = append(ps, p)
		}
		rows += len(afs)
		b.StartTimer()
		if _, err := db.UpsertPersons(ctx, ps); err != nil {
			b.Fatal(err)
		}
		if _, err := db.UpsertArbeidsforhold(ctx, afs); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "af/s")
}

// benchDB opens the register in $DELING_BENCH_DATA (seed it first with
// `deling seed --data DIR --persons 1000000`), or seeds 20,000 persons in a temporary directory.
func benchDB(b *testing.B) (*DB, []string) {
	b.Helper()
	ctx := context.Background()
	dir := os.Getenv("DELING_BENCH_DATA")
	if dir == "" {
		dir = b.TempDir()
	}
	db, err := Open(ctx, Config{DataDir: dir})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	if c, _ := db.Count(ctx); c.Persons == 0 {
		pop, _ := register.NewPopulation(register.PopulationConfig{Persons: 20_000, Seed: 1, AsOf: "2026-11-01"})
		db.UpsertOrganisations(ctx, pop.Organisations())
		for s := 0; s < 20_000; s += 1000 {
			var ps []register.Person
			var afs []register.Arbeidsforhold
			for i := s; i < s+1000; i++ {
				p, a := pop.Person(i)
				ps, afs = append(ps, p), append(afs, a...)
			}
			db.UpsertPersons(ctx, ps)
			db.UpsertArbeidsforhold(ctx, afs)
		}
	}
	// Persons that have arbeidsforhold, spread over the key space.
	rows, err := db.regRead.QueryContext(ctx, `SELECT arbeidstaker FROM arbeidsforhold WHERE uuid >= $1 LIMIT 5000`, "8")
	if err != nil {
		b.Fatal(err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		rows.Scan(&id)
		ids = append(ids, id)
	}
	if len(ids) == 0 {
		b.Fatal("no persons with arbeidsforhold")
	}
	return db, ids
}

// BenchmarkFindByArbeidstaker is one person lookup: index search, documents decoded.
func BenchmarkFindByArbeidstaker(b *testing.B) {
	db, ids := benchDB(b)
	ctx := context.Background()
	i := 0
	for b.Loop() {
		q := register.Query{Arbeidstaker: ids[i%len(ids)], Limit: 100}
		i++
		page, err := db.FindArbeidsforhold(ctx, q)
		if err != nil || len(page.Arbeidsforhold) == 0 {
			b.Fatalf("lookup: %v, %d found", err, len(page.Arbeidsforhold))
		}
	}
}

// BenchmarkFindByArbeidstakerParallel is person lookups from many goroutines at once (throughput).
func BenchmarkFindByArbeidstakerParallel(b *testing.B) {
	db, ids := benchDB(b)
	ctx := context.Background()
	var n atomic.Int64
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			if _, err := db.FindArbeidsforhold(ctx, register.Query{Arbeidstaker: ids[int(i)%len(ids)], Limit: 100}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkFindDocsByArbeidstaker is the API's person lookup in the store:
// screened (Rule AA-11), raw documents, no decoding.
func BenchmarkFindDocsByArbeidstaker(b *testing.B) {
	db, ids := benchDB(b)
	ctx := context.Background()
	i := 0
	for b.Loop() {
		if _, err := db.FindDocs(ctx, register.Query{Arbeidstaker: ids[i%len(ids)], Limit: 1000, Screened: true}); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkAppend measures durable log appends from many goroutines at once
// (group commit): b.N appends in total, at 16 goroutines per core; with
// integrating=true, with the tree integrated beside them every
// IntegrateEvery, as serve does, and the integration's time counted.
func BenchmarkAppend(b *testing.B) {
	for _, integrating := range []bool{false, true} {
		for _, par := range []int{4, 64} {
			b.Run(fmt.Sprintf("goroutines=%d/integrating=%t", par*2, integrating), func(b *testing.B) {
				benchAppend(b, par, integrating)
			})
		}
	}
}

func benchAppend(b *testing.B, par int, integrating bool) {
	db, err := Open(context.Background(), Config{DataDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	if integrating {
		stop, done := make(chan struct{}), make(chan struct{})
		go func() {
			defer close(done)
			t := time.NewTicker(IntegrateEvery)
			defer t.Stop()
			for {
				select {
				case <-stop:
					return
				case <-t.C:
					if _, err := db.Integrate(context.Background()); err != nil {
						panic(err)
					}
				}
			}
		}()
		defer func() {
			close(stop)
			<-done
		}()
	}
	before := db.log.batches.Load()
	b.SetParallelism(par)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := db.Append(context.Background(), &audit.Record{Kind: audit.KindLookup, Consumer: "310000001",
				Decision: audit.Permit, Returned: []string{"08858096031"}, ResponseHash: "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"}); err != nil {
				b.Fatal(err)
			}
		}
	})
	if integrating {
		if _, err := db.Integrate(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "appends/s")
	b.ReportMetric(float64(b.N)/float64(db.log.batches.Load()-before), "records/commit")
}

// BenchmarkAppendPage measures appends of records that return a page of 50
// persons (a web employer search): with record version 2, 50 commitments and
// 50 salted subject rows each.
func BenchmarkAppendPage(b *testing.B) {
	db, err := Open(context.Background(), Config{DataDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	page := make([]string, 50)
	for i := range page {
		page[i] = fmt.Sprintf("088580%05d", i)
	}
	b.SetParallelism(32)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := db.Append(context.Background(), &audit.Record{Kind: audit.KindLookup, Consumer: "310000001",
				Request: []byte(`{"sok":"arbeidssted","ident":"910000001"}`), Decision: audit.Permit, Returned: slices.Clone(page)}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "appends/s")
}

// BenchmarkVerifyLog fills a log with $DELING_VERIFY_RECORDS records (default
// 100,000) in large batches, signs a checkpoint every 100,000 records, and
// times audit.Verify over it once. Set $DELING_VERIFY_DATA to keep the log
// between runs (it is filled only when empty), and $DELING_VERIFY_URL
// (postgres://…) to fill and verify a PostgreSQL database instead. The
// records are shaped as the machine API writes them (apiLookup).
func BenchmarkVerifyLog(b *testing.B) {
	ctx := context.Background()
	n := 100_000
	if s := os.Getenv("DELING_VERIFY_RECORDS"); s != "" {
		fmt.Sscan(s, &n)
	}
	dir := os.Getenv("DELING_VERIFY_DATA")
	if dir == "" {
		dir = b.TempDir()
	}
	db, err := Open(ctx, Config{DataDir: dir, URL: os.Getenv("DELING_VERIFY_URL")})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	// The key is kept beside a kept log, so its checkpoints verify on the next run.
	keyFile := filepath.Join(dir, "bench-log.key")
	skey, vkey, _ := audit.NewKey("bench.deling/log")
	if b, err := os.ReadFile(keyFile); err == nil {
		parts := strings.SplitN(string(b), "\n", 2)
		skey, vkey = parts[0], strings.TrimSpace(parts[1])
	} else {
		os.WriteFile(keyFile, []byte(skey+"\n"+vkey+"\n"), 0o600)
	}
	signer, _ := note.NewSigner(skey)
	verifier, _ := note.NewVerifier(vkey)
	if size, _ := db.LogSize(ctx); size == 0 {
		start := time.Now()
		const batch = 2000
		for done := 0; done < n; done += batch {
			entries := make([]audit.Entry, 0, batch)
			for i := done; i < min(done+batch, n); i++ {
				e, err := audit.NewEntry(apiLookup(i))
				if err != nil {
					b.Fatal(err)
				}
				entries = append(entries, e)
			}
			if err := db.inTx(ctx, func(tx *sql.Tx) error { return db.appendEntries(ctx, tx, entries) }); err != nil {
				b.Fatal(err)
			}
			if (done+batch)%100_000 == 0 || done+batch >= n {
				db.Integrate(ctx)
				size, root, _ := db.LogRoot(ctx)
				signed, _ := audit.Checkpoint{Origin: "bench.deling/log", Size: size, Root: root}.Sign(signer)
				db.AddCheckpoint(ctx, size, root, signed)
			}
		}
		b.Logf("filled %d records in %s", n, time.Since(start).Round(time.Second))
	} else {
		b.Logf("verifying the kept log of %d records", size)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		rep, err := verifyLog(ctx, db, verifier)
		if err != nil {
			b.Fatal(err)
		}
		b.Logf("verified %d records, %d checkpoints in %s; problems %v", rep.Records, rep.Checkpoints, time.Since(start).Round(time.Millisecond), rep.Counts)
	}
}

// apiLookup is the i-th of a stream of lookup records shaped as the machine
// API writes them (GET /api/v2/arbeidstaker/arbeidsforhold, as deling bench
// makes them): 16 consumers with a grant each, the request's filters, a
// correlation id, the response's hash, one of 100,000 persons returned.
// Made-up values.
func apiLookup(i int) *audit.Record {
	person := fmt.Sprintf("088%08d", i%100_000)
	consumer := fmt.Sprintf("3920000%02d", i%16)
	sum := sha256.Sum256([]byte(newID()))
	return &audit.Record{ID: newID(), Time: time.Now().UTC(), Kind: audit.KindLookup, Channel: "api", Consumer: consumer,
		ClientID: fmt.Sprintf("bench-%d-%d", i%16, 100000+i%16),
		Grants: []audit.GrantRef{{ID: fmt.Sprintf("01a24525-de52-78e0-845a-2420000000%02d", i%16), LegalBasis: "Aa-registerforskriften § 10",
			ProcessingBasis: "GDPR art. 6 nr. 1 bokstav e", Purpose: "Ytelsestest (deling bench)"}},
		CorrelationID: uuid.NewString(), Operation: "GET /api/v2/arbeidstaker/arbeidsforhold",
		Request: []byte(`{"arbeidstakerId":"` + person + `","arbeidsforholdtype":["ordinaertArbeidsforhold","maritimtArbeidsforhold","forenkletOppgjoersordning",` +
			`"frilanserOppdragstakerHonorarPersonerMm"],"rapporteringsordning":["A_ORDNINGEN","FOER_A_ORDNINGEN"],"arbeidsforholdstatus":["AKTIV","AVSLUTTET","FREMTIDIG"]}`),
		Decision: audit.Permit, Status: 200, Returned: []string{person}, ResultCount: 3, ResponseHash: hex.EncodeToString(sum[:])}
}

package extract_test

import (
	"bufio"
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"deling/internal/access"
	"deling/internal/extract"
	"deling/internal/register"
	"deling/internal/store"
)

// TestExtractMillion measures an extract of at least 1,000,000 arbeidsforhold:
// wall time and the process's peak resident memory (VmHWM). It runs only on
// demand, on a seeded register (its own process, so that the peak is the extract's):
//
//	deling seed --data /work/extract-bench --persons 1000000
//	DELING_EXTRACT_BENCH=1 DELING_BENCH_DATA=/work/extract-bench \
//	  go test ./internal/extract/ -run TestExtractMillion -v -timeout 30m
//
// It takes the biggest opplysningspliktige until their arbeidsforhold add up
// to DELING_EXTRACT_BENCH_ROWS (default 1,010,000: screening removes a few),
// orders one extract of them for a consumer with an extract grant (written to
// DATA's deling.db), and runs it with the default batch size (or
// DELING_EXTRACT_BENCH_BATCH) in format DELING_EXTRACT_BENCH_FORMAT (jsonl or
// csv, default jsonl). Results go to DELING_EXTRACT_BENCH_OUT (default a
// temporary directory); the job's files are removed after.
func TestExtractMillion(t *testing.T) {
	if os.Getenv("DELING_EXTRACT_BENCH") == "" {
		t.Skip("set DELING_EXTRACT_BENCH=1 and DELING_BENCH_DATA=DIR (a seeded register) to measure")
	}
	data := os.Getenv("DELING_BENCH_DATA")
	if data == "" {
		t.Fatal("DELING_BENCH_DATA must name a seeded data directory (deling seed --data DIR --persons 1000000)")
	}
	target := 1_010_000
	if v := os.Getenv("DELING_EXTRACT_BENCH_ROWS"); v != "" {
		target, _ = strconv.Atoi(v)
	}
	format := extract.FormatJSONL
	if v := os.Getenv("DELING_EXTRACT_BENCH_FORMAT"); v != "" {
		format = v
	}
	out := os.Getenv("DELING_EXTRACT_BENCH_OUT")
	if out == "" {
		out = t.TempDir()
	}
	ctx := context.Background()

	// The biggest employers, read straight from register.db (read-only).
	units, raw := biggestEmployers(t, filepath.Join(data, "register.db"), target)
	t.Logf("%d opplysningspliktige with %d arbeidsforhold before screening", len(units), raw)

	db, err := store.Open(ctx, store.Config{DataDir: data})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	const org = "399999994"
	if err := db.UpsertConsumer(ctx, access.Consumer{Orgnr: org, Navn: "Uttrekksmåling", Status: access.Active}, "bench"); err != nil {
		t.Fatal(err)
	}
	pkgs := []string{"grunnopplysninger@1", "stillingsdetaljer@1"}
	if _, err := db.AddGrant(ctx, access.Grant{Consumer: org, Packages: pkgs, Channel: access.ChannelExtract, Env: register.EnvTest,
		LegalBasis: "måling", ProcessingBasis: "måling", Purpose: "måling", QueryKinds: []access.QueryKind{access.ByOpplysningspliktig},
		ValidFrom: time.Now().Add(-time.Hour), Status: access.Active}, "bench"); err != nil {
		t.Fatal(err)
	}
	// Jobs left by an earlier, interrupted measurement would be resumed first.
	old, err := db.Extracts(ctx, org, 1000)
	if err != nil {
		t.Fatal(err)
	}
	for _, j := range old {
		db.DeleteExtract(ctx, j.ID, nil)
	}
	cat, _ := access.ParseCatalogue(access.DefaultPackages())
	var defs []access.Package
	for _, ref := range pkgs {
		p, _ := cat.Resolve(ref)
		defs = append(defs, p)
	}
	job, err := db.CreateExtract(ctx, extract.Job{Consumer: org, Env: register.EnvTest, Kind: access.ByOpplysningspliktig, Format: format,
		Query: extract.Query{Units: units}, Packages: defs}, 1000, nil)
	if err != nil {
		t.Fatal(err)
	}
	units = nil
	runtime.GC()
	before := procStatus(t)
	// Start the peak over: what came before (choosing the employers) is not the extract's.
	reset := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
	t.Logf("before the run: VmHWM %s, VmRSS %s (peak reset: %v)", before["VmHWM"], before["VmRSS"], reset == nil)

	r := &extract.Runner{DB: db, Dir: out}
	if v := os.Getenv("DELING_EXTRACT_BENCH_BATCH"); v != "" {
		r.BatchSize, _ = strconv.Atoi(v)
	}
	start := time.Now()
	ran, err := r.RunOnce(ctx)
	elapsed := time.Since(start)
	if err != nil || !ran {
		t.Fatalf("run: %v %v", ran, err)
	}
	after := procStatus(t)
	got, err := db.Extract(ctx, job.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != extract.StatusDone {
		t.Fatalf("job %s: %s", got.Status, got.Error)
	}
	var bytes int64
	entries, _ := os.ReadDir(extract.JobDir(out, job.ID))
	for _, e := range entries {
		if fi, err := e.Info(); err == nil {
			bytes += fi.Size()
		}
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	t.Logf("extract of %d arbeidsforhold (%s) in %d batches, %.1f MB: %s wall, %.0f arbeidsforhold/s",
		got.Written, format, got.Batches, float64(bytes)/1e6, elapsed.Round(time.Millisecond), float64(got.Written)/elapsed.Seconds())
	t.Logf("resident memory: VmHWM (peak) %s, VmRSS before %s, after %s; Go heap in use %.1f MB, Go runtime total %.1f MB",
		after["VmHWM"], before["VmRSS"], after["VmRSS"], float64(ms.HeapInuse)/1e6, float64(ms.Sys)/1e6)
	if got.Written < 1_000_000 {
		t.Errorf("only %d arbeidsforhold: raise DELING_EXTRACT_BENCH_ROWS", got.Written)
	}
	if kb := kiB(after["VmHWM"]); kb >= 200*1024 {
		t.Errorf("peak resident memory %d KiB is not under 200 MB", kb)
	}
	// The result and the job are removed; the log keeps its records.
	extract.RemoveJob(out, job.ID)
}

// biggestEmployers lists opplysningspliktige, biggest first, until their
// arbeidsforhold reach target.
func biggestEmployers(t *testing.T, path string, target int) ([]string, int) {
	t.Helper()
	reg, err := sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=query_only(1)")
	if err != nil {
		t.Fatal(err)
	}
	defer reg.Close()
	rows, err := reg.Query(`SELECT opplysningspliktig, COUNT(*) FROM arbeidsforhold GROUP BY opplysningspliktig ORDER BY 2 DESC, 1`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var (
		units []string
		sum   int
	)
	for rows.Next() && sum < target {
		var (
			u string
			n int
		)
		if err := rows.Scan(&u, &n); err != nil {
			t.Fatal(err)
		}
		units, sum = append(units, u), sum+n
	}
	if sum < target {
		t.Fatalf("the register has %d arbeidsforhold, fewer than %d: seed more persons", sum, target)
	}
	return units, sum
}

// procStatus reads /proc/self/status.
func procStatus(t *testing.T) map[string]string {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		t.Skip("no /proc/self/status: cannot measure resident memory here")
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok {
			out[k] = strings.TrimSpace(v)
		}
	}
	return out
}

func kiB(v string) int {
	n, _ := strconv.Atoi(strings.TrimSuffix(v, " kB"))
	return n
}

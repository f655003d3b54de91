package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"deling/internal/access"
	"deling/internal/bench"
	"deling/internal/store"
)

// TestBench runs `deling bench` end to end on a tiny register: it seeds,
// makes its consumers, gets real tokens over HTTP, drives the mixed workload,
// runs the baseline and reports; a second run reuses the consumers.
func TestBench(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the load generator for a few seconds")
	}
	dir := t.TempDir()
	file := filepath.Join(t.TempDir(), "bench.json")
	stdout, stderr, err := runCmd(t, nil, "bench", "--data", dir, "--persons", "300", "--rate", "200", "--duration", "2s",
		"--consumers", "2", "--timeout", "2m", "--json", file) // a generous timeout: a loaded CI machine is slow, not wrong
	if err != nil {
		t.Fatalf("bench: %v\n%s", err, stderr)
	}
	for _, want := range []string{"person", "search", "uuid", "total", "baseline", "ratio API / baseline", "the lookup log grew by"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
	}
	rep := readBenchReport(t, file)
	if rep.Register == nil || rep.Register.Persons != 300 {
		t.Errorf("register: %+v", rep.Register)
	}
	kinds := map[string]*bench.KindStats{}
	for _, k := range rep.Result.Kinds {
		kinds[k.Kind] = k
	}
	for _, k := range bench.Kinds {
		s := kinds[k]
		if s == nil {
			t.Errorf("no %s results", k)
			continue
		}
		if s.Successful == 0 || s.SuccessRatio != 1 || s.Throughput <= 0 {
			t.Errorf("%s: %d successful, ratio %v, %v/s, codes %v, errors %v", k, s.Successful, s.SuccessRatio, s.Throughput, s.StatusCodes, s.Errors)
		}
		if s.Latency.P50 <= 0 || s.Latency.P50 > s.Latency.P99 || s.Latency.P99 > s.Latency.Max {
			t.Errorf("%s latencies out of order: %+v", k, s.Latency)
		}
	}
	total := rep.Result.Total
	if got := kinds[bench.KindPerson].Requests + kinds[bench.KindSearch].Requests + kinds[bench.KindUUID].Requests; got != total.Requests || total.Requests < 300 {
		t.Errorf("total %d requests, kinds sum to %d", total.Requests, got)
	}
	// Every answered lookup has its record: the log grew by at least the successful requests.
	if s := rep.Server; s == nil || s.APIRequests != int64(total.Requests) || s.AuditRecords == nil || *s.AuditRecords < int64(total.Successful) {
		t.Errorf("server counts %+v for %d requests (%d successful)", rep.Server, total.Requests, total.Successful)
	}
	if bl := rep.Baseline; bl == nil || bl.Result == nil || bl.Result.Total.Successful == 0 || bl.Ratio <= 0 || bl.BodyBytes < 2 {
		t.Errorf("baseline: %+v", rep.Baseline)
	}
	// The process's CPU per answer: a lookup costs more than the bare handler's fixed answer.
	if runtime.GOOS == "linux" && (rep.Result.CPUPerOK <= 0 || rep.Baseline.Result.CPUPerOK <= 0 || rep.Result.CPUPerOK <= rep.Baseline.Result.CPUPerOK) {
		t.Errorf("CPU per answer: API %.0f µs, baseline %.0f µs", rep.Result.CPUPerOK, rep.Baseline.Result.CPUPerOK)
	}

	// A second run reuses the bench consumers, their grants and clients,
	// and first fills the log with copies of an API lookup record.
	if _, stderr, err := runCmd(t, nil, "bench", "--data", dir, "--persons", "300", "--rate", "100", "--duration", "1s",
		"--consumers", "2", "--baseline=false", "--mix", "person=1", "--fill-log", "3000", "--json", file); err != nil {
		t.Fatalf("second bench: %v\n%s", err, stderr)
	}
	rep = readBenchReport(t, file)
	if rep.Baseline != nil || len(rep.Result.Kinds) != 1 || rep.Result.Kinds[0].SuccessRatio != 1 {
		t.Errorf("second run: baseline %+v, kinds %+v", rep.Baseline, rep.Result.Kinds)
	}
	if rep.Register.AuditRecords < 3000 {
		t.Errorf("--fill-log 3000: %d records in the log before the run", rep.Register.AuditRecords)
	}
	// The filled records are whole lookup records: the log verifies, and
	// each names its person in the insight index (Rule AA-17).
	if stdout, stderr, err := runCmd(t, nil, "audit", "verify", "--data", dir); err != nil {
		t.Fatalf("audit verify after --fill-log: %v\n%s%s", err, stdout, stderr)
	}
	db, err := store.Open(context.Background(), store.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	consumers, err := db.Consumers(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(consumers) != 2 {
		t.Fatalf("consumers after two runs: got %d, want 2: %+v", len(consumers), consumers)
	}
	recs, err := db.StoredRecords(context.Background(), store.RecordQuery{All: true, AfterSet: true, After: 2000, Limit: 1})
	if err != nil || len(recs) != 1 || len(recs[0].Record.Returned) != 1 {
		t.Fatalf("a filled record: %v %+v", err, recs)
	}
	if about, err := db.StoredRecords(context.Background(), store.RecordQuery{Subject: recs[0].Record.Returned[0], Limit: 1000}); err != nil || len(about) == 0 {
		t.Errorf("the insight index lacks the filled record's person: %v, %d records", err, len(about))
	}
	for _, c := range consumers {
		grants, _ := db.Grants(context.Background(), c.Orgnr)
		clients, _ := db.Clients(context.Background(), c.Orgnr)
		if len(grants) != 1 || grants[0].RateLimit != benchRateLimit || grants[0].Status != access.Active || len(clients) != 1 {
			t.Errorf("consumer %s: %d grants %+v, %d clients", c.Orgnr, len(grants), grants, len(clients))
		}
	}
}

func TestBenchRefusesProdAndBadFlags(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--env", "prod", "bench", "--data", dir}, "refused with --env prod"},
		{[]string{"bench", "--data", dir, "--mix", "person=0"}, "errUsage"},
		{[]string{"bench", "--data", dir, "--target", "http://127.0.0.1:1"}, "needs at least one --client"},
		{[]string{"bench", "--data", dir, "--rate", "0"}, "must be positive"},
		{[]string{"bench", "--data", dir, "--nodes", "2"}, "--nodes needs --db"},
		{[]string{"bench", "--data", dir, "--nodes", "0"}, "--nodes must be from 1 to 16"},
	} {
		_, _, err := runCmd(t, nil, tc.args...)
		if err == nil || (tc.want == "errUsage" && err != errUsage) || (tc.want != "errUsage" && !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%v: got %v, want %s", tc.args, err, tc.want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "deling.db")); err == nil {
		t.Error("a refused bench created a register")
	}
}

// A run whose checks fail exits non-zero, after printing its report and
// writing the JSON: here the rate check of a run too short to measure it
// (it said "within 10 %" with nothing measured, and the bench exited 0).
func TestBenchFailedCheckExits(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the load generator for a few seconds")
	}
	file := filepath.Join(t.TempDir(), "bench.json")
	stdout, stderr, err := runCmd(t, nil, "bench", "--data", t.TempDir(), "--persons", "300", "--rate-limit-check", "20",
		"--duration", "2s", "--baseline=false", "--timeout", "1m", "--json", file)
	if err == nil || !strings.Contains(err.Error(), "bench checks failed: rate limit not measured") {
		t.Fatalf("bench: %v, want the rate check failed\n%s%s", err, stdout, stderr)
	}
	rc := readBenchReport(t, file).RateCheck
	if rc == nil || rc.Within || rc.Seconds != 0 || rc.RateBlock != "1ms" {
		t.Fatalf("rate check %+v", rc)
	}
	if !strings.Contains(stdout, "limit 20/s, block 1ms (serve --rate-block); not measured") {
		t.Errorf("stdout:\n%s", stdout)
	}
}

// The PostgreSQL URL, which may hold a password, reaches a node process in
// its environment, never in its arguments (readable by any user of the
// machine in /proc/PID/cmdline).
func TestBenchNodeArgsHoldNoDatabaseURL(t *testing.T) {
	const url = "postgres://deling:s3cret-pw@127.0.0.1:5999/deling"
	b := &benchRun{g: &globals{db: url, data: t.TempDir(), logLevel: "info"}, env: "test", getenv: func(string) string { return "" }}
	cmd := b.nodeCmd("/bin/true", "http://127.0.0.1:1/")
	for _, a := range cmd.Args {
		if strings.Contains(a, "s3cret") || strings.Contains(a, "postgres://") {
			t.Fatalf("a node's argument holds the database URL: %q", cmd.Args)
		}
	}
	if !slices.Contains(cmd.Env, "DELING_DB="+url) {
		t.Fatal("the node's environment lacks DELING_DB")
	}
}

// --db-restart-cmd runs in a process group of its own: at its timeout (and
// at Ctrl-C) the shell and what it started are killed, and the error says so.
func TestRunShellKillsItsGroup(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc")
	}
	for _, name := range []string{"timeout", "cancel"} {
		t.Run(name, func(t *testing.T) {
			pidFile := filepath.Join(t.TempDir(), "pid")
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			timeout := time.Hour
			if name == "timeout" {
				timeout = 300 * time.Millisecond
			} else {
				go func() {
					for !fileExists(pidFile) {
						time.Sleep(10 * time.Millisecond)
					}
					cancel() // as Ctrl-C
				}()
			}
			err := runShell(ctx, "sleep 300 & echo $! > "+pidFile+"; wait", timeout)
			if err == nil || (name == "timeout" && !strings.Contains(err.Error(), "did not finish within 300ms: killed")) {
				t.Fatalf("got %v", err)
			}
			b, rerr := os.ReadFile(pidFile)
			if rerr != nil {
				t.Fatal(rerr)
			}
			// The grandchild is gone, or a zombie waiting for a reaper, once
			// it has handled its SIGKILL (it runs to exit: poll a while).
			for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
				stat, serr := os.ReadFile("/proc/" + strings.TrimSpace(string(b)) + "/stat")
				if f := strings.Fields(string(stat)); serr != nil || len(f) < 3 || f[2] == "Z" {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("the command's child lives on: %s", stat)
				}
			}
		})
	}
}

// A binary built with -tags benchdiscard says so in its version.
func TestVersionSaysBenchDiscard(t *testing.T) {
	defer func(was bool) { discardLog = was }(discardLog)
	discardLog = true
	stdout, _, err := runCmd(t, nil, "version")
	if err != nil || !strings.Contains(stdout, "(benchdiscard: lookups are not logged)") {
		t.Fatalf("version: %q %v", stdout, err)
	}
}

func readBenchReport(t *testing.T, file string) *bench.Report {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var rep bench.Report
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Result == nil || rep.Result.Total == nil {
		t.Fatalf("report without a result: %s", b)
	}
	return &rep
}

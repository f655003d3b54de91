package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"deling/internal/audit"
	"deling/internal/store"
)

// TestAuditCommands: checkpoint, a receipt checked offline with `audit prove`,
// `audit verify` on an intact log and on a tampered one, and retention.
func TestAuditCommands(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	db, err := store.Open(ctx, store.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 40; i++ {
		if err := db.Append(ctx, &audit.Record{Kind: audit.KindLookup, Consumer: "310000001", Decision: audit.Permit, Returned: []string{"08858096031"}}); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	cmd := func(args ...string) (string, error) {
		stdout, stderr, err := runCmd(t, nil, append([]string{"--data", dir}, args...)...)
		return stdout + stderr, err
	}
	out, err := cmd("audit", "checkpoint")
	if err != nil || !strings.HasPrefix(out, DefaultLogOrigin+"\n40\n") {
		t.Fatalf("checkpoint: %v %q", err, out)
	}
	// A receipt for record 3, as the insight API gives it.
	db, _ = store.Open(ctx, store.Config{DataDir: dir})
	recs, _ := db.StoredRecords(ctx, store.RecordQuery{All: true, Limit: 100})
	size, signed, _ := db.LatestCheckpoint(ctx)
	hashes, _ := db.InclusionProof(ctx, 3, size)
	db.Close()
	// A person's receipt (Rule AA-17): their own opening, which `prove` checks too.
	rc := audit.Receipt{Record: recs[3].Canonical, Salt: recs[3].Salt, Index: 3, Proof: audit.TLogProof(3, hashes, signed), Subject: recs[3].SubjectOpening("08858096031")}
	b, _ := json.Marshal(rc)
	file := filepath.Join(dir, "receipt.json")
	os.WriteFile(file, b, 0o600)
	if out, err := cmd("audit", "prove", "--receipt", file, "--key-file", filepath.Join(dir, "lookup-log.key.pub")); err != nil ||
		!strings.Contains(out, "verified: record 3") || !strings.Contains(out, "person is returned by it (record version 2)") {
		t.Fatalf("prove: %v %q", err, out)
	}
	// Another person's identity with this person's salt does not prove.
	rc.Subject.Ident = "01010100003"
	b, _ = json.Marshal(rc)
	os.WriteFile(file, b, 0o600)
	if out, err := cmd("audit", "prove", "--receipt", file, "--key-file", filepath.Join(dir, "lookup-log.key.pub")); err == nil {
		t.Fatalf("prove with another person: %q", out)
	}
	if out, err := cmd("audit", "verify"); err != nil || !strings.Contains(out, "the lookup log is intact") {
		t.Fatalf("verify intact: %v %q", err, out)
	}
	// Without the key, verify says so; it never makes a new one.
	os.Rename(filepath.Join(dir, "lookup-log.key.pub"), filepath.Join(dir, "moved.pub"))
	if out, err := cmd("audit", "verify"); err == nil || !strings.Contains(err.Error()+out, "verifier key") {
		t.Fatalf("verify without a key: %v %q", err, out)
	}
	if _, err := os.Stat(filepath.Join(dir, "lookup-log.key.pub")); err == nil {
		t.Fatal("verify made a key")
	}
	os.Rename(filepath.Join(dir, "moved.pub"), filepath.Join(dir, "lookup-log.key.pub"))
	raw, err := sql.Open("sqlite", filepath.Join(dir, "deling.db"))
	if err != nil {
		t.Fatal(err)
	}
	// Rule AA-16: record 5 stored plain, as records were before they were
	// packed (migration 00032), beside the packed ones: the log verifies.
	if res, err := raw.Exec(`UPDATE audit_log SET stored = ? WHERE seq = 5 AND substr(stored, 1, 1) = ?`, recs[5].Canonical, []byte{audit.PackedRecords1}); err != nil {
		t.Fatal(err)
	} else if n, _ := res.RowsAffected(); n != 1 {
		t.Fatalf("record 5 was not stored packed (%d rows)", n)
	}
	if out, err := cmd("audit", "verify"); err != nil || !strings.Contains(out, "the lookup log is intact") {
		t.Fatalf("verify plain and packed records: %v %q", err, out)
	}
	// A packed record whose frame was changed reads as changed.
	if _, err := raw.Exec(`UPDATE audit_log SET stored = substr(stored, 1, length(stored) - 1) WHERE seq = 7`); err != nil {
		t.Fatal(err)
	}
	if out, err := cmd("audit", "verify"); err == nil || !strings.Contains(out, "changed: record 7") {
		t.Fatalf("verify a damaged packed record: %v %q", err, out)
	}
	// Tamper with record 3: verify names it, and the receipt's record no longer matches the log.
	if _, err := raw.Exec(`UPDATE audit_log SET stored = ? WHERE seq = 3`, []byte(`{"v":2,"kind":"lookup","decision":"deny"}`)); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	out, err = cmd("audit", "verify")
	if err == nil || !strings.Contains(out, "changed: record 3") {
		t.Fatalf("verify tampered: %v %q", err, out)
	}
	// Retention: content erased, proofs still valid, the log verifies again once the tampered record is erased too.
	// Issue 11, item 6: a date inside the minimum retention is refused, today's records above all.
	for _, before := range []string{"2099-01-01", time.Now().AddDate(0, 0, 1).Format(time.DateOnly), time.Now().AddDate(0, -6, 0).Format(time.DateOnly)} {
		if out, err := cmd("audit", "erase", "--before", before, "--yes"); err == nil || !strings.Contains(err.Error(), "inside the minimum retention") {
			t.Fatalf("erase --before %s: %v %q", before, err, out)
		}
	}
	// Records two years old, so that they may be erased; a lowered minimum may not go under a day.
	raw, _ = sql.Open("sqlite", filepath.Join(dir, "deling.db"))
	raw.Exec(`UPDATE audit_log SET time = ?`, time.Now().AddDate(-2, 0, 0).UnixMicro())
	raw.Close()
	if _, err := cmd("audit", "erase", "--before", time.Now().Format(time.DateOnly), "--yes", "--log-min-retention", "1h"); err == nil {
		t.Fatal("a minimum retention under a day was taken")
	}
	cutoff := time.Now().AddDate(-1, 0, -2).Format(time.DateOnly)
	// Without --yes it asks on stdin, and anything but "yes" erases nothing.
	stdout, stderr, err := runCmd(t, strings.NewReader("no\n"), "--data", dir, "audit", "erase", "--before", cutoff)
	if err == nil || !strings.Contains(stderr, "Type yes to go on") || !strings.Contains(err.Error(), "nothing was erased") {
		t.Fatalf("erase unconfirmed: %v %q %q", err, stdout, stderr)
	}
	stdout, _, err = runCmd(t, strings.NewReader("yes\n"), "--data", dir, "audit", "erase", "--before", cutoff)
	if err != nil || !strings.Contains(stdout, "erased the content of 40 records") || !strings.Contains(stdout, "recorded in the log") {
		t.Fatalf("erase: %v %q", err, stdout)
	}
	if out, err := cmd("audit", "verify"); err != nil || !strings.Contains(out, "41 records (40 erased") {
		t.Fatalf("verify after retention: %v %q", err, out)
	}
	db, _ = store.Open(ctx, store.Config{DataDir: dir})
	defer db.Close()
	recs, _ = db.StoredRecords(ctx, store.RecordQuery{All: true, Limit: 100})
	var ev audit.Erasure
	if last := recs[len(recs)-1].Record; last.Kind != audit.KindLogErased || json.Unmarshal(last.Event, &ev) != nil || ev.Records != 40 || ev.Before.In(time.Local).Format(time.DateOnly) != cutoff {
		t.Fatalf("the erasure is not in the log: %+v", last)
	}
}

// Security review, item 3: the minimum retention has a floor of 30 days that
// no flag lowers (Rule AA-16: traceable afterwards); serve refuses a
// retention or a minimum under it, 0 and negative values too, before it
// starts anything, and audit erase refuses a date inside it.
func TestRetentionFloor(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{
		{"--log-retention", "1s", "--log-min-retention", "0"},
		{"--log-retention", "1s", "--log-min-retention", "-5h"},
		{"--log-retention", "48h", "--log-min-retention", "24h"},
		{"--log-retention", "800h", "--log-min-retention", "719h"},
		{"--log-min-retention", "0"},
	} {
		_, _, err := runCmd(t, nil, append([]string{"serve", "--data", dir, "--addr", "127.0.0.1:0", "--metrics-addr", ""}, args...)...)
		if err == nil || !strings.Contains(err.Error(), "under the floor of 720h0m0s (30 days)") {
			t.Errorf("serve %v: %v", args, err)
		}
	}
	for _, args := range [][]string{
		{"--log-retention", "1s"},
		{"--log-retention", "-5h"},
		{"--log-retention", "1000h", "--log-min-retention", "2000h"},
	} {
		_, _, err := runCmd(t, nil, append([]string{"serve", "--data", dir, "--addr", "127.0.0.1:0", "--metrics-addr", ""}, args...)...)
		if err == nil || !strings.Contains(err.Error(), "inside the minimum retention") {
			t.Errorf("serve %v: %v", args, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "deling.db")); err == nil {
		t.Error("serve opened the database before refusing its flags")
	}
	daysAgo := func(n int) string { return time.Now().AddDate(0, 0, -n).Format(time.DateOnly) }
	for _, args := range [][]string{
		{"--before", daysAgo(1), "--log-min-retention", "24h"},
		{"--before", daysAgo(40), "--log-min-retention", "0"},
		{"--before", daysAgo(40), "--log-min-retention", "-1h"},
	} {
		_, _, err := runCmd(t, nil, append([]string{"--data", dir, "audit", "erase", "--yes"}, args...)...)
		if err == nil || !strings.Contains(err.Error(), "under the floor") {
			t.Errorf("audit erase %v: %v", args, err)
		}
	}
	if _, _, err := runCmd(t, nil, "--data", dir, "audit", "erase", "--yes", "--before", daysAgo(20), "--log-min-retention", "720h"); err == nil ||
		!strings.Contains(err.Error(), "inside the minimum retention") {
		t.Errorf("audit erase 20 days ago: %v", err)
	}
	// serve -h shows the flag with its type, not a back-quoted word of its text.
	stdout, _, _ := runCmd(t, nil, "serve", "-h")
	if !strings.Contains(stdout, "-log-min-retention duration") || strings.Contains(stdout, "-log-min-retention audit") {
		t.Errorf("serve -h: %q", stdout)
	}
}

// Issue 15: the log's progress as metrics: records waiting for the tree and
// for a checkpoint, the checkpoint's age, and the integration job's delay.
func TestLogMetrics(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, store.Config{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	reg := prometheus.NewRegistry()
	delay := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "delay"})
	reg.MustRegister(newLogCollector(db), delay)
	gauges := func() map[string]float64 {
		t.Helper()
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]float64{}
		for _, mf := range mfs {
			if m := mf.GetMetric()[0]; m.GetGauge() != nil {
				out[mf.GetName()] = m.GetGauge().GetValue()
			} else {
				out[mf.GetName()] = float64(m.GetHistogram().GetSampleCount())
			}
		}
		return out
	}
	for range 3 {
		if err := db.Append(ctx, &audit.Record{Kind: audit.KindLookup, Consumer: "310000001", Decision: audit.Permit}); err != nil {
			t.Fatal(err)
		}
	}
	g := gauges()
	if g["deling_log_unintegrated_records"] != 3 || g["deling_log_uncovered_records"] != 3 || g["delay"] != 0 {
		t.Fatalf("before integration: %v", g)
	}
	if _, ok := g["deling_log_checkpoint_age_seconds"]; ok {
		t.Fatalf("a checkpoint age without a checkpoint: %v", g)
	}
	j := integrateJob(db, delay)
	if !j.Single {
		t.Fatal("integration must run on one node at a time")
	}
	if err := j.Run(ctx); err != nil {
		t.Fatal(err)
	}
	g = gauges()
	if g["deling_log_unintegrated_records"] != 0 || g["deling_log_uncovered_records"] != 3 || g["delay"] != 1 {
		t.Fatalf("after integration: %v", g)
	}
	signer, _, err := logKeys(func(string) string { return "" }, filepath.Join(t.TempDir(), "k"), "test.deling/log")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := makeCheckpoint(ctx, db, signer, "test.deling/log"); err != nil {
		t.Fatal(err)
	}
	g = gauges()
	if age, ok := g["deling_log_checkpoint_age_seconds"]; !ok || age < 0 || g["deling_log_uncovered_records"] != 0 {
		t.Fatalf("after a checkpoint: %v", g)
	}
}

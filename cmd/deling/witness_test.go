package main

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/rfc6962"
	"golang.org/x/mod/sumdb/note"

	"deling/internal/audit"
	"deling/internal/store"
)

// startCmd runs a long-lived command (serve, witness) until the test ends and
// returns the http:// address it says it listens on.
func startCmd(t *testing.T, args ...string) (base string, stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr syncBuffer
	done := make(chan error, 1)
	go func() { done <- run(ctx, args, noEnv, nil, &stdout, &stderr) }()
	re := regexp.MustCompile(`listening on (http://[0-9.:a-z]+)`)
	for deadline := time.Now().Add(60 * time.Second); ; {
		if m := re.FindStringSubmatch(stdout.String()); m != nil {
			base = m[1]
			break
		}
		select {
		case err := <-done:
			cancel()
			t.Fatalf("%s stopped: %v\n%s", args[0], err, stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("%s did not start: %s %s", args[0], stdout.String(), stderr.String())
		}
	}
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			t.Errorf("%s: %v", args[0], err)
		}
	}
	t.Cleanup(stop)
	return base, stop
}

func appendRecords(t *testing.T, dir string, n int) {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, store.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for i := 0; i < n; i++ {
		if err := db.Append(ctx, &audit.Record{Kind: audit.KindLookup, Consumer: "310000001", Decision: audit.Permit, Returned: []string{"08858096031"}}); err != nil {
			t.Fatal(err)
		}
	}
}

// truncate is the attack of issue 11, item 4: cut the newest records, rebuild
// the tree state from the stored nodes, delete the newer checkpoints (and
// their cosignatures), and re-sign with the key in the data directory.
func truncate(t *testing.T, dir string, keep uint64) {
	t.Helper()
	raw, err := sql.Open("sqlite", filepath.Join(dir, "deling.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	// The tiles cut to the tree of keep leaves: at tile level L, the first keep>>8L hashes.
	rng := (&compact.RangeFactory{Hash: rfc6962.DefaultHasher.HashChildren}).NewEmptyRange(0)
	type tile struct {
		level, idx int64
		hashes     []byte
	}
	var tiles []tile
	rows, err := raw.Query(`SELECT level, idx, hashes FROM log_tiles ORDER BY level, idx`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var tl tile
		rows.Scan(&tl.level, &tl.idx, &tl.hashes)
		tiles = append(tiles, tl)
	}
	rows.Close()
	for _, tl := range tiles {
		n := int64(keep>>(8*tl.level)) - tl.idx*256 // hashes of this tile in the cut tree
		switch {
		case n <= 0:
			raw.Exec(`DELETE FROM log_tiles WHERE level = ? AND idx = ?`, tl.level, tl.idx)
			continue
		case n < int64(len(tl.hashes)/32):
			raw.Exec(`UPDATE log_tiles SET hashes = ? WHERE level = ? AND idx = ?`, tl.hashes[:n*32], tl.level, tl.idx)
		}
		for i := int64(0); tl.level == 0 && i < min(n, int64(len(tl.hashes)/32)); i++ {
			rng.Append(tl.hashes[i*32:i*32+32], nil)
		}
	}
	for _, q := range []string{
		`DELETE FROM audit_log WHERE seq >= ?1`,
		`DELETE FROM audit_subjects WHERE seq >= ?1`,
		`DELETE FROM checkpoints WHERE size > ?1`,
		`DELETE FROM witness_cosignatures WHERE size > ?1`,
		`UPDATE log_sequence SET next = ?1 WHERE id = 1`,
	} {
		if _, err := raw.Exec(q, keep); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if _, err := raw.Exec(`UPDATE log_state SET size = ?, range_hashes = ? WHERE id = 1`, keep, bytes.Join(rng.Hashes(), nil)); err != nil {
		t.Fatal(err)
	}
}

func httpGet(t *testing.T, url string) (int, []byte) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// TestWitnessCosignsAndTrustedCatchesTruncation (Rule AA-16): a `deling
// witness` on loopback cosigns the checkpoints of a `deling serve --witness`
// as its log grows, and serve publishes the cosigned checkpoint. The operator
// then cuts the newest records, rebuilds the tree and re-signs: `audit verify`
// still says intact, the witness refuses the rolled-back log, and `audit
// verify --trusted` with the witness's checkpoint names the truncation.
func TestWitnessCosignsAndTrustedCatchesTruncation(t *testing.T) {
	data, wstate, outside := t.TempDir(), t.TempDir(), t.TempDir()
	cmd := func(args ...string) (string, error) {
		stdout, stderr, err := runCmd(t, nil, args...)
		return stdout + stderr, err
	}
	appendRecords(t, data, 10)
	if out, err := cmd("--data", data, "audit", "checkpoint"); err != nil {
		t.Fatalf("checkpoint: %v %s", err, out)
	}
	logVKey, _ := os.ReadFile(filepath.Join(data, "lookup-log.key.pub"))

	wbase, stopWitness := startCmd(t, "witness", "--state", wstate, "--addr", "127.0.0.1:0", "--name", "witness.test/dpo", "--log", strings.TrimSpace(string(logVKey)))
	wvkey, err := cmd("witness", "key", "--state", wstate)
	if err != nil {
		t.Fatal(err)
	}
	wvkey = strings.TrimSpace(wvkey)
	base, stopServe := startCmd(t, "serve", "--data", data, "--addr", "127.0.0.1:0", "--checkpoint-every", "50ms", "--witness", wbase+"="+wvkey)

	logV, _ := note.NewVerifier(strings.TrimSpace(string(logVKey)))
	wv, _ := audit.NewCosignatureVerifier(wvkey)
	// serve may log events of its own, so the log is at least as large as what the test appended.
	waitCosigned := func(size uint64) ([]byte, uint64) {
		t.Helper()
		for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			code, body := httpGet(t, base+"/audit/checkpoint/cosigned")
			if code != 200 {
				continue
			}
			cp, cos, err := audit.OpenCosigned(body, logV, wv)
			if err != nil {
				t.Fatalf("served cosigned checkpoint: %v\n%s", err, body)
			}
			if cp.Size >= size && len(cos) == 1 {
				return body, cp.Size
			}
		}
		code, body := httpGet(t, base+"/audit/checkpoint/cosigned")
		_, last := httpGet(t, base+"/audit/checkpoint")
		t.Fatalf("no cosigned checkpoint of size %d: %d %s\nlatest: %s", size, code, body, last)
		return nil, 0
	}
	waitCosigned(10)
	appendRecords(t, data, 15) // the log grows beside the running server
	cosigned, _ := waitCosigned(25)
	appendRecords(t, data, 5)
	waitCosigned(30)
	stopServe()

	// The witness's own record of the log, kept outside the operator's data directory.
	trusted := filepath.Join(outside, "witnessed.checkpoint")
	out, err := cmd("witness", "show", "--state", wstate)
	if err != nil || !strings.HasPrefix(out, DefaultLogOrigin+"\n") {
		t.Fatalf("witness show: %v %q", err, out)
	}
	shown, err := audit.ParseCheckpointText(out)
	if err != nil || shown.Size < 30 {
		t.Fatalf("witness show: %v %q", err, out)
	}
	final := shown.Size
	os.WriteFile(trusted, []byte(out), 0o600)
	older := filepath.Join(outside, "served.checkpoint")
	os.WriteFile(older, cosigned, 0o600)
	verify := func(args ...string) (string, error) {
		return cmd(append([]string{"--data", data, "audit", "verify"}, args...)...)
	}
	for _, f := range []string{trusted, older} {
		if out, err := verify("--trusted", f, "--witness-key", wvkey); err != nil || !strings.Contains(out, "consistently extends the trusted checkpoint") || !strings.Contains(out, "cosigned by witness witness.test/dpo") {
			t.Fatalf("verify --trusted before the attack: %v %q", err, out)
		}
	}

	truncate(t, data, 22)
	if out, err := cmd("--data", data, "audit", "checkpoint"); err != nil || !strings.HasPrefix(out, DefaultLogOrigin+"\n22\n") {
		t.Fatalf("re-sign after the cut: %v %q", err, out)
	}
	// The attack works on the log alone…
	if out, err := verify(); err != nil || !strings.Contains(out, "the lookup log is intact") {
		t.Fatalf("verify without a trusted checkpoint: %v %q", err, out)
	}
	// …but not against the witness's checkpoint.
	out, err = verify("--trusted", trusted, "--witness-key", wvkey)
	if err == nil || !strings.Contains(err.Error(), "TRUNCATED") || !strings.Contains(err.Error(), fmt.Sprintf("the newest %d are gone", final-22)) {
		t.Fatalf("verify --trusted after truncation: %v %q", err, out)
	}
	if out, err := verify("--trusted", older, "--witness-key", wvkey); err == nil || !strings.Contains(err.Error(), "TRUNCATED") {
		t.Fatalf("the older trusted checkpoint (25 or more) is cut too: want TRUNCATED, got %v %q", err, out)
	}
	// A trusted file without the named witness's cosignature is refused.
	plain := filepath.Join(outside, "plain.checkpoint")
	code, body := httpGet(t, wbase+"/add-checkpoint") // GET is not the protocol
	if code != 405 {
		t.Errorf("GET add-checkpoint: %d %s", code, body)
	}
	db, _ := store.Open(context.Background(), store.Config{DataDir: data})
	_, signed, _ := db.LatestCheckpoint(context.Background())
	db.Close()
	os.WriteFile(plain, signed, 0o600)
	if _, err := verify("--trusted", plain, "--witness-key", wvkey); err == nil || !strings.Contains(err.Error(), "no valid cosignature by witness") {
		t.Fatalf("trusted checkpoint without the witness's cosignature: %v", err)
	}

	// The witness refuses the rolled-back log when serve submits it again.
	var stderr syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--data", data, "--addr", "127.0.0.1:0", "--checkpoint-every", "50ms", "--witness", wbase + "=" + wvkey}, noEnv, nil, io.Discard, &stderr)
	}()
	for deadline := time.Now().Add(30 * time.Second); !strings.Contains(stderr.String(), "the log was truncated or rolled back") && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	<-done
	if !strings.Contains(stderr.String(), fmt.Sprintf("has cosigned size %d, but the lookup log's newest checkpoint has size 22", final)) {
		t.Errorf("serve does not report the witness's refusal:\n%s", stderr.String())
	}
	stopWitness()
}

// TestProdRefusesLogKeyInDataDir (Rule AA-16): with --env prod the lookup
// log's signing key may not live in the data directory; a key file elsewhere
// (--log-key) or $DELING_LOG_KEY is taken.
func TestProdRefusesLogKeyInDataDir(t *testing.T) {
	data, keys := t.TempDir(), t.TempDir()
	db, err := store.Open(context.Background(), store.Config{DataDir: data}) // the database, made as serve would
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	_, _, err = runCmd(t, nil, "--env", "prod", "--data", data, "audit", "checkpoint")
	if err == nil || !strings.Contains(err.Error(), "refuses the lookup log's signing key inside the data directory") || !strings.Contains(err.Error(), "DELING_LOG_KEY") {
		t.Fatalf("prod, key in the data directory: %v", err)
	}
	if _, err := os.Stat(filepath.Join(data, "lookup-log.key")); err == nil {
		t.Error("a key was made in the data directory")
	}
	_, _, err = runCmd(t, nil, "--env", "prod", "--data", data, "audit", "checkpoint", "--log-key", filepath.Join(data, "sub", "..", "keys", "log.key"))
	if err == nil || !strings.Contains(err.Error(), "inside the data directory") {
		t.Fatalf("prod, key below the data directory by another path: %v", err)
	}
	out, _, err := runCmd(t, nil, "--env", "prod", "--data", data, "audit", "checkpoint", "--log-key", filepath.Join(keys, "log.key"))
	if err != nil || !strings.HasPrefix(out, DefaultLogOrigin+"\n0\n") {
		t.Fatalf("prod, key elsewhere: %v %q", err, out)
	}
	skey, _ := os.ReadFile(filepath.Join(keys, "log.key"))
	env := func(k string) string {
		if k == "DELING_LOG_KEY" {
			return string(skey)
		}
		return ""
	}
	var stdout, stderr syncBuffer
	if err := run(context.Background(), []string{"--env", "prod", "--data", data, "audit", "checkpoint"}, env, nil, &stdout, &stderr); err != nil {
		t.Fatalf("prod, key from the environment: %v", err)
	}
	// serve refuses too, before it serves anything.
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	err = run(ctx, []string{"serve", "--env", "prod", "--data", t.TempDir(), "--addr", "127.0.0.1:0"}, noEnv, nil, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "--log-key FILE outside") {
		t.Fatalf("serve --env prod with the key in the data directory: %v", err)
	}
	// In test, the key in the data directory stays the default.
	testData := t.TempDir()
	if db, err := store.Open(context.Background(), store.Config{DataDir: testData}); err != nil {
		t.Fatal(err)
	} else {
		db.Close()
	}
	if _, _, err := runCmd(t, nil, "--data", testData, "audit", "checkpoint"); err != nil {
		t.Fatalf("test env: %v", err)
	}
}

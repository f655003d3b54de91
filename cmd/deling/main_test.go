package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"deling/internal/pgtest"
	"deling/internal/register"
	"deling/internal/store"
)

// syncBuffer is a bytes.Buffer safe to read while run writes to it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func noEnv(string) string { return "" }

func runCmd(t *testing.T, stdin io.Reader, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errb syncBuffer
	err = run(context.Background(), args, noEnv, stdin, &out, &errb)
	return out.String(), errb.String(), err
}

func TestUsage(t *testing.T) {
	if _, stderr, err := runCmd(t, nil); !errors.Is(err, errUsage) || !strings.Contains(stderr, "Commands:") {
		t.Fatalf("no command: got %v, %q", err, stderr)
	}
	if _, stderr, err := runCmd(t, nil, "frobnicate"); err == nil || !strings.Contains(stderr, `unknown command "frobnicate"`) {
		t.Fatalf("unknown command: got %v, %q", err, stderr)
	}
	if _, _, err := runCmd(t, nil, "--env", "staging", "seed", "--data", t.TempDir()); err == nil || !strings.Contains(err.Error(), "unknown environment") {
		t.Fatalf("bad env: got %v", err)
	}
}

// Rule AA-14: a production instance refuses synthetic seeding and the demo.
func TestProdRefusesSeedAndDemo(t *testing.T) {
	dir := t.TempDir()
	if _, _, err := runCmd(t, nil, "seed", "--env", "prod", "--data", dir); err == nil || !strings.Contains(err.Error(), "refused") {
		t.Fatalf("seed in prod: got %v", err)
	}
	if _, _, err := runCmd(t, nil, "--env", "prod", "serve", "--demo", "--data", dir, "--addr", "127.0.0.1:0"); err == nil || !strings.Contains(err.Error(), "refused") {
		t.Fatalf("demo in prod: got %v", err)
	}
}

func TestSeed(t *testing.T) {
	dir := t.TempDir()
	stdout, _, err := runCmd(t, nil, "seed", "--data", dir, "--persons", "300", "--seed", "5", "--as-of", "2026-11-01")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stdout, "seeded 300 persons") {
		t.Fatalf("stdout: %q", stdout)
	}
	db, err := store.Open(context.Background(), store.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	c, err := db.Count(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	pop, _ := register.NewPopulation(register.PopulationConfig{Persons: 300, Seed: 5, AsOf: "2026-11-01"})
	var want int64
	for i := 0; i < 300; i++ {
		_, afs := pop.Person(i)
		want += int64(len(afs))
	}
	if c.Persons != 300 || c.Arbeidsforhold != want || c.Organisations != int64(len(pop.Organisations())) {
		t.Fatalf("counts: got %+v, want 300 persons, %d arbeidsforhold, %d organisations", c, want, len(pop.Organisations()))
	}
}

func TestImport(t *testing.T) {
	pop, _ := register.NewPopulation(register.PopulationConfig{Persons: 40, Seed: 9, AsOf: "2026-11-01"})
	var lines []string
	add := func(v any) {
		b, _ := json.Marshal(v)
		lines = append(lines, string(b))
	}
	var afs int
	for _, o := range pop.Organisations() {
		add(o)
	}
	for i := 0; i < 40; i++ {
		p, list := pop.Person(i)
		add(p)
		for k := range list {
			add(list[k])
			afs++
		}
	}
	good := len(lines)
	lines = append(lines,
		`{"fornavn":"Kari","etternavn":"Nordmann","ident":"20036914700"}`, // real identity: refused in test (AA-14)
		`not json`,
		``,
		`{"fornavn":"Ola","etternavn":"Nordmann","ident":"08858096031","hobby":"ski"}`,
	)
	file := filepath.Join(t.TempDir(), "register.jsonl")
	os.WriteFile(file, []byte(strings.Join(lines, "\n")+"\n"), 0o600)
	dir := t.TempDir()

	stdout, stderr, err := runCmd(t, nil, "import", "--data", dir, "--batch", "17", file)
	if err == nil || !strings.Contains(err.Error(), "3 lines were rejected") {
		t.Fatalf("import: got %v", err)
	}
	for _, want := range []string{
		"register.jsonl:" + itoa(good+1) + ": person: ident: not a synthetic identity",
		"register.jsonl:" + itoa(good+2) + ": invalid JSON",
		"register.jsonl:" + itoa(good+4) + `: unknown field "hobby"`,
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if strings.Contains(stderr, "20036914700") {
		t.Error("an identifier reached the error output")
	}
	if !strings.Contains(stdout, "imported "+itoa(good)+" records") || !strings.Contains(stdout, itoa(afs)+" arbeidsforhold") {
		t.Errorf("stdout: %q", stdout)
	}

	// A second run changes nothing (upsert by uuid, ident and orgnr); stdin works as "-".
	f, _ := os.Open(file)
	defer f.Close()
	stdout, _, _ = runCmd(t, f, "import", "--data", dir, "-")
	if !strings.Contains(stdout, "; 0 changed the register") {
		t.Errorf("re-import: %q", stdout)
	}
}

func itoa(n int) string { return thousands(int64(n)) }

// TestServe starts the real server on a loopback port with --demo, checks its
// endpoints over HTTP, and shuts it down by cancelling the context.
func TestServe(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--data", dir, "--addr", "127.0.0.1:0", "--metrics-addr", "127.0.0.1:0", "--demo", "--demo-persons", "150"}, noEnv, nil, &stdout, &stderr)
	}()
	re := regexp.MustCompile(`listening on (http://[0-9.:]+)`)
	var base string
	for deadline := time.Now().Add(60 * time.Second); base == ""; {
		if m := re.FindStringSubmatch(stdout.String()); m != nil {
			base = m[1]
			break
		}
		select {
		case err := <-done:
			t.Fatalf("serve stopped: %v\n%s", err, stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not start: %s %s", stdout.String(), stderr.String())
		}
	}
	if !strings.Contains(stdout.String(), "demo: seeded 150 synthetic persons") {
		t.Errorf("stdout: %q", stdout.String())
	}
	get := func(path string, hdr ...string) (*http.Response, string) {
		req, _ := http.NewRequest("GET", base+path, nil)
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	if resp, body := get("/healthz"); resp.StatusCode != 200 || body != "ok\n" {
		t.Errorf("healthz: %d %q", resp.StatusCode, body)
	}
	resp, body := get("/readyz", "correlation-id", "test-123")
	if resp.StatusCode != 200 || resp.Header.Get("correlation-id") != "test-123" {
		t.Errorf("readyz: %d %q, correlation-id %q", resp.StatusCode, body, resp.Header.Get("correlation-id"))
	}
	resp, body = get("/no/such/page")
	if resp.StatusCode != 404 || resp.Header.Get("Content-Type") != "application/problem+json" || resp.Header.Get("correlation-id") == "" {
		t.Errorf("404: %d %s %q", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	var p struct {
		Status        int    `json:"status"`
		CorrelationID string `json:"correlation-id"`
	}
	if json.Unmarshal([]byte(body), &p); p.Status != 404 || p.CorrelationID != resp.Header.Get("correlation-id") {
		t.Errorf("problem body: %q", body)
	}
	// /metrics is not on the public listener (issue 11, item 10) but on its own, loopback by default.
	if resp, _ := get("/metrics"); resp.StatusCode != 404 {
		t.Errorf("/metrics on the public listener: %d", resp.StatusCode)
	}
	m := regexp.MustCompile(`metrics on (http://[0-9.:]+/metrics)`).FindStringSubmatch(stdout.String())
	if m == nil {
		t.Fatalf("no metrics listener in %q", stdout.String())
	}
	if resp, err := http.Get(m[1]); err != nil {
		t.Error(err)
	} else {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(string(b), `deling_http_requests_total{code="200",route="GET /healthz"} 1`) {
			t.Errorf("metrics lack the healthz request:\n%s", b)
		}
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve returned %v", err)
		}
	case <-time.After(35 * time.Second):
		t.Fatal("serve did not stop after cancel")
	}

	// A second --demo start keeps the register as it is.
	ctx2, cancel2 := context.WithCancel(context.Background())
	var out2 syncBuffer
	go func() {
		done <- run(ctx2, []string{"serve", "--data", dir, "--addr", "127.0.0.1:0", "--metrics-addr", "", "--demo"}, noEnv, nil, &out2, io.Discard)
	}()
	for i := 0; i < 3000 && !strings.Contains(out2.String(), "listening"); i++ {
		time.Sleep(10 * time.Millisecond)
	}
	cancel2()
	<-done
	if !strings.Contains(out2.String(), "already holds 150 persons") {
		t.Errorf("second demo start: %q", out2.String())
	}
}

// postgresDSN starts a PostgreSQL of the test's own (internal/pgtest) and
// returns a fresh database's URL; the test is skipped in -short mode (why
// says what it would run) and when PostgreSQL is not installed, unless CI
// requires it.
func postgresDSN(t *testing.T, why string) string {
	t.Helper()
	_, dsn := postgresServer(t, why)
	return dsn
}

// postgresServer is postgresDSN with the server, for a test that needs more of it (a standby).
func postgresServer(t *testing.T, why string) (*pgtest.Server, string) {
	t.Helper()
	return pgtest.ForTest(t, why)
}

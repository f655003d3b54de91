package main

import (
	"context"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"deling/internal/ident"
	"deling/internal/store"
)

// TestAdminFlow drives the whole life of a consumer through the CLI against a
// running server: consumer, client with a new key, grant, token, lookup,
// suspension, resumption, end.
func TestAdminFlow(t *testing.T) {
	dir := t.TempDir()
	if _, _, err := runCmd(t, nil, "seed", "--data", dir, "--persons", "200"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--data", dir, "--addr", "127.0.0.1:0", "--metrics-addr", ""}, noEnv, nil, &out, io.Discard)
	}()
	re := regexp.MustCompile(`listening on (http://[0-9.:]+)`)
	var base string
	for i := 0; i < 3000 && base == ""; i++ {
		if m := re.FindStringSubmatch(out.String()); m != nil {
			base = m[1]
		}
		time.Sleep(10 * time.Millisecond)
	}
	if base == "" {
		t.Fatalf("no server: %s", out.String())
	}
	defer func() { cancel(); <-done }()

	orgnr := string(ident.SyntheticOrgnr(7_777_777))
	clientFile := filepath.Join(dir, "client.json")
	cmd := func(args ...string) string {
		t.Helper()
		stdout, stderr, err := runCmd(t, nil, append([]string{"--data", dir}, args...)...)
		if err != nil {
			t.Fatalf("deling %s: %v\n%s", strings.Join(args, " "), err, stderr)
		}
		return stdout
	}
	cmd("consumer", "add", "--orgnr", orgnr, "--name", "Testetaten")
	cmd("client", "add", "--orgnr", orgnr, "--id", "testetaten-1", "--new-key", clientFile, "--issuer", base+"/")
	if _, _, err := runCmd(t, nil, "token", "--client", clientFile); err == nil {
		t.Fatal("a token before any grant")
	}
	granted := cmd("grant", "add", "--consumer", orgnr, "--packages", "grunnopplysninger,stillingsdetaljer",
		"--legal-basis", "aa-registerforskriften § 10", "--processing-basis", "GDPR art. 6 nr. 1 e", "--purpose", "test")
	grantID := regexp.MustCompile(`grant ([0-9a-f-]{36})`).FindStringSubmatch(granted)
	if grantID == nil || !strings.Contains(granted, "grunnopplysninger@1, stillingsdetaljer@1") {
		t.Fatalf("grant add: %q", granted)
	}
	if list := cmd("grant", "list", "--consumer", orgnr); !strings.Contains(list, grantID[1]) || !strings.Contains(list, "active") {
		t.Fatalf("grant list: %q", list)
	}
	tok := strings.TrimSpace(cmd("token", "--client", clientFile))

	db, err := store.Open(context.Background(), store.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	people, err := db.SampleArbeidstakere(context.Background(), "0", 1)
	db.Close()
	if err != nil || len(people) == 0 {
		t.Fatalf("no person to look up: %v", err)
	}
	lookup := func() int {
		req, _ := http.NewRequest("GET", base+"/api/v2/arbeidstaker/arbeidsforhold", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Nav-Personident", people[0])
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for _, step := range []struct {
		args []string
		want int
	}{
		{nil, 200},
		{[]string{"grant", "suspend", "--reason", "brudd på vilkårene", grantID[1]}, 403}, // Rule AA-25
		{[]string{"grant", "resume", grantID[1]}, 200},
		{[]string{"consumer", "cease", "--orgnr", orgnr}, 403}, // Rule AA-26: every grant ends with the organisation
		// Back in Enhetsregisteret, it has no access until a new decision.
		{[]string{"consumer", "add", "--orgnr", orgnr, "--name", "Testetaten"}, 403},
	} {
		if step.args != nil {
			cmd(step.args...)
		}
		if got := lookup(); got != step.want {
			t.Fatalf("after %v: lookup answered %d, want %d", step.args, got, step.want)
		}
	}
	if _, stderr, err := runCmd(t, nil, "--data", dir, "grant", "resume", grantID[1]); err == nil {
		t.Fatalf("an ended grant was resumed: %s", stderr)
	}
	regranted := regexp.MustCompile(`grant ([0-9a-f-]{36})`).FindStringSubmatch(cmd("grant", "add", "--consumer", orgnr, "--packages", "grunnopplysninger",
		"--legal-basis", "aa-registerforskriften § 10", "--processing-basis", "GDPR art. 6 nr. 1 e", "--purpose", "test"))
	if got := lookup(); regranted == nil || got != 200 {
		t.Fatalf("after a new grant: %d", got)
	}
	cmd("grant", "end", "--reason", "konsumenten avsluttet", regranted[1]) // Rule AA-26
	if got := lookup(); got != 403 {
		t.Fatalf("after grant end: %d", got)
	}
	// Input mistakes get clear errors, not panics.
	for _, args := range [][]string{
		{"consumer", "add", "--orgnr", "889640782", "--name", "NAV"}, // real orgnr in test (AA-14)
		{"grant", "add", "--consumer", orgnr, "--packages", "alt", "--legal-basis", "x", "--processing-basis", "y", "--purpose", "z"},
		{"grant", "add", "--consumer", orgnr}, // Rules AA-01, SK-01: no grant without legal basis, processing basis and purpose
		{"grant", "add", "--consumer", orgnr, "--query-kinds", "alle", "--legal-basis", "x", "--processing-basis", "y", "--purpose", "z"},
		{"delegation", "add", "--agreement", "finnes-ikke"}, // Rule SK-04: no agreement, no delegation
		{"client", "add", "--orgnr", orgnr, "--id", "x"},
		{"grant"},
	} {
		if _, _, err := runCmd(t, nil, append([]string{"--data", dir}, args...)...); err == nil {
			t.Errorf("deling %v: accepted", args)
		}
	}
	if got := cmd("package", "list"); !strings.Contains(got, "grunnopplysninger@1") || !strings.Contains(got, "allows historikk=true") {
		t.Errorf("package list: %q", got)
	}
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"deling/internal/access"
	"deling/internal/ident"
	"deling/internal/store"
)

// startDemo runs `serve --demo` on a loopback port of its own over dir and
// returns its base URL and its output; the server stops when the test ends.
func startDemo(t *testing.T, dir string) (base string, stdout *syncBuffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	stdout = &syncBuffer{}
	var stderr syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--data", dir, "--addr", "127.0.0.1:0", "--metrics-addr", "", "--demo", "--demo-persons", "150",
			"--checkpoint-every", "200ms"}, noEnv, nil, stdout, &stderr)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(35 * time.Second):
			t.Error("serve did not stop")
		}
	})
	re := regexp.MustCompile(`listening on (http://[0-9.:]+)`)
	for deadline := time.Now().Add(60 * time.Second); ; {
		if m := re.FindStringSubmatch(stdout.String()); m != nil {
			return m[1], stdout
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
}

func demoGet(t *testing.T, url string, hdr ...string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestDemoTour: the demo completes its own tour (issue 16, item 4). It
// publishes terms; a person sees Demo kommune's lookup of them with a receipt
// that `audit prove` checks (Rule AA-17); Demo pensjonskasse has an extract
// grant; a second demo on another port leaves the first's client files alone.
func TestDemoTour(t *testing.T) {
	dir := t.TempDir()
	base, out := startDemo(t, dir)

	// Terms are published, so /vilkar shows what the application asks to accept (AA-24, SK-02).
	if code, body := demoGet(t, base+"/vilkar"); code != 200 || !strings.Contains(body, "Demo: ") {
		t.Errorf("/vilkar: %d, no demo terms:\n%.2000s", code, body)
	}

	// A lookup by Demo kommune, as the printed curl makes it.
	m := regexp.MustCompile(`Nav-Personident: ([0-9]{11})`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("no person in the demo's output:\n%s", out.String())
	}
	person := m[1]
	kommune := filepath.Join(dir, "demo-clients", "kommune.json")
	kommuneBefore, err := os.ReadFile(kommune)
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := runCmd(t, nil, "token", "--client", kommune)
	if err != nil {
		t.Fatal(err)
	}
	if code, body := demoGet(t, base+"/api/v2/arbeidstaker/arbeidsforhold", "Authorization", "Bearer "+strings.TrimSpace(tok), "Nav-Personident", person); code != 200 {
		t.Fatalf("lookup: %d %s", code, body)
	}

	// The person's insight shows the lookup with a receipt, once a checkpoint covers it.
	admin, err := os.ReadFile(filepath.Join(dir, "admin-token"))
	if err != nil {
		t.Fatal(err)
	}
	var insight string
	for deadline := time.Now().Add(20 * time.Second); ; {
		code, body := demoGet(t, base+"/api/innsyn/person", "Authorization", "Bearer "+strings.TrimSpace(string(admin)), "Nav-Personident", person)
		if code != 200 {
			t.Fatalf("insight: %d %s", code, body)
		}
		if strings.Contains(body, `"kvittering":`) {
			insight = body
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no lookup with a receipt in the person's insight:\n%s", body)
		}
		time.Sleep(100 * time.Millisecond)
	}
	file := filepath.Join(t.TempDir(), "innsyn.json")
	os.WriteFile(file, []byte(insight), 0o600)
	stdout, _, err := runCmd(t, nil, "audit", "prove", "--data", dir, "--receipt", file, "--key-file", filepath.Join(dir, "lookup-log.key.pub"))
	if err != nil || !strings.Contains(stdout, "verified: the receipt's person is returned by it") {
		t.Fatalf("audit prove: %v\n%s", err, stdout)
	}

	// A second demo on another port, same data, while the first runs.
	base2, out2 := startDemo(t, dir)
	if base2 == base {
		t.Fatalf("both demos on %s", base)
	}
	if after, _ := os.ReadFile(kommune); !bytes.Equal(after, kommuneBefore) {
		t.Error("the second demo rewrote the first demo's client file")
	}
	port := base2[strings.LastIndex(base2, ":")+1:]
	own := filepath.Join(dir, "demo-clients", "kommune-"+port+".json")
	if !strings.Contains(out2.String(), own) {
		t.Errorf("the second demo does not print its own client file %s:\n%s", own, out2.String())
	}
	for _, c := range []struct{ file, base string }{{kommune, base}, {own, base2}} {
		tok, _, err := runCmd(t, nil, "token", "--client", c.file)
		if err != nil {
			t.Fatalf("token with %s: %v", c.file, err)
		}
		if code, body := demoGet(t, c.base+"/api/v2/arbeidstaker/arbeidsforhold", "Authorization", "Bearer "+strings.TrimSpace(tok), "Nav-Personident", person); code != 200 {
			t.Errorf("lookup on %s with %s: %d %s", c.base, c.file, code, body)
		}
	}

	// Demo pensjonskasse has an extract grant (docs/EXTRACTS.md).
	db, err := store.Open(context.Background(), store.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	gs, err := db.Grants(context.Background(), string(ident.SyntheticOrgnr(9_100_002)))
	if err != nil {
		t.Fatal(err)
	}
	var extract bool
	for _, g := range gs {
		extract = extract || (g.Channel == access.ChannelExtract && g.Status == access.Active)
	}
	if !extract {
		b, _ := json.Marshal(gs)
		t.Errorf("Demo pensjonskasse has no active extract grant: %s", b)
	}
}

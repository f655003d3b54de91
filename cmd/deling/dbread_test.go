//go:build unix

package main

import (
	"context"
	"database/sql"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"deling/internal/audit"
	"deling/internal/ident"
	"deling/internal/pgtest"
	"deling/internal/store"
)

// TestServeReadReplica runs `deling serve --db-read` on a streaming standby
// of its PostgreSQL and proves over real HTTP: lookups are answered with the
// register read from the replica and logged on the primary; a grant
// suspended on the primary is refused at once while the replica's replay is
// paused (the access inputs never come from the replica; Rule AA-25); with
// the replica down, API lookups answer 503 problem+json and web lookups a
// 503 page, each logged as such, the server keeps answering what needs no
// register (readiness, the front page without its counts), the metrics say
// so, and lookups recover when the replica is back. The portal's pages keep
// working with the replica down. A replica that hangs answers 503 within the
// read's own deadline, not the API call's timeout. Every answer has exactly
// one record, with the status the caller got (Rule AA-16).
func TestServeReadReplica(t *testing.T) {
	pg, dsn := postgresServer(t, "runs a PostgreSQL with a streaming standby of its own")
	st, err := pg.Standby(t.Context())
	if errors.Is(err, pgtest.ErrUnavailable) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Stop() })
	rdsn, err := st.DSNFor(dsn)
	if err != nil {
		t.Fatal(err)
	}
	data := t.TempDir()
	deling := func(args ...string) string {
		t.Helper()
		out, stderr, err := runCmd(t, nil, append(args, "--db", dsn, "--data", data)...)
		if err != nil {
			t.Fatalf("deling %s: %v\n%s", strings.Join(args, " "), err, stderr)
		}
		return out
	}
	orgnr := string(ident.SyntheticOrgnr(7_654_323))
	deling("consumer", "add", "--orgnr", orgnr, "--name", "Replikaetaten")
	added := deling("grant", "add", "--consumer", orgnr, "--query-kinds", "arbeidstaker",
		"--legal-basis", "aa-registerforskriften § 10", "--processing-basis", "GDPR art. 6 nr. 1 e", "--purpose", "replikatest")
	grantID := regexp.MustCompile(`grant ([0-9a-f-]{36}):`).FindStringSubmatch(added)
	if grantID == nil {
		t.Fatalf("no grant id in %q", added)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	metricsAddr := l.Addr().String()
	l.Close()
	waitUntil(t, "the database on the standby", func() bool { // its creation is replayed there
		c, err := sql.Open("pgx", rdsn)
		defer c.Close()
		return err == nil && c.PingContext(t.Context()) == nil
	})
	base, _ := startCmd(t, "serve", "--db", dsn, "--db-read", rdsn, "--data", data, "--addr", "127.0.0.1:0", "--metrics-addr", metricsAddr,
		"--demo", "--demo-persons", "50")
	clientFile := filepath.Join(t.TempDir(), "client.json")
	deling("client", "add", "--orgnr", orgnr, "--id", "replikaetaten-1", "--new-key", clientFile, "--issuer", base+"/")
	tok := strings.TrimSpace(deling("token", "--client", clientFile))

	db, err := store.Open(t.Context(), store.Config{URL: dsn}) // the primary, as a second node would see it
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	people, err := db.SampleArbeidstakere(t.Context(), "0", 1)
	if err != nil || len(people) == 0 {
		t.Fatalf("no person with arbeidsforhold to look up: %v", err)
	}
	var answered []int                               // the statuses the caller got, in order
	client := &http.Client{Timeout: 8 * time.Second} // about half the API call's timeout (15 s)
	lookup := func() (int, string, string) {
		t.Helper()
		req, _ := http.NewRequest("GET", base+"/api/v2/arbeidstaker/arbeidsforhold", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Nav-Personident", people[0])
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("lookup: %v", err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		answered = append(answered, resp.StatusCode)
		return resp.StatusCode, resp.Header.Get("Content-Type"), string(body)
	}
	if code, _, body := lookup(); code != http.StatusOK || !strings.Contains(body, people[0]) {
		t.Fatalf("lookup with the replica up: %d %s", code, body)
	}
	web := webLookupUser(t, base, data)
	if code, page := web(people[0]); code != http.StatusOK || strings.Contains(page, "midlertidig utilgjengelig") {
		t.Fatalf("web lookup with the replica up: %d", code)
	}

	// The replica down: 503 problem+json, no data; the server keeps running.
	if err := st.Shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}
	code, ctype, body := lookup()
	if code != http.StatusServiceUnavailable || ctype != "application/problem+json" || strings.Contains(body, people[0]) {
		t.Fatalf("lookup with the replica down: %d %s %s", code, ctype, body)
	}
	if code, page := web(people[0]); code != http.StatusServiceUnavailable || !strings.Contains(page, "Registeret er midlertidig utilgjengelig") {
		t.Fatalf("web lookup with the replica down: %d", code)
	}
	if code, _ := demoGet(t, base+"/readyz"); code != http.StatusOK {
		t.Fatalf("readyz with the replica down: %d; the primary answers, so the node is ready", code)
	}
	if code, page := demoGet(t, base+"/"); code != http.StatusOK || !strings.Contains(page, "Registeret er midlertidig utilgjengelig") {
		t.Fatalf("front page with the replica down: %d; want 200 without the register's counts", code)
	}
	if _, metrics := demoGet(t, "http://"+metricsAddr+"/metrics"); !strings.Contains(metrics, "deling_db_read_errors_total 3\n") {
		t.Fatalf("metrics after three failed register reads (API and web lookup, the front page's counts):\n%s", grepLines(metrics, "deling_db_read_"))
	}
	waitUntil(t, "deling_db_read_up 0 at the monitor's next measurement", func() bool {
		_, metrics := demoGet(t, "http://"+metricsAddr+"/metrics")
		return strings.Contains(metrics, "deling_db_read_up 0\n")
	})
	// The portal needs no register: organisations' names from it are left
	// out ("org.nr. …"), the pages are not (an applicant, its administrator,
	// a data processor; a person's and the staff's insight pages).
	for _, email := range []string{"leder@bank.demo", "admin@bank.demo", "databehandler@leverandor.demo"} {
		get, _ := demoSignIn(t, base, data, email)
		if code, page := get("/portal"); code != http.StatusOK || !strings.Contains(page, "org.nr. ") {
			t.Errorf("/portal as %s with the replica down: %d; want 200, the organisation by its number", email, code)
		}
	}
	get, _ := demoSignIn(t, base, data, "person@innbygger.demo")
	if code, _ := get("/portal/innsyn"); code != http.StatusOK {
		t.Errorf("a person's insight page with the replica down: %d; want 200", code)
	}
	_, post := demoSignIn(t, base, data, "saksbehandler@register.demo")
	if code, _ := post("/portal/innsyn/person", url.Values{"fodselsnummer": {people[0]}}); code != http.StatusOK {
		t.Errorf("the staff's insight for a person with the replica down: %d; want 200", code)
	}
	if err := st.Restart(t.Context()); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "lookups answered again with the replica back", func() bool { code, _, _ := lookup(); return code == http.StatusOK })

	// The replica hangs (stopped, not refusing): a lookup answers 503 within
	// the replica read's own deadline, well before the API call's 15 s
	// timeout (Rule AA-15) — the client gives up at 8 s; then it recovers.
	if err := st.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	stopped := true
	defer func() {
		if stopped {
			st.Signal(syscall.SIGCONT)
		}
	}()
	for range 2 { // the first waits for the read's deadline, the next is refused at once
		if code, ctype, body := lookup(); code != http.StatusServiceUnavailable || ctype != "application/problem+json" {
			t.Fatalf("lookup with the replica hung: %d %s %s; want 503 problem+json", code, ctype, body)
		}
	}
	if err := st.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	stopped = false
	waitUntil(t, "lookups answered again with the replica going on", func() bool { code, _, _ := lookup(); return code == http.StatusOK })

	// Replay paused, a suspension on the primary is refused at once.
	replica, err := sql.Open("pgx", rdsn)
	if err != nil {
		t.Fatal(err)
	}
	defer replica.Close()
	if _, err := replica.ExecContext(t.Context(), "SELECT pg_wal_replay_pause()"); err != nil {
		t.Fatal(err)
	}
	defer replica.ExecContext(context.Background(), "SELECT pg_wal_replay_resume()")
	if _, stderr, err := runCmd(t, nil, "grant", "suspend", "--db", dsn, "--data", data, "--reason", "replikatest", grantID[1]); err != nil {
		t.Fatalf("grant suspend: %v\n%s", err, stderr)
	}
	if code, _, body := lookup(); code != http.StatusForbidden {
		t.Fatalf("lookup right after the suspension, replica paused: %d %s; want 403", code, body)
	}

	// One record per answer, with the status the caller got.
	recs, err := db.AuditRecords(t.Context(), orgnr, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var logged []int
	for _, r := range recs {
		if r.Kind == audit.KindLookup {
			logged = append(logged, r.Status)
			if r.Status == http.StatusServiceUnavailable && (r.Decision != audit.Deny || r.Reason != "register-unavailable" || len(r.Returned) != 0) {
				t.Errorf("record of a 503: %+v; want a denial, reason register-unavailable, no one returned", r)
			}
		}
	}
	if !slices.Equal(logged, answered) {
		t.Fatalf("records' statuses %v; answers %v", logged, answered)
	}
	// The web lookups: one permitted, one refused with 503.
	recs, err = db.AuditRecords(t.Context(), string(ident.SyntheticOrgnr(9_100_001)), 1000)
	if err != nil {
		t.Fatal(err)
	}
	logged = nil
	for _, r := range recs {
		if r.Kind == audit.KindLookup && r.Channel == "web" {
			logged = append(logged, r.Status)
		}
	}
	if !slices.Equal(logged, []int{http.StatusOK, http.StatusServiceUnavailable}) {
		t.Fatalf("web lookups' records: statuses %v; want [200 503]", logged)
	}
}

// webLookupUser signs in as the demo's web lookup user (Ole Oppslag, Demo
// kommune), ticks the terms and returns a search by person.
func webLookupUser(t *testing.T, base, data string) func(person string) (int, string) {
	t.Helper()
	_, post := demoSignIn(t, base, data, "oppslag@kommune.demo")
	if code, _ := post("/portal/oppslag/vilkar", url.Values{"bekreft": {"ja"}}); code != http.StatusOK {
		t.Fatalf("ticking the terms: %d", code)
	}
	return func(person string) (int, string) {
		return post("/portal/oppslag", url.Values{"sok": {"person"}, "ident": {person}})
	}
}

// demoSignIn signs in to the portal as one of the demo's accounts and
// returns a GET and a POST in its session.
func demoSignIn(t *testing.T, base, data, email string) (get func(path string) (int, string), post func(path string, form url.Values) (int, string)) {
	t.Helper()
	var password string
	b, err := os.ReadFile(filepath.Join(data, "demo-accounts.txt"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if pw, ok := strings.CutPrefix(line, email+" "); ok {
			password = pw
		}
	}
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar}
	do := func(req *http.Request) (int, string) {
		t.Helper()
		req.Header.Set("Origin", base)
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	get = func(path string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest("GET", base+path, nil)
		return do(req)
	}
	post = func(path string, form url.Values) (int, string) {
		t.Helper()
		req, _ := http.NewRequest("POST", base+path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return do(req)
	}
	if code, _ := post("/logg-inn", url.Values{"epost": {email}, "passord": {password}}); code != http.StatusOK {
		t.Fatalf("sign in as %s: %d", email, code)
	}
	return get, post
}

// grepLines are text's lines that contain sub.
func grepLines(text, sub string) string {
	var out []string
	for _, line := range strings.Split(text, "\n") {
		if strings.Contains(line, sub) {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}

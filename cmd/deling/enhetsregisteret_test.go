package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"deling/internal/access"
	"deling/internal/governance"
	"deling/internal/register"
	"deling/internal/store"
)

// enhetConsumers stores consumers with an active API grant each, in dir.
func enhetConsumers(t *testing.T, dir string, orgnrs ...string) {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, store.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, o := range orgnrs {
		if err := db.UpsertConsumer(ctx, access.Consumer{Orgnr: o, Navn: "Konsument " + o, Status: access.Active}, "test"); err != nil {
			t.Fatal(err)
		}
		if _, err := db.AddGrant(ctx, access.Grant{Consumer: o, Packages: []string{"grunndata@1"}, Channel: access.ChannelAPI, Env: register.EnvTest,
			LegalBasis: "lov", ProcessingBasis: "art. 6", Purpose: "saksbehandling", QueryKinds: []access.QueryKind{access.ByArbeidstaker},
			ValidFrom: time.Now().Add(-time.Hour)}, "test"); err != nil {
			t.Fatal(err)
		}
	}
}

func enhetStatus(t *testing.T, dir, orgnr string) (access.Status, []access.Grant) {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, store.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	c, err := db.Consumer(ctx, orgnr)
	if err != nil {
		t.Fatal(err)
	}
	gs, err := db.Grants(ctx, orgnr)
	if err != nil {
		t.Fatal(err)
	}
	return c.Status, gs
}

const enhetFile = `[
{"organisasjonsnummer":"310000101","navn":"SLETTET AS","slettedato":"2026-10-01","organisasjonsform":{"kode":"AS"}},
{"organisasjonsnummer":"310000102","navn":"LEVER AS","konkurs":false},
{"organisasjonsnummer":"310000103","navn":"AVVIKLES AS","underAvvikling":true}
]`

// Rule AA-26: "deling enhetsregisteret import" ends the access of a consumer that Enhetsregisteret shows as deleted.
func TestEnhetsregisteretImport(t *testing.T) {
	dir := t.TempDir()
	enhetConsumers(t, dir, "310000101", "310000102", "310000103")

	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(enhetFile))
	zw.Close()
	file := filepath.Join(dir, "enheter.json.gz")
	if err := os.WriteFile(file, gz.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(enhetFile[:len(enhetFile)-3]), 0o600)

	// A malformed file changes nothing.
	if _, _, err := runCmd(t, nil, "enhetsregisteret", "import", "--data", dir, bad); err == nil || !strings.Contains(err.Error(), "nothing was changed") {
		t.Fatalf("malformed file: %v", err)
	}
	if st, _ := enhetStatus(t, dir, "310000101"); st != access.Active {
		t.Fatalf("a malformed file ceased a consumer: %s", st)
	}

	stdout, _, err := runCmd(t, nil, "enhetsregisteret", "import", "--data", dir, file)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stdout, "read 3 entries; 1 consumer or data processor ceased") || !strings.Contains(stdout, "ceased: 310000101") ||
		!strings.Contains(stdout, "winding up") {
		t.Fatalf("stdout: %q", stdout)
	}
	st, grants := enhetStatus(t, dir, "310000101")
	if st != access.Ceased || len(grants) != 1 || grants[0].Status != access.Ended || grants[0].StatusReason != store.ReasonCeased {
		t.Fatalf("deleted consumer: %s %+v", st, grants)
	}
	if st, grants := enhetStatus(t, dir, "310000102"); st != access.Active || grants[0].Status != access.Active {
		t.Fatalf("living consumer: %s", st)
	}
	if st, _ := enhetStatus(t, dir, "310000103"); st != access.Active {
		t.Fatalf("a consumer winding up lost its access: %s", st)
	}

	// From a URL, streamed.
	dir2 := t.TempDir()
	enhetConsumers(t, dir2, "310000101")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/enheter/lastned" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/vnd.brreg.enhetsregisteret.enhet.v2+gzip;charset=UTF-8")
		w.Write(gz.Bytes())
	}))
	defer srv.Close()
	if _, _, err := runCmd(t, nil, "enhetsregisteret", "import", "--data", dir2, srv.URL+"/finnes-ikke"); err == nil || !strings.Contains(err.Error(), "404") {
		t.Fatalf("a 404 was accepted: %v", err)
	}
	if stdout, _, err := runCmd(t, nil, "enhetsregisteret", "import", "--data", dir2, srv.URL+"/enheter/lastned"); err != nil || !strings.Contains(stdout, "ceased: 310000101") {
		t.Fatalf("URL import: %v %q", err, stdout)
	}
	if st, _ := enhetStatus(t, dir2, "310000101"); st != access.Ceased {
		t.Fatalf("URL import: %s", st)
	}

	if _, _, err := runCmd(t, nil, "enhetsregisteret", "import", "--data", dir); err == nil {
		t.Fatal("import without a file")
	}
}

// Rule AA-26: the daily job is there only when a source is configured.
func TestEnhetsregisteretJobs(t *testing.T) {
	if jobs := enhetsregisteretJobs(nil, nil, enhetsregisteretOptions{}); len(jobs) != 0 {
		t.Fatal("a job without a source")
	}
	if jobs := enhetsregisteretJobs(nil, nil, enhetsregisteretOptions{source: "x.json"}); len(jobs) != 1 {
		t.Fatal("no job with a source")
	}
}

// Rule AA-27: the reminder job writes to an organisation's administrators once per interval while its review is due.
func TestReviewReminderJob(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	db, err := store.Open(ctx, store.Config{DataDir: t.TempDir(), Now: func() time.Time { return t0 }})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	const org = "310000111"
	for _, u := range []struct {
		email string
		role  governance.Role
	}{{"admin@org.test", governance.Administrator}, {"bruker@org.test", governance.Oppslagsbruker}} {
		if _, err := db.CreateUser(ctx, governance.User{Email: u.email, Navn: u.email}, "x", []governance.Membership{{Org: org, Role: u.role}}, "test"); err != nil {
			t.Fatal(err)
		}
	}
	rules := governance.DefaultSettings()
	if n, err := remindReviews(ctx, db, rules, "https://deling.test", t0); err != nil || n != 0 {
		t.Fatalf("nothing due yet: %d %v", n, err)
	}
	later := t0.Add(rules.ReviewEvery)
	if n, err := remindReviews(ctx, db, rules, "https://deling.test", later); err != nil || n != 1 {
		t.Fatalf("due: %d %v", n, err)
	}
	if n, _ := remindReviews(ctx, db, rules, "https://deling.test", later); n != 0 {
		t.Fatal("reminded twice within the interval")
	}
	mails, _ := db.MailTo(ctx, org, 10)
	if len(mails) != 1 || mails[0].To != "admin@org.test" || !strings.Contains(mails[0].Body, "2 brukere") ||
		!strings.Contains(mails[0].Body, "https://deling.test/portal/brukere") {
		t.Fatalf("letters %+v", mails)
	}
}

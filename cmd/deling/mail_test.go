package main

import (
	"bytes"
	"context"
	"flag"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"deling/internal/access"
	"deling/internal/governance"
	"deling/internal/job"
	"deling/internal/mail/mailtest"
	"deling/internal/register"
	"deling/internal/store"
)

// mailClock is a store clock the test moves.
type mailClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *mailClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *mailClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// mailTestConsumer opens a store on a temporary directory with one active consumer that has an API grant.
func mailTestConsumer(t *testing.T, clock *mailClock) (*store.DB, string) {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, store.Config{DataDir: t.TempDir(), Now: clock.now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	org := "310000001"
	if err := db.UpsertConsumer(ctx, access.Consumer{Orgnr: org, Navn: "Påminnelse kommune", Status: access.Active}, "test"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.AddGrant(ctx, access.Grant{Consumer: org, Packages: []string{"grunnopplysninger@1"}, Channel: access.ChannelAPI, Env: register.EnvTest,
		LegalBasis: "aa-registerforskriften § 10", ProcessingBasis: "art. 6(1)(e)", Purpose: "saksbehandling",
		QueryKinds: []access.QueryKind{access.ByArbeidstaker}, ValidFrom: clock.now()}, "test"); err != nil {
		t.Fatal(err)
	}
	return db, org
}

func mailJob(t *testing.T, jobs []job.Job, name string) job.Job {
	t.Helper()
	for _, j := range jobs {
		if strings.Contains(j.Name, name) {
			return j
		}
	}
	t.Fatalf("no job %q among %d", name, len(jobs))
	return job.Job{}
}

func reminders(t *testing.T, db *store.DB, org string) []governance.Letter {
	t.Helper()
	ms, err := db.MailTo(context.Background(), org, 100)
	if err != nil {
		t.Fatal(err)
	}
	var out []governance.Letter
	for _, m := range ms {
		if m.Kind == governance.LetterRemindSubscribe {
			out = append(out, m)
		}
	}
	return out
}

// Rule AA-20: a consumer without a subscription is reminded, once per RemindEvery, until it subscribes.
func TestSubscribeReminderJob(t *testing.T) {
	ctx := context.Background()
	clock := &mailClock{t: time.Date(2026, 11, 24, 6, 0, 0, 0, time.UTC)}
	db, org := mailTestConsumer(t, clock)
	if _, err := db.SaveContact(ctx, governance.Contact{Consumer: org, Navn: "Kari", Epost: "kari@kommune.example", Rolle: governance.ContactAdministrative}, "test"); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	jobs := mailJobs(db, slog.New(slog.NewTextHandler(&logs, nil)), mailOptions{}, "https://deling.example.no/")
	// Without --smtp, mail stays in the outbox, and that is said once.
	if n := strings.Count(logs.String(), "no --smtp"); n != 1 || len(jobs) != 1 {
		t.Fatalf("warnings %d, jobs %d", n, len(jobs))
	}
	remind := mailJob(t, jobs, "remind")
	if err := remind.Run(ctx); err != nil {
		t.Fatal(err)
	}
	rs := reminders(t, db, org)
	if len(rs) != 1 || rs[0].To != "kari@kommune.example" || !strings.Contains(rs[0].Body, "https://deling.example.no/portal/kontakter") || !strings.Contains(rs[0].Body, "Påminnelse kommune") {
		t.Fatalf("reminders: %+v", rs)
	}
	// The next day: not again (once per RemindEvery, 7 days).
	clock.advance(24 * time.Hour)
	if err := remind.Run(ctx); err != nil {
		t.Fatal(err)
	}
	if n := len(reminders(t, db, org)); n != 1 {
		t.Fatalf("%d reminders the next day", n)
	}
	// A week on, still no subscription: reminded again.
	clock.advance(7 * 24 * time.Hour)
	if err := remind.Run(ctx); err != nil {
		t.Fatal(err)
	}
	if n := len(reminders(t, db, org)); n != 2 {
		t.Fatalf("%d reminders after a week", n)
	}
	// Once it subscribes: never again.
	if _, err := db.SaveContact(ctx, governance.Contact{Consumer: org, Navn: "Drift", Epost: "drift@kommune.example", Rolle: governance.ContactTechnical, Varsler: true}, "test"); err != nil {
		t.Fatal(err)
	}
	clock.advance(30 * 24 * time.Hour)
	if err := remind.Run(ctx); err != nil {
		t.Fatal(err)
	}
	if n := len(reminders(t, db, org)); n != 2 {
		t.Fatalf("%d reminders after subscribing", n)
	}
}

// The outbox goes out over SMTP, with AUTH when a user is named; the password comes from the environment only.
func TestDeliverJob(t *testing.T) {
	ctx := context.Background()
	clock := &mailClock{t: time.Date(2026, 11, 24, 6, 0, 0, 0, time.UTC)}
	db, org := mailTestConsumer(t, clock)
	sink, err := mailtest.NewSink()
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	sink.RequireAuth("deling", "hemmelig")
	if err := db.QueueMail(ctx, governance.Letter{Consumer: org, Kind: "notice", To: "kari@kommune.example", Subject: "Driftsmelding", Body: "Tekst."}); err != nil {
		t.Fatal(err)
	}

	var o mailOptions
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	o.bind(fs)
	if fs.Lookup("smtp-password") != nil {
		t.Fatal("the SMTP password is a flag")
	}
	if err := fs.Parse([]string{"--smtp", sink.Addr, "--smtp-user", "deling", "--mail-from", "aa@register.example"}); err != nil {
		t.Fatal(err)
	}
	o.getenv = func(k string) string {
		if k == smtpPasswordEnv {
			return "hemmelig"
		}
		return ""
	}
	deliver := mailJob(t, mailJobs(db, slog.New(slog.NewTextHandler(io.Discard, nil)), o, "http://localhost:8080"), "deliver")
	if deliver.Interval != 10*time.Second {
		t.Fatalf("interval %s", deliver.Interval)
	}
	if err := deliver.Run(ctx); err != nil {
		t.Fatal(err)
	}
	msgs := sink.Messages()
	if len(msgs) != 1 || msgs[0].From != "aa@register.example" || msgs[0].To[0] != "kari@kommune.example" {
		t.Fatalf("sink: %+v", msgs)
	}
	ms, _ := db.MailTo(ctx, org, 10)
	if len(ms) != 1 || ms[0].SentAt == nil {
		t.Fatalf("not marked sent: %+v", ms)
	}
	// A wrong password: nothing is sent, and the job says why.
	db.QueueMail(ctx, governance.Letter{Consumer: org, Kind: "notice", To: "kari@kommune.example", Subject: "Igjen", Body: "."})
	o.getenv = func(string) string { return "feil" }
	deliver = mailJob(t, mailJobs(db, slog.New(slog.NewTextHandler(io.Discard, nil)), o, ""), "deliver")
	if err := deliver.Run(ctx); err == nil || len(sink.Messages()) != 1 {
		t.Fatalf("wrong password: %v, %d messages", err, len(sink.Messages()))
	}
}

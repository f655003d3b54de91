package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"deling/internal/governance"
	"deling/internal/incident"
	"deling/internal/store"
)

// Rule AV-05: the reminder job e-mails the case workers (while nobody owns the
// case) and the DPO at 24, 48 and 66 hours after awareness and when overdue,
// each once, and not after the case is decided against notifying.
func TestBreachReminderJob(t *testing.T) {
	ctx := context.Background()
	// 16:50 on the Thursday before Easter 2026: weekends and holidays count, the hours are elapsed time.
	t0 := time.Date(2026, 4, 2, 14, 50, 0, 0, time.UTC)
	db, err := store.Open(ctx, store.Config{DataDir: t.TempDir(), Now: func() time.Time { return t0 }})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, u := range []struct {
		email string
		role  governance.Role
	}{{"sb@register.test", governance.Saksbehandler}, {"pvo@register.test", governance.Personvernombud}} {
		if _, err := db.CreateUser(ctx, governance.User{Email: u.email, Navn: u.email}, "x", []governance.Membership{{Org: governance.AuthorityOrg, Role: u.role}}, "test"); err != nil {
			t.Fatal(err)
		}
	}
	rep := incident.Report{What: "Feilsendt", DiscoveredAt: t0, ReportedAt: t0, ReportedBy: incident.Actor{Role: incident.Reporter, Name: "x"}}
	id, err := db.ReportIncident(ctx, rep, "", nil, "test")
	if err != nil {
		t.Fatal(err)
	}
	points := incident.DefaultReminderPoints()
	run := func(at time.Duration) int {
		t.Helper()
		n, err := remindBreaches(ctx, db, points, "https://deling.test", t0.Add(at))
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	for _, step := range []struct {
		at   time.Duration
		want int
	}{{time.Hour, 0}, {24 * time.Hour, 1}, {24*time.Hour + time.Minute, 0}, {48 * time.Hour, 1}, {66 * time.Hour, 1}, {67 * time.Hour, 0},
		{73 * time.Hour, 1}, {80 * time.Hour, 0}} {
		if got := run(step.at); got != step.want {
			t.Fatalf("at %v: %d cases reminded, want %d", step.at, got, step.want)
		}
	}
	mails, _ := db.PendingMail(ctx, 100, 5)
	if len(mails) != 8 { // 4 reminders × (case worker + DPO)
		t.Fatalf("%d letters, want 8", len(mails))
	}
	// 72 elapsed hours after 16:50 on Maundy Thursday is 16:50 on Easter Sunday, holidays or not.
	if !strings.Contains(mails[0].Subject, "05.04.2026 kl. 16:50") || !strings.Contains(mails[7].Subject, "Fristen er passert") ||
		!strings.Contains(mails[0].Body, "https://deling.test/portal/avvik/"+id) {
		t.Fatalf("letters: %q / %q", mails[0].Subject, mails[7].Subject)
	}
	c, _ := db.Incident(ctx, id)
	if n := len(c.History); n != 5 {
		t.Fatalf("%d history entries, want the report and 4 reminders", n)
	}
}

func TestReminderPointsFlag(t *testing.T) {
	var p reminderPoints
	if err := p.Set("12h, 60h"); err != nil || len(p) != 2 || p[1] != 60*time.Hour || p.String() != "12h0m0s,60h0m0s" {
		t.Fatalf("%v %v", p, err)
	}
	for _, bad := range []string{"72h", "0s", "x", "-1h"} {
		if err := p.Set(bad); err == nil {
			t.Fatalf("%q accepted", bad)
		}
	}
}

// Rule AV-08: after closing, the owner and the DPO are reminded when a
// follow-up item falls due and at the review date, weekly while overdue,
// and no more once the follow-up is done.
func TestFollowUpReminderJob(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2026, 6, 1, 7, 0, 0, 0, time.UTC)
	db, err := store.Open(ctx, store.Config{DataDir: t.TempDir(), Now: func() time.Time { return t0 }})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.CreateUser(ctx, governance.User{Email: "pvo@register.test", Navn: "PVO"}, "x", []governance.Membership{{Org: governance.AuthorityOrg, Role: governance.Personvernombud}}, "test"); err != nil {
		t.Fatal(err)
	}
	rep := incident.Report{What: "Feilsendt", DiscoveredAt: t0, ReportedAt: t0, ReportedBy: incident.Actor{Role: incident.Reporter, Name: "x"}}
	id, err := db.ReportIncident(ctx, rep, "", nil, "test")
	if err != nil {
		t.Fatal(err)
	}
	due, review := t0.Add(10*24*time.Hour), t0.Add(20*24*time.Hour)
	f := store.IncidentFollowUp{Lessons: "Lært", ReviewAt: review, Items: []incident.FollowUpItem{{Area: incident.LessonTraining, Finding: "f", Action: "Kurs", Owner: "HR", Due: due}}}
	if _, err := db.ChangeIncident(ctx, id, 1, store.IncidentChange{Step: string(incident.StepClose), Status: incident.StatusClosed, AwareAt: t0, FollowUp: &f}, "test"); err != nil {
		t.Fatal(err)
	}
	for _, step := range []struct {
		at   time.Duration
		want int
	}{{24 * time.Hour, 0}, {10 * 24 * time.Hour, 1}, {11 * 24 * time.Hour, 0}, {17 * 24 * time.Hour, 1}, {20 * 24 * time.Hour, 1}, {20*24*time.Hour + time.Hour, 0}} {
		n, err := remindFollowUps(ctx, db, "https://deling.test", t0.Add(step.at))
		if err != nil {
			t.Fatal(err)
		}
		if n != step.want {
			t.Fatalf("at %v: %d reminded, want %d", step.at, n, step.want)
		}
	}
	mails, _ := db.PendingMail(ctx, 100, 5)
	if len(mails) != 3 || !strings.Contains(mails[0].Body, "Kurs") || mails[0].To != "pvo@register.test" {
		t.Fatalf("letters: %d", len(mails))
	}
	// Done: no more reminders.
	c, _ := db.Incident(ctx, id)
	f.Items[0].DoneAt = t0.Add(21 * 24 * time.Hour)
	if _, err := db.ChangeIncident(ctx, id, c.Version, store.IncidentChange{Step: string(incident.StepFollowUpDone), Status: incident.StatusFollowedUp, AwareAt: t0, FollowUp: &f}, "test"); err != nil {
		t.Fatal(err)
	}
	if n, _ := remindFollowUps(ctx, db, "https://deling.test", t0.Add(60*24*time.Hour)); n != 0 {
		t.Fatalf("%d reminded after the follow-up was done", n)
	}
}

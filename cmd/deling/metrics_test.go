package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"deling/internal/governance"
	"deling/internal/incident"
	"deling/internal/store"
)

// The operator's metrics (issue 16 item 16) count what is in the database:
// the outbox by state, extract jobs by state, open breaches by clock.
func TestOperatorMetrics(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, store.Config{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	m := newOperatorMetrics(db, slog.New(slog.NewTextHandler(io.Discard, nil)))
	now := time.Now()
	m.now = func() time.Time { return now }
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(m)

	// want compares a metric's samples, "label=value … number" a line, sorted.
	want := func(name, body string) {
		t.Helper()
		if got := samples(t, reg, name); got != strings.TrimSpace(body) {
			t.Errorf("%s:\n%s\nwant:\n%s", name, got, strings.TrimSpace(body))
		}
	}
	// Nothing yet: every state reads 0, and no breach deadline is shown.
	want("deling_outbox_letters", `
state=failed 0
state=pending 0
`)
	if got := samples(t, reg, "deling_breach_notify_deadline_seconds"); got != "" {
		t.Errorf("a deadline is shown with no breach open")
	}

	// Two letters; one fails until it gives up.
	if err := db.QueueMail(ctx, governance.Letter{Kind: "t", To: "a@b.test", Subject: "s", Body: "b"}, governance.Letter{Kind: "t", To: "c@d.test", Subject: "s", Body: "b"}); err != nil {
		t.Fatal(err)
	}
	pending, err := db.PendingMail(ctx, 10, mailMaxAttempts)
	if err != nil || len(pending) != 2 {
		t.Fatalf("pending: %v %v", pending, err)
	}
	for range mailMaxAttempts {
		if err := db.MarkMail(ctx, pending[0].ID, io.ErrUnexpectedEOF); err != nil {
			t.Fatal(err)
		}
	}
	// A breach found 80 hours ago (overdue), one found an hour ago (running).
	for i, found := range []time.Duration{80 * time.Hour, time.Hour} {
		rep := incident.Report{What: "Feilsendt liste", DiscoveredAt: now.Add(-found), ReportedAt: now.Add(-found),
			ReportedBy: incident.Actor{UserID: "u", Org: governance.AuthorityOrg, Role: incident.Reporter, Name: "Sara"}}
		if _, err := db.ReportIncident(ctx, rep, store.IncidentReferenceHash("M-"+string(rune('A'+i))), nil, "user:u"); err != nil {
			t.Fatal(err)
		}
	}
	want("deling_outbox_letters", `
state=failed 1
state=pending 1
`)
	want("deling_breaches_open", `
clock=overdue 1
clock=running 1
`)
	want("deling_breach_notify_deadline_seconds", `
-28800
`)
	want("deling_gauges_up", `
1
`)
	// A database that does not answer is reported, not hidden.
	db.Close()
	want("deling_gauges_up", `
0
`)
}

// samples gathers reg and writes name's samples as "label=value … value"
// lines, sorted; a value is rounded to a whole number.
func samples(t *testing.T, reg prometheus.Gatherer, name string) string {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			var parts []string
			for _, l := range m.GetLabel() {
				parts = append(parts, l.GetName()+"="+l.GetValue())
			}
			parts = append(parts, fmt.Sprint(math.Round(m.GetGauge().GetValue())))
			lines = append(lines, strings.Join(parts, " "))
		}
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}

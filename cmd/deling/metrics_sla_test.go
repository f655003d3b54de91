package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"deling/internal/governance"
	"deling/internal/incident"
	"deling/internal/store"
)

// Rule AA-19: SLA compliance per quarter is in the metrics as on the
// support page: a priority-A incident whose first notice went out at once
// and whose reaction is overdue reads 1 for the first notice and 0 for the
// reaction, in its quarter; the next quarter as the previous one; after
// that not at all (an alert on one miss does not fire for ever).
func TestOperatorMetricsSLA(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, store.Config{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	m := newOperatorMetrics(db, slog.New(slog.NewTextHandler(io.Discard, nil)))
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(m)
	if got := samples(t, reg, "deling_service_sla_compliance_ratio"); got != "" {
		t.Fatalf("SLA shown with no incident: %s", got)
	}
	id, err := db.RecordServiceIncident(ctx, store.ServiceIncidentRecord{ServiceIncident: incident.ServiceIncident{Title: "API nede", Description: "…",
		Priority: incident.PriorityA, ReportedBy: incident.Actor{UserID: "sb", Name: "Sara", Org: incident.ControllerOrg}}}, "user:sb")
	if err != nil {
		t.Fatal(err)
	}
	s, _ := db.ServiceIncident(ctx, id)
	n := governance.Notice{Kind: governance.NoticeNews, Title: "Driftshendelse", Body: "Vi ser på det."}
	if err := db.ChangeServiceIncident(ctx, id, s.Version, store.ServiceChange{Notice: &n, Letter: governance.Letter{Subject: "s", Body: "b"}, By: "Sara"}, "user:sb"); err != nil {
		t.Fatal(err)
	}
	// A week on, the reaction (2 working hours) is overdue.
	s, _ = db.ServiceIncident(ctx, id)
	m.now = func() time.Time { return s.ReportedAt.Add(7 * 24 * time.Hour) }
	y, q := incident.QuarterOf(s.ReportedAt, m.calendar.Location())
	quarter := fmt.Sprintf("%dK%d", y, q)
	want := fmt.Sprintf("period=current priority=A quarter=%s target=first_notice 1\nperiod=current priority=A quarter=%s target=reaction 0", quarter, quarter)
	if got := samples(t, reg, "deling_service_sla_compliance_ratio"); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
	// The next quarter: the miss is the previous quarter's, so an alert on period="current" stops.
	m.now = func() time.Time { return time.Date(y, time.Month(3*q+1), 15, 12, 0, 0, 0, m.calendar.Location()) }
	want = fmt.Sprintf("period=previous priority=A quarter=%s target=first_notice 1\nperiod=previous priority=A quarter=%s target=reaction 0", quarter, quarter)
	if got := samples(t, reg, "deling_service_sla_compliance_ratio"); got != want {
		t.Errorf("next quarter, got:\n%s\nwant:\n%s", got, want)
	}
	// Two quarters on: not reported at all.
	m.now = func() time.Time { return time.Date(y, time.Month(3*q+4), 15, 12, 0, 0, 0, m.calendar.Location()) }
	if got := samples(t, reg, "deling_service_sla_compliance_ratio"); got != "" {
		t.Errorf("two quarters on: %s", got)
	}
}

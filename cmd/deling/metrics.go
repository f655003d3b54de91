package main

import (
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"deling/internal/extract"
	"deling/internal/incident"
	"deling/internal/store"
)

// operatorMetrics is what an operator watches besides requests and the Go
// runtime: the build, the mail outbox, extract jobs and breach clocks, read
// from the database when /metrics is scraped (a few indexed counts), so every
// node reports the same numbers and nothing drifts between scrapes.
type operatorMetrics struct {
	db       *store.DB
	log      *slog.Logger
	now      func() time.Time
	calendar *incident.Calendar // the service incidents' working calendar (Rule AA-19); nil: no SLA gauge

	build, outbox, extracts, breaches, breachLeft, sla, up *prometheus.Desc
	readLag, readReplayAge, readErrors, readUp             *prometheus.Desc // the --db-read replica
}

func newOperatorMetrics(db *store.DB, log *slog.Logger) *operatorMetrics {
	// The portal's calendar: Oslo's working hours and Norwegian public holidays.
	var cal *incident.Calendar
	if oslo, err := time.LoadLocation("Europe/Oslo"); err == nil {
		cal, _ = incident.NewCalendar(oslo, incident.DefaultWorkStart, incident.DefaultWorkEnd)
	}
	return &operatorMetrics{db: db, log: log, now: time.Now, calendar: cal,
		build: prometheus.NewDesc("deling_build_info", "The running build: version, VCS revision and Go version (always 1).",
			[]string{"version", "revision", "goversion"}, nil),
		outbox: prometheus.NewDesc("deling_outbox_letters", "Letters in the mail outbox not yet sent, by state: pending (will be tried again) or failed (gave up).",
			[]string{"state"}, nil),
		extracts: prometheus.NewDesc("deling_extract_jobs", "Extract (uttrekk) jobs by state.",
			[]string{"state"}, nil),
		breaches: prometheus.NewDesc("deling_breaches_open", "Open breach cases whose 72-hour clock to Datatilsynet runs (Rule AV-05), by clock: running or overdue.",
			[]string{"clock"}, nil),
		breachLeft: prometheus.NewDesc("deling_breach_notify_deadline_seconds", "Seconds left to the earliest 72-hour deadline of an open breach case (negative when overdue); absent when none is open.",
			nil, nil),
		sla: prometheus.NewDesc("deling_service_sla_compliance_ratio", "Share of service incidents' decided first notices or reactions that were on time (Rule AA-19), by quarter (e.g. 2026K2; only this quarter, period current, and the one before, period previous), priority (A, B, C) and target (first_notice, reaction); 1 when none was decided.",
			[]string{"quarter", "period", "priority", "target"}, nil),
		up: prometheus.NewDesc("deling_gauges_up", "1 when the database answered the counts of this scrape, 0 when not.",
			nil, nil),
		readLag: prometheus.NewDesc("deling_db_read_lag_seconds", "How stale the --db-read replica may be: the time since it last held every transaction the primary had committed (-1 when it has not caught up since start). Register reads answer 503 above --db-read-max-lag.",
			nil, nil),
		readReplayAge: prometheus.NewDesc("deling_db_read_replay_age_seconds", "now() - pg_last_xact_replay_timestamp() on the --db-read replica, as PostgreSQL reports it (grows while the primary commits nothing).",
			nil, nil),
		readErrors: prometheus.NewDesc("deling_db_read_errors_total", "Register reads refused (replica down, promoted or too far behind) or failed on the --db-read replica, answered 503.",
			nil, nil),
		readUp: prometheus.NewDesc("deling_db_read_up", "1 when the last measurement of the --db-read replica succeeded and it is a standby, 0 when not.",
			nil, nil),
	}
}

func (m *operatorMetrics) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{m.build, m.outbox, m.extracts, m.breaches, m.breachLeft, m.sla, m.up, m.readLag, m.readReplayAge, m.readErrors, m.readUp} {
		ch <- d
	}
}

func (m *operatorMetrics) Collect(ch chan<- prometheus.Metric) {
	v, rev, _, _ := buildVersion()
	ch <- prometheus.MustNewConstMetric(m.build, prometheus.GaugeValue, 1, v, rev, runtime.Version())
	if r, ok := m.db.Replica(); ok {
		lag, up := -1.0, 0.0
		if r.Lag >= 0 {
			lag = r.Lag.Seconds()
		}
		if r.Up {
			up = 1
		}
		ch <- prometheus.MustNewConstMetric(m.readLag, prometheus.GaugeValue, lag)
		ch <- prometheus.MustNewConstMetric(m.readReplayAge, prometheus.GaugeValue, r.ReplayAge.Seconds())
		ch <- prometheus.MustNewConstMetric(m.readErrors, prometheus.CounterValue, float64(r.Errors))
		ch <- prometheus.MustNewConstMetric(m.readUp, prometheus.GaugeValue, up)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	up := 1.0
	if err := m.collect(ctx, ch); err != nil {
		m.log.Warn("metrics: the database did not answer", "err", err)
		up = 0
	}
	ch <- prometheus.MustNewConstMetric(m.up, prometheus.GaugeValue, up)
}

func (m *operatorMetrics) collect(ctx context.Context, ch chan<- prometheus.Metric) error {
	g, err := m.db.ReadGauges(ctx, mailMaxAttempts)
	if err != nil {
		return err
	}
	ch <- prometheus.MustNewConstMetric(m.outbox, prometheus.GaugeValue, float64(g.OutboxPending), "pending")
	ch <- prometheus.MustNewConstMetric(m.outbox, prometheus.GaugeValue, float64(g.OutboxFailed), "failed")
	// Every state, so that a state with no jobs reads 0 rather than vanishing.
	for _, st := range []extract.Status{extract.StatusQueued, extract.StatusRunning, extract.StatusDone, extract.StatusFailed, extract.StatusExpired} {
		ch <- prometheus.MustNewConstMetric(m.extracts, prometheus.GaugeValue, float64(g.ExtractJobs[string(st)]), string(st))
	}
	cases, err := m.db.Incidents(ctx, store.IncidentFilter{All: true, Open: true})
	if err != nil {
		return err
	}
	now := m.now()
	var running, overdue float64
	var earliest time.Time
	for _, c := range cases {
		deadline := incident.NotifyDeadline(c.Awareness())
		if now.After(deadline) {
			overdue++
		} else {
			running++
		}
		if earliest.IsZero() || deadline.Before(earliest) {
			earliest = deadline
		}
	}
	ch <- prometheus.MustNewConstMetric(m.breaches, prometheus.GaugeValue, running, "running")
	ch <- prometheus.MustNewConstMetric(m.breaches, prometheus.GaugeValue, overdue, "overdue")
	if !earliest.IsZero() {
		ch <- prometheus.MustNewConstMetric(m.breachLeft, prometheus.GaugeValue, earliest.Sub(now).Seconds())
	}
	return m.collectSLA(ctx, ch, now)
}

// collectSLA reports the service incidents' SLA compliance per quarter and
// priority (Rule AA-19), as the register's staff see it on the support page.
func (m *operatorMetrics) collectSLA(ctx context.Context, ch chan<- prometheus.Metric, now time.Time) error {
	if m.calendar == nil {
		return nil
	}
	recs, err := m.db.ServiceIncidents(ctx)
	if err != nil {
		return err
	}
	incs := make([]incident.ServiceIncident, len(recs))
	for i, r := range recs {
		incs[i] = r.ServiceIncident
	}
	// Only this quarter and the one before: a miss does not alert for ever,
	// and period tells them apart so that an alert can look at "current" only.
	y, qn := incident.QuarterOf(now, m.calendar.Location())
	py, pq := y, qn-1
	if pq == 0 {
		py, pq = y-1, 4
	}
	for _, q := range incident.Compliance(incs, m.calendar, now) {
		period := ""
		switch {
		case q.Year == y && q.Quarter == qn:
			period = "current"
		case q.Year == py && q.Quarter == pq:
			period = "previous"
		default:
			continue
		}
		quarter := fmt.Sprintf("%dK%d", q.Year, q.Quarter)
		ch <- prometheus.MustNewConstMetric(m.sla, prometheus.GaugeValue, q.FirstNoticeRate(), quarter, period, string(q.Priority), "first_notice")
		ch <- prometheus.MustNewConstMetric(m.sla, prometheus.GaugeValue, q.ReactionRate(), quarter, period, string(q.Priority), "reaction")
	}
	return nil
}

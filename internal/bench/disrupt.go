package bench

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// A Disruption is done to the platform After into the measured run (kill -9
// of a node, a restart of PostgreSQL); Do returns when it has measured what
// followed (a new leader, a new checkpoint), or ctx ends.
type Disruption struct {
	Name  string
	After time.Duration
	Do    func(ctx context.Context) DisruptionOutcome
}

// DisruptionOutcome is what a Disruption did and measured itself.
type DisruptionOutcome struct {
	Notes  []string           `json:"notes"`            // for the report, one a line
	Values map[string]float64 `json:"values,omitempty"` // the same, for the JSON report and tests
	Err    string             `json:"error,omitempty"`
}

// DisruptionReport is a disruption and the answers around it, by when the
// requests were sent.
type DisruptionReport struct {
	Name string `json:"name"`
	// At is when it was done, in seconds into the run.
	At float64 `json:"at_seconds"`
	DisruptionOutcome
	// Failed are the requests sent from At on that were not answered 2xx, by status ("0": no HTTP answer).
	Failed int `json:"failed"`
	// InFlight are the requests sent before At and not answered 2xx after it (on the killed node, say).
	InFlight    int            `json:"failed_in_flight"`
	StatusCodes map[string]int `json:"failed_status_codes,omitempty"`
	// RecoveredAfter is seconds from At to the first request answered 2xx
	// after the last failed one (0 when none failed).
	RecoveredAfter float64 `json:"recovered_after_seconds"`
}

// RecordCheck is the check that every answered request has its record in
// the lookup log, by the correlation id the bench gave each request.
type RecordCheck struct {
	Answered int      `json:"answered"`              // requests answered 2xx, each with its own correlation id
	Missing  int      `json:"missing"`               // of those, without a record carrying its id
	Examples []string `json:"missing_ids,omitempty"` // up to 10 of them
	Note     string   `json:"note,omitempty"`
}

// RateCheckReport is the rate-limit check: one consumer driven at twice its
// limit through all the nodes (Rule AA-15 across a cluster).
type RateCheckReport struct {
	Limit int `json:"limit"`
	// Admitted is 2xx answers a second over the seconds after the first (the
	// bucket's burst of one second's worth is spent in the first) and before
	// the last, partial one, by when the requests were sent.
	Admitted  float64 `json:"admitted_per_second"`
	Seconds   int     `json:"seconds_counted"`
	Refused   int     `json:"refused_429"`
	Other     int     `json:"other_failures"`
	WithinPct float64 `json:"deviation_percent"` // (Admitted − Limit) / Limit × 100
}

// correlationHeader is the API's correlation id header (web.CorrelationHeader).
const correlationHeader = "Correlation-Id"

// correlationIDs makes each request's correlation id: a run's random
// prefix and a counter, in letters only, so that no id looks like a person or
// an organisation number (the API would replace such an id with its own).
type correlationIDs struct {
	prefix string
	n      atomic.Uint64
}

func newCorrelationIDs() *correlationIDs {
	return &correlationIDs{prefix: "bench-" + letters(rand.Uint64()&0xffffffffff) + "-"}
}

func (c *correlationIDs) next() string { return c.prefix + letters(c.n.Add(1)) }

func letters(n uint64) string {
	var b []byte
	for {
		b = append(b, byte('a'+n%26))
		if n /= 26; n == 0 {
			break
		}
	}
	return string(b)
}

// observer follows a measured run's results: the correlation ids answered
// 2xx, and the failures after each disruption.
type observer struct {
	mu       sync.Mutex
	began    time.Time
	answered map[string]struct{}
	collect  bool
	events   []*DisruptionReport
	at       []time.Time
	lastFail []time.Time   // per event: the last failed request sent after it
	oks      [][]time.Time // per event: the 2xx requests sent after it (results come in the order answered)
	rate     *rateTally
}

type rateTally struct {
	secs    []int // 2xx by the second they were sent in
	refused int
	other   int
}

func (o *observer) observe(r *vegeta.Result) {
	o.mu.Lock()
	defer o.mu.Unlock()
	ok := r.Code >= 200 && r.Code <= 299
	if ok && o.collect {
		if id := r.Headers.Get(correlationHeader); id != "" {
			o.answered[id] = struct{}{}
		}
	}
	for i, ev := range o.events {
		if o.at[i].IsZero() {
			continue
		}
		if r.Timestamp.Before(o.at[i]) {
			if !ok && r.End().After(o.at[i]) {
				ev.InFlight++
			}
			continue
		}
		if ok {
			o.oks[i] = append(o.oks[i], r.Timestamp)
			continue
		}
		ev.Failed++
		ev.StatusCodes[strconv.Itoa(int(r.Code))]++
		if r.Timestamp.After(o.lastFail[i]) {
			o.lastFail[i] = r.Timestamp
		}
	}
	if t := o.rate; t != nil {
		switch {
		case ok:
			sec := max(0, int(r.Timestamp.Sub(o.began)/time.Second))
			for len(t.secs) <= sec {
				t.secs = append(t.secs, 0)
			}
			t.secs[sec]++
		case r.Code == 429:
			t.refused++
		default:
			t.other++
		}
	}
}

func newObserver(ds []Disruption, collect bool, rateCheck bool) *observer {
	o := &observer{answered: map[string]struct{}{}, collect: collect, at: make([]time.Time, len(ds)),
		lastFail: make([]time.Time, len(ds)), oks: make([][]time.Time, len(ds))}
	for _, d := range ds {
		o.events = append(o.events, &DisruptionReport{Name: d.Name, StatusCodes: map[string]int{}})
	}
	if rateCheck {
		o.rate = &rateTally{}
	}
	return o
}

// disrupt does each disruption at its time into the run, in goroutines that
// wait for what it measures; wait waits for them.
func (o *observer) disrupt(ctx context.Context, ds []Disruption) (wait func()) {
	var wg sync.WaitGroup
	for i, d := range ds {
		wg.Go(func() {
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Until(o.began.Add(d.After))):
			}
			o.mu.Lock()
			o.at[i] = time.Now()
			o.events[i].At = o.at[i].Sub(o.began).Seconds()
			o.mu.Unlock()
			out := d.Do(ctx)
			o.mu.Lock()
			o.events[i].DisruptionOutcome = out
			o.mu.Unlock()
		})
	}
	return wg.Wait
}

// finish fills in the disruptions' recovery times.
func (o *observer) finish() []*DisruptionReport {
	for i, ev := range o.events {
		if ev.Failed == 0 {
			continue
		}
		var first time.Time
		for _, t := range o.oks[i] {
			if t.After(o.lastFail[i]) && (first.IsZero() || t.Before(first)) {
				first = t
			}
		}
		ev.RecoveredAfter = -1 // never within the run
		if !first.IsZero() {
			ev.RecoveredAfter = first.Sub(o.at[i]).Seconds()
		}
	}
	return o.events
}

// rateCheck summarises the rate tally against limit.
func (o *observer) rateCheck(limit int) *RateCheckReport {
	t := o.rate
	rc := &RateCheckReport{Limit: limit, Refused: t.refused, Other: t.other}
	if len(t.secs) < 3 {
		return rc
	}
	sum := 0
	for _, n := range t.secs[1 : len(t.secs)-1] {
		sum += n
	}
	rc.Seconds = len(t.secs) - 2
	rc.Admitted = float64(sum) / float64(rc.Seconds)
	rc.WithinPct = 100 * (rc.Admitted - float64(limit)) / float64(limit)
	return rc
}

// printChecks writes the disruptions, the record check and the rate check.
func printChecks(w io.Writer, rep *Report) {
	for _, d := range rep.Disruptions {
		fmt.Fprintf(w, "\n%s at %.1f s into the run:\n", d.Name, d.At)
		if d.Err != "" {
			fmt.Fprintf(w, "  failed: %s\n", d.Err)
		}
		for _, n := range d.Notes {
			fmt.Fprintf(w, "  %s\n", n)
		}
		fmt.Fprintf(w, "  requests in flight at it that failed: %d\n", d.InFlight)
		codes := make([]string, 0, len(d.StatusCodes))
		for c, n := range d.StatusCodes {
			codes = append(codes, fmt.Sprintf("%s×%d", c, n))
		}
		sort.Strings(codes)
		switch {
		case d.Failed == 0:
			fmt.Fprintln(w, "  requests sent after it: none failed")
		case d.RecoveredAfter < 0:
			fmt.Fprintf(w, "  requests sent after it: %d failed (%s); none answered after the last failure\n", d.Failed, strings.Join(codes, " "))
		default:
			fmt.Fprintf(w, "  requests sent after it: %d failed (%s; status 0: no answer); answered again from %.2f s after it\n",
				d.Failed, strings.Join(codes, " "), d.RecoveredAfter)
		}
	}
	if c := rep.Records; c != nil {
		verdict := "yes"
		if c.Missing > 0 {
			verdict = fmt.Sprintf("NO: %d missing (ids %s)", c.Missing, strings.Join(c.Examples, ", "))
		}
		fmt.Fprintf(w, "\nanswered %s, each with its record (by correlation id, read from the lookup log): %s\n", thousands(int64(c.Answered)), verdict)
		if c.Note != "" {
			fmt.Fprintf(w, "  %s\n", c.Note)
		}
	}
	if rep.AuditVerify != "" {
		fmt.Fprintf(w, "audit verify after the run: %s\n", rep.AuditVerify)
	}
	if rc := rep.RateCheck; rc != nil {
		verdict := "within 10 %"
		if rc.WithinPct > 10 || rc.WithinPct < -10 {
			verdict = "NOT within 10 %"
		}
		fmt.Fprintf(w, "\nrate limit of one consumer across the nodes: limit %d/s, admitted %.1f/s (%+.1f %%, %s) over %d s after the first second (its burst); %s refused 429, %d other failures\n",
			rc.Limit, rc.Admitted, rc.WithinPct, verdict, rc.Seconds, thousands(int64(rc.Refused)), rc.Other)
	}
}

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
	// RateBlock is how long a node blocks the consumer once it keeps
	// exceeding its limit (serve --rate-block) in this run.
	RateBlock string `json:"rate_block"`
	// Admitted is 2xx answers a second over every whole second of the
	// measured run after the first (the bucket's burst of one second's worth
	// is spent in the first), by when the requests were sent: a second with
	// no 2xx counts as 0.
	Admitted  float64 `json:"admitted_per_second"`
	Seconds   int     `json:"seconds_counted"` // 0: not measured (a run too short)
	Refused   int     `json:"refused_429"`
	Other     int     `json:"other_failures"`
	WithinPct float64 `json:"deviation_percent"` // (Admitted − Limit) / Limit × 100
	// Within is the check's verdict: measured, admitted within 10 % of the
	// limit, and other failures (not 429) at most 1 % of the requests.
	Within  bool   `json:"within_10_percent"`
	Verdict string `json:"verdict"`
}

// minRateSeconds is the fewest seconds the rate check counts: fewer measure nothing.
const minRateSeconds = 3

// maxOtherShare is the share of requests that may fail otherwise than 429 in the rate check.
const maxOtherShare = 0.01

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

// rateCheck summarises the rate tally against limit over the measured run
// of length d, which began at o.began.
func (o *observer) rateCheck(limit int, d time.Duration) *RateCheckReport {
	t := o.rate
	rc := &RateCheckReport{Limit: limit, Refused: t.refused, Other: t.other}
	whole := int(d / time.Second) // a last, partial second is left out
	if whole-1 < minRateSeconds {
		rc.Verdict = fmt.Sprintf("not measured: %d whole seconds after the first, want at least %d (a longer --duration)", max(0, whole-1), minRateSeconds)
		return rc
	}
	sum, all := 0, t.refused+t.other
	for sec, n := range t.secs {
		all += n
		if sec >= 1 && sec < whole {
			sum += n
		}
	}
	rc.Seconds = whole - 1
	rc.Admitted = float64(sum) / float64(rc.Seconds)
	rc.WithinPct = 100 * (rc.Admitted - float64(limit)) / float64(limit)
	switch {
	case rc.WithinPct > 10 || rc.WithinPct < -10:
		rc.Verdict = "NOT within 10 %"
	case float64(t.other) > maxOtherShare*float64(all):
		rc.Verdict = fmt.Sprintf("NOT within: %d of %d requests failed otherwise than 429 (more than %.0f %%)", t.other, all, 100*maxOtherShare)
	default:
		rc.Within, rc.Verdict = true, "within 10 %"
	}
	return rc
}

// FailedChecks names the checks of a run that failed: an answer without its
// record (or a 2xx without the correlation id it was sent with), the log's
// verification, a disruption that could not be done, the rate check.
func (rep *Report) FailedChecks() []string {
	var out []string
	if c := rep.Records; c != nil {
		if c.Missing > 0 {
			out = append(out, fmt.Sprintf("%d answers without their record", c.Missing))
		}
		if r := rep.Result; r != nil && c.Answered != r.Total.Successful {
			out = append(out, fmt.Sprintf("%d answers 2xx, %d of them with the correlation id they were sent with", r.Total.Successful, c.Answered))
		}
	}
	if rep.AuditVerify != "" && !strings.HasPrefix(rep.AuditVerify, "ok: ") {
		out = append(out, "audit verify "+rep.AuditVerify)
	}
	for _, d := range rep.Disruptions {
		if d.Err != "" {
			out = append(out, d.Name+": "+d.Err)
		}
	}
	if rc := rep.RateCheck; rc != nil && !rc.Within {
		out = append(out, "rate limit "+rc.Verdict)
	}
	return out
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
		fmt.Fprintf(w, "\nrate limit of one consumer across the nodes: limit %d/s, block %s (serve --rate-block); ", rc.Limit, rc.RateBlock)
		if rc.Seconds == 0 {
			fmt.Fprintf(w, "%s", rc.Verdict)
		} else {
			fmt.Fprintf(w, "admitted %.1f/s (%+.1f %%, %s) over %d s after the first second (its burst)", rc.Admitted, rc.WithinPct, rc.Verdict, rc.Seconds)
		}
		fmt.Fprintf(w, "; %s refused 429, %d other failures\n", thousands(int64(rc.Refused)), rc.Other)
	}
}

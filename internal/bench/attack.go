package bench

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// attackSpec is one vegeta attack.
type attackSpec struct {
	name        string
	targeter    vegeta.Targeter
	classify    func(*vegeta.Result) string
	kinds       []string
	rate        int
	duration    time.Duration
	connections int
	timeout     time.Duration
	observe     func(*vegeta.Result) // each result, or nil
	cpu         bool                 // measure the process's CPU per answer (CPUPerOK)
}

// runAttack runs one fixed-rate attack, showing progress, until its duration
// is over or ctx ends, and summarises it.
func runAttack(ctx context.Context, spec attackSpec, progressOut io.Writer) *AttackResult {
	atk := vegeta.NewAttacker(
		vegeta.Timeout(spec.timeout),
		vegeta.KeepAlive(true),
		vegeta.Connections(spec.connections),
		vegeta.MaxConnections(spec.connections),
		vegeta.Workers(uint64(min(spec.connections, 64))),
		vegeta.MaxWorkers(10_000),
		vegeta.MaxBody(0), // bodies are read and discarded
		vegeta.Redirects(vegeta.NoFollow),
	)
	stats := map[string]*KindStats{}
	for _, k := range spec.kinds {
		stats[k] = newKindStats(k)
	}
	total := newKindStats("total")
	var done, failed atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		select {
		case <-ctx.Done():
			atk.Stop()
		case <-stop:
		}
	})
	wg.Go(func() { showAttackProgress(progressOut, spec, &done, &failed, stop) })

	var (
		first, lastStart, lastEnd time.Time
		secs                      []*KindStats // by the second the request was sent in
	)
	began := time.Now()
	cpuBefore, cpuOK := processCPU()
	for r := range atk.Attack(spec.targeter, vegeta.ConstantPacer{Freq: spec.rate, Per: time.Second}, spec.duration, spec.name) {
		if spec.observe != nil {
			spec.observe(r)
		}
		k := spec.classify(r)
		s := stats[k]
		if s == nil {
			s = newKindStats(k)
			stats[k] = s
		}
		s.add(r)
		total.add(r)
		sec := max(0, int(r.Timestamp.Sub(began)/time.Second))
		for len(secs) <= sec {
			secs = append(secs, newKindStats(""))
		}
		secs[sec].add(r)
		done.Add(1)
		if r.Code < 200 || r.Code > 299 {
			failed.Add(1)
		}
		if first.IsZero() || r.Timestamp.Before(first) {
			first = r.Timestamp
		}
		if r.Timestamp.After(lastStart) {
			lastStart = r.Timestamp
		}
		if e := r.End(); e.After(lastEnd) {
			lastEnd = e
		}
	}
	cpuAfter, cpuAfterOK := processCPU()
	close(stop)
	wg.Wait()

	res := &AttackResult{Name: spec.name, Rate: spec.rate, Duration: spec.duration.String(), Connections: spec.connections}
	if spec.cpu && cpuOK && cpuAfterOK && total.Successful > 0 {
		res.CPUPerOK = float64(cpuAfter-cpuBefore) / float64(time.Microsecond) / float64(total.Successful)
	}
	window := lastEnd.Sub(first).Seconds()
	if sent := lastStart.Sub(first).Seconds(); sent > 0 {
		res.SentRate = float64(total.Requests-1) / sent
	}
	res.ElapsedSeconds = window
	for _, k := range spec.kinds {
		res.Kinds = append(res.Kinds, stats[k].finish(window))
	}
	for k, s := range stats {
		if !slices.Contains(spec.kinds, k) {
			res.Kinds = append(res.Kinds, s.finish(window))
		}
	}
	res.Total = total.finish(window)
	for i, s := range secs {
		s.finish(1)
		res.Timeline = append(res.Timeline, SecondStats{Second: i, Requests: s.Requests, Successful: s.Successful,
			P50: s.Latency.P50, P99: s.Latency.P99, Max: s.Latency.Max})
	}
	return res
}

// SecondStats is one second of an attack, by when the requests were sent: stalls show here.
type SecondStats struct {
	Second     int     `json:"second"`
	Requests   int     `json:"requests"`
	Successful int     `json:"successful"`
	P50        float64 `json:"p50_ms"`
	P99        float64 `json:"p99_ms"`
	Max        float64 `json:"max_ms"`
}

// worstSeconds says how many seconds had a p99 over limit (ms), and which second was worst.
func worstSeconds(tl []SecondStats, limit float64) (over int, worst SecondStats) {
	for _, s := range tl {
		if s.P99 > limit {
			over++
		}
		if s.P99 > worst.P99 {
			worst = s
		}
	}
	return over, worst
}

// showAttackProgress redraws a line every second on a terminal, or writes one
// every 5 s otherwise: elapsed time, requests, errors.
func showAttackProgress(w io.Writer, spec attackSpec, done, failed *atomic.Int64, stop <-chan struct{}) {
	tty := isTerminal(w)
	start := time.Now()
	t := time.NewTicker(time.Second)
	defer t.Stop()
	line := func() string {
		el := time.Since(start)
		return fmt.Sprintf("bench: %s at %s/s: %3.0fs of %s, %s requests, %s errors", spec.name, thousands(int64(spec.rate)),
			el.Seconds(), spec.duration, thousands(done.Load()), thousands(failed.Load()))
	}
	for n := 1; ; n++ {
		select {
		case <-stop:
			if tty {
				fmt.Fprintf(w, "\r%s\n", line())
			}
			return
		case <-t.C:
			switch {
			case tty:
				fmt.Fprintf(w, "\r%s", line())
			case n%5 == 0:
				fmt.Fprintln(w, line())
			}
		}
	}
}

// KindStats summarises the results of one request kind.
type KindStats struct {
	Kind         string         `json:"kind"`
	Requests     int            `json:"requests"`
	Successful   int            `json:"successful"`
	Throughput   float64        `json:"throughput"` // successful requests per second
	SuccessRatio float64        `json:"success_ratio"`
	Latency      LatencySummary `json:"latency_ms"`
	StatusCodes  map[string]int `json:"status_codes"` // "0": no HTTP answer (see errors)
	Errors       map[string]int `json:"errors,omitempty"`

	lat []time.Duration
}

// LatencySummary is a kind's latencies in milliseconds.
type LatencySummary struct {
	Mean float64 `json:"mean"`
	P50  float64 `json:"p50"`
	P95  float64 `json:"p95"`
	P99  float64 `json:"p99"`
	Max  float64 `json:"max"`
}

func newKindStats(k string) *KindStats {
	return &KindStats{Kind: k, StatusCodes: map[string]int{}, Errors: map[string]int{}}
}

func (s *KindStats) add(r *vegeta.Result) {
	s.Requests++
	s.lat = append(s.lat, r.Latency)
	s.StatusCodes[strconv.Itoa(int(r.Code))]++
	if r.Code >= 200 && r.Code <= 299 {
		s.Successful++
	} else if r.Code == 0 && len(s.Errors) < 10 {
		s.Errors[r.Error]++
	}
}

// finish computes the summary over a window of seconds.
func (s *KindStats) finish(window float64) *KindStats {
	slices.Sort(s.lat)
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	q := func(p float64) float64 {
		if len(s.lat) == 0 {
			return 0
		}
		i := int(float64(len(s.lat))*p+0.999999) - 1
		return ms(s.lat[min(max(i, 0), len(s.lat)-1)])
	}
	var sum time.Duration
	for _, d := range s.lat {
		sum += d
	}
	if n := len(s.lat); n > 0 {
		s.Latency = LatencySummary{Mean: ms(sum / time.Duration(n)), P50: q(0.50), P95: q(0.95), P99: q(0.99), Max: ms(s.lat[n-1])}
		s.SuccessRatio = float64(s.Successful) / float64(n)
	}
	if window > 0 {
		s.Throughput = float64(s.Successful) / window
	}
	s.lat = nil
	return s
}

// AttackResult is one attack's outcome.
type AttackResult struct {
	Name           string        `json:"name"`
	Rate           int           `json:"rate"`
	Duration       string        `json:"duration"`
	Connections    int           `json:"connections"`
	SentRate       float64       `json:"sent_rate"`       // requests per second actually sent
	ElapsedSeconds float64       `json:"elapsed_seconds"` // first request sent to last answer
	Kinds          []*KindStats  `json:"kinds"`
	Total          *KindStats    `json:"total"`
	Timeline       []SecondStats `json:"timeline"`
	// CPUPerOK is the bench process's CPU time (user and system, every
	// thread) over the attack, in µs per successful request. In process it
	// is server, load generator and background jobs together; it is what
	// the machine's cores are divided by, and it varies far less with other
	// load on a shared machine than latency and throughput do. Only in
	// process (ModeInProcess): elsewhere the server's CPU is not the bench's.
	CPUPerOK float64 `json:"cpu_us_per_ok,omitempty"`
}

package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime/pprof"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
	"golang.org/x/time/rate"

	"deling/internal/token"
)

const (
	// prepPersons is how many persons are looked up before the run to find uuids,
	// employers and a typical answer.
	prepPersons = 500
	// prepEmployers is how many employers' searches are paged through before the run.
	prepEmployers = 100
	// prepPages is how many pages of an employer's search the workload asks for at most.
	prepPages = 5
)

// Modes of a run, as the report names them.
const (
	ModeInProcess = "in-process" // a platform started by the benchmark on a loopback port
	ModeTarget    = "target"     // a running server; its consumers have rate limits
	ModeCluster   = "cluster"    // several `deling serve` processes on one PostgreSQL behind a load balancer
)

// Options shape the workload and its measurement; `deling bench` sets them from its flags.
type Options struct {
	Rate        int           // requests per second, all kinds together
	Duration    time.Duration // length of the run
	Connections int           // keep-alive connections at most, per target
	Timeout     time.Duration // request timeout
	Warmup      time.Duration // uncounted load before the run, to warm caches and connections
	Mix         Mix           // weights of the request kinds
	Baseline    bool          // also attack a bare net/http handler, and report the ratio
	CPUProfile  string        // file for a CPU profile of the main run, or ""
	// Max searches for the highest rate that holds MaxP99 and 99.9 % success:
	// doubling from MaxStart, then Bisect bisection steps, each Step long.
	Max      bool
	MaxStart int
	Bisect   int
	Step     time.Duration
	MaxP99   time.Duration
	// MetricsURL is the server's Prometheus endpoint (its own listener,
	// `deling serve --metrics-addr`); empty leaves the server's counts out.
	MetricsURL string
}

// Runner is one benchmark: it drives the workload against a platform it is
// given (in process or running elsewhere) and reports what it measured.
type Runner struct {
	Options
	Version  string       // the binary's version, for the report
	Log      *slog.Logger // token renewal failures
	Progress io.Writer    // progress and notes while it runs
	HTTP     *http.Client // for tokens, preparation and metrics
	// MetricsURLs are the nodes' Prometheus endpoints, summed;
	// empty uses Options.MetricsURL.
	MetricsURLs []string
	// Prepared, where not nil, runs after the preparation's lookups and
	// before the warm-up (deling bench --fill-log fills the log there).
	Prepared func(context.Context) error

	// The checks of a cluster run (a fixed rate, not Max), all optional:
	// Disruptions are done during the measured run; CheckRecords is given
	// the correlation ids answered 2xx, to find each one's record; RateLimit
	// > 0 reports the 2xx rate against it (one consumer driven above it).
	Disruptions  []Disruption
	CheckRecords func(ctx context.Context, answered map[string]struct{}) (*RecordCheck, error)
	RateLimit    int
	RateBlock    time.Duration // the nodes' serve --rate-block, for the rate check's report

	cpu bool // measure the process's CPU per answer (in process only)
}

// Run gets tokens for clients from the platform at base, prepares the
// workload from persons, runs it (fixed or Max), counts what the server
// logged, and runs the baseline, filling in rep. logSize, where not nil,
// counts the records in the lookup log.
func (b *Runner) Run(ctx context.Context, rep *Report, base string, clients []token.ClientFile, persons []string, logSize func(context.Context) (int64, error)) error {
	if len(persons) == 0 {
		return errors.New("bench: no persons to look up (is the register empty?)")
	}
	toks := &tokenSource{clients: clients, hc: b.HTTP, log: b.Log}
	tctx, stopTokens := context.WithCancel(ctx)
	defer stopTokens()
	waitTokens, err := toks.start(tctx)
	if err != nil {
		return err
	}
	defer waitTokens()
	defer stopTokens()

	// In process nothing throttles; a running server's consumers have rate limits.
	prepRate, lookups := rate.Inf, prepPersons
	switch {
	case b.RateLimit > 0: // below the limit, so that the run starts with the bucket full
		prepRate, lookups = rate.Limit(max(1, b.RateLimit/2)), min(prepPersons, b.RateLimit)
	case rep.Mode == ModeTarget:
		prepRate = rate.Limit(min(b.Rate, 100))
	}
	w, err := prepare(ctx, b.HTTP, base, toks, persons, b.Mix, prepRate, lookups)
	if err != nil {
		return err
	}
	rep.Sample = SampleInfo{Persons: len(w.persons), UUIDs: len(w.uuids), Employers: w.employers, SearchPages: len(w.searches)}
	fmt.Fprintf(b.Progress, "bench: %d consumers; looking up %s persons, %s uuids, %d employers (%d search pages); typical answer %s bytes\n",
		len(clients), thousands(int64(len(w.persons))), thousands(int64(len(w.uuids))), w.employers, len(w.searches), thousands(int64(len(w.typical))))

	if b.Prepared != nil {
		if err := b.Prepared(ctx); err != nil {
			return err
		}
	}
	// The bench process's CPU per answer is the server's only in process.
	b.cpu = rep.Mode == ModeInProcess
	spec := attackSpec{name: "api", targeter: w.targeter(base), classify: classifyAPI, kinds: w.kinds(),
		connections: b.Connections, timeout: b.Timeout, cpu: b.cpu}
	if b.Warmup > 0 {
		warm := spec
		warm.name, warm.rate, warm.duration = "warm-up", b.Rate, b.Warmup
		if b.Max {
			warm.rate = b.MaxStart
		}
		runAttack(ctx, warm, b.Progress)
	}
	metricsErr := errors.New("no metrics URL")
	var before apiCounts
	metrics := b.MetricsURLs
	if len(metrics) == 0 && b.MetricsURL != "" {
		metrics = []string{b.MetricsURL}
	}
	if len(metrics) > 0 {
		before, metricsErr = settledAPIRequests(ctx, b.HTTP, metrics)
	}
	var logBefore int64
	if logSize != nil {
		if logBefore, err = logSize(ctx); err != nil {
			return err
		}
	}
	if b.CPUProfile != "" {
		f, err := os.Create(b.CPUProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
	}
	obs := newObserver(b.Disruptions, b.CheckRecords != nil, b.RateLimit > 0)
	if !b.Max {
		spec.observe = obs.observe
	}
	obs.began = time.Now()
	waitDisruptions := obs.disrupt(ctx, b.Disruptions)
	rep.Result, rep.Max = b.measure(ctx, spec)
	waitDisruptions()
	if len(b.Disruptions) > 0 {
		rep.Disruptions = obs.finish()
	}
	if b.RateLimit > 0 {
		rep.RateCheck = obs.rateCheck(b.RateLimit, b.Duration)
		rep.RateCheck.RateBlock = b.RateBlock.String()
	}
	if b.CPUProfile != "" {
		pprof.StopCPUProfile()
		fmt.Fprintf(b.Progress, "bench: CPU profile of the main run (server and load generator in one process) in %s\n", b.CPUProfile)
	}
	if metricsErr == nil {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		after, err := settledAPIRequests(sctx, b.HTTP, metrics)
		if err == nil {
			rep.Server = &ServerInfo{APIRequests: after.api - before.api, LoggedEstimate: after.logged - before.logged}
			if logSize != nil {
				if n, err := logSize(sctx); err == nil {
					n -= logBefore
					rep.Server.AuditRecords = &n
				}
			}
		}
		cancel()
	}
	if b.CheckRecords != nil && !b.Max && ctx.Err() == nil {
		if rep.Records, err = b.CheckRecords(ctx, obs.answered); err != nil {
			return fmt.Errorf("checking every answer's record: %w", err)
		}
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if b.Baseline {
		bl, err := b.runBaseline(ctx, w)
		if err != nil {
			return err
		}
		rep.Baseline = bl
		// With --max the ratio is of the two highest passing rates' throughputs; none passing gives 0.
		if bl.Result != nil && bl.Result.Total.Throughput > 0 && (rep.Max == nil || rep.Max.MaxRate > 0) {
			bl.Ratio = rep.Result.Total.Throughput / bl.Result.Total.Throughput
		}
	}
	return ctx.Err()
}

// measure is the fixed-rate run, or with --max the rate search; it returns the
// result to report (with --max: of the highest passing rate).
func (b *Runner) measure(ctx context.Context, spec attackSpec) (*AttackResult, *MaxResult) {
	if !b.Max {
		spec.rate, spec.duration = b.Rate, b.Duration
		return runAttack(ctx, spec, b.Progress), nil
	}
	m := &MaxResult{Step: b.Step.String(), Criteria: fmt.Sprintf("success ≥ 99.9 %%, p99 ≤ %s, sent ≥ 95 %% of the rate", b.MaxP99)}
	var best, last *AttackResult
	step := func(perSec int) bool {
		spec.rate, spec.duration = perSec, b.Step
		r := runAttack(ctx, spec, b.Progress)
		last = r
		ok, why := b.passes(r)
		m.Steps = append(m.Steps, StepSummary{Rate: perSec, Pass: ok, Why: why, Throughput: r.Total.Throughput,
			SuccessRatio: r.Total.SuccessRatio, P99: r.Total.Latency.P99, SentRate: r.SentRate})
		verdict := "pass"
		if !ok {
			verdict = "fail: " + why
		}
		fmt.Fprintf(b.Progress, "bench: %s at %s/s for %s: %.0f ok/s, p99 %.2f ms, success %.3f%% — %s\n", spec.name, thousands(int64(perSec)), b.Step,
			r.Total.Throughput, r.Total.Latency.P99, 100*r.Total.SuccessRatio, verdict)
		if ok && (best == nil || r.Total.Throughput > best.Total.Throughput) {
			best, m.MaxRate = r, perSec
		}
		if ctx.Err() == nil {
			time.Sleep(time.Second) // let queues drain between steps
		}
		return ok
	}
	lo, hi := 0, 0
	for perSec := b.MaxStart; ctx.Err() == nil; perSec *= 2 {
		if !step(perSec) {
			hi = perSec
			break
		}
		lo = perSec
		if perSec >= 1<<20 {
			break
		}
	}
	for i := 0; i < b.Bisect && hi > 0 && hi-lo > max(lo/50, 10) && ctx.Err() == nil; i++ {
		mid := (lo + hi) / 2
		if step(mid) {
			lo = mid
		} else {
			hi = mid
		}
	}
	if best == nil {
		best = last
	}
	return best, m
}

// passes is --max's criterion for a step.
func (b *Runner) passes(r *AttackResult) (bool, string) {
	switch {
	case r.Total.SuccessRatio < 0.999:
		return false, fmt.Sprintf("success %.3f %%", 100*r.Total.SuccessRatio)
	case r.Total.Latency.P99 > float64(b.MaxP99)/float64(time.Millisecond):
		return false, fmt.Sprintf("p99 %.2f ms", r.Total.Latency.P99)
	case r.SentRate < 0.95*float64(r.Rate):
		return false, fmt.Sprintf("sent only %.0f/s", r.SentRate)
	}
	return true, ""
}

// runBaseline attacks a bare net/http handler that answers every request with
// the same bytes as a typical person lookup, over the same kind of requests.
func (b *Runner) runBaseline(ctx context.Context, w *workload) (*BaselineReport, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	body := w.typical
	hs := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		rw.Header().Set("Content-Type", "application/json")
		rw.Header().Set("Cache-Control", "no-store")
		rw.Write(body)
	})}
	go hs.Serve(ln)
	defer hs.Close()
	base := "http://" + ln.Addr().String()
	fmt.Fprintf(b.Progress, "bench: baseline: a bare net/http handler on %s answering %s fixed bytes\n", base, thousands(int64(len(body))))
	spec := attackSpec{name: KindBaseline, targeter: w.baselineTargeter(base), classify: func(*vegeta.Result) string { return KindBaseline },
		kinds: []string{KindBaseline}, connections: b.Connections, timeout: b.Timeout, cpu: b.cpu}
	if b.Warmup > 0 {
		warm := spec
		warm.name, warm.rate, warm.duration = "baseline warm-up", b.Rate, b.Warmup
		runAttack(ctx, warm, b.Progress)
	}
	res, m := b.measure(ctx, spec)
	return &BaselineReport{BodyBytes: len(body), Result: res, Max: m}, nil
}

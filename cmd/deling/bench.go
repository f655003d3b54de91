package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	vegeta "github.com/tsenart/vegeta/v12/lib"
	"golang.org/x/sync/errgroup"
	"golang.org/x/time/rate"

	"deling/internal/access"
	"deling/internal/ident"
	"deling/internal/job"
	"deling/internal/register"
	"deling/internal/store"
	"deling/internal/token"
	"deling/internal/web"
)

// The request kinds of the bench workload.
const (
	kindPerson   = "person"   // GET /api/v2/arbeidstaker/arbeidsforhold
	kindSearch   = "search"   // POST /api/v2/arbeidsforhold/sok by arbeidssted
	kindUUID     = "uuid"     // GET /api/v2/arbeidsforhold/{uuid}
	kindBaseline = "baseline" // the bare net/http handler
)

var benchKinds = []string{kindPerson, kindSearch, kindUUID}

const (
	// benchOrgBase numbers the bench consumers' synthetic orgnrs: 9,200,000 + i.
	benchOrgBase = 9_200_000
	// benchRateLimit is the bench grants' rate limit: high enough never to throttle.
	benchRateLimit = 1_000_000
	// prepPersons is how many persons are looked up before the run to find uuids,
	// employers and a typical answer.
	prepPersons = 500
	// prepEmployers is how many employers' searches are paged through before the run.
	prepEmployers = 100
	// prepPages is how many pages of an employer's search the workload asks for at most.
	prepPages = 5
)

// benchMix is the --mix flag: weights of the request kinds.
type benchMix map[string]int

func (m benchMix) String() string {
	var parts []string
	for _, k := range benchKinds {
		if m[k] > 0 {
			parts = append(parts, fmt.Sprintf("%s=%d", k, m[k]))
		}
	}
	return strings.Join(parts, ",")
}

func (m benchMix) Set(v string) error {
	clear(m)
	sum := 0
	for _, part := range strings.Split(v, ",") {
		k, w, ok := strings.Cut(strings.TrimSpace(part), "=")
		n, err := strconv.Atoi(w)
		if !ok || err != nil || n < 0 || !slices.Contains(benchKinds, k) {
			return fmt.Errorf("want kind=weight,… with kinds %s, got %q", strings.Join(benchKinds, ", "), part)
		}
		m[k] = n
		sum += n
	}
	if sum == 0 {
		return errors.New("no request kind has a weight above 0")
	}
	return nil
}

func (m benchMix) total() int {
	t := 0
	for _, w := range m {
		t += w
	}
	return t
}

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

type benchOptions struct {
	persons, rate, consumers, sample int
	duration, timeout                time.Duration
	connections                      int
	mix                              benchMix
	target, personsFile, jsonFile    string
	clients                          stringList
	baseline                         bool
	cpuprofile                       string
	max                              bool
	maxStart, bisect                 int
	step, maxP99, warmup             time.Duration
}

const benchSynopsis = `bench [--persons 100000] [--rate 2000] [--duration 30s] [--consumers 4]
             [--mix person=80,search=10,uuid=10] [--max [--step 5s] [--max-p99 10ms]]
             [--warmup 0s] [--target URL --client FILE …] [--json FILE] [--baseline=true] [--cpuprofile FILE]`

// runBench is `deling bench`: a fixed-rate (or, with --max, rate-stepping)
// mixed workload against an in-process platform or a running server, with
// real tokens, reported per request kind beside a bare net/http baseline.
func runBench(ctx context.Context, g *globals, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlagSet("bench", benchSynopsis, g, stderr)
	o := benchOptions{mix: benchMix{kindPerson: 80, kindSearch: 10, kindUUID: 10}}
	fs.IntVar(&o.persons, "persons", 100_000, "persons the register must hold; a smaller register is seeded up to this size (in-process only)")
	fs.IntVar(&o.rate, "rate", 2000, "requests per second, all kinds together")
	fs.DurationVar(&o.duration, "duration", 30*time.Second, "length of the run")
	fs.IntVar(&o.consumers, "consumers", 4, "bench consumers (each with a grant, a client and its own token), used round-robin")
	fs.Var(o.mix, "mix", "weights of the request kinds: person (lookup by Nav-Personident), search (employer search, paged), uuid (one arbeidsforhold)")
	fs.IntVar(&o.sample, "sample", 10_000, "persons sampled from the register to look up")
	fs.IntVar(&o.connections, "connections", 64, "keep-alive connections at most, per target")
	fs.DurationVar(&o.timeout, "timeout", 10*time.Second, "request timeout")
	fs.DurationVar(&o.warmup, "warmup", 0, "run the workload this long before measuring, uncounted (warms caches and connections)")
	fs.StringVar(&o.target, "target", "", "benchmark a running server at this base URL instead of an in-process one (needs --client)")
	fs.Var(&o.clients, "client", "client file of a consumer of the --target server (repeatable)")
	fs.StringVar(&o.personsFile, "persons-file", "", "with --target and no local register: identities to look up, one a line")
	fs.StringVar(&o.jsonFile, "json", "", "also write the report as JSON to this file")
	fs.BoolVar(&o.baseline, "baseline", true, "also attack a bare net/http handler serving a fixed JSON body, and print the ratio")
	fs.StringVar(&o.cpuprofile, "cpuprofile", "", "write a CPU profile of the main run (server and load generator share the process)")
	fs.BoolVar(&o.max, "max", false, "find the highest rate that holds --max-p99 and 99.9 % success: double from --max-start, then bisect")
	fs.IntVar(&o.maxStart, "max-start", 1000, "--max: first rate tried")
	fs.IntVar(&o.bisect, "max-bisect", 3, "--max: bisection steps after the first failing rate")
	fs.DurationVar(&o.step, "step", 5*time.Second, "--max: length of each step")
	fs.DurationVar(&o.maxP99, "max-p99", 10*time.Millisecond, "--max: the p99 latency a rate must keep to pass")
	if err := parse(fs, args); err != nil {
		return err
	}
	switch {
	case fs.NArg() > 0:
		return fmt.Errorf("bench: unexpected argument %q", fs.Arg(0))
	case o.rate <= 0 || o.duration <= 0 || o.connections <= 0 || o.sample <= 0 || o.step <= 0 || o.maxStart <= 0:
		return errors.New("bench: --rate, --duration, --connections, --sample, --step and --max-start must be positive")
	case o.target == "" && (o.consumers <= 0 || o.consumers > 1000):
		return errors.New("bench: --consumers must be from 1 to 1000")
	case o.target != "" && len(o.clients) == 0:
		return errors.New("bench: --target needs at least one --client FILE")
	case o.target == "" && len(o.clients) > 0:
		return errors.New("bench: --client goes with --target")
	}
	env, err := g.environment()
	if err != nil {
		return err
	}
	log, err := g.logger(stderr)
	if err != nil {
		return err
	}
	b := &bench{g: g, o: o, env: env, log: log, getenv: getenv, stdout: stdout, stderr: stderr,
		hc: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 16}}}
	defer b.hc.CloseIdleConnections()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var rep *benchReport
	if o.target != "" {
		rep, err = b.runTarget(ctx)
	} else {
		if env == register.EnvProd {
			return errors.New("bench is refused with --env prod: it seeds synthetic persons and adds bench consumers; use --target against a running server")
		}
		rep, err = b.runInProcess(ctx)
	}
	if rep != nil && rep.Result != nil {
		b.print(rep)
		if o.jsonFile != "" {
			if werr := writeJSONFile(o.jsonFile, rep); werr != nil && err == nil {
				err = werr
			}
		}
	}
	return err
}

// bench is one invocation of `deling bench`.
type bench struct {
	g              *globals
	o              benchOptions
	env            register.Env
	log            *slog.Logger
	getenv         func(string) string
	stdout, stderr io.Writer
	hc             *http.Client // for tokens, preparation and metrics
}

// runInProcess seeds if needed, sets up the bench consumers, starts the
// platform on a loopback port and runs the workload against it.
func (b *bench) runInProcess(ctx context.Context) (*benchReport, error) {
	db, err := b.g.open(ctx)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	counts, err := db.Count(ctx)
	if err != nil {
		return nil, err
	}
	if counts.Persons < int64(b.o.persons) {
		fmt.Fprintf(b.stderr, "bench: the register in %s holds %s persons; seeding it up to %s\n", b.g.where(), thousands(counts.Persons), thousands(int64(b.o.persons)))
		today := register.Date(time.Now().Format(time.DateOnly))
		if _, err := seedPopulation(ctx, db, register.PopulationConfig{Persons: b.o.persons, Seed: 1, AsOf: today}, b.stderr); err != nil {
			return nil, err
		}
		if counts, err = db.Count(ctx); err != nil {
			return nil, err
		}
	}
	clients, err := ensureBenchConsumers(ctx, db, b.o.consumers, filepath.Join(b.g.data, "bench-clients"))
	if err != nil {
		return nil, fmt.Errorf("bench consumers: %w", err)
	}
	persons, err := samplePersons(ctx, db, b.o.sample)
	if err != nil {
		return nil, err
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	base := "http://" + ln.Addr().String()
	po := platformOptions{issuer: base + "/", rateBlockFor: time.Minute, tokenLifetime: 120 * time.Second}
	srvCtx, stopSrv := context.WithCancel(context.WithoutCancel(ctx))
	defer stopSrv()
	p, err := buildPlatform(srvCtx, db, b.env, b.log, prometheus.NewRegistry(), po, b.getenv, b.g.data)
	if err != nil {
		ln.Close()
		return nil, err
	}
	waitJobs := job.Start(srvCtx, b.log, p.jobs...)
	defer waitJobs()
	defer stopSrv()
	hs := &http.Server{Handler: p.handler, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute,
		ErrorLog: slog.NewLogLogger(b.log.Handler(), slog.LevelWarn)}
	go hs.Serve(ln)
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		hs.Shutdown(sctx)
	}()
	for i := range clients {
		clients[i].TokenEndpoint, clients[i].Audience, clients[i].Scope = base+"/token", base+"/", web.DefaultAPIScope
	}

	rep := b.newReport("in-process", base)
	rep.Register = &registerInfo{Persons: counts.Persons, Organisations: counts.Organisations, Arbeidsforhold: counts.Arbeidsforhold, Where: b.g.where()}
	logBefore, err := db.LogSize(ctx)
	if err != nil {
		return nil, err
	}
	rep.Register.AuditRecords = int64(logBefore)
	fmt.Fprintf(b.stderr, "bench: register of %s persons and %s arbeidsforhold in %s; platform on %s\n",
		thousands(counts.Persons), thousands(counts.Arbeidsforhold), b.g.where(), base)
	logSize := func(ctx context.Context) (int64, error) {
		n, err := db.LogSize(ctx)
		return int64(n), err
	}
	return rep, b.attackAll(ctx, rep, base, clients, persons, logSize)
}

// runTarget benchmarks a running server with the consumers' client files.
func (b *bench) runTarget(ctx context.Context) (*benchReport, error) {
	base := strings.TrimRight(b.o.target, "/")
	var clients []token.ClientFile
	for _, f := range b.o.clients {
		cf, err := token.LoadClientFile(f)
		if err != nil {
			return nil, err
		}
		clients = append(clients, cf)
	}
	var persons []string
	switch {
	case b.o.personsFile != "":
		var err error
		if persons, err = readLines(b.o.personsFile); err != nil {
			return nil, err
		}
	case b.g.db != "" || fileExists(filepath.Join(b.g.data, "register.db")):
		db, err := b.g.open(ctx)
		if err != nil {
			return nil, err
		}
		persons, err = samplePersons(ctx, db, b.o.sample)
		db.Close()
		if err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("bench: no register in %s to take persons from: give --persons-file", b.g.data)
	}
	rep := b.newReport("target", base)
	return rep, b.attackAll(ctx, rep, base, clients, persons, nil)
}

// attackAll gets tokens, prepares the workload, runs it (fixed or --max),
// counts what the server logged, and runs the baseline.
// logSize, where not nil, counts the records in the lookup log.
func (b *bench) attackAll(ctx context.Context, rep *benchReport, base string, clients []token.ClientFile, persons []string, logSize func(context.Context) (int64, error)) error {
	if len(persons) == 0 {
		return errors.New("bench: no persons to look up (is the register empty?)")
	}
	toks := &tokenSource{clients: clients, hc: b.hc, log: b.log}
	tctx, stopTokens := context.WithCancel(ctx)
	defer stopTokens()
	waitTokens, err := toks.start(tctx)
	if err != nil {
		return err
	}
	defer waitTokens()
	defer stopTokens()

	// In process nothing throttles; a running server's consumers have rate limits.
	prepRate := rate.Inf
	if b.o.target != "" {
		prepRate = rate.Limit(min(b.o.rate, 100))
	}
	w, err := prepare(ctx, b.hc, base, toks, persons, b.o.mix, prepRate)
	if err != nil {
		return err
	}
	rep.Sample = sampleInfo{Persons: len(w.persons), UUIDs: len(w.uuids), Employers: w.employers, SearchPages: len(w.searches)}
	fmt.Fprintf(b.stderr, "bench: %d consumers; looking up %s persons, %s uuids, %d employers (%d search pages); typical answer %s bytes\n",
		len(clients), thousands(int64(len(w.persons))), thousands(int64(len(w.uuids))), w.employers, len(w.searches), thousands(int64(len(w.typical))))

	spec := attackSpec{name: "api", targeter: w.targeter(base), classify: classifyAPI, kinds: w.kinds(),
		connections: b.o.connections, timeout: b.o.timeout}
	if b.o.warmup > 0 {
		warm := spec
		warm.name, warm.rate, warm.duration = "warm-up", b.o.rate, b.o.warmup
		if b.o.max {
			warm.rate = b.o.maxStart
		}
		runAttack(ctx, warm, b.stderr)
	}
	before, metricsErr := scrapeAPIRequests(ctx, b.hc, base)
	var logBefore int64
	if logSize != nil {
		if logBefore, err = logSize(ctx); err != nil {
			return err
		}
	}
	if b.o.cpuprofile != "" {
		f, err := os.Create(b.o.cpuprofile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
	}
	rep.Result, rep.Max = b.run(ctx, spec)
	if b.o.cpuprofile != "" {
		pprof.StopCPUProfile()
		fmt.Fprintf(b.stderr, "bench: CPU profile of the main run (server and load generator in one process) in %s\n", b.o.cpuprofile)
	}
	if metricsErr == nil {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		after, err := scrapeAPIRequests(sctx, b.hc, base)
		if err == nil {
			rep.Server = &serverInfo{APIRequests: after.api - before.api, LoggedEstimate: after.logged - before.logged}
			if logSize != nil {
				if n, err := logSize(sctx); err == nil {
					n -= logBefore
					rep.Server.AuditRecords = &n
				}
			}
		}
		cancel()
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if b.o.baseline {
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

// run is the fixed-rate run, or with --max the rate search; it returns the
// result to report (with --max: of the highest passing rate).
func (b *bench) run(ctx context.Context, spec attackSpec) (*attackResult, *maxResult) {
	if !b.o.max {
		spec.rate, spec.duration = b.o.rate, b.o.duration
		return runAttack(ctx, spec, b.stderr), nil
	}
	m := &maxResult{Step: b.o.step.String(), Criteria: fmt.Sprintf("success ≥ 99.9 %%, p99 ≤ %s, sent ≥ 95 %% of the rate", b.o.maxP99)}
	var best, last *attackResult
	step := func(perSec int) bool {
		spec.rate, spec.duration = perSec, b.o.step
		r := runAttack(ctx, spec, b.stderr)
		last = r
		ok, why := b.passes(r)
		m.Steps = append(m.Steps, stepSummary{Rate: perSec, Pass: ok, Why: why, Throughput: r.Total.Throughput,
			SuccessRatio: r.Total.SuccessRatio, P99: r.Total.Latency.P99, SentRate: r.SentRate})
		verdict := "pass"
		if !ok {
			verdict = "fail: " + why
		}
		fmt.Fprintf(b.stderr, "bench: %s at %s/s for %s: %.0f ok/s, p99 %.2f ms, success %.3f%% — %s\n", spec.name, thousands(int64(perSec)), b.o.step,
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
	for perSec := b.o.maxStart; ctx.Err() == nil; perSec *= 2 {
		if !step(perSec) {
			hi = perSec
			break
		}
		lo = perSec
		if perSec >= 1<<20 {
			break
		}
	}
	for i := 0; i < b.o.bisect && hi > 0 && hi-lo > max(lo/50, 10) && ctx.Err() == nil; i++ {
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
func (b *bench) passes(r *attackResult) (bool, string) {
	switch {
	case r.Total.SuccessRatio < 0.999:
		return false, fmt.Sprintf("success %.3f %%", 100*r.Total.SuccessRatio)
	case r.Total.Latency.P99 > float64(b.o.maxP99)/float64(time.Millisecond):
		return false, fmt.Sprintf("p99 %.2f ms", r.Total.Latency.P99)
	case r.SentRate < 0.95*float64(r.Rate):
		return false, fmt.Sprintf("sent only %.0f/s", r.SentRate)
	}
	return true, ""
}

// runBaseline attacks a bare net/http handler that answers every request with
// the same bytes as a typical person lookup, over the same kind of requests.
func (b *bench) runBaseline(ctx context.Context, w *workload) (*baselineReport, error) {
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
	fmt.Fprintf(b.stderr, "bench: baseline: a bare net/http handler on %s answering %s fixed bytes\n", base, thousands(int64(len(body))))
	spec := attackSpec{name: kindBaseline, targeter: w.baselineTargeter(base), classify: func(*vegeta.Result) string { return kindBaseline },
		kinds: []string{kindBaseline}, connections: b.o.connections, timeout: b.o.timeout}
	if b.o.warmup > 0 {
		warm := spec
		warm.name, warm.rate, warm.duration = "baseline warm-up", b.o.rate, b.o.warmup
		runAttack(ctx, warm, b.stderr)
	}
	res, m := b.run(ctx, spec)
	return &baselineReport{BodyBytes: len(body), Result: res, Max: m}, nil
}

// ensureBenchConsumers makes (once) the bench consumers, each with an API
// grant that does not throttle and a client whose key file is kept in dir.
func ensureBenchConsumers(ctx context.Context, db *store.DB, n int, dir string) ([]token.ClientFile, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	kinds := []access.QueryKind{access.ByArbeidstaker, access.ByArbeidssted, access.ByOpplysningspliktig}
	packages := []string{"grunnopplysninger@1", "stillingsdetaljer@1"}
	var out []token.ClientFile
	for i := 0; i < n; i++ {
		orgnr := string(ident.SyntheticOrgnr(benchOrgBase + i))
		c, err := db.Consumer(ctx, orgnr)
		switch {
		case errors.Is(err, store.ErrNotFound) || (err == nil && c.Status != access.Active):
			if err := db.UpsertConsumer(ctx, access.Consumer{Orgnr: orgnr, Navn: fmt.Sprintf("deling bench %d", i+1), Status: access.Active}, "bench"); err != nil {
				return nil, err
			}
		case err != nil:
			return nil, err
		}
		grants, err := db.Grants(ctx, orgnr)
		if err != nil {
			return nil, err
		}
		if !slices.ContainsFunc(grants, func(gr access.Grant) bool {
			return gr.Channel == access.ChannelAPI && gr.Env == register.EnvTest && gr.ActiveAt(time.Now()) && gr.RateLimit >= benchRateLimit &&
				!slices.ContainsFunc(kinds, func(k access.QueryKind) bool { return !slices.Contains(gr.QueryKinds, k) })
		}) {
			if _, err := db.AddGrant(ctx, access.Grant{Consumer: orgnr, Packages: packages, Channel: access.ChannelAPI, Env: register.EnvTest,
				LegalBasis: "Aa-registerforskriften § 10", ProcessingBasis: "GDPR art. 6 nr. 1 bokstav e", Purpose: "Ytelsestest (deling bench)",
				QueryKinds: kinds, ValidFrom: time.Now().Add(-time.Minute), RateLimit: benchRateLimit, Status: access.Active}, "bench"); err != nil {
				return nil, err
			}
		}
		cf, err := benchClient(ctx, db, filepath.Join(dir, fmt.Sprintf("bench-%d.json", i+1)), orgnr, fmt.Sprintf("bench-%d", i+1))
		if err != nil {
			return nil, err
		}
		out = append(out, cf)
	}
	return out, nil
}

// benchClient keeps a bench client's key file across runs, registering the client the first time.
func benchClient(ctx context.Context, db *store.DB, file, orgnr, id string) (token.ClientFile, error) {
	cf, err := keptClient(ctx, db, file, orgnr, id, "ES256", "deling bench client", "bench")
	if err != nil {
		return cf, err
	}
	// The endpoint changes with every run's port; the file keeps the key.
	cf.TokenEndpoint, cf.Audience, cf.Scope = "http://127.0.0.1/token", "http://127.0.0.1/", web.DefaultAPIScope
	return cf, cf.Write(file)
}

// samplePersons takes up to n screened employees from 16 points spread over
// the register's uuid order, without repeats.
func samplePersons(ctx context.Context, db *store.DB, n int) ([]string, error) {
	const points = 16
	seen := make(map[string]bool)
	var out []string
	for i := 0; i < points; i++ {
		ids, err := db.SampleArbeidstakere(ctx, strconv.FormatInt(int64(i), 16), (n+points-1)/points)
		if err != nil {
			return nil, err
		}
		for _, id := range ids {
			if !seen[id] && len(out) < n {
				seen[id] = true
				out = append(out, id)
			}
		}
	}
	return out, nil
}

// tokenSource holds one access token per client, renewed at half their lifetime.
type tokenSource struct {
	clients []token.ClientFile
	hc      *http.Client
	log     *slog.Logger
	toks    []atomic.Pointer[string]
	next    atomic.Uint64
}

// start gets every client's first token and renews them until ctx ends; wait waits for the renewers.
func (ts *tokenSource) start(ctx context.Context) (wait func(), err error) {
	ts.toks = make([]atomic.Pointer[string], len(ts.clients))
	for i, c := range ts.clients {
		t, err := c.RequestToken(ctx, ts.hc)
		if err != nil {
			return nil, fmt.Errorf("token for client %s: %w", c.ClientID, err)
		}
		ts.toks[i].Store(&t)
	}
	var wg sync.WaitGroup
	for i := range ts.clients {
		wg.Go(func() { ts.renew(ctx, i) })
	}
	return wg.Wait, nil
}

func (ts *tokenSource) renew(ctx context.Context, i int) {
	for {
		wait := time.Until(tokenExpiry(*ts.toks[i].Load())) / 2
		select {
		case <-ctx.Done():
			return
		case <-time.After(max(wait, time.Second)):
		}
		t, err := ts.clients[i].RequestToken(ctx, ts.hc)
		if err != nil {
			if ctx.Err() == nil {
				ts.log.Warn("bench: renewing a token failed; trying again", "client", ts.clients[i].ClientID, "err", err)
			}
			continue
		}
		ts.toks[i].Store(&t)
	}
}

// token is the next token, round-robin over the clients.
func (ts *tokenSource) token() string {
	return *ts.toks[(ts.next.Add(1)-1)%uint64(len(ts.toks))].Load()
}

// tokenExpiry reads a JWT's exp without checking it (the server does that);
// an unreadable token counts as living a minute.
func tokenExpiry(raw string) time.Time {
	parts := strings.Split(raw, ".")
	if len(parts) == 3 {
		if b, err := base64.RawURLEncoding.DecodeString(parts[1]); err == nil {
			var c struct {
				Exp int64 `json:"exp"`
			}
			if json.Unmarshal(b, &c) == nil && c.Exp > 0 {
				return time.Unix(c.Exp, 0)
			}
		}
	}
	return time.Now().Add(time.Minute)
}

// workload is what the targeter draws requests from.
type workload struct {
	mix       benchMix
	total     int
	toks      *tokenSource
	persons   []string
	uuids     []string
	searches  [][]byte // request bodies: an employer's first or a later page
	employers int
	typical   []byte // a typical person-lookup answer, for the baseline
}

// prepare looks up some persons over the API to find uuids, employers and a
// typical answer, and pages through some employers' searches to get page
// tokens; at most perSecond requests a second (a running server's consumers
// have rate limits). A failed request is skipped; only a preparation that got
// nothing fails.
func prepare(ctx context.Context, hc *http.Client, base string, toks *tokenSource, persons []string, mix benchMix, perSecond rate.Limit) (*workload, error) {
	w := &workload{mix: mix, total: mix.total(), toks: toks, persons: persons}
	type record struct {
		UUID        string `json:"uuid"`
		Arbeidssted struct {
			Type    string `json:"type"`
			Identer []struct {
				Ident string `json:"ident"`
			} `json:"identer"`
		} `json:"arbeidssted"`
	}
	var (
		mu        sync.Mutex
		bodies    [][]byte
		employers []string
		seenOrg   = map[string]bool{}
		firstErr  error
	)
	lim := rate.NewLimiter(perSecond, 1)
	fail := func(err error) {
		mu.Lock()
		defer mu.Unlock()
		if firstErr == nil {
			firstErr = err
		}
	}
	n := min(prepPersons, len(persons))
	var grp errgroup.Group
	grp.SetLimit(8)
	for i := 0; i < n; i++ {
		p := persons[i*len(persons)/n]
		grp.Go(func() error {
			if err := lim.Wait(ctx); err != nil {
				return err
			}
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/v2/arbeidstaker/arbeidsforhold", nil)
			req.Header.Set("Authorization", "Bearer "+toks.token())
			req.Header.Set("Nav-Personident", p)
			body, err := doRequest(hc, req)
			var recs []record
			if err == nil {
				err = json.Unmarshal(body, &recs)
			}
			if err != nil {
				fail(fmt.Errorf("a person lookup: %w", err))
				return nil
			}
			mu.Lock()
			defer mu.Unlock()
			bodies = append(bodies, body)
			for _, r := range recs {
				if r.UUID != "" {
					w.uuids = append(w.uuids, r.UUID)
				}
				if r.Arbeidssted.Type == register.EnhetUnderenhet && len(r.Arbeidssted.Identer) > 0 {
					if org := r.Arbeidssted.Identer[0].Ident; !seenOrg[org] {
						seenOrg[org] = true
						employers = append(employers, org)
					}
				}
			}
			return nil
		})
	}
	if err := grp.Wait(); err != nil {
		return nil, err
	}
	if len(bodies) == 0 {
		return nil, fmt.Errorf("bench: preparing, no person lookup succeeded; the first failure: %w", firstErr)
	}
	sort.Slice(bodies, func(i, j int) bool { return len(bodies[i]) < len(bodies[j]) })
	w.typical = bodies[len(bodies)/2]

	// Searches: page through up to prepEmployers employers, prepPages pages each.
	if mix[kindSearch] > 0 {
		employers = employers[:min(len(employers), prepEmployers)]
		w.employers = len(employers)
		for _, org := range employers {
			grp.Go(func() error {
				side := ""
				for page := 0; page < prepPages; page++ {
					if err := lim.Wait(ctx); err != nil {
						return err
					}
					reqBody := searchBody(org, side)
					req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+"/api/v2/arbeidsforhold/sok", bytes.NewReader(reqBody))
					req.Header.Set("Authorization", "Bearer "+toks.token())
					req.Header.Set("Content-Type", "application/json")
					body, err := doRequest(hc, req)
					var ans struct {
						NesteSide string `json:"nesteSide"`
					}
					if err == nil {
						err = json.Unmarshal(body, &ans)
					}
					if err != nil {
						fail(fmt.Errorf("an employer search: %w", err))
						return nil
					}
					mu.Lock()
					w.searches = append(w.searches, reqBody)
					mu.Unlock()
					if side = ans.NesteSide; side == "" {
						break
					}
				}
				return nil
			})
		}
		if err := grp.Wait(); err != nil {
			return nil, err
		}
	}
	switch {
	case mix[kindUUID] > 0 && len(w.uuids) == 0:
		return nil, errors.New("bench: the sampled persons' answers hold no uuids to look up")
	case mix[kindSearch] > 0 && len(w.searches) == 0:
		return nil, fmt.Errorf("bench: no employer search succeeded (%d employers found); the first failure: %v", len(employers), firstErr)
	}
	return w, nil
}

// searchBody is an employer search: every type, regime and status, pages of 100.
func searchBody(org, side string) []byte {
	b, _ := json.Marshal(map[string]any{
		"arbeidsstedId":        org,
		"arbeidsforholdtype":   []string{register.TypeOrdinaer, register.TypeMaritim, register.TypeForenklet, register.TypeFrilanser},
		"rapporteringsordning": []string{register.AOrdningen, register.FoerAOrdningen},
		"arbeidsforholdstatus": []register.Status{register.StatusAktiv, register.StatusAvsluttet, register.StatusFremtidig},
		"sidestoerrelse":       100,
		"side":                 side,
	})
	return b
}

func doRequest(hc *http.Client, req *http.Request) ([]byte, error) {
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: %s", resp.Status, bytes.TrimSpace(body[:min(len(body), 300)]))
	}
	return body, nil
}

// kinds are the request kinds with a weight, in report order.
func (w *workload) kinds() []string {
	var out []string
	for _, k := range benchKinds {
		if w.mix[k] > 0 {
			out = append(out, k)
		}
	}
	return out
}

// targeter builds each request: a kind drawn by the mix, the next consumer's token.
func (w *workload) targeter(base string) vegeta.Targeter {
	return func(t *vegeta.Target) error {
		h := http.Header{"Authorization": {"Bearer " + w.toks.token()}}
		n := rand.IntN(w.total)
		switch {
		case n < w.mix[kindPerson]:
			t.Method, t.URL = http.MethodGet, base+"/api/v2/arbeidstaker/arbeidsforhold"
			h.Set("Nav-Personident", w.persons[rand.IntN(len(w.persons))])
		case n < w.mix[kindPerson]+w.mix[kindSearch]:
			t.Method, t.URL, t.Body = http.MethodPost, base+"/api/v2/arbeidsforhold/sok", w.searches[rand.IntN(len(w.searches))]
			h.Set("Content-Type", "application/json")
		default:
			t.Method, t.URL = http.MethodGet, base+"/api/v2/arbeidsforhold/"+w.uuids[rand.IntN(len(w.uuids))]
		}
		t.Header = h
		return nil
	}
}

// baselineTargeter sends person-lookup requests to the bare handler.
func (w *workload) baselineTargeter(base string) vegeta.Targeter {
	return func(t *vegeta.Target) error {
		t.Method, t.URL = http.MethodGet, base+"/api/v2/arbeidstaker/arbeidsforhold"
		t.Header = http.Header{"Authorization": {"Bearer " + w.toks.token()}, "Nav-Personident": {w.persons[rand.IntN(len(w.persons))]}}
		return nil
	}
}

// classifyAPI names a result's request kind from its method and URL.
func classifyAPI(r *vegeta.Result) string {
	switch {
	case r.Method == http.MethodPost:
		return kindSearch
	case strings.HasSuffix(r.URL, "/arbeidstaker/arbeidsforhold"):
		return kindPerson
	}
	return kindUUID
}

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
}

// runAttack runs one fixed-rate attack, showing progress, until its duration
// is over or ctx ends, and summarises it.
func runAttack(ctx context.Context, spec attackSpec, progressOut io.Writer) *attackResult {
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
	stats := map[string]*kindStats{}
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
		secs                      []*kindStats // by the second the request was sent in
	)
	began := time.Now()
	for r := range atk.Attack(spec.targeter, vegeta.ConstantPacer{Freq: spec.rate, Per: time.Second}, spec.duration, spec.name) {
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
	close(stop)
	wg.Wait()

	res := &attackResult{Name: spec.name, Rate: spec.rate, Duration: spec.duration.String(), Connections: spec.connections}
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
		res.Timeline = append(res.Timeline, secondStats{Second: i, Requests: s.Requests, Successful: s.Successful,
			P50: s.Latency.P50, P99: s.Latency.P99, Max: s.Latency.Max})
	}
	return res
}

// secondStats is one second of an attack, by when the requests were sent: stalls show here.
type secondStats struct {
	Second     int     `json:"second"`
	Requests   int     `json:"requests"`
	Successful int     `json:"successful"`
	P50        float64 `json:"p50_ms"`
	P99        float64 `json:"p99_ms"`
	Max        float64 `json:"max_ms"`
}

// worstSeconds says how many seconds had a p99 over limit (ms), and which second was worst.
func worstSeconds(tl []secondStats, limit float64) (over int, worst secondStats) {
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

// kindStats summarises the results of one request kind.
type kindStats struct {
	Kind         string         `json:"kind"`
	Requests     int            `json:"requests"`
	Successful   int            `json:"successful"`
	Throughput   float64        `json:"throughput"` // successful requests per second
	SuccessRatio float64        `json:"success_ratio"`
	Latency      latencySummary `json:"latency_ms"`
	StatusCodes  map[string]int `json:"status_codes"` // "0": no HTTP answer (see errors)
	Errors       map[string]int `json:"errors,omitempty"`

	lat []time.Duration
}

type latencySummary struct {
	Mean float64 `json:"mean"`
	P50  float64 `json:"p50"`
	P95  float64 `json:"p95"`
	P99  float64 `json:"p99"`
	Max  float64 `json:"max"`
}

func newKindStats(k string) *kindStats {
	return &kindStats{Kind: k, StatusCodes: map[string]int{}, Errors: map[string]int{}}
}

func (s *kindStats) add(r *vegeta.Result) {
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
func (s *kindStats) finish(window float64) *kindStats {
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
		s.Latency = latencySummary{Mean: ms(sum / time.Duration(n)), P50: q(0.50), P95: q(0.95), P99: q(0.99), Max: ms(s.lat[n-1])}
		s.SuccessRatio = float64(s.Successful) / float64(n)
	}
	if window > 0 {
		s.Throughput = float64(s.Successful) / window
	}
	s.lat = nil
	return s
}

// attackResult is one attack's outcome.
type attackResult struct {
	Name           string        `json:"name"`
	Rate           int           `json:"rate"`
	Duration       string        `json:"duration"`
	Connections    int           `json:"connections"`
	SentRate       float64       `json:"sent_rate"`       // requests per second actually sent
	ElapsedSeconds float64       `json:"elapsed_seconds"` // first request sent to last answer
	Kinds          []*kindStats  `json:"kinds"`
	Total          *kindStats    `json:"total"`
	Timeline       []secondStats `json:"timeline"`
}

type stepSummary struct {
	Rate         int     `json:"rate"`
	Pass         bool    `json:"pass"`
	Why          string  `json:"why,omitempty"`
	SentRate     float64 `json:"sent_rate"`
	Throughput   float64 `json:"throughput"`
	SuccessRatio float64 `json:"success_ratio"`
	P99          float64 `json:"p99_ms"`
}

// maxResult is --max's search: each step, and the highest rate that passed.
type maxResult struct {
	Criteria string        `json:"criteria"`
	Step     string        `json:"step"`
	MaxRate  int           `json:"max_rate"` // 0: no rate passed
	Steps    []stepSummary `json:"steps"`
}

type baselineReport struct {
	BodyBytes int           `json:"body_bytes"`
	Result    *attackResult `json:"result"`
	Max       *maxResult    `json:"max,omitempty"`
	// Ratio is the API's throughput over the baseline's (all kinds together).
	Ratio float64 `json:"ratio"`
}

type registerInfo struct {
	Where          string `json:"where"`
	Persons        int64  `json:"persons"`
	Organisations  int64  `json:"organisations"`
	Arbeidsforhold int64  `json:"arbeidsforhold"`
	AuditRecords   int64  `json:"audit_records_before"` // records in the lookup log before the run
}

type sampleInfo struct {
	Persons     int `json:"persons"`
	UUIDs       int `json:"uuids"`
	Employers   int `json:"employers"`
	SearchPages int `json:"search_pages"`
}

// serverInfo is what the server counted during the run (its /metrics, and the log where the store can count it).
type serverInfo struct {
	APIRequests int64 `json:"api_requests"`
	// LoggedEstimate is API requests answered after authentication: each one has a lookup record.
	LoggedEstimate int64 `json:"audit_records_estimated"`
	// AuditRecords is the growth of the lookup log (store.LogSize) over the run, in-process only.
	AuditRecords *int64 `json:"audit_records_written,omitempty"`
}

type machineInfo struct {
	GOOS        string `json:"goos"`
	GOARCH      string `json:"goarch"`
	CPUs        int    `json:"cpus"`
	GOMAXPROCS  int    `json:"gomaxprocs"`
	GoVersion   string `json:"go_version"`
	LoadAverage string `json:"load_average,omitempty"` // /proc/loadavg at the start
}

// benchReport is the whole report, printed as a table and written as JSON.
type benchReport struct {
	Started     time.Time       `json:"started"`
	Version     string          `json:"version"`
	Mode        string          `json:"mode"` // in-process or target
	Target      string          `json:"target"`
	Machine     machineInfo     `json:"machine"`
	Register    *registerInfo   `json:"register,omitempty"`
	Consumers   int             `json:"consumers"`
	Mix         map[string]int  `json:"mix"`
	Warmup      string          `json:"warmup,omitempty"` // uncounted load before the run
	Sample      sampleInfo      `json:"sample"`
	Result      *attackResult   `json:"result"`
	Max         *maxResult      `json:"max,omitempty"`
	Server      *serverInfo     `json:"server,omitempty"`
	Baseline    *baselineReport `json:"baseline,omitempty"`
	LoadAtEnd   string          `json:"load_average_end,omitempty"`
	Description string          `json:"description"`
}

func (b *bench) newReport(mode, target string) *benchReport {
	consumers := b.o.consumers
	if mode == "target" {
		consumers = len(b.o.clients)
	}
	mix := map[string]int{}
	for k, v := range b.o.mix {
		mix[k] = v
	}
	return &benchReport{Started: time.Now().UTC().Truncate(time.Second), Version: version, Mode: mode, Target: target,
		Machine: machineInfo{GOOS: runtime.GOOS, GOARCH: runtime.GOARCH, CPUs: runtime.NumCPU(), GOMAXPROCS: runtime.GOMAXPROCS(0),
			GoVersion: runtime.Version(), LoadAverage: loadAverage()},
		Consumers: consumers, Mix: mix, Warmup: b.o.warmup.String(),
		Description: "latencies in ms from the load generator (request sent to answer read); throughput is successful requests per second",
	}
}

// print writes the report as a table.
func (b *bench) print(rep *benchReport) {
	rep.LoadAtEnd = loadAverage()
	w := b.stdout
	r := rep.Result
	fmt.Fprintf(w, "\ndeling bench: %s, %s; %d consumers; mix %s; %d connections\n", rep.Mode, rep.Target, rep.Consumers, b.o.mix, r.Connections)
	if rep.Register != nil {
		fmt.Fprintf(w, "register: %s persons, %s arbeidsforhold, %s records in the lookup log before the run (%s)\n", thousands(rep.Register.Persons),
			thousands(rep.Register.Arbeidsforhold), thousands(rep.Register.AuditRecords), rep.Register.Where)
	}
	if rep.Max != nil {
		fmt.Fprintf(w, "--max: %d steps of %s; pass = %s\n", len(rep.Max.Steps), rep.Max.Step, rep.Max.Criteria)
		for _, s := range rep.Max.Steps {
			fmt.Fprintf(w, "  %8s/s  %8.0f ok/s  p99 %7.2f ms  success %7.3f%%  %s\n", thousands(int64(s.Rate)), s.Throughput, s.P99, 100*s.SuccessRatio, passText(s))
		}
		fmt.Fprintf(w, "highest passing rate: %s/s (its numbers below)\n", thousands(int64(rep.Max.MaxRate)))
	}
	fmt.Fprintf(w, "rate %s/s for %s (sent %.0f/s, %.1f s from first request to last answer)\n\n", thousands(int64(r.Rate)), r.Duration, r.SentRate, r.ElapsedSeconds)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "kind\trequests\tok/s\tsuccess\tp50 ms\tp95 ms\tp99 ms\tmax ms\terrors\t")
	row := func(label string, s *kindStats) {
		fmt.Fprintf(tw, "%s\t%s\t%.1f\t%.2f%%\t%.2f\t%.2f\t%.2f\t%.2f\t%s\t\n", label, thousands(int64(s.Requests)), s.Throughput, 100*s.SuccessRatio,
			s.Latency.P50, s.Latency.P95, s.Latency.P99, s.Latency.Max, errorText(s))
	}
	for _, s := range r.Kinds {
		row(s.Kind, s)
	}
	row("total", r.Total)
	if bl := rep.Baseline; bl != nil && bl.Result != nil {
		row(kindBaseline, bl.Result.Total)
	}
	tw.Flush()
	limit := float64(b.o.maxP99) / float64(time.Millisecond)
	if over, worst := worstSeconds(r.Timeline, limit); len(r.Timeline) > 0 {
		fmt.Fprintf(w, "seconds with p99 over %s: %d of %d; worst: second %d, p99 %.2f ms, max %.2f ms\n",
			b.o.maxP99, over, len(r.Timeline), worst.Second, worst.P99, worst.Max)
	}
	for _, s := range append(r.Kinds, r.Total) {
		for msg, n := range s.Errors {
			fmt.Fprintf(w, "  %s: %d× %s\n", s.Kind, n, msg)
		}
	}
	if s := rep.Server; s != nil {
		fmt.Fprintf(w, "\nserver: %s API requests answered; %s lookup records written (estimated from /metrics: answers after authentication)",
			thousands(s.APIRequests), thousands(s.LoggedEstimate))
		if s.AuditRecords != nil {
			fmt.Fprintf(w, "; the lookup log grew by %s", thousands(*s.AuditRecords))
		}
		fmt.Fprintln(w)
	}
	if bl := rep.Baseline; bl != nil && bl.Result != nil {
		fmt.Fprintf(w, "baseline: bare net/http handler, fixed %s-byte JSON answer, rate %s/s: %.1f ok/s, p99 %.2f ms\n",
			thousands(int64(bl.BodyBytes)), thousands(int64(bl.Result.Rate)), bl.Result.Total.Throughput, bl.Result.Total.Latency.P99)
		if bl.Max != nil {
			fmt.Fprintf(w, "baseline --max: highest passing rate %s/s\n", thousands(int64(bl.Max.MaxRate)))
		}
		fmt.Fprintf(w, "ratio API / baseline throughput: %.2f", bl.Ratio)
		if rep.Max == nil {
			fmt.Fprint(w, " (at a fixed rate both may just keep the rate: use --max for capacity)")
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "load average: %s at start, %s at end (%d CPUs; server and load generator share them)\n", rep.Machine.LoadAverage, rep.LoadAtEnd, rep.Machine.CPUs)
}

func passText(s stepSummary) string {
	if s.Pass {
		return "pass"
	}
	return "fail (" + s.Why + ")"
}

// errorText lists the non-2xx status codes of a kind: "503×4 0×1".
func errorText(s *kindStats) string {
	var parts []string
	for code, n := range s.StatusCodes {
		if !strings.HasPrefix(code, "2") {
			parts = append(parts, fmt.Sprintf("%s×%d", code, n))
		}
	}
	if len(parts) == 0 {
		return "0"
	}
	sort.Strings(parts)
	return strings.Join(parts, " ")
}

// apiCounts are the server's request counters for the API routes.
type apiCounts struct{ api, logged int64 }

// scrapeAPIRequests sums deling_http_requests_total over the /api/ routes:
// all answers, and those after authentication and rate limiting, which each
// have a lookup record (401, 429 and 503 do not).
func scrapeAPIRequests(ctx context.Context, hc *http.Client, base string) (apiCounts, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/metrics", nil)
	if err != nil {
		return apiCounts{}, err
	}
	body, err := doRequest(hc, req)
	if err != nil {
		return apiCounts{}, fmt.Errorf("metrics: %w", err)
	}
	var c apiCounts
	for _, line := range strings.Split(string(body), "\n") {
		rest, ok := strings.CutPrefix(line, "deling_http_requests_total{")
		if !ok {
			continue
		}
		labels, value, ok := strings.Cut(rest, "} ")
		if !ok || !strings.Contains(labels, ` /api/v2/`) {
			continue
		}
		v, err := strconv.ParseFloat(strings.Fields(value)[0], 64)
		if err != nil {
			continue
		}
		c.api += int64(v)
		if !strings.Contains(labels, `code="401"`) && !strings.Contains(labels, `code="429"`) && !strings.Contains(labels, `code="503"`) {
			c.logged += int64(v)
		}
	}
	return c, nil
}

func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	return strings.Join(f[:min(3, len(f))], " ")
}

func writeJSONFile(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

func readLines(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if s := strings.TrimSpace(sc.Text()); s != "" && !strings.HasPrefix(s, "#") {
			out = append(out, s)
		}
	}
	return out, sc.Err()
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

var _ flag.Value = benchMix{}

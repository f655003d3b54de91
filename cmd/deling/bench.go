package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"deling/internal/access"
	"deling/internal/bench"
	"deling/internal/ident"
	"deling/internal/register"
	"deling/internal/store"
	"deling/internal/token"
	"deling/internal/web"
)

// `deling bench` is wiring: its flags, the register it seeds, the bench
// consumers it makes and the platform it starts on a loopback port (or the
// running server it is pointed at). Package bench runs the workload and
// measures it.

const (
	// benchOrgBase numbers the bench consumers' synthetic orgnrs: 9,200,000 + i.
	benchOrgBase = 9_200_000
	// benchRateLimit is the bench grants' rate limit: high enough never to throttle.
	benchRateLimit = 1_000_000
)

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

// benchOptions are the flags: the workload's, and where it runs.
type benchOptions struct {
	bench.Options
	persons, consumers, sample    int
	nodes                         int
	fillLog                       int64
	target, personsFile, jsonFile string
	clients                       stringList
	// The checks of a cluster run (bench_checks.go).
	killAfter, restartAfter time.Duration
	restartCmd              string
	rateCheck               int
}

const benchSynopsis = `bench [--persons 100000] [--rate 2000] [--duration 30s] [--consumers 4]
             [--mix person=80,search=10,uuid=10] [--max [--step 5s] [--max-p99 10ms]]
             [--warmup 0s] [--fill-log N] [--db postgres://… [--nodes 3 [--kill-node-after 10s] [--restart-db-after 10s --db-restart-cmd CMD]]]
             [--rate-limit-check 200] [--target URL --client FILE …] [--json FILE] [--baseline=true] [--cpuprofile FILE]`

// runBench is `deling bench`: a fixed-rate (or, with --max, rate-stepping)
// mixed workload against an in-process platform or a running server, with
// real tokens, reported per request kind beside a bare net/http baseline.
func runBench(ctx context.Context, g *globals, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlagSet("bench", benchSynopsis, g, stderr)
	o := benchOptions{Options: bench.Options{Mix: bench.Mix{bench.KindPerson: 80, bench.KindSearch: 10, bench.KindUUID: 10}}}
	fs.IntVar(&o.persons, "persons", 100_000, "persons the register must hold; a smaller register is seeded up to this size (in-process only)")
	fs.IntVar(&o.Rate, "rate", 2000, "requests per second, all kinds together")
	fs.DurationVar(&o.Duration, "duration", 30*time.Second, "length of the run")
	fs.IntVar(&o.consumers, "consumers", 4, "bench consumers (each with a grant, a client and its own token), used round-robin")
	fs.Var(o.Mix, "mix", "weights of the request kinds: person (lookup by Nav-Personident), search (employer search, paged), uuid (one arbeidsforhold)")
	fs.Int64Var(&o.fillLog, "fill-log", 0, "before the warm-up, append copies of an API lookup record until the lookup log holds this many (in-process only)")
	fs.IntVar(&o.sample, "sample", 10_000, "persons sampled from the register to look up")
	fs.IntVar(&o.Connections, "connections", 64, "keep-alive connections at most, per target")
	fs.DurationVar(&o.Timeout, "timeout", 10*time.Second, "request timeout")
	fs.DurationVar(&o.Warmup, "warmup", 0, "run the workload this long before measuring, uncounted (warms caches and connections)")
	fs.IntVar(&o.nodes, "nodes", 1, "nodes: 1 in the bench's process; more are 'deling serve' processes of this executable on one PostgreSQL (--db), behind the bench's round-robin load balancer (docs/SCALING.md)")
	fs.DurationVar(&o.killAfter, "kill-node-after", 0, "with --nodes: kill -9 the leading node this long into the run, and report the takeover")
	fs.DurationVar(&o.restartAfter, "restart-db-after", 0, "with --nodes: run --db-restart-cmd this long into the run, and report the outage")
	fs.StringVar(&o.restartCmd, "db-restart-cmd", "", "the shell command that restarts PostgreSQL, e.g. 'pg_ctl -D DIR restart -m fast'")
	fs.IntVar(&o.rateCheck, "rate-limit-check", 0, "give one bench consumer a rate limit of this many requests/s and drive it alone at twice that (person lookups); report the admitted rate (Rule AA-15)")
	fs.StringVar(&o.target, "target", "", "benchmark a running server at this base URL instead of an in-process one (needs --client)")
	fs.Var(&o.clients, "client", "client file of a consumer of the --target server (repeatable)")
	fs.StringVar(&o.MetricsURL, "target-metrics", "", "with --target: the server's /metrics URL (its --metrics-addr), to count what it answered and logged")
	fs.StringVar(&o.personsFile, "persons-file", "", "with --target and no local register: identities to look up, one a line")
	fs.StringVar(&o.jsonFile, "json", "", "also write the report as JSON to this file")
	fs.BoolVar(&o.Baseline, "baseline", true, "also attack a bare net/http handler serving a fixed JSON body, and print the ratio")
	fs.StringVar(&o.CPUProfile, "cpuprofile", "", "write a CPU profile of the main run (server and load generator share the process)")
	fs.BoolVar(&o.Max, "max", false, "find the highest rate that holds --max-p99 and 99.9 % success: double from --max-start, then bisect")
	fs.IntVar(&o.MaxStart, "max-start", 1000, "--max: first rate tried")
	fs.IntVar(&o.Bisect, "max-bisect", 3, "--max: bisection steps after the first failing rate")
	fs.DurationVar(&o.Step, "step", 5*time.Second, "--max: length of each step")
	fs.DurationVar(&o.MaxP99, "max-p99", 10*time.Millisecond, "--max: the p99 latency a rate must keep to pass")
	if err := parse(fs, args); err != nil {
		return err
	}
	switch {
	case fs.NArg() > 0:
		return fmt.Errorf("bench: unexpected argument %q", fs.Arg(0))
	case o.Rate <= 0 || o.Duration <= 0 || o.Connections <= 0 || o.sample <= 0 || o.Step <= 0 || o.MaxStart <= 0:
		return errors.New("bench: --rate, --duration, --connections, --sample, --step and --max-start must be positive")
	case o.target == "" && (o.consumers <= 0 || o.consumers > 1000):
		return errors.New("bench: --consumers must be from 1 to 1000")
	case o.target != "" && len(o.clients) == 0:
		return errors.New("bench: --target needs at least one --client FILE")
	case o.target == "" && len(o.clients) > 0:
		return errors.New("bench: --client goes with --target")
	case o.fillLog < 0 || (o.fillLog > 0 && o.target != ""):
		return errors.New("bench: --fill-log must not be negative, and fills only the in-process log (no --target)")
	case o.nodes < 1 || o.nodes > 16:
		return errors.New("bench: --nodes must be from 1 to 16")
	case o.nodes > 1 && (g.db == "" || o.target != ""):
		return errors.New("bench: --nodes needs --db postgres://… (nodes share one PostgreSQL; SQLite is one process) and no --target")
	case (o.killAfter > 0 || o.restartAfter > 0) && (o.nodes < 2 || o.Max):
		return errors.New("bench: --kill-node-after and --restart-db-after need --nodes 2 or more, at a fixed rate (not --max)")
	case o.killAfter >= o.Duration || o.restartAfter >= o.Duration || o.killAfter < 0 || o.restartAfter < 0:
		return errors.New("bench: --kill-node-after and --restart-db-after must fall within --duration")
	case (o.restartAfter > 0) != (o.restartCmd != ""):
		return errors.New("bench: --restart-db-after and --db-restart-cmd go together")
	case o.rateCheck < 0 || o.rateCheck > 100_000 || (o.rateCheck > 0 && (o.Max || o.target != "")):
		return errors.New("bench: --rate-limit-check takes 1 to 100000 requests/s, at a fixed rate (not --max), without --target")
	}
	if o.rateCheck > 0 {
		// One consumer, person lookups, at twice its limit.
		o.Rate, o.Mix, o.consumers = 2*o.rateCheck, bench.Mix{bench.KindPerson: 1}, 1
	}
	env, err := g.environment()
	if err != nil {
		return err
	}
	log, err := g.logger(stderr)
	if err != nil {
		return err
	}
	b := &benchRun{g: g, o: o, env: env, log: log, getenv: getenv, stdout: stdout, stderr: stderr,
		hc: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 16}}}
	defer b.hc.CloseIdleConnections()
	b.runner = &bench.Runner{Options: o.Options, Version: version, Log: log, Progress: stderr, HTTP: b.hc, RateLimit: o.rateCheck, RateBlock: b.rateBlock()}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var rep *bench.Report
	if o.target != "" {
		rep, err = b.runTarget(ctx)
	} else {
		if env == register.EnvProd {
			return errors.New("bench is refused with --env prod: it seeds synthetic persons and adds bench consumers; use --target against a running server")
		}
		rep, err = b.runInProcess(ctx)
	}
	if rep != nil && rep.Result != nil {
		b.runner.Print(stdout, rep)
		if o.jsonFile != "" {
			if werr := writeJSONFile(o.jsonFile, rep); werr != nil && err == nil {
				err = werr
			}
		}
		if failed := rep.FailedChecks(); len(failed) > 0 && err == nil {
			err = fmt.Errorf("bench checks failed: %s", strings.Join(failed, "; "))
		}
	}
	return err
}

// benchRun is one invocation of `deling bench`.
type benchRun struct {
	g              *globals
	o              benchOptions
	env            register.Env
	log            *slog.Logger
	getenv         func(string) string
	stdout, stderr io.Writer
	hc             *http.Client // for tokens, preparation and metrics
	runner         *bench.Runner
}

// runInProcess seeds if needed, sets up the bench consumers, starts the
// platform on a loopback port and runs the workload against it.
func (b *benchRun) runInProcess(ctx context.Context) (*bench.Report, error) {
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
	var clients []token.ClientFile
	if b.o.rateCheck > 0 {
		var cf token.ClientFile
		cf, err = rateCheckConsumer(ctx, db, b.o.rateCheck, filepath.Join(b.g.data, "bench-clients"))
		clients = []token.ClientFile{cf}
	} else {
		clients, err = ensureBenchConsumers(ctx, db, b.o.consumers, filepath.Join(b.g.data, "bench-clients"))
	}
	if err != nil {
		return nil, fmt.Errorf("bench consumers: %w", err)
	}
	persons, err := samplePersons(ctx, db, b.o.sample)
	if err != nil {
		return nil, err
	}

	c, err := b.startNodes(ctx, db)
	defer c.stop()
	if err != nil {
		return nil, err
	}
	base := c.base
	b.runner.MetricsURLs = c.metrics
	for i := range clients {
		clients[i].TokenEndpoint, clients[i].Audience, clients[i].Scope = base+"/token", base+"/", web.DefaultAPIScope
	}

	mode := bench.ModeInProcess
	if b.o.nodes > 1 {
		mode = bench.ModeCluster
	}
	rep := b.runner.NewReport(mode, base, b.o.consumers)
	rep.DiscardLog = discardLog
	rep.Register = &bench.RegisterInfo{Persons: counts.Persons, Organisations: counts.Organisations, Arbeidsforhold: counts.Arbeidsforhold, Where: b.g.where()}
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
	if b.o.fillLog > 0 {
		b.runner.Prepared = func(ctx context.Context) error {
			if err := fillLog(ctx, db, b.o.fillLog, persons, b.stderr); err != nil {
				return fmt.Errorf("bench: fill the log: %w", err)
			}
			n, err := db.LogSize(ctx)
			rep.Register.AuditRecords = int64(n)
			return err
		}
	}
	if b.o.nodes > 1 {
		b.runner.Disruptions = b.disruptions(db, c)
		b.runner.CheckRecords = func(ctx context.Context, answered map[string]struct{}) (*bench.RecordCheck, error) {
			return checkRecords(ctx, db, logBefore, answered)
		}
	}
	err = b.runner.Run(ctx, rep, base, clients, persons, logSize)
	rep.Cluster = c.info(ctx, b.hc)
	if err == nil && len(b.runner.Disruptions) > 0 {
		rep.AuditVerify = b.verifyLog(ctx)
	}
	return rep, err
}

// runTarget benchmarks a running server with the consumers' client files.
func (b *benchRun) runTarget(ctx context.Context) (*bench.Report, error) {
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
	rep := b.runner.NewReport(bench.ModeTarget, base, len(b.o.clients))
	return rep, b.runner.Run(ctx, rep, base, clients, persons, nil)
}

// ensureBenchConsumers makes (once) the bench consumers, each with an API
// grant that does not throttle and a client whose key file is kept in dir.
func ensureBenchConsumers(ctx context.Context, db *store.DB, n int, dir string) ([]token.ClientFile, error) {
	var out []token.ClientFile
	for i := 0; i < n; i++ {
		cf, err := ensureBenchConsumer(ctx, db, benchOrgBase+i, fmt.Sprintf("deling bench %d", i+1), fmt.Sprintf("bench-%d", i+1), benchRateLimit, dir)
		if err != nil {
			return nil, err
		}
		out = append(out, cf)
	}
	return out, nil
}

// rateCheckConsumer makes the one consumer of --rate-limit-check: its API
// grants allow limit requests a second, no more (Rule AA-15: the highest
// active grant's limit counts, so others are ended).
func rateCheckConsumer(ctx context.Context, db *store.DB, limit int, dir string) (token.ClientFile, error) {
	return ensureBenchConsumer(ctx, db, benchOrgBase+1000, "deling bench rate check", "bench-rate-check", limit, dir)
}

// ensureBenchConsumer makes (once) a bench consumer with an active API grant
// of exactly rateLimit requests a second (any other active one is ended) and
// a client whose key file is kept in dir.
func ensureBenchConsumer(ctx context.Context, db *store.DB, number int, name, clientID string, rateLimit int, dir string) (token.ClientFile, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return token.ClientFile{}, err
	}
	kinds := []access.QueryKind{access.ByArbeidstaker, access.ByArbeidssted, access.ByOpplysningspliktig}
	packages := []string{"grunnopplysninger@1", "stillingsdetaljer@1"}
	orgnr := string(ident.SyntheticOrgnr(number))
	c, err := db.Consumer(ctx, orgnr)
	switch {
	case errors.Is(err, store.ErrNotFound) || (err == nil && c.Status != access.Active):
		if err := db.UpsertConsumer(ctx, access.Consumer{Orgnr: orgnr, Navn: name, Status: access.Active}, "bench"); err != nil {
			return token.ClientFile{}, err
		}
	case err != nil:
		return token.ClientFile{}, err
	}
	grants, err := db.Grants(ctx, orgnr)
	if err != nil {
		return token.ClientFile{}, err
	}
	found := false
	for _, gr := range grants {
		if gr.Channel != access.ChannelAPI || gr.Status != access.Active {
			continue
		}
		switch {
		case !found && gr.Env == register.EnvTest && gr.ActiveAt(time.Now()) && gr.RateLimit == rateLimit &&
			!slices.ContainsFunc(kinds, func(k access.QueryKind) bool { return !slices.Contains(gr.QueryKinds, k) }):
			found = true
		default:
			if _, err := db.SetGrantStatus(ctx, gr.ID, access.Ended, "deling bench: another rate limit", "bench"); err != nil {
				return token.ClientFile{}, err
			}
		}
	}
	if !found {
		if _, err := db.AddGrant(ctx, access.Grant{Consumer: orgnr, Packages: packages, Channel: access.ChannelAPI, Env: register.EnvTest,
			LegalBasis: "Aa-registerforskriften § 10", ProcessingBasis: "GDPR art. 6 nr. 1 bokstav e", Purpose: "Ytelsestest (deling bench)",
			QueryKinds: kinds, ValidFrom: time.Now().Add(-time.Minute), RateLimit: rateLimit, Status: access.Active}, "bench"); err != nil {
			return token.ClientFile{}, err
		}
	}
	return benchClient(ctx, db, filepath.Join(dir, clientID+".json"), orgnr, clientID)
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

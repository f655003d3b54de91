package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"deling/internal/access"
	"deling/internal/governance"
	"deling/internal/job"
	"deling/internal/post"
	"deling/internal/register"
	"deling/internal/store"
	"deling/internal/token"
	"deling/internal/token/authserver"
	"deling/internal/token/bearer"
	"deling/internal/web"
	"deling/internal/web/clientaddr"
)

// externalIssuers is the repeatable --external-issuer ISSUER,JWKS-URL flag.
type externalIssuers []bearer.ExternalIssuer

func (e *externalIssuers) String() string { return fmt.Sprint(*e) }

func (e *externalIssuers) Set(v string) error {
	iss, jwks, ok := strings.Cut(v, ",")
	if !ok || iss == "" || !strings.HasPrefix(jwks, "http") {
		return errors.New("want ISSUER,JWKS-URL, e.g. https://maskinporten.no/,https://maskinporten.no/jwk")
	}
	*e = append(*e, bearer.ExternalIssuer{Issuer: iss, JWKSURL: jwks})
	return nil
}

// platformOptions are serve's flags that shape the platform.
type platformOptions struct {
	issuer        string
	packagesFile  string
	external      externalIssuers
	rateBlockFor  time.Duration
	tokenLifetime time.Duration

	logOrigin         string
	logKeyFile        string
	checkpointEvery   time.Duration
	logRetention      time.Duration
	logMinRetention   time.Duration
	keepResponses     bool
	adminTokenFile    string
	insightCategories string
	witnesses         witnessTargets // witness.go
	witnessFile       string

	baseURL       string
	secureCookies bool
	trustedProxy  string // clientaddr.Parse; runServe takes $DELING_TRUSTED_PROXY when the flag is not given
	mail          mailOptions
	enhet         enhetsregisteretOptions
	extract       extractOptions
	openid        openidOptions // openid.go

	breachReminders reminderPoints // incidents.go
}

func (o *platformOptions) bind(fs *flag.FlagSet) {
	fs.StringVar(&o.issuer, "issuer", "", "the token server's issuer identifier and the audience of client assertions (default http://<addr>/)")
	fs.StringVar(&o.packagesFile, "packages", "", "package (rettighetspakke) definitions file instead of the built-in one")
	fs.Var(&o.breachReminders, "breach-reminders", "when, after awareness, an open breach's owner and the DPO are reminded of the 72-hour deadline (default 24h,48h,66h; and when overdue)")
	fs.Var(&o.external, "external-issuer", "also accept tokens of this issuer: ISSUER,JWKS-URL (repeatable)")
	fs.DurationVar(&o.rateBlockFor, "rate-block", time.Minute, "how long a consumer that keeps exceeding its rate limit is blocked")
	fs.DurationVar(&o.tokenLifetime, "token-lifetime", 120*time.Second, "lifetime of the access tokens issued")
	fs.StringVar(&o.logOrigin, "log-origin", DefaultLogOrigin, "the lookup log's name in its signed checkpoints")
	fs.StringVar(&o.logKeyFile, "log-key", "", "file with the lookup log's checkpoint signing key (default DATA/lookup-log.key, made on first start; or $DELING_LOG_KEY)")
	fs.DurationVar(&o.checkpointEvery, "checkpoint-every", 5*time.Second, "how often to sign a checkpoint of the lookup log when it has grown")
	fs.DurationVar(&o.logRetention, "log-retention", 0, "erase the content of lookup-log records older than this (0: keep); proofs stay valid")
	fs.DurationVar(&o.logMinRetention, "log-min-retention", DefaultLogMinRetention, "the shortest --log-retention allowed, at least 720h (30 days); audit erase refuses dates inside it too")
	fs.BoolVar(&o.keepResponses, "log-responses", false, "keep each answer's exact bytes, compressed, in its log record (default: only its SHA-256)")
	fs.Var(&o.witnesses, "witness", "a C2SP tlog-witness to cosign the lookup log's checkpoints: URL=VKEY (repeatable; docs/WITNESS.md)")
	fs.StringVar(&o.witnessFile, "witnesses", "", "file of witnesses, one a line: witness NAME VKEY URL (C2SP tlog-policy)")
	fs.StringVar(&o.adminTokenFile, "admin-token", "", "file with the staff token for the insight endpoints (default DATA/admin-token, made on first start; or $DELING_ADMIN_TOKEN)")
	fs.StringVar(&o.insightCategories, "insight-categories", "", "consumer categories whose lookups a person may see, comma-separated (default none, as the real register)")
	fs.StringVar(&o.baseURL, "base-url", "", "where people reach deling, for links in e-mail and feeds (default http://<addr>)")
	fs.BoolVar(&o.secureCookies, "secure-cookies", true, "send the portal's session cookie over HTTPS only (off with --demo)")
	fs.StringVar(&o.trustedProxy, "trusted-proxy", "", "networks of the load balancers or proxies in front, CIDR[,CIDR]: from them the client's address is taken from X-Forwarded-For (default none: the header is ignored; or $DELING_TRUSTED_PROXY)")
	o.mail.bind(fs)
	o.enhet.bind(fs)
	o.extract.bind(fs)
	o.openid.bind(fs)
}

// check refuses flag values that would make no sense at run time (a zero
// batch size, a negative count, a zero interval), with the flag named.
func (o *platformOptions) check() error {
	for _, d := range []struct {
		flag string
		v    time.Duration
	}{{"token-lifetime", o.tokenLifetime}, {"checkpoint-every", o.checkpointEvery}} {
		if d.v <= 0 {
			return fmt.Errorf("--%s %s: want a positive duration", d.flag, d.v)
		}
	}
	if o.rateBlockFor < 0 {
		return fmt.Errorf("--rate-block %s: want zero or a positive duration", o.rateBlockFor)
	}
	if err := o.extract.check(); err != nil {
		return err
	}
	if _, err := clientaddr.Parse(o.trustedProxy); err != nil {
		return fmt.Errorf("--trusted-proxy (or $DELING_TRUSTED_PROXY): %w", err)
	}
	return o.checkRetention()
}

// checkRetention checks --log-retention (0: keep every record) and
// --log-min-retention with the check `audit erase` makes (checkRetention).
func (o *platformOptions) checkRetention() error {
	keep := o.logRetention
	if keep == 0 {
		keep = forever
	}
	if err := checkRetention(keep, o.logMinRetention); err != nil {
		return fmt.Errorf("--log-retention %s: %w", o.logRetention, err)
	}
	return nil
}

// loadCatalogue reads the package definitions: the built-in ones, or a file.
func loadCatalogue(file string) (*access.Catalogue, error) {
	b := access.DefaultPackages()
	if file != "" {
		var err error
		if b, err = os.ReadFile(file); err != nil {
			return nil, err
		}
	}
	return access.ParseCatalogue(b)
}

// platform is deling's parts wired together.
type platform struct {
	handler        http.Handler
	keys           *token.KeySet
	jobs           []job.Job
	leader         *store.Leader // whether this node runs the Single jobs
	stopLeading    func()        // releases the leadership; after the jobs have stopped
	adminToken     string
	logVerifierKey string
}

// leaderInterval is how often a node tries to lead the Single jobs, and how
// often the leader checks that it still does: a dead leader's jobs move to
// another node within about this long.
const leaderInterval = 2 * time.Second

// single marks jobs that must run on one node at a time (job.OnLeader).
func single(jobs ...job.Job) []job.Job {
	for i := range jobs {
		jobs[i].Single = true
	}
	return jobs
}

// buildPlatform wires store, packages, token server, verifier and HTTP interface.
// ctx owns background work started here (external JWKS refresh).
func buildPlatform(ctx context.Context, db *store.DB, env register.Env, log *slog.Logger, reg *prometheus.Registry, o platformOptions, getenv func(string) string, dataDir string) (*platform, error) {
	proxies, err := clientaddr.Parse(o.trustedProxy) // checked by check
	if err != nil {
		return nil, err
	}
	cat, err := loadCatalogue(o.packagesFile)
	if err != nil {
		return nil, err
	}
	keys, err := signingKeys(ctx, db)
	if err != nil {
		return nil, err
	}
	scopes := func() []string { return []string{web.DefaultAPIScope, post.ScopeWrite, post.ScopeRead} }
	tokens, err := authserver.New(authserver.Config{
		Issuer: o.issuer, TokenLifetime: o.tokenLifetime, Clients: db, JTIs: db.JTIs(), Keys: keys,
		Authorizer:      store.Scopes{DB: db, APIScope: web.DefaultAPIScope, Env: env},
		ScopesSupported: scopes, Log: log,
	})
	if err != nil {
		return nil, err
	}
	verifier, err := bearer.NewVerifier(ctx, bearer.Config{Keys: keys, Issuer: o.issuer, External: o.external})
	if err != nil {
		return nil, err
	}
	if o.logOrigin == "" {
		o.logOrigin = DefaultLogOrigin
	}
	if o.logKeyFile == "" {
		o.logKeyFile = filepath.Join(dataDir, "lookup-log.key")
	}
	if o.adminTokenFile == "" {
		o.adminTokenFile = filepath.Join(dataDir, "admin-token")
	}
	if err := checkLogKeyPlace(env, getenv, o.logKeyFile, dataDir); err != nil {
		return nil, err
	}
	if err := checkSharedLogKey(ctx, db, getenv, o.logKeyFile); err != nil {
		return nil, err
	}
	signer, vkey, err := logKeys(getenv, o.logKeyFile, o.logOrigin)
	if err != nil {
		return nil, err
	}
	if db.Engine() == store.Postgres {
		if err := db.PinLogKey(ctx, vkey); err != nil {
			return nil, fmt.Errorf("lookup log key (%s or $DELING_LOG_KEY): %w; give every node the first node's key", o.logKeyFile, err)
		}
	}
	admin, err := adminToken(getenv, o.adminTokenFile)
	if err != nil {
		return nil, err
	}
	var categories []string
	for _, c := range strings.Split(o.insightCategories, ",") {
		if c = strings.TrimSpace(c); c != "" {
			categories = append(categories, c)
		}
	}
	if o.checkpointEvery <= 0 {
		o.checkpointEvery = 5 * time.Second
	}
	oid, err := o.openid.config(getenv)
	if err != nil {
		return nil, err
	}
	srv, err := web.New(web.Config{DB: db, Log: log, Registry: reg, Env: env, Catalogue: cat, Tokens: tokens,
		Verifier: verifier, Audit: lookupLog(db), RateBlockFor: o.rateBlockFor, LogVerifierKey: vkey, AdminToken: admin,
		ReceiptsWithin:    o.checkpointEvery + time.Second, // integration (store.IntegrateEvery, well under a second) and a checkpoint
		InsightCategories: categories, KeepResponses: o.keepResponses, SecureCookies: o.secureCookies, BaseURL: o.baseURL,
		ExtractDir: o.extract.resultDir(dataDir), ExtractTTL: o.extract.ttl(), ExtractMaxUnits: o.extract.maxUnits,
		OpenID: oid})
	if err != nil {
		return nil, err
	}
	// Behind a trusted load balancer, everything keyed on the client's
	// address (sign-in throttling, the public forms' limits) counts the
	// client, not the balancer.
	p := &platform{handler: proxies.Handler(srv.Handler()), keys: keys, adminToken: admin, logVerifierKey: vkey}
	// Integration of the lookup log beside its appends (store.Integrate): the delay from a record's time to its place in the tree.
	integrationDelay := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "deling_log_integration_delay_seconds",
		Help:    "How long the oldest record of each integration of the lookup log waited for the tree, from its record's time (on the leading node).",
		Buckets: []float64{.05, .1, .25, .5, .75, 1, 2, 5, 10}})
	reg.MustRegister(integrationDelay, newLogCollector(db))
	p.jobs = []job.Job{
		integrateJob(db, integrationDelay),
		single(checkpointJob(db, signer, o.logOrigin, o.checkpointEvery))[0],
		{Name: "purge used assertion ids", Interval: time.Minute, Run: func(ctx context.Context) error {
			_, err := db.PurgeJTIs(ctx, time.Now().Add(-5*time.Minute))
			return err
		}},
		// The rate-limit state shared across nodes (Rule AA-15) of consumers
		// whose bucket has long been full again: ten minutes back, so that a
		// node whose clock runs ahead never deletes a state still in use.
		{Name: "purge rate-limit state", Interval: time.Minute, Run: func(ctx context.Context) error {
			_, err := db.PurgeRates(ctx, time.Now().Add(-10*time.Minute).Unix())
			return err
		}},
		// A key rotated by `deling keys rotate`, here or on another node, is picked up within a minute.
		{Name: "reload signing keys", Interval: time.Minute, Run: func(ctx context.Context) error {
			stored, err := db.SigningKeys(ctx)
			if err != nil {
				return err
			}
			return keys.Replace(stored)
		}},
	}
	if err := o.checkRetention(); err != nil {
		return nil, err
	}
	if o.logRetention > 0 {
		p.jobs = append(p.jobs, single(retentionJob(db, o.logRetention))...)
	}
	if o.witnessFile != "" {
		more, err := readWitnessFile(o.witnessFile)
		if err != nil {
			return nil, err
		}
		o.witnesses = append(o.witnesses, more...)
	}
	if len(o.witnesses) > 0 {
		j, err := witnessJob(db, log, vkey, o.witnesses, o.checkpointEvery)
		if err != nil {
			return nil, err
		}
		p.jobs = append(p.jobs, single(j)...)
	}
	p.jobs = append(p.jobs, job.Job{Name: "purge expired sessions", Interval: 10 * time.Minute, Run: func(ctx context.Context) error {
		if _, err := db.PurgeSessions(ctx); err != nil {
			return err
		}
		_, err := db.PurgeSignInFailures(ctx, time.Now(), governance.DefaultThrottle)
		return err
	}})
	o.mail.getenv = getenv
	p.jobs = append(p.jobs, single(mailJobs(db, log, o.mail, o.baseURL)...)...)
	p.jobs = append(p.jobs, single(enhetsregisteretJobs(db, log, o.enhet)...)...)
	p.jobs = append(p.jobs, extractJobs(db, log, o.extract, dataDir)...) // the workers claim jobs; the expiry is Single
	p.jobs = append(p.jobs, single(reminderJobs(db, log, governance.DefaultSettings(), o.baseURL)...)...)
	p.jobs = append(p.jobs, single(breachReminderJob(db, log, o.breachReminders, o.baseURL), breachNoticeJob(db, log))...)
	p.jobs = append(p.jobs, single(deletionReminderJob(db, log, o.baseURL), lapsedDelegationsJob(db, log))...)
	p.jobs = append(p.jobs, single(postJob(db))...)
	// Several nodes on one PostgreSQL: the Single jobs run on the one that leads (store.Lead).
	// The lock is released only after the jobs have stopped (runServe), so
	// that the next leader never starts a job this one still runs.
	leadCtx, stopLeading := context.WithCancel(context.WithoutCancel(ctx))
	p.stopLeading = stopLeading
	p.leader = db.Lead(leadCtx, leaderInterval, func(leading bool) {
		if leading {
			log.Info("this node leads the single-run jobs (checkpoints, mail, reminders)")
		} else {
			log.Info("this node no longer leads the single-run jobs")
		}
	})
	p.jobs = job.OnLeader(p.leader.Term, p.jobs)
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "deling_jobs_leader",
		Help: "1 while this node runs the jobs that run on one node at a time (on PostgreSQL: holds their advisory lock)."},
		func() float64 {
			if p.leader.Leading() {
				return 1
			}
			return 0
		}))
	return p, nil
}

// signingKeys loads the token server's keys, making the first one on first start.
func signingKeys(ctx context.Context, db *store.DB) (*token.KeySet, error) {
	stored, err := db.SigningKeys(ctx)
	if err != nil {
		return nil, err
	}
	if len(stored) == 0 {
		k, err := token.NewSigningKey(time.Now())
		if err != nil {
			return nil, err
		}
		if err := db.RotateSigningKey(ctx, k, "deling serve (first start)"); err != nil {
			return nil, err
		}
		stored = []token.SigningKey{k}
	}
	return token.NewKeySet(stored, time.Now)
}

func runServe(ctx context.Context, g *globals, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlagSet("serve", "serve [--addr :8080] [--demo] [--issuer URL] [--external-issuer ISSUER,JWKS-URL]", g, stderr)
	addr := fs.String("addr", ":8080", "address to listen on")
	metricsAddr := fs.String("metrics-addr", DefaultMetricsAddr, "address of the Prometheus /metrics listener, kept apart from the public one (empty: off)")
	demo := fs.Bool("demo", false, "seed a small synthetic register and demo consumers on first start")
	demoPersons := fs.Int("demo-persons", 2000, "persons in the demo register")
	fs.StringVar(&g.dbRead, "db-read", "", "PostgreSQL URL of one streaming replica of --db (one server: no balancing pooler, no multi-host URL) to read the register from; access, tokens and the log stay on --db (or $DELING_DB_READ; docs/SCALING.md)")
	fs.DurationVar(&g.maxReadLag, "db-read-max-lag", store.DefaultMaxReadLag, "register reads answer 503 while the --db-read replica may lag --db by more than this")
	var o platformOptions
	o.bind(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if o.trustedProxy == "" {
		o.trustedProxy = getenv("DELING_TRUSTED_PROXY")
	}
	if g.dbRead == "" {
		g.dbRead = getenv("DELING_DB_READ")
	}
	if g.dbRead != "" && g.db == "" {
		return errors.New("--db-read needs --db postgres://…: with SQLite the register is a local file (register.db), there is no replica to read")
	}
	if g.maxReadLag <= 0 {
		return fmt.Errorf("--db-read-max-lag %s: want more than 0", g.maxReadLag)
	}
	if err := o.check(); err != nil {
		return err
	}
	if *demoPersons < 1 {
		return fmt.Errorf("--demo-persons %d: want at least 1", *demoPersons)
	}
	env, err := g.environment()
	if err != nil {
		return err
	}
	if *demo && env == register.EnvProd {
		return errors.New("--demo is refused with --env prod: the demo register is synthetic")
	}
	log, err := g.logger(stderr)
	if err != nil {
		return err
	}
	g.log = log
	db, err := g.open(ctx)
	if err != nil {
		return err
	}
	defer db.Close()

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	defer ln.Close()
	base := "http://" + displayAddr(ln.Addr())
	if o.issuer == "" {
		o.issuer = base + "/"
	}
	if o.baseURL == "" {
		o.baseURL = base
	}
	if *demo && !flagSet(fs, "secure-cookies") {
		o.secureCookies = false // the demo runs on plain HTTP
	}
	if *demo && !flagSet(fs, "insight-categories") {
		o.insightCategories = DemoInsightCategory // persons see the demo kommune's lookups of them (Rule AA-17)
	}

	if *demo {
		if err := setUpDemo(ctx, g, db, *demoPersons, o.issuer, stdout); err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		if err := setUpDemoAccounts(ctx, g, db, base, stdout); err != nil {
			return fmt.Errorf("demo accounts: %w", err)
		}
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), newOperatorMetrics(db, log))
	jobCtx, stopJobs := context.WithCancel(ctx)
	defer stopJobs()
	p, err := buildPlatform(jobCtx, db, env, log, reg, o, getenv, g.data)
	if err != nil {
		return err
	}
	defer func() { p.stopLeading(); <-p.leader.Done() }() // runs after waitJobs
	waitJobs := job.Start(jobCtx, log, p.jobs...)
	defer waitJobs()
	defer stopJobs()

	hs := &http.Server{
		Handler:           p.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      5 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	// Metrics on a listener of their own (loopback by default), never on the public one.
	var ms *http.Server
	if *metricsAddr != "" {
		mln, err := net.Listen("tcp", *metricsAddr)
		if err != nil {
			return fmt.Errorf("metrics listener: %w", err)
		}
		defer mln.Close()
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
		ms = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
		go ms.Serve(mln)
		fmt.Fprintf(stdout, "metrics on http://%s/metrics\n", mln.Addr())
	}
	fmt.Fprintf(stdout, "deling %s is listening on %s (env %s, data in %s, token issuer %s)\n", version, base, env, g.where(), o.issuer)
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down: finishing requests in flight")
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if ms != nil {
		defer ms.Close()
	}
	if err := hs.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// DefaultMetricsAddr is where /metrics is served unless --metrics-addr says
// otherwise: loopback, for a local Prometheus agent or an SSH tunnel.
const DefaultMetricsAddr = "127.0.0.1:9090"

// displayAddr turns a wildcard listen address into one a browser can open.
func displayAddr(a net.Addr) string {
	tcp, ok := a.(*net.TCPAddr)
	if !ok || tcp.IP.IsUnspecified() {
		if ok {
			return fmt.Sprintf("localhost:%d", tcp.Port)
		}
		return a.String()
	}
	return tcp.String()
}

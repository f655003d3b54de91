package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"slices"
	"syscall"
	"time"
	_ "time/tzdata" // dates are Norway's (Europe/Oslo) even on a machine without a zone database

	"deling/internal/register"
	"deling/internal/store"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, errUsage) {
			fmt.Fprintln(os.Stderr, "deling:", err)
		}
		os.Exit(1)
	}
}

// errUsage means the usage was already printed.
var errUsage = errors.New("usage")

// helpText is asked-for help (-h, --help, help): run prints it on standard
// output and succeeds, where a usage error goes to standard error and fails.
type helpText string

func (h helpText) Error() string { return string(h) }

const usage = `deling shares register data with the organisations entitled to it.

Usage: deling [global flags] <command> [flags]

Commands:
  serve             run the platform (API, web UI, jobs); --demo seeds a demo register on first start
  seed              fill the register with a synthetic population (refused with --env prod)
  import            import persons, organisations and arbeidsforhold from JSON lines files
  consumer          add|cease|list: consumer organisations
  client            add|list: API clients of an organisation and their keys
  grant             add|list|suspend|resume|end: decisions (vedtak) giving a consumer packages
  delegation        add|list|uncovered|end: data processors acting for a consumer under an agreement
  package           list: the packages (rettighetspakker) and their data elements
  token             --client FILE: get an access token as a client would (for curl)
  user              add|list|disable: portal accounts and their roles
  enhetsregisteret  import FILE|URL: organisation status; ends the access of ceased consumers
  keys              rotate: make a new signing key for the token server
  audit             verify|checkpoint|prove|erase: the tamper-evident lookup log
  witness           run a C2SP tlog-witness that cosigns a lookup log's checkpoints (docs/WITNESS.md)
  bench             load-test the API with a synthetic register and real tokens; docs/PERFORMANCE.md
  migrate           down --to N: take the schema back for a rollback (docs/OPERATIONS.md, Upgrading)
  version           print the version

Global flags (also accepted after the command):
  --data DIR     SQLite data directory (default ./deling-data, or $DELING_DATA)
  --db URL       PostgreSQL URL postgres://… instead of SQLite (or $DELING_DB)
  --env ENV      test or prod (default test, or $DELING_ENV); test holds synthetic data only
  --log-level L  debug, info, warn or error (default info)
  --log-format F text or json (default text)

Run 'deling <command> -h' for a command's flags.
`

// globals are the flags every command takes.
type globals struct {
	data, db, env string
	logLevel      string
	logFormat     string

	// serve's --db-read and --db-read-max-lag: the register read from a replica.
	dbRead     string
	maxReadLag time.Duration
	log        *slog.Logger // serve's, for the store's messages (nil: slog's default)
}

func (g *globals) bind(fs *flag.FlagSet) {
	fs.StringVar(&g.data, "data", g.data, "SQLite data directory")
	fs.StringVar(&g.db, "db", g.db, "PostgreSQL URL (postgres://…) instead of SQLite")
	fs.StringVar(&g.env, "env", g.env, "environment: test or prod")
	fs.StringVar(&g.logLevel, "log-level", g.logLevel, "log level: debug, info, warn or error")
	fs.StringVar(&g.logFormat, "log-format", g.logFormat, "log format: text (key=value) or json (one JSON object a line)")
}

func (g *globals) environment() (register.Env, error) { return register.ParseEnv(g.env) }

func (g *globals) open(ctx context.Context) (*store.DB, error) { return g.openDB(ctx, false) }

// openDB opens the store; existing refuses one deling has not made.
func (g *globals) openDB(ctx context.Context, existing bool) (*store.DB, error) {
	if g.db == "" && g.data == "" {
		return nil, errors.New("no --data directory and no --db URL")
	}
	return store.Open(ctx, store.Config{URL: g.db, DataDir: g.data, Existing: existing, ReadURL: g.dbRead, MaxReadLag: g.maxReadLag, Log: g.log})
}

// where says where the data lives, without a password.
func (g *globals) where() string {
	if g.dbRead != "" {
		return "PostgreSQL, the register read from a replica"
	}
	if g.db != "" {
		return "PostgreSQL"
	}
	return g.data
}

func (g *globals) logger(stderr io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(g.logLevel)); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", g.logLevel)
	}
	opts := &slog.HandlerOptions{Level: level}
	switch g.logFormat {
	case "text":
		return slog.New(slog.NewTextHandler(stderr, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(stderr, opts)), nil
	}
	return nil, fmt.Errorf("--log-format %q: want text or json", g.logFormat)
}

// newFlagSet makes a command's flag set, with the global flags bound too.
func newFlagSet(name, synopsis string, g *globals, stderr io.Writer) *flag.FlagSet {
	return flagSetListing(name, synopsis, g, stderr, "data", "db", "env", "log-level", "log-format")
}

// flagSetListing is a command's flag set that takes every global flag (a
// script may pass them after any command) but lists in its help, besides
// its own, only the global flags named in listed: those the command honours.
// token and package honour none, witness only the log's.
func flagSetListing(name, synopsis string, g *globals, stderr io.Writer, listed ...string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	g.bind(fs)
	hidden := map[string]bool{}
	fs.VisitAll(func(f *flag.Flag) { hidden[f.Name] = !slices.Contains(listed, f.Name) })
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: deling %s\n\nFlags:\n", synopsis)
		shown := flag.NewFlagSet(name, flag.ContinueOnError)
		shown.SetOutput(fs.Output())
		fs.VisitAll(func(f *flag.Flag) {
			if !hidden[f.Name] {
				shown.Var(f.Value, f.Name, f.Usage)
				shown.Lookup(f.Name).DefValue = f.DefValue
			}
		})
		shown.PrintDefaults()
	}
	return fs
}

// parse parses a command's flags; -h prints usage and returns errUsage.
// flagSet reports whether the flag was given on the command line.
func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

func parse(fs *flag.FlagSet, args []string) error {
	// The flag package prints the usage before it says why; keep it until
	// it is known whether help was asked for (stdout) or a flag was wrong.
	var buf bytes.Buffer
	out := fs.Output()
	fs.SetOutput(&buf)
	err := fs.Parse(args)
	fs.SetOutput(out)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return helpText(buf.String())
	case err != nil:
		io.Copy(out, &buf)
		return errUsage
	}
	return nil
}

// isHelp reports whether a command's first argument asks for help.
func isHelp(arg string) bool {
	switch arg {
	case "-h", "-help", "--help", "--h", "help":
		return true
	}
	return false
}

// run is the whole program, with its environment passed in so that tests can call it.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	err := dispatch(ctx, args, getenv, stdin, stdout, stderr)
	var help helpText
	if errors.As(err, &help) {
		_, err = fmt.Fprint(stdout, string(help))
		return err
	}
	return err
}

func dispatch(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	g := &globals{data: getenv("DELING_DATA"), db: getenv("DELING_DB"), env: getenv("DELING_ENV"), logLevel: "info", logFormat: "text"}
	if g.data == "" {
		g.data = "./deling-data"
	}
	if g.env == "" {
		g.env = string(register.EnvTest)
	}
	top := flag.NewFlagSet("deling", flag.ContinueOnError)
	top.SetOutput(stderr)
	top.Usage = func() { fmt.Fprint(top.Output(), usage) }
	g.bind(top)
	if err := parse(top, args); err != nil {
		return err
	}
	if top.NArg() == 0 {
		fmt.Fprint(stderr, usage)
		return errUsage
	}
	cmd, rest := top.Arg(0), top.Args()[1:]
	if discardLog && cmd != "bench" && cmd != "version" && cmd != "help" {
		return fmt.Errorf("this binary was built with -tags benchdiscard: its lookup log keeps nothing, so it runs only `deling bench`")
	}
	switch cmd {
	case "serve":
		return runServe(ctx, g, rest, getenv, stdout, stderr)
	case "seed":
		return runSeed(ctx, g, rest, stdout, stderr)
	case "import":
		return runImport(ctx, g, rest, stdin, stdout, stderr)
	case "consumer":
		return runConsumer(ctx, g, rest, getenv, stdout, stderr)
	case "client":
		return runClient(ctx, g, rest, getenv, stdout, stderr)
	case "grant":
		return runGrant(ctx, g, rest, getenv, stdout, stderr)
	case "delegation":
		return runDelegation(ctx, g, rest, getenv, stdout, stderr)
	case "package":
		return runPackage(ctx, g, rest, stdout, stderr)
	case "token":
		return runToken(ctx, g, rest, stdout, stderr)
	case "audit":
		return runAudit(ctx, g, rest, getenv, stdin, stdout, stderr)
	case "witness":
		return runWitness(ctx, g, rest, getenv, stdout, stderr)
	case "enhetsregisteret":
		return runEnhetsregisteret(ctx, g, rest, getenv, stdout, stderr)
	case "user":
		return runUser(ctx, g, rest, getenv, stdin, stdout, stderr)
	case "keys":
		return runKeys(ctx, g, rest, getenv, stdout, stderr)
	case "bench":
		return runBench(ctx, g, rest, getenv, stdout, stderr)
	case "migrate":
		return runMigrate(ctx, g, rest, stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, versionLine())
		return nil
	case "help":
		if len(rest) > 0 && rest[0] != "help" {
			return dispatch(ctx, []string{rest[0], "--help"}, getenv, stdin, stdout, stderr) // deling help serve
		}
		return helpText(usage)
	}
	fmt.Fprintf(stderr, "deling: unknown command %q\n\n%s", cmd, usage)
	return errUsage
}

// version is set at build time with -ldflags "-X main.version=…"; without
// it, the module version and VCS revision come from the build info.
var version = "dev"

// versionLine is what 'deling version' prints: the version, and the VCS
// revision and time the binary was built from, when Go recorded them.
func versionLine() string {
	v, rev, at, dirty := buildVersion()
	line := "deling " + v
	if rev != "" {
		line += " (revision " + rev
		if dirty {
			line += ", modified"
		}
		if at != "" {
			line += ", " + at
		}
		line += ")"
	}
	line += " " + runtime.Version()
	if discardLog {
		line += " (benchdiscard: lookups are not logged)"
	}
	return line
}

// buildVersion is the version, and the VCS revision (12 digits) and time the
// binary was built from when Go recorded them.
func buildVersion() (v, rev, at string, dirty bool) {
	v = version
	if bi, ok := debug.ReadBuildInfo(); ok {
		if v == "dev" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			v = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.time":
				at = s.Value
			case "vcs.modified":
				dirty = s.Value == "true"
			}
		}
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	return v, rev, at, dirty
}

// Package pgtest runs a throwaway PostgreSQL server for tests.
//
// It uses the PostgreSQL binaries already on the machine (Debian's
// /usr/lib/postgresql/*/bin, or initdb and pg_ctl on PATH): no Docker, no
// downloads. Each Start makes a new cluster in a new temporary directory,
// tuned for speed rather than durability, and each test takes its own
// database from NewDatabase. It is for tests only; nothing it stores survives.
package pgtest

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// ErrUnavailable is returned (wrapped) by Start when no PostgreSQL binaries
// are installed, so callers can skip rather than fail on a developer machine.
var ErrUnavailable = errors.New("pgtest: PostgreSQL is not installed")

// Server is a running throwaway cluster, or a server named by TEST_PG_DSN.
// Its methods are safe for concurrent use.
type Server struct {
	dsn string
	seq atomic.Uint64 // numbers the databases NewDatabase makes

	// Empty when the server came from TEST_PG_DSN.
	dir   string // temporary directory: data/, log, unix socket
	port  int    // the TCP port it listens on
	bin   string // directory holding initdb and pg_ctl
	runAs string // "postgres" when we are root, else ""

	// The watchdog stops the cluster and removes dir if this process dies
	// without calling Stop (a panicking or timed-out test, Ctrl-C).
	watchdog     *exec.Cmd
	watchdogPipe *os.File

	stopOnce sync.Once
	stopErr  error

	tmplMu    sync.Mutex
	templates map[string]*template // by the key given to NewDatabaseFrom
}

// template is a database prepared once, copied by NewDatabaseFrom.
type template struct {
	once sync.Once
	name string
	err  error
}

// Start initialises and starts a cluster on a free loopback port, waits until
// it accepts connections, and returns it. The cluster listens on 127.0.0.1
// and on a unix socket in its temporary directory, with fsync,
// synchronous_commit and full_page_writes off.
//
// If TEST_PG_DSN is set, Start uses that server instead and starts nothing.
func Start() (*Server, error) {
	if dsn := os.Getenv("TEST_PG_DSN"); dsn != "" {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := ping(ctx, dsn); err != nil {
			return nil, fmt.Errorf("pgtest: TEST_PG_DSN: %w", err)
		}
		return &Server{dsn: dsn}, nil
	}

	bin, err := findBin()
	if err != nil {
		return nil, err
	}
	s := &Server{bin: bin}
	if os.Geteuid() == 0 {
		// initdb and postgres refuse to run as root.
		if _, err := exec.LookPath("runuser"); err != nil {
			return nil, fmt.Errorf("pgtest: running as root needs runuser: %w", err)
		}
		s.runAs = "postgres"
	}
	if err = s.makeDir(); err == nil {
		err = s.start()
	}
	if err != nil {
		if stopErr := s.Stop(); stopErr != nil {
			err = fmt.Errorf("%w (cleanup: %v)", err, stopErr)
		}
		return nil, err
	}
	return s, nil
}

func (s *Server) start() error {
	data := filepath.Join(s.dir, "data")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	// C.UTF-8 sorts like C but knows the Unicode character classes;
	// initdb rejects it where the C library lacks it.
	var initErr error
	for _, locale := range []string{"C.UTF-8", "C"} {
		out, err := s.command(ctx, "initdb", "-D", data, "-U", "postgres", "-A", "trust",
			"-E", "UTF8", "--locale="+locale, "--no-sync").CombinedOutput()
		if err == nil {
			initErr = nil
			break
		}
		initErr = errors.Join(initErr, fmt.Errorf("pgtest: initdb --locale=%s: %w\n%s", locale, err, out))
		os.RemoveAll(data)
	}
	if initErr != nil {
		return initErr
	}

	conf := fmt.Sprintf("\n# pgtest\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '%s'\n"+
		"fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n",
		strings.ReplaceAll(s.dir, "'", "''"))
	if err := appendFile(filepath.Join(data, "postgresql.conf"), conf); err != nil {
		return fmt.Errorf("pgtest: %w", err)
	}

	if err := s.startWatchdog(data); err != nil {
		return err
	}
	return s.launch(ctx, 0)
}

// launch starts the server in s.dir/data on port, or on a free port when
// port is 0, and waits until it accepts TCP connections.
func (s *Server) launch(ctx context.Context, port int) error {
	data := filepath.Join(s.dir, "data")
	logFile := filepath.Join(s.dir, "log")
	for attempt := 1; ; attempt++ {
		p, err := port, error(nil)
		if p == 0 {
			if p, err = freePort(); err != nil {
				return fmt.Errorf("pgtest: pick a port: %w", err)
			}
		}
		os.Remove(logFile) // so the tail below is this attempt's
		out, err := s.command(ctx, "pg_ctl", "-D", data, "-l", logFile, "-w", "-t", "60",
			"-o", "-p "+strconv.Itoa(p), "start").CombinedOutput()
		if err == nil {
			s.port = p
			s.dsn = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", p)
			break
		}
		tail := tailFile(logFile, 4096)
		// Another process may have taken the port since freePort closed it.
		if port == 0 && attempt < 3 && strings.Contains(tail, "could not bind") {
			continue
		}
		return fmt.Errorf("pgtest: pg_ctl start: %w\n%s\nserver log (tail):\n%s", err, out, tail)
	}

	// pg_ctl -w has seen the server ready; make sure TCP works too.
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := ping(ctx, s.dsn)
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("pgtest: server started but refuses connections: %w\nserver log (tail):\n%s",
				err, tailFile(logFile, 4096))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// makeDir makes the server's temporary directory, owned by the user the
// server runs as.
func (s *Server) makeDir() error {
	// Not t.TempDir: its parent is private to root, and postgres must reach it.
	dir, err := os.MkdirTemp("", "pgtest-")
	if err != nil {
		return fmt.Errorf("pgtest: %w", err)
	}
	s.dir = dir
	if s.runAs == "" {
		return nil
	}
	u, err := user.Lookup(s.runAs)
	if err != nil {
		return fmt.Errorf("pgtest: running as root needs a %s user: %w", s.runAs, err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return os.Chown(dir, uid, gid)
}

// Standby starts a streaming replica of the cluster on a free loopback port
// (pg_basebackup -R): a hot standby that replays the primary's WAL and
// answers read-only queries, for tests of reads from a replica. It copies the
// whole cluster, so databases made before and after it both appear on it
// (DSNFor names one). Stop it before the primary; Shutdown and Restart take
// it down and back up on the same port. Not for a TEST_PG_DSN server.
func (s *Server) Standby(ctx context.Context) (*Server, error) {
	if s.dir == "" {
		return nil, fmt.Errorf("%w: a standby needs a cluster pgtest started, not TEST_PG_DSN", ErrUnavailable)
	}
	st := &Server{bin: s.bin, runAs: s.runAs}
	err := st.makeDir()
	if err == nil {
		data := filepath.Join(st.dir, "data")
		out, berr := st.command(ctx, "pg_basebackup", "-d", s.dsn, "-D", data, "-R", "-X", "stream", "-c", "fast", "--no-sync").CombinedOutput()
		if berr != nil {
			err = fmt.Errorf("pgtest: pg_basebackup: %w\n%s", berr, out)
		} else if err = appendFile(filepath.Join(data, "postgresql.conf"), fmt.Sprintf("\n# pgtest standby\nunix_socket_directories = '%s'\n",
			strings.ReplaceAll(st.dir, "'", "''"))); err == nil {
			if err = st.startWatchdog(data); err == nil {
				err = st.launch(ctx, 0)
			}
		}
	}
	if err != nil {
		return nil, errors.Join(err, st.Stop())
	}
	return st, nil
}

// Shutdown stops the server (fast mode) and keeps its data, for Restart.
func (s *Server) Shutdown(ctx context.Context) error {
	out, err := s.command(ctx, "pg_ctl", "-D", filepath.Join(s.dir, "data"), "-m", "fast", "-w", "-t", "30", "stop").CombinedOutput()
	if err != nil {
		return fmt.Errorf("pgtest: pg_ctl stop: %w\n%s", err, out)
	}
	return nil
}

// Restart starts a server that Shutdown stopped, on the port it had.
func (s *Server) Restart(ctx context.Context) error { return s.launch(ctx, s.port) }

// DSNFor is the URL of dsn's database on this server: on a standby, the
// replica of a database made on its primary.
func (s *Server) DSNFor(dsn string) (string, error) {
	u, err := url.Parse(dsn)
	if err != nil {
		return "", fmt.Errorf("pgtest: parse DSN: %w", err)
	}
	return withDatabase(s.dsn, strings.TrimPrefix(u.Path, "/"))
}

// startWatchdog starts a shell that waits for EOF on a pipe whose only writer
// is this process. The kernel closes the pipe when this process exits, however
// it exits; the shell then stops the cluster and removes the directory. The
// postmaster is in its own session (pg_ctl calls setsid), so nothing else
// would stop it. The shell ignores the signals that Ctrl-C and a terminal
// hang-up send, so it outlives the test binary.
func (s *Server) startWatchdog(data string) error {
	runAs := ""
	if s.runAs != "" {
		runAs = "runuser -u " + s.runAs + " -- "
	}
	script := `trap '' INT HUP TERM; read x; ` + runAs +
		`"$3" -D "$1" -m immediate -w -t 30 stop >/dev/null 2>&1; rm -rf "$2"`
	r, w, err := os.Pipe()
	if err != nil {
		return fmt.Errorf("pgtest: watchdog: %w", err)
	}
	cmd := exec.Command("/bin/sh", "-c", script, "pgtest-watchdog", data, s.dir, filepath.Join(s.bin, "pg_ctl"))
	cmd.Stdin = r
	cmd.Dir = s.dir
	err = cmd.Start()
	r.Close()
	if err != nil {
		w.Close()
		return fmt.Errorf("pgtest: watchdog: %w", err)
	}
	s.watchdog, s.watchdogPipe = cmd, w
	return nil
}

// DSN returns the URL of the server's postgres database, e.g.
// postgres://postgres@127.0.0.1:PORT/postgres?sslmode=disable.
func (s *Server) DSN() string { return s.dsn }

// NewDatabase creates a fresh, uniquely named database on the server and
// returns its DSN, so that tests do not see each other's rows.
func (s *Server) NewDatabase(ctx context.Context) (string, error) {
	_, dsn, err := s.createDatabase(ctx, "")
	return dsn, err
}

// createDatabase creates a uniquely named database, a copy of template if
// that is not empty, and returns its name and DSN.
func (s *Server) createDatabase(ctx context.Context, template string) (name, dsn string, err error) {
	name = fmt.Sprintf("t_%d_%s", s.seq.Add(1), strings.ToLower(rand.Text()[:10]))
	conn, err := pgx.Connect(ctx, s.dsn)
	if err != nil {
		return "", "", fmt.Errorf("pgtest: new database: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	sql := "CREATE DATABASE " + pgx.Identifier{name}.Sanitize()
	if template != "" {
		sql += " TEMPLATE " + pgx.Identifier{template}.Sanitize()
	}
	if _, err := conn.Exec(ctx, sql); err != nil {
		return "", "", fmt.Errorf("pgtest: create database %s: %w", name, err)
	}
	dsn, err = withDatabase(s.dsn, name)
	return name, dsn, err
}

// NewDatabaseFrom is NewDatabase with the database made as a copy of a
// template (CREATE DATABASE … TEMPLATE): the first call for a key creates the
// template database and runs prepare on it (e.g. migrations), later calls with
// the same key copy it, which is much faster than preparing each database
// anew. prepare must close its connections before it returns; the template
// then refuses connections, so no test can change it by mistake. A failed
// prepare fails every call for that key.
func (s *Server) NewDatabaseFrom(ctx context.Context, key string, prepare func(ctx context.Context, dsn string) error) (string, error) {
	s.tmplMu.Lock()
	if s.templates == nil {
		s.templates = map[string]*template{}
	}
	tp := s.templates[key]
	if tp == nil {
		tp = &template{}
		s.templates[key] = tp
	}
	s.tmplMu.Unlock()
	tp.once.Do(func() { tp.name, tp.err = s.makeTemplate(ctx, prepare) })
	if tp.err != nil {
		return "", fmt.Errorf("pgtest: template %q: %w", key, tp.err)
	}
	_, dsn, err := s.createDatabase(ctx, tp.name)
	return dsn, err
}

// makeTemplate creates a database, runs prepare on it and closes it to connections.
func (s *Server) makeTemplate(ctx context.Context, prepare func(ctx context.Context, dsn string) error) (string, error) {
	name, dsn, err := s.createDatabase(ctx, "")
	if err != nil {
		return "", err
	}
	if err := prepare(ctx, dsn); err != nil {
		return "", err
	}
	conn, err := pgx.Connect(ctx, s.dsn)
	if err != nil {
		return "", err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	_, err = conn.Exec(ctx, "ALTER DATABASE "+pgx.Identifier{name}.Sanitize()+" WITH ALLOW_CONNECTIONS false")
	return name, err
}

// ErrNoLocale is NewCollatedDatabase's answer when the server can make no
// database with a non-C collation.
var ErrNoLocale = errors.New("pgtest: no non-C collation available (neither a libc nb_NO/en_US UTF-8 locale nor ICU)")

// NewCollatedDatabase is NewDatabase with a natural-language collation, as
// a production database made by README's CREATE DATABASE has: text does not
// sort by bytes there, so a query that relies on byte order shows its bug.
// It tries the libc locales nb_NO.UTF-8 and en_US.UTF-8 and then ICU's nb-NO
// with punctuation ignorable (ka-shifted, as glibc's locales treat it);
// ErrNoLocale if none can be made.
func (s *Server) NewCollatedDatabase(ctx context.Context) (string, error) {
	conn, err := pgx.Connect(ctx, s.dsn)
	if err != nil {
		return "", fmt.Errorf("pgtest: new database: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	for _, locale := range []string{
		"LC_COLLATE 'nb_NO.UTF-8' LC_CTYPE 'nb_NO.UTF-8'",
		"LC_COLLATE 'en_US.UTF-8' LC_CTYPE 'en_US.UTF-8'",
		"LOCALE_PROVIDER icu ICU_LOCALE 'nb-NO-u-ka-shifted'",
	} {
		name := fmt.Sprintf("t_%d_%s", s.seq.Add(1), strings.ToLower(rand.Text()[:10]))
		if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()+" TEMPLATE template0 ENCODING 'UTF8' "+locale); err == nil {
			return withDatabase(s.dsn, name)
		}
	}
	return "", ErrNoLocale
}

// Stop shuts the cluster down (fast mode) and removes its directory. It is
// safe to call more than once, and on a nil Server. For a TEST_PG_DSN server
// it does nothing.
func (s *Server) Stop() error {
	if s == nil || s.dir == "" {
		return nil
	}
	s.stopOnce.Do(func() { s.stopErr = s.stop() })
	return s.stopErr
}

func (s *Server) stop() error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var errs []error
	data := filepath.Join(s.dir, "data")
	if _, err := os.Stat(filepath.Join(data, "postmaster.pid")); err == nil {
		out, err := s.command(ctx, "pg_ctl", "-D", data, "-m", "fast", "-w", "-t", "30", "stop").CombinedOutput()
		if err != nil {
			errs = append(errs, fmt.Errorf("pgtest: pg_ctl stop: %w\n%s", err, out))
			s.command(ctx, "pg_ctl", "-D", data, "-m", "immediate", "-w", "-t", "30", "stop").Run()
		}
	}
	if s.watchdog != nil {
		s.watchdog.Process.Kill()
		s.watchdog.Wait()
		s.watchdogPipe.Close()
	}
	if err := os.RemoveAll(s.dir); err != nil {
		errs = append(errs, fmt.Errorf("pgtest: %w", err))
	}
	return errors.Join(errs...)
}

// Required reports whether a missing PostgreSQL must fail the tests rather
// than skip them: in CI (CI set to anything but "", "0" or "false"), or when
// DELING_TEST_PG=require.
func Required() bool {
	if os.Getenv("DELING_TEST_PG") == "require" {
		return true
	}
	ci := os.Getenv("CI")
	return ci != "" && ci != "0" && !strings.EqualFold(ci, "false")
}

// ForTest starts a server of its own for one test, stopped when the test
// ends, and gives it with a fresh database. It skips the test under -short
// (saying why) and when PostgreSQL is not installed and not Required.
func ForTest(t testing.TB, why string) (*Server, string) {
	t.Helper()
	if testing.Short() {
		t.Skip(why)
	}
	pg, err := Start()
	if errors.Is(err, ErrUnavailable) && !Required() {
		t.Skip("PostgreSQL is not installed (CI=true makes this a failure)")
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pg.Stop() })
	dsn, err := pg.NewDatabase(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return pg, dsn
}

// Main runs a package's tests around a server:
//
//	var srv *pgtest.Server
//
//	func TestMain(m *testing.M) { os.Exit(pgtest.Main(m, &srv)) }
//
// If PostgreSQL is not installed and not Required, Main says so on stderr and
// runs the tests with *srv nil; they should skip. Any other failure to start
// returns exit code 1 without running the tests.
func Main(m *testing.M, srv **Server) int {
	s, err := Start()
	switch {
	case err == nil:
	case errors.Is(err, ErrUnavailable) && !Required():
		fmt.Fprintf(os.Stderr, "%v; skipping the tests that need it\n", err)
		return m.Run()
	case errors.Is(err, ErrUnavailable):
		fmt.Fprintf(os.Stderr, "%v; failing, because CI or DELING_TEST_PG=require says PostgreSQL is required\n", err)
		return 1
	default:
		fmt.Fprintf(os.Stderr, "%v\n", err)
		return 1
	}
	*srv = s
	code := m.Run()
	if err := s.Stop(); err != nil {
		fmt.Fprintf(os.Stderr, "%v\n", err)
		if code == 0 {
			code = 1
		}
	}
	return code
}

// command runs a PostgreSQL binary, as the postgres user when we are root.
// It runs in the cluster directory: postgres fails if it cannot read its
// working directory.
func (s *Server) command(ctx context.Context, name string, args ...string) *exec.Cmd {
	name = filepath.Join(s.bin, name)
	if s.runAs != "" {
		args = append([]string{"-u", s.runAs, "--", name}, args...)
		name = "runuser"
	}
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = s.dir
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

// findBin returns the directory holding initdb and pg_ctl, preferring the
// newest Debian-packaged version.
func findBin() (string, error) {
	var dirs []string
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	slices.SortFunc(matches, func(a, b string) int { return compareVersions(b, a) })
	for _, m := range matches {
		dirs = append(dirs, filepath.Dir(m))
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		dirs = append(dirs, filepath.Dir(p))
	}
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "pg_ctl")); err == nil {
			return d, nil
		}
	}
	return "", fmt.Errorf("%w: no initdb and pg_ctl in /usr/lib/postgresql/*/bin or on PATH (apt-get install postgresql)", ErrUnavailable)
}

// compareVersions compares /usr/lib/postgresql/<version>/bin/initdb paths by
// version, numerically, so that 15 sorts after 9.6.
func compareVersions(a, b string) int {
	va := strings.Split(filepath.Base(filepath.Dir(filepath.Dir(a))), ".")
	vb := strings.Split(filepath.Base(filepath.Dir(filepath.Dir(b))), ".")
	return slices.CompareFunc(va, vb, func(x, y string) int {
		nx, _ := strconv.Atoi(x)
		ny, _ := strconv.Atoi(y)
		return nx - ny
	})
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func ping(ctx context.Context, dsn string) error {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	return conn.Ping(ctx)
}

// withDatabase returns dsn with its database replaced by name. dsn is a URL
// or, from TEST_PG_DSN, possibly a keyword/value string.
func withDatabase(dsn, name string) (string, error) {
	if !strings.HasPrefix(dsn, "postgres://") && !strings.HasPrefix(dsn, "postgresql://") {
		return dsn + " dbname=" + name, nil // a later keyword wins
	}
	u, err := url.Parse(dsn)
	if err != nil {
		return "", fmt.Errorf("pgtest: parse DSN: %w", err)
	}
	u.Path, u.RawPath = "/"+name, ""
	return u.String(), nil
}

func appendFile(path, text string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return err
	}
	_, err = f.WriteString(text)
	return errors.Join(err, f.Close())
}

// tailFile returns about the last n bytes of a file, from a line start.
func tailFile(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(no log: %v)", err)
	}
	if len(b) > n {
		b = b[len(b)-n:]
		if i := strings.IndexByte(string(b), '\n'); i >= 0 {
			b = b[i+1:]
		}
	}
	return strings.TrimSpace(string(b))
}

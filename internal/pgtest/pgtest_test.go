package pgtest_test

import (
	"context"
	"errors"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"deling/internal/pgtest"
)

var srv *pgtest.Server

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m, &srv)) }

func needServer(t *testing.T) {
	t.Helper()
	if srv == nil {
		t.Skip("PostgreSQL is not installed")
	}
}

func connect(t *testing.T, dsn string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatalf("connect %s: %v", dsn, err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func TestNewDatabaseIsolated(t *testing.T) {
	needServer(t)
	ctx := t.Context()
	dsnA, err := srv.NewDatabase(ctx)
	if err != nil {
		t.Fatal(err)
	}
	dsnB, err := srv.NewDatabase(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if dsnA == dsnB {
		t.Fatalf("two databases share the DSN %s", dsnA)
	}
	a, b := connect(t, dsnA), connect(t, dsnB)

	var nameA, nameB string
	for _, c := range []struct {
		conn *pgx.Conn
		name *string
	}{{a, &nameA}, {b, &nameB}} {
		var one int
		if err := c.conn.QueryRow(ctx, "SELECT 1").Scan(&one); err != nil || one != 1 {
			t.Fatalf("SELECT 1 = %d, %v; want 1, nil", one, err)
		}
		if _, err := c.conn.Exec(ctx, "CREATE TABLE t (id int PRIMARY KEY, s text)"); err != nil {
			t.Fatal(err)
		}
		if _, err := c.conn.Exec(ctx, "INSERT INTO t VALUES ($1, $2)", 1, "æøå"); err != nil {
			t.Fatal(err)
		}
		var s string
		if err := c.conn.QueryRow(ctx, "SELECT s FROM t WHERE id = 1").Scan(&s); err != nil || s != "æøå" {
			t.Fatalf("got %q, %v; want %q, nil", s, err, "æøå")
		}
		if err := c.conn.QueryRow(ctx, "SELECT current_database()").Scan(c.name); err != nil {
			t.Fatal(err)
		}
	}
	if nameA == nameB {
		t.Fatalf("both DSNs connect to database %s", nameA)
	}

	if _, err := a.Exec(ctx, "CREATE TABLE only_in_a (id int)"); err != nil {
		t.Fatal(err)
	}
	_, err = b.Exec(ctx, "SELECT * FROM only_in_a")
	if pgErr, ok := errors.AsType[*pgconn.PgError](err); !ok || pgErr.Code != "42P01" {
		t.Fatalf("querying a's table from b: got %v, want undefined_table (42P01)", err)
	}
}

// A collated database sorts text as a language does, not by bytes: the
// punctuation that byte order puts between "part." and "part/" is no
// boundary there.
func TestNewCollatedDatabase(t *testing.T) {
	needServer(t)
	ctx := t.Context()
	dsn, err := srv.NewCollatedDatabase(ctx)
	if errors.Is(err, pgtest.ErrNoLocale) {
		t.Skip(err)
	} else if err != nil {
		t.Fatal(err)
	}
	var inRange bool
	if err := connect(t, dsn).QueryRow(ctx, `SELECT 'part.x1' >= 'part.' AND 'part.x1' < 'part/'`).Scan(&inRange); err != nil {
		t.Fatal(err)
	}
	if inRange {
		t.Fatal("the collated database sorts 'part.x1' between 'part.' and 'part/', as bytes do")
	}
}

func TestServerSettings(t *testing.T) {
	needServer(t)
	if os.Getenv("TEST_PG_DSN") != "" {
		t.Skip("settings belong to the TEST_PG_DSN server")
	}
	conn := connect(t, srv.DSN())
	for name, want := range map[string]string{
		"server_encoding":    "UTF8",
		"fsync":              "off",
		"synchronous_commit": "off",
		"full_page_writes":   "off",
		"listen_addresses":   "127.0.0.1",
	} {
		var got string
		if err := conn.QueryRow(t.Context(), "SELECT current_setting($1)", name).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	var collate string
	if err := conn.QueryRow(t.Context(), "SELECT datcollate FROM pg_database WHERE datname = 'postgres'").Scan(&collate); err != nil {
		t.Fatal(err)
	}
	if collate != "C.UTF-8" && collate != "C" {
		t.Errorf("datcollate = %q, want C.UTF-8 or C", collate)
	}
}

func TestNewDatabaseConcurrent(t *testing.T) {
	needServer(t)
	const n = 4
	dsns := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { dsns[i], errs[i] = srv.NewDatabase(t.Context()) })
	}
	wg.Wait()
	seen := map[string]bool{}
	for i := range n {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if seen[dsns[i]] {
			t.Fatalf("DSN %s returned twice", dsns[i])
		}
		seen[dsns[i]] = true
	}
}

func TestStopTwice(t *testing.T) {
	needServer(t)
	if os.Getenv("TEST_PG_DSN") != "" {
		t.Skip("Start uses TEST_PG_DSN and starts nothing")
	}
	s, err := pgtest.Start()
	if err != nil {
		t.Fatal(err)
	}
	dir := s.Dir()
	if err := s.Stop(); err != nil {
		t.Fatalf("first Stop: %v", err)
	}
	if err := s.Stop(); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("after Stop, stat %s: %v; want not exist", dir, err)
	}
	if conn, err := pgx.Connect(t.Context(), s.DSN()); err == nil {
		conn.Close(context.Background())
		t.Errorf("connected to %s after Stop", s.DSN())
	}
}

func TestRequired(t *testing.T) {
	tests := []struct {
		ci, pg string
		want   bool
	}{
		{"", "", false},
		{"true", "", true},
		{"1", "", true},
		{"false", "", false},
		{"FALSE", "", false},
		{"0", "", false},
		{"", "require", true},
		{"false", "require", true},
		{"", "yes", false},
	}
	for _, tt := range tests {
		t.Setenv("CI", tt.ci)
		t.Setenv("DELING_TEST_PG", tt.pg)
		if got := pgtest.Required(); got != tt.want {
			t.Errorf("CI=%q DELING_TEST_PG=%q: Required() = %v, want %v", tt.ci, tt.pg, got, tt.want)
		}
	}
}

func TestNewDatabaseFrom(t *testing.T) {
	needServer(t)
	ctx := t.Context()
	prepared := 0
	prepare := func(ctx context.Context, dsn string) error {
		prepared++
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			return err
		}
		defer conn.Close(context.WithoutCancel(ctx))
		_, err = conn.Exec(ctx, "CREATE TABLE seeded (id int PRIMARY KEY); INSERT INTO seeded VALUES (7)")
		return err
	}
	// Concurrent first calls prepare the template once.
	const n = 3
	dsns := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { dsns[i], errs[i] = srv.NewDatabaseFrom(ctx, "seeded", prepare) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if prepared != 1 {
		t.Fatalf("prepare ran %d times, want 1", prepared)
	}
	if dsns[0] == dsns[1] {
		t.Fatalf("two databases share the DSN %s", dsns[0])
	}
	a, b := connect(t, dsns[0]), connect(t, dsns[1])
	// Each copy holds what prepare made, and a change to one is not seen by another.
	if _, err := a.Exec(ctx, "INSERT INTO seeded VALUES (8)"); err != nil {
		t.Fatal(err)
	}
	var count int
	if err := b.QueryRow(ctx, "SELECT count(*) FROM seeded WHERE id = 7").Scan(&count); err != nil || count != 1 {
		t.Fatalf("copy b holds %d rows of the template's, %v; want 1", count, err)
	}
	if err := b.QueryRow(ctx, "SELECT count(*) FROM seeded").Scan(&count); err != nil || count != 1 {
		t.Fatalf("copy b holds %d rows, %v; want 1 (a's insert must not reach it)", count, err)
	}

	// A failed prepare fails every call for its key, and runs once.
	failed := 0
	fail := func(context.Context, string) error { failed++; return errors.New("broken migration") }
	for range 2 {
		if _, err := srv.NewDatabaseFrom(ctx, "broken", fail); err == nil {
			t.Fatal("NewDatabaseFrom with a failing prepare: got no error")
		}
	}
	if failed != 1 {
		t.Fatalf("failing prepare ran %d times, want 1", failed)
	}
}

// waitFor polls q on conn until it returns want (replication is asynchronous).
func waitFor(t *testing.T, conn *pgx.Conn, q string, want int) {
	t.Helper()
	got := -1
	for range 500 {
		if err := conn.QueryRow(t.Context(), q).Scan(&got); err == nil && got == want {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("%s = %d; want %d", q, got, want)
}

func TestStandbyReplicates(t *testing.T) {
	needServer(t)
	ctx := t.Context()
	st, err := srv.Standby(ctx)
	if errors.Is(err, pgtest.ErrUnavailable) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer st.Stop()
	dsn, err := srv.NewDatabase(ctx) // made after the standby: it replicates the whole cluster
	if err != nil {
		t.Fatal(err)
	}
	primary := connect(t, dsn)
	if _, err := primary.Exec(ctx, "CREATE TABLE t (n int); INSERT INTO t VALUES (1)"); err != nil {
		t.Fatal(err)
	}
	replicaDSN, err := st.DSNFor(dsn)
	if err != nil {
		t.Fatal(err)
	}
	var replica *pgx.Conn
	for range 500 { // the database appears once its creation is replayed
		if replica, err = pgx.Connect(ctx, replicaDSN); err == nil {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("connect to the replica: %v", err)
	}
	defer replica.Close(context.Background())
	waitFor(t, replica, "SELECT count(*) FROM t", 1)
	if _, err := replica.Exec(ctx, "INSERT INTO t VALUES (2)"); err == nil {
		t.Fatal("the standby took a write")
	}

	// Replay paused, the primary's new row stays off the standby until resumed.
	if _, err := replica.Exec(ctx, "SELECT pg_wal_replay_pause()"); err != nil {
		t.Fatal(err)
	}
	if _, err := primary.Exec(ctx, "INSERT INTO t VALUES (2)"); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := replica.QueryRow(ctx, "SELECT count(*) FROM t").Scan(&n); err != nil || n != 1 {
		t.Fatalf("paused standby: count = %d, %v; want 1", n, err)
	}
	if _, err := replica.Exec(ctx, "SELECT pg_wal_replay_resume()"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, replica, "SELECT count(*) FROM t", 2)
	replica.Close(ctx)

	// Down and back up on the same port, it catches up with what it missed.
	if err := st.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if c, err := pgx.Connect(ctx, replicaDSN); err == nil {
		c.Close(ctx)
		t.Fatal("connected to a standby that was shut down")
	}
	if _, err := primary.Exec(ctx, "INSERT INTO t VALUES (3)"); err != nil {
		t.Fatal(err)
	}
	if err := st.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, connect(t, replicaDSN), "SELECT count(*) FROM t", 3)
}

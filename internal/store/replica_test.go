package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"deling/internal/pgtest"
	"deling/internal/register"
)

// standby starts a streaming replica of the test server for one test.
func standby(t *testing.T) *pgtest.Server {
	t.Helper()
	if pg == nil {
		t.Skip("PostgreSQL is not installed (CI=true makes this a failure)")
	}
	st, err := pg.Standby(t.Context())
	if errors.Is(err, pgtest.ErrUnavailable) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Stop() })
	return st
}

// replicaOf is the URL of dsn's database on st, once its creation has been replayed there.
func replicaOf(t *testing.T, st *pgtest.Server, dsn string) (string, *sql.DB) {
	t.Helper()
	rdsn, err := st.DSNFor(dsn)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := sql.Open("pgx", rdsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	for range 500 {
		if err = conn.PingContext(t.Context()); err == nil {
			return rdsn, conn
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("the replica of %s: %v", dsn, err)
	return "", nil
}

// pauseReplay stops the standby applying the primary's changes until resumed.
func pauseReplay(t *testing.T, conn *sql.DB) {
	t.Helper()
	if _, err := conn.ExecContext(t.Context(), "SELECT pg_wal_replay_pause()"); err != nil {
		t.Fatal(err)
	}
	for range 500 {
		var state string
		if err := conn.QueryRowContext(t.Context(), "SELECT pg_get_wal_replay_pause_state()").Scan(&state); err != nil {
			t.Fatal(err)
		}
		if state == "paused" {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("replay did not pause")
}

// settableClock is a clock the test moves.
type settableClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *settableClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *settableClock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// eventually calls f until it returns nil, measuring the replica between calls.
func eventually(t *testing.T, db *DB, what string, f func() error) {
	t.Helper()
	var err error
	for range 500 {
		db.measureReplica(t.Context())
		if err = f(); err == nil {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("%s: %v", what, err)
}

func TestReadReplica(t *testing.T) {
	st := standby(t)
	ctx := t.Context()
	dsn := newPostgres(t)
	rdsn, replica := replicaOf(t, st, dsn)
	clock := &settableClock{t: fixedNow()}
	db, err := Open(ctx, Config{URL: dsn, ReadURL: rdsn, Now: clock.now})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	a := register.Person{Ident: "01017012345", Fornavn: "Kari", Etternavn: "Replika", Adressebeskyttelse: "ugradert", Status: "bosatt"}
	if _, err := db.UpsertPersons(ctx, []register.Person{a}); err != nil {
		t.Fatal(err)
	}
	eventually(t, db, "person written on the primary, read from the replica", func() error { _, err := db.Person(ctx, a.Ident); return err })

	// Replay paused: a person written on the primary is not found, so the
	// register is read from the replica; the rest of the store reads the primary.
	pauseReplay(t, replica)
	b := a
	b.Ident, b.Fornavn = "02017012345", "Ola"
	if _, err := db.UpsertPersons(ctx, []register.Person{b}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Person(ctx, b.Ident); !errors.Is(err, ErrNotFound) {
		t.Fatalf("person on the primary only: err = %v; want ErrNotFound (read from the paused replica)", err)
	}
	if err := db.Ping(ctx); err != nil {
		t.Fatalf("Ping with the replica paused: %v", err)
	}

	// Staler than allowed, the register is refused rather than read (Rule AA-11:
	// a newly protected person must not stay visible).
	db.measureReplica(ctx)
	clock.add(DefaultMaxReadLag + time.Second)
	db.measureReplica(ctx)
	if _, err := db.Person(ctx, a.Ident); !errors.Is(err, ErrRegisterUnavailable) {
		t.Fatalf("replica %s behind: err = %v; want ErrRegisterUnavailable", DefaultMaxReadLag+time.Second, err)
	}
	if s, ok := db.Replica(); !ok || s.Lag <= DefaultMaxReadLag || s.Errors == 0 || !s.Up {
		t.Fatalf("status behind = %+v, %v; want lag over %s, errors counted, up", s, ok, DefaultMaxReadLag)
	}
	if _, err := replica.ExecContext(ctx, "SELECT pg_wal_replay_resume()"); err != nil {
		t.Fatal(err)
	}
	eventually(t, db, "replica caught up", func() error { _, err := db.Person(ctx, b.Ident); return err })
	if s, _ := db.Replica(); s.Lag > replicaEvery {
		t.Fatalf("caught up: lag %s", s.Lag)
	}

	// Down, the register fails closed as unavailable; the primary still answers.
	replica.Close()
	if err := st.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	before, _ := db.Replica()
	if _, err := db.FindDocs(ctx, register.Query{Arbeidstaker: a.Ident, Screened: true}); !errors.Is(err, ErrRegisterUnavailable) {
		t.Fatalf("replica down: FindDocs err = %v; want ErrRegisterUnavailable", err)
	}
	if _, err := db.Person(ctx, a.Ident); !errors.Is(err, ErrRegisterUnavailable) {
		t.Fatalf("replica down: Person err = %v; want ErrRegisterUnavailable", err)
	}
	if after, _ := db.Replica(); after.Errors < before.Errors+2 {
		t.Fatalf("replica errors %d → %d; want both failures counted", before.Errors, after.Errors)
	}
	if db.measureReplica(ctx) == nil {
		t.Fatal("measured a replica that is down")
	}
	if s, _ := db.Replica(); s.Up {
		t.Fatal("status of a replica that is down: up")
	}
	if err := db.Ping(ctx); err != nil {
		t.Fatalf("Ping with the replica down: %v", err)
	}
	if err := st.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	eventually(t, db, "replica back", func() error { _, err := db.Person(ctx, b.Ident); return err })
}

func TestReadReplicaRefused(t *testing.T) {
	ctx := t.Context()
	if _, err := Open(ctx, Config{DataDir: t.TempDir(), ReadURL: "postgres://x@127.0.0.1:1/x"}); err == nil || !strings.Contains(err.Error(), "needs PostgreSQL") {
		t.Fatalf("SQLite with a read replica: err = %v; want needs PostgreSQL", err)
	}
	st := standby(t)
	dsn, other := newPostgres(t), newPostgres(t)
	otherReplica, _ := replicaOf(t, st, other)
	replicaOf(t, st, dsn)
	for _, c := range []struct{ name, readURL, want string }{
		{"a primary", other, "not a standby"},
		{"another database", otherReplica, "names database"},
		{"not PostgreSQL", "mysql://x", "want postgres://"},
		// The lag measured on one server must hold for every read: not one of several.
		{"a multi-host URL", "postgres://postgres@127.0.0.1:1,127.0.0.1:2/x?sslmode=disable", "names several servers"},
	} {
		db, err := Open(ctx, Config{URL: dsn, ReadURL: c.readURL})
		if err == nil {
			db.Close()
		}
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s as the read replica: err = %v; want %q", c.name, err, c.want)
		}
	}
}

// A replica behind a register migration is refused at start.
func TestReadReplicaBehindMigration(t *testing.T) {
	st := standby(t)
	ctx := t.Context()
	dsn, err := pg.NewDatabase(ctx) // empty: Open migrates it
	if err != nil {
		t.Fatal(err)
	}
	rdsn, replica := replicaOf(t, st, dsn)
	pauseReplay(t, replica)
	defer replica.ExecContext(context.Background(), "SELECT pg_wal_replay_resume()")
	old := replicaCatchUp
	replicaCatchUp = 100 * time.Millisecond
	defer func() { replicaCatchUp = old }()
	db, err := Open(ctx, Config{URL: dsn, ReadURL: rdsn})
	if err == nil {
		db.Close()
	}
	if err == nil || !strings.Contains(err.Error(), "its register schema is at version 0, the primary's at 1") {
		t.Fatalf("replica behind the migrations: err = %v", err)
	}
}

// An idle primary that switched to a new WAL segment stands just past the
// segment's header, where the replica's replay stops: the header is left
// out, so a caught-up replica's lag stays near 0 instead of growing until
// the primary writes again (a false 503 with a lag limit below that).
func TestReadReplicaIdleWALSwitch(t *testing.T) {
	st := standby(t)
	ctx := t.Context()
	dsn := newPostgres(t)
	rdsn, _ := replicaOf(t, st, dsn)
	clock := &settableClock{t: fixedNow()}
	db, err := Open(ctx, Config{URL: dsn, ReadURL: rdsn, Now: clock.now, MaxReadLag: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	primary, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer primary.Close()
	// A table written and the segment switched: the primary then writes nothing.
	if _, err := primary.ExecContext(ctx, "CREATE TABLE idle_switch (x int); INSERT INTO idle_switch VALUES (1)"); err != nil {
		t.Fatal(err)
	}
	if _, err := primary.ExecContext(ctx, "SELECT pg_switch_wal()"); err != nil {
		t.Fatal(err)
	}
	var lag time.Duration
	for range 500 {
		clock.add(time.Second) // each measurement a second later: a note left unreplayed shows as lag
		db.measureReplica(ctx)
		s, _ := db.Replica()
		if lag = s.Lag; lag == 0 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if lag != 0 {
		t.Fatalf("idle primary after a WAL switch: lag %s; want 0 once the replica replayed the switch", lag)
	}
	// And it stays so while the primary stays idle (a record PostgreSQL
	// writes by itself meanwhile may show for a measurement or two).
	for range 10 {
		clock.add(time.Second)
		db.measureReplica(ctx)
	}
	if s, _ := db.Replica(); s.Lag > 3*time.Second {
		t.Fatalf("idle primary, ten seconds on: lag %s; want near 0", s.Lag)
	}
	if err := db.RegisterReady(); err != nil {
		t.Fatalf("idle, caught-up replica: %v", err)
	}
}

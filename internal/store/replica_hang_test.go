//go:build unix

package store

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"deling/internal/register"
)

// lockedBuffer is a log's output, written by the monitor and read by the test.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// A replica that hangs (its processes stopped: connections are accepted,
// nothing answers) fails a register read within the read's own deadline,
// well before a caller's (the API call's 15 s), then refuses reads at once
// since the monitor's measurement failed; reads come back when it goes on.
// The monitor logs each change once, without the URL's password (Rule AA-15:
// a lookup answers in time, here with 503).
func TestReadReplicaHangs(t *testing.T) {
	st := standby(t)
	ctx := t.Context()
	dsn := newPostgres(t)
	rdsn, _ := replicaOf(t, st, dsn)
	const secret = "hemmelig-passord-42" // trust authentication: never asked for
	rdsn = strings.Replace(rdsn, "//postgres@", "//postgres:"+secret+"@", 1)
	logged := &lockedBuffer{}
	db, err := Open(ctx, Config{URL: dsn, ReadURL: rdsn, Log: slog.New(slog.NewTextHandler(logged, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	a := register.Person{Ident: "03017012345", Fornavn: "Heng", Etternavn: "Replika", Adressebeskyttelse: "ugradert", Status: "bosatt"}
	if _, err := db.UpsertPersons(ctx, []register.Person{a}); err != nil {
		t.Fatal(err)
	}
	eventually(t, db, "person read from the replica", func() error { _, err := db.Person(ctx, a.Ident); return err })
	waitFor(t, "the monitor logs the replica up", func() bool { return strings.Contains(logged.String(), "read replica up") })

	if err := st.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	stopped := true
	t.Cleanup(func() { // before the standby's own cleanup stops it
		if stopped {
			st.Signal(syscall.SIGCONT)
		}
	})
	read := func() error {
		t.Helper()
		// The caller allows 8 s, about half the API call's timeout: the
		// answer must come from the store, not from the caller giving up.
		cctx, cancel := context.WithTimeout(ctx, 8*time.Second)
		defer cancel()
		_, err := db.Person(cctx, a.Ident)
		if cctx.Err() != nil {
			t.Fatalf("register read on a hung replica: still waiting when the caller's 8 s ran out (%v)", err)
		}
		return err
	}
	if err := read(); !errors.Is(err, ErrRegisterUnavailable) {
		t.Fatalf("register read on a hung replica: err = %v; want ErrRegisterUnavailable", err)
	}
	waitFor(t, "reads refused after the monitor's failed measurement", func() bool { return db.RegisterReady() != nil })
	if err := read(); !errors.Is(err, ErrRegisterUnavailable) || !strings.Contains(err.Error(), "does not answer its monitor") {
		t.Fatalf("register read once the monitor failed: err = %v; want refused without reading", err)
	}
	waitFor(t, "the monitor logs the replica down", func() bool { return strings.Contains(logged.String(), "read replica down") })

	if err := st.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	stopped = false
	eventually(t, db, "reads after the replica went on", func() error { _, err := db.Person(ctx, a.Ident); return err })
	waitFor(t, "the monitor logs the replica up again", func() bool { return strings.Count(logged.String(), "read replica up") == 2 })
	out := logged.String()
	if n := strings.Count(out, "read replica down"); n != 1 {
		t.Errorf("the replica's going down logged %d times; want once:\n%s", n, out)
	}
	if strings.Contains(out, secret) {
		t.Errorf("the log holds the replica URL's password:\n%s", out)
	}
}

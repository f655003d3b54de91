package store

import (
	"context"
	"testing"
	"time"
)

// waitFor polls cond until it holds, failing the test after a generous bound
// (a wait for an event, not a timing assertion).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(60 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting: %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// openNodes opens n handles on one fresh PostgreSQL database: n API nodes.
func openNodes(t *testing.T, n int) []*DB {
	t.Helper()
	if pg == nil {
		t.Skip("PostgreSQL is not installed (CI=true makes this a failure)")
	}
	dsn, err := pg.NewDatabase(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var nodes []*DB
	for range n {
		db, err := Open(context.Background(), Config{URL: dsn, Now: fixedNow})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		nodes = append(nodes, db)
	}
	return nodes
}

func TestLeaderSQLiteIsTheProcess(t *testing.T) {
	db, err := Open(context.Background(), Config{DataDir: t.TempDir(), Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx, cancel := context.WithCancel(context.Background())
	l := db.Lead(ctx, time.Second)
	if !l.Leading() {
		t.Fatal("the one SQLite process does not lead")
	}
	cancel()
	<-l.Done()
	if l.Leading() {
		t.Fatal("still leading after its context ended")
	}
}

// Exactly one of three nodes leads; when the leader's session dies (its
// backend terminated, as when its process is killed), another takes over and
// the old one stops leading; a leader that stops hands over too.
func TestLeaderOneNodeAndTakeover(t *testing.T) {
	nodes := openNodes(t, 3)
	var ls []*Leader
	stops := map[*Leader]context.CancelFunc{}
	for _, db := range nodes {
		ctx, cancel := context.WithCancel(context.Background())
		t.Cleanup(cancel)
		l := db.Lead(ctx, 100*time.Millisecond)
		ls, stops[l] = append(ls, l), cancel
	}
	stopped := func(l *Leader) bool {
		select {
		case <-l.Done():
			return true
		default:
			return false
		}
	}
	leader := func() *Leader {
		t.Helper()
		var who []*Leader
		for _, l := range ls {
			if l.Leading() {
				who = append(who, l)
			}
		}
		if len(who) != 1 {
			t.Fatalf("%d nodes lead, want exactly 1", len(who))
		}
		return who[0]
	}
	settle := func() { // every running node tries or checks three more times
		t.Helper()
		var from []int64
		for _, l := range ls {
			from = append(from, l.attempts.Load()+l.checks.Load())
		}
		waitFor(t, "three more rounds on every node", func() bool {
			for i, l := range ls {
				if l.attempts.Load()+l.checks.Load() < from[i]+3 && !stopped(l) {
					return false
				}
			}
			return true
		})
	}
	settle()
	old := leader()
	if !old.Confirm(context.Background()) {
		t.Fatal("the leader does not confirm its lock")
	}

	// Kill the leader's session from outside, as the end of a killed process would.
	var killed bool
	if err := nodes[0].write.QueryRow(`SELECT pg_terminate_backend($1)`, old.pid.Load()).Scan(&killed); err != nil || !killed {
		t.Fatalf("terminate the leader's backend: %v %v", killed, err)
	}
	// Confirm, the check before each single-run job, sees the loss at once.
	if old.Confirm(context.Background()) {
		t.Fatal("the old leader confirms a lock its ended session held")
	}
	waitFor(t, "another node to lead", func() bool {
		for _, l := range ls {
			if l != old && l.Leading() {
				return true
			}
		}
		return false
	})
	settle()
	second := leader()
	if second == old {
		t.Fatal("the old leader took the lock back while the new one held it")
	}

	// A leader that stops releases the lock at once: another takes over.
	stops[second]()
	<-second.Done()
	if second.Leading() {
		t.Fatal("a stopped node still leads")
	}
	waitFor(t, "a third leader", func() bool {
		for _, l := range ls {
			if l != second && l.Leading() {
				return true
			}
		}
		return false
	})
	settle()
	leader()
}

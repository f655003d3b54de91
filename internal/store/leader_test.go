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

// On SQLite the process holding DATA/leader.lock leads: a second process on
// the same directory (here a second handle) serves without leading, and
// takes over when the first stops.
func TestLeaderSQLiteIsOneProcess(t *testing.T) {
	dir := t.TempDir()
	var dbs []*DB
	for range 2 {
		db, err := Open(context.Background(), Config{DataDir: dir, Now: fixedNow})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		dbs = append(dbs, db)
	}
	var changes []bool
	ctx, cancel := context.WithCancel(context.Background())
	first := dbs[0].Lead(ctx, 50*time.Millisecond, func(leading bool) { changes = append(changes, leading) })
	waitFor(t, "the first process leads", first.Leading)
	term, ok := first.Term(context.Background())
	if !ok || term.Err() != nil {
		t.Fatalf("term: %v %v", ok, term)
	}
	ctx2, cancel2 := context.WithCancel(context.Background())
	defer cancel2()
	second := dbs[1].Lead(ctx2, 50*time.Millisecond, nil)
	waitFor(t, "the second tries", func() bool { return second.attempts.Load() >= 3 })
	if second.Leading() {
		t.Fatal("two processes lead one SQLite directory")
	}
	cancel()
	<-first.Done()
	if first.Leading() || term.Err() == nil {
		t.Fatal("still leading, or its term goes on, after its context ended")
	}
	if len(changes) != 2 || !changes[0] || changes[1] {
		t.Fatalf("told of %v, want [true false]", changes)
	}
	waitFor(t, "the second takes over", second.Leading)
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
		l := db.Lead(ctx, 100*time.Millisecond, nil)
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
	oldTerm, ok := old.Term(context.Background())
	if !ok {
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
	// And its term ends: a job running under it stops.
	if oldTerm.Err() == nil {
		t.Fatal("the old leader's term goes on after its session ended")
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

package machineapi

import (
	"context"
	"testing"
	"time"

	"deling/internal/store"
)

// Rule AA-15 across a cluster: two nodes with budgets shared through one
// database admit the consumer's limit, plus what the time the round took
// freed, plus at most one claim per node; and the bucket runs on the
// database's clock, not the nodes': nodes whose clocks have moved on a second
// get only what the database's clock has freed. (Two handles on one SQLite
// directory stand for the nodes: store.TakeRate is tested on both engines in
// store.)
func TestSharedRateLimitAcrossNodes(t *testing.T) {
	dir := t.TempDir()
	var nodes []*limiter
	var first time.Time
	for range 2 {
		db, err := store.Open(context.Background(), store.Config{DataDir: dir})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		l := newLimiter(time.Minute)
		l.shared = newSharedBudget(func(ctx context.Context, consumer string, n, limit int) (int, error) {
			if first.IsZero() {
				first = time.Now()
			}
			return db.TakeRate(ctx, consumer, n, limit)
		})
		nodes = append(nodes, l)
	}
	const limit = 200
	second := time.Date(2026, 12, 5, 2, 0, 0, 0, time.UTC)
	admitted := func(at time.Time) int {
		n := 0
		for i := range 3 * limit {
			if v := nodes[i%2].allow(context.Background(), "310000001", limit, at.Add(time.Duration(i)*time.Microsecond)); v.err != nil {
				t.Fatal(v.err)
			} else if v.ok {
				n++
			}
		}
		return n
	}
	// most is what the bucket may have admitted by now: the limit, what the
	// time since the first claim freed (this machine's clock is the
	// database's), and a claim held by each node.
	most := func() int {
		return limit + int(time.Since(first)*limit/time.Second) + 2*claimSize(limit)
	}
	got := admitted(second)
	if got < limit || got > most() {
		t.Fatalf("admitted %d across two nodes, want %d to %d", got, limit, most())
	}
	if both := got + admitted(second.Add(time.Second)); both > most() {
		t.Fatalf("the nodes' next second admitted %d more (%d in all, want at most %d): the nodes' clocks set the budget", both-got, both, most())
	}
}

// Rule AA-15: a node keeps what it claimed until it is used, whatever its own
// clock says. Claims dropped at each second of the node's clock were paid for
// in the shared bucket and never admitted, so a consumer paced at its limit
// ran out of its burst and was refused.
func TestSharedBudgetKeepsClaims(t *testing.T) {
	claims := 0
	b := newSharedBudget(func(_ context.Context, _ string, n, _ int) (int, error) {
		claims++
		return n, nil
	})
	const limit = 200 // claims of 4
	for _, sec := range []int64{100, 101, 99, 102} {
		if ok, err := b.allow(context.Background(), "310000019", limit, time.Unix(sec, 0)); !ok || err != nil {
			t.Fatalf("at %d: %v %v", sec, ok, err)
		}
	}
	if claims != 1 {
		t.Fatalf("%d claims for %d requests, want one claim of %d", claims, 4, claimSize(limit))
	}
}

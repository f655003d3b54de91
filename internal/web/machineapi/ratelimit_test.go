package machineapi

import (
	"context"
	"testing"
	"time"

	"deling/internal/store"
)

// Rule AA-15 across a cluster: two nodes with budgets shared through one
// database admit the consumer's limit less at most one unused claim per
// node; and the window is the database's clock's, not the nodes': nodes
// whose clocks have moved on to the next second get no new budget while the
// database's second (and the sliding estimate) has none. (Two handles on one
// SQLite directory stand for the nodes: store.TakeRate is tested on both
// engines in store.)
func TestSharedRateLimitAcrossNodes(t *testing.T) {
	dir := t.TempDir()
	var nodes []*limiter
	for range 2 {
		db, err := store.Open(context.Background(), store.Config{DataDir: dir})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		l := newLimiter(time.Minute)
		l.shared = newSharedBudget(db.TakeRate)
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
	// Within 10 %: a round that happens to cross a second of the database's
	// clock gets the fraction of the new second that has passed.
	first := admitted(second)
	if first > limit*11/10 || first < limit-2*claimSize(limit) {
		t.Fatalf("admitted %d across two nodes, want %d less at most %d", first, limit, 2*claimSize(limit))
	}
	if both := first + admitted(second.Add(time.Second)); both > limit*11/10 {
		t.Fatalf("the nodes' next second admitted %d more (%d in all): the nodes' clocks set the window", both-first, both)
	}
}

// Rule AA-15: a request that read the clock before it waited for another's
// claim never resets the budget to an older window (which would throw away
// what was claimed and claim again).
func TestSharedBudgetOnlyMovesForward(t *testing.T) {
	claims := 0
	b := newSharedBudget(func(_ context.Context, _ string, n, _ int) (int, error) {
		claims++
		return n, nil
	})
	at := func(sec int64) time.Time { return time.Unix(sec, 0) }
	for _, sec := range []int64{100, 99, 100, 99} {
		if ok, err := b.allow(context.Background(), "310000019", 200, at(sec)); !ok || err != nil {
			t.Fatalf("at %d: %v %v", sec, ok, err)
		}
	}
	if claims != 1 {
		t.Fatalf("%d claims, want one for second 100", claims)
	}
}

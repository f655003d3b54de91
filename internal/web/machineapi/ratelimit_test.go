package machineapi

import (
	"context"
	"testing"
	"time"

	"deling/internal/store"
)

// Rule AA-15 across a cluster: two nodes with budgets shared through one
// database admit, within one second, the consumer's limit less at most one
// unused claim per node; the next second starts over. (Two handles on one
// SQLite directory stand for the nodes: store.TakeRate is the same SQL on
// PostgreSQL, where serve turns this on, and is tested there in store.)
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
	for _, at := range []time.Time{second, second.Add(time.Second)} {
		if n := admitted(at); n > limit || n < limit-2*claimSize(limit) {
			t.Fatalf("admitted %d in one second across two nodes, want %d less at most %d", n, limit, 2*claimSize(limit))
		}
	}
}

// Rule AA-15: a request that read the clock before it waited for another's
// claim never resets the budget to an older window (which would throw away
// what was claimed and claim again).
func TestSharedBudgetOnlyMovesForward(t *testing.T) {
	var claims []int64
	b := newSharedBudget(func(_ context.Context, _ string, window int64, n, _ int) (int, error) {
		claims = append(claims, window)
		return n, nil
	})
	at := func(sec int64) time.Time { return time.Unix(sec, 0) }
	for _, sec := range []int64{100, 99, 100, 99} {
		if ok, err := b.allow(context.Background(), "310000019", 200, at(sec)); !ok || err != nil {
			t.Fatalf("at %d: %v %v", sec, ok, err)
		}
	}
	if len(claims) != 1 || claims[0] != 100 {
		t.Fatalf("claims for windows %v, want one for 100", claims)
	}
}

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

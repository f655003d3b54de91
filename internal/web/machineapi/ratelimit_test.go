package machineapi

import (
	"context"
	"testing"
	"time"

	"deling/internal/pgtest"
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
		l.shared = newSharedBudget(func(ctx context.Context, consumer string, n, limit int) (int, time.Duration, error) {
			if first.IsZero() {
				first = time.Now()
			}
			return db.TakeRate(ctx, consumer, n, limit)
		}, db.BlockRate)
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
	b := newSharedBudget(func(_ context.Context, _ string, n, _ int) (int, time.Duration, error) {
		claims++
		return n, 0, nil
	}, nil)
	const limit = 200 // claims of 4
	for _, sec := range []int64{100, 101, 99, 102} {
		if ok, _, err := b.allow(context.Background(), "310000019", limit, time.Unix(sec, 0)); !ok || err != nil {
			t.Fatalf("at %d: %v %v", sec, ok, err)
		}
	}
	if claims != 1 {
		t.Fatalf("%d claims for %d requests, want one claim of %d", claims, 4, claimSize(limit))
	}
}

// Rule AA-15 ("above that the consumer may be blocked for a while") across a
// cluster: a consumer blocked by node A for exceeding its limit is refused
// by node B, which had not blocked it, for what is left of the block, and
// told so in its Retry-After; B does not count the refusals as its own
// strikes. Each node blocked on its own before, so with the default block of
// a minute three nodes admitted a third of a consumer's limit (two had
// blocked it, the third had not). Two nodes on one PostgreSQL.
func TestRateBlockSharedAcrossNodes(t *testing.T) {
	_, dsn := pgtest.ForTest(t, "starts a PostgreSQL")
	node := func() *limiter {
		db, err := store.Open(context.Background(), store.Config{URL: dsn})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		l := newLimiter(time.Minute)
		l.shared = newSharedBudget(db.TakeRate, db.BlockRate)
		return l
	}
	a, b := node(), node()
	const limit, consumer = 5, "310000501" // claims of one: every request asks the database
	ctx := context.Background()
	blocked := false
	for i := 0; i < 5*limit && !blocked; i++ {
		v := a.allow(ctx, consumer, limit, time.Now())
		if v.err != nil || v.blockErr != nil {
			t.Fatal(v.err, v.blockErr)
		}
		blocked = v.newlyBlocked
	}
	if !blocked {
		t.Fatal("node A never blocked the consumer")
	}
	start := time.Now()
	for i := range 2 * limit {
		v := b.allow(ctx, consumer, limit, start.Add(time.Duration(i)*time.Second))
		if v.err != nil {
			t.Fatal(v.err)
		}
		if v.ok || v.newlyBlocked {
			t.Fatalf("%d s after A blocked the consumer, B: %+v", i, v)
		}
		// What is left of A's minute (B's clock moves on a second a request).
		if left := time.Minute - time.Duration(i)*time.Second; v.retryAfter < left-5*time.Second || v.retryAfter > left+time.Second {
			t.Fatalf("%d s into the block B says retry after %v, want about %v", i, v.retryAfter, left)
		}
	}
	// A node that learns of it later, too.
	if v := node().allow(ctx, consumer, limit, time.Now()); v.ok || v.retryAfter < 50*time.Second {
		t.Fatalf("a third node: %+v", v)
	}
	// Another consumer is not blocked.
	if v := b.allow(ctx, "310000502", limit, time.Now()); !v.ok {
		t.Fatalf("another consumer: %+v", v)
	}
}

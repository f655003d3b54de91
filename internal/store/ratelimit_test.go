package store

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// Rule AA-15: two nodes claiming in one burst on the database's clock
// together get the limit, plus what the burst's own duration freed; another
// consumer has a budget of its own; the purge forgets only full buckets.
func TestTakeRateSharedBudget(t *testing.T) {
	twoNodes(t, func(t *testing.T, one, two *DB) {
		ctx := context.Background()
		const limit = 100
		got := 0
		var first, last int64
		for i := range 30 {
			node := one
			if i%2 == 1 {
				node = two
			}
			n, _, at, err := node.takeRate(ctx, "310000001", 8, limit, 0)
			if err != nil {
				t.Fatal(err)
			}
			if i == 0 {
				first = at
			}
			last = at
			got += n
		}
		if most := limit + int((last-first)*limit/1e9) + 1; got < limit || got > most {
			t.Fatalf("claimed %d in one burst of %v, want the limit %d and at most %d", got, time.Duration(last-first), limit, most)
		}
		if n, _, err := two.TakeRate(ctx, "310000002", 8, limit); err != nil || n != 8 {
			t.Fatalf("other consumer: %d, %v", n, err)
		}
		if _, _, err := one.TakeRate(ctx, "310000001", 0, limit); err == nil {
			t.Fatal("a claim of 0 was taken")
		}
		if n, err := one.PurgeRates(ctx, time.Now().Add(-time.Hour).Unix()); err != nil || n != 0 {
			t.Fatalf("purged %d states an hour back, want none: %v", n, err)
		}
		if n, err := one.PurgeRates(ctx, time.Now().Add(time.Hour).Unix()); err != nil || n != 2 {
			t.Fatalf("purged %d states, want 2: %v", n, err)
		}
		if n, _, err := one.TakeRate(ctx, "310000001", 8, limit); err != nil || n != 8 {
			t.Fatalf("after the purge: %d, %v", n, err)
		}
	})
}

// rateClock is a start for claims paced on a clock of the test's own (Unix
// nanoseconds), far from the database's, so that only the test's claims count.
var rateClock = time.Date(2026, 12, 5, 2, 0, 0, 0, time.UTC).UnixNano()

// Rule AA-15 across a cluster: a consumer paced at exactly its limit is
// always admitted. The sliding estimate over one-second windows refused most
// of such requests (limit 5: 91 %, limit 10: 70 %). Paced 10 % over its limit
// it gets the limit and its burst of one second, no more.
func TestTakeRatePacedAtLimit(t *testing.T) {
	twoNodes(t, func(t *testing.T, one, two *DB) {
		ctx := context.Background()
		nodes := []*DB{one, two}
		for _, limit := range []int{5, 10, 50} {
			for _, over := range []bool{false, true} {
				consumer := fmt.Sprintf("3100002%02d%v", limit, over)
				step := int64(time.Second) / int64(limit)
				if over {
					step = step * 10 / 11
				}
				const span = 30 * int64(time.Second)
				admitted, asked := 0, 0
				for at := rateClock; at < rateClock+span; at += step {
					n, _, _, err := nodes[asked%2].takeRate(ctx, consumer, 1, limit, at)
					if err != nil {
						t.Fatal(err)
					}
					admitted += n
					asked++
				}
				if !over && admitted != asked {
					t.Errorf("limit %d paced at the limit: %d of %d admitted", limit, admitted, asked)
				}
				if most := limit*30 + limit; over && (admitted > most || admitted < limit*30) {
					t.Errorf("limit %d paced 10 %% over it: %d of %d admitted, want %d to %d", limit, admitted, asked, limit*30, most)
				}
			}
		}
	})
}

// Rule AA-15 across a cluster: a burst from two nodes gets the limit (the
// bucket's one second's worth) at once, then only what time frees, at any
// moment: there is no window boundary at which the budget comes back whole
// (fixed windows admitted twice the limit across one).
func TestTakeRateBurst(t *testing.T) {
	twoNodes(t, func(t *testing.T, one, two *DB) {
		ctx := context.Background()
		const limit, claim = 100, 10
		nodes := []*DB{one, two}
		take := func(i int, at int64) int {
			n, _, _, err := nodes[i%2].takeRate(ctx, "310000301", claim, limit, at)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
		admitted := 0
		for i := range 15 {
			admitted += take(i, rateClock+int64(i)*int64(time.Microsecond))
		}
		if admitted != limit {
			t.Fatalf("a burst got %d, want the limit %d", admitted, limit)
		}
		// 50 ms later: 5 freed, whichever node asks, however often.
		later := rateClock + int64(50*time.Millisecond)
		if n := take(0, later) + take(1, later) + take(0, later); n != 5 {
			t.Fatalf("50 ms after the burst got %d, want 5", n)
		}
		// A full second after the burst: the limit again, not more.
		again := 0
		for i := range 15 {
			again += take(i, rateClock+int64(1050*time.Millisecond))
		}
		if again != limit {
			t.Fatalf("a second later got %d, want %d", again, limit)
		}
	})
}

// Rule AA-15: a consumer blocked by one node is refused by every node on the
// database for the block's duration (each node blocked on its own, so a
// cluster admitted the share of the nodes that had not blocked yet); a claim
// refused in the block says how long it lasts; a shorter block does not
// shorten a longer one; after it the budget refills at the limit.
func TestBlockRateSharedAcrossNodes(t *testing.T) {
	twoNodes(t, func(t *testing.T, one, two *DB) {
		ctx := context.Background()
		const limit, consumer = 100, "310000401"
		take := func(node *DB, at int64) (int, time.Duration) {
			t.Helper()
			n, wait, _, err := node.takeRate(ctx, consumer, 10, limit, at)
			if err != nil {
				t.Fatal(err)
			}
			return n, wait
		}
		if n, _ := take(two, rateClock); n != 10 {
			t.Fatalf("before the block: %d, want 10", n)
		}
		if err := one.blockRate(ctx, consumer, time.Minute, rateClock); err != nil {
			t.Fatal(err)
		}
		for _, at := range []time.Duration{0, time.Second, 30 * time.Second, time.Minute - time.Millisecond} {
			n, wait := take(two, rateClock+int64(at))
			if n != 0 {
				t.Fatalf("%v into the block the other node got %d", at, n)
			}
			if left := time.Minute - at; wait < left || wait > left+time.Second/limit {
				t.Fatalf("%v into the block: wait %v, want the %v left", at, wait, left)
			}
		}
		if err := two.blockRate(ctx, consumer, time.Second, rateClock+int64(time.Second)); err != nil {
			t.Fatal(err)
		}
		if n, _ := take(one, rateClock+int64(30*time.Second)); n != 0 {
			t.Fatalf("a shorter block ended the longer one: %d", n)
		}
		// After the block: what time frees at the limit (10 in 100 ms), not the whole burst.
		if n, _ := take(one, rateClock+int64(time.Minute+100*time.Millisecond)); n != 10 {
			t.Fatalf("100 ms after the block: %d, want 10", n)
		}
		if n, _ := take(two, rateClock+int64(time.Minute+100*time.Millisecond)); n != 0 {
			t.Fatalf("100 ms after the block, the second claim: %d, want 0", n)
		}
		if err := one.BlockRate(ctx, consumer, 0); err == nil {
			t.Fatal("a block of 0 was taken")
		}
	})
}

// BenchmarkTakeRatePostgres is one claim from a shared rate-limit window on
// PostgreSQL, from many goroutines on one consumer (the worst case: one row).
// A node makes one claim per claimSize(limit) requests of a consumer.
func BenchmarkTakeRatePostgres(b *testing.B) {
	if pg == nil {
		b.Skip("PostgreSQL is not installed")
	}
	dsn, err := pg.NewDatabase(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	db, err := Open(context.Background(), Config{URL: dsn, Now: fixedNow})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, _, err := db.TakeRate(context.Background(), "310000001", 4, 200); err != nil {
				b.Fatal(err)
			}
		}
	})
}

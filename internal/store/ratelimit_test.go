package store

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// Rule AA-15: two nodes claiming in one burst together get the limit (within
// 10 %: a burst that happens to cross a second gets the fraction of the new
// second that has passed); another consumer has a budget of its own.
func TestTakeRateSharedBudget(t *testing.T) {
	twoNodes(t, func(t *testing.T, one, two *DB) {
		ctx := context.Background()
		got := 0
		for i := range 30 {
			node := one
			if i%2 == 1 {
				node = two
			}
			n, err := node.TakeRate(ctx, "310000001", 8, 100)
			if err != nil {
				t.Fatal(err)
			}
			got += n
		}
		if got < 100 || got > 110 {
			t.Fatalf("claimed %d in one burst, want the limit 100 (+10 %%)", got)
		}
		if n, err := two.TakeRate(ctx, "310000002", 8, 100); err != nil || n != 8 {
			t.Fatalf("other consumer: %d, %v", n, err)
		}
		if _, err := one.TakeRate(ctx, "310000001", 0, 100); err == nil {
			t.Fatal("a claim of 0 was taken")
		}
		if n, err := one.PurgeRateWindows(ctx, 1<<40); err != nil || n < 2 {
			t.Fatalf("purged %d windows, want at least 2: %v", n, err)
		}
		if n, err := one.TakeRate(ctx, "310000001", 8, 100); err != nil || n != 8 {
			t.Fatalf("after the purge: %d, %v", n, err)
		}
	})
}

// Rule AA-15 across a cluster: a burst across a window boundary stays within
// the limit (+10 %). Two nodes spend a consumer's budget late in one second
// of the database's clock and keep claiming into the next: fixed windows gave
// them the limit again at the boundary (twice the limit within a fraction of
// a second); the sliding estimate gives at most the fraction of the new
// second that has passed.
func TestTakeRateBurstAcrossBoundary(t *testing.T) {
	twoNodes(t, func(t *testing.T, one, two *DB) {
		ctx := context.Background()
		const limit, claim = 100, 10
		nodes := []*DB{one, two}
		clock := func() int64 {
			var ms int64
			if err := one.read.QueryRowContext(ctx, one.clockMillis()).Scan(&ms); err != nil {
				t.Fatal(err)
			}
			return ms
		}
		for try := 0; ; try++ {
			if try == 5 {
				t.Fatal("could not spend the budget within the last 300 ms of a second in 5 tries (machine too loaded?)")
			}
			for clock()%1000 < 700 { // late in a second of the database's clock
				time.Sleep(5 * time.Millisecond)
			}
			consumer := fmt.Sprintf("31000010%d", try)
			boundary := (clock()/1000 + 1) * 1000
			admitted, i := 0, 0
			spent := false
			var after int // claims made after the boundary
			for {
				n, at, err := nodes[i%2].takeRate(ctx, consumer, claim, limit)
				i++
				if err != nil {
					t.Fatal(err)
				}
				if at >= boundary+100 {
					break // past the burst's end: not counted
				}
				if at < boundary && n == 0 {
					spent = true
				}
				if at >= boundary {
					after++
				}
				admitted += n
			}
			if !spent || after == 0 {
				continue // the burst did not both spend the first second and reach into the next
			}
			if admitted > limit*11/10 {
				t.Fatalf("admitted %d in a burst across a boundary (%d claims after it), want at most %d", admitted, after, limit*11/10)
			}
			if admitted < limit {
				t.Fatalf("admitted %d, want at least the limit %d", admitted, limit)
			}
			return
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
			if _, err := db.TakeRate(context.Background(), "310000001", 4, 200); err != nil {
				b.Fatal(err)
			}
		}
	})
}

package store

import (
	"context"
	"testing"
)

// Rule AA-15: two nodes claiming from one window together get exactly the limit.
func TestTakeRateSharedBudget(t *testing.T) {
	twoNodes(t, func(t *testing.T, one, two *DB) {
		ctx := context.Background()
		got := 0
		for i := range 30 {
			node := one
			if i%2 == 1 {
				node = two
			}
			n, err := node.TakeRate(ctx, "310000001", 1000, 8, 100)
			if err != nil {
				t.Fatal(err)
			}
			got += n
		}
		if got != 100 {
			t.Fatalf("claimed %d in one window, want the limit 100", got)
		}
		// Another consumer and the next window have budgets of their own.
		if n, err := two.TakeRate(ctx, "310000002", 1000, 8, 100); err != nil || n != 8 {
			t.Fatalf("other consumer: %d, %v", n, err)
		}
		if n, err := one.TakeRate(ctx, "310000001", 1001, 8, 100); err != nil || n != 8 {
			t.Fatalf("next window: %d, %v", n, err)
		}
		if _, err := one.TakeRate(ctx, "310000001", 1001, 0, 100); err == nil {
			t.Fatal("a claim of 0 was taken")
		}
		if n, err := one.PurgeRateWindows(ctx, 1001); err != nil || n != 2 {
			t.Fatalf("purged %d windows, want 2: %v", n, err)
		}
		if n, err := one.TakeRate(ctx, "310000001", 1001, 8, 100); err != nil || n != 8 {
			t.Fatalf("the kept window: %d, %v", n, err)
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
			if _, err := db.TakeRate(context.Background(), "310000001", 1000, 4, 200); err != nil {
				b.Fatal(err)
			}
		}
	})
}

package store

import (
	"testing"
	"time"

	"deling/internal/governance"
)

// Sign-in failures are counted per pair, per source and per minute, in the
// database (issue 11, item 11); a success forgets the pair's only; old counts
// start again and are purged; nothing stored names an address.
func TestSignInFailures(t *testing.T) {
	eachEngine(t, func(t *testing.T, db *DB) {
		ctx := t.Context()
		now := fixedNow()
		kari := SignInKeys{Account: "kari@test.example", Source: "192.0.2.7"}
		other := SignInKeys{Account: "ola@test.example", Source: "192.0.2.7"}
		elsewhere := SignInKeys{Account: "kari@test.example", Source: "198.51.100.9"}
		for i := range 3 {
			if err := db.SignInFailed(ctx, kari, now.Add(time.Duration(i)*time.Second), 24*time.Hour); err != nil {
				t.Fatal(err)
			}
		}
		if err := db.SignInFailed(ctx, other, now.Add(3*time.Second), 24*time.Hour); err != nil {
			t.Fatal(err)
		}
		a, err := db.SignInAttempts(ctx, kari, now.Add(4*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		want := governance.SignInAttempts{Pair: governance.Failures{Count: 3, Last: now.Add(2 * time.Second)},
			Source: governance.Failures{Count: 4, Last: now.Add(3 * time.Second)}, GlobalMinute: 4}
		if a != want {
			t.Fatalf("attempts %+v, want %+v", a, want)
		}
		// Another source for the same account starts clean (the owner is not locked out).
		if a, err := db.SignInAttempts(ctx, elsewhere, now.Add(4*time.Second)); err != nil || a.Pair.Count != 0 || a.Source.Count != 0 {
			t.Fatalf("another source: %+v %v", a, err)
		}
		// A success forgets the pair, not the source.
		if err := db.SignInSucceeded(ctx, kari); err != nil {
			t.Fatal(err)
		}
		if a, _ := db.SignInAttempts(ctx, kari, now.Add(5*time.Second)); a.Pair.Count != 0 || a.Source.Count != 4 {
			t.Fatalf("after success: %+v", a)
		}
		// A count older than the window starts again; the next minute is a new bucket.
		later := now.Add(25 * time.Hour)
		if err := db.SignInFailed(ctx, other, later, 24*time.Hour); err != nil {
			t.Fatal(err)
		}
		if a, _ := db.SignInAttempts(ctx, other, later); a.Pair.Count != 1 || a.Source.Count != 1 || a.GlobalMinute != 1 {
			t.Fatalf("after the window: %+v", a)
		}
		var n int
		if err := db.read.queryRow(ctx, `SELECT COUNT(*) FROM signin_failures WHERE key LIKE '%192%' OR key LIKE '%@%'`).Scan(&n); err != nil || n != 0 {
			t.Fatalf("keys in the clear: %d %v", n, err)
		}
		if err := db.SignInFailed(ctx, elsewhere, now.Add(10*time.Second), 24*time.Hour); err != nil {
			t.Fatal(err)
		}
		if purged, err := db.PurgeSignInFailures(ctx, later.Add(-time.Hour)); err != nil || purged != 2 {
			t.Fatalf("purge: %d %v", purged, err)
		}
		if a, _ := db.SignInAttempts(ctx, elsewhere, later); a.Source.Count != 0 {
			t.Fatalf("after purge: %+v", a)
		}
	})
}

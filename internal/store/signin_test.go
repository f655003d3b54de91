package store

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"deling/internal/governance"
)

// Sign-in attempts are counted per pair, per network, per account and per
// minute, in the database (issue 11, item 11); a success forgets the pair's
// count, takes back its own reservation and makes the pair known; old counts
// start again and are purged; nothing stored names an address or a device.
func TestSignInFailures(t *testing.T) {
	eachEngine(t, func(t *testing.T, db *DB) {
		ctx := t.Context()
		now := fixedNow()
		th := governance.DefaultThrottle
		kari := SignInKeys{Account: "kari@test.example", Source: "192.0.2.7", Network: "192.0.2.7", Device: "enhet-1"}
		other := SignInKeys{Account: "ola@test.example", Source: "192.0.2.7", Network: "192.0.2.7"}
		elsewhere := SignInKeys{Account: "kari@test.example", Source: "198.51.100.9", Network: "198.51.100.9"}
		reserve := func(k SignInKeys, at time.Time) SignInReservation {
			t.Helper()
			r, err := db.ReserveSignIn(ctx, k, at, th)
			if err != nil {
				t.Fatal(err)
			}
			return r
		}
		for i := range 3 {
			if r := reserve(kari, now.Add(time.Duration(i)*time.Second)); r.Wait != 0 {
				t.Fatalf("free attempt %d: wait %v", i+1, r.Wait)
			}
		}
		reserve(other, now.Add(3*time.Second))
		r := reserve(kari, now.Add(4*time.Second))
		want := governance.SignInAttempts{Pair: governance.Failures{Count: 3, Last: now.Add(2 * time.Second)},
			Source:  governance.Failures{Count: 4, Last: now.Add(3 * time.Second)},
			Account: governance.Failures{Count: 3, Last: now.Add(2 * time.Second)}, GlobalMinute: 4}
		if r.Attempts != want || r.Wait != 0 {
			t.Fatalf("attempts %+v wait %v, want %+v", r.Attempts, r.Wait, want)
		}
		// An attempt told to wait is not counted.
		if r := reserve(kari, now.Add(4*time.Second)); r.Wait != 2*time.Second || r.Attempts.Pair.Count != 4 {
			t.Fatalf("throttled: %+v", r)
		}
		if r := reserve(kari, now.Add(4*time.Second)); r.Attempts.Pair.Count != 4 || r.Attempts.GlobalMinute != 5 {
			t.Fatalf("a throttled attempt was counted: %+v", r)
		}
		// Another source for the same account starts clean (the owner is not locked out); the account's count is shared.
		r = reserve(elsewhere, now.Add(5*time.Second))
		if r.Wait != 0 || r.Attempts.Pair.Count != 0 || r.Attempts.Source.Count != 0 || r.Attempts.Account.Count != 4 || r.Attempts.Known {
			t.Fatalf("another source: %+v", r)
		}
		// A success forgets the pair, takes back its own reservation, and makes the pair and the device known.
		if err := db.SignInSucceeded(ctx, r, now.Add(5*time.Second), ""); err != nil {
			t.Fatal(err)
		}
		if r := reserve(elsewhere, now.Add(6*time.Second)); !r.Attempts.Known || r.DeviceKnown || r.Attempts.Pair.Count != 0 || r.Attempts.Account.Count != 4 {
			t.Fatalf("after success: %+v", r)
		}
		ok := reserve(kari, now.Add(10*time.Second))
		if err := db.SignInSucceeded(ctx, ok, now.Add(10*time.Second), kari.Device); err != nil {
			t.Fatal(err)
		}
		if r := reserve(kari, now.Add(11*time.Second)); !r.DeviceKnown || !r.Attempts.Known || r.Attempts.Pair.Count != 0 || r.Attempts.Source.Count != 5 {
			t.Fatalf("after success with a device: %+v", r)
		}
		// A device known for kari is not known for ola, nor from a fresh source after KnownFor.
		if r := reserve(SignInKeys{Account: other.Account, Source: "203.0.113.1", Network: "203.0.113.1", Device: kari.Device}, now.Add(12*time.Second)); r.DeviceKnown || r.Attempts.Known {
			t.Fatalf("another account's device: %+v", r)
		}
		if r := reserve(kari, now.Add(th.KnownFor+time.Minute)); r.DeviceKnown || r.Attempts.Known {
			t.Fatalf("known after KnownFor: %+v", r)
		}
		// A release takes back a reservation whose password was not checked.
		rel := reserve(other, now.Add(th.KnownFor+2*time.Minute))
		if err := db.ReleaseSignIn(ctx, rel); err != nil {
			t.Fatal(err)
		}
		if r := reserve(other, now.Add(th.KnownFor+2*time.Minute)); r.Attempts.Pair.Count != rel.Attempts.Pair.Count || r.Attempts.GlobalMinute != rel.Attempts.GlobalMinute {
			t.Fatalf("after release: %+v, before %+v", r, rel)
		}
		// A count older than the window starts again.
		later := now.Add(th.KnownFor + 25*time.Hour)
		reserve(other, later)
		if r := reserve(other, later); r.Attempts.Pair.Count != 1 || r.Attempts.Source.Count != 1 || r.Attempts.GlobalMinute != 1 {
			t.Fatalf("after the window: %+v", r)
		}
		var n int
		if err := db.read.queryRow(ctx, `SELECT COUNT(*) FROM signin_failures WHERE key LIKE '%192%' OR key LIKE '%@%' OR key LIKE '%enhet%'`).Scan(&n); err != nil || n != 0 {
			t.Fatalf("keys in the clear: %d %v", n, err)
		}
		if err := db.read.queryRow(ctx, `SELECT COUNT(*) FROM signin_known WHERE key LIKE '%192%' OR key LIKE '%@%' OR key LIKE '%enhet%'`).Scan(&n); err != nil || n != 0 {
			t.Fatalf("known keys in the clear: %d %v", n, err)
		}
		if _, err := db.PurgeSignInFailures(ctx, later.Add(time.Hour), th); err != nil {
			t.Fatal(err)
		}
		for _, table := range []string{"signin_failures", "signin_known"} {
			if err := db.read.queryRow(ctx, `SELECT COUNT(*) FROM `+table+` WHERE last_at < $1`, micros(later.Add(-th.Window))).Scan(&n); err != nil || n != 0 {
				t.Fatalf("%s after purge: %d %v", table, n, err)
			}
		}
		if r := reserve(other, later.Add(time.Hour)); r.Attempts.Source.Count != 2 {
			t.Fatalf("purged too much: %+v", r)
		}
	})
}

// Review finding 3: parallel attempts cannot share the free failures — each
// is counted before its password is checked, so at most PairFree of a wave go ahead.
func TestSignInReserveConcurrent(t *testing.T) {
	eachEngine(t, func(t *testing.T, db *DB) {
		now := fixedNow()
		keys := SignInKeys{Account: "kari@test.example", Source: "192.0.2.7", Network: "192.0.2.7"}
		var wg sync.WaitGroup
		var admitted atomic.Int32
		for range 30 {
			wg.Go(func() {
				r, err := db.ReserveSignIn(t.Context(), keys, now, governance.DefaultThrottle)
				if err != nil {
					t.Error(err)
					return
				}
				if r.Wait == 0 {
					admitted.Add(1)
				}
			})
		}
		wg.Wait()
		if got := admitted.Load(); got != int32(governance.DefaultThrottle.PairFree) {
			t.Fatalf("%d of 30 parallel attempts went ahead, want %d", got, governance.DefaultThrottle.PairFree)
		}
	})
}

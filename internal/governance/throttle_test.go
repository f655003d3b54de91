package governance

import (
	"net/netip"
	"testing"
	"time"
)

func TestThrottleWait(t *testing.T) {
	now := time.Date(2025, 3, 3, 12, 0, 0, 0, time.UTC)
	th := DefaultThrottle
	ago := func(d time.Duration) time.Time { return now.Add(-d) }
	for _, tc := range []struct {
		name string
		a    SignInAttempts
		want time.Duration
	}{
		{"nothing failed", SignInAttempts{}, 0},
		{"free failures", SignInAttempts{Pair: Failures{2, now}}, 0},
		{"third failure: 1 s", SignInAttempts{Pair: Failures{3, now}}, time.Second},
		{"fifth: 4 s", SignInAttempts{Pair: Failures{5, now}}, 4 * time.Second},
		{"fifth, 3 s ago: 1 s left", SignInAttempts{Pair: Failures{5, ago(3 * time.Second)}}, time.Second},
		{"fifth, long ago", SignInAttempts{Pair: Failures{5, ago(time.Minute)}}, 0},
		{"capped", SignInAttempts{Pair: Failures{40, now}}, 5 * time.Minute},
		{"huge count capped", SignInAttempts{Pair: Failures{1 << 40, now}}, 5 * time.Minute},
		{"forgotten after the window", SignInAttempts{Pair: Failures{40, ago(25 * time.Hour)}}, 0},
		{"source across accounts", SignInAttempts{Source: Failures{22, now}}, 4 * time.Second},
		{"the longer of the two", SignInAttempts{Pair: Failures{3, now}, Source: Failures{21, now}}, 2 * time.Second},
		{"global ceiling: a source that failed once waits", SignInAttempts{Pair: Failures{1, now}, GlobalMinute: 301}, 2 * time.Second},
		{"global ceiling: a clean source does not", SignInAttempts{GlobalMinute: 100_000}, 0},
		{"below the ceiling: free", SignInAttempts{Pair: Failures{1, now}, GlobalMinute: 300}, 0},
	} {
		if got := th.Wait(tc.a, now); got != tc.want {
			t.Errorf("%s: wait %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestSourceKeys(t *testing.T) {
	for _, tc := range []struct{ addr, key, logged string }{
		{"192.0.2.77", "192.0.2.77", "192.0.2.0/24"},
		{"::ffff:192.0.2.77", "192.0.2.77", "192.0.2.0/24"},
		{"2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64", "2001:db8:1::/48"},
	} {
		a := netip.MustParseAddr(tc.addr)
		if got := SourceKey(a); got != tc.key {
			t.Errorf("SourceKey(%s) = %s, want %s", tc.addr, got, tc.key)
		}
		if got := SourcePrefix(a); got != tc.logged {
			t.Errorf("SourcePrefix(%s) = %s, want %s", tc.addr, got, tc.logged)
		}
	}
}

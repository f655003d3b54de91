package governance

import (
	"net/netip"
	"strings"
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
		{"global ceiling: a source that failed once: no free failures", SignInAttempts{Pair: Failures{1, now.Add(-time.Hour)}, GlobalMinute: 301}, time.Minute},
		{"global ceiling: longer waits stand", SignInAttempts{Pair: Failures{12, now}, GlobalMinute: 301}, 5 * time.Minute},
		{"global ceiling: an unseen source waits for the next minute", SignInAttempts{GlobalMinute: 301}, time.Minute},
		{"global ceiling: half a minute left", SignInAttempts{GlobalMinute: 301}, 30 * time.Second},
		{"global ceiling: never a known pair", SignInAttempts{Pair: Failures{2, now}, GlobalMinute: 100_000, Known: true}, 0},
		{"known: the pair's own count still applies", SignInAttempts{Pair: Failures{3, now}, Known: true}, time.Second},
		// A stranger behind the owner's NAT: the network's count does not hold back a known pair.
		{"shared address, 20 failures: a stranger waits", SignInAttempts{Source: Failures{20, now}}, time.Second},
		{"shared address, 40 failures: a stranger waits 5 min", SignInAttempts{Source: Failures{40, now}}, 5 * time.Minute},
		{"shared address, 40 failures: the known owner does not", SignInAttempts{Source: Failures{40, now}, Known: true}, 0},
		// Many addresses guessing at one account: it slows after 100, but not for the known owner.
		{"account across sources: 99 free", SignInAttempts{Account: Failures{99, now}}, 0},
		{"account across sources: 100th waits", SignInAttempts{Account: Failures{100, now}}, time.Second},
		{"account across sources: 110th waits 1024 s capped", SignInAttempts{Account: Failures{110, now}}, 5 * time.Minute},
		{"account across sources: the known owner does not", SignInAttempts{Account: Failures{1000, now}, Known: true}, 0},
		{"below the ceiling: free", SignInAttempts{Pair: Failures{1, now}, GlobalMinute: 300}, 0},
	} {
		at := now
		if strings.Contains(tc.name, "half a minute") {
			at = now.Add(30 * time.Second)
		}
		if got := th.Wait(tc.a, at); got != tc.want {
			t.Errorf("%s: wait %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestSourceKeys(t *testing.T) {
	for _, tc := range []struct{ addr, key, network, logged string }{
		{"192.0.2.77", "192.0.2.77", "192.0.2.77", "192.0.2.0/24"},
		{"::ffff:192.0.2.77", "192.0.2.77", "192.0.2.77", "192.0.2.0/24"},
		{"2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64", "2001:db8:1::/48", "2001:db8:1::/48"},
		{"2001:db8:1:ffff::1", "2001:db8:1:ffff::/64", "2001:db8:1::/48", "2001:db8:1::/48"},
	} {
		a := netip.MustParseAddr(tc.addr)
		if got := SourceKey(a); got != tc.key {
			t.Errorf("SourceKey(%s) = %s, want %s", tc.addr, got, tc.key)
		}
		if got := NetworkKey(a); got != tc.network {
			t.Errorf("NetworkKey(%s) = %s, want %s", tc.addr, got, tc.network)
		}
		if got := SourcePrefix(a); got != tc.logged {
			t.Errorf("SourcePrefix(%s) = %s, want %s", tc.addr, got, tc.logged)
		}
	}
}

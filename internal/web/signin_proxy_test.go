package web

import (
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"deling/internal/governance"
	"deling/internal/web/clientaddr"
)

// Sign-in throttling behind a load balancer (docs/SCALING.md): with the
// balancer trusted (serve --trusted-proxy), each client behind it is counted
// under its own address, so that one client's guesses do not throttle
// another's sign-in (before, every attempt counted under the balancer's
// address: one count for the whole site); and a client that reaches a node
// directly cannot choose its address with a forged X-Forwarded-For.
func TestSignInThrottleBehindTrustedProxy(t *testing.T) {
	h := newHarness(t)
	staff := h.account(governance.Saksbehandler, governance.AuthorityOrg, "")
	proxies, err := clientaddr.Parse("127.0.0.0/8")
	if err != nil {
		t.Fatal(err)
	}
	lb := httptest.NewServer(proxies.Handler(h.srv.Config.Handler))
	defer lb.Close()
	jar, _ := cookiejar.New(nil)
	behind := &browserless{h: h, client: &http.Client{Jar: jar}, base: lb.URL}
	guess := func(b *browserless, from, pw string) page {
		t.Helper()
		return b.post("/logg-inn", url.Values{"epost": {staff}, "passord": {pw}}, "X-Forwarded-For", from)
	}
	for i := range governance.DefaultThrottle.PairFree {
		if p := guess(behind, "203.0.113.5", "gjetning"); p.status != http.StatusUnauthorized {
			t.Fatalf("guess %d: %d", i+1, p.status)
		}
	}
	if p := guess(behind, "203.0.113.5", testPassword); p.status != http.StatusTooManyRequests {
		t.Fatalf("the guessing client behind the balancer is not throttled: %d", p.status)
	}
	jar2, _ := cookiejar.New(nil)
	owner := &browserless{h: h, client: &http.Client{Jar: jar2}, base: lb.URL}
	if p := guess(owner, "198.51.100.7", testPassword); p.status != http.StatusOK || !strings.HasSuffix(p.url, "/portal") {
		t.Fatalf("another client behind the same balancer: %d at %s", p.status, p.url)
	}

	// Straight to the node (no proxy trusted there): the forged header is
	// ignored, so guesses from 127.0.0.2 count against 127.0.0.2 whatever
	// address each claims.
	direct := h.anonymousFrom("127.0.0.2", "")
	for i := range governance.DefaultThrottle.PairFree {
		if p := guess(direct, "192.0.2."+string(rune('1'+i)), "gjetning"); p.status != http.StatusUnauthorized {
			t.Fatalf("direct guess %d: %d", i+1, p.status)
		}
	}
	if p := guess(direct, "192.0.2.99", testPassword); p.status != http.StatusTooManyRequests {
		t.Fatalf("a forged X-Forwarded-For escaped the throttle: %d", p.status)
	}
}

package web

import (
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"deling/internal/governance"
	"deling/internal/store"
)

// Review finding 1: one person behind a shared (NAT) address cannot keep an
// owner who signed in from that address before out, by failing at other
// accounts from it; a stranger there is slowed.
func TestSignInThrottleSharedAddress(t *testing.T) {
	h := newHarness(t)
	owner := h.account(governance.Saksbehandler, governance.AuthorityOrg, "")
	stranger := h.account(governance.Saksbehandler, governance.AuthorityOrg, "")
	form := func(email, pw string) url.Values { return url.Values{"epost": {email}, "passord": {pw}} }
	if p := h.anonymousFrom("127.0.0.4", "").post("/logg-inn", form(owner, testPassword)); p.status != http.StatusOK {
		t.Fatalf("the owner's first sign-in: %d", p.status)
	}
	// Someone else at the address fails at many accounts, once each.
	nat := h.anonymousFrom("127.0.0.4", "")
	for i := range governance.DefaultThrottle.SourceFree {
		if p := nat.post("/logg-inn", form("finnes-ikke"+strconv.Itoa(i)+"@test.example", "gjetning")); p.status != http.StatusUnauthorized {
			t.Fatalf("guess %d: %d", i+1, p.status)
		}
	}
	if p := h.anonymousFrom("127.0.0.4", "").post("/logg-inn", form(stranger, testPassword)); p.status != http.StatusTooManyRequests {
		t.Fatalf("an account never signed in from the address: %d, want 429", p.status)
	}
	// A fresh browser: the pair of account and address is known, not only the device.
	if p := h.anonymousFrom("127.0.0.4", "").post("/logg-inn", form(owner, testPassword)); p.status != http.StatusOK {
		t.Fatalf("the owner at the shared address: %d, want 200", p.status)
	}
}

// Review finding 3: parallel wrong attempts cannot share the free failures:
// each is counted before its password is checked, so at most PairFree of a
// wave reach the password check (401); the rest are throttled (429), and the
// store counted exactly the ones checked.
func TestSignInThrottleConcurrent(t *testing.T) {
	h := newHarness(t)
	staff := h.account(governance.Saksbehandler, governance.AuthorityOrg, "")
	b := h.anonymousFrom("127.0.0.9", "")
	const n = 20
	statuses := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			req, _ := http.NewRequest("POST", b.url()+"/logg-inn", strings.NewReader(url.Values{"epost": {staff}, "passord": {"gjetning"}}.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Origin", b.url())
			req.Header.Set("Sec-Fetch-Site", "same-origin")
			resp, err := b.client.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			statuses[i] = resp.StatusCode
		})
	}
	wg.Wait()
	checked := 0
	for _, s := range statuses {
		switch s {
		case http.StatusUnauthorized:
			checked++
		case http.StatusTooManyRequests:
		default:
			t.Errorf("status %d", s)
		}
	}
	if checked > governance.DefaultThrottle.PairFree {
		t.Fatalf("%d of %d parallel wrong attempts had their password checked, want at most %d: %v", checked, n, governance.DefaultThrottle.PairFree, statuses)
	}
	// The next attempt sees exactly the checked ones counted.
	if p := b.post("/logg-inn", url.Values{"epost": {staff}, "passord": {testPassword}}); checked == governance.DefaultThrottle.PairFree && p.status != http.StatusTooManyRequests {
		t.Fatalf("after the wave: %d", p.status)
	}
}

var waitSeconds = regexp.MustCompile(`Vent (\d+) sekunder`)

// Review finding 2: many addresses guessing at one account slow it down for
// strangers after AccountFree failures, and the global ceiling slows sources
// it has not seen — but neither holds back the owner where they signed in
// before, by address or by device (cookie).
func TestSignInThrottleAccountAndCeiling(t *testing.T) {
	h := newHarness(t)
	owner := h.account(governance.Saksbehandler, governance.AuthorityOrg, "")
	form := url.Values{"epost": {owner}, "passord": {testPassword}}
	home := h.anonymousFrom("127.0.0.4", "")
	if p := home.post("/logg-inn", form); p.status != http.StatusOK {
		t.Fatalf("the owner's first sign-in: %d", p.status)
	}
	var device *http.Cookie
	for _, c := range home.client.Jar.Cookies(&url.URL{Scheme: "http", Host: strings.TrimPrefix(h.srv.URL, "http://"), Path: "/"}) {
		if c.Name == "deling_enhet" {
			device = c
		}
	}
	if device == nil {
		t.Fatal("no device cookie after signing in")
	}
	// A botnet: one failure each from AccountFree networks.
	th := governance.DefaultThrottle
	for i := range th.AccountFree {
		keys := store.SignInKeys{Account: owner, Source: "10.1." + strconv.Itoa(i) + ".1", Network: "10.1." + strconv.Itoa(i) + ".1"}
		if _, err := h.db.ReserveSignIn(t.Context(), keys, h.clock.now(), th); err != nil {
			t.Fatal(err)
		}
	}
	if p := h.anonymousFrom("127.0.0.6", "").post("/logg-inn", form); p.status != http.StatusTooManyRequests {
		t.Fatalf("a fresh source after %d failures at the account: %d, want 429", th.AccountFree, p.status)
	}
	if p := h.anonymousFrom("127.0.0.4", "").post("/logg-inn", form); p.status != http.StatusOK {
		t.Fatalf("the owner from a known address: %d, want 200", p.status)
	}
	// The owner's browser on a new address: the device is known.
	travelling := h.anonymousFrom("127.0.0.8", "")
	travelling.client.Jar = home.client.Jar
	if p := travelling.post("/logg-inn", form); p.status != http.StatusOK {
		t.Fatalf("the owner's device from a new address: %d, want 200", p.status)
	}

	// Above the global ceiling, a source never seen waits for the next minute; the owner does not.
	h.clock.advance(h.clock.now().Truncate(time.Minute).Add(time.Minute + time.Second).Sub(h.clock.now()))
	for i := range th.GlobalCeiling + 1 {
		keys := store.SignInKeys{Account: "x" + strconv.Itoa(i) + "@test.example", Source: "10.2." + strconv.Itoa(i/250) + "." + strconv.Itoa(i%250), Network: "10.2." + strconv.Itoa(i/250) + "." + strconv.Itoa(i%250)}
		if _, err := h.db.ReserveSignIn(t.Context(), keys, h.clock.now(), th); err != nil {
			t.Fatal(err)
		}
	}
	other := h.account(governance.Saksbehandler, governance.AuthorityOrg, "")
	p := h.anonymousFrom("127.0.0.10", "").post("/logg-inn", url.Values{"epost": {other}, "passord": {testPassword}})
	if m := waitSeconds.FindStringSubmatch(p.body); p.status != http.StatusTooManyRequests || m == nil {
		t.Fatalf("a new source above the ceiling: %d", p.status)
	} else if secs, _ := strconv.Atoi(m[1]); secs < 1 || secs > 60 {
		t.Fatalf("a new source above the ceiling waits %d s", secs)
	}
	if p := h.anonymousFrom("127.0.0.4", "").post("/logg-inn", form); p.status != http.StatusOK {
		t.Fatalf("the owner above the ceiling: %d, want 200", p.status)
	}
}

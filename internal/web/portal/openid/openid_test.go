package openid

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Only the allowed domains link staff by e-mail; none given allows any.
func TestEmailDomainAllowed(t *testing.T) {
	f := &Feature{emailDomains: []string{"etaten.no"}}
	for addr, want := range map[string]bool{"a@etaten.no": true, "A@ETATEN.NO": true, "a@evil.no": false, "a@sub.etaten.no": false, "etaten.no": false} {
		if got := f.emailDomainAllowed(addr); got != want {
			t.Errorf("%s: %v", addr, got)
		}
	}
	if !(&Feature{}).emailDomainAllowed("a@any.no") {
		t.Error("no domains given refused an address")
	}
}

// A provider that hangs at discovery (the review's finding 3): sign-ins
// that start together share one discovery — the provider sees one request —
// and all fail when it times out; the failure is then answered at once,
// with no new request, until discoveryRetry has passed; a sign-in whose
// request ends stops waiting though the discovery goes on.
func TestDiscoverHangingProvider(t *testing.T) {
	defer func(d time.Duration) { discoveryTimeout = d }(discoveryTimeout)
	discoveryTimeout = time.Second
	var requests atomic.Int32
	arrived := make(chan struct{}, 10)
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		arrived <- struct{}{}
		select { // hang until the test ends (or the client gives up)
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	now := time.Date(2026, 12, 5, 6, 0, 0, 0, time.UTC)
	p := &provider{name: Staff, cfg: ProviderConfig{Issuer: srv.URL, ClientID: "c", ClientSecret: "s"}, now: func() time.Time { return now }}

	const n = 3
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { _, _, errs[i] = p.discover(context.Background()) })
	}
	<-arrived
	wg.Wait()
	for i, err := range errs {
		if err == nil {
			t.Fatalf("sign-in %d: discovery of a hanging provider succeeded", i)
		}
	}
	if got := requests.Load(); got != 1 {
		t.Fatalf("discovery requests for %d concurrent sign-ins: %d, want 1", n, got)
	}
	// Remembered: the next sign-in fails with no new request.
	if _, _, err := p.discover(context.Background()); err == nil || requests.Load() != 1 {
		t.Fatalf("within discoveryRetry: %v, %d requests", err, requests.Load())
	}
	// After discoveryRetry a sign-in tries again; one whose request ends meanwhile stops waiting.
	now = now.Add(discoveryRetry)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { _, _, err := p.discover(ctx); done <- err }()
	<-arrived
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("a sign-in whose request ended: %v", err)
	}
	if got := requests.Load(); got != 2 {
		t.Fatalf("discovery requests after discoveryRetry: %d, want 2", got)
	}
}

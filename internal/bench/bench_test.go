package bench

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

func TestMix(t *testing.T) {
	m := Mix{}
	if err := m.Set("person=3, uuid=1"); err != nil {
		t.Fatal(err)
	}
	if got, want := m.String(), "person=3,uuid=1"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if got := m.total(); got != 4 {
		t.Errorf("total: got %d, want 4", got)
	}
	for _, bad := range []string{"person=0", "person", "person=-1", "other=1", "person=x"} {
		if err := (Mix{}).Set(bad); err == nil {
			t.Errorf("%q: accepted", bad)
		}
	}
}

func TestKindStatsFinish(t *testing.T) {
	s := newKindStats("person")
	for i := 1; i <= 100; i++ {
		code := uint16(200)
		if i == 100 {
			code = 503
		}
		s.add(&vegeta.Result{Code: code, Latency: time.Duration(i) * time.Millisecond})
	}
	s.finish(2)
	if s.Requests != 100 || s.Successful != 99 || s.Throughput != 49.5 || s.SuccessRatio != 0.99 {
		t.Errorf("got %d requests, %d successful, %v/s, ratio %v", s.Requests, s.Successful, s.Throughput, s.SuccessRatio)
	}
	if want := (LatencySummary{Mean: 50.5, P50: 50, P95: 95, P99: 99, Max: 100}); s.Latency != want {
		t.Errorf("latency: got %+v, want %+v", s.Latency, want)
	}
	if got, want := errorText(s), "503×1"; got != want {
		t.Errorf("errors: got %q, want %q", got, want)
	}
}

func TestWorstSeconds(t *testing.T) {
	over, worst := worstSeconds([]SecondStats{{Second: 0, P99: 3}, {Second: 1, P99: 12}, {Second: 2, P99: 11}}, 10)
	if over != 2 || worst.Second != 1 {
		t.Errorf("got %d over, worst second %d; want 2, 1", over, worst.Second)
	}
}

func TestTokenExpiry(t *testing.T) {
	payload := base64.RawURLEncoding.EncodeToString([]byte(`{"exp":2000000000}`))
	if got := tokenExpiry("h." + payload + ".s"); !got.Equal(time.Unix(2_000_000_000, 0)) {
		t.Errorf("got %v", got)
	}
	if got := time.Until(tokenExpiry("not a token")); got <= 0 || got > time.Minute {
		t.Errorf("unreadable token lives %v, want about a minute", got)
	}
}

// The server's counts are read once they stop changing: answers to requests
// the load generator gave up on still come in after a run.
func TestSettledAPIRequests(t *testing.T) {
	settleEvery = time.Millisecond
	var scrapes atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := min(scrapes.Add(1), 4) // grows for three scrapes, then stays
		fmt.Fprintf(w, "deling_http_requests_total{code=\"200\",route=\"GET /api/v2/arbeidstaker/arbeidsforhold\"} %d\n", 10*n)
		fmt.Fprintf(w, "deling_http_requests_total{code=\"401\",route=\"GET /api/v2/arbeidstaker/arbeidsforhold\"} 1\n")
	}))
	defer srv.Close()
	c, err := settledAPIRequests(context.Background(), srv.Client(), []string{srv.URL, srv.URL})
	if err != nil || c.logged != 80 || c.api != 82 {
		t.Fatalf("settled at %+v (%v), want 80 logged of 82", c, err)
	}
}

package web

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

type pinger struct{ err error }

func (p pinger) Ping(context.Context) error { return p.err }

func newTestServer(t *testing.T, db Pinger) *httptest.Server {
	s := New(db, slog.New(slog.NewTextHandler(io.Discard, nil)), prometheus.NewRegistry())
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	return ts
}

func TestCorrelationID(t *testing.T) {
	ts := newTestServer(t, pinger{})
	for _, tc := range []struct{ sent, want string }{
		{"abc-123", "abc-123"},
		{"", ""},                       // made up
		{"has space", ""},              // not echoed: made up instead
		{strings.Repeat("x", 101), ""}, // too long
		{"æøå", ""},                    // not ASCII
	} {
		req, _ := http.NewRequest("GET", ts.URL+"/healthz", nil)
		if tc.sent != "" {
			req.Header.Set("correlation-id", tc.sent)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		got := resp.Header.Get("correlation-id")
		switch {
		case tc.want != "" && got != tc.want:
			t.Errorf("sent %q: got %q, want it echoed", tc.sent, got)
		case tc.want == "" && (len(got) != 36 || got == tc.sent):
			t.Errorf("sent %q: got %q, want a new UUID", tc.sent, got)
		}
	}
}

func TestReadyzReportsDatabase(t *testing.T) {
	ts := newTestServer(t, pinger{err: errors.New("down")})
	resp, err := http.Get(ts.URL + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var p Problem
	json.NewDecoder(resp.Body).Decode(&p)
	if resp.StatusCode != 503 || p.Status != 503 || p.CorrelationID != resp.Header.Get("correlation-id") {
		t.Fatalf("got %d %+v", resp.StatusCode, p)
	}
}

func TestMethodNotAllowed(t *testing.T) {
	ts := newTestServer(t, pinger{})
	resp, err := http.Post(ts.URL+"/healthz", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Content-Type") != "application/problem+json" || resp.Header.Get("Allow") == "" {
		t.Fatalf("POST /healthz: got %d %q, want 405 problem+json with Allow", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
}

package httperr

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"deling/internal/extract"
	"deling/internal/store"
)

func TestStatus(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want int
	}{
		{nil, http.StatusOK},
		{errors.New("disk on fire"), http.StatusInternalServerError},
		{store.ErrNotFound, http.StatusNotFound},
		{fmt.Errorf("load grant g1: %w", store.ErrNotFound), http.StatusNotFound},
		{store.ErrConflict, http.StatusConflict},
		{store.ErrExists, http.StatusConflict},
		{store.ErrLimit, http.StatusTooManyRequests},
		{extract.ErrTooMany, http.StatusTooManyRequests},
		{ErrNotFound, http.StatusNotFound},
		{ErrForbidden, http.StatusForbidden},
		{fmt.Errorf("step: %w", ErrForbidden), http.StatusForbidden},
		{WithStatus(http.StatusGone, store.ErrNotFound), http.StatusGone},
	} {
		if got := Status(tc.err); got != tc.want {
			t.Errorf("Status(%v) = %d, want %d", tc.err, got, tc.want)
		}
	}
}

func TestWantsJSON(t *testing.T) {
	for _, tc := range []struct {
		path, accept string
		want         bool
	}{
		{"/finnes-ikke", "text/html,application/xhtml+xml,*/*;q=0.8", false},
		{"/finnes-ikke", "application/json", true},
		{"/finnes-ikke", "", true},
		{"/api/v2/x", "text/html", true},
		{"/audit/x", "text/html", true},
		{"/correspondence/api/v1/attachment", "*/*", true}, // the Altinn-style API (review finding 14)
		{"/portal/x", "*/*", false},
	} {
		r := httptest.NewRequest("GET", tc.path, nil)
		if tc.accept != "" {
			r.Header.Set("Accept", tc.accept)
		}
		if got := WantsJSON(r); got != tc.want {
			t.Errorf("WantsJSON(%s, %q) = %v, want %v", tc.path, tc.accept, got, tc.want)
		}
	}
}

func TestWrite(t *testing.T) {
	r := httptest.NewRequest("GET", "/api/v2/x", nil)
	r = r.WithContext(WithCorrelationID(r.Context(), "k-1"))
	w := httptest.NewRecorder()
	Write(w, r, http.StatusNotFound, "", "Fant ikke ressursen.")
	if w.Code != 404 || w.Header().Get("Content-Type") != "application/problem+json" {
		t.Fatalf("%d %s", w.Code, w.Header().Get("Content-Type"))
	}
	if want := `{"type":"about:blank","title":"Not Found","status":404,"detail":"Fant ikke ressursen.","correlation-id":"k-1"}` + "\n"; w.Body.String() != want {
		t.Errorf("body %s, want %s", w.Body, want)
	}
}

// A correlation id is echoed and logged only when it is a bounded token that
// cannot be a person's number (issue 11, item 7).
func TestAcceptCorrelationID(t *testing.T) {
	for _, tc := range []struct {
		id   string
		want bool
	}{
		{"k-1", true},
		{"3f2a9c1e-7b4d-4e8a-9f00-1c2d3e4f5a6b", true},
		{"batch_2024.07.01-run-12345678", true}, // 8 digits in a row at most
		{strings.Repeat("a", 64), true},
		{"", false},
		{strings.Repeat("a", 65), false},
		{"01017000027", false},          // a synthetic fødselsnummer (11 digits)
		{"req-01017000027", false},      // one inside a token
		{"123456789", false},            // an organisation number
		{"0101700002", false},           // ten digits
		{"id with space", false},        //
		{"id/../x", false},              //
		{"\u00f8-ctrl", false},          // not ASCII
		{"a\nlevel=ERROR msg=x", false}, // log injection
		// Written with separators, as people write them (found by review).
		{"010170-00027", false},        // a synthetic fødselsnummer as ddmmyy-nnnnn
		{"0101.7000027", false},        //
		{"01017_000027", false},        //
		{"fnr-010170-00027", false},    //
		{"974-760-673", false},         // an organisation number with valid check digits
		{"974-760-674", true},          // not one: the check digit is wrong
		{"2024-07-01.run-12-34", true}, // dates and counters are fine
	} {
		if got := AcceptCorrelationID(tc.id); got != tc.want {
			t.Errorf("AcceptCorrelationID(%q) = %v, want %v", tc.id, got, tc.want)
		}
	}
}

package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"deling/internal/access"
	"deling/internal/audit"
	"deling/internal/governance"
	"deling/internal/token/authserver"
)

// foreignOrigin adds the headers a browser on another site would send.
type foreignOrigin struct{ next http.RoundTripper }

func (f foreignOrigin) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Origin", "https://evil.example")
	r.Header.Set("Sec-Fetch-Site", "cross-site")
	return f.next.RoundTrip(r)
}

// An API request with a foreign Origin header is answered and logged like
// any other API request: cross-origin protection is the portal's, not the
// bearer-token API's nor the token server's. A portal form posted from
// another site is still refused.
func TestForeignOriginReachesTheAPI(t *testing.T) {
	h := newHarness(t)
	org, _ := h.consumer("Fremmed opphav kommune", grant(basic, access.ByArbeidstaker, access.ByArbeidssted))
	cf := h.client(org)

	// /token answers a client that sends a foreign Origin.
	foreign := *h.srv.Client()
	foreign.Transport = foreignOrigin{next: h.srv.Client().Transport}
	tok, err := authserver.RequestToken(t.Context(), cf, &foreign)
	if err != nil {
		t.Fatalf("/token with a foreign Origin: %v", err)
	}

	p := h.employed(1)[0]
	a := h.person(tok, p.Ident, "", "Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site", "correlation-id", "fremmed-1")
	if a.status != http.StatusOK {
		t.Fatalf("API call with a foreign Origin: %d %s", a.status, a.body)
	}
	recs := h.records(org)
	if len(recs) != 1 || recs[0].Decision != audit.Permit || recs[0].CorrelationID != "fremmed-1" {
		t.Fatalf("log records: %+v", recs)
	}

	// A POST of the API (a JSON body) with a foreign Origin: the cross-origin
	// check would refuse this one (it passes GETs), so it is the one that matters.
	sted := h.afsOf(p.Ident)[0].ArbeidsstedIdent()
	q := map[string]any{"arbeidsstedId": sted, "arbeidsforholdtype": allTypes, "rapporteringsordning": allOrdninger,
		"arbeidsforholdstatus": allStatuses}
	a = h.do("POST", tok, "/api/v2/arbeidsforhold/sok", q, "Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site", "correlation-id", "fremmed-2")
	if a.status != http.StatusOK || a.header.Get("Content-Type") != "application/json" {
		t.Fatalf("API POST with a foreign Origin: %d %s %s", a.status, a.header.Get("Content-Type"), a.body)
	}
	recs = h.records(org)
	if len(recs) != 2 || recs[1].Decision != audit.Permit || recs[1].CorrelationID != "fremmed-2" || recs[1].Operation != "POST /api/v2/arbeidsforhold/sok" {
		t.Fatalf("log records: %+v", recs)
	}

	// The portal still refuses a form posted from another site, and changes nothing.
	email := h.account(governance.Administrator, org, "")
	b := h.signIn(email)
	page := b.post("/portal/kontakter", url.Values{"navn": {"Fra fremmed side"}, "epost": {"fremmed@kommune.test"}, "rolle": {"administrativ"}},
		"Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site")
	if page.status != http.StatusForbidden {
		t.Fatalf("portal form from another site: %d", page.status)
	}
	if p := b.get("/portal/kontakter"); p.has("Fra fremmed side") {
		t.Fatal("a cross-site form changed the contacts")
	}
}

// A path that does not exist is an HTML page for a browser and problem+json
// for a program.
func TestNotFoundByAudience(t *testing.T) {
	h := newHarness(t)
	for _, tc := range []struct {
		path, accept, contentType string
	}{
		{"/finnes-ikke", "text/html,application/xhtml+xml,*/*;q=0.8", "text/html"},
		{"/finnes-ikke", "application/json", "application/problem+json"},
		{"/finnes-ikke", "", "application/problem+json"},
		{"/api/v2/finnes-ikke", "text/html", "application/problem+json"},
		{"/audit/finnes-ikke", "text/html", "application/problem+json"},
	} {
		a := h.do("GET", "", tc.path, nil, "Accept", tc.accept)
		if a.status != http.StatusNotFound || !strings.HasPrefix(a.header.Get("Content-Type"), tc.contentType) {
			t.Errorf("GET %s (Accept %q): %d %s, want 404 %s", tc.path, tc.accept, a.status, a.header.Get("Content-Type"), tc.contentType)
		}
		if tc.contentType == "text/html" && !strings.Contains(string(a.body), "Fant ikke siden") {
			t.Errorf("GET %s: not the HTML page: %.200s", tc.path, a.body)
		}
	}
	a := h.do("PUT", "", "/portal", nil, "Accept", "text/html")
	if a.status != http.StatusMethodNotAllowed || !strings.HasPrefix(a.header.Get("Content-Type"), "text/html") {
		t.Errorf("PUT /portal from a browser: %d %s", a.status, a.header.Get("Content-Type"))
	}
}

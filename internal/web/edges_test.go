package web

import (
	"bufio"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"deling/internal/access"
	"deling/internal/audit"
	"deling/internal/governance"
	"deling/internal/web/httperr"
	"deling/internal/web/machineapi"
)

// Issue 11, item 7: identifiers sent anywhere a client can put them — the
// correlation id among them — never reach the server's log, at any level,
// in error lines neither. The server logs at debug level into a buffer here.
func TestNoIdentifiersInServerLog(t *testing.T) {
	h := newHarness(t)
	org, _ := h.consumer("Loggkommune", grant(basic, access.ByArbeidstaker, access.ByArbeidssted, access.ByOpplysningspliktig, access.Antall),
		webGrant(access.ByArbeidstaker))
	tok := h.token(h.client(org))
	ps := h.employed(3)
	p, other, third := ps[0], ps[1], ps[2]
	af := h.afsOf(p.Ident)[0]
	sent := []string{p.Ident, other.Ident, third.Ident}
	everywhere := func(id string) []string {
		return []string{"correlation-id", id, "User-Agent", id, "Referer", "http://x.example/" + id, "X-Forwarded-For", id,
			"Cookie", "fnr=" + id, "X-Request-Id", id}
	}
	bodies := map[string]any{"arbeidstakerId": other.Ident, "arbeidsforholdtype": allTypes, "rapporteringsordning": allOrdninger, "arbeidsforholdstatus": allStatuses}

	for _, id := range []string{p.Ident, "req-" + p.Ident, p.Ident[:9], " " + p.Ident} {
		a := h.person(tok, p.Ident, "", "correlation-id", id)
		if a.status != 200 {
			t.Fatalf("lookup: %d %s", a.status, a.body)
		}
		if got := a.header.Get("correlation-id"); strings.Contains(got, p.Ident[:9]) || got == "" {
			t.Errorf("correlation id %q echoed as %q", id, got)
		}
	}
	if a := h.person(tok, p.Ident, "", "correlation-id", "kall-42.a_b"); a.header.Get("correlation-id") != "kall-42.a_b" {
		t.Errorf("a safe correlation id is not echoed: %q", a.header.Get("correlation-id"))
	}
	h.person(tok, p.Ident, "?fnr="+third.Ident, everywhere(p.Ident)...)
	h.do("POST", tok, "/api/v2/arbeidsforhold/sok", bodies, everywhere(other.Ident)...)
	h.do("POST", tok, "/api/v2/arbeidsforhold/sok", `{"arbeidstakerId":"`+p.Ident+`",`, everywhere(p.Ident)...)
	h.do("POST", tok, "/api/v2/arbeidsforhold/sok", map[string]any{p.Ident: other.Ident}, everywhere(p.Ident)...)
	h.do("POST", tok, "/api/v2/arbeidssted/antall", map[string]any{"arbeidsstedIds": []string{af.ArbeidsstedIdent(), p.Ident}}, everywhere(p.Ident)...)
	h.do("GET", tok, "/api/v2/arbeidsforhold/"+p.Ident, nil, everywhere(p.Ident)...)
	h.do("GET", tok, "/api/v2/uttrekk/"+p.Ident, nil, everywhere(p.Ident)...)
	h.do("GET", "", "/"+p.Ident+"?"+other.Ident+"="+third.Ident, nil, everywhere(p.Ident)...)
	h.do("GET", p.Ident, "/api/v2/arbeidstaker/arbeidsforhold", nil, append(everywhere(p.Ident), machineapi.HeaderPerson, other.Ident)...)
	h.do("GET", testAdminToken, "/api/innsyn/person", nil, append(everywhere(p.Ident), machineapi.HeaderPerson, other.Ident)...)
	h.do("GET", testAdminToken, "/api/innsyn/konsument/"+p.Ident+"/oppslag?fra="+other.Ident, nil, everywhere(p.Ident)...)
	h.do("POST", "", "/token", "grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion="+p.Ident, append(everywhere(p.Ident), "Content-Type", "application/x-www-form-urlencoded")...)
	// Failures of ours are logged at ERROR, with the correlation id: never the caller's identifier-like one.
	h.log.set(true)
	if a := h.person(tok, other.Ident, "", everywhere(p.Ident)...); a.status != http.StatusServiceUnavailable {
		t.Fatalf("with the log failing: %d", a.status)
	}
	h.log.set(false)
	// The portal: sign-in with identifiers as address and password, and a web lookup.
	h.anonymous().post("/logg-inn", url.Values{"epost": {p.Ident + "@test.example"}, "passord": {other.Ident}}, everywhere(p.Ident)...)
	user := h.signIn(h.account(governance.Oppslagsbruker, org, ""))
	user.post("/portal/oppslag/vilkar", url.Values{"bekreft": {"ja"}})
	if pg := user.post("/portal/oppslag", url.Values{"sok": {"person"}, "ident": {p.Ident}}, everywhere(other.Ident)...); pg.status != 200 {
		t.Fatalf("web lookup: %d", pg.status)
	}
	user.get("/portal/" + p.Ident + "?ident=" + other.Ident)

	logs := h.logs.String()
	if !strings.Contains(logs, "level=DEBUG") || !strings.Contains(logs, "level=ERROR") || !strings.Contains(logs, "correlation_id=") {
		t.Fatalf("the server's log lacks the lines this test needs:\n%s", logs)
	}
	for _, id := range sent {
		for _, part := range []string{id, id[:9], id[2:]} {
			if strings.Contains(logs, part) {
				t.Errorf("the server's log holds an identifier the test sent (%s…):\n%s", part[:4], grepLines(logs, part))
			}
		}
	}
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// Issue 11, item 8: a legal request whose client half-closes its connection
// after sending it (a TCP FIN, CloseWrite) is answered with its data and
// logged, and the server logs no error: the work after authentication is
// detached from the client's cancellation, with a bound of its own.
func TestHalfCloseIsAnswered(t *testing.T) {
	h := newHarness(t)
	org, _ := h.consumer("Halvlukket kommune", grant(basic, access.ByArbeidstaker, access.ByArbeidssted))
	tok := h.token(h.client(org))
	p := h.employed(1)[0]
	af := h.afsOf(p.Ident)[0]
	body := fmt.Sprintf(`{"arbeidsstedId":%q,"arbeidsforholdtype":["ordinaertArbeidsforhold","maritimtArbeidsforhold","forenkletOppgjoersordning","frilanserOppdragstakerHonorarPersonerMm"],"rapporteringsordning":["A_ORDNINGEN","FOER_A_ORDNINGEN"],"arbeidsforholdstatus":["AKTIV","AVSLUTTET","FREMTIDIG"]}`, af.ArbeidsstedIdent())
	for _, tc := range []struct {
		name, request string
	}{
		{"GET", "GET /api/v2/arbeidstaker/arbeidsforhold HTTP/1.1\r\nHost: deling\r\nAuthorization: Bearer " + tok +
			"\r\n" + machineapi.HeaderPerson + ": " + p.Ident + "\r\nConnection: close\r\n\r\n"},
		{"POST", "POST /api/v2/arbeidsforhold/sok HTTP/1.1\r\nHost: deling\r\nAuthorization: Bearer " + tok +
			"\r\nContent-Type: application/json\r\nContent-Length: " + fmt.Sprint(len(body)) + "\r\nConnection: close\r\n\r\n" + body},
	} {
		before := len(h.records(org))
		conn, err := net.Dial("tcp", h.srv.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := conn.Write([]byte(tc.request)); err != nil {
			t.Fatal(err)
		}
		if err := conn.(*net.TCPConn).CloseWrite(); err != nil {
			t.Fatal(err)
		}
		conn.SetReadDeadline(time.Now().Add(20 * time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		bufio.NewReader(resp.Body).WriteTo(&b)
		resp.Body.Close()
		conn.Close()
		if resp.StatusCode != 200 || !strings.Contains(b.String(), af.UUID) {
			t.Errorf("%s after a half-close: %d %.300s", tc.name, resp.StatusCode, b.String())
		}
		recs := h.records(org)
		if len(recs) != before+1 || recs[len(recs)-1].Status != 200 || recs[len(recs)-1].Decision != audit.Permit {
			t.Errorf("%s: %d records after, %d before; want one more, a permit with status 200", tc.name, len(recs), before)
		}
	}
	if logs := h.logs.String(); strings.Contains(logs, "level=ERROR") {
		t.Errorf("a client that half-closed is logged as a server error:\n%s", grepLines(logs, "level=ERROR"))
	}
}

// Issue 11, item 9: a page beyond the range a caller may ask for, and an
// unknown format, are refused (400, problem+json with a code) rather than
// answered with the first page or with JSON.
func TestPageAndFormatOutOfRange(t *testing.T) {
	h := newHarness(t)
	org, _ := h.consumer("Sidekommune", grant(basic, access.ByArbeidstaker, access.ByArbeidssted))
	tok := h.token(h.client(org))
	p := h.employed(1)[0]
	af := h.afsOf(p.Ident)[0]
	search := func(side string) answer {
		return h.do("POST", tok, "/api/v2/arbeidsforhold/sok", map[string]any{"arbeidsstedId": af.ArbeidsstedIdent(), "side": side, "sidestoerrelse": 2,
			"arbeidsforholdtype": allTypes, "rapporteringsordning": allOrdninger, "arbeidsforholdstatus": allStatuses})
	}
	tokenOf := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	for _, tc := range []struct {
		name string
		a    answer
		code string
	}{
		{"search: the nil uuid (before the first page)", search(tokenOf("00000000-0000-0000-0000-000000000000")), httperr.CodeInvalid},
		{"search: a token not in canonical form", search(tokenOf(strings.ToUpper(af.UUID))), httperr.CodeInvalid},
		{"search: a page number", search("2"), httperr.CodeInvalid},
		{"log: side beyond int64", h.do("GET", testAdminToken, "/api/innsyn/konsument/"+org+"/oppslag?side=18446744073709551615", nil), httperr.CodeInvalid},
		{"log: side just beyond int64", h.do("GET", testAdminToken, "/api/innsyn/konsument/"+org+"/oppslag?side=9223372036854775808", nil), httperr.CodeInvalid},
		{"log: unknown format", h.do("GET", testAdminToken, "/api/innsyn/konsument/"+org+"/oppslag?format=xml", nil), httperr.CodeEnum},
		{"log: format csv", h.do("GET", testAdminToken, "/api/innsyn/konsument/"+org+"/oppslag?format=csv", nil), httperr.CodeEnum},
	} {
		if pr := tc.a.problem(); tc.a.status != 400 || pr.Code != tc.code || tc.a.header.Get("Content-Type") != "application/problem+json" {
			t.Errorf("%s: %d %s, want 400 %s", tc.name, tc.a.status, tc.a.body, tc.code)
		}
	}
	// What is in range still works: a page token the API gave, the largest seq, both formats.
	if a := search(""); a.status != 200 {
		t.Fatalf("first page: %d", a.status)
	}
	for _, q := range []string{"?side=9223372036854775807", "?format=json", "?format=jsonl", ""} {
		if a := h.do("GET", testAdminToken, "/api/innsyn/konsument/"+org+"/oppslag"+q, nil); a.status != 200 {
			t.Errorf("log %s: %d %s", q, a.status, a.body)
		}
	}
}

// Issue 11, item 12: every answer — a portal page, a public page, an API
// answer, a problem, an error page, a static file — forbids framing
// (CSP frame-ancestors 'none' and X-Frame-Options: DENY) and sniffing, and
// sets a referrer policy; HTML pages keep their own-files-only policy.
func TestSecurityHeaders(t *testing.T) {
	h := newHarness(t)
	org, _ := h.consumer("Rammekommune", grant(basic, access.ByArbeidstaker))
	tok := h.token(h.client(org))
	p := h.employed(1)[0]
	admin := h.signIn(h.account(governance.Administrator, org, ""))
	get := func(c *http.Client, path string, hdr ...string) *http.Response {
		req, _ := http.NewRequest("GET", h.srv.URL+path, nil)
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	html := "text/html,application/xhtml+xml"
	static := ""
	for _, f := range strings.Fields(strings.NewReplacer(`"`, " ").Replace(h.anonymous().get("/").body)) {
		if strings.HasPrefix(f, "/static/") {
			static = f
			break
		}
	}
	for _, tc := range []struct {
		name   string
		resp   *http.Response
		status int
		page   bool
	}{
		{"portal page", get(admin.client, "/portal", "Accept", html), 200, true},
		{"public page", get(h.srv.Client(), "/", "Accept", html), 200, true},
		{"sign-in page", get(h.srv.Client(), "/logg-inn", "Accept", html), 200, true},
		{"API answer", get(h.srv.Client(), "/api/v2/arbeidstaker/arbeidsforhold", "Authorization", "Bearer "+tok, machineapi.HeaderPerson, p.Ident), 200, false},
		{"API problem", get(h.srv.Client(), "/api/v2/arbeidstaker/arbeidsforhold"), 401, false},
		{"error page", get(h.srv.Client(), "/finnes-ikke", "Accept", html), 404, true},
		{"portal 404", get(admin.client, "/portal/saker/finnes-ikke", "Accept", html), 403, true},
		{"static file", get(h.srv.Client(), static), 200, false},
		{"health", get(h.srv.Client(), "/healthz"), 200, false},
	} {
		hd := tc.resp.Header
		if tc.resp.StatusCode != tc.status {
			t.Errorf("%s: status %d, want %d", tc.name, tc.resp.StatusCode, tc.status)
		}
		csp := hd.Get("Content-Security-Policy")
		if !strings.Contains(csp, "frame-ancestors 'none'") {
			t.Errorf("%s: Content-Security-Policy %q lacks frame-ancestors 'none'", tc.name, csp)
		}
		if tc.page && !strings.Contains(csp, "script-src 'self'") {
			t.Errorf("%s: a page's Content-Security-Policy %q", tc.name, csp)
		}
		for name, want := range map[string]string{"X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin"} {
			if got := hd.Get(name); got != want {
				t.Errorf("%s: %s %q, want %q", tc.name, name, got, want)
			}
		}
	}
}

// Issue 11, item 14: in the test environment antall refuses a valid real
// organisation number with the reason search gives, not "ugyldig".
func TestCountRefusesRealOrgnrAsSearchDoes(t *testing.T) {
	h := newHarness(t)
	org, _ := h.consumer("Tellekommune", grant(basic, access.Antall, access.ByArbeidssted))
	tok := h.token(h.client(org))
	const real = "974760673"
	count := h.do("POST", tok, "/api/v2/arbeidssted/antall", map[string]any{"arbeidsstedIds": []string{real}})
	search := h.do("POST", tok, "/api/v2/arbeidsforhold/sok", map[string]any{"arbeidsstedId": real,
		"arbeidsforholdtype": allTypes, "rapporteringsordning": allOrdninger, "arbeidsforholdstatus": allStatuses})
	const why = "testmiljøet har bare syntetiske organisasjonsnumre"
	for name, a := range map[string]answer{"antall": count, "sok": search} {
		if pr := a.problem(); a.status != 400 || pr.Code != httperr.CodeArbeidssted || !strings.Contains(pr.Detail, why) {
			t.Errorf("%s: %d %s, want 400 %s saying %q", name, a.status, a.body, httperr.CodeArbeidssted, why)
		}
	}
	if a := h.do("POST", tok, "/api/v2/arbeidssted/antall", map[string]any{"arbeidsstedIds": []string{"974760674"}}); !strings.Contains(a.problem().Detail, "ugyldig organisasjonsnummer") {
		t.Errorf("a bad check digit: %s", a.body)
	}
}

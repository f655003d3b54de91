package web

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"deling/internal/access"
	"deling/internal/audit"
	"deling/internal/governance"
	"deling/internal/register"
)

func webGrant(kinds ...access.QueryKind) access.Grant {
	g := grant(basic, kinds...)
	g.Channel = access.ChannelWeb
	return g
}

// busiestArbeidssted is the underenhet with the most arbeidsforhold in the harness's register.
func (h *harness) busiestArbeidssted() (string, int) {
	n := map[string]int{}
	for i := range h.afs {
		if h.afs[i].Arbeidssted.Type == register.EnhetUnderenhet {
			n[h.afs[i].ArbeidsstedIdent()]++
		}
	}
	best, most := "", 0
	for k, v := range n {
		if v > most {
			best, most = k, v
		}
	}
	return best, most
}

// Rules AA-04, AA-11, AA-16 for the web channel.
func TestWebLookup(t *testing.T) {
	h := newHarness(t)
	org, _ := h.consumer("Oppslagskommune", webGrant(access.ByArbeidstaker, access.ByArbeidssted))
	email := h.account(governance.Oppslagsbruker, org, "")
	user := h.signIn(email)
	p := h.employed(1)[0]

	// Rule AA-04: no search before the terms and the duty of confidentiality are ticked at this sign-in.
	if pg := user.get("/portal/oppslag"); !pg.has("kjenner taushetsplikten") || pg.has(`name="ident"`) {
		t.Fatal("the search form is offered before the terms are ticked")
	}
	if pg := user.post("/portal/oppslag", url.Values{"sok": {"person"}, "ident": {p.Ident}}); pg.status != http.StatusForbidden || pg.has(p.Fornavn) {
		t.Fatalf("search before ticking: %d", pg.status)
	}
	if pg := user.post("/portal/oppslag/vilkar", nil); pg.status != http.StatusBadRequest {
		t.Fatalf("confirming without the tick: %d", pg.status)
	}
	if pg := user.post("/portal/oppslag/vilkar", url.Values{"bekreft": {"ja"}}); pg.status != http.StatusOK || !pg.has(`name="ident"`) {
		t.Fatalf("after ticking: %d", pg.status)
	}

	// A person with their arbeidsforhold and the employer's name.
	pg := user.post("/portal/oppslag", url.Values{"sok": {"person"}, "ident": {p.Ident}})
	if pg.status != http.StatusOK || !pg.has(p.Navn()) {
		t.Fatalf("person search: %d", pg.status)
	}
	if org, err := h.db.Organisation(t.Context(), h.afsOf(p.Ident)[0].ArbeidsstedIdent()); err != nil || !pg.has(org.Navn) {
		t.Fatalf("the employer's name is not shown (%v)", err)
	}
	if pg := user.post("/portal/oppslag", url.Values{"sok": {"person"}, "ident": {"12345678901"}}); pg.status != http.StatusBadRequest {
		t.Fatalf("bad number: %d", pg.status)
	}

	// Rule AA-11: a protected person is never shown, neither by number nor on an employer's pages.
	var protected []register.Person
	for _, q := range h.persons {
		if q.Protected() && len(h.afsOf(q.Ident)) > 0 {
			protected = append(protected, q)
		}
	}
	if len(protected) == 0 {
		t.Fatal("the test register has no protected person with arbeidsforhold")
	}
	if pg := user.post("/portal/oppslag", url.Values{"sok": {"person"}, "ident": {protected[0].Ident}}); !pg.has("Fant ingen arbeidsforhold") || pg.has(protected[0].Etternavn) {
		t.Fatal("a protected person was shown")
	}

	// An employer, page by page, never showing a protected person.
	sted, total := h.busiestArbeidssted()
	if total <= 50 {
		t.Fatalf("the busiest arbeidssted has %d arbeidsforhold; paging needs more than 50", total)
	}
	form := url.Values{"sok": {"arbeidssted"}, "ident": {sted}}
	pages, rows := 0, 0
	next := regexp.MustCompile(`name="etter" value="([^"]+)"`)
	for {
		pg := user.post("/portal/oppslag", form)
		pages++
		rows += strings.Count(pg.body, "<tr>") - 1
		for _, q := range protected {
			if pg.has(q.Ident) {
				t.Fatal("a protected person on an employer's page")
			}
		}
		m := next.FindStringSubmatch(pg.body)
		if m == nil {
			break
		}
		form.Set("etter", m[1])
		form.Set("side", itoa(pages+1))
		if pages > 100 {
			t.Fatal("paging does not end")
		}
	}
	if pages < 2 || rows == 0 || rows > total {
		t.Fatalf("%d pages, %d rows of %d", pages, rows, total)
	}

	// Rule AA-16: every search and every page is logged with the signed-in person and the consumer.
	var web []audit.Record
	for _, r := range h.records(org) {
		if r.Channel == string(access.ChannelWeb) {
			web = append(web, r)
		}
	}
	// The search before the tick, the person, the bad number, the protected person, the pages.
	if want := 4 + pages; len(web) != want {
		t.Fatalf("%d web records, want %d", len(web), want)
	}
	for _, r := range web {
		if !strings.HasPrefix(r.EndUser, "user:") || r.Consumer != org {
			t.Fatalf("record without the signed-in person: %+v", r)
		}
	}
	if web[0].Decision != audit.Deny || web[0].Reason != "terms-not-confirmed" || web[1].Returned[0] != p.Ident || web[1].Decision != audit.Permit {
		t.Fatalf("first records: %+v, %+v", web[0], web[1])
	}

	t.Run("a new sign-in asks again", func(t *testing.T) {
		again := h.signIn(email)
		if pg := again.get("/portal/oppslag"); pg.has(`name="ident"`) {
			t.Fatal("the terms tick carried over to a new sign-in")
		}
	})

	t.Run("a consumer without a web grant gets nothing", func(t *testing.T) {
		other, _ := h.consumer("Bare API", grant(basic, access.ByArbeidstaker))
		u := h.signIn(h.account(governance.Oppslagsbruker, other, ""))
		u.post("/portal/oppslag/vilkar", url.Values{"bekreft": {"ja"}})
		if pg := u.post("/portal/oppslag", url.Values{"sok": {"person"}, "ident": {p.Ident}}); pg.status != http.StatusForbidden || pg.has(p.Navn()) {
			t.Fatalf("without a web grant: %d", pg.status)
		}
	})

	t.Run("a suspended grant stops the next search", func(t *testing.T) {
		gs, _ := h.db.Grants(t.Context(), org)
		h.db.SetGrantStatus(t.Context(), gs[0].ID, access.Suspended, "test", "test")
		if pg := user.post("/portal/oppslag", url.Values{"sok": {"person"}, "ident": {p.Ident}}); pg.status != http.StatusForbidden || !pg.has("suspendert") {
			t.Fatalf("after suspension: %d", pg.status)
		}
	})
}

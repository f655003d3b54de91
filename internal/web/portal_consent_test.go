package web

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"deling/internal/access"
	"deling/internal/governance"
)

// Rule SK-08: a person gives consent only where a consumer asks for it, with an
// expiry in the future within the maximum; bad input stores nothing; a person
// withdraws only their own; the fødselsnummer is never shown.
func TestConsentPages(t *testing.T) {
	h := newHarness(t)
	ctx := t.Context()
	org, _ := h.consumer("Forsikringen", consentGrant(basic, "skadeoppgjør", access.ByArbeidstaker), grant(basic, access.ByArbeidstaker))
	persons := h.employed(2)
	pid, otherPID := persons[0].Ident, persons[1].Ident
	b := h.signIn(h.account(governance.Person, "", pid))
	loc := lifeOslo(t)
	day := func(d int) string { return time.Now().In(loc).AddDate(0, 0, d).Format(time.DateOnly) }

	p := b.get("/portal/samtykker")
	if p.status != http.StatusOK || !p.has("Forsikringen: skadeoppgjør") || p.has(pid) || p.has("saksbehandling") {
		t.Fatalf("page: %d (only consent-based purposes are offered)", p.status)
	}
	for _, tc := range []struct {
		name   string
		form   url.Values
		status int
		field  string
	}{
		{"no choice", url.Values{"utloper": {day(10)}}, http.StatusBadRequest, "foresporsel"},
		{"a purpose on statute", url.Values{"foresporsel": {org + "|saksbehandling"}, "utloper": {day(10)}}, http.StatusBadRequest, "foresporsel"},
		{"no expiry", url.Values{"foresporsel": {org + "|skadeoppgjør"}}, http.StatusBadRequest, "utloper"},
		{"expired", url.Values{"foresporsel": {org + "|skadeoppgjør"}, "utloper": {day(-1)}}, http.StatusBadRequest, "utloper"},
		{"too far ahead", url.Values{"foresporsel": {org + "|skadeoppgjør"}, "utloper": {day(400)}}, http.StatusBadRequest, "utloper"},
		{"not a date", url.Values{"foresporsel": {org + "|skadeoppgjør"}, "utloper": {"31.12.2030"}}, http.StatusBadRequest, "utloper"},
	} {
		p := b.post("/portal/samtykker", tc.form)
		if p.status != tc.status || !p.has(`href="#f-`+tc.field+`"`) {
			t.Errorf("%s: status %d, want %d with an error on %s", tc.name, p.status, tc.status, tc.field)
		}
	}
	if cs, _ := h.db.Consents(ctx, pid); len(cs) != 0 {
		t.Fatalf("stored after bad posts: %+v", cs)
	}
	if p := b.post("/portal/samtykker", url.Values{"foresporsel": {org + "|skadeoppgjør"}, "utloper": {day(360)}}); p.status != http.StatusOK {
		t.Fatalf("give: %d", p.status)
	}
	if p := b.post("/portal/samtykker", url.Values{"foresporsel": {org + "|skadeoppgjør"}, "utloper": {day(20)}}); p.status != http.StatusConflict {
		t.Fatalf("a second valid consent: %d", p.status)
	}
	cs, _ := h.db.Consents(ctx, pid)
	if len(cs) != 1 {
		t.Fatalf("consents %+v", cs)
	}
	if p := b.get("/portal/samtykker"); !p.has("Gyldig") || !p.has("Trekk tilbake samtykket") || p.has(pid) {
		t.Fatal("the consent is not listed as valid")
	}

	// Another person cannot withdraw it; an organisation's user cannot see the page.
	other := h.signIn(h.account(governance.Person, "", otherPID))
	if p := other.post("/portal/samtykker/"+cs[0].ID+"/trekk", nil); p.status != http.StatusNotFound {
		t.Fatalf("another person's withdrawal: %d", p.status)
	}
	if p := other.get("/portal/samtykker"); p.has("Gyldig") {
		t.Fatal("another person's consent is listed")
	}
	if p := h.signIn(h.account(governance.Administrator, org, "")).get("/portal/samtykker"); p.status != http.StatusForbidden {
		t.Fatalf("administrator: %d", p.status)
	}
	if cs, _ := h.db.Consents(ctx, pid); cs[0].WithdrawnAt != nil {
		t.Fatal("withdrawn by another")
	}
	if p := b.post("/portal/samtykker/"+cs[0].ID+"/trekk", nil); p.status != http.StatusOK || !p.has("Trukket tilbake") {
		t.Fatalf("withdraw: %d", p.status)
	}
	if p := b.post("/portal/samtykker/"+cs[0].ID+"/trekk", nil); p.status != http.StatusNotFound {
		t.Fatalf("withdraw twice: %d", p.status)
	}
}

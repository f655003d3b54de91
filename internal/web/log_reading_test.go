package web

import (
	"net/http"
	"net/url"
	"regexp"
	"testing"

	"deling/internal/access"
	"deling/internal/audit"
	"deling/internal/governance"
	"deling/internal/web/machineapi"
)

// Rule AA-17 (issue 11, item 2): every reading of the log — a page, a
// download, the API — is itself a record, appended before the answer leaves.
// The receipt download was not.
func TestEveryLogReadingIsLogged(t *testing.T) {
	h := newHarness(t)
	privat, _ := h.consumer("Pensjonsselskap", grant(basic, access.ByArbeidstaker))
	h.db.UpsertConsumer(t.Context(), access.Consumer{Orgnr: privat, Navn: "Pensjonsselskap", Status: access.Active, Category: "privat"}, "test")
	p := h.employed(1)
	h.person(h.token(h.client(privat)), p[0].Ident, "")
	h.checkpoint()
	me := h.signIn(h.account(governance.Person, "", p[0].Ident))
	links := regexp.MustCompile(`/portal/innsyn/kvittering/\d+`).FindAllString(me.get("/portal/innsyn").body, -1)
	if len(links) != 1 {
		t.Fatalf("receipt links: %v", links)
	}
	dpo := h.signIn(h.account(governance.Personvernombud, governance.AuthorityOrg, ""))
	admin := h.signIn(h.account(governance.Administrator, privat, ""))
	api := func(path string, headers ...string) func() int {
		return func() int { return h.do("GET", testAdminToken, path, nil, headers...).status }
	}
	for _, c := range []struct {
		name, operation string
		read            func() int
	}{
		{"insight page", "GET /portal/innsyn", func() int { return me.get("/portal/innsyn").status }},
		{"receipt download", "GET /portal/innsyn/kvittering/{index}", func() int { return me.get(links[0]).status }},
		{"staff insight", "POST /portal/innsyn/person", func() int {
			return dpo.post("/portal/innsyn/person", url.Values{"fodselsnummer": {p[0].Ident}}).status
		}},
		{"own log page", "GET /portal/oppslagslogg", func() int { return admin.get("/portal/oppslagslogg").status }},
		{"own log download", "GET /portal/oppslagslogg/last-ned", func() int { return admin.get("/portal/oppslagslogg/last-ned").status }},
		{"API person insight", "GET /api/innsyn/person", api("/api/innsyn/person", machineapi.HeaderPerson, p[0].Ident)},
		{"API consumer log", "GET /api/innsyn/konsument/{orgnr}/oppslag", api("/api/innsyn/konsument/" + privat + "/oppslag")},
		{"API consumer log export", "GET /api/innsyn/konsument/{orgnr}/oppslag", api("/api/innsyn/konsument/" + privat + "/oppslag?format=jsonl")},
	} {
		before, _ := h.db.LogSize(t.Context())
		if status := c.read(); status != http.StatusOK {
			t.Fatalf("%s: %d", c.name, status)
		}
		after, _ := h.db.LogSize(t.Context())
		recs, _ := h.db.AuditRecords(t.Context(), "", 100_000)
		last := recs[len(recs)-1]
		if after != before+1 || last.Kind != audit.KindInsight || last.Operation != c.operation {
			t.Errorf("%s: %d records appended, the last %s %q", c.name, after-before, last.Kind, last.Operation)
		}
	}
}

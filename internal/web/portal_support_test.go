package web

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"deling/internal/governance"
	"deling/internal/incident"
)

// Rules AA-18, AA-19: a consumer's user sees the FAQ before the form,
// reports a fault — which becomes a service incident — and a change
// request; bad input is shown again by field and stores nothing. The
// register's staff see every case, set priority A, and post the first
// notice, published on the operational notices page; the clocks shown are
// the priority's, in the working calendar. Another organisation's user
// gets "not found" for the incident and never sees the cases; a reporter
// cannot change an incident.
func TestSupportAndServiceIncidentPages(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	a, _ := h.consumer("Støttekommune")
	b, _ := h.consumer("Annenstøtte")
	user := h.signIn(h.account(governance.Administrator, a, ""))
	outsider := h.signIn(h.account(governance.Administrator, b, ""))
	staff := h.signIn(h.account(governance.Saksbehandler, governance.AuthorityOrg, ""))

	p := user.get("/portal/support")
	if p.status != http.StatusOK || !p.has("Ofte stilte spørsmål") || !p.has("API-et svarer 429") {
		t.Fatalf("support page: %d", p.status)
	}
	if faqAt, formAt := regexp.MustCompile("Ofte stilte").FindStringIndex(p.body), regexp.MustCompile(`action="/portal/support"`).FindStringIndex(p.body); faqAt[0] > formAt[0] {
		t.Fatal("the form comes before the FAQ")
	}
	if g := user.post("/portal/support", url.Values{"type": {"feil"}, "tittel": {""}, "beskrivelse": {"Svarer 500"}}); g.status != http.StatusBadRequest ||
		!g.has(`href="#f-tittel"`) || !g.has("Svarer 500") {
		t.Fatalf("a fault without a title: %d", g.status)
	}
	if cases, _ := h.db.SupportCases(ctx, ""); len(cases) != 0 {
		t.Fatal("bad input was stored")
	}
	if g := user.post("/portal/support", url.Values{"type": {"feil"}, "tittel": {"Oppslag svarer 500"}, "beskrivelse": {"Siden i morges"}}); !g.has("Feilen er meldt") || !g.has("Oppslag svarer 500") {
		t.Fatalf("fault: %d", g.status)
	}
	if g := user.post("/portal/support", url.Values{"type": {"endring"}, "tittel": {"Yrkeskode i svaret"}, "beskrivelse": {"Ønskes"}}); !g.has("Endringsønsket er mottatt") {
		t.Fatalf("change request: %d", g.status)
	}
	services, _ := h.db.ServiceIncidents(ctx)
	if len(services) != 1 {
		t.Fatalf("%d service incidents", len(services))
	}
	id := services[0].ID
	if o := outsider.get("/portal/support"); o.has("Oppslag svarer 500") || o.has("Yrkeskode") {
		t.Fatal("another organisation sees the cases")
	}
	if o := outsider.get("/portal/driftshendelser/" + id); o.status != http.StatusNotFound {
		t.Fatalf("another organisation's view: %d", o.status)
	}
	if g := user.post("/portal/driftshendelser/"+id, url.Values{"prioritet": {"C"}, "oppdatering": {"x"}}); g.status != http.StatusForbidden {
		t.Fatalf("the reporter changes the incident: %d", g.status)
	}
	if g := user.get("/portal/support/saker"); g.status != http.StatusForbidden {
		t.Fatalf("a consumer on the register's list: %d", g.status)
	}

	// The register's list has both; priority A with the first notice.
	if l := staff.get("/portal/support/saker"); !l.has("Oppslag svarer 500") || !l.has("Yrkeskode i svaret") || !l.has("Mottatt – prioriteres") {
		t.Fatalf("staff list: %d", l.status)
	}
	if g := staff.post("/portal/driftshendelser/"+id, url.Values{"prioritet": {"X"}}); g.status != http.StatusBadRequest || !g.has("Velg prioritet A, B eller C") {
		t.Fatalf("a bad priority: %d", g.status)
	}
	if s, _ := h.db.ServiceIncident(ctx, id); s.Priority != "" || s.Version != 1 {
		t.Fatal("a bad priority was stored")
	}
	g := staff.post("/portal/driftshendelser/"+id, url.Values{"prioritet": {"A"}, "oppdatering": {"Vi undersøker feilen i oppslagene."}, "reagert": {"ja"}})
	s, _ := h.db.ServiceIncident(ctx, id)
	cal, _ := incident.NewCalendar(oslo, incident.DefaultWorkStart, incident.DefaultWorkEnd)
	first, react := s.FirstNoticeBy(cal), s.ReactionBy(cal)
	if !first.Equal(s.ReportedAt.Add(15*time.Minute)) || !react.After(s.ReportedAt) {
		t.Fatalf("clocks %v %v", first, react)
	}
	if !g.has("Driftshendelsen er oppdatert") || !g.has(first.In(oslo).Format("02.01.2006 kl. 15:04")) || !g.has(react.In(oslo).Format("02.01.2006 kl. 15:04")) ||
		!g.has("Vi undersøker feilen") || s.FirstNoticeAt.IsZero() || s.ReactedAt.IsZero() {
		t.Fatalf("update: %d", g.status)
	}
	// The consumer sees the incident with its clocks; the update is an operational notice.
	if v := user.get("/portal/driftshendelser/" + id); !v.has("A – kritisk") || !v.has(first.In(oslo).Format("02.01.2006 kl. 15:04")) || v.has("Oppdater hendelsen") {
		t.Fatalf("the consumer's view: %d", v.status)
	}
	// Rule AA-19: one consumer's fault is never public: its updates go to the
	// consumers it affects by letter, not to the notices page or other consumers.
	if n := h.anonymous().get("/driftsmeldinger"); n.has("Oppslag svarer 500") || n.has("Vi undersøker feilen") {
		t.Fatalf("a consumer's fault on the public notices page: %d", n.status)
	}
	if ls, _ := h.db.MailTo(ctx, a, 50); !slices.ContainsFunc(ls, func(l governance.Letter) bool {
		return l.Kind == governance.LetterServiceIncident && strings.Contains(l.Body, "Vi undersøker feilen")
	}) {
		t.Fatal("the affected consumer got no letter of the update")
	}
	// The register records one for every consumer: the other organisation sees it.
	g = staff.post("/portal/driftshendelser", url.Values{"tittel": {"Treg innlogging"}, "beskrivelse": {"ID-porten er treg"}, "prioritet": {"B"}})
	if !g.has("Driftshendelsen er registrert") {
		t.Fatalf("record: %d", g.status)
	}
	if o := outsider.get("/portal/support"); !o.has("Treg innlogging") {
		t.Fatal("an incident for every consumer is not shown")
	}
	// The SLA table.
	if l := staff.get("/portal/support/saker"); !l.has("Oppfyllelse av tjenestenivå") || !l.has("100 %") {
		t.Fatalf("SLA: %d", l.status)
	}
	// Every step is in the lookup log.
	var steps int
	for _, ev := range h.eventsOf("", "incident.changed") {
		if ev["service"] != nil || ev["support"] != nil {
			steps++
		}
	}
	if steps != 4 { // fault, change request, update, the register's own
		t.Fatalf("%d support steps in the log", steps)
	}
}

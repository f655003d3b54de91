package web

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"deling/internal/access"
	"deling/internal/governance"
	"deling/internal/lookup"
	"deling/internal/store"
)

// termsContact gives a consumer a contact person.
func (h *harness) termsContact(org, email string, varsler bool) {
	h.t.Helper()
	if _, err := h.db.SaveContact(context.Background(), governance.Contact{Consumer: org, Navn: "Kontakt " + email, Epost: email,
		Rolle: governance.ContactTechnical, Varsler: varsler}, "test"); err != nil {
		h.t.Fatal(err)
	}
}

// letters are the addresses of the letters of kind concerning org, sorted.
func (h *harness) letters(org, kind string) []string {
	h.t.Helper()
	ms, err := h.db.MailTo(context.Background(), org, 1000)
	if err != nil {
		h.t.Fatal(err)
	}
	var out []string
	for _, m := range ms {
		if m.Kind == kind {
			out = append(out, m.To)
		}
	}
	slices.Sort(out)
	return out
}

// osloDate is a date n days from now, as an <input type="date"> sends it.
func osloDate(days int) string {
	oslo, _ := time.LoadLocation("Europe/Oslo")
	return time.Now().In(oslo).AddDate(0, 0, days).Format("2006-01-02")
}

func (h *harness) termsVersions() []governance.TermsVersion {
	h.t.Helper()
	vs, err := h.db.TermsVersions(context.Background())
	if err != nil {
		h.t.Fatal(err)
	}
	return vs
}

// Rules AA-24, SK-02: new terms are announced ahead; an objection that cannot be met ends the consumer's access.
func TestTermsObjectionEndsAccess(t *testing.T) {
	h := newHarness(t)
	org, grants := h.consumer("Objekt kommune", grant(basic, access.ByArbeidstaker))
	h.termsContact(org, "drift@objekt.example", true)
	h.termsContact(org, "leder@objekt.example", false)
	tok := h.token(h.client(org))
	person := h.employed(1)[0]
	if a := h.person(tok, person.Ident, ""); a.status != http.StatusOK {
		t.Fatalf("before: %d %s", a.status, a.body)
	}

	forvalter := h.signIn(h.account(governance.Forvalter, governance.AuthorityOrg, ""))
	p := forvalter.post("/portal/forvalter/vilkar", url.Values{"type": {"bruksvilkar"}, "tittel": {"Bruksvilkår 2026"}, "tekst": {"Første ledd.\n\nAndre ledd."}})
	if p.status != http.StatusOK || !strings.HasSuffix(p.url, "/portal/forvalter/vilkar") || !p.has("Versjon 1 er publisert") {
		t.Fatalf("publish v1: %d %s", p.status, p.url)
	}
	// Rule AA-24: a later version is announced at least 30 days ahead; sooner is refused and nothing is stored.
	p = forvalter.post("/portal/forvalter/vilkar", url.Values{"type": {"bruksvilkar"}, "tittel": {"For tidlig"}, "tekst": {"Tekst."}, "gjelder_fra": {osloDate(10)}})
	if p.status != http.StatusBadRequest || !p.has("minst 30 dager") || !p.has(`value="For tidlig"`) || !p.has(`href="#f-gjelder_fra"`) {
		t.Fatalf("too soon: %d", p.status)
	}
	if n := len(h.termsVersions()); n != 1 {
		t.Fatalf("%d versions after a refused publication", n)
	}
	p = forvalter.post("/portal/forvalter/vilkar", url.Values{"type": {"bruksvilkar"}, "tittel": {"Bruksvilkår 2027"}, "tekst": {"Nytt punkt 3."}, "gjelder_fra": {osloDate(31)}})
	if p.status != http.StatusOK || !p.has("Versjon 2 er publisert") {
		t.Fatalf("publish v2: %d %s", p.status, p.body)
	}
	vs := h.termsVersions()
	v2 := vs[len(vs)-1]
	if v2.Version != 2 || v2.Title != "Bruksvilkår 2027" {
		t.Fatalf("v2: %+v", v2)
	}
	// Announced: a notice, and a letter to the subscribed contact only.
	if got := h.letters(org, governance.LetterNotice); !slices.Equal(got, []string{"drift@objekt.example", "drift@objekt.example"}) {
		t.Fatalf("notice letters: %v", got)
	}
	if p := h.anonymous().get("/driftsmeldinger"); !p.has("Nye vilkår: Bruksvilkår 2027") {
		t.Fatal("no terms notice on the notices page")
	}
	if p := h.anonymous().get("/vilkar"); p.status != http.StatusOK || !p.has("Bruksvilkår 2026") || !p.has("Ny versjon gjelder fra") {
		t.Fatalf("public terms page: %d", p.status)
	}

	// The consumer's administrator sees v2 coming, and objects.
	admin := h.signIn(h.account(governance.Administrator, org, ""))
	p = admin.get("/portal/vilkar")
	if p.status != http.StatusOK || !p.has("Kommende versjoner") || !p.has("Bruksvilkår 2027") ||
		!p.has(governance.TermsAwaiting.Label()) || !p.has("/portal/vilkar/"+v2.ID+"/innsigelse") {
		t.Fatalf("consumer's terms page: %d\n%s", p.status, p.body)
	}
	if p := admin.post("/portal/vilkar/"+v2.ID+"/innsigelse", url.Values{"begrunnelse": {"  "}}); p.status != http.StatusBadRequest || !p.has(`href="#f-begrunnelse"`) {
		t.Fatalf("empty objection: %d", p.status)
	}
	p = admin.post("/portal/vilkar/"+v2.ID+"/innsigelse", url.Values{"begrunnelse": {"Punkt 3 kan vi ikke etterleve."}})
	if !strings.HasSuffix(p.url, "/portal/vilkar") || !p.has(governance.TermsObjected.Label()) {
		t.Fatalf("objection: %d %s", p.status, p.url)
	}
	if p := admin.post("/portal/vilkar/"+v2.ID+"/innsigelse", url.Values{"begrunnelse": {"Igjen."}}); p.status != http.StatusConflict {
		t.Fatalf("a second objection: %d", p.status)
	}
	// The case queue is the register's.
	if p := admin.get("/portal/innsigelser"); p.status != http.StatusForbidden {
		t.Fatalf("consumer at the case queue: %d", p.status)
	}

	// The case worker sees it and finds it cannot be met.
	worker := h.signIn(h.account(governance.Saksbehandler, governance.AuthorityOrg, ""))
	objs, err := h.db.Objections(context.Background(), org, governance.ObjectionPending)
	if err != nil || len(objs) != 1 {
		t.Fatalf("objections: %v %d", err, len(objs))
	}
	if p := worker.get("/portal/innsigelser"); !p.has("Objekt kommune") || !p.has("/portal/innsigelser/"+objs[0].ID) {
		t.Fatal("the objection is not in the queue")
	}
	if p := worker.get("/portal/innsigelser/" + objs[0].ID); p.status != http.StatusOK || !p.has("Punkt 3 kan vi ikke etterleve.") {
		t.Fatalf("case page: %d", p.status)
	}
	if p := worker.get("/portal/innsigelser/ukjent"); p.status != http.StatusNotFound {
		t.Fatalf("unknown objection: %d", p.status)
	}
	if p := worker.post("/portal/innsigelser/"+objs[0].ID, url.Values{"utfall": {"imotekommes"}}); p.status != http.StatusBadRequest || !p.has(`href="#f-notat"`) {
		t.Fatalf("met without a note: %d", p.status)
	}
	p = worker.post("/portal/innsigelser/"+objs[0].ID, url.Values{"utfall": {"avvises"}, "notat": {"Punkt 3 gjelder alle konsumenter."}})
	if !strings.HasSuffix(p.url, "/portal/innsigelser") || !p.has("All tilgang for Objekt kommune er avsluttet") {
		t.Fatalf("rejecting: %d %s", p.status, p.url)
	}

	// Rule AA-24: access has ended; the same token is refused on the next request.
	a := h.person(tok, person.Ident, "")
	if a.status != http.StatusForbidden || a.problem().Detail != lookup.Deny(access.DenyGrantEnded).Text {
		t.Fatalf("after the objection: %d %s", a.status, a.body)
	}
	if g, _ := h.db.Grant(context.Background(), grants[0].ID); g.Status != access.Ended || g.StatusReason != store.ObjectionReason {
		t.Fatalf("grant: %+v", g)
	}
	// Its contacts, all of them, got the letter.
	if got := h.letters(org, "terms.objection"); !slices.Equal(got, []string{"drift@objekt.example", "leder@objekt.example"}) {
		t.Fatalf("objection letters: %v", got)
	}
	if p := admin.get("/portal/vilkar"); !p.has(governance.TermsObjectionRefused.Label()) || !p.has("Punkt 3 gjelder alle konsumenter.") {
		t.Fatal("the consumer does not see the outcome")
	}
	// Decided once.
	if p := worker.post("/portal/innsigelser/"+objs[0].ID, url.Values{"utfall": {"imotekommes"}, "notat": {"likevel"}}); !p.has("allerede behandlet") {
		t.Fatalf("deciding twice: %d", p.status)
	}
}

// Rule SK-02: an organisation accepts terms explicitly; Rule AA-24: without, it is deemed to have accepted from the date.
func TestTermsAcceptance(t *testing.T) {
	h := newHarness(t)
	org, _ := h.consumer("Godta AS", grant(basic, access.ByArbeidstaker))
	forvalter := h.signIn(h.account(governance.Forvalter, governance.AuthorityOrg, ""))
	forvalter.post("/portal/forvalter/vilkar", url.Values{"type": {"delingsvilkar"}, "tittel": {"Delingsvilkår"}, "tekst": {"Tekst."}})
	// The first version takes effect at once: deemed accepted by a consumer with access.
	holder := h.signIn(h.account(governance.Rolleinnehaver, org, ""))
	if p := holder.get("/portal/vilkar"); !p.has(governance.TermsDeemedAccepted.Label()) || !p.has(`/godta"`) {
		t.Fatalf("deemed: %s", p.body)
	}
	v := h.termsVersions()[0]
	// Too late to object to terms in effect.
	if p := holder.post("/portal/vilkar/"+v.ID+"/innsigelse", url.Values{"begrunnelse": {"Nei."}}); p.status != http.StatusConflict || !p.has("Fristen") {
		t.Fatalf("objecting to terms in effect: %d", p.status)
	}
	p := holder.post("/portal/vilkar/"+v.ID+"/godta", nil)
	if !strings.HasSuffix(p.url, "/portal/vilkar") || !p.has("Dere har godtatt") || !p.has(`data-color="success">Godtatt<`) {
		t.Fatalf("accept: %d %s", p.status, p.url)
	}
	if acc, _ := h.db.TermsAcceptances(context.Background(), org); len(acc) != 1 || acc[0].VersionID != v.ID {
		t.Fatalf("acceptances: %+v", acc)
	}
	if p := holder.post("/portal/vilkar/ukjent/godta", nil); p.status != http.StatusNotFound {
		t.Fatalf("unknown version: %d", p.status)
	}
	// Only the register's Forvalter publishes terms; a developer does not see the consumer's terms page.
	if p := holder.post("/portal/forvalter/vilkar", url.Values{"type": {"delingsvilkar"}, "tittel": {"x"}, "tekst": {"y"}}); p.status != http.StatusForbidden {
		t.Fatalf("consumer publishing terms: %d", p.status)
	}
	if p := h.signIn(h.account(governance.Utvikler, org, "")).get("/portal/vilkar"); p.status != http.StatusForbidden {
		t.Fatalf("developer at the terms page: %d", p.status)
	}
}

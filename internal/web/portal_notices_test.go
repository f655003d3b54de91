package web

import (
	"context"
	"encoding/xml"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"deling/internal/access"
	"deling/internal/governance"
)

// Rule AA-23: while an old API version lives its last months, its answers say so.
func TestDeprecationHeaders(t *testing.T) {
	h := newHarness(t)
	org, _ := h.consumer("Header kommune", grant(basic, access.ByArbeidstaker))
	tok := h.token(h.client(org))
	person := h.employed(1)[0]
	if a := h.person(tok, person.Ident, ""); a.status != http.StatusOK || a.header.Get("Deprecation") != "" || a.header.Get("Sunset") != "" {
		t.Fatalf("before: %d %v", a.status, a.header)
	}
	staff := h.signIn(h.account(governance.Saksbehandler, governance.AuthorityOrg, ""))
	// Rule AA-23: four months at least; three are refused.
	form := url.Values{"type": {"endring_normal"}, "tittel": {"API v3"}, "tekst": {"v2 fases ut."}, "api": {"/api/v2"}, "sunset": {osloDate(90)}}
	if p := staff.post("/portal/forvalter/meldinger", form); p.status != http.StatusBadRequest || !p.has("minst 4 måneder") {
		t.Fatalf("three months: %d", p.status)
	}
	form.Set("sunset", osloDate(150))
	before := time.Now().Add(-time.Second)
	if p := staff.post("/portal/forvalter/meldinger", form); !strings.HasSuffix(p.url, "/portal/forvalter/meldinger") || !p.has("Meldingen er publisert") {
		t.Fatalf("publish: %d %s", p.status, p.body)
	}
	ns, _ := h.db.Notices(context.Background(), 10)
	if len(ns) != 1 {
		t.Fatalf("%d notices", len(ns))
	}
	a := h.person(tok, person.Ident, "")
	if a.status != http.StatusOK {
		t.Fatalf("lookup: %d", a.status)
	}
	// RFC 9745: Deprecation: @<unix seconds of the announcement>.
	dep := a.header.Get("Deprecation")
	secs, err := strconv.ParseInt(strings.TrimPrefix(dep, "@"), 10, 64)
	if !strings.HasPrefix(dep, "@") || err != nil || time.Unix(secs, 0).Before(before.Truncate(time.Second)) || secs != ns[0].PublishedAt.Unix() {
		t.Fatalf("Deprecation %q", dep)
	}
	// RFC 8594: Sunset: an HTTP-date.
	sunset, err := http.ParseTime(a.header.Get("Sunset"))
	if err != nil || !sunset.Equal(*ns[0].Sunset) {
		t.Fatalf("Sunset %q: %v", a.header.Get("Sunset"), err)
	}
	if got := a.header.Get("Link"); got != `</driftsmeldinger#`+ns[0].ID+`>; rel="deprecation"` {
		t.Fatalf("Link %q", got)
	}
	// Only under the old version's path.
	if a := h.do("GET", "", "/healthz", nil); a.header.Get("Deprecation") != "" {
		t.Fatal("Deprecation outside /api/v2")
	}
	// After the sunset the headers go (the cache reloads within 10 s of the clock).
	h.clock.advance(151 * 24 * time.Hour)
	if a := h.do("GET", "", "/api/v2/arbeidstaker/arbeidsforhold", nil); a.header.Get("Deprecation") != "" || a.header.Get("Sunset") != "" {
		t.Fatalf("after the sunset: %v", a.header)
	}
}

// Rule AA-15: planned downtime is announced at least a week ahead.
func TestDowntimeNoticeLeadTime(t *testing.T) {
	h := newHarness(t)
	org, _ := h.consumer("Nedetid AS", grant(basic, access.ByArbeidstaker))
	h.termsContact(org, "drift@nedetid.example", true)
	forvalter := h.signIn(h.account(governance.Forvalter, governance.AuthorityOrg, ""))
	oslo, _ := time.LoadLocation("Europe/Oslo")
	at := func(d time.Duration) string { return time.Now().Add(d).In(oslo).Format("2006-01-02T15:04") }
	form := url.Values{"type": {"planlagt_nedetid"}, "tittel": {"Oppgradering av databasen"}, "tekst": {"Registeret er nede."},
		"start": {at(48 * time.Hour)}, "slutt": {at(50 * time.Hour)}}
	p := forvalter.post("/portal/forvalter/meldinger", form)
	if p.status != http.StatusBadRequest || !p.has("minst 7 dager") || !p.has(`href="#f-start"`) || !p.has(`value="Oppgradering av databasen"`) {
		t.Fatalf("two days ahead: %d\n%s", p.status, p.body)
	}
	if ns, _ := h.db.Notices(context.Background(), 10); len(ns) != 0 {
		t.Fatalf("stored: %+v", ns)
	}
	if got := h.letters(org, governance.LetterNotice); len(got) != 0 {
		t.Fatalf("letters: %v", got)
	}
	// Garbage is a form message too.
	form.Set("start", "i morgen")
	if p := forvalter.post("/portal/forvalter/meldinger", form); p.status != http.StatusBadRequest || !p.has("dato og klokkeslett") {
		t.Fatalf("garbage time: %d", p.status)
	}
	form.Set("start", at(8*24*time.Hour))
	form.Set("slutt", at(8*24*time.Hour+2*time.Hour))
	if p := forvalter.post("/portal/forvalter/meldinger", form); !strings.HasSuffix(p.url, "/portal/forvalter/meldinger") {
		t.Fatalf("eight days ahead: %d", p.status)
	}
	if p := h.anonymous().get("/driftsmeldinger"); !p.has("Oppgradering av databasen") || !p.has("Nedetid fra ") || !p.has("Planlagt nedetid") {
		t.Fatal("not on the notices page")
	}
	// A consumer's administrator does not publish notices.
	admin := h.signIn(h.account(governance.Administrator, org, ""))
	if p := admin.get("/portal/forvalter/meldinger"); p.status != http.StatusForbidden {
		t.Fatalf("consumer at the notices form: %d", p.status)
	}
}

// Rule AA-20: a notice goes by e-mail to the subscribed contacts of active consumers only.
func TestNoticeLettersOnlyToSubscribers(t *testing.T) {
	h := newHarness(t)
	active, _ := h.consumer("Aktiv kommune", grant(basic, access.ByArbeidstaker))
	h.termsContact(active, "abonnent@aktiv.example", true)
	h.termsContact(active, "ikke@aktiv.example", false)
	ceased, _ := h.consumer("Opphørt AS", grant(basic, access.ByArbeidstaker))
	h.termsContact(ceased, "abonnent@opphort.example", true)
	if err := h.db.UpsertConsumer(context.Background(), access.Consumer{Orgnr: ceased, Navn: "Opphørt AS", Status: access.Ceased}, "test"); err != nil {
		t.Fatal(err)
	}
	forvalter := h.signIn(h.account(governance.Forvalter, governance.AuthorityOrg, ""))
	forvalter.post("/portal/forvalter/meldinger", url.Values{"type": {"nyhet"}, "tittel": {"Ny funksjon"}, "tekst": {"Søk på arbeidssted."}})
	if got := h.letters(active, governance.LetterNotice); !slices.Equal(got, []string{"abonnent@aktiv.example"}) {
		t.Fatalf("active consumer's letters: %v", got)
	}
	if got := h.letters(ceased, governance.LetterNotice); len(got) != 0 {
		t.Fatalf("ceased consumer's letters: %v", got)
	}
	ms, _ := h.db.MailTo(context.Background(), active, 10)
	if len(ms) != 1 || !strings.Contains(ms[0].Subject, "Ny funksjon") || !strings.Contains(ms[0].Body, "Søk på arbeidssted.") || !strings.Contains(ms[0].Body, "/driftsmeldinger#") {
		t.Fatalf("letter: %+v", ms)
	}
	// Terms notices are made by publishing terms, not by hand.
	if p := forvalter.post("/portal/forvalter/meldinger", url.Values{"type": {"vilkår"}, "tittel": {"x"}, "tekst": {"y"}}); p.status != http.StatusBadRequest {
		t.Fatalf("a terms notice by hand: %d", p.status)
	}
}

// Rule AA-20: the notices are a public page and a well-formed Atom 1.0 feed.
func TestNoticeFeed(t *testing.T) {
	h := newHarness(t)
	forvalter := h.signIn(h.account(governance.Forvalter, governance.AuthorityOrg, ""))
	forvalter.post("/portal/forvalter/meldinger", url.Values{"type": {"endring_akutt"}, "tittel": {"Feilretting <i dag> & nå"}, "tekst": {"Vi retter en feil."}})
	forvalter.post("/portal/forvalter/meldinger", url.Values{"type": {"endring_standard"}, "tittel": {"Raskere søk"}, "tekst": {"Søket er raskere."}})

	anon := h.anonymous()
	p := anon.get("/driftsmeldinger")
	if p.status != http.StatusOK || !p.has("Feilretting &lt;i dag&gt; &amp; nå") || !p.has("Akutt endring") || strings.Index(p.body, "Raskere søk") > strings.Index(p.body, "Feilretting") {
		t.Fatalf("page: %d", p.status)
	}
	resp, err := h.srv.Client().Get(h.srv.URL + "/driftsmeldinger.atom")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/atom+xml") {
		t.Fatalf("feed: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	var f governance.AtomFeed
	if err := xml.NewDecoder(resp.Body).Decode(&f); err != nil {
		t.Fatalf("feed is not well-formed: %v", err)
	}
	if f.XMLName.Space != governance.AtomNS || len(f.Entries) != 2 || f.Entries[0].Title != "Raskere søk" || f.Entries[1].Title != "Feilretting <i dag> & nå" {
		t.Fatalf("feed: %+v", f)
	}
	// Without a configured base URL, links name the host asked.
	ns, _ := h.db.Notices(context.Background(), 10)
	if want := h.srv.URL + "/driftsmeldinger#" + ns[0].ID; f.Entries[0].Links[0].Href != want || f.Entries[0].ID != "urn:uuid:"+ns[0].ID {
		t.Fatalf("entry link %q, id %q; want %q", f.Entries[0].Links[0].Href, f.Entries[0].ID, want)
	}
	if !slices.ContainsFunc(f.Links, func(l governance.AtomLink) bool {
		return l.Rel == "self" && l.Href == h.srv.URL+"/driftsmeldinger.atom"
	}) {
		t.Fatalf("self link: %+v", f.Links)
	}
}

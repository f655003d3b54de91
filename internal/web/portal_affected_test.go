package web

import (
	"context"
	"encoding/base64"
	"encoding/csv"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"deling/internal/access"
	"deling/internal/audit"
	"deling/internal/governance"
	"deling/internal/store"
)

// fetch GETs path as the signed-in user and returns the answer with its headers.
func (b *browserless) fetch(path string) answer {
	b.h.t.Helper()
	resp, body := b.download(path)
	return answer{status: resp.StatusCode, body: []byte(body), header: resp.Header}
}

// csvIdents are the identities of an affected-persons CSV, in order.
func csvIdents(t *testing.T, body []byte) []string {
	t.Helper()
	r := csv.NewReader(strings.NewReader(string(body)))
	r.Comma = ';'
	rows, err := r.ReadAll()
	if err != nil || len(rows) == 0 || rows[0][0] != "fodselsnummer" {
		t.Fatalf("csv: %v\n%s", err, body)
	}
	var out []string
	for _, row := range rows[1:] {
		out = append(out, row[0])
	}
	return out
}

// loggedPersons is the reference: every person the log's records returned
// for consumer within [from, to) and below size, read straight from the
// stored records.
func (h *harness) loggedPersons(consumer string, from, to time.Time, size uint64) []string {
	h.t.Helper()
	recs, err := h.db.StoredRecords(context.Background(), store.RecordQuery{All: true, Limit: 100_000})
	if err != nil {
		h.t.Fatal(err)
	}
	var out []string
	for _, sr := range recs {
		r := sr.Record
		if sr.Seq >= size || r.Kind != audit.KindLookup || r.Decision != audit.Permit || r.Consumer != consumer ||
			r.Time.Before(from) || (!to.IsZero() && !r.Time.Before(to)) {
			continue
		}
		out = append(out, r.Returned...)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

var resultLink = regexp.MustCompile(`/portal/avvik/[0-9a-f-]{36}/berorte/([A-Z2-7=-]+)$`)

// Rules AV-05, AA-16, AA-22 (issue 12 item 6): a case worker computes from the
// lookup log who was affected by a breach at a consumer in a window: the list
// equals the set of persons in the log's records for that consumer and window
// and excludes those looked up before, after, by another consumer or after
// the checkpoint; the counts by channel go on the case and into the filing
// form; the list names its checkpoint and is the same at that checkpoint
// after more lookups; it is only a download, itself logged; the consumer's
// contact persons are listed. A reporter or another organisation cannot reach it.
func TestIncidentAffectedFromLog(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	a, _ := h.consumer("Berørtkommune", grant(basic, access.ByArbeidstaker), webGrant(access.ByArbeidstaker))
	h.lifeContact(a, "Kari Kontakt", "kari@berort.test", governance.ContactAdministrative)
	b, _ := h.consumer("Naboko", grant(basic, access.ByArbeidstaker))
	tokA, tokB := h.token(h.client(a)), h.token(h.client(b))
	web := h.signIn(h.account(governance.Oppslagsbruker, a, ""))
	if pg := web.post("/portal/oppslag/vilkar", url.Values{"bekreft": {"ja"}}); pg.status != http.StatusOK {
		t.Fatalf("terms: %d", pg.status)
	}
	ps := h.employed(7)
	look := func(tok string, p int) {
		t.Helper()
		if r := h.person(tok, ps[p].Ident, ""); r.status != http.StatusOK {
			t.Fatalf("lookup %d: %d", p, r.status)
		}
	}
	lookWeb := func(p int) {
		t.Helper()
		if pg := web.post("/portal/oppslag", url.Values{"sok": {"person"}, "ident": {ps[p].Ident}}); pg.status != http.StatusOK {
			t.Fatalf("web lookup %d: %d", p, pg.status)
		}
	}

	look(tokA, 0) // before the window
	t0 := h.clock.now()
	h.clock.advance(5 * time.Minute)
	look(tokA, 1) // in the window: API 1, 2; web 2, 3; another consumer 4
	look(tokA, 2)
	lookWeb(2)
	lookWeb(3)
	look(tokB, 4)
	h.clock.advance(5 * time.Minute)
	look(tokA, 5) // after the window
	from, to := t0.Add(2*time.Minute).Truncate(time.Minute), t0.Add(8*time.Minute).Truncate(time.Minute)
	scope := url.Values{"berort_konsument": {a}, "berort_fra": {formTime(from)}, "berort_til": {formTime(to)}}

	reporter := h.signIn(h.account(governance.Administrator, a, ""))
	p := reporter.post("/portal/avvik/ny", url.Values{"hva": {"Oppslag fra en kompromittert klient"}, "oppdaget": {formTime(h.clock.now().Add(-time.Minute))}})
	id := caseID(t, p)
	cw := h.signIn(h.account(governance.Saksbehandler, governance.AuthorityOrg, ""))
	other := h.signIn(h.account(governance.Administrator, b, ""))

	// Nothing without a signed checkpoint: the list must name one.
	if g := cw.post("/portal/avvik/"+id+"/berorte", scope); g.status != http.StatusBadRequest || !g.has("ikke et signert kontrollpunkt") {
		t.Fatalf("without a checkpoint: %d", g.status)
	}
	// A scope is required.
	if g := cw.post("/portal/avvik/"+id+"/berorte", url.Values{}); g.status != http.StatusBadRequest || !g.has("Oppgi konsumenten, klienten") {
		t.Fatalf("no scope: %d", g.status)
	}
	size1, root1 := h.checkpoint()
	look(tokA, 6) // after the checkpoint

	g := cw.post("/portal/avvik/"+id+"/berorte", scope)
	m := resultLink.FindStringSubmatch(g.url)
	if g.status != http.StatusOK || m == nil || !g.has("Berørte personer er beregnet") {
		t.Fatalf("compute: %d at %s", g.status, g.url)
	}
	result := g.url[len(h.srv.URL):]
	// Counts for the filing, by channel, and the checkpoint by size and root hash.
	for _, want := range []string{`<strong id="personer">3</strong>`, `<strong id="oppslag">4</strong>`,
		"<td>API</td><td>2</td><td>2</td>", "<td>Nettoppslag i portalen</td><td>2</td><td>2</td>",
		"størrelse <strong>" + itoa(int(size1)) + "</strong>",
		"Kari Kontakt", "kari@berort.test", "Berørtkommune (org.nr. " + a + ")"} {
		if !g.has(want) {
			t.Fatalf("result page lacks %q", want)
		}
	}
	if !strings.Contains(html.UnescapeString(g.body), base64.StdEncoding.EncodeToString(root1)) {
		t.Fatal("result page lacks the checkpoint's root hash")
	}
	// Identities are never on the page or in a URL.
	for _, pp := range ps {
		if g.has(pp.Ident) || strings.Contains(g.url, pp.Ident) {
			t.Fatal("the result page names a person")
		}
	}

	// The list: exactly the persons the log's records for the consumer and window returned, at the checkpoint.
	dl := regexp.MustCompile(`href="(/portal/avvik/[^"]+/last-ned)"`).FindStringSubmatch(g.body)
	if dl == nil {
		t.Fatal("no download link")
	}
	d := cw.fetch(dl[1])
	if d.status != http.StatusOK || !strings.HasPrefix(d.header.Get("Content-Disposition"), "attachment;") || !strings.HasPrefix(d.header.Get("Content-Type"), "text/csv") {
		t.Fatalf("download: %d %v", d.status, d.header)
	}
	got := csvIdents(t, d.body)
	want := h.loggedPersons(a, from, to, size1)
	wantSet := []string{ps[1].Ident, ps[2].Ident, ps[3].Ident}
	slices.Sort(wantSet)
	if !slices.Equal(got, want) || !slices.Equal(got, wantSet) {
		t.Fatalf("list %v, log %v, want %v", got, want, wantSet)
	}
	for _, out := range []int{0, 4, 5, 6} { // before, another consumer, after the window, after the checkpoint
		if slices.Contains(got, ps[out].Ident) {
			t.Fatalf("person %d is in the list", out)
		}
	}
	// The download is a reading of the log, recorded without the identities.
	var readings int
	recs, _ := h.db.StoredRecords(ctx, store.RecordQuery{All: true, Limit: 100_000})
	for _, sr := range recs {
		if sr.Record.Kind == audit.KindInsight && strings.Contains(string(sr.Record.Request), `"berorte"`) {
			readings++
			if len(sr.Record.Returned) > 0 || strings.Contains(string(sr.Canonical), ps[1].Ident) {
				t.Fatal("the reading names the persons")
			}
		}
		if sr.Record.Kind == audit.KindIncident && strings.Contains(string(sr.Canonical), a) {
			t.Fatal("the case step names the scope")
		}
	}
	if readings != 1 {
		t.Fatalf("%d readings logged", readings)
	}

	// Reproducible: at the same checkpoint the same list after more lookups; the newest checkpoint has the later one.
	look(tokA, 1)
	open := url.Values{"berort_konsument": {a}, "berort_fra": {formTime(from)}, "berort_kontrollpunkt": {itoa(int(size1))}}
	again := cw.post("/portal/avvik/"+id+"/berorte", scope) // the newest checkpoint is still the first
	if !again.has(`<strong id="personer">3</strong>`) {
		t.Fatal("the window computed again at the same checkpoint")
	}
	h.checkpoint()
	g2 := cw.post("/portal/avvik/"+id+"/berorte", open)
	if !g2.has(`<strong id="personer">4</strong>`) { // 1, 2, 3 and 5 (after the window's end, before the checkpoint)
		t.Fatalf("open window at the first checkpoint: %d", g2.status)
	}
	delete(open, "berort_kontrollpunkt")
	g3 := cw.post("/portal/avvik/"+id+"/berorte", open)
	if !g3.has(`<strong id="personer">5</strong>`) { // and 6, at the newest
		t.Fatal("open window at the newest checkpoint")
	}
	d2 := cw.fetch(dl[1])
	if string(d2.body) != string(d.body) {
		t.Fatal("the same computation downloaded twice gives another list")
	}

	// The newest counts go into the forms: the assessment's and the filing's number of persons, the filing's records.
	cw.post("/portal/avvik/"+id+"/ta", nil)
	cp := cw.get("/portal/avvik/" + id)
	if !cp.has(`name="antall_personer" type="text" value="5"`) || !cp.has("Berørte beregnet fra oppslagsloggen") {
		t.Fatalf("assessment form not prefilled: %d", cp.status)
	}
	cw.post("/portal/avvik/"+id+"/risiko", assessForm())
	cw.post("/portal/avvik/"+id+"/beslutning", url.Values{"melde_datatilsynet": {"ja"}, "begrunnelse": {"Høy"}, "varsle_berorte": {"ikke_hoy"}, "begrunnelse_berorte": {"lav"}})
	cp = cw.get("/portal/avvik/" + id)
	if !cp.has(`name="antall_registrerte" type="text" value="5"`) || !cp.has(`name="antall_opplysninger" type="text" value="7"`) { // records: the window's four, 5, 6 and 1 again
		t.Fatal("filing form not prefilled with the counts")
	}
	// Every computation is a step on the case in the log.
	if steps := h.incidentSteps(id); strings.Count(strings.Join(steps, ","), "berorte") != 4 {
		t.Fatalf("steps %v", steps)
	}

	// Only the register's case workers and DPO: the reporter and another organisation are refused; an unknown computation is not found.
	for _, who := range []*browserless{reporter, other} {
		if r := who.get(result); r.status != http.StatusForbidden {
			t.Fatalf("result page for an outsider: %d", r.status)
		}
		if r := who.fetch(dl[1]); r.status != http.StatusForbidden || strings.Contains(string(r.body), ps[1].Ident) {
			t.Fatalf("download for an outsider: %d", r.status)
		}
		if r := who.post("/portal/avvik/"+id+"/berorte", scope); r.status != http.StatusForbidden {
			t.Fatalf("compute for an outsider: %d", r.status)
		}
	}
	if r := reporter.get("/portal/avvik/" + id); r.has("Beregn berørte") {
		t.Fatal("the reporter is offered the computation")
	}
	if r := cw.get("/portal/avvik/" + id + "/berorte/AAAA-BBBB"); r.status != http.StatusNotFound {
		t.Fatalf("unknown computation: %d", r.status)
	}
	dpo := h.signIn(h.account(governance.Personvernombud, governance.AuthorityOrg, ""))
	if r := dpo.get(result); r.status != http.StatusOK {
		t.Fatalf("the DPO's view: %d", r.status)
	}
}

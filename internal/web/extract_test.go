package web

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"deling/internal/access"
	"deling/internal/audit"
	"deling/internal/extract"
	"deling/internal/governance"
	"deling/internal/lookup"
	"deling/internal/register"
	"deling/internal/store"
	"deling/internal/web/channel"
	"deling/internal/web/httperr"
	"deling/internal/web/machineapi"

	"golang.org/x/mod/sumdb/note"
)

// extractHarness is the harness with extracts turned on: a server with a
// result directory, and the runner that the background job would be, run
// synchronously by the test.
type extractHarness struct {
	*harness
	run *extract.Runner
	dir string
}

func newExtractHarness(t testing.TB) *extractHarness {
	t.Helper()
	base := newHarness(t)
	dir := t.TempDir()
	srv := httptest.NewUnstartedServer(nil)
	issuer := "http://" + srv.Listener.Addr().String() + "/"
	s := base.server(register.EnvTest, issuer, Config{Audit: base.log, RateBlockFor: time.Minute, LogVerifierKey: base.vkey,
		AdminToken: testAdminToken, ExtractDir: dir})
	srv.Config.Handler = s.Handler()
	srv.Start()
	t.Cleanup(srv.Close)
	h := *base
	h.srv, h.issuer = srv, issuer
	return &extractHarness{harness: &h, dir: dir, run: &extract.Runner{DB: base.db, Dir: dir, BatchSize: 40, Now: base.clock.now}}
}

// extractGrant is an active test-environment extract grant.
func extractGrant(packages []string, kinds ...access.QueryKind) access.Grant {
	g := grant(packages, kinds...)
	g.Channel = access.ChannelExtract
	return g
}

// extractConsumer is a consumer with an API grant (the test compares with the
// API's answers) and an extract grant for the same packages.
func (h *extractHarness) extractConsumer(name string, packages []string) (string, string) {
	h.t.Helper()
	api := grant(packages, access.ByArbeidstaker, access.ByArbeidssted, access.ByOpplysningspliktig)
	api.RateLimit = 100_000
	org, _ := h.consumer(name, api, extractGrant(packages, access.ByArbeidstaker, access.ByArbeidssted, access.ByOpplysningspliktig))
	return org, h.token(h.client(org))
}

// biggest are the n arbeidssteder with the most arbeidsforhold.
func (h *extractHarness) biggest(n int) []string {
	count := map[string]int{}
	for i := range h.afs {
		if h.afs[i].Arbeidssted.Type == register.EnhetUnderenhet {
			count[h.afs[i].ArbeidsstedIdent()]++
		}
	}
	var out []string
	for s := range count {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool {
		return count[out[i]] > count[out[j]] || (count[out[i]] == count[out[j]] && out[i] < out[j])
	})
	return out[:n]
}

// protectOne gives one person employed at arbeidssted a protected address and returns them.
func (h *extractHarness) protectOne(arbeidssted string) string {
	h.t.Helper()
	for _, a := range h.afs {
		if a.ArbeidsstedIdent() != arbeidssted {
			continue
		}
		p, err := h.db.Person(context.Background(), a.ArbeidstakerIdent())
		if err != nil {
			h.t.Fatal(err)
		}
		p.Adressebeskyttelse = register.StrengtFortrolig
		if _, err := h.db.UpsertPersons(context.Background(), []register.Person{p}); err != nil {
			h.t.Fatal(err)
		}
		return p.Ident
	}
	h.t.Fatal("no one is employed there")
	return ""
}

// order starts a job and returns its id.
func (h *extractHarness) order(tok string, body any) string {
	h.t.Helper()
	a := h.do("POST", tok, "/api/v2/uttrekk", body)
	if a.status != http.StatusAccepted {
		h.t.Fatalf("order: %d %s", a.status, a.body)
	}
	var res struct{ Jobbid, Status string }
	json.Unmarshal(a.body, &res)
	if res.Status != "venter" || a.header.Get("Location") != "/api/v2/uttrekk/"+res.Jobbid {
		h.t.Fatalf("order: %s, Location %q", a.body, a.header.Get("Location"))
	}
	return res.Jobbid
}

func (h *extractHarness) runAll() {
	h.t.Helper()
	if err := h.run.RunAll(context.Background()); err != nil {
		h.t.Fatal(err)
	}
}

// batches fetches every batch until the end marker and returns their bodies.
func (h *extractHarness) batches(tok, id string) []answer {
	h.t.Helper()
	var out []answer
	for n := 0; ; n++ {
		a := h.do("GET", tok, "/api/v2/uttrekk/"+id+"/batch/"+itoa(n), nil)
		if a.status != http.StatusOK {
			h.t.Fatalf("batch %d: %d %s", n, a.status, a.body)
		}
		if a.header.Get(machineapi.HeaderExtractEnd) == "true" {
			if len(a.body) != 0 {
				h.t.Fatalf("the end marker has a body: %q", a.body)
			}
			return out
		}
		out = append(out, a)
		if n > 1000 {
			h.t.Fatal("no end marker")
		}
	}
}

func lines(body []byte) []string {
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	return out
}

// apiRecords are the API search's answer for an employer, by uuid: the records as the API gives them.
func (h *extractHarness) apiRecords(tok string, q map[string]any, into map[string]string) {
	h.t.Helper()
	q["arbeidsforholdtype"], q["rapporteringsordning"], q["arbeidsforholdstatus"] = allTypes, allOrdninger, allStatuses
	q["sidestoerrelse"] = 1000
	for {
		a := h.do("POST", tok, "/api/v2/arbeidsforhold/sok", q)
		if a.status != 200 {
			h.t.Fatalf("search: %d %s", a.status, a.body)
		}
		var res struct {
			Arbeidsforhold []json.RawMessage `json:"arbeidsforhold"`
			NesteSide      string            `json:"nesteSide"`
		}
		json.Unmarshal(a.body, &res)
		for _, raw := range res.Arbeidsforhold {
			var v struct{ UUID string }
			json.Unmarshal(raw, &v)
			into[v.UUID] = string(raw)
		}
		if res.NesteSide == "" {
			return
		}
		q["side"] = res.NesteSide
	}
}

func status(h *extractHarness, tok, id string) machineapi.ExtractStatusDoc {
	h.t.Helper()
	a := h.do("GET", tok, "/api/v2/uttrekk/"+id, nil)
	if a.status != 200 {
		h.t.Fatalf("status: %d %s", a.status, a.body)
	}
	var d machineapi.ExtractStatusDoc
	if err := json.Unmarshal(a.body, &d); err != nil {
		h.t.Fatal(err)
	}
	return d
}

// The whole flow over HTTP: order by employers, follow the status, fetch the
// batches until the end marker. Each record is exactly what the API gives for
// it (Rules AA-02, AA-07: the grant's elements only), no protected person is
// ever in it (Rule AA-11), and the log holds the order, the query, the persons
// of each batch and each fetch (Rule AA-16).
func TestExtractByEmployers(t *testing.T) {
	h := newExtractHarness(t)
	org, tok := h.extractConsumer("Etat", detailed)
	units := h.biggest(2)
	protected := h.protectOne(units[0])
	id := h.order(tok, map[string]any{"arbeidssteder": units})

	if d := status(h, tok, id); d.Status != "venter" || d.Fremdrift.Totalt != 2 || d.Fremdrift.Enhet != "arbeidssteder" || d.Batcher != 0 {
		t.Fatalf("queued: %+v", d)
	}
	// Not written yet: 404 with a problem, and a hint when to ask again.
	if a := h.do("GET", tok, "/api/v2/uttrekk/"+id+"/batch/0", nil); a.status != 404 || a.problem().Status != 404 || a.header.Get("Retry-After") == "" {
		t.Fatalf("batch before it is written: %d %s", a.status, a.body)
	}
	h.runAll()
	want := map[string]string{}
	for _, u := range units {
		h.apiRecords(tok, map[string]any{"arbeidsstedId": u}, want)
	}
	d := status(h, tok, id)
	if d.Status != "ferdig" || d.Fremdrift.Arbeidsforhold != int64(len(want)) || d.Fremdrift.Ferdig != 2 || d.Batcher != (len(want)+39)/40 || d.Utloeper == nil {
		t.Fatalf("done: %+v; want %d arbeidsforhold", d, len(want))
	}
	got := map[string]string{}
	for _, b := range h.batches(tok, id) {
		if ct := b.header.Get("Content-Type"); ct != "application/jsonl" {
			t.Fatalf("content type %q", ct)
		}
		for _, l := range lines(b.body) {
			var v struct{ UUID string }
			json.Unmarshal([]byte(l), &v)
			got[v.UUID] = l
			if strings.Contains(l, protected) {
				t.Fatal("AA-11: a protected person is in the extract")
			}
		}
	}
	if len(got) != len(want) || len(got) < 40 {
		t.Fatalf("extract holds %d arbeidsforhold, the API %d", len(got), len(want))
	}
	for u, w := range want {
		if got[u] != w {
			t.Fatalf("record %s differs from the API's answer:\n got %s\nwant %s", u, got[u], w)
		}
	}

	// The log: the order with its query, the start, each batch with its persons, each fetch.
	ops := map[string]int{}
	persons := map[string]bool{}
	for _, r := range h.records(org) {
		if r.Channel != "extract" {
			continue
		}
		ops[r.Operation]++
		switch r.Operation {
		case "POST /api/v2/uttrekk":
			if r.Status != 202 || !strings.Contains(string(r.Request), units[0]) || !strings.Contains(string(r.Request), id) {
				t.Errorf("order record: %d %s", r.Status, r.Request)
			}
		case "extract start":
			if !strings.Contains(string(r.Request), units[1]) {
				t.Errorf("start record without the query: %s", r.Request)
			}
		case "extract batch":
			for _, p := range r.Returned {
				persons[p] = true
			}
		case "GET /api/v2/uttrekk/{jobbid}/batch/{n}":
			if r.Status == 200 && r.ResultCount > 0 && r.ResponseHash == "" {
				t.Error("a batch fetch is logged without its digest")
			}
		}
	}
	if ops["POST /api/v2/uttrekk"] != 1 || ops["extract start"] != 1 || ops["extract batch"] != d.Batcher || ops["extract done"] != 1 ||
		ops["GET /api/v2/uttrekk/{jobbid}/batch/{n}"] != d.Batcher+2 {
		t.Fatalf("records: %v", ops)
	}
	if persons[protected] {
		t.Fatal("a protected person is named as included")
	}
	for _, l := range got {
		var v struct {
			Arbeidstaker register.Arbeidstaker `json:"arbeidstaker"`
		}
		json.Unmarshal([]byte(l), &v)
		p := v.Arbeidstaker.Identer[0].Ident
		if !persons[p] {
			t.Fatalf("person %s is in the extract but in no batch record", p)
		}
		// A person's insight finds the extract that included them.
		recs, err := h.db.StoredRecords(context.Background(), store.RecordQuery{Subject: p})
		if err != nil || !slices.ContainsFunc(recs, func(r store.StoredRecord) bool { return r.Record.Operation == "extract batch" }) {
			t.Fatalf("insight for an included person: %v", err)
		}
		break
	}
}

// A job by persons, with a status filter; CSV with only the grant's columns.
func TestExtractByPersonsAsCSV(t *testing.T) {
	h := newExtractHarness(t)
	_, tok := h.extractConsumer("Pensjon", basic)
	var idents []string
	for _, p := range h.employed(6) {
		idents = append(idents, p.Ident)
	}
	protected := h.protectOne(h.afsOf(idents[0])[0].ArbeidsstedIdent())
	idents = append(idents, protected)
	id := h.order(tok, map[string]any{"arbeidstakere": idents, "arbeidsforholdstatuser": []string{"AKTIV"}, "format": "csv"})
	h.runAll()
	want := map[string]bool{}
	for _, p := range idents {
		a := h.person(tok, p, "?arbeidsforholdstatus=AKTIV")
		var list []struct{ UUID string }
		json.Unmarshal(a.body, &list)
		for _, r := range list {
			want[r.UUID] = true
		}
	}
	cat, _ := access.ParseCatalogue(access.DefaultPackages())
	proj, _ := cat.Projection(basic)
	got := map[string]bool{}
	for _, b := range h.batches(tok, id) {
		if ct := b.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
			t.Fatalf("content type %q", ct)
		}
		rows, err := csv.NewReader(bytes.NewReader(b.body)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		// Rules AA-02, AA-07: a header row of the grant's elements, nothing else.
		if !slices.Equal(rows[0], extract.Columns(proj.Paths())) {
			t.Fatalf("columns %v, want %v", rows[0], extract.Columns(proj.Paths()))
		}
		for _, row := range rows[1:] {
			got[row[slices.Index(rows[0], "uuid")]] = true
			if strings.Contains(strings.Join(row, ","), protected) {
				t.Fatal("AA-11: a protected person is in the extract")
			}
		}
	}
	if len(got) != len(want) || len(want) == 0 {
		t.Fatalf("%d arbeidsforhold, want %d", len(got), len(want))
	}
	for u := range want {
		if !got[u] {
			t.Fatalf("missing %s", u)
		}
	}
}

// At most 10 jobs under way per organisation (as Folkeregisteret): the 11th
// gets 429 with Retry-After; another organisation is not held back; a deleted
// job makes room again.
func TestExtractLimit(t *testing.T) {
	h := newExtractHarness(t)
	_, tok := h.extractConsumer("Travel", basic)
	unit := h.biggest(1)
	var ids []string
	for range extract.MaxActive {
		ids = append(ids, h.order(tok, map[string]any{"arbeidssteder": unit}))
	}
	a := h.do("POST", tok, "/api/v2/uttrekk", map[string]any{"arbeidssteder": unit})
	if a.status != http.StatusTooManyRequests || a.header.Get("Retry-After") == "" || a.header.Get("Content-Type") != "application/problem+json" {
		t.Fatalf("11th job: %d %s", a.status, a.body)
	}
	_, other := h.extractConsumer("Annen", basic)
	h.order(other, map[string]any{"arbeidssteder": unit})
	if a := h.do("DELETE", tok, "/api/v2/uttrekk/"+ids[0], nil); a.status != http.StatusNoContent {
		t.Fatalf("delete: %d %s", a.status, a.body)
	}
	h.order(tok, map[string]any{"arbeidssteder": unit})
}

// Only the organisation that ordered a job sees it: another gets 404 for the
// job, its batches and its deletion, the same answer as for a job that does not exist.
func TestExtractIsTheOrganisations(t *testing.T) {
	h := newExtractHarness(t)
	_, tok := h.extractConsumer("Eier", basic)
	_, other := h.extractConsumer("Annen", basic)
	id := h.order(tok, map[string]any{"opplysningspliktige": []string{h.afs[0].OpplysningspliktigIdent()}})
	h.runAll()
	none := h.do("GET", tok, "/api/v2/uttrekk/0193a000-0000-7000-8000-000000000000", nil)
	for _, path := range []string{"/api/v2/uttrekk/" + id, "/api/v2/uttrekk/" + id + "/batch/0", "/api/v2/uttrekk/" + id + "/batch/1"} {
		a := h.do("GET", other, path, nil)
		if a.status != 404 || a.problem().Detail != none.problem().Detail {
			t.Fatalf("%s for another organisation: %d %s", path, a.status, a.body)
		}
	}
	if a := h.do("DELETE", other, "/api/v2/uttrekk/"+id, nil); a.status != 404 {
		t.Fatalf("delete by another organisation: %d", a.status)
	}
	if d := status(h, tok, id); d.Status != "ferdig" {
		t.Fatalf("the owner's job: %+v", d)
	}
	if a := h.do("GET", tok, "/api/v2/uttrekk/not-a-uuid", nil); a.status != 404 {
		t.Fatalf("malformed id: %d", a.status)
	}
	if a := h.do("GET", tok, "/api/v2/uttrekk/"+id+"/batch/-1", nil); a.status != 400 || a.problem().Code != httperr.CodeInvalid {
		t.Fatalf("negative batch: %d %s", a.status, a.body)
	}
}

// Rule AA-02: an extract needs an extract grant that allows the query kind (and historikk, if asked for).
func TestExtractNeedsAnExtractGrant(t *testing.T) {
	h := newExtractHarness(t)
	apiOnly, _ := h.consumer("Bare API", grant(detailed, access.ByArbeidstaker, access.ByArbeidssted, access.ByOpplysningspliktig))
	narrow, _ := h.consumer("Smal", grant(basic, access.ByArbeidstaker), extractGrant(basic, access.ByArbeidstaker))
	unit := h.biggest(1)
	for _, tc := range []struct {
		org    string
		body   map[string]any
		reason access.Reason
	}{
		{apiOnly, map[string]any{"arbeidssteder": unit}, access.DenyNoGrant},
		{narrow, map[string]any{"arbeidssteder": unit}, access.DenyQueryKind},
		{narrow, map[string]any{"arbeidstakere": []string{h.employed(1)[0].Ident}, "historikk": true}, access.DenyHistory},
	} {
		a := h.do("POST", h.token(h.client(tc.org)), "/api/v2/uttrekk", tc.body)
		if a.status != http.StatusForbidden || a.problem().Detail != lookup.Deny(tc.reason).Text {
			t.Errorf("%v: %d %s", tc.body, a.status, a.body)
		}
		if jobs, _ := h.db.Extracts(context.Background(), tc.org, 10); len(jobs) != 0 {
			t.Errorf("a refused order stored a job")
		}
	}
	recs := h.records(apiOnly)
	if len(recs) != 1 || recs[0].Decision != audit.Deny || recs[0].Channel != "extract" {
		t.Fatalf("the refusal is not logged: %+v", recs)
	}
}

// Bad bodies are 400 problems with the API's codes, and store nothing.
func TestExtractValidation(t *testing.T) {
	h := newExtractHarness(t)
	org, tok := h.extractConsumer("Streng", basic)
	person := h.employed(1)[0].Ident
	unit := h.biggest(1)
	real := "01017012345" // not synthetic: refused in the test environment (Rule AA-14)
	tooMany := make([]string, extract.DefaultMaxUnits+1)
	for i := range tooMany {
		tooMany[i] = person
	}
	for _, tc := range []struct {
		body any
		code string
	}{
		{`{}`, httperr.CodeNoID},
		{`not json`, httperr.CodeInvalid},
		{`{"arbeidssteder":["x"],"ukjent":1}`, httperr.CodeInvalid},
		{map[string]any{"arbeidstakere": []string{}}, httperr.CodeNoID},
		{map[string]any{"arbeidstakere": []string{person}, "arbeidssteder": unit}, httperr.CodeNoID},
		{map[string]any{"arbeidstakere": []string{person, "123"}}, httperr.CodeArbeidstaker},
		{map[string]any{"arbeidstakere": []string{real}}, httperr.CodeArbeidstaker},
		{map[string]any{"arbeidssteder": []string{"12345"}}, httperr.CodeArbeidssted},
		{map[string]any{"opplysningspliktige": []string{"abc"}}, httperr.CodeOpplysningspliktig},
		{map[string]any{"arbeidssteder": unit, "arbeidsforholdtyper": []string{}}, httperr.CodeNoTypes},
		{map[string]any{"arbeidssteder": unit, "arbeidsforholdtyper": []string{"x"}}, httperr.CodeEnum},
		{map[string]any{"arbeidssteder": unit, "arbeidsforholdstatuser": []string{}}, httperr.CodeNoStatuses},
		{map[string]any{"arbeidssteder": unit, "arbeidsforholdstatuser": []string{"AKTIVE"}}, httperr.CodeEnum},
		{map[string]any{"arbeidssteder": unit, "format": "xml"}, httperr.CodeEnum},
		{map[string]any{"arbeidssteder": unit, "ansattFraOgMed": "2020-13-01"}, httperr.CodeInvalid},
		{map[string]any{"arbeidssteder": unit, "ansattFraOgMed": "2021-01-01", "ansattTilOgMed": "2020-01-01"}, httperr.CodeInvalid},
		{map[string]any{"arbeidstakere": tooMany}, httperr.CodeInvalid},
	} {
		a := h.do("POST", tok, "/api/v2/uttrekk", tc.body)
		if a.status != 400 || a.problem().Code != tc.code || a.header.Get("Content-Type") != "application/problem+json" {
			t.Errorf("%.80v: %d %s, want code %s", tc.body, a.status, a.body, tc.code)
		}
		if strings.Contains(string(a.body), real) || strings.Contains(string(a.body), person) {
			t.Errorf("a problem quotes an identifier: %s", a.body)
		}
	}
	if jobs, _ := h.db.Extracts(context.Background(), org, 10); len(jobs) != 0 {
		t.Fatalf("bad bodies stored %d jobs", len(jobs))
	}
	// The period filter: only arbeidsforhold whose ansettelsesperiode overlaps it.
	id := h.order(tok, map[string]any{"arbeidssteder": unit, "ansattFraOgMed": "2019-01-01", "ansattTilOgMed": "2019-12-31"})
	h.runAll()
	for _, b := range h.batches(tok, id) {
		for _, l := range lines(b.body) {
			var v struct{ Ansettelsesperiode register.Ansettelsesperiode }
			json.Unmarshal([]byte(l), &v)
			p := v.Ansettelsesperiode
			if p.Startdato > "2019-12-31" || (p.Sluttdato != nil && *p.Sluttdato < "2019-01-01") {
				t.Fatalf("outside the period: %s", l)
			}
		}
	}
}

// A huge invalid order (90,000 identities, 1.3 MB, all refused) is answered
// 400 and logged by its size and SHA-256, not its lists; integration goes
// on: a later lookup gets into the tree and a checkpoint, and the log
// verifies (Rule AA-16). Its record once packed to a frame no reader could
// open, and integration stopped on it for good.
func TestExtractHugeInvalidOrder(t *testing.T) {
	h := newExtractHarness(t)
	org, tok := h.extractConsumer("Stor", basic)
	real := "01017012345" // not synthetic: refused in the test environment (Rule AA-14)
	bad := make([]string, 90_000)
	for i := range bad {
		bad[i] = real
	}
	if a := h.do("POST", tok, "/api/v2/uttrekk", map[string]any{"arbeidstakere": bad}); a.status != 400 {
		t.Fatalf("a huge invalid order: %d %s", a.status, a.body)
	}
	recs := h.records(org)
	last := recs[len(recs)-1]
	var digest channel.ExtractOrderDigest
	if err := json.Unmarshal(last.Request, &digest); err != nil || digest.Bytes < 90_000*14 || len(digest.SHA256) != 64 ||
		strings.Contains(string(last.Request), "arbeidstakere") {
		t.Fatalf("the refused order's record: %.200s (%v)", last.Request, err)
	}
	if a := h.person(tok, h.employed(1)[0].Ident, ""); a.status != 200 {
		t.Fatalf("a lookup after it: %d %s", a.status, a.body)
	}
	size, _ := h.checkpoint()
	all, err := h.db.StoredRecords(t.Context(), store.RecordQuery{All: true, Limit: 100_000})
	if err != nil || uint64(len(all)) != size || all[len(all)-1].Record.Operation != "GET /api/v2/arbeidstaker/arbeidsforhold" {
		t.Fatalf("the tree holds %d of %d records (%v)", size, len(all), err)
	}
	v, err := note.NewVerifier(h.vkey)
	if err != nil {
		t.Fatal(err)
	}
	snap, err := h.db.LogSnapshot(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Close()
	if rep, err := audit.Verify(t.Context(), snap, v, nil); err != nil || len(rep.Problems) != 0 || rep.Records != size {
		t.Fatalf("verify: %+v %v", rep, err)
	}
}

// Results expire: the status says so, batches answer 410, and the expiry job
// deletes the files. A deleted job's files go at once.
func TestExtractExpiryAndDeletion(t *testing.T) {
	h := newExtractHarness(t)
	_, tok := h.extractConsumer("Kortvarig", basic)
	unit := h.biggest(1)
	kept := h.order(tok, map[string]any{"arbeidssteder": unit})
	deleted := h.order(tok, map[string]any{"arbeidssteder": unit})
	h.runAll()
	if a := h.do("DELETE", tok, "/api/v2/uttrekk/"+deleted, nil); a.status != http.StatusNoContent {
		t.Fatalf("delete: %d", a.status)
	}
	if _, err := os.Stat(extract.JobDir(h.dir, deleted)); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("a deleted job's files are kept")
	}
	if a := h.do("GET", tok, "/api/v2/uttrekk/"+deleted, nil); a.status != 404 {
		t.Fatalf("deleted job: %d", a.status)
	}
	h.clock.advance(extract.DefaultTTL + time.Minute)
	if d := status(h, tok, kept); d.Status != "utløpt" || d.Batcher != 0 {
		t.Fatalf("expired: %+v", d)
	}
	if a := h.do("GET", tok, "/api/v2/uttrekk/"+kept+"/batch/0", nil); a.status != http.StatusGone {
		t.Fatalf("batch of an expired job: %d", a.status)
	}
	if n, err := h.run.Expire(context.Background()); err != nil || n != 1 {
		t.Fatalf("expire: %d %v", n, err)
	}
	if _, err := os.Stat(extract.JobDir(h.dir, kept)); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("an expired result's files are kept")
	}
}

// The portal page: an administrator orders by employers for the organisation
// acted for, sees progress, and downloads batches through the same checks.
func TestExtractPortal(t *testing.T) {
	h := newExtractHarness(t)
	org, _ := h.extractConsumer("Portaletat", basic)
	other, _ := h.extractConsumer("Annen etat", basic)
	b := h.signIn(h.account(governance.Administrator, org, ""))
	if p := b.get("/portal/uttrekk"); p.status != 200 || !p.has(`action="/portal/uttrekk"`) || !p.has("Virksomheten har ingen uttrekk") {
		t.Fatalf("page: %d", p.status)
	}
	// Bad input: shown again with the value kept and the error beside the field and in the summary; nothing stored.
	p := b.post("/portal/uttrekk", url.Values{"enhetstype": {"arbeidssted"}, "orgnumre": {"12345"}, "format": {"jsonl"}})
	if p.status != 400 || !p.has(`href="#f-orgnumre"`) || !p.has("Nummer 1 i listen er ikke gyldig") || !p.has(">12345</textarea>") {
		t.Fatalf("bad orgnr: %d", p.status)
	}
	if jobs, _ := h.db.Extracts(context.Background(), org, 10); len(jobs) != 0 {
		t.Fatal("a bad order stored a job")
	}
	unit := h.biggest(1)[0]
	p = b.post("/portal/uttrekk", url.Values{"enhetstype": {"arbeidssted"}, "orgnumre": {unit + "\n"}, "format": {"csv"}, "statuser": {"AKTIV"}})
	if p.status != 200 || !strings.HasSuffix(p.url, "/portal/uttrekk") || !p.has("Uttrekket er bestilt") || !p.has("venter") || !p.has(`hx-get="/portal/uttrekk/jobber"`) {
		t.Fatalf("order: %d %s", p.status, p.url)
	}
	jobs, _ := h.db.Extracts(context.Background(), org, 10)
	if len(jobs) != 1 || jobs[0].EndUser == "" || jobs[0].Format != "csv" {
		t.Fatalf("jobs: %+v", jobs)
	}
	h.runAll()
	frag := b.get("/portal/uttrekk/jobber")
	link := "/portal/uttrekk/" + jobs[0].ID + "/batch/0"
	if !frag.has("ferdig") || !frag.has(link) || frag.has("hx-get") || frag.has("<html") {
		t.Fatalf("fragment after the run: %s", frag.body)
	}
	dl := b.get(link)
	if dl.status != 200 || !strings.HasPrefix(dl.body, "uuid,") {
		t.Fatalf("download: %d %.100s", dl.status, dl.body)
	}
	var logged bool
	for _, r := range h.records(org) {
		logged = logged || (r.Operation == "GET /portal/uttrekk/{jobbid}/batch/{n}" && r.EndUser != "" && r.ResponseHash != "")
	}
	if !logged {
		t.Fatal("AA-16: the download is not logged with the user")
	}
	// Another organisation's administrator: not found; a web-lookup user: no access to the page.
	ob := h.signIn(h.account(governance.Administrator, other, ""))
	if p := ob.get(link); p.status != 404 {
		t.Fatalf("another organisation's download: %d", p.status)
	}
	if p := ob.post("/portal/uttrekk/"+jobs[0].ID+"/slett", nil); p.status != 404 {
		t.Fatalf("another organisation's delete: %d", p.status)
	}
	if p := h.signIn(h.account(governance.Oppslagsbruker, org, "")).get("/portal/uttrekk"); p.status != 403 {
		t.Fatalf("web-lookup user: %d", p.status)
	}
	if p := b.post("/portal/uttrekk/"+jobs[0].ID+"/slett", nil); p.status != 200 || !p.has("Uttrekket er slettet") {
		t.Fatalf("delete: %d", p.status)
	}
	// An organisation without an extract grant is refused, as in the API.
	bare, _ := h.consumer("Uten uttrekk")
	if p := h.signIn(h.account(governance.Utvikler, bare, "")).post("/portal/uttrekk", url.Values{"enhetstype": {"arbeidssted"}, "orgnumre": {unit}}); p.status != 403 || !p.has("ikke vedtak om uttrekk") {
		t.Fatalf("without a grant: %d", p.status)
	}
}

// FuzzExtractBody: the order endpoint's parser of outside input. Whatever the
// body, the answer is 202 or a problem the caller caused (400, 403, 429) —
// never a 5xx, never a panic — and a refusal stores nothing.
func FuzzExtractBody(f *testing.F) {
	h := newExtractHarness(f)
	org, tok := h.extractConsumer("Fuzz", basic)
	p := h.employed(1)[0].Ident
	for _, s := range []string{
		`{"arbeidstakere":["` + p + `"]}`,
		`{"arbeidssteder":["` + h.biggest(1)[0] + `"],"arbeidsforholdtyper":["ordinaertArbeidsforhold"],"arbeidsforholdstatuser":["AKTIV"],"format":"csv"}`,
		`{"opplysningspliktige":["300000010"],"ansattFraOgMed":"2020-01-01","ansattTilOgMed":"2020-12-31","historikk":true}`,
		`{"arbeidstakere":[12345678901]}`, `[]`, `null`, ``, `{"arbeidstakere":null,"arbeidssteder":[]}`,
	} {
		f.Add([]byte(s))
	}
	handler := h.srv.Config.Handler
	f.Fuzz(func(t *testing.T, body []byte) {
		before, _ := h.db.Extracts(context.Background(), org, 100)
		req := httptest.NewRequest("POST", "/api/v2/uttrekk", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		after, _ := h.db.Extracts(context.Background(), org, 100)
		switch rec.Code {
		case http.StatusAccepted:
			if len(after) != len(before)+1 {
				t.Fatalf("202 without a job")
			}
			// Make room, so that the limit is not all the fuzzer sees.
			h.db.DeleteExtract(context.Background(), after[0].ID, nil)
		case http.StatusBadRequest, http.StatusForbidden, http.StatusTooManyRequests:
			if len(after) != len(before) {
				t.Fatalf("a refusal (%d) stored a job", rec.Code)
			}
		default:
			t.Fatalf("status %d for %q: %s", rec.Code, body, rec.Body.Bytes())
		}
	})
}

// A consumer whose only grant is for extracts gets a token for the API scope and can order an extract.
func TestExtractOnlyGrant(t *testing.T) {
	h := newExtractHarness(t)
	org, _ := h.consumer("Bare uttrekk", extractGrant(basic, access.ByArbeidssted))
	a := h.do("POST", h.token(h.client(org)), "/api/v2/uttrekk", map[string]any{"arbeidssteder": h.biggest(1)})
	if a.status != http.StatusAccepted {
		t.Fatalf("extract-only consumer: %d %s", a.status, a.body)
	}
	// Its token gives no lookups: the API channel is not granted (Rule AA-02).
	if a := h.person(h.token(h.client(org)), h.employed(1)[0].Ident, ""); a.status != http.StatusForbidden {
		t.Fatalf("lookup with an extract-only grant: %d", a.status)
	}
}

// Rules AA-25, AA-26: once the extract grant is suspended, the job's status,
// its batches (including the answers that are not a batch: not ready, past
// the end) and its deletion are all denied with 403, and each is logged.
func TestExtractDeniedAfterSuspension(t *testing.T) {
	h := newExtractHarness(t)
	org, tok := h.extractConsumer("Suspendert", basic)
	id := h.order(tok, map[string]any{"arbeidssteder": h.biggest(1)})
	h.runAll()
	grants, err := h.db.Grants(context.Background(), org)
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range grants {
		if g.Channel == access.ChannelExtract {
			if _, err := h.db.SetGrantStatus(context.Background(), g.ID, access.Suspended, "brudd", "test"); err != nil {
				t.Fatal(err)
			}
		}
	}
	before := len(h.records(org))
	paths := []struct{ method, path string }{
		{"GET", "/api/v2/uttrekk/" + id},
		{"GET", "/api/v2/uttrekk/" + id + "/batch/0"},
		{"GET", "/api/v2/uttrekk/" + id + "/batch/100000"},
		{"DELETE", "/api/v2/uttrekk/" + id},
	}
	for _, p := range paths {
		a := h.do(p.method, tok, p.path, nil)
		if a.status != http.StatusForbidden || a.problem().Detail != lookup.Deny(access.DenyGrantSuspended).Text {
			t.Fatalf("%s %s with a suspended grant: %d %s", p.method, p.path, a.status, a.body)
		}
	}
	recs := h.records(org)
	if len(recs)-before != len(paths) {
		t.Fatalf("%d records of %d denials", len(recs)-before, len(paths))
	}
	for _, r := range recs[before:] {
		if r.Decision != audit.Deny || r.Reason != string(access.DenyGrantSuspended) || r.Channel != "extract" {
			t.Fatalf("denial logged as %+v", r)
		}
	}
	if _, err := h.db.Extract(context.Background(), id); err != nil {
		t.Fatalf("a denied delete removed the job: %v", err)
	}
}

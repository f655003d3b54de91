package web

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"deling/internal/access"
	"deling/internal/audit"
	"deling/internal/governance"
	"deling/internal/register"
)

// The three channels answer through one pipeline (package lookup): the same
// person and the same employer looked up by the API, web lookup and an
// extract give the same elements, the same screening (Rule AA-11) and the
// same log fields (Rule AA-16).
func TestOneLookupPipelineAcrossChannels(t *testing.T) {
	h := newExtractHarness(t)
	kinds := []access.QueryKind{access.ByArbeidstaker, access.ByArbeidssted}
	api := grant(basic, kinds...)
	api.RateLimit = 100_000
	web := webGrant(kinds...)
	ext := extractGrant(basic, kinds...)
	org, _ := h.consumer("Tre kanaler", api, web, ext)
	tok := h.token(h.client(org))
	user := h.signIn(h.account(governance.Oppslagsbruker, org, ""))
	if pg := user.post("/portal/oppslag/vilkar", url.Values{"bekreft": {"ja"}}); pg.status != http.StatusOK {
		t.Fatalf("terms: %d", pg.status)
	}

	// A small employer (one page in every channel) with one protected employee.
	var person, employer string
	for _, p := range h.employed(200) {
		e := h.afsOf(p.Ident)[0].ArbeidsstedIdent()
		n := 0
		for i := range h.afs {
			if h.afs[i].ArbeidsstedIdent() == e {
				n++
			}
		}
		if n >= 3 && n < 40 {
			person, employer = p.Ident, e
			break
		}
	}
	if employer == "" {
		t.Fatal("no small employer in the test register")
	}
	var protected string
	for _, a := range h.afs {
		if id := a.ArbeidstakerIdent(); a.ArbeidsstedIdent() == employer && id != person {
			protected = id
			break
		}
	}
	p, err := h.db.Person(t.Context(), protected)
	if err != nil {
		t.Fatal(err)
	}
	p.Adressebeskyttelse = register.StrengtFortrolig
	if _, err := h.db.UpsertPersons(t.Context(), []register.Person{p}); err != nil {
		t.Fatal(err)
	}

	// lookups looks up by each channel: the API's search, web lookup and an extract of the one unit.
	type answer struct {
		items []string // the minimised arbeidsforhold, as JSON
		rec   audit.Record
	}
	lookups := func(kind access.QueryKind, id string) map[string]answer {
		t.Helper()
		out := map[string]answer{}
		// The API: the search, which takes either kind.
		field, sok, units := "arbeidstakerId", "person", "arbeidstakere"
		if kind == access.ByArbeidssted {
			field, sok, units = "arbeidsstedId", "arbeidssted", "arbeidssteder"
		}
		a := h.do("POST", tok, "/api/v2/arbeidsforhold/sok", map[string]any{field: id,
			"arbeidsforholdtype": allTypes, "rapporteringsordning": allOrdninger, "arbeidsforholdstatus": allStatuses})
		var res struct{ Arbeidsforhold []json.RawMessage }
		if a.status != http.StatusOK || json.Unmarshal(a.body, &res) != nil {
			t.Fatalf("api: %d %s", a.status, a.body)
		}
		var items []string
		for _, it := range res.Arbeidsforhold {
			items = append(items, string(it))
		}
		out["api"] = answer{items, h.lastRecord(org)}
		// Web lookup: the page shows names; the record's digest is of the minimised lines.
		if pg := user.post("/portal/oppslag", url.Values{"sok": {sok}, "ident": {id}}); pg.status != http.StatusOK {
			t.Fatalf("web: %d", pg.status)
		}
		out["web"] = answer{nil, h.lastRecord(org)}
		// An extract of the one unit.
		job := h.order(tok, map[string]any{units: []string{id}})
		h.runAll()
		var got []string
		for _, b := range h.batches(tok, job) {
			got = append(got, lines(b.body)...)
		}
		var batch, done audit.Record
		for _, r := range h.records(org) {
			switch r.Operation {
			case "extract batch":
				batch = r
			case "extract done":
				done = r
			}
		}
		if len(got) > 0 {
			done.Returned, done.ResultCount, done.ResponseHash = batch.Returned, batch.ResultCount, batch.ResponseHash
		}
		out["extract"] = answer{got, done}
		return out
	}
	digest := func(items []string) string {
		var b []byte
		for _, it := range items {
			b = append(append(b, it...), '\n')
		}
		sum := sha256.Sum256(b)
		return hex.EncodeToString(sum[:])
	}
	agree := func(what string, got map[string]answer, wantDecision string) {
		t.Helper()
		api := got["api"]
		if !slices.Equal(got["extract"].items, api.items) {
			t.Errorf("%s: the extract holds %d arbeidsforhold, the API %d, or they differ", what, len(got["extract"].items), len(api.items))
		}
		for ch, a := range got {
			if a.rec.Decision != wantDecision {
				t.Errorf("%s, %s: decision %q, want %q", what, ch, a.rec.Decision, wantDecision)
			}
			if !slices.Equal(a.rec.Returned, api.rec.Returned) || a.rec.ResultCount != api.rec.ResultCount {
				t.Errorf("%s, %s: returned %d persons (%d items), the API %d (%d)", what, ch, len(a.rec.Returned), a.rec.ResultCount,
					len(api.rec.Returned), api.rec.ResultCount)
			}
			if slices.Contains(a.rec.Returned, protected) {
				t.Errorf("%s, %s: the protected person is in the record", what, ch)
			}
			if len(a.rec.Grants) != 1 || a.rec.Grants[0].LegalBasis != api.rec.Grants[0].LegalBasis || a.rec.Grants[0].Purpose != api.rec.Grants[0].Purpose {
				t.Errorf("%s, %s: grants %+v", what, ch, a.rec.Grants)
			}
		}
		// The web page and the extract's batch are digests of the same minimised lines as the API's items.
		if len(api.items) > 0 {
			for _, ch := range []string{"web", "extract"} {
				if got[ch].rec.ResponseHash != digest(api.items) {
					t.Errorf("%s, %s: the record's digest is not of the API's elements", what, ch)
				}
			}
		}
		for _, it := range api.items {
			if strings.Contains(it, "ansettelsesdetaljer") || strings.Contains(it, protected) {
				t.Errorf("%s: not minimised, or the protected person: %s", what, it)
			}
		}
	}

	byPerson := lookups(access.ByArbeidstaker, person)
	if len(byPerson["api"].items) == 0 {
		t.Fatal("the person has no arbeidsforhold")
	}
	agree("person", byPerson, audit.Permit)
	agree("employer", lookups(access.ByArbeidssted, employer), audit.Permit)
	screened := lookups(access.ByArbeidstaker, protected)
	if len(screened["api"].items) != 0 {
		t.Fatal("the protected person was delivered")
	}
	agree("protected person", screened, audit.Screened)
}

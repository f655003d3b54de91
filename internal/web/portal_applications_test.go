package web

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"deling/internal/access"
	"deling/internal/audit"
	"deling/internal/governance"
	"deling/internal/register"
	"deling/internal/token/authserver"
)

// applicationValues is a complete application form as a browser posts it.
func applicationValues(processor string) url.Values {
	return url.Values{
		"navn": {"Testkommune"}, "formaal": {"Saksbehandling av søknader om sosialhjelp."},
		"grunnlag_type": {"hjemmel"}, "hjemmel": {"arbeidsmarkedsloven § 10 / aa-registerforskriften § 10"},
		"behandlingsgrunnlag": {"e"}, "behandlingsgrunnlag_lov": {"sosialtjenesteloven § 43"},
		"admin_navn": {"Ada Admin"}, "admin_epost": {"ada@kommune.example"}, "admin_telefon": {"12345678"},
		"teknisk_navn": {"Tor Teknisk"}, "teknisk_epost": {"tor@kommune.example"},
		"databehandler_orgnr": {processor}, "databehandler_navn": {"Leverandør AS"}, "databehandler_avtale": {"DBA-2026-7"},
		"kanal": {"api"}, "land": {"Norge"},
		"pakke":                       {"grunnopplysninger@1"},
		"hvorfor_grunnopplysninger@1": {"Vi må vite hvor søkeren arbeider."},
		"element_stillingsdetaljer@1": {"ansettelsesdetaljer.yrke"},
		"hvorfor_stillingsdetaljer@1": {"Yrket har betydning for vurderingen."},
		"oppslag":                     {"arbeidstaker"},
		"vilkar":                      {"ja"},
	}
}

func with(v url.Values, kv ...string) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			out.Del(kv[i])
		} else {
			out.Set(kv[i], kv[i+1])
		}
	}
	return out
}

// download gets a path and returns its answer with headers.
func (b *browserless) download(path string) (*http.Response, string) {
	b.h.t.Helper()
	resp, err := b.client.Get(b.h.srv.URL + path)
	if err != nil {
		b.h.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

// lastPart is the last segment of a URL's path: the id a post redirected to.
func lastPart(u string) string {
	p, _ := url.Parse(u)
	return p.Path[strings.LastIndexByte(p.Path, '/')+1:]
}

func (h *harness) application(id string) governance.Application {
	h.t.Helper()
	a, err := h.db.Application(context.Background(), id)
	if err != nil {
		h.t.Fatal(err)
	}
	return a
}

func (h *harness) eventsOf(org, kind string) []map[string]any {
	h.t.Helper()
	recs, err := h.db.AuditRecords(context.Background(), org, 100_000)
	if err != nil {
		h.t.Fatal(err)
	}
	var out []map[string]any
	for _, r := range recs {
		if r.Kind == kind {
			var e map[string]any
			json.Unmarshal(r.Event, &e)
			out = append(out, e)
		}
	}
	return out
}

// Rules AA-01, AA-02, AA-03, AA-05, AA-07, AA-13, SK-06: the whole path of an
// application over real HTTP, checking at each step what the consumer's API gets.
func TestApplicationFlow(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	org, processor, otherOrg := string(syntheticOrg(8_100_001)), string(syntheticOrg(8_100_002)), string(syntheticOrg(8_100_003))
	admin := h.signIn(h.account(governance.Administrator, org, ""))
	signer := h.signIn(h.account(governance.Rolleinnehaver, org, ""))
	dev := h.signIn(h.account(governance.Utvikler, org, ""))
	other := h.signIn(h.account(governance.Administrator, otherOrg, ""))
	cw := h.signIn(h.account(governance.Saksbehandler, governance.AuthorityOrg, ""))
	dpo := h.signIn(h.account(governance.Personvernombud, governance.AuthorityOrg, ""))
	proc := h.signIn(h.account(governance.Databehandler, processor, ""))
	form := applicationValues(processor)
	h.agreement(org, processor) // the approval delegates under it (Rule SK-04)
	person := h.employed(1)[0].Ident
	prod := h.instance(register.EnvProd)

	if p := admin.get("/portal/soknader/ny"); p.status != http.StatusOK || !p.has("Vi godtar bruksvilkårene") || !p.has("Hvorfor trenger dere disse opplysningene?") {
		t.Fatalf("new application form: %d", p.status)
	}

	t.Run("bad input gives 400 with messages and stores nothing", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			form url.Values
			want []string
		}{
			{"incomplete", with(form, "handling", "send", "formaal", "", "land", "Kina", "vilkar", ""),
				[]string{"Beskriv formålet", "utenfor EU/EØS", "godta bruksvilkårene", `href="#f-formaal"`}},
			// Rule SK-08: consent covers only the person who consented.
			{"consent and arbeidssted", with(with(form, "handling", "send", "grunnlag_type", "samtykke"), "oppslag", "arbeidssted"),
				[]string{"bare slå opp på arbeidstaker"}},
			// Rule AA-09: the USA only under the Data Privacy Framework.
			{"USA without DPF", with(form, "handling", "send", "land", "USA"), []string{"Data Privacy Framework"}},
			{"a draft with a channel never offered", with(form, "handling", "lagre", "kanal", "fax"), []string{"Velg tilgangstyper fra listen"}},
			{"no action", with(form, "handling", "slett"), []string{"Velg hva du vil gjøre"}},
		} {
			p := admin.post("/portal/soknader/ny", tc.form)
			if p.status != http.StatusBadRequest {
				t.Fatalf("%s: status %d", tc.name, p.status)
			}
			for _, w := range tc.want {
				if !p.has(w) {
					t.Errorf("%s: the page lacks %q", tc.name, w)
				}
			}
			// The values are kept.
			if !p.has("Vi må vite hvor søkeren arbeider.") {
				t.Errorf("%s: the values were not kept", tc.name)
			}
		}
		if apps, _ := h.db.Applications(ctx, org); len(apps) != 0 {
			t.Fatalf("bad input stored %d applications", len(apps))
		}
	})

	// The administrator sends the application to signing.
	p := admin.post("/portal/soknader/ny", with(form, "handling", "send"))
	if p.status != http.StatusOK || !strings.Contains(p.url, "/portal/soknader/") {
		t.Fatalf("send to signing: %d at %s", p.status, p.url)
	}
	id := lastPart(p.url)
	if a := h.application(id); a.Status != governance.AppToSign || a.Org != org || len(a.Form.Needs) != 2 {
		t.Fatalf("after sending: %+v", a)
	}

	t.Run("another organisation sees nothing", func(t *testing.T) {
		for _, path := range []string{"/portal/soknader/" + id, "/portal/saker/" + id} {
			if p := other.get(path); p.status != http.StatusNotFound && p.status != http.StatusForbidden {
				t.Fatalf("%s: %d", path, p.status)
			}
		}
		if p := other.get("/portal/soknader/" + id); p.status != http.StatusNotFound {
			t.Fatalf("another organisation's application: %d", p.status)
		}
		if p := other.post("/portal/soknader/"+id+"/signer", nil); p.status != http.StatusNotFound {
			t.Fatalf("signing another organisation's application: %d", p.status)
		}
	})

	// Rule AA-01: only a role holder signs.
	t.Run("a developer and an administrator cannot sign", func(t *testing.T) {
		if p := dev.post("/portal/soknader/"+id+"/signer", nil); p.status != http.StatusForbidden {
			t.Fatalf("developer signing: %d", p.status)
		}
		if p := admin.post("/portal/soknader/"+id+"/signer", nil); p.status != http.StatusForbidden {
			t.Fatalf("administrator signing: %d", p.status)
		}
		if a := h.application(id); a.Status != governance.AppToSign {
			t.Fatalf("status %s", a.Status)
		}
	})

	if p := signer.get("/portal/soknader/" + id); !p.has("Signer og send inn") {
		t.Fatal("the role holder is not offered to sign")
	}
	// Rule AA-01: a signature on a version the signer was not shown is refused.
	if p := signer.post("/portal/soknader/"+id+"/signer", url.Values{"versjon": {"1"}}); !p.has("endret siden du åpnet den") {
		t.Fatalf("sign of a stale version: %d", p.status)
	}
	if p := signApp(t, signer, id); p.status != http.StatusOK || !p.has("signert og sendt inn") {
		t.Fatalf("sign: %d", p.status)
	}
	if a := h.application(id); a.Status != governance.AppSubmitted || a.SignedByName == "" || a.SignedAt == nil {
		t.Fatalf("signed: %+v", a)
	}

	// The case worker takes the case and asks for more.
	if p := cw.get("/portal/saker"); !p.has("/portal/saker/"+id) || !p.has("Testkommune") {
		t.Fatal("the case is not in the queue")
	}
	if p := admin.post("/portal/saker/"+id+"/ta", nil); p.status != http.StatusForbidden {
		t.Fatalf("a consumer takes the case: %d", p.status)
	}
	// The data protection officer reads cases, but does not handle them.
	if p := dpo.get("/portal/saker/" + id); p.status != http.StatusOK || p.has("Ta saken") {
		t.Fatalf("data protection officer's case page: %d", p.status)
	}
	if p := dpo.post("/portal/saker/"+id+"/ta", nil); p.status != http.StatusForbidden {
		t.Fatalf("data protection officer takes the case: %d", p.status)
	}
	cw.post("/portal/saker/"+id+"/ta", nil)
	if p := cw.post("/portal/saker/"+id+"/sporsmal", url.Values{"sporsmal": {" "}}); p.status != http.StatusBadRequest || !p.has("Skriv hva søkeren må svare på") {
		t.Fatalf("empty question: %d", p.status)
	}
	cw.post("/portal/saker/"+id+"/sporsmal", url.Values{"sporsmal": {"Hvilken stønad gjelder saksbehandlingen?"}})
	if a := h.application(id); a.Status != governance.AppNeedsAnswer {
		t.Fatalf("asked: %s", a.Status)
	}

	// The administrator sees the question and answers.
	if p := admin.get("/portal/soknader/" + id); !p.has("Hvilken stønad gjelder saksbehandlingen?") || !p.has("Send svar til saksbehandler") {
		t.Fatal("the question is not shown to the applicant")
	}
	if p := admin.get("/portal/soknader/" + id); !p.has(governance.StepSign.Label()) || !p.has(governance.StepAsk.Label()) {
		t.Fatal("the applicant's page does not show the history")
	}
	if p := admin.post("/portal/soknader/"+id, with(form, "handling", "svar")); p.status != http.StatusBadRequest || !p.has("Skriv svaret") {
		t.Fatalf("answer without text: %d", p.status)
	}
	admin.post("/portal/soknader/"+id, with(form, "handling", "svar", "svar", "Økonomisk sosialhjelp."))
	if a := h.application(id); a.Status != governance.AppSubmitted || a.Answer != "Økonomisk sosialhjelp." {
		t.Fatalf("answered: %s %q", a.Status, a.Answer)
	}

	// No access before the decision (Rule AA-01).
	cf := h.client(org)
	if _, err := authserver.RequestToken(ctx, cf, h.srv.Client()); err == nil {
		t.Fatal("a token before any decision")
	}

	cw.post("/portal/saker/"+id+"/ta", nil)
	if p := cw.get("/portal/saker/" + id); !p.has("Økonomisk sosialhjelp.") || !p.has("Godkjenn og gi testtilgang") {
		t.Fatal("the case page lacks the answer or the decision form")
	}
	// Rule AA-07: never more than the applicant asked for (only the job title of stillingsdetaljer).
	if p := cw.post("/portal/saker/"+id+"/godkjenn", url.Values{"pakke": {"grunnopplysninger@1", "stillingsdetaljer@1"}}); p.status != http.StatusBadRequest || !p.has("ikke har bedt om") {
		t.Fatalf("approving more than asked: %d", p.status)
	}
	p = cw.post("/portal/saker/"+id+"/godkjenn", url.Values{"pakke": {"grunnopplysninger@1"}, "segment_navn": {"Kommunal saksbehandling"}})
	if p.status != http.StatusOK || !strings.Contains(p.url, "/portal/vedtak/") || !p.has("Vedtak om tilgang") {
		t.Fatalf("approve: %d at %s", p.status, p.url)
	}
	decision := lastPart(p.url)

	// Rule AA-03: test access works; production does not yet.
	tok := h.token(cf)
	if a := h.person(tok, person, ""); a.status != http.StatusOK {
		t.Fatalf("lookup with the test grant: %d %s", a.status, a.body)
	}
	if st := prod.lookup(cf, realPerson); st == http.StatusOK {
		t.Fatal("production access before the integration test")
	}
	if gs, _ := h.db.Grants(ctx, org); len(gs) != 1 || gs[0].Env != register.EnvTest || gs[0].ApplicationID != id || gs[0].Packages[0] != "grunnopplysninger@1" {
		t.Fatalf("grants: %+v", gs)
	}
	if n := len(h.eventsOf(org, audit.KindGrantAdded)); n != 1 {
		t.Fatalf("%d grant.added events", n)
	}

	t.Run("the decision is readable and downloadable by its parties only", func(t *testing.T) {
		for _, b := range []*browserless{admin, signer, cw, dpo} {
			if p := b.get("/portal/vedtak/" + decision); p.status != http.StatusOK || !p.has("grunnopplysninger@1") {
				t.Fatalf("decision page: %d", p.status)
			}
		}
		resp, body := admin.download("/portal/vedtak/" + decision + "/last-ned")
		if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment") ||
			!strings.Contains(body, "VEDTAK OM TILGANG") || !strings.Contains(body, "Leverandør AS") {
			t.Fatalf("download: %d %q", resp.StatusCode, resp.Header.Get("Content-Disposition"))
		}
		// Its digest is in the log (Rule AA-01: what was decided can be proved).
		found := false
		for _, e := range h.eventsOf(org, audit.KindApplication) {
			found = found || (e["decision"] == decision && e["sha256"] == governance.Digest(body))
		}
		if !found {
			t.Fatal("the decision's SHA-256 is not in the log")
		}
		if p := other.get("/portal/vedtak/" + decision); p.status != http.StatusNotFound {
			t.Fatalf("another organisation reads the decision: %d", p.status)
		}
		if resp, _ := other.download("/portal/vedtak/" + decision + "/last-ned"); resp.StatusCode != http.StatusNotFound {
			t.Fatalf("another organisation downloads the decision: %d", resp.StatusCode)
		}
		if p := dev.get("/portal/vedtak/" + decision); p.status != http.StatusForbidden {
			t.Fatalf("a developer reads the decision: %d", p.status)
		}
	})

	// Rule AA-13: the processor sees the consumer it acts for.
	if p := proc.get("/portal/tilganger"); p.status != http.StatusOK || !p.has("Testkommune") || !p.has("DBA-2026-7") {
		t.Fatalf("processor's grants page: %d", p.status)
	}

	// Rule AA-03: the consumer confirms its integration test; the case worker gives production access.
	if p := admin.get("/portal/tilganger"); !p.has("Integrasjonstesten er gjennomført") || !p.has("Grunnopplysninger om arbeidsforholdet") {
		t.Fatal("the grants page offers no confirmation of the integration test")
	}
	if p := dev.post("/portal/tilganger/"+id+"/integrasjonstest", nil); p.status != http.StatusForbidden {
		t.Fatalf("developer confirms: %d", p.status)
	}
	admin.post("/portal/tilganger/"+id+"/integrasjonstest", nil)
	if a := h.application(id); a.Status != governance.AppProdRequested {
		t.Fatalf("after confirming: %s", a.Status)
	}
	if p := cw.get("/portal/saker"); !p.has("/portal/saker/" + id) {
		t.Fatal("the production request is not in the queue")
	}
	if p := cw.post("/portal/saker/"+id+"/produksjon", nil); p.status != http.StatusOK || !p.has("produksjonsmiljø") {
		t.Fatalf("approve production: %d", p.status)
	}
	var prodGrants int
	gs, _ := h.db.Grants(ctx, org)
	for _, g := range gs {
		if g.Env == register.EnvProd && g.Status == access.Active && g.ApplicationID == id {
			prodGrants++
		}
	}
	if prodGrants != 1 {
		t.Fatalf("%d production grants", prodGrants)
	}
	if st := prod.lookup(cf, realPerson); st != http.StatusOK {
		t.Fatalf("production lookup: %d", st)
	}

	// Rule AA-05: a substantial change ends the old access when the new application is signed.
	p = admin.post("/portal/soknader/"+id+"/endre", nil)
	changed := lastPart(p.url)
	if p.status != http.StatusOK || changed == id || h.application(changed).Replaces != id {
		t.Fatalf("amend: %d at %s", p.status, p.url)
	}
	admin.post("/portal/soknader/"+changed, with(form, "handling", "send", "formaal", "Kontroll av trygdeytelser."))
	if a := h.person(tok, person, ""); a.status != http.StatusOK {
		t.Fatalf("access ended before the change was signed: %d", a.status)
	}
	signApp(t, signer, changed)
	if a := h.person(tok, person, ""); a.status != http.StatusForbidden {
		t.Fatalf("lookup after a substantial change: %d", a.status)
	}
	if st := prod.lookup(cf, realPerson); st == http.StatusOK {
		t.Fatal("production access survived a substantial change")
	}
	if p := admin.get("/portal/soknader/" + id); !p.has(governance.AppReplaced.Label()) || !p.has("Vesentlig endring av søknad") || p.has("AA-05") {
		t.Fatal("the old application does not say it was replaced")
	}
	if p := cw.get("/portal/saker/" + changed); !p.has("Vesentlig endring") {
		t.Fatal("the case worker is not told of the substantial change")
	}
}

// Rules AA-07, SK-06: a segment's standard package is shared, and never gives more than was asked for.
func TestApplicationSegments(t *testing.T) {
	h := newHarness(t)
	cw := h.signIn(h.account(governance.Saksbehandler, governance.AuthorityOrg, ""))
	approve := func(n int, extra url.Values) (string, page) {
		org := string(syntheticOrg(8_200_000 + n))
		admin := h.signIn(h.account(governance.Administrator, org, ""))
		signer := h.signIn(h.account(governance.Rolleinnehaver, org, ""))
		p := admin.post("/portal/soknader/ny", with(applicationValues(""), "handling", "send", "databehandler_orgnr", "", "databehandler_navn", "", "databehandler_avtale", ""))
		id := lastPart(p.url)
		signApp(t, signer, id)
		cw.post("/portal/saker/"+id+"/ta", nil)
		return id, cw.post("/portal/saker/"+id+"/godkjenn", extra)
	}
	_, p := approve(1, url.Values{"pakke": {"grunnopplysninger@1"}, "segment_navn": {"Pensjonsordninger"}})
	if p.status != http.StatusOK || !p.has("Pensjonsordninger") {
		t.Fatalf("approve with a new segment: %d", p.status)
	}
	segs, _ := h.db.Segments(context.Background())
	if len(segs) != 1 {
		t.Fatalf("segments: %+v", segs)
	}
	// The next consumer with the same need gets the segment's standard package.
	id, p := approve(2, url.Values{"segment": {segs[0].ID}})
	if p.status != http.StatusOK {
		t.Fatalf("approve with the segment: %d", p.status)
	}
	if a := h.application(id); a.SegmentID != segs[0].ID || len(a.Granted) != 1 {
		t.Fatalf("segment not used: %+v", a)
	}
	if m, _ := h.db.SegmentMembers(context.Background()); m[segs[0].ID] != 2 {
		t.Fatalf("segment members: %v", m)
	}
	// A segment's name is unique; an unknown segment is refused; nothing is stored.
	id, p = approve(3, url.Values{"pakke": {"grunnopplysninger@1"}, "segment_navn": {"Pensjonsordninger"}})
	if p.status != http.StatusBadRequest || !p.has("finnes alt et segment") || h.application(id).Status != governance.AppInReview {
		t.Fatalf("a segment's name twice: %d", p.status)
	}
	if p := cw.post("/portal/saker/"+id+"/godkjenn", url.Values{"segment": {"ukjent"}}); p.status != http.StatusBadRequest {
		t.Fatalf("an unknown segment: %d", p.status)
	}
	if p := cw.post("/portal/saker/"+id+"/godkjenn", url.Values{"pakke": {"grunnopplysninger@1"}, "gyldig_til": {"2001-01-01"}}); p.status != http.StatusBadRequest || !p.has("dato fram i tid") {
		t.Fatalf("validity in the past: %d", p.status)
	}
	// Refusal: a decision with reasons the consumer can read.
	if p := cw.post("/portal/saker/"+id+"/avslag", url.Values{"begrunnelse": {""}}); p.status != http.StatusBadRequest {
		t.Fatalf("refusal without reasons: %d", p.status)
	}
	p = cw.post("/portal/saker/"+id+"/avslag", url.Values{"begrunnelse": {"Formålet gir ikke grunnlag for utlevering."}})
	if p.status != http.StatusOK || !p.has("Vedtak om avslag") || !p.has("Formålet gir ikke grunnlag for utlevering.") {
		t.Fatalf("refuse: %d", p.status)
	}
	if a := h.application(id); a.Status != governance.AppRefused {
		t.Fatalf("refused: %s", a.Status)
	}
}

// signApp signs an application as the role holder would: from the page, with the version it shows.
func signApp(t *testing.T, b *browserless, id string) page {
	t.Helper()
	m := regexp.MustCompile(`name="versjon" value="(\d+)"`).FindStringSubmatch(b.get("/portal/soknader/" + id).body)
	if m == nil {
		t.Fatal("no signing form on the application's page")
	}
	return b.post("/portal/soknader/"+id+"/signer", url.Values{"versjon": {m[1]}})
}

// Separation of duties: a case worker who also holds a role in the applicant's
// organisation may not handle its case; another case worker may.
func TestCaseWorkerOfOwnOrganisation(t *testing.T) {
	h := newHarness(t)
	org := string(syntheticOrg(8_300_001))
	admin := h.signIn(h.account(governance.Administrator, org, ""))
	signer := h.signIn(h.account(governance.Rolleinnehaver, org, ""))
	p := admin.post("/portal/soknader/ny", with(applicationValues(""), "handling", "send", "databehandler_orgnr", "", "databehandler_navn", "", "databehandler_avtale", ""))
	id := lastPart(p.url)
	signApp(t, signer, id)

	email := h.account(governance.Saksbehandler, governance.AuthorityOrg, "")
	u, _, err := h.db.UserByEmail(t.Context(), email)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.db.AddMembership(t.Context(), u.ID, org, governance.Utvikler, "test"); err != nil {
		t.Fatal(err)
	}
	if p := h.signIn(email).post("/portal/saker/"+id+"/ta", nil); p.status != http.StatusForbidden {
		t.Fatalf("a case worker of the applicant's own organisation took the case: %d", p.status)
	}
	if h.application(id).Status != governance.AppSubmitted {
		t.Fatal("the case moved")
	}
	cw := h.signIn(h.account(governance.Saksbehandler, governance.AuthorityOrg, ""))
	cw.post("/portal/saker/"+id+"/ta", nil)
	if h.application(id).Status != governance.AppInReview {
		t.Fatalf("another case worker could not take it: %s", h.application(id).Status)
	}
}

// Separation of duties decides the buttons as it decides the steps: a case
// worker who holds a role in the applicant's organisation is shown no button
// to take or decide its case, and is refused if they post anyway; another
// case worker is shown them.
func TestSeparationOfDutiesOnTheCasePage(t *testing.T) {
	h := newHarness(t)
	org := string(syntheticOrg(8_300_002))
	admin := h.signIn(h.account(governance.Administrator, org, ""))
	signer := h.signIn(h.account(governance.Rolleinnehaver, org, ""))
	p := admin.post("/portal/soknader/ny", with(applicationValues(""), "handling", "send", "databehandler_orgnr", "", "databehandler_navn", "", "databehandler_avtale", ""))
	id := lastPart(p.url)
	signApp(t, signer, id)

	email := h.account(governance.Saksbehandler, governance.AuthorityOrg, "")
	u, _, err := h.db.UserByEmail(t.Context(), email)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.db.AddMembership(t.Context(), u.ID, org, governance.Utvikler, "test"); err != nil {
		t.Fatal(err)
	}
	conflicted := h.signIn(email)
	other := h.signIn(h.account(governance.Saksbehandler, governance.AuthorityOrg, ""))

	take, approve := `action="/portal/saker/`+id+`/ta"`, `action="/portal/saker/`+id+`/godkjenn"`
	if p := other.get("/portal/saker/" + id); p.status != http.StatusOK || !p.has(take) {
		t.Fatalf("another case worker is not offered to take the case: %d", p.status)
	}
	if p := conflicted.get("/portal/saker/" + id); p.status != http.StatusOK || p.has(take) {
		t.Fatalf("a case worker of the applicant's own organisation is offered to take the case: %d", p.status)
	}
	if p := conflicted.post("/portal/saker/"+id+"/ta", nil); p.status != http.StatusForbidden {
		t.Fatalf("a case worker of the applicant's own organisation took the case: %d", p.status)
	}
	other.post("/portal/saker/"+id+"/ta", nil)
	if h.application(id).Status != governance.AppInReview {
		t.Fatalf("status %s", h.application(id).Status)
	}
	if p := other.get("/portal/saker/" + id); !p.has(approve) {
		t.Fatal("the case worker handling the case is not offered to approve it")
	}
	if p := conflicted.get("/portal/saker/" + id); p.has(approve) {
		t.Fatal("a case worker of the applicant's own organisation is offered to approve the case")
	}
	if p := conflicted.post("/portal/saker/"+id+"/godkjenn", url.Values{}); p.status != http.StatusForbidden {
		t.Fatalf("a case worker of the applicant's own organisation approved the case: %d", p.status)
	}
	if h.application(id).Status != governance.AppInReview {
		t.Fatal("the case moved")
	}
}

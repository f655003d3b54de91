package web

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"deling/internal/dpa"
	"deling/internal/store"
)

// dpaDraft is an agreement drafted by the controller's administrator and sent to the processor (pending); its page's path.
func dpaDraft(t *testing.T, p dpaPeople) string {
	t.Helper()
	pg := p.admin.post("/portal/databehandleravtaler/ny", p.draftValues())
	if pg.status != http.StatusOK || !strings.Contains(pg.url, "/portal/databehandleravtaler/") {
		t.Fatalf("draft: %d %s", pg.status, pg.url)
	}
	path := pg.url[strings.Index(pg.url, "/portal/"):]
	if got := p.admin.post(path+"/steg", url.Values{"steg": {"send_til_databehandler"}}); got.status != http.StatusOK {
		t.Fatalf("send: %d", got.status)
	}
	return path
}

// Rules DPA-07, DPA-09: on an agreement never signed the processor is
// offered no authority request, breach report or audit report form, and a
// post is refused (409) with nothing stored.
func TestPortalDPARecordsNeedSignedAgreement(t *testing.T) {
	h := newHarness(t)
	p := newDPAPeople(h, 8_400_001)
	path := dpaDraft(t, p)
	pg := p.procStaff.get(path)
	for _, id := range []string{`id="foresporsel"`, `id="brudd"`, `id="revisjon"`} {
		if pg.status != http.StatusOK || pg.has(id) {
			t.Errorf("pending agreement: the form %s is offered (%d)", id, pg.status)
		}
	}
	got := p.procStaff.post(path+"/foresporsler", url.Values{"myndighet": {"Politiet"}, "mottatt": {formTime(h.clock.now().Add(-time.Hour))},
		"hva": {"Arbeidsforhold"}, "hjemmel": {"straffeprosessloven § 210"}})
	if got.status != http.StatusConflict {
		t.Fatalf("a request on a pending agreement: %d", got.status)
	}
}

// Rule DPA-09: a request the law forbids telling the controller is not
// shown to the controller's people — neither the request nor its history
// entry — until the processor's "varsle nå"; the processor and the
// register see it; a refused post keeps the box ticked.
func TestPortalDPAWithheldRequest(t *testing.T) {
	h := newHarness(t)
	p := newDPAPeople(h, 8_400_002)
	a, _ := h.agreement(p.ctrl, p.proc)
	path := "/portal/databehandleravtaler/" + a.ID
	form := url.Values{"myndighet": {"Økokrim"}, "mottatt": {formTime(h.clock.now().Add(-time.Hour))},
		"hva": {"Lønnsopplysninger for én arbeidstaker"}, "lovforbud": {"ja"}}
	if got := p.procStaff.post(path+"/foresporsler", form); got.status != http.StatusBadRequest ||
		!got.has(`name="lovforbud" value="ja" checked`) {
		t.Fatalf("a refused request: %d; the box is not kept", got.status)
	}
	form.Set("hjemmel", "straffeprosessloven § 210")
	if got := p.procStaff.post(path+"/foresporsler", form); got.status != http.StatusOK {
		t.Fatalf("request: %d", got.status)
	}
	for _, b := range []*browserless{p.admin, p.ctrlRH} {
		if pg := b.get(path); pg.status != http.StatusOK || pg.has("Økokrim") || pg.has("Lønnsopplysninger") || pg.has("varsling utsatt") {
			t.Fatalf("the controller sees the withheld request (%d)", pg.status)
		}
	}
	if pg := p.worker.get(path); !pg.has("Økokrim") {
		t.Fatal("the register does not see the request")
	}
	pg := p.procStaff.get(path)
	m := regexp.MustCompile(`action="(` + path + `/foresporsler/[^"]+/varsle)"`).FindStringSubmatch(pg.body)
	if !pg.has("Økokrim") || m == nil {
		t.Fatal("the processor sees no request or no varsle nå")
	}
	if got := p.admin.post(m[1], nil); got.status != http.StatusForbidden {
		t.Fatalf("the controller's varsle nå: %d", got.status)
	}
	if got := p.procStaff.post(m[1], nil); got.status != http.StatusOK {
		t.Fatalf("varsle nå: %d", got.status)
	}
	if pg := p.admin.get(path); !pg.has("Økokrim") || !pg.has("Lønnsopplysninger") {
		t.Fatal("the controller does not see the request after varsle nå")
	}
	if got := p.procStaff.post(m[1], nil); got.status != http.StatusConflict {
		t.Fatalf("a second varsle nå: %d", got.status)
	}
}

// The DPA forms' bodies: only a URL-encoded form of at most 256 KiB is
// read; a multipart or larger post is refused before any step is taken
// (here a stop order, Rule DPA-11, which must not happen).
func TestPortalDPAFormBody(t *testing.T) {
	h := newHarness(t)
	p := newDPAPeople(h, 8_400_003)
	a, _ := h.agreement(p.ctrl, p.proc)
	path := "/portal/databehandleravtaler/" + a.ID + "/steg"
	stop := url.Values{"steg": {"stans"}, "stans_begrunnelse": {"Mistanke om avvik hos leverandøren."}}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for k, vs := range stop {
		mw.WriteField(k, vs[0])
	}
	mw.Close()
	req, _ := http.NewRequest("POST", p.admin.url()+path, &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Origin", p.admin.url())
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := p.admin.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if got := readPage(t, resp); got.status != http.StatusUnsupportedMediaType {
		t.Errorf("a multipart stop order: %d", got.status)
	}
	big := url.Values{"steg": {"stans"}, "stans_begrunnelse": {strings.Repeat("x", 300<<10)}}
	if got := p.admin.post(path, big); got.status != http.StatusRequestEntityTooLarge {
		t.Errorf("a 300 KiB stop order: %d", got.status)
	}
	if rec, _ := h.db.Agreement(t.Context(), a.ID); rec.Status != dpa.StatusActive {
		t.Fatalf("a refused post stopped the agreement: %s", rec.Status)
	}
	if got := p.admin.post(path, stop); got.status != http.StatusOK {
		t.Fatalf("the stop order itself: %d", got.status)
	}
}

// Rule DPA-09: who uploads an audit report and where the agreement stands
// are checked before the body is read: the register's case worker is
// refused (403), and on a pending agreement the party is told 409 — even
// for a file over the limit, which would otherwise be answered 400 once read.
func TestPortalDPAUploadCheckedFirst(t *testing.T) {
	h := newHarness(t)
	p := newDPAPeople(h, 8_400_004)
	a, _ := h.agreement(p.ctrl, p.proc)
	pdf := append([]byte("%PDF-1.7\n"), bytes.Repeat([]byte("x"), dpa.MaxAuditFileSize+128<<10)...)
	if got := upload(t, p.worker, a.ID, "r.pdf", pdf); got.status != http.StatusForbidden {
		t.Errorf("the case worker's upload: %d", got.status)
	}
	path := dpaDraft(t, p)
	id := path[strings.LastIndex(path, "/")+1:]
	if got := upload(t, p.procStaff, id, "r.pdf", pdf); got.status != http.StatusConflict {
		t.Errorf("an upload on a pending agreement: %d", got.status)
	}
	if reps, _ := h.db.AuditReports(t.Context(), a.ID); len(reps) != 0 {
		t.Fatalf("reports stored: %+v", reps)
	}
}

// Rule DPA-07: the controller's administrator and role holder read the
// processor's breach case under their agreement, marked as the consumer
// being the controller; the controller's developer and other
// organisations do not (404, as for a case that does not exist).
func TestPortalDPABreachControllerSees(t *testing.T) {
	h := newHarness(t)
	p := newDPAPeople(h, 8_400_005)
	a, _ := h.agreement(p.ctrl, p.proc)
	form := url.Values{dpa.FieldBreachAwareAt: {formTime(h.clock.now().Add(-2 * time.Hour))}, dpa.FieldBreachNature: {"Feilsendt e-post"},
		dpa.FieldBreachSubjectCats: {"Arbeidstakere"}, dpa.FieldBreachRecordCats: {"Arbeidsforhold"}, dpa.FieldBreachContact: {"Per"},
		dpa.FieldBreachConsequences: {"Opplysninger på avveie"}, dpa.FieldBreachMeasures: {"Slettet hos mottaker"}}
	got := p.procStaff.post("/portal/databehandleravtaler/"+a.ID+"/brudd", form)
	if got.status != http.StatusOK || !strings.Contains(got.url, "/portal/avvik/") {
		t.Fatalf("report: %d %s", got.status, got.url)
	}
	path := got.url[strings.Index(got.url, "/portal/avvik/"):]
	for _, b := range []*browserless{p.admin, p.ctrlRH} {
		if pg := b.get(path); pg.status != http.StatusOK || !pg.has("Feilsendt e-post") || !pg.has("Behandlingsansvarlig er konsumenten") {
			t.Errorf("the controller's view of the case: %d", pg.status)
		}
		if pg := b.get("/portal/avvik"); !pg.has(path) {
			t.Error("the case is not in the controller's list")
		}
	}
	for _, b := range []*browserless{p.developer, p.outsider} {
		if pg := b.get(path); pg.status != http.StatusNotFound && pg.status != http.StatusForbidden {
			t.Errorf("someone else's view of the case: %d", pg.status)
		}
		if pg := b.get("/portal/avvik"); pg.has(path) {
			t.Error("the case is in someone else's list")
		}
	}
}

// Rules DPA-01, DPA-10: the agreement's page and the list name the parties
// as the version in force does (not version 1); a certificate after a
// return (tilbakelevering) says so, not that the data were deleted.
func TestPortalDPANamesAndReturn(t *testing.T) {
	h := newHarness(t)
	ctx := t.Context()
	p := newDPAPeople(h, 8_400_006)
	a, ctrl := h.agreement(p.ctrl, p.proc)
	proc, rules := h.dpaRoleHolder(p.proc), h.dpaRules()
	c := a.Current().Content
	c.Controller.Navn, c.MainAgreement = "Nytt kommunenavn", "Ny hovedavtale"
	rec, err := h.db.StepAgreement(ctx, rules, a.ID, dpa.StepAmend, store.StepInput{}, ctrl)
	for _, s := range []struct {
		step dpa.Step
		by   store.DPAActor
	}{{dpa.StepSave, ctrl}, {dpa.StepSend, ctrl}, {dpa.StepComplete, proc}, {dpa.StepSignController, ctrl}, {dpa.StepSignProcessor, proc}} {
		if err != nil {
			t.Fatal(err)
		}
		in := store.StepInput{Seen: rec.Newest().Hash()}
		if s.step == dpa.StepSave {
			in.Content = &c
		}
		rec, err = h.db.StepAgreement(ctx, rules, a.ID, s.step, in, s.by)
	}
	if err != nil || rec.Current().Number != 2 {
		t.Fatalf("version 2: %v", err)
	}
	path := "/portal/databehandleravtaler/" + a.ID
	if pg := p.admin.get(path); !pg.has("Databehandleravtale: Nytt kommunenavn") {
		t.Error("the page names the parties as version 1 does")
	}
	if pg := p.admin.get("/portal/databehandleravtaler"); !pg.has("Ny hovedavtale") || !pg.has("Nytt kommunenavn") {
		t.Error("the list names the agreement as version 1 does")
	}
	if _, err := h.db.StepAgreement(ctx, rules, a.ID, dpa.StepEnd, store.StepInput{Ending: &dpa.Ending{Reason: "Avtalen er sagt opp.", Choice: dpa.ChoiceReturn}}, ctrl); err != nil {
		t.Fatal(err)
	}
	cert := &dpa.DeletionCertificate{What: "Alle arbeidsforhold", How: "Eksportert og sendt kryptert", DoneBy: "Per", BackupsIncluded: true,
		DoneAt: h.clock.now()}
	if _, err := h.db.StepAgreement(ctx, rules, a.ID, dpa.StepConfirmDeletion, store.StepInput{Certificate: cert}, proc); err != nil {
		t.Fatal(err)
	}
	if pg := p.admin.get(path); !pg.has("Tilbakelevering og sletting bekreftet") || !pg.has("Opplysningene er tilbakelevert") {
		t.Error("the certificate after a return is worded as a deletion")
	}
}

// Rule DPA-05: a refused approval is shown at the row's own fields, which
// the summary links to, with what was posted; the letter about a decision
// names the sub-processor, the status and the reason, worded by the side that acted.
func TestPortalDPASubProcessorDecision(t *testing.T) {
	h := newHarness(t)
	ctx := t.Context()
	p := newDPAPeople(h, 8_400_007)
	a, _ := h.agreement(p.ctrl, p.proc)
	path := "/portal/databehandleravtaler/" + a.ID
	propose := func(navn, country string) string {
		t.Helper()
		before, _ := h.db.SubProcessors(ctx, a.ID)
		if got := p.procStaff.post(path+"/underdatabehandlere", url.Values{"underdatabehandler_navn": {navn}, "underdatabehandler_orgnr": {"C-1"},
			"underdatabehandler_land": {country}, "underdatabehandler_oppgave": {"Lagring"}}); got.status != http.StatusOK {
			t.Fatalf("propose %s: %d", navn, got.status)
		}
		subs, _ := h.db.SubProcessors(ctx, a.ID)
		if len(subs) != len(before)+1 {
			t.Fatal("not proposed")
		}
		return subs[len(subs)-1].ID
	}
	us := propose("Sky Inc.", "USA")
	got := p.admin.post(path+"/underdatabehandlere/"+us, url.Values{"steg": {"godkjenn"}, "overforing_land": {"USA"}, "overforing_mottaker": {"Sky Inc."},
		"overforing_grunnlag": {string(dpa.BasisSCC)}, "overforing_scc_modul": {"3"}, "underdatabehandler_begrunnelse": {"utkast"}})
	if got.status != http.StatusBadRequest {
		t.Fatalf("approving the USA on SCC: %d", got.status)
	}
	links := regexp.MustCompile(`href="#(f-[^"]+)"`).FindAllStringSubmatch(got.body, -1)
	if len(links) == 0 {
		t.Fatal("no error summary")
	}
	for _, l := range links {
		if !strings.Contains(got.body, `id="`+l[1]+`"`) || !strings.HasSuffix(l[1], "-"+us) {
			t.Errorf("the summary links to %s, which is not the row's field", l[1])
		}
	}
	if !got.has(`value="3"`) || !got.has(">utkast</textarea>") {
		t.Error("the row's input is lost")
	}
	dk := propose("Drift ApS", "Danmark")
	if got := p.admin.post(path+"/underdatabehandlere/"+dk, url.Values{"steg": {"avslaa"}, "underdatabehandler_begrunnelse": {"Vi bruker egen drift."}}); got.status != http.StatusOK {
		t.Fatalf("refuse: %d", got.status)
	}
	ms, _ := h.db.MailTo(ctx, p.proc, 20)
	if len(ms) == 0 || !strings.Contains(ms[0].Body, "Behandlingsansvarlig") || !strings.Contains(ms[0].Body, "avslått underdatabehandleren Drift ApS") ||
		!strings.Contains(ms[0].Body, "Vi bruker egen drift.") || strings.Contains(ms[0].Body, "er varslet") {
		t.Fatalf("the processor's letter: %+v", ms)
	}
	if got := p.procStaff.post(path+"/underdatabehandlere/"+us, url.Values{"steg": {"fjern"}}); got.status != http.StatusOK {
		t.Fatalf("remove: %d", got.status)
	}
	ms, _ = h.db.MailTo(ctx, p.ctrl, 50)
	found := false
	for _, m := range ms {
		found = found || strings.Contains(m.Body, "Databehandleren (org.nr. "+p.proc+") har fjernet underdatabehandleren Sky Inc.")
	}
	if !found {
		t.Fatal("the controller was not told of the processor's removal")
	}
}

// Rule SK-04: the case worker's delegation form tells agreements apart by
// both parties' organisation numbers and the main agreement and its date,
// not only by the names typed into the agreement.
func TestPortalDPADelegationLabels(t *testing.T) {
	h := newHarness(t)
	p := newDPAPeople(h, 8_400_008)
	h.agreement(p.ctrl, p.proc)
	pg := p.worker.get("/portal/delegeringer")
	for _, want := range []string{"org.nr. " + p.ctrl, "org.nr. " + p.proc, "Driftsavtale", "2026-01-15"} {
		if !pg.has(want) {
			t.Errorf("the agreement's label lacks %q", want)
		}
	}
}

package web

import (
	"bytes"
	"context"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"deling/internal/access"
	"deling/internal/dpa"
	"deling/internal/governance"
)

// dpaPeople are the people of both sides of an agreement, the register's
// case worker, and people who must be refused: another organisation's
// administrator and the consumer's developer.
type dpaPeople struct {
	ctrl, proc                               string // orgnrs
	admin, ctrlRH, procStaff, procRH, worker *browserless
	outsider, developer                      *browserless
}

func newDPAPeople(h *harness, procN int) dpaPeople {
	consumer, _ := h.consumer("Avtalekommune", grant(basic, access.ByArbeidstaker))
	other, _ := h.consumer("Annen kommune")
	p := dpaPeople{ctrl: consumer, proc: string(syntheticOrg(procN))}
	p.admin = h.signIn(h.account(governance.Administrator, p.ctrl, ""))
	p.ctrlRH = h.signIn(h.account(governance.Rolleinnehaver, p.ctrl, ""))
	p.procStaff = h.signIn(h.account(governance.Databehandler, p.proc, ""))
	p.procRH = h.signIn(h.account(governance.Rolleinnehaver, p.proc, ""))
	p.worker = h.signIn(h.account(governance.Saksbehandler, governance.AuthorityOrg, ""))
	p.outsider = h.signIn(h.account(governance.Administrator, other, ""))
	p.developer = h.signIn(h.account(governance.Utvikler, p.ctrl, ""))
	return p
}

// draftValues is the controller's part of an agreement, complete.
func (p dpaPeople) draftValues() url.Values {
	return url.Values{
		dpa.FieldControllerNavn: {"Avtalekommune"}, dpa.FieldProcessorOrgnr: {p.proc}, dpa.FieldProcessorNavn: {"Leverandør AS"},
		dpa.FieldMainAgreement: {"Avtale om fagsystem"}, dpa.FieldMainAgreementDate: {"2026-01-15"},
		dpa.ContactField(dpa.Controller, "navn"): {"Ada"}, dpa.ContactField(dpa.Controller, "epost"): {"ada@kommune.example"},
		dpa.FieldChannels: {"api"}, dpa.FieldPackages: basic, dpa.FieldBreachHours: {"24"}, dpa.FieldDeletionDays: {"30"},
		dpa.FieldPurpose: {"Saksbehandling."}, dpa.FieldNature: {"Drift."}, dpa.FieldSubjects: {"Søkere"}, dpa.FieldDataTypes: {"Arbeidsforhold"},
		dpa.FieldLocations: {"Norge"},
	}
}

// annex2Values is the processor's part, complete, with one sub-processor.
func annex2Values(sub string) url.Values {
	return url.Values{
		dpa.ContactField(dpa.Processor, "navn"): {"Per"}, dpa.ContactField(dpa.Processor, "epost"): {"per@leverandor.example"},
		dpa.FieldPseudonymisation: {"ikke relevant"}, dpa.FieldEncryption: {"TLS"}, dpa.FieldConfidentiality: {"Tilgangsstyring"},
		dpa.FieldIntegrity: {"Logg"}, dpa.FieldAvailability: {"Backup"}, dpa.FieldResilience: {"To sentre"}, dpa.FieldPhysical: {"Adgangskontroll"},
		dpa.FieldOther:              {"ikke relevant"},
		"underdatabehandler_navn_0": {"Drift AS"}, "underdatabehandler_orgnr_0": {sub}, "underdatabehandler_land_0": {"Norge"},
		"underdatabehandler_oppgave_0": {"Drift av servere"},
	}
}

var seenHash = regexp.MustCompile(`name="sett" value="([0-9a-f]{64})"`)

// sign signs the agreement's newest version as shown on its page.
func sign(t *testing.T, b *browserless, id, step string) page {
	t.Helper()
	m := seenHash.FindStringSubmatch(b.get("/portal/databehandleravtaler/" + id).body)
	if m == nil {
		t.Fatalf("no signing form for %s", step)
	}
	return b.post("/portal/databehandleravtaler/"+id+"/steg", url.Values{"steg": {step}, "sett": {m[1]}})
}

// upload posts a file to the agreement's audit reports.
func upload(t *testing.T, b *browserless, id, name string, content []byte) page {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	mw.WriteField("tittel", "Revisjon 2026")
	fw, _ := mw.CreateFormFile("fil", name)
	fw.Write(content)
	mw.Close()
	req, _ := http.NewRequest("POST", b.url()+"/portal/databehandleravtaler/"+id+"/revisjonsrapporter", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Origin", b.url())
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := b.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return readPage(t, resp)
}

// Rules DPA-01, SK-04, DPA-05, DPA-09, DPA-10, DPA-11 through the portal's
// forms: each page and form refuses the wrong organisation (404, as for an
// agreement that does not exist) and the wrong role (403), and bad input is
// shown by field with nothing stored.
func TestPortalDPA(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	p := newDPAPeople(h, 8_200_001)
	base := "/portal/databehandleravtaler"

	// Rule DPA-01: the consumer's administrator drafts; bad input changes nothing.
	if pg := p.developer.get(base + "/ny"); pg.status != http.StatusForbidden {
		t.Fatalf("a developer's draft form: %d", pg.status)
	}
	bad := p.draftValues()
	bad.Set(dpa.FieldDeletionDays, "tretti")
	bad.Set(dpa.FieldMainAgreementDate, "15.01.2026")
	if pg := p.admin.post(base+"/ny", bad); pg.status != http.StatusBadRequest || !pg.has("Skriv et helt tall") || !pg.has("ÅÅÅÅ-MM-DD") || !pg.has("Avtale om fagsystem") {
		t.Fatalf("bad draft: %d", pg.status)
	}
	if as, _ := h.db.Agreements(ctx, p.ctrl); len(as) != 0 {
		t.Fatal("a refused draft was stored")
	}
	pg := p.admin.post(base+"/ny", p.draftValues())
	if pg.status != http.StatusOK || !strings.Contains(pg.url, base+"/") {
		t.Fatalf("draft: %d %s", pg.status, pg.url)
	}
	id := pg.url[strings.LastIndex(pg.url, "/")+1:]
	agreement := base + "/" + id

	// Deny by default: another organisation sees nothing (the same 404 as a made-up id), a developer is turned away.
	for _, path := range []string{agreement, agreement + "/versjoner/1", agreement + "/versjoner/1/last-ned", agreement + "/rediger"} {
		if got := p.outsider.get(path); got.status != http.StatusNotFound {
			t.Errorf("an outsider's GET %s: %d", path, got.status)
		}
		if got := p.developer.get(path); got.status != http.StatusForbidden {
			t.Errorf("a developer's GET %s: %d", path, got.status)
		}
	}
	if got := p.outsider.get(base + "/finnes-ikke"); got.status != http.StatusNotFound {
		t.Errorf("a made-up id: %d", got.status)
	}
	if got := p.outsider.post(agreement+"/steg", url.Values{"steg": {"send_til_databehandler"}}); got.status != http.StatusNotFound {
		t.Errorf("an outsider's step: %d", got.status)
	}
	if got := p.outsider.get(base); got.has(id) {
		t.Error("an outsider's list names the agreement")
	}
	if got := p.procStaff.get(base); !got.has(id) || !got.has("Databehandler") {
		t.Error("the processor's list lacks the agreement")
	}
	// The processor may not change the controller's draft, nor send it.
	if got := p.procStaff.post(agreement+"/steg", url.Values{"steg": {"send_til_databehandler"}}); got.status != http.StatusForbidden {
		t.Errorf("the processor sent the controller's draft: %d", got.status)
	}
	if got := p.admin.post(agreement+"/steg", url.Values{"steg": {"send_til_databehandler"}}); got.status != http.StatusOK || !got.has("Til utfylling hos databehandler") {
		t.Fatalf("send: %d", got.status)
	}
	// The processor completes annex 2 and proposes annex 3; the controller's people may not.
	if got := p.admin.post(agreement+"/rediger", annex2Values(string(syntheticOrg(8_200_002)))); got.status != http.StatusForbidden {
		t.Errorf("the controller wrote annex 2: %d", got.status)
	}
	badAnnex := annex2Values(string(syntheticOrg(8_200_002)))
	badAnnex.Set("underdatabehandler_land_0", "")
	if got := p.procStaff.post(agreement+"/rediger", badAnnex); got.status != http.StatusOK {
		t.Fatalf("a draft of annex 2 without the sub-processor's country is saved as a draft: %d", got.status)
	}
	if got := p.procStaff.post(agreement+"/steg", url.Values{"steg": {"fullfor"}}); got.status != http.StatusConflict || !got.has("ikke ferdig utfylt") {
		t.Fatalf("complete without the sub-processor's country: %d", got.status)
	}
	if got := p.procStaff.post(agreement+"/rediger", annex2Values(string(syntheticOrg(8_200_002)))); got.status != http.StatusOK {
		t.Fatalf("annex 2: %d", got.status)
	}
	if got := p.procStaff.post(agreement+"/steg", url.Values{"steg": {"fullfor"}}); got.status != http.StatusOK || !got.has("Til signering") {
		t.Fatalf("complete: %d", got.status)
	}
	// Rule DPA-01: each side's role holder signs exactly the version shown.
	if got := p.procStaff.post(agreement+"/steg", url.Values{"steg": {"signer_databehandler"}}); got.status != http.StatusForbidden {
		t.Errorf("the processor's staff signed: %d", got.status)
	}
	if got := p.ctrlRH.post(agreement+"/steg", url.Values{"steg": {"signer_behandlingsansvarlig"}, "sett": {strings.Repeat("0", 64)}}); got.status != http.StatusConflict || !got.has("endret siden du åpnet") {
		t.Fatalf("a signature over another version: %d", got.status)
	}
	if a, _ := h.db.Agreement(ctx, id); a.Newest().ControllerSig != nil {
		t.Fatal("a signature over another version was stored")
	}
	if got := sign(t, p.ctrlRH, id, "signer_behandlingsansvarlig"); got.status != http.StatusOK {
		t.Fatalf("controller signs: %d", got.status)
	}
	if got := sign(t, p.procRH, id, "signer_databehandler"); got.status != http.StatusOK || !got.has("Aktiv") {
		t.Fatalf("processor signs: %d", got.status)
	}

	// Rule SK-04: the case worker delegates only what the agreement covers; nobody else delegates.
	if got := p.admin.get("/portal/delegeringer"); got.status != http.StatusForbidden {
		t.Errorf("the consumer's delegation page: %d", got.status)
	}
	del := url.Values{"avtale": {id}, "kanal": {"api"}, "pakke": {"permisjoner@1"}}
	if got := p.worker.post("/portal/delegeringer", del); got.status != http.StatusBadRequest || !got.has("dekker ikke alle tilgangstypene") {
		t.Fatalf("an uncovered package: %d", got.status)
	}
	if ds, _ := h.db.Delegations(ctx, p.ctrl); len(ds) != 0 {
		t.Fatal("an uncovered delegation was stored")
	}
	del.Set("pakke", basic[0])
	if got := p.worker.post("/portal/delegeringer", del); got.status != http.StatusOK || !got.has("Delegeringen er opprettet") {
		t.Fatalf("delegate: %d", got.status)
	}
	if ds, _ := h.db.Delegations(ctx, p.ctrl); len(ds) != 1 || ds[0].AgreementID != id || ds[0].Status != access.Active {
		t.Fatalf("delegations: %+v", ds)
	}

	// Rule DPA-05: a proposed sub-processor has no effect until the controller approves it in writing.
	sub := url.Values{dpa.FieldSubName: {"Backup AS"}, dpa.FieldSubOrgnr: {string(syntheticOrg(8_200_003))}, dpa.FieldSubCountry: {"Norge"}}
	if got := p.procStaff.post(agreement+"/underdatabehandlere", sub); got.status != http.StatusBadRequest || !got.has("Beskriv hva underdatabehandleren gjør") || !got.has("Backup AS") {
		t.Fatalf("a proposal without its task: %d", got.status)
	}
	sub.Set(dpa.FieldSubTask, "Sikkerhetskopier")
	if got := p.outsider.post(agreement+"/underdatabehandlere", sub); got.status != http.StatusNotFound {
		t.Errorf("an outsider's proposal: %d", got.status)
	}
	if got := p.procStaff.post(agreement+"/underdatabehandlere", sub); got.status != http.StatusOK || !got.has("Foreslått – venter på godkjenning") {
		t.Fatalf("propose: %d", got.status)
	}
	subs, _ := h.db.SubProcessors(ctx, id)
	if len(subs) != 1 {
		t.Fatalf("proposals: %+v", subs)
	}
	a, _ := h.db.Agreement(ctx, id)
	if items := dpa.Annex3At(&a.Agreement, subs, h.clock.now()); len(items) != 1 {
		t.Fatalf("a pending proposal is in annex 3: %+v", items)
	}
	decide := agreement + "/underdatabehandlere/" + subs[0].ID
	if got := p.procRH.post(decide, url.Values{"steg": {"godkjenn"}}); got.status != http.StatusForbidden {
		t.Errorf("the processor approved its own proposal: %d", got.status)
	}
	if got := p.admin.post(decide, url.Values{"steg": {"avslaa"}}); got.status != http.StatusBadRequest || !got.has("Skriv begrunnelsen") {
		t.Errorf("a refusal without reasons: %d", got.status)
	}
	if got := p.admin.post(decide, url.Values{"steg": {"godkjenn"}}); got.status != http.StatusOK || !got.has("Backup AS") {
		t.Fatalf("approve: %d", got.status)
	}
	subs, _ = h.db.SubProcessors(ctx, id)
	if items := dpa.Annex3At(&a.Agreement, subs, h.clock.now()); len(items) != 2 {
		t.Fatalf("annex 3 after approval: %+v", items)
	}

	// Annex 3 as of a date before the agreement: empty.
	if got := p.admin.get(agreement + "?dato=2020-01-01"); !got.has("per 2020-01-01") || got.has(`id="vedlegg3"`) {
		t.Error("annex 3 as of a date before the agreement is not empty")
	}

	// Rule DPA-06: a sub-processor outside the EU/EEA only on the controller's instruction naming the country and the basis.
	japan := url.Values{dpa.FieldSubName: {"Sky KK"}, dpa.FieldSubOrgnr: {"JP-1234"}, dpa.FieldSubCountry: {"Japan"}, dpa.FieldSubTask: {"Lagring"}}
	if got := p.procStaff.post(agreement+"/underdatabehandlere", japan); got.status != http.StatusOK {
		t.Fatalf("propose in Japan: %d", got.status)
	}
	subs, _ = h.db.SubProcessors(ctx, id)
	decide = agreement + "/underdatabehandlere/" + subs[len(subs)-1].ID
	if got := p.admin.post(decide, url.Values{"steg": {"godkjenn"}}); got.status != http.StatusBadRequest {
		t.Fatalf("approval outside the EU/EEA without an instruction: %d", got.status)
	}
	if s, _ := h.db.SubProcessors(ctx, id); s[len(s)-1].Status != dpa.SubProposed {
		t.Fatal("a refused approval was stored")
	}
	instruction := url.Values{"steg": {"godkjenn"}, dpa.FieldTransferCountry: {"Japan"}, dpa.FieldTransferRecipient: {"Sky KK"}, dpa.FieldTransferBasis: {string(dpa.BasisAdequacy)}}
	if got := p.admin.post(decide, instruction); got.status != http.StatusOK || !got.has("Japan – Sky KK: Beslutning om tilstrekkelig beskyttelsesnivå") {
		t.Fatalf("approval with the instruction: %d", got.status)
	}

	// Rule DPA-09: the processor records an authority's request; audit reports, type-checked.
	when := formTime(h.clock.now().Add(-time.Hour))
	req := url.Values{dpa.FieldReqAuthority: {"Politiet"}, dpa.FieldReqReceivedAt: {when}, dpa.FieldReqWhat: {"Arbeidsforhold"}}
	if got := p.procStaff.post(agreement+"/foresporsler", req); got.status != http.StatusBadRequest || !got.has("Oppgi hjemmelen") {
		t.Fatalf("a request without its basis: %d", got.status)
	}
	req.Set(dpa.FieldReqBasis, "straffeprosessloven § 210")
	if got := p.admin.post(agreement+"/foresporsler", req); got.status != http.StatusForbidden {
		t.Errorf("the controller recorded the processor's request: %d", got.status)
	}
	if got := p.procStaff.post(agreement+"/foresporsler", req); got.status != http.StatusOK || !got.has("Politiet") {
		t.Fatalf("request: %d", got.status)
	}
	if ms, _ := h.db.MailTo(ctx, p.ctrl, 20); !strings.Contains(ms[0].Body, "Politiet") {
		t.Error("the controller was not told of the request")
	}
	if got := upload(t, p.procStaff, id, "rapport.pdf", []byte("<html>ikke pdf</html>")); got.status != http.StatusBadRequest {
		t.Fatalf("an HTML file as PDF: %d", got.status)
	}
	if got := upload(t, p.procStaff, id, "rapport.pdf", append([]byte("%PDF-"), make([]byte, dpa.MaxAuditFileSize+128<<10)...)); got.status != http.StatusBadRequest || !got.has("for stor") {
		t.Fatalf("a file too large: %d", got.status)
	}
	if reps, _ := h.db.AuditReports(ctx, id); len(reps) != 0 {
		t.Fatal("a refused file was stored")
	}
	pdf := []byte("%PDF-1.7\nrevisjon")
	if got := upload(t, p.procStaff, id, "rapport.pdf", pdf); got.status != http.StatusOK {
		t.Fatalf("upload: %d", got.status)
	}
	reps, _ := h.db.AuditReports(ctx, id)
	if len(reps) != 1 {
		t.Fatalf("reports: %+v", reps)
	}
	file := agreement + "/revisjonsrapporter/" + reps[0].ID
	if got := p.outsider.get(file); got.status != http.StatusNotFound {
		t.Errorf("an outsider's download: %d", got.status)
	}
	if got := p.admin.get(file); got.status != http.StatusOK || got.body != string(pdf) {
		t.Errorf("the controller's download: %d", got.status)
	}

	// Rule DPA-11: the stop order needs its reason; it suspends the delegation.
	if got := p.procRH.post(agreement+"/steg", url.Values{"steg": {"stans"}, dpa.FieldStopReason: {"Nei"}}); got.status != http.StatusForbidden {
		t.Errorf("the processor stopped: %d", got.status)
	}
	if got := p.admin.post(agreement+"/steg", url.Values{"steg": {"stans"}}); got.status != http.StatusBadRequest || !got.has("Skriv hvorfor behandlingen skal stanses") {
		t.Fatalf("a stop without reason: %d", got.status)
	}
	if a, _ := h.db.Agreement(ctx, id); a.Status != dpa.StatusActive {
		t.Fatal("a refused stop order was stored")
	}
	if got := p.admin.post(agreement+"/steg", url.Values{"steg": {"stans"}, dpa.FieldStopReason: {"Mistanke om avvik."}}); got.status != http.StatusOK || !got.has("Stanset av behandlingsansvarlig") {
		t.Fatalf("stop: %d", got.status)
	}
	ds, _ := h.db.Delegations(ctx, p.ctrl)
	if ds[0].Status != access.Suspended {
		t.Fatalf("the delegation after the stop order: %s", ds[0].Status)
	}
	// Rule SK-04: the case worker sees the delegations their agreement no longer covers; only a case worker ends one.
	if got := p.worker.get("/portal/delegeringer"); !got.has("Databehandleravtalen er ikke aktiv") || !got.has(ds[0].ID) {
		t.Error("the case worker's list lacks the delegation under a stopped agreement")
	}
	if got := p.admin.post("/portal/delegeringer/"+ds[0].ID+"/avslutt", nil); got.status != http.StatusForbidden {
		t.Errorf("the consumer ended a delegation on the case worker's page: %d", got.status)
	}
	if got := p.worker.post("/portal/delegeringer/finnes-ikke/avslutt", nil); got.status != http.StatusNotFound {
		t.Errorf("ending a made-up delegation: %d", got.status)
	}

	// Rule DPA-10: the end ends the delegation; only the processor's role holder certifies deletion.
	if got := p.admin.post(agreement+"/steg", url.Values{"steg": {"avslutt"}, dpa.FieldEndReason: {"Oppsagt."}}); got.status != http.StatusBadRequest || !got.has("slette eller tilbakelevere") {
		t.Fatalf("an end without the choice: %d", got.status)
	}
	if got := p.admin.post(agreement+"/steg", url.Values{"steg": {"avslutt"}, dpa.FieldEndReason: {"Oppsagt."}, dpa.FieldEndChoice: {"slette"}}); got.status != http.StatusOK || !got.has("Frist for sletting") {
		t.Fatalf("end: %d", got.status)
	}
	if ds, _ := h.db.Delegations(ctx, p.ctrl); ds[0].Status != access.Ended {
		t.Fatalf("the delegation after the end: %s", ds[0].Status)
	}
	h.clock.advance(2 * time.Minute) // a certificate cannot predate the end; the form gives minutes
	cert := url.Values{"steg": {"bekreft_sletting"}, dpa.FieldCertWhat: {"Alle arbeidsforhold i fagsystemet"}, dpa.FieldCertHow: {"Slettet og overskrevet"},
		dpa.FieldCertWhen: {formTime(h.clock.now())}, dpa.FieldCertBy: {"Driftsleder"}}
	if got := p.procStaff.post(agreement+"/steg", cert); got.status != http.StatusForbidden {
		t.Errorf("the processor's staff certified: %d", got.status)
	}
	if got := p.procRH.post(agreement+"/steg", cert); got.status != http.StatusBadRequest || !got.has("sikkerhetskopier") {
		t.Fatalf("a certificate without the backups: %d", got.status)
	}
	cert.Set(dpa.FieldCertBackups, "ja")
	if got := p.procRH.post(agreement+"/steg", cert); got.status != http.StatusOK || !got.has("Sletting bekreftet") {
		t.Fatalf("certificate: %d", got.status)
	}
}

// Rule DPA-07: the processor files its breach report from the agreement's
// page; it opens a breach case whose clock starts at the processor's
// awareness (Rules AV-03, AV-05), which the register's case worker sees.
func TestPortalDPABreachReport(t *testing.T) {
	h := newHarness(t)
	p := newDPAPeople(h, 8_200_011)
	a, _ := h.agreement(p.ctrl, p.proc)
	path := "/portal/databehandleravtaler/" + a.ID + "/brudd"
	aware := formTime(h.clock.now().Add(-2 * time.Hour))
	form := url.Values{dpa.FieldBreachAwareAt: {aware}, dpa.FieldBreachNature: {"Feilsendt e-post"}, dpa.FieldBreachSubjectCats: {"Arbeidstakere"},
		dpa.FieldBreachSubjects: {"10-20"}, dpa.FieldBreachRecordCats: {"Arbeidsforhold"}, dpa.FieldBreachContact: {"Per, per@leverandor.example"},
		dpa.FieldBreachConsequences: {"Opplysninger på avveie"}}
	if got := p.admin.post(path, form); got.status != http.StatusForbidden {
		t.Errorf("the controller filed the processor's report: %d", got.status)
	}
	if got := p.outsider.post(path, form); got.status != http.StatusNotFound {
		t.Errorf("an outsider's report: %d", got.status)
	}
	if got := p.procStaff.post(path, form); got.status != http.StatusBadRequest || !got.has("e) Beskriv tiltakene") || !got.has("Feilsendt e-post") {
		t.Fatalf("a report without e): %d", got.status)
	}
	form.Set(dpa.FieldBreachMeasures, "Mottaker har slettet e-posten")
	got := p.procStaff.post(path, form)
	if got.status != http.StatusOK || !strings.Contains(got.url, "/portal/avvik/") {
		t.Fatalf("report: %d %s", got.status, got.url)
	}
	caseID := got.url[strings.LastIndex(got.url, "/")+1:]
	c, err := h.db.Incident(context.Background(), caseID)
	if err != nil || !c.Report.ByProcessor || c.Report.ProcessorAwareAt.Format("2006-01-02T15:04") != formTime(h.clock.now().Add(-2*time.Hour)) {
		t.Fatalf("the case: %v %+v", err, c.Report)
	}
	if pg := p.worker.get("/portal/avvik/" + caseID); pg.status != http.StatusOK || !pg.has("Feilsendt e-post") {
		t.Fatalf("the case worker's view: %d", pg.status)
	}
}

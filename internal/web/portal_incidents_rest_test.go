package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"deling/internal/access"
	"deling/internal/governance"
	"deling/internal/incident"
	"deling/internal/token/authserver"
)

// noticeHash finds the preview's hash of the notice in a page.
var noticeHash = regexp.MustCompile(`name="varsel_sha256" value="([0-9a-f]{64})"`)

// noticeVersion finds the case version the preview was made at.
var noticeVersion = regexp.MustCompile(`name="versjon" value="([0-9]+)"`)

// Rules AV-02, AV-06, AV-08, AA-22: from a breach case a case worker stops
// one API client — refused for another organisation's client and for the
// DPO, leaving everything unchanged — and the client's existing token and
// its next token request are refused while its organisation's other client
// works; the case worker resumes it. The case worker writes the notice for
// the persons (art. 34(2), capped), previews it as they will see it and
// starts the job from the preview only; the job notifies the persons the
// lookup log lists, each by itself (e-mail to those with an address in the
// portal), with its progress on the case page, and they see the notice on
// their own page; the case closes only after the job finished and, for the
// person without an address, a public notice is published (art. 34(3)(c));
// the consumers get a letter; after closing, the follow-up with lessons, a
// review date and actions with owners and due dates finishes the case.
// Others are refused without learning anything, and bad input changes nothing.
func TestIncidentClientStopNoticesFollowUp(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	a, _ := h.consumer("Klientkommune", grant(basic, access.ByArbeidstaker))
	h.lifeContact(a, "Kari Kontakt", "kari@klientkommune.test", governance.ContactAdministrative)
	b, _ := h.consumer("Annenkommune", grant(basic, access.ByArbeidstaker))
	stolen, spare, others := h.client(a), h.client(a), h.client(b)
	tok, spareTok := h.token(stolen), h.token(spare)
	ps := h.employed(3)
	for _, p := range ps[:2] {
		if r := h.person(tok, p.Ident, ""); r.status != http.StatusOK {
			t.Fatalf("lookup: %d", r.status)
		}
	}
	personEmail := h.account(governance.Person, "", ps[0].Ident) // ps[1] has no address in the portal
	bystander := h.signIn(h.account(governance.Person, "", ps[2].Ident))

	reporter := h.signIn(h.account(governance.Administrator, a, ""))
	id := caseID(t, reporter.post("/portal/avvik/ny", url.Values{"hva": {"Klientnøkkel lå i et offentlig repo"}, "oppdaget": {formTime(h.clock.now())}}))
	cw := h.signIn(h.account(governance.Saksbehandler, governance.AuthorityOrg, ""))
	dpo := h.signIn(h.account(governance.Personvernombud, governance.AuthorityOrg, ""))
	outsider := h.signIn(h.account(governance.Administrator, b, ""))
	cw.post("/portal/avvik/"+id+"/ta", nil)

	// Rule AV-02: stopping one client.
	stop := func(u *browserless, client string) page {
		return u.post("/portal/avvik/"+id+"/tiltak", url.Values{"tiltak": {"stanse_tilgang"}, "utfort": {"ja"}, "tiltak_merknad": {"Stanset klienten med nøkkelen"}, "klient": {client}})
	}
	version := func() int { c, _ := h.db.Incident(ctx, id); return c.Version }
	v0 := version()
	for _, client := range []string{others.ClientID, "finnes-ikke"} {
		if g := stop(cw, client); g.status != http.StatusBadRequest || !g.has("bare stanse klienter") || !g.has(`value="`+client+`"`) {
			t.Fatalf("stop %s: %d", client, g.status)
		}
	}
	if g := stop(dpo, stolen.ClientID); g.status != http.StatusForbidden {
		t.Fatalf("the DPO stops a client: %d", g.status)
	}
	if g := stop(outsider, stolen.ClientID); g.status != http.StatusForbidden || g.has("Klientnøkkel") {
		t.Fatalf("another organisation stops a client: %d", g.status)
	}
	if version() != v0 {
		t.Fatal("a refused stop changed the case")
	}
	if r := h.person(h.token(others), ps[0].Ident, ""); r.status != http.StatusOK {
		t.Fatalf("the other organisation's client: %d", r.status)
	}
	if g := stop(cw, stolen.ClientID); g.status != http.StatusOK || !g.has("Tiltaket er registrert") || !g.has("klient "+stolen.ClientID) {
		t.Fatalf("stop: %d", g.status)
	}
	// The token it holds is refused on its next call, and it gets no new one; the organisation's other client works.
	if r := h.person(tok, ps[0].Ident, ""); r.status != http.StatusForbidden {
		t.Fatalf("the stopped client's call: %d", r.status)
	}
	if _, err := authserver.RequestToken(ctx, stolen, h.srv.Client()); err == nil {
		t.Fatal("the stopped client got a token")
	}
	if r := h.person(spareTok, ps[0].Ident, ""); r.status != http.StatusOK {
		t.Fatalf("the organisation's other client: %d", r.status)
	}
	if g := reporter.post("/portal/avvik/"+id+"/gjenoppta-klient", url.Values{"klient": {stolen.ClientID}}); g.status != http.StatusForbidden {
		t.Fatalf("the reporter resumes: %d", g.status)
	}
	if g := cw.post("/portal/avvik/"+id+"/gjenoppta-klient", url.Values{"klient": {others.ClientID}}); g.status != http.StatusNotFound {
		t.Fatalf("resuming a client the case did not stop: %d", g.status)
	}
	if g := cw.post("/portal/avvik/"+id+"/gjenoppta-klient", url.Values{"klient": {stolen.ClientID}}); !g.has("har tilgang igjen") {
		t.Fatalf("resume: %d", g.status)
	}
	if r := h.person(h.token(stolen), ps[0].Ident, ""); r.status != http.StatusOK {
		t.Fatalf("the resumed client: %d", r.status)
	}

	// Who was affected, from the log; then assess and decide to tell the persons.
	h.checkpoint()
	g := cw.post("/portal/avvik/"+id+"/berorte", url.Values{"berort_konsument": {a}})
	m := resultLink.FindStringSubmatch(g.url)
	if m == nil {
		t.Fatalf("compute: %d", g.status)
	}
	computation := m[1]
	cw.post("/portal/avvik/"+id+"/risiko", assessForm())
	if g := cw.post("/portal/avvik/"+id+"/beslutning", url.Values{"melde_datatilsynet": {"ja"}, "begrunnelse": {"Høy risiko"},
		"varsle_berorte": {"varsle"}, "begrunnelse_berorte": {"Inntekt kan ha kommet på avveie"}}); !g.has("Beslutningen er registrert") {
		t.Fatalf("decide: %d", g.status)
	}
	if g := cw.post("/portal/avvik/"+id+"/melding", url.Values{"fase": {"forste"}, "art": {"En klientnøkkel ble offentlig"},
		"kategorier_registrerte": {"arbeidstakere"}, "kategorier_opplysninger": {"arbeidsforhold"}, "kontakt_navn": {"Personvernombudet"},
		"konsekvenser": {"Uvedkommende kan ha hentet arbeidsforhold"}, "tiltak_beskrivelse": {"Klienten ble stanset og nøkkelen byttet"}}); !g.has("Første melding") {
		t.Fatalf("filing: %d", g.status)
	}
	// Rule AV-06: the notice is written for the persons, every part of art. 34(2) required and capped.
	if p := cw.get("/portal/avvik/" + id); !p.has("Forhåndsvis varselet") || !p.has(`name="varsel_kontakt" rows="3">Personvernombudet</textarea>`) {
		t.Fatalf("the case page's notice form, with the filing's contact point: %d", p.status)
	}
	notify := url.Values{"beregning": {computation}, "varsel_hva": {"En nøkkel som ga tilgang til arbeidsforhold, ble liggende åpent på internett."},
		"varsel_konsekvenser": {"Noen kan ha sett hvor du jobber og hvor mye du tjener."}, "varsel_tiltak": {"Vi stanset nøkkelen samme dag."},
		"varsel_rad": {"Vær oppmerksom på henvendelser som gjelder arbeidsforholdet ditt."}, "varsel_kontakt": {"Personvernombudet, pvo@register.test"}}
	with := func(k, v string) url.Values {
		out := url.Values{}
		for key, vs := range notify {
			out[key] = vs
		}
		out.Set(k, v)
		return out
	}
	vNotify := version()
	if g := cw.post("/portal/avvik/"+id+"/varsle-berorte/forhandsvis", with("varsel_konsekvenser", " ")); g.status != http.StatusBadRequest || !g.has("Skriv hva bruddet kan bety for personen") {
		t.Fatalf("a notice without consequences: %d", g.status)
	}
	if g := cw.post("/portal/avvik/"+id+"/varsle-berorte/forhandsvis", with("varsel_tiltak", strings.Repeat("x", 2001))); g.status != http.StatusBadRequest || !g.has("Teksten er for lang (høyst 2000 tegn)") {
		t.Fatalf("a notice too long: %d", g.status)
	}
	if g := cw.post("/portal/avvik/"+id+"/varsle-berorte/forhandsvis", with("beregning", "FINNESIKKE")); g.status != http.StatusBadRequest || !g.has("Velg en beregning") {
		t.Fatalf("an unknown computation: %d", g.status)
	}
	// The preview: the notice exactly as the person's page shows it, and the button that starts.
	pv := cw.post("/portal/avvik/"+id+"/varsle-berorte/forhandsvis", notify)
	m = noticeHash.FindStringSubmatch(pv.body)
	if pv.status != http.StatusOK || m == nil || !pv.has("Start varslingen") || !pv.has("Hva har skjedd?\nEn nøkkel som ga tilgang") || !pv.has("Hvem kan du kontakte?\nPersonvernombudet, pvo@register.test") {
		t.Fatalf("preview: %d", pv.status)
	}
	start := with("varsel_sha256", m[1])
	start.Set("versjon", noticeVersion.FindStringSubmatch(pv.body)[1])
	// Rule AV-06: the hash is keyed by the server per session: the same text previewed by another case worker has
	// another hash, which does not start the job in this session.
	cw2 := h.signIn(h.account(governance.Saksbehandler, governance.AuthorityOrg, ""))
	other := noticeHash.FindStringSubmatch(cw2.post("/portal/avvik/"+id+"/varsle-berorte/forhandsvis", notify).body)
	if other == nil || other[1] == m[1] {
		t.Fatal("the hash is the same in another session")
	}
	forged := with("varsel_sha256", other[1])
	forged.Set("versjon", start.Get("versjon"))
	if g := cw.post("/portal/avvik/"+id+"/varsle-berorte", forged); g.status != http.StatusBadRequest {
		t.Fatalf("another session's hash: %d", g.status)
	}
	// The version previewed goes with it: another version than previewed is shown again.
	if older := with("varsel_sha256", m[1]); true {
		older.Set("versjon", fmt.Sprint(vNotify-1))
		if g := cw.post("/portal/avvik/"+id+"/varsle-berorte", older); g.status != http.StatusBadRequest {
			t.Fatalf("another version than previewed: %d", g.status)
		}
	}
	// Not previewed, or changed after the preview: the preview again, nothing started.
	if g := cw.post("/portal/avvik/"+id+"/varsle-berorte", notify); g.status != http.StatusBadRequest || !g.has("Se over varselet slik det blir sendt") {
		t.Fatalf("a start without a preview: %d", g.status)
	}
	changed := with("varsel_sha256", m[1])
	changed.Set("varsel_tiltak", "Noe annet")
	if g := cw.post("/portal/avvik/"+id+"/varsle-berorte", changed); g.status != http.StatusBadRequest || !g.has("Noe annet") {
		t.Fatalf("a start with another text than previewed: %d", g.status)
	}
	if g := reporter.post("/portal/avvik/"+id+"/varsle-berorte", start); g.status != http.StatusForbidden {
		t.Fatalf("the reporter notifies: %d", g.status)
	}
	if jobs, _ := h.db.IncidentNotifyJobs(ctx, id); len(jobs) != 0 || version() != vNotify {
		t.Fatal("a refused start changed the case")
	}
	// Rules AV-06, AV-07: a case decided on telling the persons does not close before they are told; the page says why.
	if g := cw.post("/portal/avvik/"+id+"/lukk", nil); !g.has("kan ikke lukkes ennå") || !g.has("Varsle de 2 berørte i beregning") {
		t.Fatalf("closed before the persons were told: %d", g.status)
	}
	before, _ := h.db.PendingMail(ctx, 1000, 5)
	g = cw.post("/portal/avvik/"+id+"/varsle-berorte", start)
	if !g.has("Varslingen av 2 berørte personer er startet") || !g.has("0 av 2 varslet (0 nye, 0 allerede varslet), pågår") || !g.has("Før saken kan lukkes") || !g.has("ikke ferdig (0 av 2)") {
		t.Fatalf("start: %d", g.status)
	}
	if p := cw.get("/portal/avvik/" + id); p.has("Forhåndsvis varselet") {
		t.Fatal("a second job can be started while one runs")
	}
	// The job (serve runs it on the leading node): one batch of one, then the rest.
	if n, err := h.db.RunIncidentNotices(ctx, 1, 1); err != nil || n != 1 {
		t.Fatalf("first batch: %d, %v", n, err)
	}
	if p := cw.get("/portal/avvik/" + id); !p.has("1 av 2 varslet (1 nye, 0 allerede varslet), pågår") {
		t.Fatalf("progress: %d", p.status)
	}
	if n, err := h.db.RunIncidentNotices(ctx, 1, 0); err != nil || n != 1 {
		t.Fatalf("the rest: %d, %v", n, err)
	}
	g = cw.get("/portal/avvik/" + id)
	if !g.has("2 av 2 varslet (2 nye, 0 allerede varslet), ferdig") || !g.has("Varslet: 1 på e-post, 1 bare i portalen") {
		t.Fatalf("finished: %d", g.status)
	}
	for _, p := range ps {
		if g.has(p.Ident) || strings.Contains(g.url, p.Ident) {
			t.Fatal("the case page names a person")
		}
	}
	after, _ := h.db.PendingMail(ctx, 1000, 5)
	var notice string
	for _, l := range after[len(before):] {
		if l.To == personEmail && notice == "" {
			notice = l.Body
		} else {
			t.Fatalf("an unexpected letter to %s", l.To)
		}
	}
	// The art. 34(2) content as written for the persons, not the filing's text.
	for _, want := range []string{"Hva har skjedd?\nEn nøkkel som ga tilgang", "Noen kan ha sett hvor du jobber", "Vi stanset nøkkelen samme dag",
		"Hva kan du gjøre?\nVær oppmerksom", "Hvem kan du kontakte?\nPersonvernombudet, pvo@register.test"} {
		if !strings.Contains(notice, want) || strings.Contains(notice, "En klientnøkkel ble offentlig") {
			t.Fatalf("the notice lacks %q or copies the filing:\n%s", want, notice)
		}
	}
	// Again: nobody twice.
	pv = cw.post("/portal/avvik/"+id+"/varsle-berorte/forhandsvis", notify)
	again := with("varsel_sha256", noticeHash.FindStringSubmatch(pv.body)[1])
	again.Set("versjon", noticeVersion.FindStringSubmatch(pv.body)[1])
	cw.post("/portal/avvik/"+id+"/varsle-berorte", again)
	if _, err := h.db.RunIncidentNotices(ctx, 1, 0); err != nil {
		t.Fatal(err)
	}
	if again, _ := h.db.PendingMail(ctx, 1000, 5); len(again) != len(after) {
		t.Fatal("a person was notified twice")
	}
	// Rule AV-06: the second job says what it did: nobody new (not "all notified").
	if g := cw.get("/portal/avvik/" + id); !g.has("2 av 2 varslet (0 nye, 2 allerede varslet), ferdig") || !g.has("ferdig: 0 nye, 2 allerede varslet") {
		t.Fatalf("the second job's progress and history: %d", g.status)
	}
	// The person sees it on their own page, as previewed; a person not affected sees none.
	if p := h.signIn(personEmail).get("/portal/avviksvarsler"); !p.has("Brudd på sikkerheten rundt personopplysninger om deg") || !p.has("Hva har skjedd?\nEn nøkkel som ga tilgang") {
		t.Fatalf("the person's page: %d", p.status)
	}
	if p := bystander.get("/portal/avviksvarsler"); p.has("En nøkkel som ga") || !p.has("Du har ingen varsler") {
		t.Fatalf("a person not affected: %d", p.status)
	}
	if p := reporter.get("/portal/avviksvarsler"); p.status != http.StatusForbidden {
		t.Fatalf("an organisation's user on the persons' page: %d", p.status)
	}
	// Rule AV-06: one person has no address in the portal: the case needs a public notice (art. 34(3)(c)).
	if g := cw.post("/portal/avvik/"+id+"/lukk", nil); !g.has("kan ikke lukkes ennå") || !g.has("1 berørte har ingen adresse i portalen") {
		t.Fatalf("closed with a person only told on their page: %d", g.status)
	}
	if g := cw.post("/portal/avvik/"+id+"/offentlig-kunngjoring", url.Values{"kunngjoring": {strings.Repeat("x", 4001)}}); g.status != http.StatusBadRequest || !g.has("høyst 4000 tegn") {
		t.Fatalf("a public notice too long: %d", g.status)
	}
	if g := reporter.post("/portal/avvik/"+id+"/offentlig-kunngjoring", url.Values{"kunngjoring": {"x"}}); g.status != http.StatusForbidden {
		t.Fatalf("the reporter publishes: %d", g.status)
	}
	if g := cw.post("/portal/avvik/"+id+"/offentlig-kunngjoring", url.Values{"kunngjoring": {"Har du vært ansatt hos Klientkommune, kan opplysninger om deg ha kommet på avveie."}}); !g.has("Kunngjøringen er publisert") {
		t.Fatalf("public notice: %d", g.status)
	}
	if p := cw.get("/driftsmeldinger"); !p.has("Har du vært ansatt hos Klientkommune") {
		t.Fatalf("the public notices page: %d", p.status)
	}

	// Rule AA-22: the consumers in the computation get a letter, to their contacts.
	if g := cw.post("/portal/avvik/"+id+"/brev-konsumenter", url.Values{"beregning": {computation}}); g.status != http.StatusBadRequest || !g.has("Skriv hva konsumentene skal vite") {
		t.Fatalf("a letter without text: %d", g.status)
	}
	if g := cw.post("/portal/avvik/"+id+"/brev-konsumenter", url.Values{"beregning": {computation}, "brevtekst": {"Bytt nøklene til alle klientene deres."}}); !g.has("kontaktpersonene hos 1 konsumenter") {
		t.Fatalf("letters: %d", g.status)
	}
	if mails, _ := h.db.MailTo(ctx, a, 10); len(mails) == 0 || mails[0].Kind != "incident.consumer" || !strings.Contains(mails[0].Body, "Bytt nøklene") {
		t.Fatalf("consumer letter: %+v", mails)
	}

	// Rule AV-08: close, then the follow-up.
	if g := cw.post("/portal/avvik/"+id+"/lukk", nil); !g.has("Saken er lukket") {
		t.Fatalf("close: %d", g.status)
	}
	due := formTime(h.clock.now().AddDate(0, 1, 0))
	item := url.Values{"omrade": {"systemer"}, "funn": {"Nøkkelen lå i koden"}, "oppfolgingstiltak": {"Hemmelighetsskanning i CI"}, "ansvarlig": {"IT-sjefen"}, "frist": {due}}
	v1 := version()
	for _, drop := range []string{"ansvarlig", "frist"} {
		bad := url.Values{}
		for k, v := range item {
			bad[k] = v
		}
		bad.Del(drop)
		if g := cw.post("/portal/avvik/"+id+"/oppfolging", bad); g.status != http.StatusBadRequest || !g.has(`href="#f-`+drop+`"`) || !g.has("Hemmelighetsskanning i CI") {
			t.Fatalf("an item without %s: %d", drop, g.status)
		}
	}
	if g := cw.post("/portal/avvik/"+id+"/laerdom", url.Values{"laerdom": {"Nøkler skal ikke i kode"}, "evaluering": {formTime(h.clock.now().AddDate(0, 0, -1))}}); g.status != http.StatusBadRequest || !g.has("Evalueringen må være frem i tid") {
		t.Fatalf("a review date passed: %d", g.status)
	}
	if g := reporter.post("/portal/avvik/"+id+"/oppfolging", item); g.status != http.StatusForbidden {
		t.Fatalf("the reporter adds follow-up: %d", g.status)
	}
	if version() != v1 {
		t.Fatal("refused follow-up changed the case")
	}
	if g := cw.post("/portal/avvik/"+id+"/oppfolging", item); !g.has("Oppfølgingstiltaket er registrert") || !g.has("IT-sjefen") {
		t.Fatalf("item: %d", g.status)
	}
	if g := cw.post("/portal/avvik/"+id+"/laerdom", url.Values{"laerdom": {"Nøkler skal ikke i kode"}, "evaluering": {due}}); !g.has("Læringen og evalueringsdatoen er registrert") {
		t.Fatalf("lessons: %d", g.status)
	}
	if p := reporter.get("/portal/avvik/" + id); p.has("IT-sjefen") || p.has("Nøkler skal ikke i kode") {
		t.Fatal("the reporter sees the register's follow-up")
	}
	if g := cw.post("/portal/avvik/"+id+"/oppfolging/0/utfort", nil); !g.has("merket som utført") || !g.has(incident.StatusFollowedUp.Label()) {
		t.Fatalf("done: %d", g.status)
	}
	if g := cw.post("/portal/avvik/"+id+"/oppfolging/0/utfort", nil); g.status != http.StatusNotFound {
		t.Fatalf("done twice: %d", g.status)
	}
	// Rule AV-07: every step is in the log.
	want := "meld,vurder,tiltak,gjenoppta,berorte,risikovurdering,besluttet_melde,send_forste_melding,varsle_berorte,varsling_fullfort,varsle_berorte,varsling_fullfort,offentlig_kunngjoring,brev_konsumenter,lukk,oppfolging,oppfolging,oppfolging_fullfort"
	if got := strings.Join(h.incidentSteps(id), ","); got != want {
		t.Fatalf("log steps %s", got)
	}
}

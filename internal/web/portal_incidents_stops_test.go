package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"deling/internal/access"
	"deling/internal/dpa"
	"deling/internal/governance"
	"deling/internal/incident"
	"deling/internal/store"
)

// Rules AV-02, AA-25, AA-22: two cases stop the same client; the
// first to resume leaves it stopped (the page says so) and the second
// resumes it; the consumer gets a letter on the stop and on the resumption.
// The stopped client's key cannot be registered again under a new client id.
// The letters to the affected consumers each state that consumer's own
// count, go once per phase (a second submit says so and sends nothing) and
// refuse a text over 8,000 characters, leaving everything unchanged.
func TestIncidentStopHoldsAndConsumerLetters(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	a, _ := h.consumer("Holdekommune", grant(basic, access.ByArbeidstaker))
	h.lifeContact(a, "Kari Kontakt", "kari@holdekommune.test", governance.ContactAdministrative)
	b, _ := h.consumer("Brevkommune", grant(basic, access.ByArbeidstaker))
	h.lifeContact(b, "Bjørn Kontakt", "bjorn@brevkommune.test", governance.ContactAdministrative)
	stolen, clientB := h.client(a), h.client(b)
	ps := h.employed(3)
	from := h.clock.now()
	tokA, tokB := h.token(stolen), h.token(clientB)
	for _, p := range ps[:2] {
		if r := h.person(tokA, p.Ident, ""); r.status != http.StatusOK {
			t.Fatalf("lookup: %d", r.status)
		}
	}
	if r := h.person(tokB, ps[2].Ident, ""); r.status != http.StatusOK {
		t.Fatalf("lookup: %d", r.status)
	}
	reporter := h.signIn(h.account(governance.Administrator, a, ""))
	cw := h.signIn(h.account(governance.Saksbehandler, governance.AuthorityOrg, ""))
	first := caseID(t, reporter.post("/portal/avvik/ny", url.Values{"hva": {"Nøkkel på avveie"}, "oppdaget": {formTime(h.clock.now())}}))
	second := caseID(t, reporter.post("/portal/avvik/ny", url.Values{"hva": {"Samme nøkkel, ny hendelse"}, "oppdaget": {formTime(h.clock.now())}}))
	stop := func(id string) page {
		cw.post("/portal/avvik/"+id+"/ta", nil)
		return cw.post("/portal/avvik/"+id+"/tiltak", url.Values{"tiltak": {"stanse_tilgang"}, "utfort": {"ja"}, "tiltak_merknad": {"Stanset klienten"}, "klient": {stolen.ClientID}})
	}
	resume := func(id string) page {
		return cw.post("/portal/avvik/"+id+"/gjenoppta-klient", url.Values{"klient": {stolen.ClientID}})
	}
	mails := func(org string) []governance.Letter { m, _ := h.db.MailTo(ctx, org, 100); return m }
	if g := stop(first); !g.has("Tiltaket er registrert") || !g.has("Gjenoppta klienten "+stolen.ClientID) {
		t.Fatalf("stop from the first case: %d", g.status)
	}
	// Rule AA-25: the consumer is told in writing.
	if m := mails(a); len(m) == 0 || m[0].Kind != governance.LetterSuspension || !strings.Contains(m[0].Body, stolen.ClientID) {
		t.Fatalf("the stop's letter: %+v", m)
	}
	if g := stop(second); !g.has("Tiltaket er registrert") || !g.has("Gjenoppta klienten "+stolen.ClientID) {
		t.Fatalf("stop from the second case: %d", g.status)
	}
	// Rule AV-02: the stopped client's key does not come back under a new client id.
	cl, err := h.db.Client(ctx, stolen.ClientID)
	if err != nil || len(cl.Keys) != 1 {
		t.Fatalf("client: %v", err)
	}
	jwk, err := cl.Keys[0].JWK()
	if err != nil {
		t.Fatal(err)
	}
	before, _ := h.db.Clients(ctx, a)
	dev := h.signIn(h.account(governance.Utvikler, a, ""))
	if g := dev.post("/portal/klienter", url.Values{"type": {"jwk"}, "nokkel": {string(jwk)}}); g.status != http.StatusBadRequest || !g.has("stanset etter et avvik") {
		t.Fatalf("the stopped key registered anew: %d", g.status)
	}
	if after, _ := h.db.Clients(ctx, a); len(after) != len(before) {
		t.Fatal("a refused client was stored")
	}
	// Rule AV-02: the first case resumes; the second still holds the stop.
	letters := len(mails(a))
	if g := resume(first); !g.has("fortsatt stanset") || g.has("Gjenoppta klienten "+stolen.ClientID) {
		t.Fatalf("resume from the first case: %d", g.status)
	}
	if r := h.person(tokA, ps[0].Ident, ""); r.status != http.StatusForbidden {
		t.Fatalf("the client after the first case resumed: %d", r.status)
	}
	if len(mails(a)) != letters {
		t.Fatal("a resumption letter while the client is still stopped")
	}
	if g := resume(second); !g.has("har tilgang igjen") {
		t.Fatalf("resume from the second case: %d", g.status)
	}
	if r := h.person(h.token(stolen), ps[0].Ident, ""); r.status != http.StatusOK {
		t.Fatalf("the client after both resumed: %d", r.status)
	}
	if m := mails(a); m[0].Kind != governance.LetterResumption {
		t.Fatalf("the resumption letter: %+v", m[0])
	}

	// Rule AA-22: one computation over both consumers' lookups (3 persons in 4 lookups);
	// each letter has its own count: a's 2 persons in 3 lookups (ps[0] twice), b's 1 in 1.
	h.checkpoint()
	g := cw.post("/portal/avvik/"+first+"/berorte", url.Values{"berort_fra": {formTime(from.Add(-2 * 60e9))}})
	m := resultLink.FindStringSubmatch(g.url)
	if m == nil {
		t.Fatalf("compute: %d", g.status)
	}
	letter := url.Values{"beregning": {m[1]}, "brevfase": {"forste"}, "brevtekst": {"Bytt nøklene."}}
	version := func() int { c, _ := h.db.Incident(ctx, first); return c.Version }
	v0, na, nb := version(), len(mails(a)), len(mails(b))
	long := url.Values{"beregning": {m[1]}, "brevfase": {"forste"}, "brevtekst": {strings.Repeat("æ", 8001)}}
	if g := cw.post("/portal/avvik/"+first+"/brev-konsumenter", long); g.status != http.StatusBadRequest || !g.has("Teksten er for lang: 8001 tegn, høyst 8000") {
		t.Fatalf("a text over 8,000 characters: %d", g.status)
	}
	if version() != v0 || len(mails(a)) != na || len(mails(b)) != nb {
		t.Fatal("a refused letter changed something")
	}
	if g := cw.post("/portal/avvik/"+first+"/brev-konsumenter", letter); !g.has("kontaktpersonene hos 2 konsumenter") {
		t.Fatalf("letters: %d", g.status)
	}
	for org, want := range map[string]string{a: "berører 2 personer i 3 av virksomhetens oppslag", b: "berører 1 personer i 1 av virksomhetens oppslag"} {
		if m := mails(org); len(m) == 0 || m[0].Kind != "incident.consumer" || !strings.Contains(m[0].Body, want) {
			t.Fatalf("the letter to %s lacks %q: %+v", org, want, m)
		}
	}
	v1, na, nb := version(), len(mails(a)), len(mails(b))
	if g := cw.post("/portal/avvik/"+first+"/brev-konsumenter", letter); !g.has("allerede sendt") {
		t.Fatalf("a second submit: %d", g.status)
	}
	if version() != v1 || len(mails(a)) != na || len(mails(b)) != nb {
		t.Fatal("a second submit sent letters again")
	}
}

// Rule AV-02 (issue 12): a processor's case offers, for stopping access,
// the consumers the processor acts for — never the processor's own orgnr as
// if it were a consumer.
func TestProcessorCaseStopChoices(t *testing.T) {
	h := newHarness(t)
	consumer, _ := h.consumer("Oppdragskommune", grant(basic, access.ByArbeidstaker))
	processorOrg := string(syntheticOrg(8_100_011))
	h.delegate(consumer, processorOrg)
	proc := h.signIn(h.account(governance.Databehandler, processorOrg, ""))
	cw := h.signIn(h.account(governance.Saksbehandler, governance.AuthorityOrg, ""))
	now := h.clock.now()
	id := caseID(t, proc.post("/portal/avvik/ny", url.Values{"hva": {"Feil mottaker"}, "oppdaget": {formTime(now.Add(-2 * 3600e9))},
		"databehandler_kjent": {formTime(now.Add(-3600e9))}}))
	g := cw.post("/portal/avvik/"+id+"/ta", nil)
	if !g.has(fmt.Sprintf(`<option value="%s">Oppdragskommune (org.nr. %s)</option>`, consumer, consumer)) {
		t.Fatalf("the consumer the processor acts for is not offered: %d", g.status)
	}
	if g.has(`<option value="`+processorOrg+`"`) || g.has(`name="konsument" value="`+processorOrg) {
		t.Fatal("the processor is offered as a consumer")
	}
}

// Rule AA-18: a support answer cannot be overwritten (a clear message, the
// first answer kept), an unknown case is 404, and the reporter gets the
// answer by e-mail.
func TestSupportAnswerOncePage(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	org, _ := h.consumer("Støttekommune", grant(basic, access.ByArbeidstaker))
	email := h.account(governance.Administrator, org, "")
	user := h.signIn(email)
	user.post("/portal/support", url.Values{"type": {"endring"}, "tittel": {"Nytt felt"}, "beskrivelse": {"Yrkeskode"}})
	cases, _ := h.db.SupportCases(ctx, org)
	if len(cases) != 1 {
		t.Fatalf("%d cases", len(cases))
	}
	cw := h.signIn(h.account(governance.Saksbehandler, governance.AuthorityOrg, ""))
	if g := cw.post("/portal/support/"+cases[0].ID+"/svar", url.Values{"svar": {"Kommer i neste versjon."}}); !g.has("Svaret er lagret") {
		t.Fatalf("answer: %d", g.status)
	}
	if g := cw.post("/portal/support/"+cases[0].ID+"/svar", url.Values{"svar": {"Overskrevet"}}); !g.has("allerede besvart") {
		t.Fatalf("a second answer: %d", g.status)
	}
	if cases, _ = h.db.SupportCases(ctx, org); cases[0].Answer != "Kommer i neste versjon." {
		t.Fatalf("the answer: %q", cases[0].Answer)
	}
	if g := cw.post("/portal/support/finnes-ikke/svar", url.Values{"svar": {"x"}}); g.status != http.StatusNotFound {
		t.Fatalf("an unknown case: %d", g.status)
	}
	pending, _ := h.db.PendingMail(ctx, 100, 5)
	n := 0
	for _, l := range pending {
		if l.To == email && strings.Contains(l.Body, "Kommer i neste versjon.") {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("the reporter got %d e-mails with the answer", n)
	}
}

// Rule AV-02: a consumer suspended from a case stays suspended when the
// consumer's page resumes it; the case's own resumption, offered on the
// case page, resumes it.
func TestIncidentConsumerResumeFromCase(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	consumer, _ := h.consumer("Suspensjonskommune", grant(basic, access.ByArbeidstaker))
	h.lifeContact(consumer, "Kari Kontakt", "kari@suspensjon.test", governance.ContactAdministrative)
	reporter := h.signIn(h.account(governance.Administrator, consumer, ""))
	cw := h.signIn(h.account(governance.Saksbehandler, governance.AuthorityOrg, ""))
	id := caseID(t, reporter.post("/portal/avvik/ny", url.Values{"hva": {"Liste på avveie"}, "oppdaget": {formTime(h.clock.now())}}))
	cw.post("/portal/avvik/"+id+"/ta", nil)
	g := cw.post("/portal/avvik/"+id+"/tiltak", url.Values{"tiltak": {"stanse_tilgang"}, "utfort": {"ja"}, "tiltak_merknad": {"Stanset"}, "konsument": {consumer}})
	if !g.has("Tilgangen er suspendert") || !g.has("Gjenoppta konsumenten "+consumer) {
		t.Fatalf("suspend from the case: %d", g.status)
	}
	active := func() bool {
		gs, _ := h.db.Grants(ctx, consumer)
		return len(gs) > 0 && gs[0].Status == access.Active
	}
	if g := cw.post("/portal/konsumenter/"+consumer+"/gjenoppta", nil); !g.has("fortsatt suspendert") || active() {
		t.Fatalf("the consumer page resumes what the case holds: %d", g.status)
	}
	if g := cw.post("/portal/avvik/"+id+"/gjenoppta-konsument", url.Values{"konsument": {consumer}}); !g.has("er gjenopptatt") || !active() {
		t.Fatalf("resume from the case: %d", g.status)
	}
	if m, _ := h.db.MailTo(ctx, consumer, 10); len(m) == 0 || m[0].Kind != governance.LetterResumption {
		t.Fatalf("the resumption letter: %+v", m)
	}
}

// Rule AV-02, DPA-07: on a processor's breach case under an agreement, the
// stop choices are the agreement's controller only, not every consumer the
// processor acts for; the controller sees neither the measures' targets nor
// the notes of resumptions and letters (other consumers' orgnrs and client
// ids), which the case worker sees.
func TestProcessorCaseStopChoicesController(t *testing.T) {
	h := newHarness(t)
	p := newDPAPeople(h, 8_400_015)
	_, a, _ := h.delegate(p.ctrl, p.proc)
	third, _ := h.consumer("Tredje kommune", grant(basic, access.ByArbeidstaker))
	h.delegate(third, p.proc)
	form := url.Values{dpa.FieldBreachAwareAt: {formTime(h.clock.now().Add(-2 * time.Hour))}, dpa.FieldBreachNature: {"Feilsendt e-post"},
		dpa.FieldBreachSubjectCats: {"Arbeidstakere"}, dpa.FieldBreachRecordCats: {"Arbeidsforhold"}, dpa.FieldBreachContact: {"Per"},
		dpa.FieldBreachConsequences: {"Opplysninger på avveie"}, dpa.FieldBreachMeasures: {"Slettet hos mottaker"}}
	got := p.procStaff.post("/portal/databehandleravtaler/"+a.ID+"/brudd", form)
	if got.status != http.StatusOK || !strings.Contains(got.url, "/portal/avvik/") {
		t.Fatalf("report: %d %s", got.status, got.url)
	}
	path := got.url[strings.Index(got.url, "/portal/avvik/"):]
	id := strings.TrimPrefix(path, "/portal/avvik/")
	g := p.worker.post(path+"/ta", nil)
	if !g.has(fmt.Sprintf(`<option value="%s">`, p.ctrl)) || g.has(fmt.Sprintf(`<option value="%s">`, third)) {
		t.Fatalf("stop choices on a case under an agreement: %d", g.status)
	}
	c, err := h.db.Incident(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.db.ChangeIncident(t.Context(), id, c.Version, store.IncidentChange{Step: store.StepResume, Status: c.Status, Owner: c.Owner, AwareAt: c.AwareAt,
		Note: "Klient hemmelig-klient-" + third + " gjenopptatt fra saken"}, "user:cw"); err != nil {
		t.Fatal(err)
	}
	if pg := p.worker.get(path); !pg.has("hemmelig-klient-" + third) {
		t.Fatal("the case worker does not see the resumption's note")
	}
	if pg := p.admin.get(path); pg.status != http.StatusOK || pg.has("hemmelig-klient") || pg.has(third) {
		t.Fatalf("the controller sees another consumer's client: %d", pg.status)
	}
}

// Rules AV-02, AA-25: the consumer's page suspends a consumer a case
// suspended already: the register holds it too and says so; the case's
// resumption then leaves it suspended. Rule AA-22: a letter to a consumer
// with no recipient is not sent; the message says which, and the close
// guard keeps it due.
func TestSuspendHeldConsumerAndLetterWithoutRecipient(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	consumer, _ := h.consumer("Dobbeltkommune", grant(basic, access.ByArbeidstaker))
	h.lifeContact(consumer, "Kari Kontakt", "kari@dobbelt.test", governance.ContactAdministrative)
	reporter := h.signIn(h.account(governance.Administrator, consumer, ""))
	cw := h.signIn(h.account(governance.Saksbehandler, governance.AuthorityOrg, ""))
	id := caseID(t, reporter.post("/portal/avvik/ny", url.Values{"hva": {"Liste på avveie"}, "oppdaget": {formTime(h.clock.now())}}))
	cw.post("/portal/avvik/"+id+"/ta", nil)
	if g := cw.post("/portal/avvik/"+id+"/tiltak", url.Values{"tiltak": {"stanse_tilgang"}, "utfort": {"ja"}, "tiltak_merknad": {"Stanset"}, "konsument": {consumer}}); !g.has("Tilgangen er suspendert") {
		t.Fatalf("suspend from the case: %d", g.status)
	}
	if g := cw.post("/portal/konsumenter/"+consumer+"/suspender", url.Values{"brudd": {"Brudd på vilkårene"}}); !g.has("allerede suspendert; registeret holder nå også stansen") {
		t.Fatalf("suspend on the consumer's page: %d", g.status)
	}
	if g := cw.post("/portal/avvik/"+id+"/gjenoppta-konsument", url.Values{"konsument": {consumer}}); !g.has("fortsatt stanset") {
		t.Fatalf("the case's resumption: %d", g.status)
	}
	if gs, _ := h.db.Grants(ctx, consumer); len(gs) == 0 || gs[0].Status == access.Active {
		t.Fatal("resumed while the register holds it")
	}
	// A computation naming a consumer with no contact and no portal user.
	lonely, _ := h.consumer("Ensom kommune", grant(basic, access.ByArbeidstaker))
	c, err := h.db.Incident(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	a := incident.AffectedCount{Consumers: []string{consumer, lonely}, At: h.clock.now()}
	if _, err := h.db.ChangeIncident(ctx, id, c.Version, store.IncidentChange{Step: store.StepAffected, Status: c.Status, Owner: c.Owner, AwareAt: c.AwareAt,
		Affected: &a}, "user:cw"); err != nil {
		t.Fatal(err)
	}
	c, _ = h.db.Incident(ctx, id)
	g := cw.post("/portal/avvik/"+id+"/brev-konsumenter", url.Values{"beregning": {c.Affected[0].ID}, "brevfase": {"forste"}, "brevtekst": {"Vi har hatt et avvik."}})
	if !g.has("Brevet er sendt til kontaktpersonene hos 1 konsumenter.") || !g.has("Ensom kommune (org.nr. "+lonely+")") || !g.has("må få en først: Ensom kommune") {
		t.Fatalf("a letter to a consumer without recipients: %d", g.status)
	}
}

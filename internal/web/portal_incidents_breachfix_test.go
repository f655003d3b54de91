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

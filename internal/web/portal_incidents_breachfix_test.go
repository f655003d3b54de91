package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"deling/internal/access"
	"deling/internal/dpa"
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

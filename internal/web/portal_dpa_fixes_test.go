package web

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
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

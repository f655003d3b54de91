package web

import (
	"net/http"
	"net/url"
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

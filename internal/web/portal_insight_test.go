package web

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"

	"deling/internal/access"
	"deling/internal/audit"
	"deling/internal/governance"
	"deling/internal/store"
)

// Rule AA-17 in the portal: a signed-in person sees the consumers with access
// and the lookups on them with receipts that verify; nobody else's receipt;
// the staff give the same insight by a form; a consumer reads its own log.
func TestPortalInsight(t *testing.T) {
	h := newHarness(t)
	privat, _ := h.consumer("Pensjonsselskap", grant(basic, access.ByArbeidstaker))
	h.db.UpsertConsumer(t.Context(), access.Consumer{Orgnr: privat, Navn: "Pensjonsselskap", Status: access.Active, Category: "privat"}, "test")
	p := h.employed(2)
	cf := h.client(privat)
	h.person(h.token(cf), p[0].Ident, "")
	h.person(h.token(cf), p[1].Ident, "")
	h.checkpoint()

	me := h.signIn(h.account(governance.Person, "", p[0].Ident))
	page := me.get("/portal/innsyn")
	if page.status != http.StatusOK || !page.has("Pensjonsselskap") || !page.has("Last ned") {
		t.Fatalf("insight page: %d\n%s", page.status, page.body)
	}
	if strings.Contains(page.body, p[0].Ident) {
		t.Fatal("the page shows the fødselsnummer")
	}
	links := regexp.MustCompile(`/portal/innsyn/kvittering/(\d+)`).FindAllStringSubmatch(page.body, -1)
	if len(links) != 1 {
		t.Fatalf("receipt links: %v", links)
	}
	resp := me.get(links[0][0])
	var rc audit.Receipt
	if err := json.Unmarshal([]byte(resp.body), &rc); err != nil {
		t.Fatalf("receipt download: %d %v", resp.status, err)
	}
	v, _ := note.NewVerifier(h.vkey)
	if _, err := audit.VerifyReceipt(rc, v); err != nil {
		t.Fatalf("receipt: %v", err)
	}
	// Another person's lookup is not theirs to download: the same answer as none at all.
	other := h.signIn(h.account(governance.Person, "", p[1].Ident))
	if resp := other.get(links[0][0]); resp.status != http.StatusNotFound {
		t.Fatalf("another person's receipt: %d", resp.status)
	}
	// The person's reading is itself logged, without putting them in the URL.
	recs, _ := h.db.StoredRecords(t.Context(), store.RecordQuery{Subject: p[0].Ident, Limit: 100})
	if last := recs[len(recs)-1].Record; last.Kind != audit.KindInsight || last.Channel != "portal" {
		t.Fatalf("insight not logged: %+v", last)
	}
	// A consumer's administrator cannot open a person's insight.
	admin := h.signIn(h.account(governance.Administrator, privat, ""))
	if resp := admin.get("/portal/innsyn"); resp.status != http.StatusForbidden {
		t.Fatalf("administrator at /portal/innsyn: %d", resp.status)
	}

	t.Run("staff give insight by form", func(t *testing.T) {
		dpo := h.signIn(h.account(governance.Personvernombud, governance.AuthorityOrg, ""))
		if resp := dpo.post("/portal/innsyn/person", url.Values{"fodselsnummer": {"12345678901"}}); resp.status != http.StatusBadRequest || !resp.has("ikke gyldig") {
			t.Fatalf("bad number: %d", resp.status)
		}
		resp := dpo.post("/portal/innsyn/person", url.Values{"fodselsnummer": {p[0].Ident}})
		if resp.status != http.StatusOK || !resp.has("Pensjonsselskap") {
			t.Fatalf("insight by form: %d", resp.status)
		}
	})

	t.Run("a consumer reads its own log", func(t *testing.T) {
		resp := admin.get("/portal/oppslagslogg")
		if resp.status != http.StatusOK || strings.Count(resp.body, "<td>Arbeidsforholdene til en arbeidstaker</td>") != 2 || strings.Contains(resp.body, "GET /api/v2") {
			t.Fatalf("own log: %d\n%s", resp.status, resp.body)
		}
		dl := admin.get("/portal/oppslagslogg/last-ned")
		if n := strings.Count(strings.TrimSpace(dl.body), "\n") + 1; n != 2 || !strings.Contains(dl.body, p[1].Ident) {
			t.Fatalf("download: %d lines", n)
		}
		// Another consumer's administrator sees only its own (none).
		etat, _ := h.consumer("Etat", grant(basic, access.ByArbeidstaker))
		otherAdmin := h.signIn(h.account(governance.Administrator, etat, ""))
		if resp := otherAdmin.get("/portal/oppslagslogg"); strings.Contains(resp.body, "Arbeidsforholdene til en arbeidstaker") {
			t.Fatal("another consumer's lookups shown")
		}
	})
}

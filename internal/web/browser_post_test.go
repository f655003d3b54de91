package web

import (
	"strings"
	"testing"

	"deling/internal/governance"
)

// Issue 14's "Done when" in Chromium, each page checked for accessibility:
// a sender sends a confidential message with a due date to an organisation
// through the API with a real token; its daglig leder (key role) sees it, an
// employee without Post/Arkiv does not; the leader delegates Post/Arkiv
// with confidential post to the employee; the employee reads and confirms;
// the sender sees Fetched, Read and Confirmed through the API (Rule DPV-03).
func TestBrowserPost_DPV03(t *testing.T) {
	h := newPostHarness(t)
	b := newBrowser(t, h.srv.URL)
	id := h.sendConfidential("Vedtak om tilskudd")
	employee := h.account(governance.Oppslagsbruker, h.recipient, "")

	b.signIn(h.leader)
	b.press("Post")
	b.sees("Vedtak om tilskudd", "Taushetsbelagt", "Må bekreftes")
	b.signOut()

	b.signIn(employee)
	b.press("Post")
	b.sees("Du har ikke rollen Post/arkiv")
	b.doesNotSee("Vedtak om tilskudd")
	b.open("/portal/post/melding/" + id)
	b.sees("Fant ikke")
	b.signOut()

	b.signIn(h.leader)
	b.press("Post")
	b.press("Hvem kan lese posten")
	b.choose("f-type", "person")
	b.choose("f-bruker", h.userID(employee))
	b.choose("f-rett", "taushetsbelagt")
	b.press("Gi tilgang")
	b.sees("Tilgangen er gitt", "Taushetsbelagt post")
	b.signOut()

	b.signIn(employee)
	b.press("Post")
	b.press("Vedtak om tilskudd")
	b.sees("Vedtaket er fattet.", "Frist", "Bekreft mottak")
	b.press("Bekreft mottak")
	b.sees("Meldingen er bekreftet", "Bekreftet ")
	b.screenshot("post-melding")

	seen := h.senderSees(id)
	for _, st := range []string{"Fetched", "Read", "Confirmed"} {
		if !strings.Contains(seen, `"`+st+`"`) {
			t.Fatalf("the sender does not see %s: %s", st, seen)
		}
	}
}

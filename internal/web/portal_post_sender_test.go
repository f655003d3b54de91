package web

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"deling/internal/governance"
	"deling/internal/ident"
	"deling/internal/post"
)

// Review finding 2, Rule DPV-04 (the recipient sees who actually sent): the
// inbox and the message show the registered name and organisation number
// of the sender, and the name it gave (messageSender) only as a secondary
// line; a messageSender that passes for the register is refused.
func TestPortalPostShowsRegisteredSender_DPV04(t *testing.T) {
	h := newPostHarness(t)
	send := func(messageSender string) (int, string) {
		a := h.do("POST", h.senderTok, "/correspondence/api/v1/correspondence", map[string]any{
			"correspondence": map[string]any{"resourceId": "dpv-helse-sosial-omsorg", "sendersReference": "sak-" + messageSender,
				"messageSender": messageSender, "dueDateTime": time.Now().Add(14 * 24 * time.Hour).UTC().Format(time.RFC3339),
				"content": map[string]any{"messageTitle": "Fra " + messageSender, "messageBody": "Tekst."}},
			"recipients": []string{"urn:altinn:organization:identifier-no:" + h.recipient}})
		return a.status, string(a.body)
	}
	if status, body := send("Registerforvalteren"); status != http.StatusBadRequest || !strings.Contains(body, "messageSender") {
		t.Fatalf("posing as the register: %d %s", status, body)
	}
	if status, body := send("Skatteetaten"); status != 200 {
		t.Fatalf("initialize: %d %s", status, body)
	}
	leader := h.signIn(h.leader)
	p := leader.get("/portal/post")
	want := "Testkommune (org.nr. " + h.sender + ")"
	if !p.has(want) || !p.has("Avsenderens betegnelse: Skatteetaten") {
		t.Fatalf("the inbox does not show the registered sender %q: %s", want, p.body)
	}
	if strings.Contains(p.body, "<td>Skatteetaten") {
		t.Fatalf("the inbox shows the given name as the sender: %s", p.body)
	}
}

// Review finding 8: a letter from the register read through the API names
// no made-up sender ("…:identifier-no:register"); the field is left out.
func TestPostRegisterLetterAPISender(t *testing.T) {
	h := newPostHarness(t)
	ctx := context.Background()
	if err := h.db.QueueMail(ctx, governance.Letter{Consumer: h.recipient, Kind: governance.LetterNotice, To: "a@example.no",
		Subject: "Driftsmelding", Body: "Vedlikehold."}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.db.DelegatePost(ctx, post.Delegation{Org: ident.Orgnr(h.recipient), Right: post.RightPostArkiv,
		To: post.Party{Kind: post.PartyEnterpriseUser, Orgnr: ident.Orgnr(h.recipient), Username: h.recipClient},
		By: post.Party{Kind: post.PartyPerson, User: h.userID(h.leader)}}, "leder"); err != nil {
		t.Fatal(err)
	}
	in, err := h.db.PostInbox(ctx, ident.Orgnr(h.recipient))
	if err != nil || len(in) != 1 {
		t.Fatalf("inbox: %v %v", in, err)
	}
	a := h.do("GET", h.recipTok, "/correspondence/api/v1/correspondence/"+in[0].ID+"/details", nil)
	if a.status != 200 || strings.Contains(string(a.body), `"sender"`) || strings.Contains(string(a.body), "identifier-no:register") {
		t.Fatalf("details: %d %s", a.status, a.body)
	}
}

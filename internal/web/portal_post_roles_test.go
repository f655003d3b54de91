package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"deling/internal/access"
	"deling/internal/governance"
	"deling/internal/ident"
	"deling/internal/post"
	"deling/internal/token/authserver"
)

// sendOrdinary sends the recipient an ordinary message through the API and returns its id.
func (h *postHarness) sendOrdinary(title string) string {
	h.t.Helper()
	a := h.do("POST", h.senderTok, "/correspondence/api/v1/correspondence", map[string]any{
		"correspondence": map[string]any{"resourceId": "dpv-administrasjon", "sendersReference": "sak-" + title,
			"content": map[string]any{"messageTitle": title, "messageBody": "Tekst."}},
		"recipients": []string{"urn:altinn:organization:identifier-no:" + h.recipient}})
	if a.status != 200 {
		h.t.Fatalf("initialize: %d %s", a.status, a.body)
	}
	ids, err := h.db.ListCorrespondences(context.Background(), ident.Orgnr(h.sender), post.ListQuery{Role: post.RoleSender})
	if err != nil || len(ids) == 0 {
		h.t.Fatalf("sent: %v %v", ids, err)
	}
	return ids[0]
}

// daglLeader makes a portal role holder of org with DAGL recorded as their
// Enhetsregisteret role (Rule DPV-03: a key role holder, who reads
// confidential post and makes org a recipient of it, 1044) and returns the
// account's e-mail address. A role holder without recorded codes holds no
// key role (post.PortalRoles).
func (h *harness) daglLeader(org string) string {
	h.t.Helper()
	email := h.account(governance.Rolleinnehaver, org, "")
	u, _, err := h.db.UserByEmail(context.Background(), email)
	if err != nil {
		h.t.Fatal(err)
	}
	if err := h.db.SetPostRoleCodes(context.Background(), u.ID, ident.Orgnr(org), []post.RoleCode{"DAGL"}, "staff"); err != nil {
		h.t.Fatal(err)
	}
	return email
}

// Rule DPV-03: the portal reads key roles from the Enhetsregisteret role
// codes recorded for a user: a user whose only portal role is a lookup
// user but who is registered as styrets leder reads confidential post and
// may give access; a role holder registered only as styremedlem, or with
// no codes recorded, reads nothing; the access page names the key role
// holders by their roles.
func TestPortalPostRoleCodes_DPV03(t *testing.T) {
	h := newPostHarness(t)
	ctx := context.Background()
	id := h.sendConfidential("Vedtak om tilskudd")
	ledeEmail := h.account(governance.Oppslagsbruker, h.recipient, "")
	if err := h.db.SetPostRoleCodes(ctx, h.userID(ledeEmail), ident.Orgnr(h.recipient), []post.RoleCode{"LEDE"}, "staff"); err != nil {
		t.Fatal(err)
	}
	medlEmail := h.account(governance.Rolleinnehaver, h.recipient, "")
	if err := h.db.SetPostRoleCodes(ctx, h.userID(medlEmail), ident.Orgnr(h.recipient), []post.RoleCode{"MEDL"}, "staff"); err != nil {
		t.Fatal(err)
	}
	lede := h.signIn(ledeEmail)
	if p := lede.get("/portal/post/melding/" + id); p.status != 200 || !p.has("Vedtak om tilskudd") {
		t.Fatalf("styrets leder reads confidential post: %d", p.status)
	}
	if p := lede.get("/portal/post/tilgang"); p.status != 200 || !p.has("(styrets leder)") {
		t.Fatalf("the access page: %d %s", p.status, p.body)
	}
	medl := h.signIn(medlEmail)
	if p := medl.get("/portal/post/melding/" + id); p.status != 404 {
		t.Fatalf("a role holder registered as styremedlem only reads: %d", p.status)
	}
	// Review finding 3: a role holder made now (as another role holder
	// invites one) without recorded codes holds no key role.
	if p := h.signIn(h.account(governance.Rolleinnehaver, h.recipient, "")).get("/portal/post/melding/" + id); p.status != 404 {
		t.Fatalf("a new role holder without codes reads confidential post: %d", p.status)
	}
	if p := medl.get("/portal/post/tilgang"); p.status != http.StatusForbidden {
		t.Fatalf("a role holder registered as styremedlem only manages access: %d", p.status)
	}
}

// Rule DPV-03 (issue 14 item 5): Post/Arkiv given to another organisation
// (an accountant) is read in the portal by that organisation's own readers
// under Post, ordinary post only until confidential post is given too; its
// users without Post/Arkiv and third organisations read nothing; taking it
// back takes effect on the next request.
func TestPortalPostToOrganisation_DPV03(t *testing.T) {
	h := newPostHarness(t)
	ctx := context.Background()
	secret := h.sendConfidential("Taushetsbelagt vedtak")
	ordinary := h.sendOrdinary("Årsoppgave 2026")
	acct, _ := h.consumer("Regnskap AS")
	acctLeaderEmail := h.account(governance.Oppslagsbruker, acct, "")
	if err := h.db.SetPostRoleCodes(ctx, h.userID(acctLeaderEmail), ident.Orgnr(acct), []post.RoleCode{"DAGL"}, "staff"); err != nil {
		t.Fatal(err)
	}
	acctLeader := h.signIn(acctLeaderEmail)
	acctClerk := h.signIn(h.account(governance.Oppslagsbruker, acct, ""))
	third, _ := h.consumer("Tredje AS")
	thirdLeader := h.signIn(h.daglLeader(third))
	inbox := "/portal/post?virksomhet=" + h.recipient
	if p := acctLeader.get(inbox); p.status != 404 {
		t.Fatalf("the accountant reads before any delegation: %d", p.status)
	}
	leader := h.signIn(h.leader)
	give := func(right string) {
		t.Helper()
		if p := leader.post("/portal/post/tilgang", url.Values{"type": {"virksomhet"}, "orgnr": {acct}, "rett": {right}}); p.status != 200 || !p.has("Tilgangen er gitt") {
			t.Fatalf("give %s to the accountant: %d %s", right, p.status, p.body)
		}
	}
	give("post_arkiv")
	if p := leader.get("/portal/post/tilgang"); !p.has("org.nr. " + acct) {
		t.Fatal("the delegation is not listed")
	}
	if p := acctLeader.get("/portal/post"); !p.has(`href="/portal/post?virksomhet=`+h.recipient+`"`) || !p.has("Mottaker AS") {
		t.Fatalf("the accountant's inbox does not offer the client's post: %s", p.body)
	}
	p := acctLeader.get(inbox)
	if p.status != 200 || !p.has("Innboks for Mottaker AS") || !p.has("Årsoppgave 2026") || p.has("Taushetsbelagt vedtak") {
		t.Fatalf("the client's inbox as the accountant reads it: %d %s", p.status, p.body)
	}
	if p := acctLeader.get("/portal/post/melding/" + ordinary); p.status != 200 || !p.has("Årsoppgave 2026") || !p.has("?virksomhet="+h.recipient) {
		t.Fatalf("the accountant reads ordinary post: %d", p.status)
	}
	if p := acctLeader.get("/portal/post/melding/" + secret); p.status != 404 {
		t.Fatalf("the accountant reads confidential post with Post/Arkiv: %d", p.status)
	}
	for who, c := range map[string]*browserless{"the accountant's user without Post/Arkiv": acctClerk, "a third organisation": thirdLeader} {
		if p := c.get(inbox); p.status != 404 {
			t.Errorf("%s lists the client's post: %d", who, p.status)
		}
		if p := c.get("/portal/post/melding/" + ordinary); p.status != 404 {
			t.Errorf("%s reads the client's post: %d", who, p.status)
		}
	}
	// The accountant does not manage the client's access.
	if dels, _ := h.db.PostDelegations(ctx, ident.Orgnr(h.recipient)); len(dels) != 1 {
		t.Fatalf("delegations: %d", len(dels))
	}
	give("taushetsbelagt")
	if p := acctLeader.get("/portal/post/melding/" + secret); p.status != 200 || !p.has("Taushetsbelagt vedtak") {
		t.Fatalf("the accountant's daglig leder with confidential post given: %d", p.status)
	}
	// Taking it back takes effect at once.
	dels, err := h.db.PostDelegations(ctx, ident.Orgnr(h.recipient))
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range dels {
		if p := leader.post("/portal/post/tilgang/"+d.ID+"/trekk", nil); p.status != 200 || !p.has("Tilgangen er trukket tilbake") {
			t.Fatalf("revoke: %d", p.status)
		}
	}
	if p := acctLeader.get("/portal/post/melding/" + ordinary); p.status != 404 {
		t.Fatalf("the accountant reads after revocation: %d", p.status)
	}
	if p := acctLeader.get(inbox); p.status != 404 {
		t.Fatalf("the accountant lists after revocation: %d", p.status)
	}
	if p := acctLeader.get("/portal/post"); strings.Contains(p.body, "virksomhet="+h.recipient) {
		t.Fatal("the client's post still offered after revocation")
	}
}

// Issue 14 item 5 (Rule DPV-03): a suspended organisation reads the letter
// that suspended it, in the portal (TestPortalPostRegisterLetters) and
// through the API: its system still gets a token with the recipient's read
// scope — and only that — and reads the letter by its delegation.
func TestPostSuspendedReadsItsLetterThroughAPI_DPV03(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	org, _ := h.consumer("Stanset AS", grant(basic, access.ByArbeidstaker))
	leader := h.signIn(h.daglLeader(org))
	sb := h.signIn(h.account(governance.Saksbehandler, governance.AuthorityOrg, ""))
	if p := sb.post("/portal/konsumenter/"+org+"/suspender", url.Values{"brudd": {"Oppslag uten saksgrunnlag"}}); p.status != http.StatusOK {
		t.Fatalf("suspend: %d", p.status)
	}
	in, err := h.db.PostInbox(ctx, ident.Orgnr(org))
	if err != nil || len(in) != 1 || !in[0].Confidential {
		t.Fatalf("the suspension letter: %+v %v", in, err)
	}
	cf := h.client(org)
	if p := leader.post("/portal/post/tilgang", url.Values{"type": {"virksomhetsbruker"}, "brukernavn": {cf.ClientID}, "rett": {"taushetsbelagt"}}); p.status != 200 {
		t.Fatalf("delegate to the organisation's system: %d %s", p.status, p.body)
	}
	// Stopped as a whole as well, not only its grants.
	c, err := h.db.Consumer(ctx, org)
	if err != nil {
		t.Fatal(err)
	}
	c.Status = access.Suspended
	if err := h.db.UpsertConsumer(ctx, c, "test"); err != nil {
		t.Fatal(err)
	}
	if _, err := authserver.RequestToken(ctx, cf, h.srv.Client()); err == nil {
		t.Fatal("a suspended organisation got the data API's scope")
	}
	cf.Scope = post.ScopeRead
	tok := h.token(cf)
	a := h.do("GET", tok, "/correspondence/api/v1/correspondence/"+in[0].ID+"/details", nil)
	if a.status != 200 || !strings.Contains(string(a.body), "Oppslag uten saksgrunnlag") {
		t.Fatalf("the suspension letter through the API: %d %s", a.status, a.body)
	}
}

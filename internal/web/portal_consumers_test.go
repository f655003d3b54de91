package web

import (
	"bytes"
	"context"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"deling/internal/access"
	"deling/internal/governance"
	"deling/internal/store"
)

// lifeUserID is the id of the account with the e-mail address.
func (h *harness) lifeUserID(email string) string {
	h.t.Helper()
	u, _, err := h.db.UserByEmail(context.Background(), email)
	if err != nil {
		h.t.Fatal(err)
	}
	return u.ID
}

// lifeContact stores a contact person of org.
func (h *harness) lifeContact(org, navn, email string, role governance.ContactRole) governance.Contact {
	h.t.Helper()
	c, err := h.db.SaveContact(context.Background(), governance.Contact{Consumer: org, Navn: navn, Epost: email, Rolle: role}, "test")
	if err != nil {
		h.t.Fatal(err)
	}
	return c
}

// Rule AA-06: the consumer keeps its contact persons current; bad input is shown again and nothing is stored.
func TestContacts(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	org, _ := h.consumer("Kontaktkommune")
	other, _ := h.consumer("Annen kommune")
	b := h.signIn(h.account(governance.Administrator, org, ""))

	if p := b.get("/portal/kontakter"); p.status != http.StatusOK || !p.has("Legg til kontaktperson") || !p.has("ingen kontaktpersoner") {
		t.Fatalf("contacts page: %d", p.status)
	}
	// A bad e-mail address: 400, the form again with the values kept and the error at the field and on top, nothing stored.
	p := b.post("/portal/kontakter", url.Values{"navn": {"Kari Kontakt"}, "epost": {"kari(at)kommune"}, "rolle": {"administrativ"}})
	if p.status != http.StatusBadRequest || !p.has(`value="Kari Kontakt"`) || !p.has("gyldig e-postadresse") || !p.has(`href="#f-epost"`) {
		t.Fatalf("bad e-mail: status %d", p.status)
	}
	if cs, _ := h.db.Contacts(ctx, org); len(cs) != 0 {
		t.Fatalf("stored after a bad post: %+v", cs)
	}
	p = b.post("/portal/kontakter", url.Values{"navn": {"Kari Kontakt"}, "epost": {"kari@kommune.test"}, "rolle": {"administrativ"}, "varsler": {"on"}})
	if p.status != http.StatusOK || !p.has("Kari Kontakt er lagt til") {
		t.Fatalf("add: %d", p.status)
	}
	cs, _ := h.db.Contacts(ctx, org)
	if len(cs) != 1 || cs[0].Epost != "kari@kommune.test" || cs[0].Rolle != governance.ContactAdministrative || !cs[0].Varsler {
		t.Fatalf("stored %+v", cs)
	}
	id := cs[0].ID

	// Change with a bad address: 400 and unchanged; then a good change.
	if p := b.post("/portal/kontakter/"+id, url.Values{"navn": {"Kari K."}, "epost": {"ikke en adresse"}, "rolle": {"administrativ"}}); p.status != http.StatusBadRequest {
		t.Fatalf("bad change: %d", p.status)
	}
	if cs, _ := h.db.Contacts(ctx, org); cs[0].Navn != "Kari Kontakt" {
		t.Fatal("a bad change was stored")
	}
	// The last administrative contact keeps that role, and cannot be removed.
	if p := b.post("/portal/kontakter/"+id, url.Values{"navn": {"Kari"}, "epost": {"kari@kommune.test"}, "rolle": {"teknisk"}}); p.status != http.StatusBadRequest || !p.has("minst én administrativ") {
		t.Fatalf("last administrative contact made technical: %d", p.status)
	}
	if p := b.post("/portal/kontakter/"+id+"/fjern", nil); p.status != http.StatusConflict {
		t.Fatalf("removing the last administrative contact: %d", p.status)
	}
	if p := b.post("/portal/kontakter/"+id, url.Values{"navn": {"Kari Ny"}, "epost": {"kari.ny@kommune.test"}, "telefon": {"+47 22 00 00 00"}, "rolle": {"administrativ"}}); p.status != http.StatusOK || !p.has("Endringen av Kari Ny er lagret") {
		t.Fatalf("change: %d", p.status)
	}
	if cs, _ := h.db.Contacts(ctx, org); cs[0].Epost != "kari.ny@kommune.test" || cs[0].Varsler {
		t.Fatalf("changed %+v", cs[0])
	}
	tech := h.lifeContact(org, "Tore Teknisk", "tore@kommune.test", governance.ContactTechnical)
	if p := b.post("/portal/kontakter/"+tech.ID+"/fjern", nil); p.status != http.StatusOK || !p.has("Tore Teknisk er fjernet") {
		t.Fatalf("remove: %d", p.status)
	}

	// Another organisation's administrator sees none of it.
	o := h.signIn(h.account(governance.Administrator, other, ""))
	if p := o.get("/portal/kontakter/" + id); p.status != http.StatusNotFound {
		t.Fatalf("another organisation's contact: %d", p.status)
	}
	if p := o.post("/portal/kontakter/"+id, url.Values{"navn": {"Kapret"}, "epost": {"x@y.test"}, "rolle": {"teknisk"}}); p.status != http.StatusNotFound {
		t.Fatalf("changing another organisation's contact: %d", p.status)
	}
	if p := o.post("/portal/kontakter/"+id+"/fjern", nil); p.status != http.StatusNotFound {
		t.Fatalf("removing another organisation's contact: %d", p.status)
	}
	if cs, _ := h.db.Contacts(ctx, org); len(cs) != 1 || cs[0].Navn != "Kari Ny" {
		t.Fatalf("after the other organisation: %+v", cs)
	}
	// A developer is not offered the page.
	if p := h.signIn(h.account(governance.Utvikler, org, "")).get("/portal/kontakter"); p.status != http.StatusForbidden {
		t.Fatalf("developer: %d", p.status)
	}
}

// Rule AA-27: the organisation sees its users, reviews them, and a removed user is signed out at the next click.
func TestUsersAndReview(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	org, _ := h.consumer("Brukerkommune")
	other, _ := h.consumer("Nabokommune")
	// The accounts were made a review period ago (the clock moves back for that: sessions follow the real one).
	every := governance.DefaultSettings().ReviewEvery
	h.clock.advance(-every)
	adminEmail := h.account(governance.Administrator, org, "")
	userEmail := h.account(governance.Oppslagsbruker, org, "")
	freshEmail := h.account(governance.Utvikler, org, "")
	h.clock.advance(every)
	h.db.ConfirmMemberships(ctx, h.lifeUserID(freshEmail), org, "test")
	userID := h.lifeUserID(userEmail)

	admin := h.signIn(adminEmail)
	user := h.signIn(userEmail)
	p := admin.get("/portal/brukere")
	if p.status != http.StatusOK || !p.has(userEmail) || !p.has(freshEmail) {
		t.Fatalf("users page: %d", p.status)
	}

	// Another organisation's administrator can neither see nor change this organisation's users.
	o := h.signIn(h.account(governance.Administrator, other, ""))
	if p := o.get("/portal/brukere"); p.has(userEmail) {
		t.Fatal("another organisation's users are listed")
	}
	for _, try := range []page{
		o.get("/portal/brukere/" + userID),
		o.post("/portal/brukere/"+userID+"/bekreft", nil),
		o.post("/portal/brukere/"+userID+"/fjern", url.Values{"rolle": {"oppslagsbruker"}}),
	} {
		if try.status != http.StatusNotFound {
			t.Fatalf("another organisation's user: %d", try.status)
		}
	}
	if ms, _ := h.db.Memberships(ctx, userID); len(ms) != 1 {
		t.Fatal("another organisation removed a role")
	}

	// Two users are due: the administrator and the web-lookup user; the developer was just confirmed.
	if p := admin.get("/portal/brukere"); !p.has("2 brukere trenger gjennomgang") {
		t.Fatalf("no review alert: %s", p.body)
	}
	if p := admin.post("/portal/brukere/"+userID+"/bekreft", nil); p.status != http.StatusOK || !p.has("1 bruker trenger gjennomgang") {
		t.Fatalf("confirm: %d", p.status)
	}
	if ms, _ := h.db.Memberships(ctx, userID); governance.ReviewDue(ms[0].ReviewedAt, h.clock.now(), every) {
		t.Fatalf("reviewed at %v", ms[0].ReviewedAt)
	}
	if p := user.get("/portal"); p.status != http.StatusOK || !strings.HasSuffix(p.url, "/portal") {
		t.Fatalf("user before removal: %s", p.url)
	}
	// The last one who can manage users keeps the role.
	if p := admin.post("/portal/brukere/"+h.lifeUserID(adminEmail)+"/fjern", url.Values{"rolle": {"administrator"}}); p.status != http.StatusConflict {
		t.Fatalf("removing the only administrator: %d", p.status)
	}
	if p := admin.post("/portal/brukere/"+userID+"/fjern", url.Values{"rolle": {"oppslagsbruker"}}); p.status != http.StatusOK || p.has(userEmail) {
		t.Fatalf("remove: %d", p.status)
	}
	// The removed user's next click signs them out.
	if p := user.get("/portal"); !strings.Contains(p.url, "/logg-inn") {
		t.Fatalf("removed user still signed in at %s", p.url)
	}
}

var activationLink = regexp.MustCompile(`/aktiver/([A-Za-z0-9_-]{43})`)

// Rule AA-27: a new user gets an account without a password and a single-use link to set one; an existing account just gets the role.
func TestAddUserAndActivate(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	org, _ := h.consumer("Ny kommune")
	admin := h.signIn(h.account(governance.Administrator, org, ""))

	if p := admin.post("/portal/brukere", url.Values{"epost": {"ikke-gyldig"}, "navn": {"Nora Ny"}, "rolle": {"utvikler"}}); p.status != http.StatusBadRequest || !p.has(`value="Nora Ny"`) {
		t.Fatalf("bad e-mail: %d", p.status)
	}
	// Only a role holder makes a role holder (the role signs, Rule AA-01).
	if p := admin.post("/portal/brukere", url.Values{"epost": {"nora@kommune.test"}, "navn": {"Nora Ny"}, "rolle": {"rolleinnehaver"}}); p.status != http.StatusBadRequest {
		t.Fatalf("administrator made a role holder: %d", p.status)
	}
	if _, _, err := h.db.UserByEmail(ctx, "nora@kommune.test"); err == nil {
		t.Fatal("an account was made from a bad post")
	}
	if p := admin.post("/portal/brukere", url.Values{"epost": {"Nora@Kommune.test"}, "navn": {"Nora Ny"}, "rolle": {"utvikler"}}); p.status != http.StatusOK || !p.has("Nora Ny er lagt til") {
		t.Fatalf("add: %d", p.status)
	}
	// The account exists with the role, but no password works until activation.
	b := h.anonymous()
	if p := b.post("/logg-inn", url.Values{"epost": {"nora@kommune.test"}, "passord": {testPassword}}); p.status != http.StatusUnauthorized {
		t.Fatalf("sign-in before activation: %d", p.status)
	}
	mails, _ := h.db.PendingMail(ctx, 100, 5)
	var token string
	for _, m := range mails {
		if m.To == "nora@kommune.test" {
			if mm := activationLink.FindStringSubmatch(m.Body); mm != nil {
				token = mm[1]
			}
		}
	}
	if token == "" {
		t.Fatalf("no activation link in %+v", mails)
	}
	// The link is not shown among the organisation's letters.
	if p := admin.get("/portal/brev"); p.has(token) {
		t.Fatal("the activation link is shown to the organisation")
	}
	if p := b.get("/aktiver/" + token); p.status != http.StatusOK || !p.has("nora@kommune.test") {
		t.Fatalf("activation page: %d", p.status)
	}
	if p := b.post("/aktiver/"+token, url.Values{"passord": {"kort"}, "passord2": {"kort"}}); p.status != http.StatusBadRequest || !p.has("minst 12 tegn") {
		t.Fatalf("short password: %d", p.status)
	}
	if p := b.post("/aktiver/"+token, url.Values{"passord": {testPassword}, "passord2": {testPassword + "x"}}); p.status != http.StatusBadRequest {
		t.Fatalf("passwords differ: %d", p.status)
	}
	if p := b.post("/aktiver/"+token, url.Values{"passord": {testPassword}, "passord2": {testPassword}}); !strings.HasSuffix(p.url, "/logg-inn") || !p.has("Passordet er lagret") {
		t.Fatalf("activate: %d %s", p.status, p.url)
	}
	if p := h.signIn("nora@kommune.test").get("/portal"); p.status != http.StatusOK || !p.has("Utvikler") {
		t.Fatalf("the activated user: %d", p.status)
	}
	if ms, _ := h.db.Memberships(ctx, h.lifeUserID("nora@kommune.test")); !governance.Has(ms, org, governance.Utvikler) {
		t.Fatalf("the activated user's roles: %+v", ms)
	}
	// Single use.
	if p := h.anonymous().get("/aktiver/" + token); p.status != http.StatusNotFound {
		t.Fatalf("used link: %d", p.status)
	}
	if p := h.anonymous().get("/aktiver/" + strings.Repeat("A", 43)); p.status != http.StatusNotFound {
		t.Fatalf("unknown link: %d", p.status)
	}

	// An existing account just gets the role.
	other, _ := h.consumer("Leverandør AS")
	existing := h.account(governance.Utvikler, other, "")
	if p := admin.post("/portal/brukere", url.Values{"epost": {existing}, "rolle": {"oppslagsbruker"}}); p.status != http.StatusOK || !p.has("har fått rollen") {
		t.Fatalf("existing account: %d", p.status)
	}
	ms, _ := h.db.Memberships(ctx, h.lifeUserID(existing))
	if !governance.Has(ms, org, governance.Oppslagsbruker) || !governance.Has(ms, other, governance.Utvikler) {
		t.Fatalf("memberships %+v", ms)
	}
}

// lifeAPIConsumer is a consumer with an API grant, a client token and two contacts.
func (h *harness) lifeAPIConsumer(name string) (org, tok string) {
	h.t.Helper()
	org, _ = h.consumer(name, grant(basic, access.ByArbeidstaker))
	tok = h.token(h.client(org))
	h.lifeContact(org, "Anne Admin", "anne@"+org+".test", governance.ContactAdministrative)
	h.lifeContact(org, "Tor Tekniker", "tor@"+org+".test", governance.ContactTechnical)
	return org, tok
}

// Rule AA-25: a case worker suspends a consumer's access with a written notice to every contact; the API refuses the next request; resume restores it.
func TestSuspendAndResume(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	org, tok := h.lifeAPIConsumer("Suspendert kommune")
	person := h.employed(1)[0].Ident
	if a := h.person(tok, person, ""); a.status != http.StatusOK {
		t.Fatalf("before: %d %s", a.status, a.body)
	}
	sb := h.signIn(h.account(governance.Saksbehandler, governance.AuthorityOrg, ""))
	if p := sb.get("/portal/konsumenter"); p.status != http.StatusOK || !p.has("Suspendert kommune") {
		t.Fatalf("consumer list: %d", p.status)
	}
	if p := sb.get("/portal/konsumenter/" + org); p.status != http.StatusOK || !p.has("Suspender tilgangen") || !p.has("anne@"+org+".test") {
		t.Fatalf("consumer page: %d", p.status)
	}
	if p := sb.get("/portal/konsumenter/399999999"); p.status != http.StatusNotFound {
		t.Fatalf("unknown consumer: %d", p.status)
	}
	// A reason is required.
	if p := sb.post("/portal/konsumenter/"+org+"/suspender", url.Values{"brudd": {"  "}}); p.status != http.StatusBadRequest {
		t.Fatalf("no reason: %d", p.status)
	}
	if a := h.person(tok, person, ""); a.status != http.StatusOK {
		t.Fatal("a refused suspension took effect")
	}
	// A data protection officer reads but does not act.
	dpo := h.signIn(h.account(governance.Personvernombud, governance.AuthorityOrg, ""))
	if p := dpo.get("/portal/konsumenter/" + org); p.status != http.StatusOK || p.has("Suspender tilgangen") {
		t.Fatalf("dpo page: %d", p.status)
	}
	if p := dpo.post("/portal/konsumenter/"+org+"/suspender", url.Values{"brudd": {"x"}}); p.status != http.StatusForbidden {
		t.Fatalf("dpo suspends: %d", p.status)
	}

	breach := "Oppslag på personer uten sak, i strid med bruksvilkårene punkt 4."
	if p := sb.post("/portal/konsumenter/"+org+"/suspender", url.Values{"brudd": {breach}}); p.status != http.StatusOK || !p.has("Tilgangen er suspendert (1 vedtak)") {
		t.Fatalf("suspend: %d", p.status)
	}
	// The consumer's token is refused on the next request, with the suspension as the API reports it.
	a := h.person(tok, person, "")
	if a.status != http.StatusForbidden || a.problem().Detail != denyText[access.DenyGrantSuspended] {
		t.Fatalf("after suspension: %d %s", a.status, a.body)
	}
	recs := h.records(org)
	if last := recs[len(recs)-1]; last.Reason != string(access.DenyGrantSuspended) {
		t.Fatalf("log reason %q", last.Reason)
	}
	// A written notice to every contact: what was breached, suspended from now, how to answer.
	mails, _ := h.db.MailTo(ctx, org, 10)
	to := map[string]bool{}
	for _, m := range mails {
		if m.Kind == store.MailSuspension {
			to[m.To] = true
			if !strings.Contains(m.Body, breach) || !strings.Contains(m.Body, "suspendert virksomhetens tilgang") || !strings.Contains(m.Body, "Slik svarer dere") {
				t.Fatalf("letter: %s", m.Body)
			}
		}
	}
	if !to["anne@"+org+".test"] || !to["tor@"+org+".test"] {
		t.Fatalf("letters to %v", to)
	}
	// The consumer reads it in the portal.
	if p := h.signIn(h.account(governance.Administrator, org, "")).get("/portal/brev"); p.status != http.StatusOK || !p.has("er suspendert") || !p.has(breach) {
		t.Fatalf("letters page: %d", p.status)
	}

	if p := sb.post("/portal/konsumenter/"+org+"/gjenoppta", nil); p.status != http.StatusOK || !p.has("Tilgangen er gjenopptatt") {
		t.Fatalf("resume: %d", p.status)
	}
	if a := h.person(tok, person, ""); a.status != http.StatusOK {
		t.Fatalf("after resume: %d %s", a.status, a.body)
	}
	if p := sb.post("/portal/konsumenter/"+org+"/gjenoppta", nil); p.status != http.StatusConflict {
		t.Fatalf("resume again: %d", p.status)
	}
}

// Rule AA-26: the role holder ends all access through the portal; an administrator may not.
func TestTermination(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	org, tok := h.lifeAPIConsumer("Avsluttende AS")
	proc, _ := h.consumer("Leverandøren AS")
	if _, err := h.db.AddDelegation(ctx, access.Delegation{Consumer: org, Processor: proc, DPARef: "DBA-7", ValidFrom: h.clock.now().Add(-60e9)}, "test"); err != nil {
		t.Fatal(err)
	}
	person := h.employed(1)[0].Ident

	admin := h.signIn(h.account(governance.Administrator, org, ""))
	if p := admin.get("/portal/avslutt"); p.status != http.StatusForbidden {
		t.Fatalf("administrator sees the termination page: %d", p.status)
	}
	if p := admin.post("/portal/avslutt", url.Values{"bekreft": {"ja"}}); p.status != http.StatusForbidden {
		t.Fatalf("administrator terminates: %d", p.status)
	}
	if a := h.person(tok, person, ""); a.status != http.StatusOK {
		t.Fatalf("after the administrator's try: %d", a.status)
	}

	leaderEmail := h.account(governance.Rolleinnehaver, org, "")
	leader := h.signIn(leaderEmail)
	if p := leader.get("/portal/avslutt"); p.status != http.StatusOK || !p.has("Avslutt all tilgang") || !p.has("DBA-7") {
		t.Fatalf("termination page: %d", p.status)
	}
	if p := leader.post("/portal/avslutt", nil); p.status != http.StatusBadRequest || !p.has(`href="#f-bekreft"`) {
		t.Fatalf("without confirming: %d", p.status)
	}
	if a := h.person(tok, person, ""); a.status != http.StatusOK {
		t.Fatal("an unconfirmed termination took effect")
	}
	p := leader.post("/portal/avslutt", url.Values{"bekreft": {"ja"}})
	if p.status != http.StatusOK || !strings.HasSuffix(p.url, "/portal/brev") || !p.has("Kvittering") {
		t.Fatalf("terminate: %d %s", p.status, p.url)
	}
	a := h.person(tok, person, "")
	if a.status != http.StatusForbidden || a.problem().Detail != denyText[access.DenyGrantEnded] {
		t.Fatalf("after termination: %d %s", a.status, a.body)
	}
	grants, _ := h.db.Grants(ctx, org)
	for _, g := range grants {
		if g.Status != access.Ended || g.StatusReason != store.ReasonTerminated {
			t.Fatalf("grant %s %q", g.Status, g.StatusReason)
		}
	}
	if dels, _ := h.db.Delegations(ctx, org); dels[0].Status != access.Ended {
		t.Fatal("the processor's delegation lives on")
	}
	// The receipt went to the contacts and to the role holder.
	mails, _ := h.db.MailTo(ctx, org, 10)
	to := map[string]bool{}
	for _, m := range mails {
		if m.Kind == store.MailTermination {
			to[m.To] = true
		}
	}
	if len(to) != 3 || !to[leaderEmail] {
		t.Fatalf("receipts to %v", to)
	}
	if p := leader.get("/portal/avslutt"); !p.has("ingen aktive tilganger") {
		t.Fatal("the termination page still offers to end access")
	}
}

// Rule AA-26: an Enhetsregisteret file in which the consumer has a slettedato ends its access.
func TestEnhetsregisteretUpload(t *testing.T) {
	h := newHarness(t)
	org, tok := h.lifeAPIConsumer("Slettet kommune")
	living, livingTok := h.lifeAPIConsumer("Levende kommune")
	person := h.employed(1)[0].Ident
	file := `[{"organisasjonsnummer":"` + org + `","navn":"SLETTET KOMMUNE","slettedato":"2026-01-01","organisasjonsform":{"kode":"KOMM"}},
	{"organisasjonsnummer":"` + living + `","navn":"LEVENDE KOMMUNE","konkurs":false}]`

	fv := h.signIn(h.account(governance.Forvalter, governance.AuthorityOrg, ""))
	if p := fv.get("/portal/forvalter/enhetsregisteret"); p.status != http.StatusOK || !p.has("Ingen innlesinger") {
		t.Fatalf("page: %d", p.status)
	}
	upload := func(content string) page {
		var body bytes.Buffer
		mw := multipart.NewWriter(&body)
		fw, _ := mw.CreateFormFile("fil", "enheter.json")
		fw.Write([]byte(content))
		mw.Close()
		req, _ := http.NewRequest("POST", h.srv.URL+"/portal/forvalter/enhetsregisteret", &body)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		req.Header.Set("Origin", h.srv.URL)
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		resp, err := fv.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return readPage(t, resp)
	}
	if p := upload(file[:40]); p.status != http.StatusBadRequest || !p.has("ingenting er endret") {
		t.Fatalf("a malformed file: %d", p.status)
	}
	if a := h.person(tok, person, ""); a.status != http.StatusOK {
		t.Fatal("a malformed file ended access")
	}
	if p := upload(file); p.status != http.StatusOK || !p.has("Leste 2 enheter. 1 konsumenter") || !p.has("Slettet kommune ("+org+")") {
		t.Fatalf("upload: %d", p.status)
	}
	a := h.person(tok, person, "")
	if a.status != http.StatusForbidden || a.problem().Detail != denyText[access.DenyConsumerCeased] {
		t.Fatalf("ceased consumer: %d %s", a.status, a.body)
	}
	if a := h.person(livingTok, person, ""); a.status != http.StatusOK {
		t.Fatalf("living consumer: %d", a.status)
	}
	// A case worker may not upload.
	if p := h.signIn(h.account(governance.Saksbehandler, governance.AuthorityOrg, "")).get("/portal/forvalter/enhetsregisteret"); p.status != http.StatusForbidden {
		t.Fatalf("case worker: %d", p.status)
	}
}

package web

import (
	"bytes"
	"context"
	"html"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"deling/internal/access"
	"deling/internal/governance"
	"deling/internal/lookup"
	"deling/internal/store"
	"deling/internal/web/portal"
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

// lifeLink is the token of the last invitation link mailed to the address ("" when none).
func (h *harness) lifeLink(to string) string {
	h.t.Helper()
	mails, err := h.db.PendingMail(context.Background(), 1000, 5)
	if err != nil {
		h.t.Fatal(err)
	}
	token := ""
	for _, m := range mails {
		if m.To == to {
			if mm := activationLink.FindStringSubmatch(m.Body); mm != nil {
				token = mm[1]
			}
		}
	}
	return token
}

// Rule AA-27: a new user gets an account without a password or role and a single-use link to set a password, which gives the role.
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
	if p := admin.post("/portal/brukere", url.Values{"epost": {"Nora@Kommune.test"}, "navn": {"Nora Ny"}, "rolle": {"utvikler"}}); p.status != http.StatusOK || !p.has("Vi har sendt en invitasjon til nora@kommune.test") {
		t.Fatalf("add: %d", p.status)
	}
	// The account exists without the role, and no password works until activation.
	if ms, _ := h.db.Memberships(ctx, h.lifeUserID("nora@kommune.test")); len(ms) != 0 {
		t.Fatalf("roles before activation: %+v", ms)
	}
	if p := admin.get("/portal/brukere"); p.has("nora@kommune.test") {
		t.Fatal("listed before activation")
	}
	b := h.anonymous()
	if p := b.post("/logg-inn", url.Values{"epost": {"nora@kommune.test"}, "passord": {testPassword}}); p.status != http.StatusUnauthorized {
		t.Fatalf("sign-in before activation: %d", p.status)
	}
	token := h.lifeLink("nora@kommune.test")
	if token == "" {
		t.Fatal("no activation link")
	}
	// The link is not shown among the organisation's letters.
	if p := admin.get("/portal/brev"); p.has(token) {
		t.Fatal("the activation link is shown to the organisation")
	}
	if p := b.get("/aktiver/" + token); p.status != http.StatusOK || !p.has("nora@kommune.test") || !p.has("Lagre passordet") || !p.has("Ny kommune") {
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

	if p := admin.get("/portal/brukere"); !p.has("nora@kommune.test") {
		t.Fatal("the activated user is not listed")
	}
}

// Rule AA-27: an administrator gets the same answer for every address, never
// sees an existing account's name, and cannot attach someone's account to the
// organisation: its holder accepts through the link mailed to them. Persons,
// the register's staff and blocked accounts are never invited.
func TestAddUserRevealsNothing(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	org, _ := h.consumer("Nysgjerrig kommune")
	other, _ := h.consumer("Leverandør AS")
	admin := h.signIn(h.account(governance.Administrator, org, ""))
	mk := func(email string, role governance.Role, org, pid string) {
		navn := "Hemmelig Lagret Navn"
		if strings.HasPrefix(email, "medlem") {
			navn = "Kjent Medlem" // a member: the list shows them anyway
		}
		if _, err := h.db.CreateUser(ctx, governance.User{Email: email, Navn: navn, PID: pid}, testPasswordHash(),
			[]governance.Membership{{Org: org, Role: role}}, "test"); err != nil {
			t.Fatal(err)
		}
	}
	mk("dev@leverandor.test", governance.Utvikler, other, "")
	mk("person@hjemme.test", governance.Person, "", "01017012345")
	mk("sb@register.test", governance.Saksbehandler, governance.AuthorityOrg, "")
	mk("sperret@leverandor.test", governance.Utvikler, other, "")
	h.db.DisableUser(ctx, h.lifeUserID("sperret@leverandor.test"), "test")
	mk("medlem@kommune.test", governance.Oppslagsbruker, org, "")

	before, _ := h.db.PendingMail(ctx, 1000, 5)
	answer := func(email string) page {
		t.Helper()
		p := admin.post("/portal/brukere", url.Values{"epost": {email}, "navn": {"Skrevet Navn"}, "rolle": {"oppslagsbruker"}})
		if p.status != http.StatusOK || !strings.HasSuffix(p.url, "/portal/brukere") || !p.has("Vi har sendt en invitasjon til "+email) || p.has("Hemmelig Lagret Navn") {
			t.Fatalf("%s: status %d at %s: %s", email, p.status, p.url, p.body)
		}
		return p
	}
	// The page after each is the same but for the address in the message.
	want := strings.ReplaceAll(answer("ny@kommune.test").body, "invitasjon til ny@kommune.test", "invitasjon til ADDR")
	for _, email := range []string{"dev@leverandor.test", "person@hjemme.test", "sb@register.test", "sperret@leverandor.test", "medlem@kommune.test"} {
		got := strings.ReplaceAll(answer(email).body, "invitasjon til "+email, "invitasjon til ADDR")
		if got != want {
			t.Fatalf("%s: the answer differs from a new address's", email)
		}
	}
	// Nobody got the role: the list shows only the members it had.
	for _, email := range []string{"ny@kommune.test", "dev@leverandor.test", "person@hjemme.test", "sb@register.test", "sperret@leverandor.test"} {
		if u, _, err := h.db.UserByEmail(ctx, email); err == nil {
			if ms, _ := h.db.Memberships(ctx, u.ID); governance.Has(ms, org, governance.Oppslagsbruker) {
				t.Fatalf("%s was attached to the organisation", email)
			}
		}
	}
	// Letters went to the new address and the existing consumer account only.
	after, _ := h.db.PendingMail(ctx, 1000, 5)
	got := map[string]bool{}
	for _, m := range after[len(before):] {
		got[m.To] = true
	}
	if len(got) != 2 || !got["ny@kommune.test"] || !got["dev@leverandor.test"] {
		t.Fatalf("invitations sent to %v", got)
	}

	// The existing account's holder opens the link, sees no password form, and accepts.
	token := h.lifeLink("dev@leverandor.test")
	b := h.anonymous()
	p := b.get("/aktiver/" + token)
	if p.status != http.StatusOK || !p.has("Godta invitasjonen") || p.has(`name="passord"`) || !p.has("Nysgjerrig kommune") {
		t.Fatalf("invitation page: %d", p.status)
	}
	if p := b.post("/aktiver/"+token, nil); p.status != http.StatusOK || !p.has("Invitasjonen er godtatt") {
		t.Fatalf("accept: %d %s", p.status, p.url)
	}
	ms, _ := h.db.Memberships(ctx, h.lifeUserID("dev@leverandor.test"))
	if !governance.Has(ms, org, governance.Oppslagsbruker) || !governance.Has(ms, other, governance.Utvikler) {
		t.Fatalf("memberships %+v", ms)
	}
	if p := admin.get("/portal/brukere"); !p.has("dev@leverandor.test") {
		t.Fatal("the member who accepted is not listed")
	}
	if p := h.anonymous().post("/aktiver/"+token, nil); p.status != http.StatusNotFound {
		t.Fatalf("accepted twice: %d", p.status)
	}
}

// Rule AA-27: a new user's expired link is replaced by adding the user again.
func TestAddUserAgainAfterExpiry(t *testing.T) {
	h := newHarness(t)
	org, _ := h.consumer("Treg kommune")
	admin := h.signIn(h.account(governance.Administrator, org, ""))
	add := func() string {
		t.Helper()
		if p := admin.post("/portal/brukere", url.Values{"epost": {"treg@kommune.test"}, "navn": {"Treg Bruker"}, "rolle": {"utvikler"}}); p.status != http.StatusOK || !p.has("Vi har sendt") {
			t.Fatalf("add: %d at %s", p.status, p.url)
		}
		return h.lifeLink("treg@kommune.test")
	}
	// The first link was sent a week ago (the clock moves back for that: sessions follow the real one).
	h.clock.advance(-portal.ActivationValidity - time.Minute)
	first := add()
	h.clock.advance(portal.ActivationValidity + time.Minute)
	if p := h.anonymous().get("/aktiver/" + first); p.status != http.StatusNotFound {
		t.Fatalf("expired link: %d", p.status)
	}
	second := add()
	if second == "" || second == first {
		t.Fatal("no new link")
	}
	b := h.anonymous()
	if p := b.post("/aktiver/"+second, url.Values{"passord": {testPassword}, "passord2": {testPassword}}); !p.has("Passordet er lagret") {
		t.Fatalf("activate with the new link: %d", p.status)
	}
	if p := h.signIn("treg@kommune.test").get("/portal"); !p.has("Utvikler") {
		t.Fatal("the role was not given")
	}
}

// Rule AA-27: an organisation sends a bounded number of invitations a day.
func TestAddUserLimit(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	org, _ := h.consumer("Ivrig kommune")
	admin := h.signIn(h.account(governance.Administrator, org, ""))
	for i := range portal.InvitationsPerDay {
		if _, err := h.db.InviteUser(ctx, store.Invitation{User: governance.User{Email: "n" + itoa(i) + "@kommune.test", Navn: "N"}, Org: org,
			Role: governance.Utvikler, TokenHash: "h" + itoa(i), ExpiresAt: h.clock.now().Add(time.Hour), Limit: portal.InvitationsPerDay,
			Letter: func(bool, string) governance.Letter { return governance.Letter{} }}, "test"); err != nil {
			t.Fatal(err)
		}
	}
	p := admin.post("/portal/brukere", url.Values{"epost": {"en.til@kommune.test"}, "navn": {"En Til"}, "rolle": {"utvikler"}})
	if p.status != http.StatusTooManyRequests || !p.has("Prøv igjen i morgen") || !p.has(`value="en.til@kommune.test"`) {
		t.Fatalf("over the limit: %d", p.status)
	}
	if _, _, err := h.db.UserByEmail(ctx, "en.til@kommune.test"); err == nil {
		t.Fatal("an account was made over the limit")
	}
}

// Rule AA-27: the organisation's last administrator keeps the role, checked where the role is removed.
func TestUsersKeepLastAdministrator(t *testing.T) {
	h := newHarness(t)
	org, _ := h.consumer("Eneste kommune")
	adminEmail := h.account(governance.Administrator, org, "")
	admin := h.signIn(adminEmail)
	id := h.lifeUserID(adminEmail)
	if p := admin.post("/portal/brukere/"+id+"/fjern", url.Values{"rolle": {"administrator"}}); p.status != http.StatusConflict || !p.has("den eneste som kan administrere") {
		t.Fatalf("removing the only administrator: %d", p.status)
	}
	second := h.account(governance.Administrator, org, "")
	if p := admin.post("/portal/brukere/"+h.lifeUserID(second)+"/fjern", url.Values{"rolle": {"administrator"}}); p.status != http.StatusOK || p.has(second) {
		t.Fatalf("removing the second administrator: %d", p.status)
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
	// Rule AA-25: a grant suspended for another reason (by the CLI) is not the register's suspension to resume.
	cli, err := h.db.AddGrant(ctx, func() access.Grant { g := grant(basic, access.ByArbeidssted); g.Consumer = org; return g }(), "test")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.db.SetGrantStatus(ctx, cli.ID, access.Suspended, "suspendert i CLI", "cli:ops"); err != nil {
		t.Fatal(err)
	}
	if a := h.person(tok, person, ""); a.status != http.StatusOK {
		t.Fatalf("before: %d %s", a.status, a.body)
	}
	sb := h.signIn(h.account(governance.Saksbehandler, governance.AuthorityOrg, ""))
	if p := sb.get("/portal/konsumenter"); p.status != http.StatusOK || !p.has("Suspendert kommune") {
		t.Fatalf("consumer list: %d", p.status)
	}
	if p := sb.get("/portal/konsumenter/" + org); p.status != http.StatusOK || !p.has("Suspender tilgangen") || !p.has("anne@"+org+".test") || p.has("Gjenoppta tilgangen") {
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
	if a.status != http.StatusForbidden || a.problem().Detail != lookup.Deny(access.DenyGrantSuspended).Text {
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
		if m.Kind == governance.LetterSuspension {
			to[m.To] = true
			if !strings.Contains(m.Body, breach) || !strings.Contains(m.Body, "suspendert virksomhetens tilgang") || !strings.Contains(m.Body, "Slik svarer dere") {
				t.Fatalf("letter: %s", m.Body)
			}
		}
	}
	if !to["anne@"+org+".test"] || !to["tor@"+org+".test"] {
		t.Fatalf("letters to %v", to)
	}
	// The consumer's administrator sees that it came, but reads it only in
	// the inbox with Post/Arkiv (Rule DPV-03, review finding 4).
	if p := h.signIn(h.account(governance.Administrator, org, "")).get("/portal/brev"); p.status != http.StatusOK || !p.has("er suspendert") || p.has(breach) {
		t.Fatalf("letters page: %d", p.status)
	}

	if p := sb.post("/portal/konsumenter/"+org+"/gjenoppta", nil); p.status != http.StatusOK || !p.has("Tilgangen er gjenopptatt") {
		t.Fatalf("resume: %d", p.status)
	}
	if a := h.person(tok, person, ""); a.status != http.StatusOK {
		t.Fatalf("after resume: %d %s", a.status, a.body)
	}
	if gs, _ := h.db.Grants(ctx, org); gs[1].ID != cli.ID || gs[1].Status != access.Suspended {
		t.Fatalf("the grant suspended by the CLI was resumed: %+v", gs[1])
	}
	if p := sb.get("/portal/konsumenter/" + org); p.has("Gjenoppta tilgangen") {
		t.Fatal("offered to resume a grant the register did not suspend")
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
	d, _, _ := h.delegate(org, proc)
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
	if p := leader.get("/portal/avslutt"); p.status != http.StatusOK || !p.has("Avslutt all tilgang") || !p.has(d.DPARef) {
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
	if a.status != http.StatusForbidden || a.problem().Detail != lookup.Deny(access.DenyGrantEnded).Text {
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
		if m.Kind == governance.LetterTermination {
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
	ctx := context.Background()
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
	if p := upload(file[:40]); p.status != http.StatusBadRequest || !p.has("ingenting er endret") || !p.has("Importen feilet. Se driftsloggen.") {
		t.Fatalf("a malformed file: %d", p.status)
	}
	// The failure's details (parser, driver or SQL text) are in the server log, not on the page.
	runs, _ := h.db.EnhetsregisteretRuns(ctx, 1)
	if len(runs) != 1 || runs[0].Error == "" {
		t.Fatalf("runs %+v", runs)
	}
	if p := fv.get("/portal/forvalter/enhetsregisteret"); !p.has("Importen feilet") || p.has(html.EscapeString(runs[0].Error)) || p.has(runs[0].Error) {
		t.Fatalf("the page shows the error's details %q", runs[0].Error)
	}
	if a := h.person(tok, person, ""); a.status != http.StatusOK {
		t.Fatal("a malformed file ended access")
	}
	if p := upload(file); p.status != http.StatusOK || !p.has("Leste 2 enheter. 1 konsumenter") || !p.has("Slettet kommune (org.nr. "+org+")") {
		t.Fatalf("upload: %d", p.status)
	}
	a := h.person(tok, person, "")
	if a.status != http.StatusForbidden || a.problem().Detail != lookup.Deny(access.DenyConsumerCeased).Text {
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

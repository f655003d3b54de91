package web

import (
	"context"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"deling/internal/access"
	"deling/internal/governance"
	"deling/internal/register"
	"deling/internal/store"
	"deling/internal/web/portal/openid"
)

// openidPortal is a portal with both sign-in providers configured, each a
// test provider on loopback.
type openidPortal struct {
	h               *harness
	srv             *httptest.Server
	idporten, staff *testProvider
}

func newOpenIDPortal(t *testing.T) *openidPortal {
	return newOpenIDPortalLinking(t, true)
}

// newOpenIDPortalLinking is newOpenIDPortal with linking staff by a verified e-mail address on or off.
func newOpenIDPortalLinking(t *testing.T, linkByEmail bool) *openidPortal {
	h := newHarness(t)
	o := &openidPortal{h: h, idporten: newTestProvider(t), staff: newTestProvider(t)}
	o.srv = httptest.NewUnstartedServer(nil)
	issuer := "http://" + o.srv.Listener.Addr().String() + "/"
	o.srv.Config.Handler = h.server(register.EnvTest, issuer, Config{Audit: h.db, InsightCategories: []string{"privat"},
		OpenID: openid.Config{
			IDPorten:         openid.ProviderConfig{Issuer: o.idporten.issuer(), ClientID: o.idporten.clientID, ClientSecret: o.idporten.secret},
			Staff:            openid.ProviderConfig{Issuer: o.staff.issuer(), ClientID: o.staff.clientID, ClientSecret: o.staff.secret},
			StaffLinkByEmail: linkByEmail,
		}}).Handler()
	o.srv.Start()
	t.Cleanup(o.srv.Close)
	return o
}

// visitor is a browser of the portal that follows no redirect by itself, so
// that the test walks (and may tamper with) each step of the flow.
func (o *openidPortal) visitor() *browserless {
	jar, _ := cookiejar.New(nil)
	return &browserless{h: o.h, base: o.srv.URL, client: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// toProvider presses "Logg inn med …" and follows deling's redirect to the
// provider, which signs in whoever is next; it returns the provider's
// redirect back to deling (the callback URL with code and state).
func (o *openidPortal) toProvider(b *browserless, provider string) *url.URL {
	o.h.t.Helper()
	req, _ := http.NewRequest("POST", b.url()+"/logg-inn/oidc/"+provider, strings.NewReader(""))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", b.url())
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := b.client.Do(req)
	if err != nil {
		o.h.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		o.h.t.Fatalf("start %s: %d", provider, resp.StatusCode)
	}
	if resp, err = b.client.Get(resp.Header.Get("Location")); err != nil {
		o.h.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		o.h.t.Fatalf("provider's authorization: %d", resp.StatusCode)
	}
	back, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || !strings.HasPrefix(back.String(), o.srv.URL+"/logg-inn/oidc/"+provider+"/tilbake?") {
		o.h.t.Fatalf("provider's redirect: %v %v", back, err)
	}
	return back
}

// back follows the provider's redirect back to deling and returns deling's answer.
func (o *openidPortal) back(b *browserless, u *url.URL) page {
	o.h.t.Helper()
	return b.get(strings.TrimPrefix(u.String(), o.srv.URL))
}

// signIn walks the whole flow as who and returns deling's last answer.
func (o *openidPortal) signIn(b *browserless, provider string, p *testProvider, who idWho) page {
	o.h.t.Helper()
	p.next(who)
	return o.back(b, o.toProvider(b, provider))
}

func sessionCookie(b *browserless) string {
	u, _ := url.Parse(b.url())
	for _, c := range b.client.Jar.Cookies(u) {
		if c.Name == "deling_sesjon" {
			return c.Value
		}
	}
	return ""
}

// signedIn reports whether b's session is signed in: /portal answers the page, not a redirect to sign-in.
func signedIn(b *browserless) bool {
	b.h.t.Helper()
	return b.get("/portal").status == http.StatusOK
}

// Issue 16, item 6: sign-in with OpenID Connect beside local accounts,
// walked over real HTTP against providers on loopback — a person by the
// pid claim to their insight page; staff linked by a verified e-mail or by
// the forvalter; everything else refused with no session: an unknown
// member of staff, a tampered state, a replayed answer, a wrong nonce, an
// expired token, another audience, another key, a low level of assurance,
// an invalid fødselsnummer.
func TestOpenIDSignIn(t *testing.T) {
	o := newOpenIDPortal(t)
	h := o.h
	ctx := context.Background()

	t.Run("the sign-in page shows both providers beside the form", func(t *testing.T) {
		p := o.visitor().get("/logg-inn")
		if !p.has("Logg inn med ID-porten") || !p.has("Logg inn med Entra ID") || !p.has(`name="passord"`) {
			t.Fatalf("sign-in page:\n%s", p.body)
		}
	})

	privat, _ := h.consumer("Pensjonsselskap", grant(basic, access.ByArbeidstaker))
	h.db.UpsertConsumer(ctx, access.Consumer{Orgnr: privat, Navn: "Pensjonsselskap", Status: access.Active, Category: "privat"}, "test")
	persons := h.employed(3)
	cf := h.client(privat)
	h.person(h.token(cf), persons[0].Ident, "")
	h.checkpoint()
	substantial := func(sub, pid string) idWho {
		return idWho{sub: sub, claims: map[string]any{"pid": pid, "acr": "idporten-loa-substantial", "amr": []string{"BankID"}}}
	}

	t.Run("a person signs in by pid, gets an account and sees their insight", func(t *testing.T) {
		b := o.visitor()
		b.get("/logg-inn")
		before := sessionCookie(b)
		p := o.signIn(b, openid.IDPorten, o.idporten, substantial("pairwise-1", persons[0].Ident))
		if p.status != http.StatusSeeOther {
			t.Fatalf("callback: %d %s", p.status, p.body)
		}
		// Rotated session id (no session fixation), as at a local sign-in.
		if after := sessionCookie(b); after == "" || after == before {
			t.Fatalf("session cookie not renewed: %q → %q", before, after)
		}
		in := b.get("/portal/innsyn")
		if in.status != http.StatusOK || !in.has("Pensjonsselskap") || strings.Contains(in.body, persons[0].Ident) {
			t.Fatalf("insight after sign-in with ID-porten: %d\n%s", in.status, in.body)
		}
		// The review's finding 4: no blank name, no placeholder address on "Min side" or in the frame.
		if home := b.get("/portal"); !home.has("Du er logget inn som Privatperson.") || strings.Contains(home.body, store.NoEmailDomain) {
			t.Fatalf("Min side of a person ID-porten made:\n%s", home.body)
		}
		// Only their own: a staff page is refused.
		if s := b.get("/portal/saker"); s.status != http.StatusForbidden && s.status != http.StatusNotFound {
			t.Fatalf("a person reached a staff page: %d", s.status)
		}
		// The fødselsnummer never in a URL or the log; the assurance recorded.
		for _, q := range o.idporten.seen {
			if strings.Contains(q.Encode(), persons[0].Ident) {
				t.Fatal("the fødselsnummer in a URL")
			}
		}
		logs := h.logs.String()
		if strings.Contains(logs, persons[0].Ident) || strings.Contains(logs, o.idporten.secret) {
			t.Fatal("the fødselsnummer or the client secret in the log")
		}
		if !strings.Contains(logs, "acr=idporten-loa-substantial") || !strings.Contains(logs, "amr=BankID") {
			t.Fatal("acr and amr not recorded")
		}
		// A second sign-in finds the same account.
		b2 := o.visitor()
		o.signIn(b2, openid.IDPorten, o.idporten, substantial("pairwise-1", persons[0].Ident))
		if !signedIn(b2) {
			t.Fatal("second sign-in")
		}
		if n := personAccounts(t, h, persons[0].Ident); n != 1 {
			t.Fatalf("accounts of the person: %d", n)
		}
	})

	t.Run("a person with a local account is linked to it", func(t *testing.T) {
		email := h.account(governance.Person, "", persons[1].Ident)
		local, _, err := h.db.UserByEmail(ctx, email)
		if err != nil {
			t.Fatal(err)
		}
		b := o.visitor()
		o.signIn(b, openid.IDPorten, o.idporten, substantial("pairwise-2", persons[1].Ident))
		if home := b.get("/portal"); home.status != http.StatusOK || !home.has(local.Navn) {
			t.Fatalf("linked to the local account: %d\n%s", home.status, home.body)
		}
	})

	refused := func(t *testing.T, b *browserless, p page, status int, text string) {
		t.Helper()
		if p.status != status || !p.has(text) {
			t.Fatalf("want %d with %q, got %d:\n%s", status, text, p.status, p.body)
		}
		if signedIn(b) {
			t.Fatal("signed in after a refusal")
		}
	}

	t.Run("ID-porten's answer refused", func(t *testing.T) {
		for name, who := range map[string]idWho{
			"low level":         {sub: "p3", claims: map[string]any{"pid": persons[2].Ident, "acr": "idporten-loa-low"}},
			"invalid pid":       substantial("p3", "01010112344"),
			"no pid":            {sub: "p3", claims: map[string]any{"acr": "idporten-loa-high"}},
			"wrong nonce":       {sub: "p3", claims: substantial("", persons[2].Ident).claims, nonce: "not-the-one-sent"},
			"expired":           {sub: "p3", claims: substantial("", persons[2].Ident).claims, expired: true},
			"another audience":  {sub: "p3", claims: substantial("", persons[2].Ident).claims, aud: "another-client"},
			"another key":       {sub: "p3", claims: substantial("", persons[2].Ident).claims, otherKey: true},
			"amr of wrong type": {sub: "p3", claims: map[string]any{"pid": persons[2].Ident, "acr": "idporten-loa-high", "amr": 7}},
		} {
			t.Run(name, func(t *testing.T) {
				b := o.visitor()
				p := o.signIn(b, openid.IDPorten, o.idporten, who)
				if p.status != http.StatusForbidden && p.status != http.StatusUnauthorized {
					t.Fatalf("%d:\n%s", p.status, p.body)
				}
				refused(t, b, p, p.status, "Innloggingen ble ikke fullført")
			})
		}
		if n := personAccounts(t, h, persons[2].Ident); n != 0 {
			t.Fatalf("a refused sign-in made an account: %d", n)
		}
	})

	// Rule AA-14: a test environment takes synthetic persons only, also from ID-porten.
	t.Run("a real fødselsnummer in the test environment is refused", func(t *testing.T) {
		b := o.visitor()
		p := o.signIn(b, openid.IDPorten, o.idporten, substantial("p-real", "15038510190"))
		refused(t, b, p, http.StatusForbidden, "bare imot syntetiske testpersoner")
	})

	t.Run("tampered state and replayed answers are refused", func(t *testing.T) {
		b := o.visitor()
		o.idporten.next(substantial("pairwise-1", persons[0].Ident))
		back := o.toProvider(b, openid.IDPorten)
		q := back.Query()
		good := q.Get("state")
		q.Set("state", good[:len(good)-1]+"X")
		tampered := *back
		tampered.RawQuery = q.Encode()
		refused(t, b, o.back(b, &tampered), http.StatusBadRequest, "kunne ikke fullføres")
		// The flow was used up by the tampered answer: the genuine one no longer works.
		refused(t, b, o.back(b, back), http.StatusBadRequest, "kunne ikke fullføres")
		// An answer taken to another browser (login CSRF) is refused: its session sent no state.
		other := o.visitor()
		o.idporten.next(substantial("pairwise-1", persons[0].Ident))
		stolen := o.toProvider(b, openid.IDPorten)
		refused(t, other, o.back(other, stolen), http.StatusBadRequest, "kunne ikke fullføres")
		// A signed-in answer replayed is refused.
		ok := o.back(b, stolen)
		if ok.status != http.StatusSeeOther || !signedIn(b) {
			t.Fatalf("the genuine answer: %d", ok.status)
		}
		b.post("/logg-ut", nil)
		if signedIn(b) {
			t.Fatal("signed in after signing out")
		}
		refused(t, b, o.back(b, stolen), http.StatusBadRequest, "kunne ikke fullføres")
	})

	// The review's finding 7: every refusal has its log line; the provider's
	// error parameter is logged only as a known code, never as written.
	t.Run("a sign-in cancelled at the provider is refused and logged", func(t *testing.T) {
		for code, logged := range map[string]string{"access_denied": "error=access_denied", persons[2].Ident: "error=other"} {
			b := o.visitor()
			o.idporten.next(substantial("p-cancel", persons[2].Ident))
			back := o.toProvider(b, openid.IDPorten)
			q := url.Values{"state": {back.Query().Get("state")}, "error": {code}}
			cancelled := *back
			cancelled.RawQuery = q.Encode()
			refused(t, b, o.back(b, &cancelled), http.StatusUnauthorized, "Innloggingen ble avbrutt")
			if logs := h.logs.String(); !strings.Contains(logs, "reason=cancelled "+logged) || strings.Contains(logs, persons[2].Ident) {
				t.Fatalf("the cancelled sign-in's log line (want %q)", logged)
			}
		}
	})

	cw := h.account(governance.Saksbehandler, governance.AuthorityOrg, "")

	t.Run("an unknown member of staff is refused", func(t *testing.T) {
		b := o.visitor()
		p := o.signIn(b, openid.Staff, o.staff, idWho{sub: "entra-unknown", claims: map[string]any{"email": "stranger@register.example", "email_verified": true}})
		refused(t, b, p, http.StatusForbidden, "Du er ikke registrert som ansatt i registeret")
		if !p.has("entra-unknown") {
			t.Fatal("the refusal does not show the identity to give the forvalter")
		}
		// A case worker's address the provider does not vouch for links nothing.
		b = o.visitor()
		p = o.signIn(b, openid.Staff, o.staff, idWho{sub: "entra-cw", claims: map[string]any{"email": cw, "email_verified": false}})
		refused(t, b, p, http.StatusForbidden, "Du er ikke registrert som ansatt i registeret")
		// A person's ID-porten identity through the staff provider is no staff.
		b = o.visitor()
		p = o.signIn(b, openid.Staff, o.staff, idWho{sub: "pairwise-1", claims: map[string]any{"pid": persons[0].Ident}})
		refused(t, b, p, http.StatusForbidden, "Du er ikke registrert som ansatt i registeret")
	})

	t.Run("staff linked by a verified e-mail, then by the identity", func(t *testing.T) {
		b := o.visitor()
		o.signIn(b, openid.Staff, o.staff, idWho{sub: "entra-cw", claims: map[string]any{"email": strings.ToUpper(cw), "email_verified": "true"}})
		if s := b.get("/portal/saker"); s.status != http.StatusOK {
			t.Fatalf("the case worker's page: %d", s.status)
		}
		b2 := o.visitor()
		o.signIn(b2, openid.Staff, o.staff, idWho{sub: "entra-cw", claims: map[string]any{}})
		if s := b2.get("/portal/saker"); s.status != http.StatusOK {
			t.Fatalf("by the link alone: %d", s.status)
		}
	})

	// The review's takeover finding: once the account has an identity at the
	// staff's provider, another identity with the same verified address is refused.
	t.Run("a second identity with a linked account's address is refused", func(t *testing.T) {
		b := o.visitor()
		p := o.signIn(b, openid.Staff, o.staff, idWho{sub: "entra-takeover", claims: map[string]any{"email": cw, "email_verified": true}})
		refused(t, b, p, http.StatusForbidden, "Du er ikke registrert som ansatt i registeret")
		if !strings.Contains(h.logs.String(), "reason=staff-linked-elsewhere") {
			t.Fatal("the refusal is not logged with its reason")
		}
	})

	t.Run("staff linked by the forvalter", func(t *testing.T) {
		fv := h.account(governance.Forvalter, governance.AuthorityOrg, "")
		u, hash, err := h.db.UserByEmail(ctx, fv)
		if err != nil {
			t.Fatal(err)
		}
		// A password someone else chose must be changed before anything else — at a password
		// sign-in; a sign-in at the provider used no password, so it is not sent to change one.
		if _, err := h.db.SetPassword(ctx, u.ID, hash, true, "test"); err != nil {
			t.Fatal(err)
		}
		if err := h.db.LinkIdentity(ctx, u.ID, store.Identity{Issuer: o.staff.issuer(), Subject: "entra-fv"}, "test"); err != nil {
			t.Fatal(err)
		}
		b := o.visitor()
		o.signIn(b, openid.Staff, o.staff, idWho{sub: "entra-fv", claims: map[string]any{"amr": "pwd"}})
		if !signedIn(b) {
			t.Fatal("the forvalter's linked identity did not sign in (or was sent to change a password it did not use)")
		}
		// The same subject at another issuer (ID-porten) is another identity.
		b2 := o.visitor()
		p := o.signIn(b2, openid.IDPorten, o.idporten, idWho{sub: "entra-fv", claims: map[string]any{"acr": "idporten-loa-high"}})
		refused(t, b2, p, http.StatusForbidden, "gyldig fødselsnummer")
	})

	t.Run("an unknown provider and a cross-site start are refused", func(t *testing.T) {
		b := o.visitor()
		if p := b.post("/logg-inn/oidc/ukjent", nil); p.status != http.StatusNotFound {
			t.Fatalf("unknown provider: %d", p.status)
		}
		p := b.post("/logg-inn/oidc/"+openid.IDPorten, nil, "Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site")
		if p.status != http.StatusForbidden {
			t.Fatalf("cross-site start: %d", p.status)
		}
	})

	// The refusals are counted for the operator.
	if got := signInFailures(t, h); got["openid-unknown-staff"] != 4 || got["openid-state"] < 4 || got["openid-id-token"] != 4 {
		t.Fatalf("deling_signin_failures_total: %v", got)
	}
}

// personAccounts counts the active person accounts holding pid.
func personAccounts(t *testing.T, h *harness, pid string) int {
	t.Helper()
	ms, err := h.db.OrgMembers(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, m := range ms {
		if m.User.PID == pid {
			n++
		}
	}
	return n
}

// Linking staff by e-mail is off unless the operator turns it on: a
// verified address of a case worker links nothing (the review's finding 1).
func TestOpenIDStaffLinkByEmailOff(t *testing.T) {
	o := newOpenIDPortalLinking(t, false)
	cw := o.h.account(governance.Saksbehandler, governance.AuthorityOrg, "")
	b := o.visitor()
	p := o.signIn(b, openid.Staff, o.staff, idWho{sub: "entra-cw", claims: map[string]any{"email": cw, "email_verified": true}})
	if p.status != http.StatusForbidden || !p.has("Du er ikke registrert som ansatt i registeret") || signedIn(b) {
		t.Fatalf("linked by e-mail with linking off: %d\n%s", p.status, p.body)
	}
}

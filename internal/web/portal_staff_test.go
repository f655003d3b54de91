package web

import (
	"encoding/json"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"deling/internal/access"
	"deling/internal/audit"
	"deling/internal/governance"
)

var startPassword = regexp.MustCompile(`<code id="startpassord">([^<]+)</code>`)

// Issue 16, item 5: the register's forvalter manages staff accounts in the
// portal — makes one with an initial password shown once, sets its roles,
// deactivates it (its session ends at once) — each change an event in the
// log; nobody else may (deny by default, cross-site posts refused), and the
// register never has zero forvalters.
func TestPortalStaffAccounts(t *testing.T) {
	h := newHarness(t)
	ctx := t.Context()
	fvEmail := h.account(governance.Forvalter, governance.AuthorityOrg, "")
	fvUser, _, _ := h.db.UserByEmail(ctx, fvEmail)
	fv := h.signIn(fvEmail)
	const base = "/portal/forvalter/ansatte"
	staffCount := func() int {
		ms, err := h.db.OrgMembers(ctx, governance.AuthorityOrg)
		if err != nil {
			t.Fatal(err)
		}
		return len(ms)
	}

	// Deny by default: a case worker and an organisation's administrator get
	// the no-access page, naming whom to ask; their posts change nothing.
	cw := h.signIn(h.account(governance.Saksbehandler, governance.AuthorityOrg, ""))
	if pg := cw.get(base); pg.status != http.StatusForbidden || !pg.has("Spør forvalteren i registeret") || !pg.has(html.EscapeString(fvUser.Navn)) {
		t.Fatalf("a case worker on the staff page: %d\n%s", pg.status, pg.body)
	}
	org, _ := h.consumer("Ansattkommune", grant(basic, access.ByArbeidstaker))
	adminEmail := h.account(governance.Administrator, org, "")
	admin, _, _ := h.db.UserByEmail(ctx, adminEmail)
	dev := h.signIn(h.account(governance.Utvikler, org, ""))
	if pg := dev.get(base); pg.status != http.StatusForbidden || !pg.has("Spør administratoren i virksomheten") || !pg.has(html.EscapeString(admin.Navn)) || pg.has(html.EscapeString(fvUser.Navn)) {
		t.Fatalf("a developer on the staff page: %d\n%s", pg.status, pg.body)
	}
	n := staffCount()
	newStaff := url.Values{"epost": {"ny.ansatt@register.test"}, "navn": {"Nina Ny"}, "rolle": {"saksbehandler"}}
	for _, b := range []*browserless{cw, h.signIn(adminEmail)} {
		if pg := b.post(base, newStaff); pg.status != http.StatusForbidden {
			t.Fatalf("a non-forvalter creating: %d", pg.status)
		}
	}
	if pg := fv.post(base, newStaff, "Origin", "https://angriper.test", "Sec-Fetch-Site", "cross-site"); pg.status != http.StatusForbidden {
		t.Fatalf("a cross-site post: %d", pg.status)
	}
	if staffCount() != n {
		t.Fatal("a refused post made an account")
	}

	// Bad input: clear messages, nothing made.
	for _, c := range []struct {
		form   url.Values
		status int
		msg    string
	}{
		{url.Values{"epost": {"ikke-en-adresse"}, "navn": {"X"}, "rolle": {"saksbehandler"}}, http.StatusBadRequest, "gyldig e-postadresse"},
		{url.Values{"epost": {"x@register.test"}, "navn": {"X"}}, http.StatusBadRequest, "minst én rolle"},
		{url.Values{"epost": {"x@register.test"}, "navn": {"X"}, "rolle": {"administrator"}}, http.StatusBadRequest, "minst én rolle"},
		{url.Values{"epost": {fvEmail}, "navn": {"X"}, "rolle": {"saksbehandler"}}, http.StatusConflict, "finnes allerede en konto"},
	} {
		if pg := fv.post(base, c.form); pg.status != c.status || !pg.has(c.msg) || !pg.has(`href="#f-`) {
			t.Fatalf("%v: %d\n%s", c.form, pg.status, pg.body)
		}
	}
	if staffCount() != n {
		t.Fatal("bad input made an account")
	}

	// Made, with the password shown once; the new account signs in with it.
	pg := fv.post(base, newStaff)
	m := startPassword.FindStringSubmatch(pg.body)
	if pg.status != http.StatusOK || m == nil || !pg.has("Nina Ny") {
		t.Fatalf("create: %d\n%s", pg.status, pg.body)
	}
	if again := fv.get(base); again.has(m[1]) {
		t.Fatal("the password is shown again")
	}
	nina, _, err := h.db.UserByEmail(ctx, "ny.ansatt@register.test")
	if err != nil {
		t.Fatal(err)
	}
	// The forvalter chose it: the first sign-in leads to the password page, and every other page and form leads there until it is changed.
	nb, other := h.anonymous(), h.anonymous()
	for _, b := range []*browserless{nb, other} {
		if p := b.post("/logg-inn", url.Values{"epost": {"ny.ansatt@register.test"}, "passord": {html.UnescapeString(m[1])}}); p.status != http.StatusOK || !strings.HasSuffix(p.url, "/portal/passord") || !p.has("valgt av noen andre") {
			t.Fatalf("the new account signs in: %d %s", p.status, p.url)
		}
	}
	if p := nb.get("/portal/saker"); !strings.HasSuffix(p.url, "/portal/passord") {
		t.Fatalf("a page before the password is changed: %s", p.url)
	}
	newPW := "en lang og hemmelig setning"
	for _, c := range []struct {
		form url.Values
		msg  string
	}{
		{url.Values{"gammelt": {"feil passord her"}, "passord": {newPW}, "passord2": {newPW}}, "er feil"},
		{url.Values{"gammelt": {html.UnescapeString(m[1])}, "passord": {newPW}, "passord2": {newPW + "x"}}, "ikke like"},
		{url.Values{"gammelt": {html.UnescapeString(m[1])}, "passord": {"kort"}, "passord2": {"kort"}}, "minst 12"},
	} {
		if p := nb.post("/portal/passord", c.form); p.status != http.StatusBadRequest || !p.has(c.msg) {
			t.Fatalf("%v: %d\n%s", c.form, p.status, p.body)
		}
	}
	if p := nb.post("/portal/passord", url.Values{"gammelt": {html.UnescapeString(m[1])}, "passord": {newPW}, "passord2": {newPW}}); p.status != http.StatusOK || !strings.HasSuffix(p.url, "/portal") || !p.has("Passordet er byttet") {
		t.Fatalf("change the password: %d %s", p.status, p.url)
	}
	// The session elsewhere ended; the old password no longer signs in, the new one does.
	if p := other.get("/portal"); !strings.Contains(p.url, "/logg-inn") {
		t.Fatalf("the other session after the change: %s", p.url)
	}
	if p := h.anonymous().post("/logg-inn", url.Values{"epost": {"ny.ansatt@register.test"}, "passord": {html.UnescapeString(m[1])}}); p.status != http.StatusUnauthorized {
		t.Fatalf("the old password: %d", p.status)
	}
	if p := other.post("/logg-inn", url.Values{"epost": {"ny.ansatt@register.test"}, "passord": {newPW}}); !strings.HasSuffix(p.url, "/portal") {
		t.Fatalf("the new password: %s", p.url)
	}

	// The forvalter resets it: a one-time password shown once, Nina's sessions end, and she must change it again.
	pg = fv.post(base+"/"+nina.ID+"/nytt-passord", nil)
	reset := startPassword.FindStringSubmatch(pg.body)
	if pg.status != http.StatusOK || reset == nil || !pg.has("har fått nytt passord") {
		t.Fatalf("reset: %d\n%s", pg.status, pg.body)
	}
	if p := other.get("/portal"); !strings.Contains(p.url, "/logg-inn") {
		t.Fatalf("Nina's session after the reset: %s", p.url)
	}
	m = reset
	if p := nb.post("/logg-inn", url.Values{"epost": {"ny.ansatt@register.test"}, "passord": {html.UnescapeString(m[1])}}); !strings.HasSuffix(p.url, "/portal/passord") {
		t.Fatalf("after the reset: %s", p.url)
	}
	if p := nb.post("/portal/passord", url.Values{"gammelt": {html.UnescapeString(m[1])}, "passord": {newPW + " to"}, "passord2": {newPW + " to"}}); !strings.HasSuffix(p.url, "/portal") {
		t.Fatalf("change after the reset: %d %s", p.status, p.url)
	}
	m[1] = html.EscapeString(newPW + " to")

	// The last forvalter can neither give up the role nor close their account.
	if pg := fv.post(base+"/"+fvUser.ID+"/roller", url.Values{"rolle": {"saksbehandler"}}); pg.status != http.StatusConflict || !pg.has("minst én forvalter") {
		t.Fatalf("the last forvalter's role: %d", pg.status)
	}
	if pg := fv.post(base+"/"+fvUser.ID+"/deaktiver", url.Values{"bekreft": {"ja"}}); pg.status != http.StatusConflict || !pg.has("minst én forvalter") {
		t.Fatalf("the last forvalter's account: %d", pg.status)
	}
	if ms, _ := h.db.Memberships(ctx, fvUser.ID); !governance.Has(ms, governance.AuthorityOrg, governance.Forvalter) || governance.Has(ms, governance.AuthorityOrg, governance.Saksbehandler) {
		t.Fatalf("a refused change changed roles: %+v", ms)
	}

	// Roles set: Nina becomes DPO and forvalter; then the first forvalter may step down.
	if pg := fv.post(base+"/"+nina.ID+"/roller", url.Values{"rolle": {"personvernombud", "forvalter"}}); pg.status != http.StatusOK || !pg.has("Rollene til Nina Ny er endret") {
		t.Fatalf("set roles: %d", pg.status)
	}
	if ms, _ := h.db.Memberships(ctx, nina.ID); len(ms) != 2 || !governance.Has(ms, governance.AuthorityOrg, governance.Forvalter) || !governance.Has(ms, governance.AuthorityOrg, governance.Personvernombud) {
		t.Fatalf("Nina's roles: %+v", ms)
	}
	if pg := nb.get(base); pg.status != http.StatusOK {
		t.Fatalf("Nina as forvalter at the next click: %d", pg.status)
	}
	// An account that is not the register's staff is not found here.
	if pg := fv.post(base+"/"+admin.ID+"/roller", url.Values{"rolle": {"saksbehandler"}}); pg.status != http.StatusNotFound {
		t.Fatalf("a consumer's account given staff roles: %d", pg.status)
	}
	if ms, _ := h.db.Memberships(ctx, admin.ID); governance.HasAny(ms, governance.AuthorityOrg, governance.Saksbehandler) {
		t.Fatal("a consumer's account got a staff role")
	}

	// Deactivated: Nina's session ends at once, and she cannot sign in again.
	if pg := fv.post(base+"/"+nina.ID+"/deaktiver", nil); pg.status != http.StatusBadRequest || !pg.has("Kryss av for å bekrefte") {
		t.Fatalf("deactivate without confirming: %d", pg.status)
	}
	if u, _ := h.db.User(ctx, nina.ID); u.Disabled {
		t.Fatal("deactivated without confirming")
	}
	if pg := fv.post(base+"/"+nina.ID+"/deaktiver", url.Values{"bekreft": {"ja"}}); pg.status != http.StatusOK || !pg.has("er deaktivert") || pg.has(`id="ansatt-`+nina.ID+`"`) {
		t.Fatalf("deactivate: %d", pg.status)
	}
	if p := nb.get("/portal"); !strings.Contains(p.url, "/logg-inn") {
		t.Fatalf("a deactivated account's session: %d %s", p.status, p.url)
	}
	if p := h.anonymous().post("/logg-inn", url.Values{"epost": {"ny.ansatt@register.test"}, "passord": {html.UnescapeString(m[1])}}); strings.HasSuffix(p.url, "/portal") {
		t.Fatal("a deactivated account signed in")
	}

	// Reactivated, with her roles: listed among the deactivated, then signs in again.
	if pg := fv.get(base); !pg.has(`id="deaktivert-` + nina.ID + `"`) {
		t.Fatal("the deactivated account is not listed")
	}
	if pg := cw.post(base+"/"+nina.ID+"/aktiver", nil); pg.status != http.StatusForbidden {
		t.Fatalf("a case worker reactivating: %d", pg.status)
	}
	if pg := fv.post(base+"/"+admin.ID+"/aktiver", nil); pg.status != http.StatusNotFound {
		t.Fatalf("reactivating an active consumer's account: %d", pg.status)
	}
	if pg := fv.post(base+"/"+nina.ID+"/aktiver", nil); pg.status != http.StatusOK || !pg.has("aktivert igjen") {
		t.Fatalf("reactivate: %d", pg.status)
	}
	if p := h.anonymous().post("/logg-inn", url.Values{"epost": {"ny.ansatt@register.test"}, "passord": {html.UnescapeString(m[1])}}); !strings.HasSuffix(p.url, "/portal") {
		t.Fatalf("a reactivated account signs in: %s", p.url)
	}

	// Every change is an event in the log, by the forvalter.
	recs, err := h.db.AuditRecords(ctx, "", 10_000)
	if err != nil {
		t.Fatal(err)
	}
	var changes []string
	for _, r := range recs {
		var e map[string]any
		json.Unmarshal(r.Event, &e)
		if (r.Kind == audit.KindUserAdded || r.Kind == audit.KindUserRole) && e["user"] == nina.ID && r.Actor == "user:"+fvUser.ID {
			changes = append(changes, r.Kind+":"+fmtAny(e["change"]))
		}
	}
	if got := strings.Join(changes, " "); got != "user.added:<nil> user.role:password-reset user.role:added user.role:added user.role:removed user.role:disabled user.role:enabled" {
		t.Fatalf("events: %s", got)
	}
}

func fmtAny(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return "<nil>"
}

// Issue 16, item 5: an account that is both the register's staff and an
// organisation's is told, on that organisation's pages, to ask the
// organisation's administrators — not the register's forvalter; on the
// register's pages, the forvalter.
func TestForbiddenNamesThePagesArea(t *testing.T) {
	h := newHarness(t)
	ctx := t.Context()
	fvUser, _, _ := h.db.UserByEmail(ctx, h.account(governance.Forvalter, governance.AuthorityOrg, ""))
	org, _ := h.consumer("Blandingskommune", grant(basic, access.ByArbeidstaker))
	admin, _, _ := h.db.UserByEmail(ctx, h.account(governance.Administrator, org, ""))
	email := h.account(governance.Saksbehandler, governance.AuthorityOrg, "")
	mixed, _, _ := h.db.UserByEmail(ctx, email)
	if err := h.db.AddMembership(ctx, mixed.ID, org, governance.Utvikler, "test"); err != nil {
		t.Fatal(err)
	}
	b := h.signIn(email)
	if pg := b.post("/velg-virksomhet", url.Values{"org": {org}}); pg.status != http.StatusOK {
		t.Fatalf("choose the organisation: %d", pg.status)
	}
	pg := b.get("/portal/oppslagslogg") // the organisation's log: administrators and role holders
	if pg.status != http.StatusForbidden || !pg.has("Spør administratoren i virksomheten") || !pg.has(html.EscapeString(admin.Navn)) || pg.has(html.EscapeString(fvUser.Navn)) {
		t.Fatalf("a mixed account on an organisation's page: %d\n%s", pg.status, pg.body)
	}
	pg = b.get("/portal/forvalter/ansatte") // the register's page
	if pg.status != http.StatusForbidden || !pg.has("Spør forvalteren i registeret") || !pg.has(html.EscapeString(fvUser.Navn)) {
		t.Fatalf("a mixed account on the register's page: %d\n%s", pg.status, pg.body)
	}
}

// Rule AA-27: a staff account that is also an organisation's only
// administrator is not deactivated; the forvalter is told which
// organisation needs another administrator first.
func TestDeactivateLastOrganisationAdministrator(t *testing.T) {
	h := newHarness(t)
	ctx := t.Context()
	fv := h.signIn(h.account(governance.Forvalter, governance.AuthorityOrg, ""))
	org, _ := h.consumer("Enekommune", grant(basic, access.ByArbeidstaker))
	email := h.account(governance.Saksbehandler, governance.AuthorityOrg, "")
	both, _, _ := h.db.UserByEmail(ctx, email)
	if err := h.db.AddMembership(ctx, both.ID, org, governance.Administrator, "test"); err != nil {
		t.Fatal(err)
	}
	pg := fv.post("/portal/forvalter/ansatte/"+both.ID+"/deaktiver", url.Values{"bekreft": {"ja"}})
	if pg.status != http.StatusConflict || !pg.has("siste administratoren eller rolleinnehaveren hos Enekommune (org.nr. "+org+")") {
		t.Fatalf("deactivate an organisation's only administrator: %d\n%s", pg.status, pg.body)
	}
	if u, _ := h.db.User(ctx, both.ID); u.Disabled {
		t.Fatal("the organisation's only administrator was deactivated")
	}
}

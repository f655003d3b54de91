package web

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"deling/internal/access"
	"deling/internal/governance"
	"deling/internal/ident"
)

// sendConfidential sends the recipient a confidential message with a due
// date that asks for confirmation, through the API, and returns its id.
func (h *postHarness) sendConfidential(title string) string {
	h.t.Helper()
	a := h.do("POST", h.senderTok, "/correspondence/api/v1/correspondence", map[string]any{
		"correspondence": map[string]any{"resourceId": "dpv-helse-sosial-omsorg", "sendersReference": "sak-" + title,
			"isConfidential": true, "isConfirmationNeeded": true, "dueDateTime": time.Now().Add(14 * 24 * time.Hour).UTC().Format(time.RFC3339),
			"content": map[string]any{"messageTitle": title, "messageBody": "Vedtaket er **fattet**."}},
		"recipients": []string{"urn:altinn:organization:identifier-no:" + h.recipient}})
	if a.status != 200 {
		h.t.Fatalf("initialize: %d %s", a.status, a.body)
	}
	var init struct {
		Correspondences []struct{ CorrespondenceID string }
	}
	json.Unmarshal(a.body, &init)
	return init.Correspondences[0].CorrespondenceID
}

func (h *postHarness) userID(email string) string {
	h.t.Helper()
	u, _, err := h.db.UserByEmail(context.Background(), email)
	if err != nil {
		h.t.Fatal(err)
	}
	return u.ID
}

// senderSees is the statuses the sender reads through the API's details.
func (h *postHarness) senderSees(id string) string {
	h.t.Helper()
	a := h.do("GET", h.senderTok, "/correspondence/api/v1/correspondence/"+id+"/details", nil)
	if a.status != 200 {
		h.t.Fatalf("details: %d %s", a.status, a.body)
	}
	return string(a.body)
}

// Rule DPV-03: the daglig leder (key role) reads confidential post; an
// employee without Post/Arkiv sees nothing of it, not even that it exists,
// until the leader delegates it; reading and confirming are recorded and
// the sender sees them.
func TestPortalPostReading_DPV03(t *testing.T) {
	h := newPostHarness(t)
	id := h.sendConfidential("Vedtak om tilskudd")
	leader := h.signIn(h.leader)
	if p := leader.get("/portal/post"); p.status != 200 || !p.has("Vedtak om tilskudd") || !p.has("Taushetsbelagt") {
		t.Fatalf("the leader's inbox: %d %s", p.status, p.body)
	}
	employeeEmail := h.account(governance.Oppslagsbruker, h.recipient, "")
	employee := h.signIn(employeeEmail)
	if p := employee.get("/portal/post"); p.status != 200 || p.has("Vedtak om tilskudd") || !p.has("ikke rollen Post/arkiv") {
		t.Fatalf("the employee's inbox before delegation: %d %s", p.status, p.body)
	}
	missing := employee.get("/portal/post/melding/finnes-ikke")
	if p := employee.get("/portal/post/melding/" + id); p.status != 404 || p.body != missing.body {
		t.Fatalf("the employee opens it: %d", p.status)
	}
	// Post/Arkiv alone is not enough for confidential post.
	if p := leader.post("/portal/post/tilgang", url.Values{"type": {"person"}, "bruker": {h.userID(employeeEmail)}, "rett": {"post_arkiv"}}); p.status != 200 || !p.has("Tilgangen er gitt") {
		t.Fatalf("delegate Post/Arkiv: %d %s", p.status, p.body)
	}
	if p := employee.get("/portal/post/melding/" + id); p.status != 404 {
		t.Fatalf("with Post/Arkiv only: %d", p.status)
	}
	if p := leader.post("/portal/post/tilgang", url.Values{"type": {"person"}, "bruker": {h.userID(employeeEmail)}, "rett": {"taushetsbelagt"}}); p.status != 200 {
		t.Fatalf("delegate confidential: %d %s", p.status, p.body)
	}
	if s := h.senderSees(id); strings.Contains(s, `"Fetched"`) {
		t.Fatalf("fetched before anyone opened it: %s", s)
	}
	p := employee.get("/portal/post/melding/" + id)
	if p.status != 200 || !p.has("<strong>fattet</strong>") || !p.has("Bekreft mottak") {
		t.Fatalf("the employee reads: %d %s", p.status, p.body)
	}
	if p := employee.post("/portal/post/melding/"+id+"/bekreft", nil); p.status != 200 || !p.has("Meldingen er bekreftet") {
		t.Fatalf("confirm: %d %s", p.status, p.body)
	}
	s := h.senderSees(id)
	for _, st := range []string{"Fetched", "Read", "Confirmed"} {
		if !strings.Contains(s, `"`+st+`"`) {
			t.Fatalf("the sender does not see %s: %s", st, s)
		}
	}
	// Read post moves to the archive.
	if p := employee.get("/portal/post/arkiv"); !p.has("Vedtak om tilskudd") {
		t.Fatalf("archive: %s", p.body)
	}
}

// Rule DPV-03: another organisation's people, and those who may not
// delegate, are refused without learning what exists; bad input is shown by
// field and stores nothing.
func TestPortalPostRefusals_DPV03(t *testing.T) {
	h := newPostHarness(t)
	ctx := context.Background()
	id := h.sendConfidential("Melding til Mottaker AS")
	other, _ := h.consumer("Annen AS")
	stranger := h.signIn(h.daglLeader(other))
	missing := stranger.get("/portal/post/melding/finnes-ikke")
	for _, path := range []string{"/portal/post/melding/" + id, "/portal/post/melding/" + id + "/vedlegg/x"} {
		if p := stranger.get(path); p.status != 404 || p.body != missing.body {
			t.Fatalf("another organisation's leader at %s: %d", path, p.status)
		}
	}
	if p := stranger.get("/portal/post"); p.has("Melding til Mottaker AS") {
		t.Fatal("another organisation's inbox shows it")
	}
	if p := stranger.post("/portal/post/melding/"+id+"/bekreft", nil); p.status != 404 {
		t.Fatalf("another organisation confirms: %d", p.status)
	}
	// The leader gives Post/Arkiv; the other organisation cannot take it back.
	employeeEmail := h.account(governance.Oppslagsbruker, h.recipient, "")
	leader := h.signIn(h.leader)
	leader.post("/portal/post/tilgang", url.Values{"type": {"person"}, "bruker": {h.userID(employeeEmail)}, "rett": {"post_arkiv"}})
	dels, err := h.db.PostDelegations(ctx, ident.Orgnr(h.recipient))
	if err != nil || len(dels) != 1 {
		t.Fatalf("delegations: %+v %v", dels, err)
	}
	if p := stranger.post("/portal/post/tilgang/"+dels[0].ID+"/trekk", nil); p.status != 404 {
		t.Fatalf("another organisation revokes: %d", p.status)
	}
	// Someone without a key role or the access-management role may not delegate, even holding Post/Arkiv.
	employee := h.signIn(employeeEmail)
	if p := employee.get("/portal/post/tilgang"); p.status != http.StatusForbidden {
		t.Fatalf("the employee's delegation page: %d", p.status)
	}
	if p := employee.post("/portal/post/tilgang", url.Values{"type": {"virksomhet"}, "orgnr": {other}, "rett": {"post_arkiv"}}); p.status != http.StatusForbidden {
		t.Fatalf("the employee delegates: %d", p.status)
	}
	// Bad input: shown by field, the input kept, nothing stored.
	for _, form := range []url.Values{
		{"type": {"person"}, "bruker": {h.userID(h.leader) + "x"}, "rett": {"post_arkiv"}},
		{"type": {"virksomhet"}, "orgnr": {"123456789"}, "rett": {"post_arkiv"}},     // not an organisation number
		{"type": {"virksomhet"}, "orgnr": {h.recipient}, "rett": {"post_arkiv"}},     // its own
		{"type": {"virksomhet"}, "orgnr": {other}, "rett": {"tilgangsstyring"}},      // Tilgangsstyring to an organisation
		{"type": {"person"}, "bruker": {h.userID(h.leader)}, "rett": {"post_arkiv"}}, // to oneself
		{"type": {"virksomhetsbruker"}, "brukernavn": {""}, "rett": {"post_arkiv"}},
		{"type": {"person"}, "bruker": {h.userID(employeeEmail)}, "rett": {"alt"}},
		{"type": {"robot"}, "rett": {"post_arkiv"}},
	} {
		p := leader.post("/portal/post/tilgang", form)
		if p.status != http.StatusUnprocessableEntity || !p.has("ds-error-summary") {
			t.Fatalf("%v: %d", form, p.status)
		}
		if v := form.Get("brukernavn") + form.Get("orgnr"); v != "" && !p.has(`value="`+v+`"`) {
			t.Fatalf("%v: the input is not kept", form)
		}
	}
	// Rule DPV-03 (Altinn 2): the access-management role (the portal's
	// administrator) gives only what it holds itself — here nothing: not
	// confidential post, not Post/Arkiv, not Tilgangsstyring, not to itself,
	// so that it cannot give itself reading through another user.
	adminEmail := h.account(governance.Administrator, h.recipient, "")
	admin := h.signIn(adminEmail)
	for _, form := range []url.Values{
		{"type": {"person"}, "bruker": {h.userID(employeeEmail)}, "rett": {"taushetsbelagt"}},
		{"type": {"person"}, "bruker": {h.userID(employeeEmail)}, "rett": {"tilgangsstyring"}},
		{"type": {"person"}, "bruker": {h.userID(adminEmail)}, "rett": {"post_arkiv"}},
		{"type": {"virksomhetsbruker"}, "brukernavn": {h.recipClient}, "rett": {"post_arkiv"}},
	} {
		if p := admin.post("/portal/post/tilgang", form); p.status != http.StatusUnprocessableEntity {
			t.Fatalf("the administrator delegates %v: %d", form, p.status)
		}
	}
	if p := leader.post("/portal/post/tilgang", url.Values{"type": {"virksomhetsbruker"}, "brukernavn": {h.recipClient}, "rett": {"post_arkiv"}}); p.status != 200 {
		t.Fatalf("the leader delegates to an enterprise user: %d %s", p.status, p.body)
	}
	if dels, _ := h.db.PostDelegations(ctx, ident.Orgnr(h.recipient)); len(dels) != 2 {
		t.Fatalf("after the refusals: %d delegations", len(dels))
	}
	// The administrator cannot read by the role alone.
	if p := admin.get("/portal/post/melding/" + id); p.status != 404 {
		t.Fatalf("the administrator reads: %d", p.status)
	}
}

// Rules DPV-01, DPV-09, DPV-10, DPV-11: the register's staff registers a
// sender (refused by field without a service lead or a deputy), sees its
// count against 10,000, and marks it as left: its post is deleted, and the
// deletion logged.
func TestPortalPostSenders_DPV01_DPV09_DPV10_DPV11(t *testing.T) {
	h := newPostHarness(t)
	ctx := context.Background()
	h.sendConfidential("Før utmelding")
	staff := h.signIn(h.account(governance.Forvalter, governance.AuthorityOrg, ""))
	if p := staff.get("/portal/forvalter/post"); p.status != 200 || !p.has("Testkommune") || !p.has("1 av 10000") {
		t.Fatalf("the senders page: %d %s", p.status, p.body)
	}
	newOrg := string(ident.SyntheticOrgnr(8123))
	form := url.Values{"orgnr": {newOrg}, "navn": {"Fylkeskommunen"}, "grunnlag": {"fylkeskommune"},
		"serviceleder_navn": {"Siri"}, "serviceleder_epost": {"siri@example.no"}, "serviceleder_telefon": {"+4790000002"},
		"kategorier": {"administrasjon", "natur-miljo"}}
	// Rule DPV-09: no deputy and no shared address.
	if p := staff.post("/portal/forvalter/post", form); p.status != http.StatusUnprocessableEntity || !p.has("fast stedfortreder") || !p.has(`value="Fylkeskommunen"`) ||
		!p.has(`id="f-stedfortreder_epost" name="stedfortreder_epost" type="text" value="" aria-invalid="true"`) { // review finding 15
		t.Fatalf("without a deputy: %d %s", p.status, p.body)
	}
	if _, err := h.db.PostSender(ctx, ident.Orgnr(newOrg)); err == nil {
		t.Fatal("stored after the refusal")
	}
	form.Set("felles_epost", "post@fylke.example")
	form.Set("felles_telefon", "+4790000003")
	if p := staff.post("/portal/forvalter/post", form); p.status != 200 || !p.has("Fylkeskommunen er registrert") {
		t.Fatalf("register: %d %s", p.status, p.body)
	}
	if s, err := h.db.PostSender(ctx, ident.Orgnr(newOrg)); err != nil || len(s.Categories) != 2 || s.Shared == nil {
		t.Fatalf("stored: %+v %v", s, err)
	}
	// Rule DPV-10 (review finding 6): a full agreement, once recorded, stays
	// when the sender is changed; the form is filled with the current values;
	// a category left out is named when it goes.
	form.Set("avtale", "1")
	form.Set("avtale_referanse", "AVT-2026-1")
	staff.post("/portal/forvalter/post", form)
	if p := staff.get("/portal/forvalter/post?endre=" + newOrg); !p.has(`value="siri@example.no"`) || !p.has(`value="AVT-2026-1"`) || !p.has(`value="natur-miljo" checked`) {
		t.Fatalf("the form to change it: %s", p.body)
	}
	form.Del("avtale")
	form.Del("avtale_referanse")
	form["kategorier"] = []string{"administrasjon"}
	if p := staff.post("/portal/forvalter/post", form); p.status != 200 || !p.has("kan ikke lenger sende i: ") {
		t.Fatalf("change: %d %s", p.status, p.body)
	}
	if s, err := h.db.PostSender(ctx, ident.Orgnr(newOrg)); err != nil || s.Agreement == nil || s.Agreement.Reference != "AVT-2026-1" || len(s.Categories) != 1 {
		t.Fatalf("after the change: %+v %v", s, err)
	}
	// Only the register's staff.
	if p := h.signIn(h.leader).get("/portal/forvalter/post"); p.status != http.StatusForbidden {
		t.Fatalf("an organisation's leader at the senders page: %d", p.status)
	}
	// Rule DPV-11: leaving needs the box ticked, then deletes and logs.
	staff.post("/portal/forvalter/post/"+h.sender+"/utmeld", nil)
	if h.correspondences() != 1 {
		t.Fatal("deleted without the box ticked")
	}
	before, _ := h.db.LogSize(ctx)
	if p := staff.post("/portal/forvalter/post/"+h.sender+"/utmeld", url.Values{"bekreft": {"1"}}); !p.has("1 melding er slettet") { // review finding 15
		t.Fatalf("leave: %s", p.body)
	}
	if h.correspondences() != 0 {
		t.Fatal("the sender's post remains")
	}
	if after, _ := h.db.LogSize(ctx); after != before+1 {
		t.Fatalf("log %d → %d: the deletion is not recorded", before, after)
	}
}

// Rule DPV-08: maintenance of digital post is refused less than 5 working
// days ahead and an interface change less than 6 months ahead, by field,
// nothing stored; in time, they are published.
func TestPortalPostNotices_DPV08(t *testing.T) {
	h := newHarness(t)
	forvalter := h.signIn(h.account(governance.Forvalter, governance.AuthorityOrg, ""))
	oslo, _ := time.LoadLocation("Europe/Oslo")
	at := func(d time.Duration) string { return time.Now().Add(d).In(oslo).Format("2006-01-02T15:04") }
	form := url.Values{"type": {"post_vedlikehold"}, "tittel": {"Vedlikehold av innboksen"}, "tekst": {"Digital post er nede."},
		"start": {at(48 * time.Hour)}, "slutt": {at(50 * time.Hour)}}
	if p := forvalter.post("/portal/forvalter/meldinger", form); p.status != http.StatusBadRequest || !p.has("minst 5 virkedager") || !p.has(`href="#f-start"`) {
		t.Fatalf("two days ahead: %d\n%s", p.status, p.body)
	}
	day := func(d time.Duration) string { return time.Now().Add(d).In(oslo).Format("2006-01-02") }
	iface := url.Values{"type": {"post_grensesnitt"}, "tittel": {"Nytt felt i API-et"}, "tekst": {"Avsendere må oppgi kategori."},
		"sunset": {day(90 * 24 * time.Hour)}}
	// Review finding 15: the refusal gives the earliest allowed date, as the maintenance refusal does.
	if p := forvalter.post("/portal/forvalter/meldinger", iface); p.status != http.StatusBadRequest || !p.has("minst 6 måneder") || !p.has("tidligst ") {
		t.Fatalf("three months ahead: %d", p.status)
	}
	bad := url.Values{"type": {"post_grensesnitt"}, "tittel": {"Nytt felt"}, "tekst": {"Tekst."}, "sunset": {"neste vår"}}
	if p := forvalter.post("/portal/forvalter/meldinger", bad); p.status != http.StatusBadRequest || !p.has("Skriv datoen som 2027-03-24 eller 24.03.2027.") {
		t.Fatalf("not a date: %d", p.status)
	}
	if ns, _ := h.db.Notices(context.Background(), 10); len(ns) != 0 {
		t.Fatalf("stored: %+v", ns)
	}
	// Three weeks hold five working days whatever the holidays.
	form.Set("start", at(21*24*time.Hour))
	form.Set("slutt", at(21*24*time.Hour+2*time.Hour))
	iface.Set("sunset", day(190*24*time.Hour))
	for _, f := range []url.Values{form, iface} {
		if p := forvalter.post("/portal/forvalter/meldinger", f); !p.has("Meldingen er publisert") {
			t.Fatalf("%s in time: %d %s", f.Get("type"), p.status, p.body)
		}
	}
	if p := h.anonymous().get("/driftsmeldinger"); !p.has("Vedlikehold fra ") || !p.has("Endringen tar effekt") {
		t.Fatal("not on the notices page")
	}
}

// Issue 14 item 7 (Rule DPV-03): a case worker's suspension letter is post
// from the register in the consumer's inbox, read by its daglig leder; the
// e-mail to the contacts is its notification; another organisation does not
// see it.
func TestPortalPostRegisterLetters(t *testing.T) {
	h := newHarness(t)
	org, _ := h.consumer("Brevmottaker AS", grant(basic, access.ByArbeidstaker))
	leader := h.signIn(h.daglLeader(org))
	sb := h.signIn(h.account(governance.Saksbehandler, governance.AuthorityOrg, ""))
	if p := sb.post("/portal/konsumenter/"+org+"/suspender", url.Values{"brudd": {"Oppslag uten saksgrunnlag"}}); p.status != http.StatusOK {
		t.Fatalf("suspend: %d", p.status)
	}
	p := leader.get("/portal/post")
	if !p.has("Registerforvalteren (deling)") {
		t.Fatalf("the leader's inbox has no letter from the register: %s", p.body)
	}
	in, err := h.db.PostInbox(context.Background(), ident.Orgnr(org))
	if err != nil || len(in) != 1 {
		t.Fatalf("inbox: %+v %v", in, err)
	}
	if m := leader.get("/portal/post/melding/" + in[0].ID); m.status != 200 || !m.has("Oppslag uten saksgrunnlag") {
		t.Fatalf("the letter: %d %s", m.status, m.body)
	}
	if b := leader.get("/portal/brev"); !b.has(`href="/portal/post"`) || !b.has("er suspendert") {
		t.Fatal("the letters page does not link to the inbox")
	}
	// Rule DPV-03 (review finding 4): the letters page shows no letter's
	// text, so that an administrator without Post/Arkiv reads none there.
	admin := h.signIn(h.account(governance.Administrator, org, ""))
	if b := admin.get("/portal/brev"); b.status != 200 || !b.has("er suspendert") || b.has("Oppslag uten saksgrunnlag") {
		t.Fatalf("the administrator's letters page: %d %s", b.status, b.body)
	}
	other, _ := h.consumer("Annen AS")
	if p := h.signIn(h.daglLeader(other)).get("/portal/post/melding/" + in[0].ID); p.status != 404 {
		t.Fatalf("another organisation reads it: %d", p.status)
	}
}

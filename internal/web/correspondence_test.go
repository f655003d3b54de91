package web

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"deling/internal/ident"
	"deling/internal/post"
	"deling/internal/token/authserver"
)

// postHarness is a harness with an eligible sender and a recipient
// organisation, each with an API client and a token carrying its scope.
type postHarness struct {
	*harness
	sender, recipient   string
	senderTok, recipTok string
	recipClient         string
	leader              string // the recipient's daglig leder in the portal (e-mail)
}

func newPostHarness(t *testing.T) *postHarness {
	h := &postHarness{harness: newHarness(t)}
	ctx := context.Background()
	h.sender, _ = h.consumer("Testkommune")
	h.recipient, _ = h.consumer("Mottaker AS")
	// Its daglig leder: a key role holder, so it can receive confidential post (1044, Rule DPV-03).
	h.leader = h.daglLeader(h.recipient)
	// Rule DPV-01: the register's staff registers the sender.
	if err := h.db.RegisterPostSender(ctx, post.Sender{Orgnr: ident.Orgnr(h.sender), Name: "Testkommune", Basis: "kommune",
		ServiceLead: post.Contact{Name: "Leder", Email: "leder@example.no", Phone: "+4790000000"},
		Shared:      &post.Contact{Email: "post@example.no", Phone: "+4790000001"}, Categories: post.Categories()}, "staff"); err != nil {
		t.Fatal(err)
	}
	cs := h.client(h.sender)
	cs.Scope = post.ScopeWrite
	h.senderTok = h.token(cs)
	cr := h.client(h.recipient)
	cr.Scope = post.ScopeRead
	h.recipTok, h.recipClient = h.token(cr), cr.ClientID
	return h
}

// altinnProblem is Altinn's problem body.
type altinnProblem struct {
	Status    int                 `json:"status"`
	ErrorCode int                 `json:"errorCode"`
	Errors    map[string][]string `json:"errors"`
}

func (a answer) altinn(t *testing.T) altinnProblem {
	t.Helper()
	var p altinnProblem
	if err := json.Unmarshal(a.body, &p); err != nil || a.header.Get("Content-Type") != "application/problem+json" {
		t.Fatalf("not a problem body (%v): %d %s", err, a.status, a.body)
	}
	return p
}

func (h *postHarness) correspondences() int {
	ids, err := h.db.ListCorrespondences(context.Background(), ident.Orgnr(h.sender), post.ListQuery{Role: post.RoleSender})
	if err != nil {
		h.t.Fatal(err)
	}
	return len(ids)
}

// An Altinn 3 sender integration's requests, with only the base URL changed:
// initialize with an attachment, upload it, read the status, bulk status;
// the recipient's system fetches and confirms (Rules DPV-03, DPV-05).
func TestCorrespondenceAltinnIntegration_DPV03_DPV05(t *testing.T) {
	h := newPostHarness(t)
	ctx := context.Background()
	file := []byte("%PDF-1.4 vedtak om tilgang\n")
	sum := md5.Sum(file)
	due := time.Now().Add(30 * 24 * time.Hour).UTC().Format(time.RFC3339)
	// The body as an Altinn 3 integration writes it (research §1.3).
	body := fmt.Sprintf(`{
	  "correspondence": {
	    "resourceId": "dpv-administrasjon",
	    "sendersReference": "sak-2026-17",
	    "messageSender": "Testkommune, plan og bygg",
	    "content": {
	      "language": "nb",
	      "messageTitle": "Vedtak om tilgang",
	      "messageSummary": "Vedtaket ligger vedlagt.",
	      "messageBody": "# Vedtak\n\nSe **vedlegget**.",
	      "attachments": [{"fileName": "vedtak.pdf", "sendersReference": "v-1", "checksum": "%s", "dataLocationType": "NewCorrespondenceAttachment"}]
	    },
	    "dueDateTime": "%s",
	    "isConfirmationNeeded": true,
	    "notification": {"notificationTemplate": "CustomMessage", "notificationChannel": "Email",
	      "emailSubject": "Ny post", "emailBody": "Du har fått post.", "sendReminder": true,
	      "reminderEmailSubject": "Påminnelse", "reminderEmailBody": "Du har ulest post.",
	      "customRecipients": [{"emailAddress": "varsel@example.no"}]}
	  },
	  "recipients": ["urn:altinn:organization:identifier-no:%s"],
	  "idempotentKey": "6f1d4a2e-8c3b-4b7a-9e2f-0a1b2c3d4e5f"
	}`, hex.EncodeToString(sum[:]), due, h.recipient)
	a := h.do("POST", h.senderTok, "/correspondence/api/v1/correspondence", body)
	if a.status != http.StatusOK {
		t.Fatalf("initialize: %d %s", a.status, a.body)
	}
	var init struct {
		Correspondences []struct {
			CorrespondenceID, Status, Recipient string
		}
		AttachmentIDs []string
	}
	if err := json.Unmarshal(a.body, &init); err != nil || len(init.Correspondences) != 1 || len(init.AttachmentIDs) != 1 {
		t.Fatalf("initialize answer: %s", a.body)
	}
	id := init.Correspondences[0].CorrespondenceID
	if init.Correspondences[0].Status != "Initialized" {
		t.Fatalf("before the upload: %s", init.Correspondences[0].Status)
	}
	// The same key and content again: the same correspondence, nothing new.
	if a := h.do("POST", h.senderTok, "/correspondence/api/v1/correspondence", body); a.status != 200 || !strings.Contains(string(a.body), id) {
		t.Fatalf("replay: %d %s", a.status, a.body)
	}
	up := h.do("POST", h.senderTok, "/correspondence/api/v1/attachment/"+init.AttachmentIDs[0]+"/upload", string(file), "Content-Type", "application/octet-stream")
	if up.status != 200 {
		t.Fatalf("upload: %d %s", up.status, up.body)
	}
	status := func(tok, path string) map[string]any {
		t.Helper()
		a := h.do("GET", tok, path, nil)
		if a.status != 200 {
			t.Fatalf("GET %s: %d %s", path, a.status, a.body)
		}
		var m map[string]any
		json.Unmarshal(a.body, &m)
		return m
	}
	if s := status(h.senderTok, "/correspondence/api/v1/correspondence/"+id)["status"]; s != "Published" {
		t.Fatalf("after the upload: %v", s)
	}
	// Rule DPV-03: the recipient's system reads only with Post/Arkiv delegated to it.
	if a := h.do("GET", h.recipTok, "/correspondence/api/v1/correspondence/"+id, nil); a.status != 404 || a.altinn(t).ErrorCode != post.CodeNotFound {
		t.Fatalf("without Post/Arkiv: %d %s", a.status, a.body)
	}
	for _, role := range []string{"Recipient", "RecipientAndSender"} {
		if a := h.do("GET", h.recipTok, "/correspondence/api/v1/correspondence?resourceId=dpv-administrasjon&role="+role, nil); a.status != 200 || strings.Contains(string(a.body), id) {
			t.Fatalf("listed without Post/Arkiv (%s): %d %s", role, a.status, a.body)
		}
	}
	if _, err := h.db.DelegatePost(ctx, post.Delegation{Org: ident.Orgnr(h.recipient), Right: post.RightPostArkiv,
		To: post.Party{Kind: post.PartyEnterpriseUser, Orgnr: ident.Orgnr(h.recipient), Username: h.recipClient},
		By: post.PortalPerson(h.userID(h.leader)), From: time.Now().Add(-time.Second)}, "leder"); err != nil {
		t.Fatal(err)
	}
	if a := h.do("POST", h.recipTok, "/correspondence/api/v1/correspondence/"+id+"/confirm", nil); a.status != 400 || a.altinn(t).ErrorCode != post.CodeConfirmBeforeFetched {
		t.Fatalf("confirm before fetched: %d %s", a.status, a.body)
	}
	d := status(h.recipTok, "/correspondence/api/v1/correspondence/"+id+"/details")
	if d["sender"] != post.RecipientURN(ident.Orgnr(h.sender)) || d["content"] == nil {
		t.Fatalf("recipient's details: %v", d)
	}
	dl := h.do("GET", h.recipTok, "/correspondence/api/v1/correspondence/"+id+"/attachment/"+init.AttachmentIDs[0]+"/download", nil)
	if dl.status != 200 || string(dl.body) != string(file) {
		t.Fatalf("download: %d %q", dl.status, dl.body)
	}
	for _, step := range []string{"markasread", "confirm"} {
		if a := h.do("POST", h.recipTok, "/correspondence/api/v1/correspondence/"+id+"/"+step, nil); a.status != 200 {
			t.Fatalf("%s: %d %s", step, a.status, a.body)
		}
	}
	// The sender's view: the history, and the content no longer (research §1.4).
	d = status(h.senderTok, "/correspondence/api/v1/correspondence/"+id+"/details")
	var seen []string
	for _, e := range d["statusHistory"].([]any) {
		seen = append(seen, e.(map[string]any)["status"].(string))
	}
	for _, want := range []string{"Published", "Fetched", "Read", "Confirmed"} {
		if !strings.Contains(strings.Join(seen, " "), want) {
			t.Fatalf("sender's history %v lacks %s", seen, want)
		}
	}
	if d["content"] != nil {
		t.Fatal("the sender sees the content after publication")
	}
	// Rule DPV-06: the notifications are the job's, off the request path.
	if _, err := h.db.PublishDue(context.Background(), post.DefaultNotify()); err != nil {
		t.Fatal(err)
	}
	// Rule DPV-05: bulk status by the sender's references.
	bs := h.do("POST", h.senderTok, "/correspondence/api/v1/correspondence/statushistory", `{"sendersReferences":["sak-2026-17","ukjent"]}`)
	var bulk post.BulkStatusResponse
	if bs.status != 200 || json.Unmarshal(bs.body, &bulk) != nil || len(bulk.Correspondences) != 1 || bulk.LimitReached {
		t.Fatalf("bulk status: %d %s", bs.status, bs.body)
	}
	// The current status is the highest by Altinn's precedence: AttachmentsDownloaded (12) over Confirmed (6).
	if b := bulk.Correspondences[0]; b.Status != post.StatusAttachmentsDownloaded || !post.Has(b.StatusChanges, post.StatusConfirmed) ||
		len(b.Notifications) == 0 || b.Notifications[0].Recipient != "varsel@example.no" {
		t.Fatalf("bulk entry: %+v", b)
	}
	// The recipient lists its post; the sender cannot purge published post.
	if a := h.do("GET", h.recipTok, "/correspondence/api/v1/correspondence?resourceId=dpv-administrasjon&role=Recipient", nil); a.status != 200 || !strings.Contains(string(a.body), id) {
		t.Fatalf("recipient list: %d %s", a.status, a.body)
	}
	if a := h.do("DELETE", h.senderTok, "/correspondence/api/v1/correspondence/"+id+"/purge", nil); a.altinn(t).ErrorCode != post.CodeCantPurgePublished {
		t.Fatalf("sender purge: %d %s", a.status, a.body)
	}
}

// Bad input gets Altinn's problem body and leaves nothing stored; the
// scopes decide who sends (Rules DPV-01, DPV-05).
func TestCorrespondenceRefusals_DPV01_DPV05(t *testing.T) {
	h := newPostHarness(t)
	valid := func(recipients ...string) map[string]any {
		return map[string]any{"correspondence": map[string]any{"resourceId": "dpv-administrasjon", "sendersReference": "r",
			"content": map[string]any{"messageTitle": "T", "messageBody": "B"}}, "recipients": recipients}
	}
	urn := "urn:altinn:organization:identifier-no:" + h.recipient
	cases := []struct {
		name   string
		tok    string
		body   any
		status int
		code   int
	}{
		{"no token", "", valid(urn), 401, 0},
		{"recipient's token", h.recipTok, valid(urn), 401, post.CodeNoAccessToResource},
		{"not JSON", h.senderTok, `{"correspondence":`, 400, post.CodeMalformedRequest},
		{"unknown field", h.senderTok, `{"correspondence":{},"recipients":[],"x":1}`, 400, post.CodeMalformedRequest},
		{"duplicate recipients", h.senderTok, valid(urn, urn), 400, post.CodeDuplicateRecipients},
		{"no recipients", h.senderTok, valid(), 400, 0},
		{"file type", h.senderTok, map[string]any{"correspondence": map[string]any{"resourceId": "dpv-administrasjon", "sendersReference": "r",
			"content": map[string]any{"messageTitle": "T", "messageBody": "B",
				"attachments": []any{map[string]any{"fileName": "program.exe", "sendersReference": "a"}}}}, "recipients": []string{urn}}, 400, post.CodeFiletypeNotAllowed},
		{"not a category", h.senderTok, map[string]any{"correspondence": map[string]any{"resourceId": "dpv-ukjent", "sendersReference": "r",
			"content": map[string]any{"messageTitle": "T", "messageBody": "B"}}, "recipients": []string{urn}}, 400, 0},
	}
	for _, c := range cases {
		a := h.do("POST", c.tok, "/correspondence/api/v1/correspondence", c.body)
		if a.status != c.status {
			t.Fatalf("%s: %d %s", c.name, a.status, a.body)
		}
		if c.tok != "" && a.altinn(t).ErrorCode != c.code {
			t.Fatalf("%s: %s", c.name, a.body)
		}
	}
	many := make([]string, 501)
	for i := range many {
		many[i] = "urn:altinn:organization:identifier-no:" + string(syntheticOrg(8_000_000+i))
	}
	if a := h.do("POST", h.senderTok, "/correspondence/api/v1/correspondence", valid(many...)); a.status != 400 || a.altinn(t).Errors["recipients"] == nil {
		t.Fatalf("501 recipients: %d %s", a.status, a.body)
	}
	refs := make([]string, post.BulkLimit+1)
	for i := range refs {
		refs[i] = fmt.Sprint(i)
	}
	if a := h.do("POST", h.senderTok, "/correspondence/api/v1/correspondence/statushistory", map[string]any{"sendersReferences": refs}); a.altinn(t).ErrorCode != post.CodeTooManyReferences {
		t.Fatalf("10,001 references: %d %s", a.status, a.body)
	}
	if n := h.correspondences(); n != 0 {
		t.Fatalf("refused requests stored %d correspondences", n)
	}
}

// Rule DPV-04: a system vendor sends for the sender only under its
// delegation; the recipient's system sees the actual sender, not the vendor.
func TestCorrespondenceOnBehalf_DPV04(t *testing.T) {
	h := newPostHarness(t)
	ctx := context.Background()
	vendor, _ := h.consumer("Systemleverandør AS")
	cv := h.client(vendor)
	cv.Scope = post.ScopeWrite
	if _, err := authserver.RequestToken(ctx, cv, h.srv.Client()); err == nil {
		t.Fatal("a vendor without a delegation got the write scope")
	}
	if err := h.db.AddSenderDelegation(ctx, post.SenderDelegation{Actual: ident.Orgnr(h.sender), Technical: ident.Orgnr(vendor),
		From: time.Now().Add(-time.Minute)}, "staff"); err != nil {
		t.Fatal(err)
	}
	vendorTok := h.token(cv)
	req := func(actual string) map[string]any {
		return map[string]any{"correspondence": map[string]any{"resourceId": "dpv-administrasjon", "sendersReference": "ob-1",
			"propertyList": map[string]string{"senderOrgNumber": actual},
			"content":      map[string]any{"messageTitle": "Vedtak", "messageBody": "Hei."}},
			"recipients": []string{"urn:altinn:organization:identifier-no:" + h.recipient}}
	}
	// For an organisation that has not delegated to it: refused, nothing stored.
	if a := h.do("POST", vendorTok, "/correspondence/api/v1/correspondence", req(h.recipient)); a.status != 403 || a.altinn(t).ErrorCode != post.CodeNotDelegated {
		t.Fatalf("without a delegation: %d %s", a.status, a.body)
	}
	a := h.do("POST", vendorTok, "/correspondence/api/v1/correspondence", req(h.sender))
	if a.status != 200 {
		t.Fatalf("on behalf: %d %s", a.status, a.body)
	}
	var init struct {
		Correspondences []struct{ CorrespondenceID string }
	}
	json.Unmarshal(a.body, &init)
	id := init.Correspondences[0].CorrespondenceID
	c, err := h.db.Correspondence(ctx, id)
	if err != nil || string(c.Sender) != h.sender || string(c.Technical) != vendor {
		t.Fatalf("stored: sender %s technical %s, %v", c.Sender, c.Technical, err)
	}
	if _, err := h.db.DelegatePost(ctx, post.Delegation{Org: ident.Orgnr(h.recipient), Right: post.RightPostArkiv,
		To: post.Party{Kind: post.PartyEnterpriseUser, Orgnr: ident.Orgnr(h.recipient), Username: h.recipClient},
		By: post.PortalPerson(h.userID(h.leader)), From: time.Now().Add(-time.Second)}, "leder"); err != nil {
		t.Fatal(err)
	}
	r := h.do("GET", h.recipTok, "/correspondence/api/v1/correspondence/"+id, nil)
	if r.status != 200 || strings.Contains(string(r.body), vendor) || !strings.Contains(string(r.body), h.sender) {
		t.Fatalf("the recipient's view: %d %s", r.status, r.body)
	}
	// Rule DPV-04: the vendor sees what it sent while the delegation is in
	// force, and no longer once it ended, though its token has not expired.
	if a := h.do("GET", vendorTok, "/correspondence/api/v1/correspondence/"+id, nil); a.status != 200 {
		t.Fatalf("the vendor under its delegation: %d %s", a.status, a.body)
	}
	ended := time.Now().Add(-time.Second)
	if err := h.db.AddSenderDelegation(ctx, post.SenderDelegation{Actual: ident.Orgnr(h.sender), Technical: ident.Orgnr(vendor),
		From: time.Now().Add(-time.Minute), Until: &ended}, "staff"); err != nil {
		t.Fatal(err)
	}
	if a := h.do("GET", vendorTok, "/correspondence/api/v1/correspondence/"+id, nil); a.status != 404 {
		t.Errorf("the vendor after its delegation ended: %d %s, want 404", a.status, a.body)
	}
	if a := h.do("POST", vendorTok, "/correspondence/api/v1/correspondence/statushistory", `{"sendersReferences":["ob-1"]}`); a.status != 200 || strings.Contains(string(a.body), id) {
		t.Errorf("the vendor's bulk status after its delegation ended: %d %s", a.status, a.body)
	}
}

// Rule DPV-03, research §1.10: confidential post needs its own right; Post/Arkiv is not enough.
func TestCorrespondenceConfidential_DPV03(t *testing.T) {
	h := newPostHarness(t)
	ctx := context.Background()
	a := h.do("POST", h.senderTok, "/correspondence/api/v1/correspondence", map[string]any{
		"correspondence": map[string]any{"resourceId": "dpv-helse-sosial-omsorg", "sendersReference": "t-1", "isConfidential": true,
			"content": map[string]any{"messageTitle": "Taushetsbelagt", "messageBody": "Hei."}},
		"recipients": []string{"urn:altinn:organization:identifier-no:" + h.recipient}})
	if a.status != 200 {
		t.Fatalf("initialize: %d %s", a.status, a.body)
	}
	var init struct {
		Correspondences []struct{ CorrespondenceID string }
	}
	json.Unmarshal(a.body, &init)
	path := "/correspondence/api/v1/correspondence/" + init.Correspondences[0].CorrespondenceID
	to := post.Party{Kind: post.PartyEnterpriseUser, Orgnr: ident.Orgnr(h.recipient), Username: h.recipClient}
	by := post.PortalPerson(h.userID(h.leader))
	for _, c := range []struct {
		right  post.Right
		status int
	}{{post.RightPostArkiv, 404}, {post.RightConfidential, 200}} {
		if _, err := h.db.DelegatePost(ctx, post.Delegation{Org: ident.Orgnr(h.recipient), Right: c.right, To: to, By: by,
			From: time.Now().Add(-time.Second)}, "leder"); err != nil {
			t.Fatal(err)
		}
		if a := h.do("GET", h.recipTok, path, nil); a.status != c.status {
			t.Fatalf("with %s: %d %s", c.right, a.status, a.body)
		}
	}
}

// Review finding 5: one attachment, two recipients: Altinn 3 answers one
// attachment id shared by both correspondences, and one upload publishes
// both.
func TestCorrespondenceSharedAttachment(t *testing.T) {
	h := newPostHarness(t)
	other, _ := h.consumer("Annen Mottaker AS")
	body := map[string]any{"correspondence": map[string]any{"resourceId": "dpv-administrasjon", "sendersReference": "delt",
		"content": map[string]any{"messageTitle": "T", "messageBody": "B",
			"attachments": []any{map[string]any{"fileName": "a.pdf", "sendersReference": "a"}}}},
		"recipients": []string{"urn:altinn:organization:identifier-no:" + h.recipient, "urn:altinn:organization:identifier-no:" + other}}
	a := h.do("POST", h.senderTok, "/correspondence/api/v1/correspondence", body)
	var init struct {
		Correspondences []struct{ CorrespondenceID, Status string }
		AttachmentIDs   []string
	}
	if a.status != 200 || json.Unmarshal(a.body, &init) != nil || len(init.Correspondences) != 2 || len(init.AttachmentIDs) != 1 {
		t.Fatalf("initialize: %d %s; want two correspondences and one attachment id", a.status, a.body)
	}
	if up := h.do("POST", h.senderTok, "/correspondence/api/v1/attachment/"+init.AttachmentIDs[0]+"/upload", "%PDF-1.4", "Content-Type", "application/pdf"); up.status != 200 {
		t.Fatalf("upload: %d %s", up.status, up.body)
	}
	for _, c := range init.Correspondences {
		var m map[string]any
		s := h.do("GET", h.senderTok, "/correspondence/api/v1/correspondence/"+c.CorrespondenceID, nil)
		if json.Unmarshal(s.body, &m) != nil || m["status"] != "Published" {
			t.Errorf("%s after the one upload: %d %s, want Published", c.CorrespondenceID, s.status, s.body)
		}
	}
}

// Review findings 14 and 18: Altinn 3 routes deling lacks answer 501 as a
// problem body, also to a client that accepts anything; a problem's type
// names its own status.
func TestCorrespondenceUnimplementedRoutes(t *testing.T) {
	h := newPostHarness(t)
	for _, p := range []string{"POST /correspondence/api/v1/attachment", "POST /correspondence/api/v1/correspondence/upload",
		"GET /correspondence/api/v1/attachment/3f2504e0-4f89-11d3-9a0c-0305e82c3301/details",
		"DELETE /correspondence/api/v1/attachment/3f2504e0-4f89-11d3-9a0c-0305e82c3301"} {
		m, path, _ := strings.Cut(p, " ")
		r := h.do(m, h.senderTok, path, "{}", "Accept", "*/*")
		if r.status != http.StatusNotImplemented || !strings.Contains(r.header.Get("Content-Type"), "json") || !strings.Contains(string(r.body), "15.6.2") {
			t.Errorf("%s: %d %s %s; want a 501 problem", p, r.status, r.header.Get("Content-Type"), r.body)
		}
	}
	nf := h.do("GET", h.recipTok, "/correspondence/api/v1/correspondence/3f2504e0-4f89-11d3-9a0c-0305e82c3301", nil)
	if nf.status != 404 || !strings.Contains(string(nf.body), "15.5.5") {
		t.Errorf("not found: %d %s; want the 404 type", nf.status, nf.body)
	}
	other := h.do("GET", "", "/correspondence/api/v1/finnes-ikke", nil, "Accept", "*/*")
	if !strings.Contains(other.header.Get("Content-Type"), "json") {
		t.Errorf("an unknown API path answers %d %s", other.status, other.header.Get("Content-Type"))
	}
}
